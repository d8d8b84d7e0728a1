"""The start page: the projects the user may see, with their articles."""

from __future__ import annotations

from flask import Blueprint, render_template

from annotator.db import get_session
from annotator.overview import project_overview
from annotator.web import current_user, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index() -> str:
    """List projects with their articles."""
    user = current_user()
    assert user is not None
    return render_template("index.html", projects=project_overview(get_session(), user))
