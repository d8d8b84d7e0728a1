"""/api/v1/projects: visible projects with progress, one project, article import, export."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from annotator.access import is_reviewer
from annotator.api import bp
from annotator.api.body import BadBody, json_body
from annotator.api.openapi import error_responses
from annotator.db import get_session, writes_late
from annotator.downloads import EXPORT_FORMATS, export_response
from annotator.ingest import IngestError, parse_text
from annotator.models import Project
from annotator.overview import (
    ARTICLES_PER_PAGE,
    ProjectSummary,
    article_page,
    project_progress,
    project_summaries,
)
from annotator.project_settings import import_parsed
from annotator.views.loaders import get_project_or_404, require_reviewer
from annotator.web import error_response, login_required, require_user

ARTICLE_FIELDS = {"text", "title", "url", "published", "byline", "credits"}
STRING_MAX = 1000  # title, byline, published, url: the longest article column
PAGE_MAX = 1_000_000

_PROGRESS = {"$ref": "#/components/schemas/Progress"}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "Progress": {
        "type": "object",
        "description": "Sentences labelled out of sentences expected.",
        "required": ["done", "total", "percent"],
        "properties": {
            "done": {"type": "integer"},
            "total": {"type": "integer"},
            "percent": {"type": "integer"},
        },
    },
    "ProjectSummary": {
        "type": "object",
        "required": ["id", "name", "description", "articles", "progress", "progress_scope"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "articles": {"type": "integer", "description": "articles the caller may open"},
            "progress": _PROGRESS,
            "progress_scope": {
                "type": "string",
                "enum": ["own", "overall"],
                "description": "annotators get their own progress, reviewers the project's",
            },
        },
    },
    "ArticleSummary": {
        "type": "object",
        "required": ["id", "title", "published", "credits", "sentences", "progress"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "published": {"type": ["string", "null"]},
            "credits": {"type": "array", "items": {"type": "string"}},
            "sentences": {"type": "integer"},
            "progress": _PROGRESS,
            "finished": {"type": "integer", "description": "reviewers only"},
            "assigned": {
                "type": "array",
                "items": {"type": "string"},
                "description": "reviewers only",
            },
        },
    },
    "Project": {
        "type": "object",
        "required": ["id", "name", "labels", "suggestion_mode", "progress", "articles"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "suggestion_mode": {"type": "string", "enum": ["hidden", "hint", "prefill"]},
            "annotators_per_article": {"type": ["integer", "null"]},
            "labels": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "key": {"type": "string"},
                        "description": {"type": "string"},
                    },
                },
            },
            "progress": _PROGRESS,
            "articles": {
                "type": "object",
                "required": ["page", "pages", "per_page", "total", "items"],
                "properties": {
                    "page": {"type": "integer"},
                    "pages": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "total": {"type": "integer"},
                    "items": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/ArticleSummary"},
                    },
                },
            },
        },
    },
    "ArticleInput": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1},
            "title": {"type": ["string", "null"], "maxLength": STRING_MAX},
            "url": {"type": ["string", "null"], "description": "http(s) only"},
            "published": {"type": ["string", "null"], "description": "a date like 2014-11-14"},
            "byline": {"type": ["string", "null"], "maxLength": STRING_MAX},
            "credits": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    },
    "ImportResult": {
        "type": "object",
        "required": ["article_id", "title", "units", "sentences", "sources", "duplicate_of"],
        "properties": {
            "article_id": {"type": ["integer", "null"]},
            "title": {"type": "string"},
            "units": {"type": "integer"},
            "sentences": {"type": "integer"},
            "sources": {"type": "array", "items": {"type": "string"}},
            "duplicate_of": {
                "type": ["integer", "null"],
                "description": "the existing article when the same text was imported before",
            },
        },
    },
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_PROJECT_ID = {"name": "project_id", "in": "path", "required": True, "schema": {"type": "integer"}}
OPENAPI_PATHS: dict[str, Any] = {
    "/projects": {
        "get": {
            "summary": "The projects the caller may see, with progress",
            "operationId": "listProjects",
            "responses": {
                "200": {
                    "description": "The projects",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "projects": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/ProjectSummary"},
                                    }
                                },
                            }
                        }
                    },
                },
                **error_responses(401),
            },
        }
    },
    "/projects/{project_id}": {
        "get": {
            "summary": "One project: labels, suggestion mode, a page of its articles",
            "operationId": "getProject",
            "parameters": [
                _PROJECT_ID,
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                    "description": "50 articles per page",
                },
            ],
            "responses": {
                "200": _json("Project", "The project"),
                **error_responses(400, 401, 404),
            },
        }
    },
    "/projects/{project_id}/articles": {
        "post": {
            "summary": "Import one article (reviewers and admins)",
            "operationId": "importArticle",
            "parameters": [_PROJECT_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ArticleInput"}}
                },
            },
            "responses": {
                "201": _json("ImportResult", "Imported"),
                "200": _json("ImportResult", "Already imported: duplicate_of names the article"),
                **error_responses(400, 401, 403, 404, 413, 415, 422),
            },
        }
    },
    "/projects/{project_id}/export": {
        "get": {
            "summary": "Download the project's export (reviewers and admins)",
            "operationId": "exportProject",
            "parameters": [
                _PROJECT_ID,
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["json", "jsonl", "csv"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "The export, as an attachment (streamed)",
                    "content": {
                        "application/json": {},
                        "application/x-ndjson": {},
                        "text/csv": {},
                    },
                },
                **error_responses(400, 401, 403, 404),
            },
        }
    },
}


def _summary_json(summary: ProjectSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "name": summary.name,
        "description": summary.description,
        "articles": summary.articles,
        "progress": summary.progress.as_dict(),
        "progress_scope": "own" if summary.own else "overall",
    }


@bp.get("/projects")
@login_required
def list_projects() -> ResponseReturnValue:
    """The projects the caller may see, each with its progress."""
    summaries = project_summaries(get_session(), require_user())
    return jsonify(projects=[_summary_json(summary) for summary in summaries])


@bp.get("/projects/<int:project_id>")
@login_required
def get_project(project_id: int) -> ResponseReturnValue:
    """A project with its labels and one page of the caller's articles."""
    session, user = get_session(), require_user()
    project = get_project_or_404(session, project_id, user)
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7 or not 1 <= int(raw) <= PAGE_MAX:
        return error_response(400, "bad_page", f"page must be an integer from 1 to {PAGE_MAX}")
    page = article_page(session, project.id, user, int(raw))
    reviewer = is_reviewer(user)
    items = []
    for row in page.rows:
        item: dict[str, Any] = {
            "id": row.id,
            "title": row.title,
            "published": row.published,
            "credits": row.credits,
            "sentences": row.sentences,
            "progress": row.progress.as_dict(),
        }
        if reviewer:
            item.update(finished=row.finished, assigned=row.assigned)
        items.append(item)
    return jsonify(
        _project_json(project)
        | {
            "progress": project_progress(session, project.id, user).as_dict(),
            "progress_scope": "overall" if reviewer else "own",
            "articles": {
                "page": page.page,
                "pages": page.pages,
                "per_page": ARTICLES_PER_PAGE,
                "total": page.total,
                "items": items,
            },
        }
    )


def _project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "suggestion_mode": project.suggestion_mode,
        "annotators_per_article": project.annotators_per_article,
        "labels": [
            {"name": label.name, "key": label.key, "description": label.description}
            for label in project.labels
        ],
    }


def _article_input() -> dict[str, Any] | ResponseReturnValue:
    """The validated JSON body, or an error response (400, 413, 415, 422)."""
    try:
        body = json_body()
    except BadBody as error:
        return error.response()
    if not isinstance(body, dict):
        return error_response(422, "invalid", "the body must be a JSON object")
    unknown = sorted(set(body) - ARTICLE_FIELDS)
    if unknown:
        return error_response(
            422, "invalid", f"unknown field(s): {', '.join(map(str, unknown))[:200]}"
        )
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return error_response(422, "invalid", "text must be a non-empty string", field="text")
    for key in ("title", "url", "published", "byline"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            return error_response(422, "invalid", f"{key} must be a string or null", field=key)
        if isinstance(value, str) and len(value) > STRING_MAX:
            return error_response(
                422, "invalid", f"{key} must be at most {STRING_MAX} characters", field=key
            )
    credits = body.get("credits")
    if credits is not None and (
        not isinstance(credits, list)
        or not all(isinstance(c, str) and len(c) <= STRING_MAX for c in credits)
        or len(credits) > 100
    ):
        return error_response(
            422, "invalid", "credits must be a list of at most 100 strings", field="credits"
        )
    return body


@bp.post("/projects/<int:project_id>/articles")
@writes_late  # parses before it takes SQLite's write lock (project_settings.import_parsed)
@login_required
def import_article(project_id: int) -> ResponseReturnValue:
    """Import one article from JSON; a repeated text answers 200 with duplicate_of."""
    session, user = get_session(), require_user()
    project = get_project_or_404(session, project_id, user)
    require_reviewer(user)
    body = _article_input()
    if not isinstance(body, dict):
        return body
    try:
        parsed = parse_text(
            body["text"],
            title=body.get("title"),
            url=body.get("url"),
            published=body.get("published"),
            byline=body.get("byline"),
            credits=body.get("credits"),
        )
        result = import_parsed(session, project.id, parsed, "api")
        session.commit()
    except IngestError as error:
        session.rollback()
        return error_response(422, "invalid", str(error))
    payload = {
        "article_id": result.article_id or result.duplicate_of,
        "title": result.title,
        "units": result.units,
        "sentences": result.sentences,
        "sources": result.sources,
        "duplicate_of": result.duplicate_of,
    }
    return jsonify(payload), 200 if result.duplicate_of is not None else 201


@bp.get("/projects/<int:project_id>/export")
@login_required
def export_project(project_id: int) -> ResponseReturnValue:
    """The project's export as an attachment: format json (default), jsonl or csv."""
    user = require_user()
    project = get_project_or_404(get_session(), project_id, user)
    require_reviewer(user)
    fmt = request.args.get("format", "json")
    if fmt not in EXPORT_FORMATS:
        return error_response(400, "bad_format", "format must be json, jsonl or csv")
    return export_response(project.name, fmt)
