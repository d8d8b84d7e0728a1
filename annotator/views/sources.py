"""The source registry pages (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sources", __name__)
