"""The guidelines page (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("guidelines", __name__)
