"""The SQL of an audit-trail page: one statement, whatever the page's position.

Each history (``annotation_events``, ``gold_events``) is walked by its primary
key from the cursor's position, in a subquery of its own with its ORDER BY …
LIMIT, so the engine reads one page and stops. The union of the walks is then
joined, row by row, to the previous event of the same annotation or decision
(through the existing ``(unit_id, annotator_id)`` and ``(unit_id, id)``
indexes), the unit, the article and the users' names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from annotator.audit_events import KIND_CODE, Kind
from annotator.models import AnnotationEvent, Article, GoldEvent, Unit, User


@dataclass(frozen=True, slots=True)
class Shape:
    """What a page's statement looks like; the values go in as bind parameters."""

    kinds: tuple[Kind, ...]
    unit: bool
    article: bool
    annotator: bool
    actions: bool
    since: bool
    until: bool
    bounded: tuple[Kind, ...]  # the walks that continue from a position
    newest_first: bool


def _arm(kind: Kind, shape: Shape) -> Select[Any]:
    """The next ``limit`` events of one history past its position, in primary-key order."""
    e: Any = AnnotationEvent if kind == "annotation" else GoldEvent
    annotation = kind == "annotation"
    columns = [
        literal_column(f"'{KIND_CODE[kind]}'", String(1)).label("kind"),
        e.id.label("id"),
        e.at.label("at"),
        e.unit_id.label("unit_id"),
        (e.annotator_id if annotation else cast(null(), Integer)).label("annotator_id"),
        (e.annotation_id if annotation else e.gold_id).label("ref_id"),
        e.actor_id.label("actor_id"),
        (cast(null(), Integer) if annotation else e.reviewer_id).label("reviewer_id"),
        e.action.label("action"),
        (e.version if annotation else cast(null(), Integer)).label("version"),
        e.label.label("label"),
        e.sources.label("sources"),
        (e.note if annotation else e.rationale).label("text"),
        (cast(null(), String) if annotation else e.provenance).label("provenance"),
        (cast(null(), String) if annotation else e.error_category).label("error_category"),
    ]
    query = select(*columns)
    if kind in shape.bounded:
        position = bindparam(f"after_{kind}", type_=Integer)
        query = query.where(e.id < position if shape.newest_first else e.id > position)
    if shape.actions:
        query = query.where(e.action.in_(bindparam("actions", expanding=True)))
    if annotation and shape.annotator:
        query = query.where(e.annotator_id == bindparam("annotator_id", type_=Integer))
    if shape.since:
        query = query.where(e.at >= bindparam("since", type_=e.at.type))
    if shape.until:
        query = query.where(e.at < bindparam("until", type_=e.at.type))
    if shape.unit:
        query = query.where(e.unit_id == bindparam("unit_id", type_=Integer))
    elif shape.article:
        query = query.where(
            e.unit_id.in_(
                select(Unit.id).where(Unit.article_id == bindparam("article_id", type_=Integer))
            )
        )
    else:
        # A correlated EXISTS, not a join or IN (…): with a join or IN, SQLite
        # starts from the project's units and sorts all their events on every
        # page; this way both engines walk the primary key from the cursor and
        # stop after one page (PostgreSQL plans it as a semi-join it can
        # estimate, where a scalar subquery made it guess and sort).
        query = query.where(
            exists().where(
                Unit.id == e.unit_id,
                Article.id == Unit.article_id,
                Article.project_id == bindparam("project_id", type_=Integer),
            )
        )
    order = e.id.desc() if shape.newest_first else e.id.asc()
    return query.order_by(order).limit(bindparam("limit", type_=Integer))


@functools.cache
def page_statement(shape: Shape) -> Select[Any]:
    """The statement of one page, built once per shape (building it costs more than running it)."""
    # Each walk in a subquery of its own, so its ORDER BY … LIMIT stays inside it.
    parts = [select(*_arm(kind, shape).subquery().c) for kind in shape.kinds]
    walks = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("walks")
    w = walks.c
    qa, qg = aliased(AnnotationEvent), aliased(GoldEvent)
    # The previous event of the same annotation (or gold decision): the state
    # before this one. Served by the (unit_id, annotator_id) and (unit_id, id)
    # indexes, once per row of the page; its id is selected here and joined
    # by primary key below (in a join condition PostgreSQL hashed the table).
    previous_annotation = (
        select(func.max(qa.id))
        .where(
            qa.unit_id == w.unit_id,
            qa.annotator_id == w.annotator_id,
            qa.annotation_id.is_not_distinct_from(w.ref_id),
            qa.id < w.id,
        )
        .scalar_subquery()
    )
    previous_gold = (
        select(func.max(qg.id))
        .where(qg.unit_id == w.unit_id, qg.gold_id.is_not_distinct_from(w.ref_id), qg.id < w.id)
        .scalar_subquery()
    )
    page: Any = select(
        *w,
        case((w.kind == "a", previous_annotation)).label("previous_annotation"),
        case((w.kind == "g", previous_gold)).label("previous_gold"),
    )
    # OFFSET 0 keeps PostgreSQL from pulling the subquery up into the joins
    # below, where the previous ids became a hash join over a whole history.
    page = page.offset(0).subquery("page")
    c = page.c
    pa, pg = aliased(AnnotationEvent), aliased(GoldEvent)
    actor, annotator = aliased(User), aliased(User)
    reviewer, previous_reviewer = aliased(User), aliased(User)
    return (
        select(
            c.kind,
            c.id,
            c.at,
            c.action,
            c.version,
            c.label,
            c.sources,
            c.text,
            c.provenance,
            c.error_category,
            actor.username,
            annotator.username,
            reviewer.username,
            Unit.id,
            Unit.index,
            Article.id,
            Article.title,
            pa.id,
            pa.action,
            pa.label,
            pa.sources,
            pa.note,
            pg.id,
            pg.label,
            pg.sources,
            pg.rationale,
            pg.provenance,
            pg.error_category,
            previous_reviewer.username,
        )
        .select_from(page)
        .join(Unit, Unit.id == c.unit_id)
        .join(Article, Article.id == Unit.article_id)
        .outerjoin(actor, actor.id == c.actor_id)
        .outerjoin(annotator, annotator.id == c.annotator_id)
        .outerjoin(reviewer, reviewer.id == c.reviewer_id)
        .outerjoin(pa, pa.id == c.previous_annotation)
        .outerjoin(pg, pg.id == c.previous_gold)
        .outerjoin(previous_reviewer, previous_reviewer.id == pg.reviewer_id)
        .order_by(c.kind, c.id.desc() if shape.newest_first else c.id.asc())
    )
