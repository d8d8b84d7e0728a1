"""The article view the annotation page and ``GET /api/v1/articles/<id>`` share.

A fixed number of statements whatever the article's length or the project's
size (built in ``article_queries.py``): on SQLite (1) the article with the
caller's right to open it, its project, the labels (one JSON aggregate) and the
annotator's next article, (2) the units with the annotator's answers and their
sources, (3) the mentions and suggested sources; on PostgreSQL the first
statement carries the other two as JSON aggregates, because there every
statement is a round trip to a server that shares the machine's cores, and
that, not Python, was most of the page's time. The page adds one statement for
the registry entries of the article's credits, when it has any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from annotator.access import is_reviewer
from annotator.annotating import annotation_dict
from annotator.article_queries import CREDITED, UNITS, head_query, sources_query
from annotator.models import (
    User,
)
from annotator.names import normalise_name


@dataclass(frozen=True, slots=True)
class LoadedArticle:
    """What the three statements read, before anyone shapes it (the API's view
    or the page's compact data)."""

    article: dict[str, Any]  # id, title, byline, dateline, published, url, credits, project_id
    project: dict[str, Any]  # id, name, suggestion_mode, labels (id, name, key, description)
    text: str
    # Units in reading order joined with the annotator's answer and its sources:
    # (unit id, index, kind, start, end, suggested label, suggested source ids,
    # cues, label, note, version, updated_at, flagged, previous_text, source id,
    # source name, source kind); a unit repeats once per source of its answer.
    rows: list[Any]
    mentions: list[dict[str, Any]]  # in text order
    show_suggestions: bool
    suggested: dict[int, dict[str, Any]]  # the suggested sources still in the project
    next_article_id: int | None
    credit_sources: list[dict[str, Any]] | None


def load_article(
    session: Session,
    article_id: int,
    annotator: User,
    viewer: User,
    *,
    with_credit_sources: bool = False,
    with_times: bool = True,
) -> LoadedArticle | None:
    """Read an article for ``annotator``'s view, or None when ``viewer`` may not open it.

    ``viewer`` is who asks: anyone but a reviewer or admin asking for another
    person's answers is refused (blind annotation). With
    ``with_credit_sources`` it also finds the registry entries the article's
    credits name (the page offers them in its source picker). Without
    ``with_times`` the rows may carry no ``updated_at`` (the page shows none;
    PostgreSQL then spares formatting it).
    """
    if viewer.id != annotator.id and not is_reviewer(viewer):
        raise PermissionError("only reviewers and admins see other people's annotations")
    # Column-only selects on the session's connection: the ORM's result layer
    # adds nothing here and costs more than the queries themselves.
    db = session.connection()
    dialect = db.dialect.name
    head = db.execute(
        head_query(dialect, viewer.role, is_reviewer(annotator), with_times),
        {"article_id": article_id, "viewer_id": viewer.id, "annotator_id": annotator.id},
    ).first()
    if head is None:
        return None
    (_, project_id, title, byline, dateline, published, url, credits, text) = head[:9]
    project_name, suggestion_mode, labels_json, next_id = head[9:13]
    labels = sorted(_json(labels_json))  # [position, id, name, key, description]
    show_suggestions = suggestion_mode != "hidden"
    if dialect == "postgresql":
        rows, mentions, suggested = _from_aggregates(project_id, *head[13:])
    else:
        rows = db.execute(UNITS, {"article_id": article_id, "annotator_id": annotator.id}).all()
        wanted = {sid for row in rows for sid in row[6] or ()} if show_suggestions else set()
        mentions, suggested = _sources(db, article_id, project_id, wanted)
    credit_sources = None
    if with_credit_sources:
        keys = _credit_keys(credits)
        credit_sources = _credited(db, project_id, keys) if keys else []
    return LoadedArticle(
        article={
            "id": article_id,
            "title": title,
            "byline": byline,
            "dateline": dateline,
            "published": published,
            "url": url,
            "credits": list(credits or []),
            "project_id": project_id,
        },
        project={
            "id": project_id,
            "name": project_name,
            "suggestion_mode": suggestion_mode,
            "labels": [
                {"id": lid, "name": name, "key": key, "description": description}
                for _, lid, name, key, description in labels
            ],
        },
        text=text,
        rows=rows,
        mentions=mentions,
        show_suggestions=show_suggestions,
        suggested=suggested,
        # The current article is where the user already is, not a "next" one.
        next_article_id=next_id if next_id != article_id else None,
        credit_sources=credit_sources,
    )


def article_view(
    session: Session, article_id: int, annotator: User, viewer: User
) -> dict[str, Any] | None:
    """The article with its units, the annotator's answers, suggestions and mentions
    (the annotation API's contract), or None when ``viewer`` may not open it.

    ``viewer`` is who asks: their own view is editable; a reviewer or admin
    looking at someone else's work gets it read-only; anyone else asking for
    another person's answers gets ``PermissionError`` (blind annotation).
    """
    loaded = load_article(session, article_id, annotator, viewer)
    if loaded is None:
        return None
    label_names = {label["name"] for label in loaded.project["labels"]}
    suggested, text = loaded.suggested, loaded.text
    units: list[dict[str, Any]] = []
    done = total = 0
    previous_id = None
    # Tuples unpacked once per row. A unit repeats once per source of its annotation.
    for row in loaded.rows:
        (unit_id, index, kind, start, end, s_label, s_sources, s_cues) = row[:8]
        (label, note, version, at, flagged, previous_text, sid, sname, skind) = row[8:]
        if unit_id == previous_id:
            units[-1]["annotation"]["sources"].append({"id": sid, "name": sname, "kind": skind})
            continue
        previous_id = unit_id
        annotation = suggestion = None
        if kind == "sentence":
            total += 1
            if label is not None:
                done += 1
                first = [] if sid is None else [{"id": sid, "name": sname, "kind": skind}]
                annotation = annotation_dict(
                    label, first, note, version, at, flagged, previous_text
                )
            if loaded.show_suggestions and (s_label or s_sources or s_cues):
                suggestion = {
                    "label": s_label if s_label in label_names else None,
                    # The project filter of the sources query drops ids a merge
                    # or deletion left behind in the JSON lists.
                    "sources": [suggested[s] for s in s_sources or () if s in suggested],
                    "cues": [
                        {"kind": c["kind"], "text": c["text"], "start": c["start"], "end": c["end"]}
                        for c in s_cues or ()
                    ],
                }
        units.append(
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
    return {
        "article": loaded.article,
        "project": loaded.project,
        "annotator": {"id": annotator.id, "username": annotator.username},
        "read_only": viewer.id != annotator.id,
        "units": units,
        "mentions": loaded.mentions,
        "progress": {"done": done, "total": total},
        "next_article_id": loaded.next_article_id,
    }


def _from_aggregates(
    project_id: int, units: Any, mentions: Any, suggested: Any
) -> tuple[list[Any], list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The rows, mentions and suggested sources out of PostgreSQL's JSON aggregates.

    Suggested ids of other projects' sources (left behind in the JSON lists by
    a merge or deletion) are dropped here.
    """
    rows = _json(units)
    for row in rows:
        if row[11] is not None:  # updated_at, as JSON text
            row[11] = datetime.fromisoformat(row[11])
    return (
        rows,
        [
            {"source_id": sid, "name": name, "start": start, "end": end}
            for sid, name, start, end in _json(mentions)
        ],
        {
            sid: {"id": sid, "name": name, "kind": kind}
            for sid, name, kind, owner in _json(suggested)
            if owner == project_id
        },
    )


def _json(value: Any) -> list[Any]:
    # SQLite hands the aggregate back as text, psycopg as a decoded list.
    return orjson.loads(value) if isinstance(value, str | bytes) else list(value or [])


def _credit_keys(credits: Any) -> list[str]:
    return [normalise_name(c) for c in credits or [] if isinstance(c, str) and c.strip()]


def _credited(db: Any, project_id: int, keys: list[str]) -> list[dict[str, Any]]:
    """The registry entries the credits' keys name, in the credits' order, each once.

    A source's own name beats another source's alias. Only articles with
    credits pay for this statement.
    """
    found: dict[str, dict[str, Any]] = {}
    params = {"project_id": project_id, "keys": list(dict.fromkeys(keys))}
    for _by_alias, sid, name, kind, key in sorted(db.execute(CREDITED, params).all()):
        found.setdefault(key, {"id": sid, "name": name, "kind": kind})
    offered = {found[k]["id"]: found[k] for k in keys if k in found}
    return list(offered.values())


def _sources(
    db: Any, article_id: int, project_id: int, wanted: set[int]
) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """(mentions in text order, suggested sources by id)."""
    ids: Any = sorted(wanted)
    if db.dialect.name != "postgresql":
        ids = orjson.dumps(ids).decode()
    params = {"article_id": article_id, "project_id": project_id, "ids": ids}
    mentions: list[tuple[int, int, int, str]] = []
    suggested: dict[int, dict[str, Any]] = {}
    rows = db.execute(sources_query(db.dialect.name), params).all()
    for what, sid, name, kind, start, end in rows:
        if what == "m":
            mentions.append((start, end, sid, name))
        else:
            suggested[sid] = {"id": sid, "name": name, "kind": kind}
    mentions.sort()
    return (
        [
            {"source_id": sid, "name": name, "start": start, "end": end}
            for start, end, sid, name in mentions
        ],
        suggested,
    )
