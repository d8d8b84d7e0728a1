"""Saving one sentence's annotation: the web's write path (the page's view is
``article_view``).

``save_annotation`` and ``remove_annotation`` read first (one statement: the
unit, the caller's right to open it, the current annotation, the label and the
article's progress), then take the write lock for a handful of statements and
one commit. Both only ever touch the caller's own annotation, and only on
articles the caller may open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, text
from sqlalchemy.orm import Session, aliased

from annotator.access import visible_article_clause
from annotator.db import wants_write
from annotator.exchange.apply import (
    CurrentAnnotation,
    VersionConflict,
    delete_annotation,
    upsert_annotation,
)
from annotator.exchange.times import iso_utc
from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Label,
    Source,
    Unit,
    User,
)

# An id beyond this cannot exist (ids are 32-bit INTEGER columns); refusing it
# early keeps it from PostgreSQL, whose integer overflows with a 500 beyond it.
MAX_ID = 2**31 - 1


class InvalidAnnotation(ValueError):
    """A save payload with a wrong type or value; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnitNotFound(LookupError):
    """No such sentence, or its article is not visible to the caller."""


class AnnotationConflict(RuntimeError):
    """The stored annotation is not at the version the caller expected."""

    def __init__(self, current: dict[str, Any] | None) -> None:
        self.current = current
        super().__init__("the annotation changed since you loaded it")


@dataclass(frozen=True, slots=True)
class SaveRequest:
    """A validated save: label name, ordered source ids, note, expected version, time."""

    label: str
    sources: tuple[int, ...]
    note: str
    expected_version: int
    seconds_spent: float | None = None


def annotation_dict(
    label: str,
    sources: list[dict[str, Any]],
    note: str,
    version: int,
    updated_at: Any,
    flagged: bool,
    previous_text: str | None,
) -> dict[str, Any]:
    """One annotation as the API and the page show it."""
    return {
        "label": label,
        "sources": sources,
        "note": note,
        "version": version,
        "updated_at": iso_utc(updated_at) if updated_at is not None else None,
        "flagged": bool(flagged),
        "previous_text": previous_text,
    }


# An answer as the API shows it, one row per source (``annotation_dict``'s
# arguments); the article view reads the same columns beside each unit.
ANSWER_COLUMNS = (
    Label.name,
    Annotation.note,
    Annotation.version,
    Annotation.updated_at,
    Annotation.flagged,
    Annotation.previous_text,
    Source.id,
    Source.name,
    Source.kind,
)


def _annotations_query() -> Select[Any]:
    return (
        select(Annotation.unit_id, *ANSWER_COLUMNS)
        .join(Label, Label.id == Annotation.label_id)
        .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
        .outerjoin(Source, Source.id == AnnotationSource.source_id)
        .where(Annotation.annotator_id == bindparam("annotator_id", type_=Integer))
        .order_by(Annotation.unit_id, AnnotationSource.position)
    )


# The page's and the save's statements are built once with bound parameters:
# building a select costs SQLAlchemy more than SQLite needs to run it.
_UNIT_ANNOTATION = _annotations_query().where(
    Annotation.unit_id == bindparam("unit_id", type_=Integer)
)
_SOURCES = select(Source.id, Source.name, Source.kind).where(
    Source.project_id == bindparam("project_id"),
    Source.id.in_(bindparam("ids", expanding=True)),
)


def _collect_annotations(rows: Any) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for unit_id, label, note, version, at, flagged, previous, sid, sname, skind in rows:
        entry = found.get(unit_id)
        if entry is None:
            entry = found[unit_id] = annotation_dict(
                label, [], note, version, at, flagged, previous
            )
        if sid is not None:
            entry["sources"].append({"id": sid, "name": sname, "kind": skind})
    return found


def current_annotation(session: Session, unit_id: int, annotator_id: int) -> dict[str, Any] | None:
    """The stored annotation of one unit and annotator as the API shows it, or None."""
    rows = session.execute(_UNIT_ANNOTATION, {"annotator_id": annotator_id, "unit_id": unit_id})
    return _collect_annotations(rows).get(unit_id)


def progress(session: Session, article_id: int, annotator_id: int) -> dict[str, int]:
    """Sentences of the article the annotator has labelled, and all of them (one query)."""
    done, total = session.execute(
        _PROGRESS, {"article_id": article_id, "annotator_id": annotator_id}
    ).one()
    return {"done": int(done), "total": int(total)}


def _progress_query() -> Select[Any]:
    # Built once: every save answers with the article's progress.
    sentences = (
        select(func.count())
        .select_from(Unit)
        .where(Unit.article_id == bindparam("article_id"), Unit.kind == "sentence")
    )
    labelled = sentences.join(Annotation, Annotation.unit_id == Unit.id).where(
        Annotation.annotator_id == bindparam("annotator_id")
    )
    return select(labelled.scalar_subquery(), sentences.scalar_subquery())


_PROGRESS = _progress_query()


def begin_write(session: Session) -> None:
    """On SQLite, end the caller's read transaction and take the write lock first.

    In WAL mode a transaction that read and then writes fails at once with
    "database is locked" when another connection committed in between; a
    transaction that starts by writing waits for the lock (busy_timeout)
    instead, and everything it then reads is current. PostgreSQL needs none
    of this: its row locks and the conditional update do the work.
    """
    if wants_write():
        return  # the request's transaction began with the write lock (db.write_intent)
    if session.get_bind().dialect.name != "sqlite":
        # Ending the transaction would cost two round trips and buy nothing:
        # under READ COMMITTED every statement sees what others committed.
        return
    session.commit()
    session.execute(text("UPDATE annotations SET version = version WHERE 0"))


@functools.cache
def _unit_lookup(role: str) -> Select[Any]:
    """The look-up of a save, built once per role with bound parameters.

    One statement answers everything a save needs to know before it writes:
    the unit, the caller's right to open its article, the caller's current
    annotation with its sources (one row per source), the id of the label
    asked for, and the article's progress. On PostgreSQL every statement is a
    round trip to the server, and a save is the hottest path of the app.
    """
    user_id = bindparam("user_id", type_=Integer)
    sentence = aliased(Unit)
    total = (
        select(func.count())
        .select_from(sentence)
        .where(sentence.article_id == Unit.article_id, sentence.kind == "sentence")
    )
    mine = aliased(Annotation)
    done = total.join(mine, mine.unit_id == sentence.id).where(mine.annotator_id == user_id)
    label_id = (
        select(Label.id)
        .where(Label.project_id == Article.project_id, Label.name == bindparam("label"))
        .scalar_subquery()
    )
    return (
        select(
            Unit.article_id,
            Article.project_id,
            label_id,
            done.scalar_subquery(),
            total.scalar_subquery(),
            Annotation.id,
            Annotation.label_id,
            Annotation.note,
            Annotation.version,
            Annotation.flagged,
            Annotation.updated_at,
            Annotation.previous_text,
            AnnotationSource.source_id,
        )
        .join(Article, Article.id == Unit.article_id)
        .outerjoin(
            Annotation, (Annotation.unit_id == Unit.id) & (Annotation.annotator_id == user_id)
        )
        .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
        .where(Unit.id == bindparam("unit_id", type_=Integer), Unit.kind == "sentence")
        .where(visible_article_clause(user_id, role))
        .order_by(AnnotationSource.position)
    )


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What a save or removal read before writing."""

    article_id: int
    project_id: int
    label_id: int | None  # of the label asked for, None when the project has none by that name
    done: int  # the article's sentences the caller had labelled
    total: int
    current: CurrentAnnotation | None
    previous_text: str | None

    def progress(self, change: int) -> dict[str, int]:
        """The article's progress after a write that labelled ``change`` more sentences.

        Read before the write rather than after it, which would cost another
        statement: only the caller's own concurrent saves on other sentences
        of this article (a second tab) could make it one off, until the next
        save.
        """
        return {"done": self.done + change, "total": self.total}


def _load_unit(session: Session, unit_id: int, user: User, label: str | None = None) -> _Loaded:
    """What a write needs to know, or ``UnitNotFound`` (also for articles out of reach)."""
    if not 1 <= unit_id <= MAX_ID:
        raise UnitNotFound(unit_id)
    rows = session.execute(
        _unit_lookup(user.role), {"unit_id": unit_id, "user_id": user.id, "label": label}
    ).all()
    if not rows:
        raise UnitNotFound(unit_id)
    (article_id, project_id, label_id, done, total, ann_id, current_label, note, version) = rows[0][
        :9
    ]
    flagged, at, previous = rows[0][9:12]
    current = None
    if ann_id is not None:
        sources = tuple(row[-1] for row in rows if row[-1] is not None)
        current = CurrentAnnotation(
            ann_id, current_label, sources, note, version, bool(flagged), at
        )
    return _Loaded(
        article_id,
        project_id,
        label_id,
        int(done),
        int(total),
        current,
        previous if ann_id is not None else None,
    )


def save_annotation(session: Session, unit_id: int, user: User, request: SaveRequest) -> dict:
    """Save the user's own annotation of a sentence and commit; returns {"annotation", "progress"}.

    Raises ``UnitNotFound`` (404), ``InvalidAnnotation`` (422) or
    ``AnnotationConflict`` (409), with nothing written. The look-ups run before
    the write lock is taken (see ``begin_write``): on SQLite one writer at a time
    holds it, so it covers only the conditional upsert and the commit. A read
    that went stale in between cannot cause a lost update: the update applies
    only to the version read, and a concurrent first save hits the unique key.
    A save whose answer is already stored succeeds without a new version, also
    when it lost a race to an identical request (a client's retry).
    """
    user_id = user.id
    if "\x00" in request.label:
        # No label holds NUL (PostgreSQL cannot even bind it in the look-up).
        raise InvalidAnnotation("label", f"{request.label!r} is not a label of this project")
    loaded = _load_unit(session, unit_id, user, request.label)
    project_id, current, label_id = loaded.project_id, loaded.current, loaded.label_id
    if label_id is None:
        raise InvalidAnnotation("label", f"{request.label!r} is not a label of this project")
    found: dict[int, dict[str, Any]] = {}
    if not all(1 <= s <= MAX_ID for s in request.sources):
        # No such source can exist, and PostgreSQL would overflow binding it.
        raise InvalidAnnotation("sources", "every source must belong to this project")
    if request.sources:
        for sid, name, kind in session.execute(
            _SOURCES, {"project_id": project_id, "ids": list(request.sources)}
        ):
            found[sid] = {"id": sid, "name": name, "kind": kind}
        if len(found) != len(request.sources):
            raise InvalidAnnotation("sources", "every source must belong to this project")
    sources = [found[s] for s in request.sources]
    begin_write(session)
    try:
        result = upsert_annotation(
            session,
            unit_id,
            user_id,
            label_id,
            request.sources,
            request.note,
            user_id,
            "create" if current is None else "update",
            current=current,
            expected_version=request.expected_version,
            add_seconds=request.seconds_spent,
            resolve_flag=True,
            label_name=request.label,
            source_names=[s["name"] for s in sources],
        )
    except VersionConflict:
        stored = current_annotation(session, unit_id, user_id)
        # Nothing was written; end the transaction (and SQLite's write lock) now.
        session.rollback()
        if not _same_answer(stored, request):
            raise AnnotationConflict(stored) from None
        # A retry that raced its own original (or another tab saving the same
        # answer) lost only the race: what it asked for is stored, so it gets
        # the stored version, as a replay after the fact does ("unchanged").
        return {"annotation": stored, "progress": progress(session, loaded.article_id, user_id)}
    session.commit()
    annotation = annotation_dict(
        request.label,
        sources,
        request.note,
        result.version,
        result.updated_at,
        False,
        loaded.previous_text if result.outcome == "unchanged" else None,
    )
    return {"annotation": annotation, "progress": loaded.progress(int(current is None))}


def _same_answer(stored: dict[str, Any] | None, request: SaveRequest) -> bool:
    """Whether the stored annotation already says what ``request`` asks (label, sources, note).

    A flagged one does not: saving it again records that the annotator read the new text.
    """
    return (
        stored is not None
        and not stored["flagged"]
        and stored["label"] == request.label
        and stored["note"] == request.note
        and tuple(source["id"] for source in stored["sources"]) == request.sources
    )


def remove_annotation(session: Session, unit_id: int, user: User, expected_version: int) -> dict:
    """Delete the user's own annotation of a sentence and commit; returns {"annotation": None,
    "progress"}.

    Raises ``UnitNotFound`` or ``AnnotationConflict`` with nothing deleted.
    """
    user_id = user.id
    loaded = _load_unit(session, unit_id, user)
    begin_write(session)
    try:
        deleted = delete_annotation(session, unit_id, user_id, user_id, expected_version)
    except VersionConflict:
        raise AnnotationConflict(current_annotation(session, unit_id, user_id)) from None
    session.commit()
    return {"annotation": None, "progress": loaded.progress(-int(deleted is not None))}
