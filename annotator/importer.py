"""Import articles: parse, analyse attribution, store units, sources and suggestions.

Each file is stored in one transaction, so a crash or a bad file never leaves a
half-imported article behind; other files of the same run are unaffected.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.attribution import Analysis, analyse_article
from annotator.ingest.parsed import IngestError, ParsedArticle
from annotator.ingest.pipeline import parse_document
from annotator.models import Article, Mention, Project, Unit
from annotator.registry import SourceIndex

SUPPORTED_SUFFIXES = (".txt", ".text", ".md", ".html", ".htm", ".json", ".jsonl")


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


def store_article(
    session: Session,
    project: Project,
    parsed: ParsedArticle,
    *,
    origin: str | None = None,
    registry: SourceIndex | None = None,
) -> ArticleResult:
    """Store one parsed article with its units, sources, mentions and suggestions.

    A text already imported into the project is reported, not stored again.
    """
    digest = content_hash(parsed.text)
    sentences = sum(1 for unit in parsed.units if unit.kind == "sentence")
    title = parsed.title or _first_words(parsed)
    existing = session.scalar(
        select(Article.id).where(Article.project_id == project.id, Article.content_hash == digest)
    )
    if existing is not None:
        return ArticleResult(title, len(parsed.units), sentences, duplicate_of=existing)

    analysis = analyse_article(parsed)
    registry = registry or SourceIndex(session, project.id)
    source_ids = {
        found.name: registry.ensure(found.name, found.kind, found.aliases, found.description)
        for found in analysis.sources
    }
    article = Article(
        project_id=project.id,
        title=title,
        byline=parsed.byline,
        dateline=parsed.dateline,
        published=parsed.published,
        url=parsed.url,
        credits=list(parsed.credits),
        text=parsed.text,
        content_hash=digest,
        origin=origin,
    )
    session.add(article)
    session.flush()
    _insert_units(session, article.id, parsed, analysis, source_ids)
    _insert_mentions(session, article.id, analysis, source_ids)
    return ArticleResult(
        title,
        len(parsed.units),
        sentences,
        sources=[found.name for found in analysis.sources],
        article_id=article.id,
    )


def _insert_units(
    session: Session,
    article_id: int,
    parsed: ParsedArticle,
    analysis: Analysis,
    source_ids: dict[str, int],
) -> None:
    rows = []
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
            row["suggested_sources"] = [source_ids[name] for name in suggestion.sources]
            row["suggestion_cues"] = [
                {"kind": cue.kind, "text": cue.text, "start": cue.start, "end": cue.end}
                for cue in suggestion.cues
            ]
        rows.append(row)
    if rows:
        # One executemany instead of one INSERT per unit: the bulk of import time.
        session.execute(insert(Unit), rows)


def _insert_mentions(
    session: Session, article_id: int, analysis: Analysis, source_ids: dict[str, int]
) -> None:
    rows = [
        {
            "article_id": article_id,
            "source_id": source_ids[mention.source],
            "start": mention.start,
            "end": mention.end,
        }
        for mention in analysis.mentions
        if mention.source in source_ids
    ]
    if rows:
        session.execute(insert(Mention), rows)


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


def import_file(
    session: Session,
    project: Project,
    path: Path,
    *,
    max_bytes: int | None = None,
    registry: SourceIndex | None = None,
) -> list[ArticleResult]:
    """Parse and store every article in ``path`` in one transaction.

    Raises IngestError (nothing stored) when the file cannot be read or parsed.
    """
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
    articles = parse_document(data, path.name, max_bytes=max_bytes)
    try:
        results = [
            store_article(session, project, parsed, origin=path.name, registry=registry)
            for parsed in articles
        ]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return results


def import_paths(
    session: Session,
    project: Project,
    paths: Iterable[Path],
    *,
    max_bytes: int | None = None,
    on_result: Callable[[Path, ArticleResult], None] | None = None,
    on_failure: Callable[[FileFailure], None] | None = None,
) -> tuple[list[ArticleResult], list[FileFailure]]:
    """Import many files, each in its own transaction; failures do not stop the run."""
    results: list[ArticleResult] = []
    failures: list[FileFailure] = []
    registry = SourceIndex(session, project.id)
    for path in paths:
        try:
            file_results = import_file(
                session, project, path, max_bytes=max_bytes, registry=registry
            )
        except IngestError as error:
            failure = FileFailure(str(path), str(error))
            failures.append(failure)
            # The rollback discarded sources this file added to the registry.
            registry = SourceIndex(session, project.id)
            if on_failure:
                on_failure(failure)
            continue
        results.extend(file_results)
        if on_result:
            for result in file_results:
                on_result(path, result)
    return results, failures
