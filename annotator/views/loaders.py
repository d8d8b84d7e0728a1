"""Loading helpers that carry authorization: a view cannot fetch what it may not show.

Objects the user may not see answer 404 exactly like missing ones, so ids of
other projects leak nothing.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session

from annotator.access import can_see_article, can_see_project, is_reviewer
from annotator.models import Article, Project, User


def get_project_or_404(session: Session, project_id: int, user: User) -> Project:
    """The project if ``user`` may see it, else 404."""
    if not can_see_project(session, user, project_id):
        abort(404)
    project = session.get(Project, project_id)
    if project is None:
        abort(404)
    return project


def get_article_or_404(session: Session, article_id: int, user: User) -> Article:
    """The article if ``user`` may open it, else 404."""
    article = can_see_article(session, user, article_id)
    if article is None:
        abort(404)
    return article


def require_reviewer(user: User) -> None:
    """403 unless the user reviews (reviewer or admin)."""
    if not is_reviewer(user):
        abort(403)
