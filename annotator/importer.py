"""Import articles: parse, analyse attribution, store units, sources and suggestions.

Files are parsed first and stored in batches, each batch in one transaction: a
file that cannot be parsed is reported and never reaches the database, and a
crash never leaves a half-stored article behind. Batching (instead of a commit
per file) matters for durability settings like SQLite's synchronous=FULL, where
every commit costs an fsync.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.attribution import Analysis, FoundSource, analyse_article
from annotator.ingest.parsed import IngestError, ParsedArticle
from annotator.ingest.pipeline import parse_document
from annotator.models import NAME_MAX, Article, Mention, Project, Unit
from annotator.names import clean_name, name_problem
from annotator.postgres import bulk_insert
from annotator.registry import SourceIndex

SUPPORTED_SUFFIXES = (".txt", ".text", ".md", ".html", ".htm", ".json", ".jsonl")
# Units per transaction when importing many files: large enough to amortise the
# commit, small enough to keep a batch's parsed articles in memory.
BATCH_UNITS = 20_000
# Articles.origin is 1000 wide; a file name is far shorter on any real file system.
ORIGIN_MAX = 255
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(slots=True)
class ArticleResult:
    """What happened to one article of an import."""

    title: str
    units: int
    sentences: int
    sources: list[str] = field(default_factory=list)
    article_id: int | None = None
    duplicate_of: int | None = None  # set when the same text was already imported


@dataclass(slots=True)
class FileFailure:
    """A file that could not be imported, with a message for the user."""

    path: str
    message: str


def content_hash(text: str) -> str:
    """The SHA-256 of an article's canonical text, used to detect repeated imports."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def analyse_all(articles: Sequence[ParsedArticle]) -> list[Analysis]:
    """The attribution analysis of each article (pure CPU work, no database).

    Done before the write transaction begins, so SQLite's single write lock is
    not held while a large article is analysed (saves would wait for it).
    """
    return [analyse_article(parsed) for parsed in articles]


def store_articles(
    session: Session,
    project_id: int,
    articles: list[tuple[ParsedArticle, str | None]],
    *,
    registry: SourceIndex | None = None,
    analyses: Sequence[Analysis] | None = None,
) -> list[ArticleResult]:
    """Store parsed articles (with their origin) and their analysis; no commit.

    A text already in the project, or repeated within ``articles``, is reported
    as a duplicate and not stored again. ``analyses`` (one per article, from
    :func:`analyse_all`) lets a caller analyse before it takes the write lock.
    """
    registry = registry or SourceIndex(session, project_id)
    digests = [content_hash(parsed.text) for parsed, _ in articles]
    known: dict[str, int] = dict(
        session.execute(
            select(Article.content_hash, Article.id).where(
                Article.project_id == project_id, Article.content_hash.in_(set(digests))
            )
        ).all()
    )
    results: list[ArticleResult] = []
    new: list[tuple[int, ParsedArticle, Analysis, dict[str, int]]] = []
    rows: list[dict[str, object]] = []
    batch_first: dict[str, int] = {}
    for position, ((parsed, origin), digest) in enumerate(zip(articles, digests, strict=True)):
        sentences = sum(1 for unit in parsed.units if unit.kind == "sentence")
        result = ArticleResult(parsed.title or _first_words(parsed), len(parsed.units), sentences)
        results.append(result)
        if digest in known:
            result.duplicate_of = known[digest]
            continue
        if digest in batch_first:
            result.duplicate_of = -1 - batch_first[digest]  # resolved after the insert
            continue
        batch_first[digest] = position
        analysis = analyses[position] if analyses is not None else analyse_article(parsed)
        source_ids: dict[str, int] = {}
        for found in analysis.sources:
            source_id = _register(registry, found)
            if source_id is not None:
                source_ids[found.name] = source_id
                if clean_name(found.name) not in result.sources:
                    result.sources.append(clean_name(found.name))
        new.append((position, parsed, analysis, source_ids))
        rows.append(
            {
                "project_id": project_id,
                "title": result.title,
                "byline": parsed.byline,
                "dateline": parsed.dateline,
                "published": parsed.published,
                "url": parsed.url,
                "credits": list(parsed.credits),
                "text": parsed.text,
                "content_hash": digest,
                "origin": origin,
            }
        )
    if not rows:
        return results
    # One multi-row INSERT … RETURNING for the articles, in parameter order.
    ids = session.scalars(
        insert(Article).returning(Article.id, sort_by_parameter_order=True), rows
    ).all()
    unit_rows: list[dict[str, object]] = []
    mention_rows: list[dict[str, object]] = []
    for article_id, (position, parsed, analysis, source_ids) in zip(ids, new, strict=True):
        results[position].article_id = article_id
        unit_rows.extend(_unit_rows(article_id, parsed, analysis, source_ids))
        mention_rows.extend(
            {
                "article_id": article_id,
                "source_id": source_ids[mention.source],
                "start": mention.start,
                "end": mention.end,
            }
            for mention in analysis.mentions
            if mention.source in source_ids
        )
    for result in results:
        if result.duplicate_of is not None and result.duplicate_of < 0:
            result.duplicate_of = results[-1 - result.duplicate_of].article_id
    # Core (COPY on PostgreSQL) on the session's connection: the ORM's bulk
    # path costs more than the inserts themselves at this volume.
    connection = session.connection()
    bulk_insert(connection, Unit.__table__, unit_rows)
    bulk_insert(connection, Mention.__table__, mention_rows)
    return results


def _unit_rows(
    article_id: int, parsed: ParsedArticle, analysis: Analysis, source_ids: dict[str, int]
) -> Iterator[dict[str, object]]:
    index = 0
    for position, (unit, suggestion) in enumerate(
        zip(parsed.units, analysis.suggestions, strict=True)
    ):
        row: dict[str, object] = {
            "article_id": article_id,
            "position": position,
            "index": None,
            "kind": unit.kind,
            "start": unit.start,
            "end": unit.end,
            "suggested_label": None,
            "suggested_sources": [],
            "suggestion_cues": [],
        }
        if unit.kind == "sentence":
            row["index"] = index
            index += 1
        if suggestion is not None:
            row["suggested_label"] = suggestion.label
            ids = [source_ids[name] for name in suggestion.sources if name in source_ids]
            row["suggested_sources"] = list(dict.fromkeys(ids))
            row["suggestion_cues"] = [
                {"kind": cue.kind, "text": cue.text, "start": cue.start, "end": cue.end}
                for cue in suggestion.cues
            ]
        yield row


def _register(registry: SourceIndex, found: FoundSource) -> int | None:
    """The registry id of a source found in an article, or None if it cannot be one.

    Names are cut from the text, which may carry zero-width or bidi characters
    (they are data there); in the registry they would make look-alike entries, so
    they are dropped from the name and its aliases. A name still unusable (too
    long, say) is left out of the registry and of the suggestions.
    """
    name = clean_name(found.name)
    if name_problem(name, max_length=NAME_MAX):
        return None
    aliases = [clean_name(alias) for alias in found.aliases]
    return registry.ensure(name, found.kind, aliases, found.description)


def upload_origin(filename: str) -> str:
    """What an import records as an upload's origin: the file's base name, never a path.

    Only shown as text, but kept short and free of control characters so that every
    database stores it (PostgreSQL refuses NUL and over-long values).
    """
    base = re.split(r"[/\\]", filename)[-1]
    base = clean_name(_CONTROL.sub("", base))
    return base[-ORIGIN_MAX:] or "upload"


def _first_words(parsed: ParsedArticle, limit: int = 80) -> str:
    """A title for an untitled article: the start of its first sentence."""
    first = next((u for u in parsed.units if u.kind == "sentence"), None)
    if first is None:
        return "(untitled)"
    text = parsed.text[first.start : first.end]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """The files named by ``paths``, recursing into directories in sorted order.

    Inside directories only supported file types are taken; a file named
    explicitly is always tried, so an unsupported one gets a clear error.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        else:
            yield path


def read_file(path: Path, *, max_bytes: int | None = None) -> list[ParsedArticle]:
    """Read and parse every article in ``path``; IngestError says why it cannot be."""
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise IngestError(f"file is {size:,} bytes; the limit is {max_bytes:,}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError("no such file") from None
    except IsADirectoryError:
        raise IngestError("is a directory") from None
    except PermissionError:
        raise IngestError("permission denied") from None
    except OSError as error:
        raise IngestError(error.strerror or str(error)) from None
    return parse_document(data, path.name, max_bytes=max_bytes)


def import_paths(
    session: Session,
    project: Project,
    paths: Iterable[Path],
    *,
    max_bytes: int | None = None,
    on_result: Callable[[Path, ArticleResult], None] | None = None,
    on_failure: Callable[[FileFailure], None] | None = None,
    batch_units: int = BATCH_UNITS,
) -> tuple[list[ArticleResult], list[FileFailure]]:
    """Import many files, committing in batches; unreadable files do not stop the run."""
    project_id = project.id
    results: list[ArticleResult] = []
    failures: list[FileFailure] = []
    batch: list[tuple[Path, ParsedArticle]] = []
    batch_size = 0

    def flush() -> None:
        nonlocal batch, batch_size
        if not batch:
            return
        # Parse and analyse first, then read the registry and write in one short
        # transaction: the registry is read fresh for every batch, so names that
        # another import registered meanwhile are reused, not inserted twice.
        analyses = analyse_all([parsed for _, parsed in batch])
        try:
            stored = store_articles(
                session,
                project_id,
                [(parsed, path.name) for path, parsed in batch],
                analyses=analyses,
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        results.extend(stored)
        if on_result:
            for (path, _), result in zip(batch, stored, strict=True):
                on_result(path, result)
        batch, batch_size = [], 0

    for path in paths:
        try:
            articles = read_file(path, max_bytes=max_bytes)
        except IngestError as error:
            failure = FileFailure(str(path), str(error))
            failures.append(failure)
            if on_failure:
                on_failure(failure)
            continue
        batch.extend((path, parsed) for parsed in articles)
        batch_size += sum(len(parsed.units) for parsed in articles)
        if batch_size >= batch_units:
            flush()
    flush()
    return results, failures


def import_file(
    session: Session, project: Project, path: Path, *, max_bytes: int | None = None
) -> list[ArticleResult]:
    """Parse and store every article of one file in one transaction."""
    articles = read_file(path, max_bytes=max_bytes)
    analyses = analyse_all(articles)
    try:
        results = store_articles(
            session, project.id, [(parsed, path.name) for parsed in articles], analyses=analyses
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return results
