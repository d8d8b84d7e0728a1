"""How far annotators are: per article, and which article to open next."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Integer, ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from annotator.access import is_reviewer
from annotator.models import Annotation, Article, Assignment, Unit, User


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
    query = _next_article_query(is_reviewer(user))
    params = {"user_id": user.id, "project_id": project_id, "after": after or 0}
    found = session.scalar(query, params)
    if found is None and after:
        found = session.scalar(query, params | {"after": 0})
    return found


@functools.cache
def _next_article_query(reviewer: bool) -> Select[tuple[int]]:
    """Built once per kind of user with bound parameters: it runs on every page load."""
    return select(
        next_article_subquery(
            reviewer,
            bindparam("user_id", type_=Integer),
            bindparam("project_id", type_=Integer),
            bindparam("after", type_=Integer),
        )
    )


def next_article_subquery(
    reviewer: bool, user_id: Any, project_id: Any, after: Any
) -> ScalarSelect[int]:
    """The id of the first article of ``project_id`` after ``after`` that the user may
    open and has a sentence they have not labelled, as a scalar subquery.

    The arguments may be bound parameters or columns of an enclosing query (the
    annotation page asks for it together with the article it shows). The
    unlabelled-sentence test is correlated to each candidate article, so it
    walks the (article_id, position) index of that article only, however big
    the project.
    """
    candidate = aliased(Article)
    unlabelled = (
        select(Unit.id)
        .outerjoin(
            Annotation, (Annotation.unit_id == Unit.id) & (Annotation.annotator_id == user_id)
        )
        .where(Unit.article_id == candidate.id, Unit.kind == "sentence", Annotation.id.is_(None))
        .limit(1)
        # "The first unlabelled sentence is not null" rather than EXISTS:
        # PostgreSQL flattens an EXISTS into a join over every unit of the
        # database (150-200 ms at 100,000 units, on every page load), while a
        # scalar subquery stays per article, walked in id order until one hits.
        .scalar_subquery()
        .is_not(None)
    )
    query = select(candidate.id).where(
        candidate.project_id == project_id, candidate.id > after, unlabelled
    )
    if not reviewer:
        # Annotators: the articles assigned to them, or all when the project has none.
        other = aliased(Article)
        has_assignments = (
            select(Assignment.article_id)
            .join(other, other.id == Assignment.article_id)
            .where(other.project_id == project_id)
            # Explicitly: when ``project_id`` is a column of the enclosing
            # query, automatic correlation (one level only) would join a second
            # copy of its table; correlated, it stays one check per page load,
            # not one per candidate article.
            .correlate_except(Assignment, other)
            .exists()
        )
        assigned = (
            select(Assignment.article_id)
            .where(Assignment.article_id == candidate.id, Assignment.user_id == user_id)
            .exists()
        )
        query = query.where(assigned | ~has_assignments)
    return query.order_by(candidate.id).limit(1).scalar_subquery()
