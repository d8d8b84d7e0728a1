"""Annotating one article: the view the page and the API share, and saving one unit.

``article_view`` builds the article dict of the annotation API contract in a
fixed number of queries whatever the article's length. ``save_annotation`` and
``remove_annotation`` are the web's write path: look-ups first, then the write
lock for a handful of statements and one commit. Both only ever touch the
caller's own annotation, and only on articles the caller may open.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, text
from sqlalchemy.orm import Session

from annotator.access import is_reviewer, visible_article_clause
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
    Mention,
    Project,
    Source,
    Unit,
    User,
)
from annotator.progress import next_article_for

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


def _annotation_dict(
    label: str,
    sources: list[dict[str, Any]],
    note: str,
    version: int,
    updated_at: Any,
    flagged: bool,
    previous_text: str | None,
) -> dict[str, Any]:
    return {
        "label": label,
        "sources": sources,
        "note": note,
        "version": version,
        "updated_at": iso_utc(updated_at) if updated_at is not None else None,
        "flagged": bool(flagged),
        "previous_text": previous_text,
    }


def _annotations_query() -> Select[Any]:
    return (
        select(
            Annotation.unit_id,
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
_ARTICLE_ANNOTATIONS = (
    _annotations_query()
    .join(Unit, Unit.id == Annotation.unit_id)
    .where(Unit.article_id == bindparam("article_id", type_=Integer))
)
_PROJECT = select(Project.id, Project.name, Project.suggestion_mode).where(
    Project.id == bindparam("project_id", type_=Integer)
)
_LABELS = (
    select(Label.id, Label.name, Label.key, Label.description)
    .where(Label.project_id == bindparam("project_id", type_=Integer))
    .order_by(Label.position)
)
_UNITS = (
    select(
        Unit.id,
        Unit.index,
        Unit.kind,
        Unit.start,
        Unit.end,
        Unit.suggested_label,
        Unit.suggested_sources,
        Unit.suggestion_cues,
    )
    .where(Unit.article_id == bindparam("article_id", type_=Integer))
    .order_by(Unit.position)
)
_MENTIONS = (
    select(Mention.source_id, Source.name, Mention.start, Mention.end)
    .join(Source, Source.id == Mention.source_id)
    .where(Mention.article_id == bindparam("article_id", type_=Integer))
    .order_by(Mention.start, Mention.end)
)
_LABEL_ID = select(Label.id).where(
    Label.project_id == bindparam("project_id"), Label.name == bindparam("name")
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
            entry = found[unit_id] = _annotation_dict(
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


def article_view(session: Session, article: Article, annotator: User, viewer: User) -> dict:
    """The article with its units, the annotator's answers, suggestions and mentions.

    ``viewer`` is who asks: their own view is editable; a reviewer or admin
    looking at someone else's work gets it read-only. Anyone else asking for
    another person's answers is refused (blind annotation).
    """
    if viewer.id != annotator.id and not is_reviewer(viewer):
        raise PermissionError("only reviewers and admins see other people's annotations")
    # Column-only selects on the session's connection: the ORM's result layer
    # adds nothing here and costs more than the queries themselves.
    db = session.connection()
    project = db.execute(_PROJECT, {"project_id": article.project_id}).one()
    labels = db.execute(_LABELS, {"project_id": project.id}).all()
    units = db.execute(_UNITS, {"article_id": article.id}).all()
    annotations = _collect_annotations(
        db.execute(_ARTICLE_ANNOTATIONS, {"annotator_id": annotator.id, "article_id": article.id})
    )
    mentions = db.execute(_MENTIONS, {"article_id": article.id}).all()
    show_suggestions = project.suggestion_mode != "hidden"
    suggested: dict[int, dict[str, Any]] = {}
    if show_suggestions:
        wanted = {sid for *_, s_sources, _cues in units for sid in s_sources or ()}
        # One query for all suggested sources; the project filter drops ids a
        # merge or deletion left behind in the JSON lists.
        if wanted:
            for sid, name, kind in db.execute(
                _SOURCES, {"project_id": project.id, "ids": sorted(wanted)}
            ):
                suggested[sid] = {"id": sid, "name": name, "kind": kind}
    label_names = {label.name for label in labels}
    unit_dicts = []
    done = total = 0
    text = article.text
    # Tuples unpacked once per unit: this loop runs for every sentence of
    # every page load, and attribute access on result rows adds up.
    for unit_id, index, kind, start, end, s_label, s_sources, s_cues in units:
        annotation = suggestion = None
        if kind == "sentence":
            total += 1
            annotation = annotations.get(unit_id)
            done += annotation is not None
            if show_suggestions and (s_label or s_sources or s_cues):
                suggestion = {
                    "label": s_label if s_label in label_names else None,
                    "sources": [suggested[s] for s in s_sources or () if s in suggested],
                    "cues": [
                        {"kind": c["kind"], "text": c["text"], "start": c["start"], "end": c["end"]}
                        for c in s_cues or ()
                    ],
                }
        unit_dicts.append(
            {
                "id": unit_id,
                "index": index,
                "kind": kind,
                "start": start,
                "end": end,
                "text": text[start:end],
                "suggestion": suggestion,
                "annotation": annotation,
            }
        )
    next_id = next_article_for(session, annotator, project.id, after=article.id)
    return {
        "article": {
            "id": article.id,
            "title": article.title,
            "byline": article.byline,
            "dateline": article.dateline,
            "published": article.published,
            "url": article.url,
            "credits": list(article.credits or []),
            "project_id": project.id,
        },
        "project": {
            "id": project.id,
            "name": project.name,
            "suggestion_mode": project.suggestion_mode,
            "labels": [
                {"id": lid, "name": name, "key": key, "description": description}
                for lid, name, key, description in labels
            ],
        },
        "annotator": {"id": annotator.id, "username": annotator.username},
        "read_only": viewer.id != annotator.id,
        "units": unit_dicts,
        "mentions": [
            {"source_id": sid, "name": name, "start": start, "end": end}
            for sid, name, start, end in mentions
        ],
        "progress": {"done": done, "total": total},
        # The current article is where the user already is, not a "next" one.
        "next_article_id": next_id if next_id != article.id else None,
    }


def begin_write(session: Session) -> None:
    """End the caller's read transaction and, on SQLite, take the write lock first.

    In WAL mode a transaction that read and then writes fails at once with
    "database is locked" when another connection committed in between; a
    transaction that starts by writing waits for the lock (busy_timeout)
    instead, and everything it then reads is current. PostgreSQL needs none
    of this: its row locks and the conditional update do the work.
    """
    if wants_write():
        return  # the request's transaction began with the write lock (db.write_intent)
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE annotations SET version = version WHERE 0"))


@functools.cache
def _unit_lookup(role: str) -> Select[Any]:
    """The unit look-up of a save, built once per role with bound parameters.

    Building a select of this size costs SQLAlchemy more than running it, and
    a save is the hottest path of the app.
    """
    user_id = bindparam("user_id", type_=Integer)
    return (
        select(
            Unit.article_id,
            Article.project_id,
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


def _load_unit(
    session: Session, unit_id: int, user: User
) -> tuple[int, int, CurrentAnnotation | None, str | None]:
    """(article id, project id, the user's current annotation, its previous_text) or 404."""
    if not 1 <= unit_id <= MAX_ID:
        raise UnitNotFound(unit_id)
    rows = session.execute(_unit_lookup(user.role), {"unit_id": unit_id, "user_id": user.id}).all()
    if not rows:
        raise UnitNotFound(unit_id)
    article_id, project_id, ann_id, label_id, note, version, flagged, at, previous, _ = rows[0]
    if ann_id is None:
        return article_id, project_id, None, None
    sources = tuple(row[-1] for row in rows if row[-1] is not None)
    current = CurrentAnnotation(ann_id, label_id, sources, note, version, bool(flagged), at)
    return article_id, project_id, current, previous


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
    article_id, project_id, current, previous = _load_unit(session, unit_id, user)
    label_id = session.scalar(_LABEL_ID, {"project_id": project_id, "name": request.label})
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
        return {"annotation": stored, "progress": progress(session, article_id, user_id)}
    session.commit()
    annotation = _annotation_dict(
        request.label,
        sources,
        request.note,
        result.version,
        result.updated_at,
        False,
        previous if result.outcome == "unchanged" else None,
    )
    return {"annotation": annotation, "progress": progress(session, article_id, user_id)}


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
    article_id, _, _, _ = _load_unit(session, unit_id, user)
    begin_write(session)
    try:
        delete_annotation(session, unit_id, user_id, user_id, expected_version)
    except VersionConflict:
        raise AnnotationConflict(current_annotation(session, unit_id, user_id)) from None
    session.commit()
    return {"annotation": None, "progress": progress(session, article_id, user_id)}
