"""The start page: projects and their articles."""

from __future__ import annotations

from flask import Blueprint, render_template

from annotator.db import get_session
from annotator.overview import project_overview

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """List projects with their articles."""
    return render_template("index.html", projects=project_overview(get_session()))
