"""How far annotators are: per article, and which article to open next."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.access import visible_articles
from annotator.models import Annotation, Article, Unit, User


def article_progress(
    session: Session, article_ids: list[int], annotator_id: int
) -> dict[int, tuple[int, int]]:
    """(sentences labelled by the annotator, sentences) for each article, in two queries."""
    if not article_ids:
        return {}
    totals = dict(
        session.execute(
            select(Unit.article_id, func.count())
            .where(Unit.article_id.in_(article_ids), Unit.kind == "sentence")
            .group_by(Unit.article_id)
        ).all()
    )
    done = dict(
        session.execute(
            select(Unit.article_id, func.count())
            .join(Annotation, Annotation.unit_id == Unit.id)
            .where(
                Unit.article_id.in_(article_ids),
                Unit.kind == "sentence",
                Annotation.annotator_id == annotator_id,
            )
            .group_by(Unit.article_id)
        ).all()
    )
    return {aid: (done.get(aid, 0), totals.get(aid, 0)) for aid in article_ids}


def next_article_for(
    session: Session, user: User, project_id: int, after: int | None = None
) -> int | None:
    """The next article (by id, after ``after``, wrapping around) that ``user`` may open
    and has not finished, or None when everything is labelled."""
    unlabelled = (
        select(Unit.article_id)
        .outerjoin(
            Annotation, (Annotation.unit_id == Unit.id) & (Annotation.annotator_id == user.id)
        )
        .where(Unit.kind == "sentence", Annotation.id.is_(None))
    )
    candidates = (
        visible_articles(user, project_id)
        .with_only_columns(Article.id)
        .where(Article.id.in_(unlabelled))
        .order_by(Article.id)
    )
    if after is not None:
        later = session.scalar(candidates.where(Article.id > after).limit(1))
        if later is not None:
            return later
    return session.scalar(candidates.limit(1))
