"""The one place annotations and gold decisions are written.

Imports use it in bulk and the web save path can use it per request: each
write bumps the version, replaces the ordered sources and appends an
``AnnotationEvent``, so history never depends on which caller saved.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    AnnotationEvent,
    AnnotationSource,
    Label,
    Source,
    utcnow,
)

Outcome = Literal["created", "updated", "unchanged"]
# Bound parameters per IN (...) list; SQLite's default limit is far above it.
_CHUNK = 500


class VersionConflict(RuntimeError):
    """The annotation changed since the caller read it (a stale save)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"annotation is at version {actual}, not {expected}; reload and retry")


@dataclass(frozen=True, slots=True)
class CurrentAnnotation:
    """What is stored now for one unit and annotator."""

    id: int
    label_id: int
    source_ids: tuple[int, ...]
    note: str
    version: int
    # A segmentation edit flagged it: saving the same answer again still
    # writes, because it records that the annotator looked at the new text.
    flagged: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Upserted:
    """The result of a write: what happened, the row id and its version now."""

    outcome: Outcome
    id: int
    version: int
    # When the stored row was last written (None when the caller did not need it).
    updated_at: datetime | None = None


def in_chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(values), _CHUNK):
        yield list(values[i : i + _CHUNK])


def load_current_annotations(
    session: Session, unit_ids: Iterable[int]
) -> dict[tuple[int, int], CurrentAnnotation]:
    """The stored annotations of these units, keyed by (unit id, annotator id)."""
    found: dict[tuple[int, int], CurrentAnnotation] = {}
    for chunk in in_chunks(sorted(set(unit_ids))):
        rows = session.execute(
            select(
                Annotation.unit_id,
                Annotation.annotator_id,
                Annotation.id,
                Annotation.label_id,
                Annotation.note,
                Annotation.version,
                Annotation.flagged,
                Annotation.updated_at,
                AnnotationSource.source_id,
            )
            .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
            .where(Annotation.unit_id.in_(chunk))
            .order_by(Annotation.id, AnnotationSource.position)
        )
        sources: dict[int, list[int]] = {}
        heads: dict[int, tuple] = {}
        for unit_id, annotator_id, ann_id, label_id, note, version, flagged, at, source_id in rows:
            heads[ann_id] = (unit_id, annotator_id, ann_id, label_id, note, version, flagged, at)
            if source_id is not None:
                sources.setdefault(ann_id, []).append(source_id)
        for unit_id, annotator_id, ann_id, label_id, note, version, flagged, at in heads.values():
            found[unit_id, annotator_id] = CurrentAnnotation(
                ann_id, label_id, tuple(sources.get(ann_id, ())), note, version, bool(flagged), at
            )
    return found


def load_current_annotation(
    session: Session, unit_id: int, annotator_id: int
) -> CurrentAnnotation | None:
    """The stored annotation of one unit and annotator, if any."""
    return load_current_annotations(session, [unit_id]).get((unit_id, annotator_id))


_UNKNOWN = object()


def upsert_annotation(
    session: Session,
    unit_id: int,
    annotator_id: int,
    label_id: int,
    source_ids: Sequence[int],
    note: str,
    actor_id: int | None,
    action: str,
    *,
    current: CurrentAnnotation | None | object = _UNKNOWN,
    expected_version: int | None = None,
    seconds_spent: float | None = None,
    add_seconds: float | None = None,
    resolve_flag: bool = False,
    version: int | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    label_name: str | None = None,
    source_names: Sequence[str] | None = None,
) -> Upserted:
    """Create or change one annotation, or leave it when label, sources and note are equal.

    ``current`` (from ``load_current_annotations``) saves a query in bulk use;
    ``expected_version`` makes a stale save fail with ``VersionConflict`` (a save
    equal to what is stored is not stale: a replayed request answers "unchanged");
    ``seconds_spent`` replaces the stored time, ``add_seconds`` adds to it;
    ``resolve_flag`` writes even an equal answer when a segmentation edit flagged
    it (the annotator looked again); any write clears the flag;
    ``version``/``created_at``/``updated_at`` restore exported values on create;
    ``label_name``/``source_names`` spare the look-up for the history row.
    Concurrent writers are safe: the update only applies to the version read,
    and a concurrent first save surfaces as ``VersionConflict``, never as a
    duplicate or a broken session.
    """
    if current is _UNKNOWN:
        current = load_current_annotation(session, unit_id, annotator_id)
    assert current is None or isinstance(current, CurrentAnnotation)
    sources = tuple(source_ids)
    if (
        current is not None
        and not (resolve_flag and current.flagged)
        and (current.label_id, current.source_ids, current.note) == (label_id, sources, note)
    ):
        return Upserted("unchanged", current.id, current.version, current.updated_at)
    if expected_version is not None:
        actual = current.version if current is not None else 0
        if actual != expected_version:
            raise VersionConflict(expected_version, actual)
    now = utcnow()
    # Core statements built once, on the session's connection: the ORM adds
    # nothing to these writes and its statement building cost more than SQLite.
    db = session.connection()
    if current is None:
        new_version = version or 1
        stamp = updated_at or created_at or now
        values = {
            "unit_id": unit_id,
            "annotator_id": annotator_id,
            "label_id": label_id,
            "note": note,
            "version": new_version,
            "seconds_spent": seconds_spent or add_seconds or 0.0,
            "created_at": created_at or now,
            "updated_at": stamp,
        }
        annotation_id = _insert_annotation(session, values, expected_version or 0)
        outcome: Outcome = "created"
        sources_changed = True
    else:
        annotation_id = current.id
        new_version = current.version + 1
        stamp = now
        values = {
            "label_id": label_id,
            "note": note,
            "version": new_version,
            "updated_at": now,
            # Answering again is looking again: the segmentation flag is resolved.
            "flagged": False,
            "previous_text": None,
        }
        params = {"w_id": annotation_id, "w_version": current.version}
        add = seconds_spent is None and bool(add_seconds)
        if seconds_spent is not None:
            values["seconds_spent"] = seconds_spent
        elif add:
            params["p_add_seconds"] = add_seconds  # added to the stored time
        params |= {f"p_{key}": value for key, value in values.items()}
        # Conditional on the version read, so of two writers who read the same
        # version only the first changes the row (no lost update).
        changed = db.execute(_update_statement(tuple(values), add), params).rowcount
        if changed != 1:
            stored = load_current_annotation(session, unit_id, annotator_id)
            raise VersionConflict(
                current.version if expected_version is None else expected_version,
                stored.version if stored is not None else 0,
            )
        outcome = "updated"
        # The row was at the version ``current`` was read at, so its sources
        # are ``current.source_ids``: rewritten only when they change.
        sources_changed = current.source_ids != sources
        if sources_changed:
            db.execute(_DELETE_SOURCES, {"p_annotation_id": annotation_id})
    if sources and sources_changed:
        db.execute(
            _INSERT_SOURCE,
            [
                {"annotation_id": annotation_id, "position": i, "source_id": s}
                for i, s in enumerate(sources)
            ],
        )
    if label_name is None:
        label_name = session.scalar(select(Label.name).where(Label.id == label_id))
    if source_names is None:
        source_names = _source_names(session, sources)
    append_event(
        session,
        annotation_id=annotation_id,
        unit_id=unit_id,
        annotator_id=annotator_id,
        actor_id=actor_id,
        action=action,
        version=new_version,
        label=label_name,
        sources=list(source_names),
        note=note,
        at=updated_at if outcome == "created" and updated_at else now,
    )
    return Upserted(outcome, annotation_id, new_version, stamp)


def append_event(
    session: Session,
    *,
    annotation_id: int | None,
    unit_id: int,
    annotator_id: int,
    actor_id: int | None,
    action: str,
    version: int,
    label: str | None,
    sources: Sequence[str],
    note: str,
    at: datetime | None = None,
) -> None:
    """Append one row to the annotation history; every writer of history goes through here."""
    session.connection().execute(
        _INSERT_EVENT,
        {
            "p_annotation_id": annotation_id,
            "p_unit_id": unit_id,
            "p_annotator_id": annotator_id,
            "p_actor_id": actor_id,
            "p_action": action,
            "p_version": version,
            "p_label": label,
            "p_sources": list(sources),
            "p_note": note,
            "p_at": at or utcnow(),
        },
    )


def _insert_annotation(session: Session, values: dict[str, Any], expected_version: int) -> int:
    # Two first saves of one unit by one annotator can both find no row; the
    # unique key turns the second insert into nothing (ON CONFLICT DO NOTHING,
    # no savepoint needed), which answers 409.
    db = session.connection()
    inserted = db.execute(
        _insert_statement(db.dialect.name, tuple(values)),
        {f"p_{key}": value for key, value in values.items()},
    ).scalar_one_or_none()
    if inserted is not None:
        return inserted
    stored = load_current_annotation(session, values["unit_id"], values["annotator_id"])
    raise VersionConflict(expected_version, stored.version if stored is not None else 0)


def _bind(column: Any) -> Any:
    return bindparam(f"p_{column.key}", type_=column.type)


_DELETE_SOURCES = delete(AnnotationSource).where(
    AnnotationSource.annotation_id == _bind(AnnotationSource.annotation_id)
)
_INSERT_SOURCE = insert(AnnotationSource)
_INSERT_EVENT = insert(AnnotationEvent).values(
    {
        column.key: _bind(column)
        for column in (
            AnnotationEvent.annotation_id,
            AnnotationEvent.unit_id,
            AnnotationEvent.annotator_id,
            AnnotationEvent.actor_id,
            AnnotationEvent.action,
            AnnotationEvent.version,
            AnnotationEvent.label,
            AnnotationEvent.sources,
            AnnotationEvent.note,
            AnnotationEvent.at,
        )
    }
)


@functools.cache
def _update_statement(keys: tuple[str, ...], add_seconds: bool) -> Any:
    """UPDATE of these columns where id and version match, built once per shape."""
    columns = Annotation.__table__.c
    values: dict[str, Any] = {key: _bind(columns[key]) for key in keys}
    if add_seconds:
        values["seconds_spent"] = columns.seconds_spent + bindparam(
            "p_add_seconds", type_=columns.seconds_spent.type
        )
    return (
        update(Annotation.__table__)
        .where(columns.id == bindparam("w_id"), columns.version == bindparam("w_version"))
        .values(values)
    )


@functools.cache
def _insert_statement(dialect: str, keys: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT (unit, annotator) DO NOTHING RETURNING id, once per shape."""
    columns = Annotation.__table__.c
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        build(Annotation.__table__)
        .values({key: _bind(columns[key]) for key in keys})
        .on_conflict_do_nothing(index_elements=["unit_id", "annotator_id"])
        .returning(columns.id)
    )


def delete_annotation(
    session: Session,
    unit_id: int,
    annotator_id: int,
    actor_id: int | None,
    expected_version: int,
) -> int | None:
    """Delete one annotation if it is at ``expected_version``; the history keeps an event.

    Returns the deleted row's id, or None when there was none and the caller
    expected none (version 0); raises ``VersionConflict`` otherwise.
    """
    deleted = session.execute(
        delete(Annotation)
        .where(
            Annotation.unit_id == unit_id,
            Annotation.annotator_id == annotator_id,
            Annotation.version == expected_version,
        )
        .returning(Annotation.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if deleted is None:
        stored = load_current_annotation(session, unit_id, annotator_id)
        actual = stored.version if stored is not None else 0
        if actual == expected_version == 0:
            return None
        raise VersionConflict(expected_version, actual)
    append_event(
        session,
        annotation_id=deleted,
        unit_id=unit_id,
        annotator_id=annotator_id,
        actor_id=actor_id,
        action="delete",
        version=expected_version,
        label=None,
        sources=[],
        note="",
        at=utcnow(),
    )
    return deleted


def _source_names(session: Session, source_ids: Sequence[int]) -> list[str]:
    if not source_ids:
        return []
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.id.in_(list(source_ids)))).all()
    )
    return [names[s] for s in source_ids]
