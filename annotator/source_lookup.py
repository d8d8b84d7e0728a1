"""Finding and adding sources while annotating: the source picker's search and inline create.

Matching compares normalised keys (``annotator.names.normalise_name``: NFKC,
no invisible characters, case-folded), so "kcna", "ＫＣＮＡ" and "KCNA" find the
same entry; LIKE wildcards typed by the user are escaped and match literally.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotator.annotating import begin_write
from annotator.models import NAME_MAX, SOURCE_KINDS, AnnotationSource, Source, SourceAlias
from annotator.names import clean_name, name_problem, normalise_name
from annotator.registry import RegistryError

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# Control characters cannot be part of any stored key (and PostgreSQL refuses
# NUL in a parameter), so a query is searched without them.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def source_dicts(session: Session, rows: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """(id, name, kind) rows as API dicts with their aliases, in the given order (one query)."""
    aliases: dict[int, list[str]] = {sid: [] for sid, _, _ in rows}
    if rows:
        for sid, alias in session.execute(
            select(SourceAlias.source_id, SourceAlias.alias)
            .where(SourceAlias.source_id.in_(list(aliases)))
            .order_by(SourceAlias.id)
        ):
            aliases[sid].append(alias)
    return [
        {"id": sid, "name": name, "kind": kind, "aliases": aliases[sid]} for sid, name, kind in rows
    ]


def search_sources(
    session: Session, project_id: int, query: str = "", limit: int = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """The project's sources whose name or alias contains ``query``, best matches first.

    Order: exact name, name prefix, name infix, alias prefix, alias infix, then
    by name. Without a query: the sources used most in the project's annotations.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    key = normalise_name(_CONTROL.sub("", query))
    if not key:
        return source_dicts(session, _most_used(session, project_id, limit))
    by_name = select(
        Source.id.label("source_id"),
        case(
            (Source.name_key == key, 0),
            (Source.name_key.startswith(key, autoescape=True), 1),
            else_=2,
        ).label("rank"),
    ).where(Source.project_id == project_id, Source.name_key.contains(key, autoescape=True))
    by_alias = select(
        SourceAlias.source_id.label("source_id"),
        case((SourceAlias.alias_key.startswith(key, autoescape=True), 3), else_=4).label("rank"),
    ).where(
        SourceAlias.project_id == project_id,
        SourceAlias.alias_key.contains(key, autoescape=True),
    )
    matches = union_all(by_name, by_alias).subquery()
    best = (
        select(matches.c.source_id, func.min(matches.c.rank).label("rank"))
        .group_by(matches.c.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Source.id, Source.name, Source.kind)
        .join(best, best.c.source_id == Source.id)
        .order_by(best.c.rank, Source.name_key, Source.id)
        .limit(limit)
    ).all()
    return source_dicts(session, [tuple(row) for row in rows])


def _most_used(session: Session, project_id: int, limit: int) -> list[tuple[int, str, str]]:
    uses = (
        select(AnnotationSource.source_id, func.count().label("uses"))
        .join(Source, Source.id == AnnotationSource.source_id)
        .where(Source.project_id == project_id)
        .group_by(AnnotationSource.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Source.id, Source.name, Source.kind)
        .outerjoin(uses, uses.c.source_id == Source.id)
        .where(Source.project_id == project_id)
        .order_by(func.coalesce(uses.c.uses, literal(0)).desc(), Source.name_key, Source.id)
        .limit(limit)
    ).all()
    return [tuple(row) for row in rows]


def _existing(session: Session, project_id: int, key: str) -> tuple[int, str, str] | None:
    """The source whose name or alias has ``key``, if any (one query)."""
    named = select(Source.id).where(Source.project_id == project_id, Source.name_key == key)
    aliased = select(SourceAlias.source_id).where(
        SourceAlias.project_id == project_id, SourceAlias.alias_key == key
    )
    row = session.execute(
        select(Source.id, Source.name, Source.kind)
        .where(Source.id.in_(named.union(aliased)))
        .order_by(Source.id)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def create_source(
    session: Session, project_id: int, name: str, kind: str
) -> tuple[dict[str, Any], bool]:
    """The source ``name`` names in the project, created with ``kind`` if none does.

    Returns (source dict, created). Raises ``RegistryError`` for a bad name or
    kind. An existing source is returned as it is (its kind is not changed).
    Like the annotation save, it starts its own write transaction (see
    ``annotating.begin_write``); the caller commits.
    """
    problem = name_problem(name, max_length=NAME_MAX)
    if problem:
        raise RegistryError(f"source name {problem}")
    if kind not in SOURCE_KINDS:
        raise RegistryError(f"source kind must be one of {', '.join(SOURCE_KINDS)}")
    key = normalise_name(name)
    begin_write(session)
    found = _existing(session, project_id, key)
    if found is not None:
        return source_dicts(session, [found])[0], False
    source = Source(project_id=project_id, name=clean_name(name), name_key=key, kind=kind)
    try:
        # The same fields SourceIndex.ensure writes; a savepoint so that a
        # concurrent create of the same name leaves the session usable.
        with session.begin_nested():
            session.add(source)
    except IntegrityError:
        # Someone added the same name at the same moment: theirs is the answer.
        found = _existing(session, project_id, key)
        if found is None:
            raise
        return source_dicts(session, [found])[0], False
    return {"id": source.id, "name": source.name, "kind": kind, "aliases": []}, True
