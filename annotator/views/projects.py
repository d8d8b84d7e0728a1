"""Project pages (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("projects", __name__)
