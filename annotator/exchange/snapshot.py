"""Read side of the export: one consistent snapshot, streamed per article.

Every per-row stream (mentions, units with gold, annotations with sources) is
one Core select ordered by article, so the exporter merges them with the
article stream in a single pass: the number of queries is fixed per project
and memory holds one article's rows at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from annotator.exchange.times import timestamp_reader
from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    GoldSource,
    Label,
    Mention,
    Project,
    Source,
    SourceAlias,
    Unit,
    User,
)

# Rows fetched per round trip; large enough to amortise driver overhead, small
# enough that a PostgreSQL server-side cursor keeps memory flat. Article rows
# carry whole texts, so they come in much smaller batches.
YIELD_PER = 5000
ARTICLES_PER_FETCH = 20
# Units per query on PostgreSQL: about 135 articles and 45,000 annotation rows in
# the benchmark. Measured on the 1M database: 10,000 took 10.7 s at 120 MB peak,
# 15,000 9.4 s at 135 MB, 30,000 8.4 s at 178 MB. A single article above twice
# this streams through a server-side cursor instead.
UNITS_PER_RANGE = 15_000


@dataclass(slots=True)
class ProjectMeta:
    """A project's header: settings, labels and source registry, with id -> name maps."""

    id: int
    name: str
    description: str
    suggestion_mode: str
    labels: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    label_names: dict[int, str] = field(default_factory=dict)
    source_names: dict[int, str] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        """The project object of the export without its articles."""
        return {
            "name": self.name,
            "description": self.description,
            "suggestion_mode": self.suggestion_mode,
            "labels": self.labels,
            "sources": self.sources,
        }


def begin_snapshot(session: Session) -> bool:
    """Start the read transaction (REPEATABLE READ on PostgreSQL); True if we started it.

    On SQLite (WAL) a transaction sees the database as of its first read, so
    every query of the export sees the same state.
    """
    if session.in_transaction():
        return False
    options: dict[str, Any] = {}
    if session.get_bind().dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    session.connection(execution_options=options)
    return True


def _stream(session: Session, statement: Any, batch: int = YIELD_PER) -> Iterator[Any]:
    """Rows of ``statement`` in the session's transaction, fetched ``batch`` at a time."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite steps through a statement lazily, so fetchmany already
        # streams; reading its plain tuples skips SQLAlchemy's Row building,
        # about two seconds per million rows. The statement still goes through
        # SQLAlchemy (compiled, cached, seen by event listeners).
        return _fetch(connection.execute(statement).cursor, batch)
    # PostgreSQL: a server-side cursor, so the client holds one batch at a time.
    options = {"yield_per": batch, "stream_results": True}
    return iter(connection.execute(statement, execution_options=options))


def _fetch(cursor: Any, batch: int) -> Iterator[Any]:
    try:
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def load_projects(session: Session, names: Sequence[str] | None) -> list[ProjectMeta]:
    """The projects to export (all, or those named), ordered by name, with labels and sources."""
    query = select(Project.id, Project.name, Project.description, Project.suggestion_mode)
    if names is not None:
        query = query.where(Project.name.in_(list(names)))
    projects = [ProjectMeta(*row) for row in session.execute(query.order_by(Project.name))]
    if not projects:
        return projects
    by_id = {project.id: project for project in projects}
    ids = list(by_id)
    labels = select(Label.project_id, Label.id, Label.name, Label.key, Label.description)
    for project_id, label_id, name, key, description in session.execute(
        labels.where(Label.project_id.in_(ids)).order_by(Label.project_id, Label.position)
    ):
        project = by_id[project_id]
        project.labels.append({"name": name, "key": key, "description": description})
        project.label_names[label_id] = name
    aliases: dict[int, list[str]] = {}
    for source_id, alias in session.execute(
        select(SourceAlias.source_id, SourceAlias.alias)
        .where(SourceAlias.project_id.in_(ids))
        .order_by(SourceAlias.id)
    ):
        aliases.setdefault(source_id, []).append(alias)
    sources = select(Source.project_id, Source.id, Source.name, Source.kind, Source.description)
    for project_id, source_id, name, kind, description in session.execute(
        sources.where(Source.project_id.in_(ids)).order_by(Source.name_key, Source.id)
    ):
        project = by_id[project_id]
        project.sources.append(
            {
                "name": name,
                "kind": kind,
                "aliases": aliases.get(source_id, []),
                "description": description,
            }
        )
        project.source_names[source_id] = name
    return projects


def load_usernames(session: Session) -> dict[int, str]:
    """Every user's id mapped to the user name (annotators and reviewers)."""
    return dict(session.execute(select(User.id, User.username)).all())


def count_totals(session: Session, project_ids: list[int]) -> dict[str, int]:
    """The ``counts`` object of the export for these projects."""
    if not project_ids:
        return {"projects": 0, "articles": 0, "units": 0, "annotations": 0, "gold": 0}
    in_projects = Article.project_id.in_(project_ids)
    articles = select(func.count(Article.id)).where(in_projects)
    units = select(func.count(Unit.id)).join(Article, Article.id == Unit.article_id)
    annotations = (
        select(func.count(Annotation.id))
        .join(Unit, Unit.id == Annotation.unit_id)
        .join(Article, Article.id == Unit.article_id)
    )
    gold = (
        select(func.count(Gold.id))
        .join(Unit, Unit.id == Gold.unit_id)
        .join(Article, Article.id == Unit.article_id)
    )
    return {
        "projects": len(project_ids),
        "articles": session.scalar(articles) or 0,
        "units": session.scalar(units.where(in_projects)) or 0,
        "annotations": session.scalar(annotations.where(in_projects)) or 0,
        "gold": session.scalar(gold.where(in_projects)) or 0,
    }


def json_list(value: Any) -> list[Any]:
    """A JSON list column read as text (or already decoded by the driver) as a list."""
    # JSON columns are read as text (skipping the generic JSON processor) and
    # decoded by orjson only when not empty.
    if not value or value == "[]" or value == "null":
        return []
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return list(value)


def json_fragment(value: Any) -> Any:
    """A JSON list column read as text, embedded in the output without decoding it."""
    if not value or value == "[]" or value == "null":
        return []
    if isinstance(value, str | bytes):
        return orjson.Fragment(value)
    return list(value)


def _grouped(rows: Iterable[Any]) -> Iterator[tuple[int, list[Any]]]:
    for key, group in groupby(rows, itemgetter(0)):
        yield key, list(group)


class ArticleStream:
    """Articles of one project with their mentions, units, gold and annotations."""

    def __init__(self, session: Session, project: ProjectMeta) -> None:
        self.session = session
        self.project = project
        wrap, self.timestamp = timestamp_reader(session.get_bind().dialect.name)
        in_project = Article.project_id == project.id
        # "article_id IN (subquery)" rather than a join: it lets SQLite walk the
        # (article_id, position) index in order instead of sorting every row
        # in a temporary B-tree (seconds and a hundred MB at a million rows).
        project_articles = select(Article.id).where(in_project).scalar_subquery()
        rows = self._rows_by_range(in_project)
        self.articles = _stream(
            session,
            select(
                Article.id,
                Article.title,
                Article.byline,
                Article.dateline,
                Article.published,
                Article.url,
                cast(Article.credits, Text),
                Article.text,
                Article.content_hash,
            )
            .where(in_project)
            .order_by(Article.id),
            ARTICLES_PER_FETCH,
        )
        self.mentions = _grouped(
            rows(
                select(Mention.article_id, Mention.source_id, Mention.start, Mention.end)
                .where(Mention.article_id.in_(project_articles))
                .order_by(Mention.article_id, Mention.start, Mention.end),
                Mention.article_id,
            )
        )
        self.units = _grouped(
            rows(
                select(
                    Unit.article_id,
                    Unit.id,
                    Unit.index,
                    Unit.kind,
                    Unit.start,
                    Unit.end,
                    Unit.suggested_label,
                    cast(Unit.suggested_sources, Text),
                    cast(Unit.suggestion_cues, Text),
                    Gold.id,
                    Gold.label_id,
                    Gold.provenance,
                    Gold.reviewer_id,
                    Gold.rationale,
                    Gold.error_category,
                    wrap(Gold.decided_at),
                    GoldSource.source_id,
                )
                .outerjoin(Gold, Gold.unit_id == Unit.id)
                .outerjoin(GoldSource, GoldSource.gold_id == Gold.id)
                .where(Unit.article_id.in_(project_articles))
                .order_by(Unit.article_id, Unit.position, GoldSource.position),
                Unit.article_id,
                Unit.id,
            )
        )
        self.annotations = _grouped(
            rows(
                select(
                    Unit.article_id,
                    Annotation.unit_id,
                    Annotation.id,
                    Annotation.annotator_id,
                    Annotation.label_id,
                    Annotation.note,
                    Annotation.version,
                    Annotation.seconds_spent,
                    wrap(Annotation.created_at),
                    wrap(Annotation.updated_at),
                    AnnotationSource.source_id,
                )
                .select_from(Unit)
                .join(Annotation, Annotation.unit_id == Unit.id)
                .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
                .where(Unit.article_id.in_(project_articles))
                # annotator_id (not the name) so the (unit_id, annotator_id)
                # index gives the order; names are sorted per unit in Python.
                .order_by(
                    Unit.article_id,
                    Unit.position,
                    Annotation.annotator_id,
                    AnnotationSource.position,
                ),
                Unit.article_id,
                Annotation.unit_id,
            )
        )

    def _rows_by_range(self, in_project: Any) -> Callable[..., Iterator[Any]]:
        """How the per-row streams read: whole on SQLite, by ranges of articles on PostgreSQL.

        SQLite walks its indexes in order and streams lazily. PostgreSQL sorted
        each stream of the whole project in one go (1.4 million annotation rows
        spilled to disk), and a server-side cursor rules out parallel workers.
        So ranges of articles of about ``UNITS_PER_RANGE`` units are read whole
        (a small sort in memory, parallel workers allowed; memory bounded by the
        range), and only an article too large for that streams through a
        server-side cursor; all in the same REPEATABLE READ snapshot. The
        range's unit ids bound the joins too, or the planner scanned every
        annotation of the database for each range. The number of statements
        grows with the project by one per stream and range.
        """
        session = self.session
        if session.get_bind().dialect.name != "postgresql":
            return lambda statement, _article_id, _unit_id=None: _stream(session, statement)
        ids = session.scalars(select(Article.id).where(in_project).order_by(Article.id)).all()
        units = {
            article: (first, last, count)
            for article, first, last, count in session.execute(
                select(Unit.article_id, func.min(Unit.id), func.max(Unit.id), func.count())
                .where(Unit.article_id.in_(select(Article.id).where(in_project)))
                .group_by(Unit.article_id)
            )
        }
        ranges: list[tuple[dict[str, int], bool]] = []
        chunk: list[int] = []
        size = 0
        for position, article in enumerate(ids):
            chunk.append(article)
            size += units.get(article, (0, 0, 0))[2]
            if size >= UNITS_PER_RANGE or position == len(ids) - 1:
                bounds = [units[a][:2] for a in chunk if a in units] or [(0, -1)]  # -1: none
                params = {
                    "first": chunk[0],
                    "last": chunk[-1],
                    "first_unit": min(first for first, _ in bounds),
                    "last_unit": max(last for _, last in bounds),
                }
                ranges.append((params, size > 2 * UNITS_PER_RANGE))
                chunk, size = [], 0

        def by_range(statement: Any, article_id: Any, unit_id: Any = None) -> Iterator[Any]:
            ranged = statement.where(article_id.between(bindparam("first"), bindparam("last")))
            if unit_id is not None:
                ranged = ranged.where(
                    unit_id.between(bindparam("first_unit"), bindparam("last_unit"))
                )
            connection = session.connection()
            for params, huge in ranges:
                if huge:
                    options = {"stream_results": True, "yield_per": YIELD_PER}
                    yield from connection.execute(ranged, params, execution_options=options)
                    continue
                result = connection.execute(ranged, params)
                # Plain tuples, read as on SQLite (timestamps and JSON come as text
                # from the SQL): no SQLAlchemy Row for 1.8 million rows.
                yield from _fetch(result.cursor, YIELD_PER)

        return by_range

    def __iter__(
        self,
    ) -> Iterator[tuple[Any, list[Any], list[Any], list[Any]]]:
        """Yield (article row, mention rows, unit rows, annotation rows) per article."""
        pending = {"m": next(self.mentions, None), "u": next(self.units, None)}
        pending["a"] = next(self.annotations, None)
        streams = {"m": self.mentions, "u": self.units, "a": self.annotations}
        for article in self.articles:
            found: dict[str, list[Any]] = {}
            for key, stream in streams.items():
                group = pending[key]
                if group is not None and group[0] == article[0]:
                    found[key] = group[1]
                    pending[key] = next(stream, None)
                else:
                    found[key] = []
            yield article, found["m"], found["u"], found["a"]
