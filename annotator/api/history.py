"""/api/v1 history routes: the audit trail of a sentence or a project, page by page.

Reviewers and admins only (403 for annotators of the project, 404 for what the
caller cannot see), with the same filters as the history page. Pages follow
``next_cursor``; bad filters or cursors answer 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue

from annotator.api import bp
from annotator.api.openapi import INVALID_FIELD_SCHEMA, error_responses, query_parameter
from annotator.audit import (
    ACTIONS,
    ID_MAX,
    KINDS,
    PAGE_MAX,
    UNIT_PAGE,
    Event,
    HistoryPage,
    InvalidFilter,
    State,
    parse_filter,
    project_history,
    unit_history,
    visible_unit,
)
from annotator.db import get_session
from annotator.exchange.times import iso_utc
from annotator.views.loaders import get_project_or_404, require_reviewer
from annotator.web import error_response, login_required, require_user


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STRINGS = {"type": "array", "items": {"type": "string"}}
_STATE = {
    "oneOf": [{"type": "null"}, _ref("HistoryState")],
    "description": "null when there was (before) or is (after) no annotation or decision",
}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "HistoryState": {
        "type": "object",
        "description": "An annotation (label, sources, note) or a gold decision (label, "
        "sources, provenance, rationale, error_category, reviewer) as it stood; source "
        "names as they were at the time.",
        "required": ["label", "sources"],
        "properties": {
            "label": {"type": ["string", "null"]},
            "sources": _STRINGS,
            "note": {"type": "string"},
            "provenance": {"enum": ["unanimous", "adjudicated", "unresolved"]},
            "rationale": {"type": "string"},
            "error_category": {"type": ["string", "null"]},
            "reviewer": {"type": ["string", "null"]},
        },
    },
    "HistoryEvent": {
        "type": "object",
        "required": [
            "kind",
            "id",
            "at",
            "action",
            "summary",
            "actor",
            "annotator",
            "version",
            "unit",
            "before",
            "after",
            "changes",
            "comment",
        ],
        "properties": {
            "kind": {"enum": list(KINDS)},
            "id": {"type": "integer", "description": "the event's id within its kind"},
            "at": {"type": "string", "format": "date-time"},
            "action": {"enum": list(ACTIONS)},
            "summary": {"type": "string", "description": "the event in words"},
            "actor": {"type": ["string", "null"], "description": "who; null for imports"},
            "annotator": {"type": ["string", "null"], "description": "whose annotation"},
            "version": {"type": ["integer", "null"], "description": "annotation version after"},
            "unit": {
                "type": "object",
                "required": ["id", "index", "article_id", "article_title"],
                "properties": {
                    "id": {"type": "integer"},
                    "index": {"type": ["integer", "null"]},
                    "article_id": {"type": "integer"},
                    "article_title": {"type": "string"},
                },
            },
            "before": _STATE,
            "after": _STATE,
            "comment": {
                "type": "string",
                "description": "why a gold decision was cleared or dropped, when given",
            },
            "changes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "from", "to"],
                    "properties": {"field": {"type": "string"}, "from": {}, "to": {}},
                },
            },
        },
    },
    "HistoryPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref("HistoryEvent")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "pass as cursor for the next page; null on the last page",
            },
        },
    },
    "HistoryInvalid": INVALID_FIELD_SCHEMA,
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
_CURSOR = query_parameter("cursor", {"type": "string"}, "next_cursor of the previous page")
_RESPONSES = {
    "200": _json(_ref("HistoryPage"), "A page of the history"),
    **error_responses(401, 403, 404),
    "422": _json(_ref("HistoryInvalid"), "A filter or the cursor is wrong; field names it"),
}
OPENAPI_PATHS: dict[str, Any] = {
    "/units/{unit_id}/history": {
        "get": {
            "summary": "Every change to a sentence's annotations and gold, oldest first "
            "(reviewers, admins)",
            "description": "Who, what, when and from which value: each event has the state "
            "before and after it and the fields that changed.",
            "operationId": "getUnitHistory",
            "parameters": [
                {"name": "unit_id", "in": "path", "required": True, "schema": _ID},
                _CURSOR,
                query_parameter(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": PAGE_MAX},
                    f"default {UNIT_PAGE}",
                ),
            ],
            "responses": _RESPONSES,
        }
    },
    "/projects/{project_id}/history": {
        "get": {
            "summary": "The project's history of annotations and gold, newest first "
            "(reviewers, admins)",
            "description": "The filters of the history page. One query per page whatever "
            "its position: follow next_cursor.",
            "operationId": "getProjectHistory",
            "parameters": [
                {"name": "project_id", "in": "path", "required": True, "schema": _ID},
                query_parameter("article", _ID, "one article of the project"),
                query_parameter(
                    "annotator", {"type": "string"}, "events of this user's annotations"
                ),
                query_parameter("kind", {"enum": list(KINDS)}, "annotation or gold events only"),
                query_parameter("action", {"type": "string"}, "actions, comma-separated"),
                query_parameter(
                    "since", {"type": "string", "format": "date"}, "from this day (UTC)"
                ),
                query_parameter("until", {"type": "string", "format": "date"}, "to this day (UTC)"),
                _CURSOR,
                query_parameter(
                    "limit", {"type": "integer", "minimum": 1, "maximum": PAGE_MAX}, "default 50"
                ),
            ],
            "responses": _RESPONSES,
        }
    },
}


def _state(state: State | None, kind: str) -> dict[str, Any] | None:
    if state is None:
        return None
    if kind == "annotation":
        return {"label": state.label, "sources": list(state.sources), "note": state.note}
    return {
        "label": state.label,
        "sources": list(state.sources),
        "provenance": state.provenance,
        "rationale": state.rationale,
        "error_category": state.error_category,
        "reviewer": state.reviewer,
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def event_json(event: Event) -> dict[str, Any]:
    """One history event as the API shows it."""
    return {
        "kind": event.kind,
        "id": event.id,
        "at": iso_utc(event.at),
        "action": event.action,
        "summary": event.summary,
        "actor": event.actor,
        "annotator": event.annotator,
        "version": event.version,
        "unit": {
            "id": event.unit.id,
            "index": event.unit.index,
            "article_id": event.unit.article_id,
            "article_title": event.unit.article_title,
        },
        "before": _state(event.before, event.kind),
        "after": _state(event.after, event.kind),
        "changes": [
            {"field": c.field, "from": _plain(c.before), "to": _plain(c.after)}
            for c in event.changes
        ],
        "comment": event.comment,
    }


def _page_json(page: HistoryPage) -> ResponseReturnValue:
    return jsonify(items=[event_json(e) for e in page.events], next_cursor=page.next_cursor)


def _invalid(error: InvalidFilter) -> ResponseReturnValue:
    return error_response(422, "invalid", error.message, field=error.field)


@bp.get("/units/<int:unit_id>/history")
@login_required
def get_unit_history(unit_id: int) -> ResponseReturnValue:
    """A page of one sentence's history."""
    session, user = get_session(), require_user()
    if visible_unit(session, unit_id, user) is None:
        abort(404)
    require_reviewer(user)
    try:
        limit = _limit(request.args.get("limit"), UNIT_PAGE)
        page = unit_history(
            session, unit_id, cursor=request.args.get("cursor") or None, limit=limit
        )
    except InvalidFilter as error:
        return _invalid(error)
    return _page_json(page)


@bp.get("/projects/<int:project_id>/history")
@login_required
def get_project_history(project_id: int) -> ResponseReturnValue:
    """A page of the project's history."""
    session, user = get_session(), require_user()
    project = get_project_or_404(session, project_id, user)
    require_reviewer(user)
    try:
        f, limit = parse_filter(session, project.id, request.args)
        page = project_history(
            session, project.id, f, cursor=request.args.get("cursor") or None, limit=limit
        )
    except InvalidFilter as error:
        return _invalid(error)
    return _page_json(page)


def _limit(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4 or not 1 <= int(raw) <= PAGE_MAX:
        raise InvalidFilter("limit", f"must be a whole number from 1 to {PAGE_MAX}")
    return int(raw)
