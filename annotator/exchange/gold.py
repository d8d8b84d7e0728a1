"""Gold decisions: the one place they are written, with their ordered sources and history.

Every change appends a ``GoldEvent`` holding the decision as it stands after the
change (label and source names at the time, provenance, reviewer, rationale), so
the audit trail does not depend on which caller wrote: the review pages, the
JSON API, imports, segmentation edits and source merges all come through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from annotator.exchange.apply import Outcome, Upserted, in_chunks
from annotator.models import (
    Gold,
    GoldEvent,
    GoldSource,
    Label,
    Source,
    utcnow,
)

# "Not given" for the optional current state (None means "no gold stored").
_UNKNOWN: Any = object()
# Rows per multi-row INSERT of a bulk acceptance.
_BULK = 1000


@dataclass(frozen=True, slots=True)
class CurrentGold:
    """What is stored now as a unit's gold decision."""

    id: int
    label_id: int | None
    source_ids: tuple[int, ...]
    provenance: str
    reviewer_id: int | None
    rationale: str
    error_category: str | None


@dataclass(frozen=True, slots=True)
class NewGold:
    """One decision of a bulk insert, with the names its history row records."""

    unit_id: int
    label_id: int | None
    source_ids: tuple[int, ...]
    label_name: str | None
    source_names: tuple[str, ...]


def load_current_gold(session: Session, unit_ids: Iterable[int]) -> dict[int, CurrentGold]:
    """The stored gold decisions of these units, keyed by unit id."""
    found: dict[int, CurrentGold] = {}
    for chunk in in_chunks(sorted(set(unit_ids))):
        rows = session.execute(
            select(
                Gold.unit_id,
                Gold.id,
                Gold.label_id,
                Gold.provenance,
                Gold.reviewer_id,
                Gold.rationale,
                Gold.error_category,
                GoldSource.source_id,
            )
            .outerjoin(GoldSource, GoldSource.gold_id == Gold.id)
            .where(Gold.unit_id.in_(chunk))
            .order_by(Gold.id, GoldSource.position)
        )
        heads: dict[int, tuple] = {}
        sources: dict[int, list[int]] = {}
        for unit_id, gold_id, label_id, prov, reviewer, rationale, category, source_id in rows:
            heads[unit_id] = (gold_id, label_id, prov, reviewer, rationale, category)
            if source_id is not None:
                sources.setdefault(unit_id, []).append(source_id)
        for unit_id, (gold_id, label_id, prov, reviewer, rationale, category) in heads.items():
            found[unit_id] = CurrentGold(
                gold_id,
                label_id,
                tuple(sources.get(unit_id, ())),
                prov,
                reviewer,
                rationale,
                category,
            )
    return found


def upsert_gold(
    session: Session,
    unit_id: int,
    label_id: int | None,
    source_ids: Sequence[int],
    provenance: str,
    reviewer_id: int | None,
    rationale: str,
    error_category: str | None = None,
    *,
    decided_at: datetime | None = None,
    current: CurrentGold | None | object = _UNKNOWN,
    actor_id: int | None | object = _UNKNOWN,
    action: str = "decide",
    label_name: str | None = None,
    source_names: Sequence[str] | None = None,
) -> Upserted:
    """Create or replace a unit's gold decision, or leave it when nothing differs.

    A change appends a ``GoldEvent`` with ``action`` (``decide`` by default;
    importers pass ``import``) by ``actor_id`` (default: the reviewer).
    ``label_name``/``source_names`` spare a look-up when the caller has them.
    """
    if current is _UNKNOWN:
        current = load_current_gold(session, [unit_id]).get(unit_id)
    assert current is None or isinstance(current, CurrentGold)
    sources = tuple(source_ids)
    wanted = (label_id, sources, provenance, reviewer_id, rationale, error_category)
    now = decided_at or utcnow()
    values = {
        "label_id": label_id,
        "provenance": provenance,
        "reviewer_id": reviewer_id,
        "rationale": rationale,
        "error_category": error_category,
        "decided_at": now,
    }
    outcome: Outcome = "created"
    gold_id = _insert_gold(session, unit_id, values) if current is None else None
    if gold_id is None:
        if current is None:
            # Another reviewer decided the unit since we looked: the later
            # decision replaces it, and the history keeps both.
            current = load_current_gold(session, [unit_id])[unit_id]
        stored = (
            current.label_id,
            current.source_ids,
            current.provenance,
            current.reviewer_id,
            current.rationale,
            current.error_category,
        )
        if stored == wanted:
            return Upserted("unchanged", current.id, 1)
        gold_id = current.id
        session.execute(update(Gold).where(Gold.id == gold_id).values(values))
        session.execute(delete(GoldSource).where(GoldSource.gold_id == gold_id))
        outcome = "updated"
    if sources:
        session.execute(
            insert(GoldSource),
            [{"gold_id": gold_id, "position": i, "source_id": s} for i, s in enumerate(sources)],
        )
    if label_name is None and label_id is not None:
        label_name = session.scalar(select(Label.name).where(Label.id == label_id))
    if source_names is None:
        source_names = _source_names(session, sources)
    append_gold_event(
        session,
        unit_id=unit_id,
        gold_id=gold_id,
        actor_id=reviewer_id if actor_id is _UNKNOWN else actor_id,
        action=action,
        label=label_name,
        sources=source_names,
        provenance=provenance,
        reviewer_id=reviewer_id,
        rationale=rationale,
        error_category=error_category,
        at=now,
    )
    return Upserted(outcome, gold_id, 1)


def insert_gold_many(
    session: Session,
    decisions: Sequence[NewGold],
    *,
    provenance: str,
    reviewer_id: int | None,
    rationale: str = "",
    actor_id: int | None,
    action: str,
) -> list[int]:
    """Insert gold for units that have none, in bulk; returns the units decided.

    A unit decided meanwhile by someone else is skipped (its decision stays).
    """
    created: list[int] = []
    by_unit = {d.unit_id: d for d in decisions}
    now = utcnow()
    head = {
        "provenance": provenance,
        "reviewer_id": reviewer_id,
        "rationale": rationale,
        "error_category": None,
        "decided_at": now,
    }
    for start in range(0, len(decisions), _BULK):
        chunk = decisions[start : start + _BULK]
        rows = session.connection().execute(
            _gold_insert(session).returning(Gold.id, Gold.unit_id),
            [{"unit_id": d.unit_id, "label_id": d.label_id, **head} for d in chunk],
        )
        ids = {unit_id: gold_id for gold_id, unit_id in rows}
        source_rows = [
            {"gold_id": ids[d.unit_id], "position": i, "source_id": s}
            for d in chunk
            if d.unit_id in ids
            for i, s in enumerate(d.source_ids)
        ]
        if source_rows:
            session.execute(insert(GoldSource), source_rows)
        events = [
            {
                "unit_id": unit_id,
                "gold_id": gold_id,
                "actor_id": actor_id,
                "reviewer_id": reviewer_id,
                "action": action,
                "label": by_unit[unit_id].label_name,
                "sources": list(by_unit[unit_id].source_names),
                "provenance": provenance,
                "rationale": rationale,
                "error_category": None,
                "at": now,
            }
            for unit_id, gold_id in ids.items()
        ]
        if events:
            session.execute(insert(GoldEvent), events)
        created.extend(ids)
    return created


def clear_gold(
    session: Session, unit_id: int, actor_id: int | None, rationale: str = ""
) -> int | None:
    """Delete a unit's gold decision (the history keeps a ``clear`` event); its id or None."""
    deleted = session.execute(
        delete(Gold)
        .where(Gold.unit_id == unit_id)
        .returning(Gold.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if deleted is None:
        return None
    append_gold_event(
        session,
        unit_id=unit_id,
        gold_id=deleted,
        actor_id=actor_id,
        action="clear",
        label=None,
        sources=(),
        provenance=None,
        reviewer_id=None,
        rationale=rationale,
        error_category=None,
    )
    return deleted


def record_gold_state(
    session: Session, unit_ids: Iterable[int], *, actor_id: int | None, action: str
) -> int:
    """Append an event with the current decision of each of these units.

    For writers that change gold rows in place (a segmentation edit marks them
    unresolved, a source merge rewrites their sources); returns the events written.
    """
    current = load_current_gold(session, unit_ids)
    if not current:
        return 0
    label_ids = {g.label_id for g in current.values() if g.label_id is not None}
    labels = dict(
        session.execute(select(Label.id, Label.name).where(Label.id.in_(label_ids))).all()
    )
    source_ids = {s for g in current.values() for s in g.source_ids}
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.id.in_(source_ids))).all()
    )
    now = utcnow()
    for unit_id, gold in sorted(current.items()):
        append_gold_event(
            session,
            unit_id=unit_id,
            gold_id=gold.id,
            actor_id=actor_id,
            action=action,
            label=labels.get(gold.label_id) if gold.label_id is not None else None,
            sources=[names[s] for s in gold.source_ids if s in names],
            provenance=gold.provenance,
            reviewer_id=gold.reviewer_id,
            rationale=gold.rationale,
            error_category=gold.error_category,
            at=now,
        )
    return len(current)


def append_gold_event(
    session: Session,
    *,
    unit_id: int,
    gold_id: int | None,
    actor_id: int | None,
    action: str,
    label: str | None,
    sources: Sequence[str],
    provenance: str | None,
    reviewer_id: int | None,
    rationale: str,
    error_category: str | None,
    at: datetime | None = None,
) -> None:
    """Append one row to the gold history; every writer of gold goes through here."""
    session.execute(
        insert(GoldEvent).values(
            unit_id=unit_id,
            gold_id=gold_id,
            actor_id=actor_id,
            reviewer_id=reviewer_id,
            action=action,
            label=label,
            sources=list(sources),
            provenance=provenance,
            rationale=rationale,
            error_category=error_category,
            at=at or utcnow(),
        )
    )


def _gold_insert(session: Session) -> Any:
    """INSERT INTO gold … ON CONFLICT (unit_id) DO NOTHING for the session's engine."""
    dialect = session.connection().dialect.name
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return build(Gold.__table__).on_conflict_do_nothing(index_elements=["unit_id"])


def _insert_gold(session: Session, unit_id: int, values: dict[str, Any]) -> int | None:
    """The new gold row's id, or None when the unit got one meanwhile (no savepoint needed)."""
    return session.execute(
        _gold_insert(session).values(unit_id=unit_id, **values).returning(Gold.id)
    ).scalar_one_or_none()


def _source_names(session: Session, source_ids: Sequence[int]) -> list[str]:
    if not source_ids:
        return []
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.id.in_(list(source_ids)))).all()
    )
    return [names[s] for s in source_ids if s in names]
