"""Tiny test-data builders for the exchange tests (add, flush, return) and a session helper."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from annotator.db import make_engine
from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    GoldSource,
    Mention,
    Project,
    Unit,
    User,
)
from annotator.projects import get_or_create_project, label_ids
from annotator.registry import SourceIndex
from annotator.schema import ensure_schema
from annotator.users import create_user

PG_URL = os.environ.get("ANNOTATOR_TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL,
            reason="PostgreSQL variant: set ANNOTATOR_TEST_DATABASE_URL "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run it",
        ),
    ),
]
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@contextmanager
def open_session(backend: str, tmp_path: Path) -> Iterator[Session]:
    """A session on a fresh database: an SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        ensure_schema(engine)
        with Session(engine) as session:
            yield session
        engine.dispose()
        return
    assert PG_URL is not None
    schema = f"annotator_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        ensure_schema(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_project(session: Session, name: str = "news") -> Project:
    """A project with the default labels."""
    return get_or_create_project(session, name)[0]


def make_source(
    session: Session, project: Project, name: str, kind: str, aliases: Sequence[str] = ()
) -> int:
    """A registry entry; returns its id."""
    source_id = SourceIndex(session, project.id).ensure(name, kind, aliases)
    session.flush()
    return source_id


def make_user(session: Session, name: str, role: str = "annotator") -> User:
    """A user without a password."""
    return create_user(session, name, role=role)


def make_article(
    session: Session,
    project: Project,
    text_: str,
    spans: Sequence[tuple[str, int, int]],
    *,
    title: str = "A title",
    credits: Sequence[str] = (),
) -> tuple[Article, list[Unit]]:
    """An article with units given as (kind, start, end); sentences get indexes in order."""
    article = Article(
        project_id=project.id,
        title=title,
        text=text_,
        credits=list(credits),
        content_hash=hashlib.sha256(text_.encode("utf-8")).hexdigest(),
        created_at=T0,
    )
    session.add(article)
    session.flush()
    units, index = [], 0
    for position, (kind, start, end) in enumerate(spans):
        unit = Unit(
            article_id=article.id,
            position=position,
            index=index if kind == "sentence" else None,
            kind=kind,
            start=start,
            end=end,
        )
        index += kind == "sentence"
        units.append(unit)
    session.add_all(units)
    session.flush()
    return article, units


def make_mention(session: Session, article: Article, source_id: int, start: int, end: int) -> None:
    """A highlighted occurrence of a source in an article."""
    session.add(Mention(article_id=article.id, source_id=source_id, start=start, end=end))
    session.flush()


def make_annotation(
    session: Session,
    unit: Unit,
    user: User,
    label: str,
    source_ids: Sequence[int] = (),
    *,
    note: str = "",
    version: int = 1,
    seconds: float = 0.0,
    at: datetime = T0,
) -> Annotation:
    """An annotation with ordered sources and fixed timestamps."""
    project_id = session.get(Article, unit.article_id).project_id  # type: ignore[union-attr]
    annotation = Annotation(
        unit_id=unit.id,
        annotator_id=user.id,
        label_id=label_ids(session, project_id)[label],
        note=note,
        version=version,
        seconds_spent=seconds,
        created_at=at,
        updated_at=at,
    )
    annotation.sources = [
        AnnotationSource(position=i, source_id=s) for i, s in enumerate(source_ids)
    ]
    session.add(annotation)
    session.flush()
    return annotation


def make_gold(
    session: Session,
    unit: Unit,
    label: str | None,
    source_ids: Sequence[int] = (),
    *,
    provenance: str = "adjudicated",
    reviewer: User | None = None,
    rationale: str = "",
    at: datetime = T0,
) -> Gold:
    """A gold decision for a unit."""
    project_id = session.get(Article, unit.article_id).project_id  # type: ignore[union-attr]
    gold = Gold(
        unit_id=unit.id,
        label_id=label_ids(session, project_id)[label] if label else None,
        provenance=provenance,
        reviewer_id=reviewer.id if reviewer else None,
        rationale=rationale,
        decided_at=at,
    )
    gold.sources = [GoldSource(position=i, source_id=s) for i, s in enumerate(source_ids)]
    session.add(gold)
    session.flush()
    return gold


# The small known dataset: a title and three sentences; ann1 and ann2 annotate.
SMALL_TEXT = (
    "Koh warns\n"
    "KCNA said the launch succeeded. "
    '"It may fail," Koh Yu-hwan told AP. '
    "Talks could resume."
)


def build_small(session: Session) -> dict[str, object]:
    """The hand-checked dataset used for exact JSONL and CSV expectations."""
    project = make_project(session)
    kcna = make_source(session, project, "KCNA", "news_agency", ["Korean Central News Agency"])
    ap = make_source(session, project, "AP", "news_agency", ["Associated Press"])
    koh = make_source(session, project, "Koh Yu-hwan", "person")
    s1 = SMALL_TEXT.index("KCNA said")
    s2 = SMALL_TEXT.index('"It may')
    s3 = SMALL_TEXT.index("Talks")
    spans = [
        ("title", 0, 9),
        ("sentence", s1, s2 - 1),
        ("sentence", s2, s3 - 1),
        ("sentence", s3, len(SMALL_TEXT)),
    ]
    article, units = make_article(
        session, project, SMALL_TEXT, spans, title="Koh warns", credits=["AP"]
    )
    make_mention(session, article, kcna, s1, s1 + 4)
    ann1, ann2 = make_user(session, "ann1"), make_user(session, "ann2")
    boss = make_user(session, "boss", role="reviewer")
    make_annotation(session, units[1], ann1, "reported_fact", [kcna], seconds=2.5)
    make_annotation(session, units[1], ann2, "reported_fact", [kcna, ap], note="via AP?")
    make_annotation(session, units[2], ann1, "quote", [koh, ap], version=2)
    make_annotation(session, units[2], ann2, "speculation", [])
    make_gold(session, units[2], "quote", [koh, ap], reviewer=boss, rationale="quotation marks")
    return {"project": project, "article": article, "units": units, "sources": (kcna, ap, koh)}
