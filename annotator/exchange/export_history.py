"""The history of `annotator export --history`: the events of every annotation and gold decision.

Two more streams of the export's read transaction, ordered by article like the
others, so the exporter takes one article's events at a time: annotation events
grouped by (unit, annotator) and gold events by unit, each list in the order the
rows were appended. Each entry is the state *after* the change, as stored (names
at the time); the state before it is the previous entry of the same list. Import
does not read them back (see the schema's description).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from annotator.exchange.snapshot import ProjectMeta, _grouped, _stream, json_fragment
from annotator.exchange.times import timestamp_reader
from annotator.models import AnnotationEvent, Article, GoldEvent, Unit

AnnotationHistory = dict[tuple[int, int], list[dict[str, Any]]]
GoldHistory = dict[int, list[dict[str, Any]]]


class HistoryStream:
    """One project's events, handed out article by article (articles in id order)."""

    def __init__(self, session: Session, project: ProjectMeta, users: dict[int, str]) -> None:
        self.users = users
        wrap, self.timestamp = timestamp_reader(session.get_bind().dialect.name)
        articles = select(Article.id).where(Article.project_id == project.id).scalar_subquery()
        self.annotations = _grouped(
            _stream(
                session,
                select(
                    Unit.article_id,
                    AnnotationEvent.unit_id,
                    AnnotationEvent.annotator_id,
                    AnnotationEvent.action,
                    AnnotationEvent.version,
                    AnnotationEvent.label,
                    cast(AnnotationEvent.sources, Text),
                    AnnotationEvent.note,
                    AnnotationEvent.actor_id,
                    wrap(AnnotationEvent.at),
                )
                .join(Unit, Unit.id == AnnotationEvent.unit_id)
                .where(Unit.article_id.in_(articles))
                .order_by(
                    Unit.article_id,
                    AnnotationEvent.unit_id,
                    AnnotationEvent.annotator_id,
                    AnnotationEvent.id,
                ),
            )
        )
        self.gold = _grouped(
            _stream(
                session,
                select(
                    Unit.article_id,
                    GoldEvent.unit_id,
                    GoldEvent.action,
                    GoldEvent.label,
                    cast(GoldEvent.sources, Text),
                    GoldEvent.provenance,
                    GoldEvent.reviewer_id,
                    GoldEvent.rationale,
                    GoldEvent.error_category,
                    GoldEvent.actor_id,
                    wrap(GoldEvent.at),
                )
                .join(Unit, Unit.id == GoldEvent.unit_id)
                .where(Unit.article_id.in_(articles))
                .order_by(Unit.article_id, GoldEvent.unit_id, GoldEvent.id),
            )
        )
        self._pending_annotations = next(self.annotations, None)
        self._pending_gold = next(self.gold, None)

    def _at(self, value: Any) -> Any:
        return value if self.timestamp is None else self.timestamp(value)

    def article(self, article_id: int) -> tuple[AnnotationHistory, GoldHistory]:
        """The events of one article; call with the article ids in ascending order."""
        annotations: AnnotationHistory = {}
        gold: GoldHistory = {}
        users = self.users
        pending = self._pending_annotations
        if pending is not None and pending[0] == article_id:
            for _, unit_id, annotator, action, version, label, sources, note, actor, at in pending[
                1
            ]:
                annotations.setdefault((unit_id, annotator), []).append(
                    {
                        "action": action,
                        "version": version,
                        "label": label,
                        "sources": json_fragment(sources),
                        "note": note,
                        "actor": users.get(actor) if actor is not None else None,
                        "at": self._at(at),
                    }
                )
            self._pending_annotations = next(self.annotations, None)
        pending = self._pending_gold
        if pending is not None and pending[0] == article_id:
            for row in pending[1]:
                _, unit_id, action, label, sources, provenance, reviewer, rationale = row[:8]
                category, actor, at = row[8:]
                gold.setdefault(unit_id, []).append(
                    {
                        "action": action,
                        "label": label,
                        "sources": json_fragment(sources),
                        "provenance": provenance,
                        "reviewer": users.get(reviewer) if reviewer is not None else None,
                        "rationale": rationale,
                        "error_category": category,
                        "actor": users.get(actor) if actor is not None else None,
                        "at": self._at(at),
                    }
                )
            self._pending_gold = next(self.gold, None)
        return annotations, gold


def attach(
    units: list[dict[str, Any]],
    history: tuple[AnnotationHistory, GoldHistory],
    users: dict[int, str],
    user_ids: dict[str, int],
) -> None:
    """Put each annotation's history on it and each sentence's gold history on the unit.

    Events of an annotator who has no annotation of the unit any more (deleted,
    superseded) go to the unit's ``removed_annotations``, so no event is left out.
    """
    annotations, gold = history
    by_unit: dict[int, list[int]] = {}
    for unit_id, annotator in annotations:
        by_unit.setdefault(unit_id, []).append(annotator)
    for unit in units:
        if unit["kind"] != "sentence":
            continue
        unit_id = unit["id"]
        unit["gold_history"] = gold.get(unit_id, [])
        present = set()
        for annotation in unit.get("annotations", ()):
            annotator = user_ids[annotation["annotator"]]
            present.add(annotator)
            annotation["history"] = annotations.get((unit_id, annotator), [])
        removed = [
            {"annotator": users[annotator], "history": annotations[unit_id, annotator]}
            for annotator in by_unit.get(unit_id, ())
            if annotator not in present and annotator in users
        ]
        if removed:
            removed.sort(key=_by_annotator)
            unit["removed_annotations"] = removed


def _by_annotator(entry: dict[str, Any]) -> str:
    return entry["annotator"]
