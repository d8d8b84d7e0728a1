"""Segmentation editing pages (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("segmentation", __name__)
