"""Project administration for the pages and the API: create, settings, imports (no Flask)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from annotator.annotating import begin_write
from annotator.importer import ArticleResult, analyse_all, store_articles
from annotator.ingest import ParsedArticle, parse_document, parse_text
from annotator.models import SUGGESTION_MODES, Project
from annotator.names import clean_name
from annotator.projects import ProjectError, get_or_create_project, get_project_by_name

DESCRIPTION_MAX = 5000
ANNOTATORS_PER_ARTICLE_MAX = 100


def create_project(session: Session, name: str, description: str = "") -> Project:
    """A new project with the default labels; ProjectError when the name is taken. No commit."""
    if get_project_by_name(session, name) is not None:
        raise ProjectError(f"a project called {clean_name(name)!r} already exists")
    project, _ = get_or_create_project(session, name)
    project.description = description.strip()
    session.flush()
    return project


def update_settings(
    session: Session,
    project: Project,
    *,
    suggestion_mode: str,
    annotators_per_article: int | None,
    description: str,
) -> None:
    """Change the project's suggestion mode, annotators per article and description."""
    if suggestion_mode not in SUGGESTION_MODES:
        raise ProjectError(f"suggestion mode must be one of {', '.join(SUGGESTION_MODES)}")
    if annotators_per_article is not None and not (
        1 <= annotators_per_article <= ANNOTATORS_PER_ARTICLE_MAX
    ):
        raise ProjectError(
            f"annotators per article must be between 1 and {ANNOTATORS_PER_ARTICLE_MAX}"
        )
    if len(description) > DESCRIPTION_MAX:
        raise ProjectError(f"description must be at most {DESCRIPTION_MAX} characters")
    project.suggestion_mode = suggestion_mode
    project.annotators_per_article = annotators_per_article
    project.description = description.strip()
    session.flush()


def import_upload(
    session: Session, project_id: int, data: bytes, filename: str, *, max_bytes: int
) -> list[ArticleResult]:
    """Parse an uploaded file and store its articles; IngestError says why not. No commit."""
    articles = parse_document(data, filename, max_bytes=max_bytes)
    analyses = analyse_all(articles)
    begin_write(session)  # parsed and analysed without holding the write lock
    return store_articles(
        session, project_id, [(parsed, filename) for parsed in articles], analyses=analyses
    )


def import_parsed(
    session: Session, project_id: int, parsed: ParsedArticle, origin: str | None = None
) -> ArticleResult:
    """Store one parsed article (pasted text, an API call). No commit."""
    analyses = analyse_all([parsed])
    begin_write(session)  # analysed without holding the write lock
    [result] = store_articles(session, project_id, [(parsed, origin)], analyses=analyses)
    return result


def import_pasted(
    session: Session, project_id: int, text: str, title: str | None = None
) -> ArticleResult:
    """Parse pasted text (with an optional title) and store it. No commit."""
    return import_parsed(session, project_id, parse_text(text, title=title or None), "pasted")


def describe_result(result: ArticleResult) -> str:
    """One line for the user about one imported article."""
    # The title and source names come from the article: wrapped in FSI … PDI (the
    # plain-text <bdi>), right-to-left text or a stray U+202E in them cannot reorder
    # the rest of the message.
    title = _isolate(result.title)
    if result.duplicate_of is not None:
        return (
            f"“{title}” is already in the project (article {result.duplicate_of}); "
            "it was not imported again."
        )
    sources = ", ".join(map(_isolate, result.sources)) if result.sources else "none"
    return (
        f"Imported “{title}”: {result.sentences} sentence{_s(result.sentences)}, "
        f"sources found: {sources}."
    )


def _isolate(text: str) -> str:
    return f"\u2068{text}\u2069"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
