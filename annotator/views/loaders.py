"""Loading helpers that carry authorization: a view cannot fetch what it may not show.

Objects the user may not see answer 404 exactly like missing ones, so ids of
other projects leak nothing.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.access import (
    can_see_article,
    can_see_project,
    is_reviewer,
    visible_article_clause,
    visible_project_clause,
)
from annotator.models import Article, Project, Source, Unit, User


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


def get_source_or_404(session: Session, source_id: int, user: User) -> Source:
    """The source if ``user`` may see its project, else 404 (one query either way)."""
    source = session.scalar(
        select(Source).where(
            Source.id == source_id, visible_project_clause(Source.project_id, user)
        )
    )
    if source is None:
        abort(404)
    return source


def get_unit_or_404(
    session: Session, unit_id: int, user: User, *, sentence: bool = True
) -> tuple[int, int]:
    """(article id, project id) of the unit (a sentence unless ``sentence`` is False) if
    ``user`` may open its article, else 404 (one query either way)."""
    query = (
        select(Unit.article_id, Article.project_id)
        .join(Article, Article.id == Unit.article_id)
        .where(Unit.id == unit_id, visible_article_clause(user.id, user.role))
    )
    if sentence:
        query = query.where(Unit.kind == "sentence")
    row = session.execute(query).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def require_reviewer(user: User) -> None:
    """403 unless the user reviews (reviewer or admin)."""
    if not is_reviewer(user):
        abort(403)
