"""/api/v1 routes of the source picker: search a project's sources and add one inline."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue

from annotator.annotating import MAX_ID
from annotator.api import bp
from annotator.api.annotations import json_content, ref, storable
from annotator.api.body import BadBody, json_body
from annotator.api.openapi import error_responses
from annotator.db import get_session
from annotator.models import NAME_MAX, SOURCE_KINDS
from annotator.registry import RegistryError
from annotator.source_lookup import DEFAULT_LIMIT, MAX_LIMIT, create_source, search_sources
from annotator.views.loaders import get_project_or_404
from annotator.web import current_user, error_response, login_required


def _project_id_or_404(project_id: int) -> int:
    user = current_user()
    assert user is not None
    if project_id > MAX_ID:
        abort(404)
    return get_project_or_404(get_session(), project_id, user).id


def _invalid(field: str, message: str) -> ResponseReturnValue:
    return error_response(422, "invalid", message, field=field)


@bp.get("/projects/<int:project_id>/sources")
@login_required
def list_sources(project_id: int) -> ResponseReturnValue:
    """Search the project's sources by name or alias (most used first without ``q``)."""
    project_id = _project_id_or_404(project_id)
    query = request.args.get("q", "")
    if len(query) > NAME_MAX:
        return _invalid("q", f"must be at most {NAME_MAX} characters")
    raw = request.args.get("limit") or str(DEFAULT_LIMIT)
    # isdigit() alone accepts "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 2 and 1 <= int(raw) <= MAX_LIMIT):
        return _invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    found = search_sources(get_session(), project_id, query, int(raw))
    return jsonify(sources=found)


@bp.post("/projects/<int:project_id>/sources")
@login_required
def add_source(project_id: int) -> ResponseReturnValue:
    """Add a source to the project, or return the one the name already names."""
    project_id = _project_id_or_404(project_id)
    try:
        payload = json_body()
    except BadBody as error:
        return error.response()
    if not isinstance(payload, dict):
        return _invalid("body", "must be a JSON object")
    name, kind = payload.get("name"), payload.get("kind")
    if not isinstance(name, str) or not storable(name):
        return _invalid("name", "must be text")
    if not isinstance(kind, str) or kind not in SOURCE_KINDS:
        return _invalid("kind", f"must be one of {', '.join(SOURCE_KINDS)}")
    session = get_session()
    try:
        source, created = create_source(session, project_id, name, kind)
    except RegistryError as error:
        session.rollback()
        return _invalid("name", str(error))
    session.commit()
    return jsonify(source=source), 201 if created else 200


_SOURCE = {
    "type": "object",
    "required": ["id", "name", "kind", "aliases"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "kind": {"enum": list(SOURCE_KINDS)},
        "aliases": {"type": "array", "items": {"type": "string"}},
    },
}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "Source": _SOURCE,
    "NewSource": {
        "type": "object",
        "required": ["name", "kind"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
            "kind": {"enum": list(SOURCE_KINDS)},
        },
    },
}
_PROJECT_PARAM = {
    "name": "project_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
_ONE_SOURCE = {"type": "object", "required": ["source"], "properties": {"source": ref("Source")}}
_INVALID = json_content(ref("Invalid"), "A value is wrong; field names it")

OPENAPI_PATHS: dict[str, Any] = {
    "/projects/{project_id}/sources": {
        "get": {
            "summary": "Search the project's sources by name or alias",
            "description": "Case-insensitive (NFKC) substring match; exact and prefix matches "
            "on names first, then on aliases. Without q: the most used sources.",
            "operationId": "searchSources",
            "parameters": [
                _PROJECT_PARAM,
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                },
            ],
            "responses": {
                "200": json_content(
                    {
                        "type": "object",
                        "required": ["sources"],
                        "properties": {"sources": {"type": "array", "items": ref("Source")}},
                    },
                    "Matching sources, best first",
                ),
                **error_responses(401, 404),
                "422": _INVALID,
            },
        },
        "post": {
            "summary": "Add a source (any project member)",
            "description": "201 when created; 200 with the existing source when the name "
            "or one of its aliases already names one.",
            "operationId": "createSource",
            "parameters": [_PROJECT_PARAM],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("NewSource")}},
            },
            "responses": {
                "201": json_content(_ONE_SOURCE, "Created"),
                "200": json_content(_ONE_SOURCE, "Already registered under this name or alias"),
                **error_responses(400, 401, 404, 415),
                "422": _INVALID,
            },
        },
    }
}
