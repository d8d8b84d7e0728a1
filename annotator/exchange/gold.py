"""Gold decisions: the one place they are written, with their ordered sources."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from annotator.exchange.apply import Outcome, Upserted, in_chunks
from annotator.models import (
    Gold,
    GoldSource,
    utcnow,
)

# "Not given" for the optional current state (None means "no gold stored").
_UNKNOWN = object()


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
) -> Upserted:
    """Create or replace a unit's gold decision, or leave it when nothing differs."""
    if current is _UNKNOWN:
        current = load_current_gold(session, [unit_id]).get(unit_id)
    assert current is None or isinstance(current, CurrentGold)
    sources = tuple(source_ids)
    wanted = (label_id, sources, provenance, reviewer_id, rationale, error_category)
    values = {
        "label_id": label_id,
        "provenance": provenance,
        "reviewer_id": reviewer_id,
        "rationale": rationale,
        "error_category": error_category,
        "decided_at": decided_at or utcnow(),
    }
    if current is None:
        gold_id = session.execute(
            insert(Gold).values(unit_id=unit_id, **values).returning(Gold.id)
        ).scalar_one()
        outcome: Outcome = "created"
    else:
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
    return Upserted(outcome, gold_id, 1)
