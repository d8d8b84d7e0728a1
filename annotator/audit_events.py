"""The audit trail's vocabulary: events, the states before and after them, and their words.

An event row of ``annotation_events`` or ``gold_events`` holds the state *after*
the change; ``event_from_row`` pairs it with the state of the previous event of
the same annotation or decision (the "from" value), which ``audit_sql`` selects
alongside it. No database access here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from annotator.models import GOLD_ACTIONS

Kind = Literal["annotation", "gold"]
KINDS: tuple[Kind, ...] = ("annotation", "gold")
# The actions annotation_events.action takes (models.AnnotationEvent), and gold's.
ANNOTATION_ACTIONS = (
    "create",
    "update",
    "delete",
    "import",
    "demo",
    "segmentation",
    "superseded",
    "merge_sources",
)
ACTIONS = tuple(dict.fromkeys((*ANNOTATION_ACTIONS, *GOLD_ACTIONS)))
KIND_CODE: dict[Kind, str] = {"annotation": "a", "gold": "g"}
_CODE_KIND: dict[str, Kind] = {"a": "annotation", "g": "gold"}
# Actions after which nothing is stored any more (the state after is "none").
_REMOVING = {"delete", "superseded"}


@dataclass(frozen=True, slots=True)
class State:
    """An annotation or gold decision as it stood: names at the time, not ids."""

    label: str | None
    sources: tuple[str, ...]
    note: str = ""  # annotations
    provenance: str | None = None  # gold only, from here on
    rationale: str = ""
    error_category: str | None = None
    reviewer: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs between the state before and after an event."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class UnitRef:
    """Where an event happened."""

    id: int
    index: int | None
    article_id: int
    article_title: str


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the audit trail."""

    kind: Kind
    id: int
    at: datetime
    action: str  # as stored: create, update, delete, decide, clear …
    summary: str  # in words: "updated", "gold cleared" …
    actor: str | None  # who did it; None for imports and deleted accounts
    annotator: str | None  # whose annotation (annotation events)
    version: int | None  # the annotation's version after the event
    unit: UnitRef
    before: State | None
    after: State | None
    changes: tuple[Change, ...] = field(default=())
    # Why a gold decision was cleared or dropped (the rationale given with it).
    comment: str = ""


def _utc(value: datetime) -> datetime:
    # SQLite returns the stored UTC wall time without an offset.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sources(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(str(name) for name in value)


def event_from_row(row: Any) -> Event:
    """An event from a row of ``audit_sql.page_statement``."""
    (
        code,
        event_id,
        at,
        action,
        version,
        label,
        sources,
        text,
        provenance,
        category,
        actor,
        annotator,
        reviewer,
        unit_id,
        unit_index,
        article_id,
        article_title,
        *previous,
    ) = row
    kind = _CODE_KIND[code]
    if kind == "annotation":
        after = None if action in _REMOVING else State(label, _sources(sources), text or "")
        prev_id, prev_action, prev_label, prev_sources, prev_note = previous[:5]
        before = None
        if prev_id is not None and prev_action not in _REMOVING:
            before = State(prev_label, _sources(prev_sources), prev_note or "")
        elif prev_id is None and action == "superseded":
            # The superseded row records the answer it removed.
            before = State(label, _sources(sources), text or "")
    else:
        after = None
        if provenance is not None:  # a cleared or dropped decision has none
            after = State(
                label,
                _sources(sources),
                provenance=provenance,
                rationale=text or "",
                error_category=category,
                reviewer=reviewer,
            )
        prev_id, prev_label, prev_sources, prev_rationale, prev_provenance = previous[5:10]
        prev_category, prev_reviewer = previous[10:]
        before = None
        if prev_id is not None and prev_provenance is not None:
            before = State(
                prev_label,
                _sources(prev_sources),
                provenance=prev_provenance,
                rationale=prev_rationale or "",
                error_category=prev_category,
                reviewer=prev_reviewer,
            )
    return Event(
        kind=kind,
        id=event_id,
        at=_utc(at),
        action=action,
        summary=describe(kind, action, before, after),
        actor=actor,
        annotator=annotator,
        version=version,
        unit=UnitRef(unit_id, unit_index, article_id, article_title),
        before=before,
        after=after,
        changes=changes(kind, before, after),
        comment=(text or "") if kind == "gold" and after is None else "",
    )


_FIELDS = {
    "annotation": ("label", "sources", "note"),
    "gold": ("label", "sources", "provenance", "rationale", "error_category", "reviewer"),
}


def changes(kind: Kind, before: State | None, after: State | None) -> tuple[Change, ...]:
    """The fields that differ; against nothing, every field that holds a value."""
    found = []
    for name in _FIELDS[kind]:
        old = getattr(before, name) if before is not None else None
        new = getattr(after, name) if after is not None else None
        if old == new:
            continue
        if before is None and new in ("", None):
            continue  # a new answer's empty note is not news
        if after is None and old in ("", None):
            continue
        found.append(Change(name, old, new))
    return tuple(found)


_ANNOTATION_WORDS = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "import": "imported",
    "demo": "created (demo data)",
    "segmentation": "flagged: the sentence's text changed",
    "superseded": "removed: superseded when two sentences were merged",
    "merge_sources": "sources merged in the registry",
}


def describe(kind: Kind, action: str, before: State | None, after: State | None) -> str:
    """The event in a few words, for people: "updated", "gold cleared" …"""
    if kind == "annotation":
        if action == "import" and before is not None:
            return "updated by an import"
        return _ANNOTATION_WORDS.get(action, action)
    if after is None:
        if action == "segmentation":
            return "gold dropped: its sentence was merged into the previous one"
        return "gold cleared"
    if action == "segmentation":
        return "gold marked unresolved: the sentence's text changed"
    if action == "merge_sources":
        return "gold sources merged in the registry"
    verb = "gold set" if before is None else "gold changed"
    if action == "accept_unanimous":
        return f"{verb} (unanimous answers accepted)"
    if action == "import":
        return f"{verb} by an import"
    return verb


def sources_text(sources: Sequence[str] | None) -> str:
    """Sources as people read them: ``KCNA, AP``; none is the outlet's own voice."""
    return ", ".join(sources) if sources else "no source"
