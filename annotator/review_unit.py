"""One sentence under review (no Flask): its text in context, every annotator's answer
with sources, note and time, the suggestion and the current gold.

Split from ``review.py``, which owns the queue; both are shared by the review pages
and the review API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    GoldSource,
    Label,
    Project,
    Source,
    Unit,
    User,
)
from annotator.review import ID_MAX, UnitNotFound


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Answer:
    """One annotator's current answer on the unit under review."""

    annotator_id: int
    annotator: str
    label: str
    sources: tuple[SourceRef, ...]
    note: str
    seconds_spent: float
    updated_at: datetime
    version: int
    flagged: bool
    previous_text: str | None


@dataclass(frozen=True, slots=True)
class GoldView:
    """The stored gold decision of a unit."""

    label: str | None
    sources: tuple[SourceRef, ...]
    provenance: str
    reviewer: str | None
    rationale: str
    error_category: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class ContextUnit:
    id: int
    kind: str
    index: int | None
    text: str


@dataclass(frozen=True, slots=True)
class UnitReview:
    """Everything the adjudication page shows about one sentence."""

    unit_id: int
    index: int | None
    text: str
    article_id: int
    article_title: str
    project_id: int
    project_name: str
    labels: tuple[tuple[str, str, str], ...]  # (name, key, description) in order
    before: tuple[ContextUnit, ...]
    after: tuple[ContextUnit, ...]
    answers: tuple[Answer, ...]
    suggestion: tuple[str, tuple[SourceRef, ...]] | None
    gold: GoldView | None


# --- the queue ---------------------------------------------------------------------


def _refs(ids: Sequence[int], names: dict[int, str]) -> tuple[SourceRef, ...]:
    return tuple(SourceRef(i, names[i]) for i in ids if i in names)


def unit_for_review(session: Session, unit_id: int, *, context: int = 2) -> UnitReview:
    """The sentence with ``context`` units either side, every answer, suggestion and gold."""
    if not 1 <= unit_id <= ID_MAX:
        raise UnitNotFound(unit_id)
    head = session.execute(
        select(
            Unit.article_id,
            Unit.position,
            Unit.index,
            Unit.kind,
            Unit.suggested_label,
            Unit.suggested_sources,
            Article.title,
            Article.project_id,
            Project.name,
            func.substr(Article.text, Unit.start + 1, Unit.end - Unit.start),
        )
        .join(Article, Article.id == Unit.article_id)
        .join(Project, Project.id == Article.project_id)
        .where(Unit.id == unit_id)
    ).one_or_none()
    if head is None or head.kind != "sentence":
        raise UnitNotFound(unit_id)
    (article_id, position, index, _kind, s_label, s_sources, title, project_id, pname, text) = head
    labels = tuple(
        (name, key, description)
        for name, key, description in session.execute(
            select(Label.name, Label.key, Label.description)
            .where(Label.project_id == project_id)
            .order_by(Label.position)
        )
    )
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.project_id == project_id)).all()
    )
    around = session.execute(
        select(
            Unit.id,
            Unit.position,
            Unit.kind,
            Unit.index,
            func.substr(Article.text, Unit.start + 1, Unit.end - Unit.start),
        )
        .join(Article, Article.id == Unit.article_id)
        .where(
            Unit.article_id == article_id,
            Unit.position.between(position - context, position + context),
            Unit.id != unit_id,
        )
        .order_by(Unit.position)
    ).all()
    before = tuple(ContextUnit(u, k, i, t) for u, p, k, i, t in around if p < position)
    after = tuple(ContextUnit(u, k, i, t) for u, p, k, i, t in around if p > position)
    suggestion = None
    if s_label is not None and any(s_label == name for name, _k, _d in labels):
        suggestion = (s_label, _refs(s_sources or [], names))
    return UnitReview(
        unit_id=unit_id,
        index=index,
        text=text,
        article_id=article_id,
        article_title=title,
        project_id=project_id,
        project_name=pname,
        labels=labels,
        before=before,
        after=after,
        answers=_answers(session, unit_id, names),
        suggestion=suggestion,
        gold=_gold_view(session, unit_id, names),
    )


def _answers(session: Session, unit_id: int, names: dict[int, str]) -> tuple[Answer, ...]:
    rows = session.execute(
        select(
            Annotation.annotator_id,
            User.username,
            Label.name,
            Annotation.note,
            Annotation.seconds_spent,
            Annotation.updated_at,
            Annotation.version,
            Annotation.flagged,
            Annotation.previous_text,
            AnnotationSource.source_id,
        )
        .join(User, User.id == Annotation.annotator_id)
        .join(Label, Label.id == Annotation.label_id)
        .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
        .where(Annotation.unit_id == unit_id)
        .order_by(User.username, AnnotationSource.position)
    )
    heads: dict[int, tuple] = {}
    sources: dict[int, list[int]] = {}
    for annotator_id, *rest, source_id in rows:
        heads.setdefault(annotator_id, tuple(rest))
        if source_id is not None:
            sources.setdefault(annotator_id, []).append(source_id)
    return tuple(
        Answer(
            annotator_id=annotator_id,
            annotator=username,
            label=label,
            sources=_refs(sources.get(annotator_id, ()), names),
            note=note,
            seconds_spent=float(seconds or 0.0),
            updated_at=updated_at,
            version=version,
            flagged=bool(flagged),
            previous_text=previous_text,
        )
        for annotator_id, (
            username,
            label,
            note,
            seconds,
            updated_at,
            version,
            flagged,
            previous_text,
        ) in heads.items()
    )


def _gold_view(session: Session, unit_id: int, names: dict[int, str]) -> GoldView | None:
    row = session.execute(
        select(
            Gold.id,
            Label.name,
            Gold.provenance,
            User.username,
            Gold.rationale,
            Gold.error_category,
            Gold.decided_at,
        )
        .outerjoin(Label, Label.id == Gold.label_id)
        .outerjoin(User, User.id == Gold.reviewer_id)
        .where(Gold.unit_id == unit_id)
    ).one_or_none()
    if row is None:
        return None
    gold_id, label, provenance, reviewer, rationale, category, decided_at = row
    source_ids = session.scalars(
        select(GoldSource.source_id)
        .where(GoldSource.gold_id == gold_id)
        .order_by(GoldSource.position)
    ).all()
    return GoldView(
        label, _refs(source_ids, names), provenance, reviewer, rationale, category, decided_at
    )


# --- decisions -----------------------------------------------------------------------
