"""Fixing segmentation: split a sentence in two, or merge it with the next one.

Invariants kept by every edit (all in the caller's transaction, no commit here):
units stay in text order without overlaps, ``text[start:end]`` of every other
unit is unchanged, positions and sentence indexes stay 0..n-1, and no unit
starts or ends with whitespace. Annotations are never dropped: those on a unit
whose text changed move to the unit holding the old unit's start, flagged with
the text they were made on; gold there becomes ``unresolved``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from annotator.attribution import analyse_article
from annotator.exchange.apply import append_event, load_current_annotations
from annotator.exchange.gold import append_gold_event, record_gold_state
from annotator.ingest.parsed import ParsedArticle, ParsedUnit
from annotator.models import (
    Annotation,
    AnnotationEvent,
    Article,
    Gold,
    GoldEvent,
    Label,
    Source,
    Unit,
    utcnow,
)
from annotator.registry import SourceIndex

ACTION = "segmentation"
# History action for the second of two annotations by one annotator that a
# merge folded into one unit: its answer is kept in the history, not as a row.
SUPERSEDED = "superseded"
# Joiners and variation selectors bind to their neighbours like combining marks.
_BINDING = {"\u200c", "\u200d", *(chr(c) for c in range(0xFE00, 0xFE10))}


class SegmentationError(ValueError):
    """An edit that would break the segmentation; the message says why."""


class SegmentationConflict(SegmentationError):
    """The unit changed since the caller read it (another reviewer edited it)."""


@dataclass(frozen=True, slots=True)
class UnitRow:
    """A unit as the pages and the API show it."""

    id: int
    position: int
    index: int | None
    kind: str
    start: int
    end: int
    text: str


@dataclass(slots=True)
class EditResult:
    """What an edit did: the article's units now, which changed, what was flagged."""

    article_id: int
    units: list[UnitRow]
    changed_unit_ids: list[int]
    flagged_annotations: int = 0
    superseded_annotations: int = 0
    unresolved_gold: int = 0
    notes: list[str] = field(default_factory=list)


def article_units(session: Session, article_id: int, text: str | None = None) -> list[UnitRow]:
    """The article's units in reading order, with their text."""
    if text is None:
        text = session.scalar(select(Article.text).where(Article.id == article_id)) or ""
    rows = session.execute(
        select(Unit.id, Unit.position, Unit.index, Unit.kind, Unit.start, Unit.end)
        .where(Unit.article_id == article_id)
        .order_by(Unit.position)
    )
    return [UnitRow(*row, text[row.start : row.end]) for row in rows]


def split_unit(
    session: Session,
    unit_id: int,
    at: int,
    actor_id: int | None,
    *,
    expected: tuple[int, int] | None = None,
) -> EditResult:
    """Split a sentence at article offset ``at`` (start < at < end) into two sentences.

    Whitespace around ``at`` goes between the parts. ``expected`` (start, end)
    refuses the edit when the unit changed since the caller read it.
    """
    unit, text = _load(session, unit_id, expected)
    if unit.kind != "sentence" or unit.index is None:
        raise SegmentationError("only sentences can be split")
    if isinstance(at, bool) or not isinstance(at, int) or not unit.start < at < unit.end:
        raise SegmentationError(
            "the split point must lie strictly inside the sentence "
            f"(article offsets {unit.start + 1} to {unit.end - 1}; "
            f"characters 1 to {unit.end - unit.start - 1} of the sentence)"
        )
    if _binds_to_previous(text, at):
        raise SegmentationError("the split point would cut a character in two")
    first_end = unit.start + len(text[unit.start : at].rstrip())
    second_start = at + (len(text[at : unit.end]) - len(text[at : unit.end].lstrip()))
    if first_end <= unit.start or second_start >= unit.end:
        raise SegmentationError("both parts of a split must contain text, not only spaces")
    old_text = text[unit.start : unit.end]
    # Make room after the unit: positions and indexes of later units move up by one.
    _shift(session, unit.article_id, Unit.position, unit.position, +1)
    _shift(session, unit.article_id, Unit.index, unit.index, +1)
    session.execute(update(Unit).where(Unit.id == unit.id).values(end=first_end))
    new_id = session.execute(
        insert(Unit)
        .values(
            article_id=unit.article_id,
            position=unit.position + 1,
            index=unit.index + 1,
            kind="sentence",
            start=second_start,
            end=unit.end,
            suggested_label=None,
            suggested_sources=[],
            suggestion_cues=[],
        )
        .returning(Unit.id)
    ).scalar_one()
    result = EditResult(unit.article_id, [], [unit.id, new_id])
    # The first part holds the old unit's start, so its annotations stay on it.
    result.flagged_annotations = _flag(session, unit.id, old_text, actor_id)
    result.unresolved_gold = _unresolve_gold(session, [unit.id], actor_id)
    _resuggest(session, unit.article_id, text, [unit.id, new_id])
    result.units = article_units(session, unit.article_id, text)
    return result


def merge_with_next(
    session: Session,
    unit_id: int,
    actor_id: int | None,
    *,
    expected: tuple[int, int] | None = None,
) -> EditResult:
    """Merge a sentence with the sentence right after it; refused across a heading or title."""
    unit, text = _load(session, unit_id, expected)
    if unit.kind != "sentence":
        raise SegmentationError("only sentences can be merged")
    following = session.execute(
        select(Unit.id, Unit.position, Unit.index, Unit.kind, Unit.start, Unit.end).where(
            Unit.article_id == unit.article_id, Unit.position == unit.position + 1
        )
    ).one_or_none()
    if following is None:
        raise SegmentationError("this is the last unit of the article: nothing to merge with")
    if following.kind != "sentence":
        raise SegmentationError(
            f"the next unit is a {following.kind}: sentences are not merged across it"
        )
    result = EditResult(unit.article_id, [], [unit.id])
    moved, result.superseded_annotations = _move_annotations(
        session, following.id, unit.id, actor_id
    )
    # History rows point at units; keep the merged-away unit's history by moving it.
    session.execute(
        update(AnnotationEvent)
        .where(AnnotationEvent.unit_id == following.id)
        .values(unit_id=unit.id)
    )
    session.execute(
        update(GoldEvent).where(GoldEvent.unit_id == following.id).values(unit_id=unit.id)
    )
    if session.scalar(select(Gold.id).where(Gold.unit_id == unit.id)) is None:
        session.execute(update(Gold).where(Gold.unit_id == following.id).values(unit_id=unit.id))
    else:
        dropped = session.scalar(select(Gold.id).where(Gold.unit_id == following.id))
        if dropped is not None:
            append_gold_event(
                session,
                unit_id=unit.id,
                gold_id=dropped,
                actor_id=actor_id,
                action=ACTION,
                label=None,
                sources=(),
                provenance=None,
                reviewer_id=None,
                rationale="merged into the previous sentence, whose decision was kept",
                error_category=None,
            )
        result.notes.append("the next sentence's gold decision was replaced by this one's")
    session.execute(delete(Unit).where(Unit.id == following.id))
    session.execute(update(Unit).where(Unit.id == unit.id).values(end=following.end))
    _shift(session, unit.article_id, Unit.position, following.position, -1)
    _shift(session, unit.article_id, Unit.index, following.index, -1)
    result.flagged_annotations = _flag(
        session,
        unit.id,
        text[unit.start : unit.end],
        actor_id,
        {ann_id: text[following.start : following.end] for ann_id in moved},
    )
    result.unresolved_gold = _unresolve_gold(session, [unit.id], actor_id)
    _resuggest(session, unit.article_id, text, [unit.id])
    result.units = article_units(session, unit.article_id, text)
    return result


@dataclass(frozen=True, slots=True)
class _Unit:
    id: int
    article_id: int
    position: int
    index: int | None
    kind: str
    start: int
    end: int


def _load(session: Session, unit_id: int, expected: tuple[int, int] | None) -> tuple[_Unit, str]:
    row = session.execute(
        select(
            Unit.id,
            Unit.article_id,
            Unit.position,
            Unit.index,
            Unit.kind,
            Unit.start,
            Unit.end,
            Article.text,
        )
        .join(Article, Article.id == Unit.article_id)
        .where(Unit.id == unit_id)
    ).one_or_none()
    if row is None:
        raise LookupError(f"no unit {unit_id}")
    *values, text = row
    unit = _Unit(*values)
    if expected is not None and expected != (unit.start, unit.end):
        raise SegmentationConflict(
            "this sentence changed since the page was loaded; reload and try again"
        )
    return unit, text


def _binds_to_previous(text: str, at: int) -> bool:
    """Whether text[at] belongs to the character before it (combining mark, joiner)."""
    char = text[at]
    if text[at - 1] == "\u200d" or char in _BINDING:
        return True
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def _shift(
    session: Session,
    article_id: int,
    column: InstrumentedAttribute[int | None],
    after: int | None,
    by: int,
) -> None:
    """Add ``by`` to ``column`` (position or index) of the units beyond ``after``.

    Two passes through negative values: a single ``+ 1`` would collide with the
    unique constraint row by row on engines that check it immediately.
    """
    if after is None:
        return
    session.execute(
        update(Unit)
        .where(Unit.article_id == article_id, column > after)
        .values({column: -column - 1}),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Unit)
        .where(Unit.article_id == article_id, column < 0)
        .values({column: -column - 1 + by}),
        execution_options={"synchronize_session": False},
    )


def _move_annotations(
    session: Session, from_unit: int, to_unit: int, actor_id: int | None
) -> tuple[list[int], int]:
    """Move annotations to ``to_unit``; where the annotator has one there, keep that one
    and record the other in the history. Returns the moved ids and how many were superseded."""
    current = load_current_annotations(session, [from_unit, to_unit])
    moved: list[int] = []
    superseded = 0
    for (unit_id, annotator_id), ann in current.items():
        if unit_id != from_unit:
            continue
        if (to_unit, annotator_id) not in current:
            session.execute(
                update(Annotation).where(Annotation.id == ann.id).values(unit_id=to_unit)
            )
            moved.append(ann.id)
            continue
        superseded += 1
        append_event(
            session,
            annotation_id=ann.id,
            unit_id=to_unit,
            annotator_id=annotator_id,
            actor_id=actor_id,
            action=SUPERSEDED,
            version=ann.version + 1,
            label=_label_names(session, [ann.label_id]).get(ann.label_id),
            sources=_source_names(session, ann.source_ids),
            note=ann.note,
            at=utcnow(),
        )
        session.execute(delete(Annotation).where(Annotation.id == ann.id))
    return moved, superseded


def _flag(
    session: Session,
    unit_id: int,
    old_text: str,
    actor_id: int | None,
    moved_from: dict[int, str] | None = None,
) -> int:
    """Flag the annotations now on ``unit_id``, bump their versions and write history.

    They were made on ``old_text``, or on ``moved_from[annotation id]`` for the
    ones a merge brought over from the next unit.
    """
    current = load_current_annotations(session, [unit_id])
    if not current:
        return 0
    kept = dict(
        session.execute(
            select(Annotation.id, Annotation.previous_text).where(Annotation.unit_id == unit_id)
        ).all()
    )
    labels = _label_names(session, [a.label_id for a in current.values()])
    now = utcnow()
    for (_, annotator_id), ann in current.items():
        # An annotation flagged before keeps the text it was really made on.
        previous = kept.get(ann.id) or (moved_from or {}).get(ann.id, old_text)
        session.execute(
            update(Annotation)
            .where(Annotation.id == ann.id)
            .values(flagged=True, previous_text=previous, version=ann.version + 1)
        )
        append_event(
            session,
            annotation_id=ann.id,
            unit_id=unit_id,
            annotator_id=annotator_id,
            actor_id=actor_id,
            action=ACTION,
            version=ann.version + 1,
            label=labels.get(ann.label_id),
            sources=_source_names(session, ann.source_ids),
            note=ann.note,
            at=now,
        )
    return len(current)


def _unresolve_gold(session: Session, unit_ids: Sequence[int], actor_id: int | None) -> int:
    """Mark the gold of changed units as needing a new decision (recorded in its history)."""
    changing = session.scalars(
        select(Gold.unit_id).where(
            Gold.unit_id.in_(list(unit_ids)), Gold.provenance != "unresolved"
        )
    ).all()
    if not changing:
        return 0
    session.execute(
        update(Gold).where(Gold.unit_id.in_(changing)).values(provenance="unresolved"),
        execution_options={"synchronize_session": False},
    )
    record_gold_state(session, changing, actor_id=actor_id, action=ACTION)
    return len(changing)


def _resuggest(session: Session, article_id: int, text: str, unit_ids: Sequence[int]) -> None:
    """Recompute the import-time suggestion of the changed units from the new segmentation."""
    article = session.get(Article, article_id)
    assert article is not None
    units = session.execute(
        select(Unit.id, Unit.kind, Unit.start, Unit.end)
        .where(Unit.article_id == article_id)
        .order_by(Unit.position)
    ).all()
    parsed = ParsedArticle(
        text=text,
        units=[ParsedUnit(u.kind, u.start, u.end) for u in units],
        title=article.title,
        byline=article.byline,
        dateline=article.dateline,
        credits=list(article.credits or []),
    )
    analysis = analyse_article(parsed)
    found = {source.name: source for source in analysis.sources}
    registry = SourceIndex(session, article.project_id)
    wanted = set(unit_ids)
    for unit, suggestion in zip(units, analysis.suggestions, strict=True):
        if unit.id not in wanted:
            continue
        values: dict[str, object] = {
            "suggested_label": None,
            "suggested_sources": [],
            "suggestion_cues": [],
        }
        if suggestion is not None:
            ids: list[int] = []
            for name in suggestion.sources:
                source = found.get(name)
                if source is None:
                    continue
                sid = registry.ensure(source.name, source.kind, source.aliases, source.description)
                if sid not in ids:
                    ids.append(sid)
            values = {
                "suggested_label": suggestion.label,
                "suggested_sources": ids,
                "suggestion_cues": [
                    {"kind": c.kind, "text": c.text, "start": c.start, "end": c.end}
                    for c in suggestion.cues
                ],
            }
        session.execute(update(Unit).where(Unit.id == unit.id).values(values))


def _label_names(session: Session, label_ids: Sequence[int]) -> dict[int, str]:
    if not label_ids:
        return {}
    return dict(
        session.execute(select(Label.id, Label.name).where(Label.id.in_(set(label_ids)))).all()
    )


def _source_names(session: Session, source_ids: Sequence[int]) -> list[str]:
    if not source_ids:
        return []
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.id.in_(list(source_ids)))).all()
    )
    return [names[s] for s in source_ids]
