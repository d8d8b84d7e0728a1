"""/api/v1 routes of the annotation page: the article view, saving and deleting one
unit's annotation, and a fresh CSRF token for a page whose token went stale."""

from __future__ import annotations

import math
from typing import Any

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from annotator.access import can_see_article, is_reviewer
from annotator.annotating import (
    MAX_ID,
    AnnotationConflict,
    InvalidAnnotation,
    SaveRequest,
    UnitNotFound,
    remove_annotation,
    save_annotation,
)
from annotator.api import bp
from annotator.api.body import BadBody, json_body
from annotator.api.openapi import error_responses
from annotator.article_view import article_view
from annotator.db import get_session, single_reads, writes_late
from annotator.models import LABEL_NAME_MAX, NAME_MAX, NOTE_MAX, SOURCE_KINDS, UNIT_KINDS, User
from annotator.names import name_problem
from annotator.users import get_user_by_name, username_key
from annotator.web import current_user, error_response, login_required

MAX_VERSION = 2**31 - 1
MAX_SOURCES = 20
MAX_SECONDS = 24 * 3600.0
# Tab, newline and carriage return are fine in a note; other C0 controls (NUL
# above all, which PostgreSQL cannot store) are not.
_NOTE_CONTROLS = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"}


def storable(value: str) -> bool:
    """Whether a string can be stored and bound on every engine (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_int(value: object) -> bool:
    # bool is an int subclass; true is not a version.
    return isinstance(value, int) and not isinstance(value, bool)


def parse_save_request(payload: object) -> SaveRequest:
    """Validate a PUT body strictly; raises ``InvalidAnnotation`` naming the bad field."""
    if not isinstance(payload, dict):
        raise InvalidAnnotation("body", "must be a JSON object")
    label = payload.get("label")
    if not isinstance(label, str) or not label or len(label) > LABEL_NAME_MAX:
        raise InvalidAnnotation("label", "must be the name of one of the project's labels")
    if not storable(label):
        raise InvalidAnnotation("label", "must be valid Unicode text")
    sources = payload.get("sources", [])
    if not isinstance(sources, list):
        raise InvalidAnnotation("sources", "must be a list of source ids")
    if len(sources) > MAX_SOURCES:
        raise InvalidAnnotation("sources", f"may hold at most {MAX_SOURCES} sources")
    if not all(_is_int(s) and 1 <= s <= MAX_ID for s in sources):
        raise InvalidAnnotation("sources", "must be a list of source ids (positive integers)")
    if len(set(sources)) != len(sources):
        raise InvalidAnnotation("sources", "must not name a source twice")
    note = payload.get("note", "")
    if not isinstance(note, str):
        raise InvalidAnnotation("note", "must be text")
    if len(note) > NOTE_MAX:
        raise InvalidAnnotation("note", f"must be at most {NOTE_MAX} characters")
    if not storable(note) or any(c in _NOTE_CONTROLS for c in note):
        raise InvalidAnnotation("note", "must not contain control characters")
    version = payload.get("expected_version")
    if not _is_int(version) or not 0 <= version <= MAX_VERSION:
        raise InvalidAnnotation(
            "expected_version", "must be 0 for a new annotation or the version you last saw"
        )
    seconds = payload.get("seconds_spent")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise InvalidAnnotation("seconds_spent", "must be a number")
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
            raise InvalidAnnotation("seconds_spent", f"must be between 0 and {MAX_SECONDS:.0f}")
        seconds = float(seconds)
    return SaveRequest(label, tuple(sources), note, version, seconds)


def parse_expected_version(value: str | None) -> int:
    """The ``expected_version`` query parameter of a delete, validated like the body's."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 10:
        raise InvalidAnnotation("expected_version", "must be a whole number >= 0")
    number = int(value)
    if number > MAX_VERSION:
        raise InvalidAnnotation("expected_version", "is out of range")
    return number


def _invalid(error: InvalidAnnotation) -> ResponseReturnValue:
    return error_response(422, "invalid", error.message, field=error.field)


def _conflict(error: AnnotationConflict) -> ResponseReturnValue:
    get_session().rollback()
    return error_response(
        409,
        "conflict",
        "this annotation was changed elsewhere (another tab?); reload it and try again",
        current=error.current,
    )


def _annotator_for(viewer: User, name: str | None) -> User | ResponseReturnValue:
    """Whose annotations to show: the viewer's own, or (reviewers) anyone's by name."""
    if not name:
        return viewer
    # A malformed name (control characters, too long) names nobody.
    key = username_key(name) if name_problem(name, max_length=NAME_MAX) is None else None
    if not is_reviewer(viewer):
        if key == viewer.username:
            return viewer
        return error_response(403, "forbidden", "only reviewers see other people's annotations")
    annotator = get_user_by_name(get_session(), name) if key is not None else None
    if annotator is None:
        return error_response(404, "not_found", "no such annotator")
    return annotator


@bp.get("/articles/<int:article_id>")
@single_reads
@login_required
def get_article(article_id: int) -> ResponseReturnValue:
    """The article view of the annotation page (the caller's own answers by default)."""
    viewer = current_user()
    assert viewer is not None
    if article_id > MAX_ID:
        abort(404)
    session = get_session()
    annotator = _annotator_for(viewer, request.args.get("annotator"))
    if not isinstance(annotator, User):
        # Out of reach answers 404 first, as it does without the question.
        if can_see_article(session, viewer, article_id) is None:
            abort(404)
        return annotator
    view = article_view(session, article_id, annotator, viewer)
    if view is None:
        abort(404)
    return jsonify(view)


@bp.put("/units/<int:unit_id>/annotation")
@writes_late
@login_required
def put_annotation(unit_id: int) -> ResponseReturnValue:
    """Save the caller's annotation of one sentence (optimistic versioning)."""
    user = current_user()
    assert user is not None
    session = get_session()
    try:
        save = parse_save_request(json_body())
        result = save_annotation(session, unit_id, user, save)
    except BadBody as error:
        return error.response()
    except UnitNotFound:
        abort(404)
    except InvalidAnnotation as error:
        session.rollback()
        return _invalid(error)
    except AnnotationConflict as error:
        return _conflict(error)
    return jsonify(result)


@bp.delete("/units/<int:unit_id>/annotation")
@writes_late
@login_required
def delete_annotation(unit_id: int) -> ResponseReturnValue:
    """Delete the caller's annotation of one sentence if it is at ``expected_version``."""
    user = current_user()
    assert user is not None
    session = get_session()
    try:
        expected = parse_expected_version(request.args.get("expected_version"))
        result = remove_annotation(session, unit_id, user, expected)
    except UnitNotFound:
        abort(404)
    except InvalidAnnotation as error:
        return _invalid(error)
    except AnnotationConflict as error:
        return _conflict(error)
    return jsonify(result)


@bp.get("/csrf-token")
@login_required
def csrf_token() -> ResponseReturnValue:
    """A CSRF token for this session (the page refreshes its token after a re-login)."""
    return jsonify(csrf_token=generate_csrf())


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of the OpenAPI document."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response or request body of ``schema`` as application/json."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


_INT = {"type": "integer"}
_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_ID_PARAM = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "SourceRef": _object({"id": _INT, "name": _STR, "kind": {"enum": list(SOURCE_KINDS)}}),
    "Annotation": _object(
        {
            "label": _STR,
            "sources": {"type": "array", "items": ref("SourceRef")},
            "note": _STR,
            "version": {"type": "integer", "minimum": 1},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "flagged": {
                "type": "boolean",
                "description": "the unit's text changed since this answer (segmentation edit)",
            },
            "previous_text": _NULLABLE_STR,
        }
    ),
    "Progress": _object({"done": _INT, "total": _INT}),
    "Unit": _object(
        {
            "id": _INT,
            "index": {"type": ["integer", "null"], "description": "sentences only, from 0"},
            "kind": {"enum": list(UNIT_KINDS)},
            "start": _INT,
            "end": _INT,
            "text": _STR,
            "suggestion": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "label": _NULLABLE_STR,
                            "sources": {"type": "array", "items": ref("SourceRef")},
                            "cues": {
                                "type": "array",
                                "items": _object(
                                    {"kind": _STR, "text": _STR, "start": _INT, "end": _INT}
                                ),
                            },
                        }
                    ),
                ],
                "description": "always null when the project's suggestion_mode is hidden",
            },
            "annotation": {"oneOf": [{"type": "null"}, ref("Annotation")]},
        }
    ),
    "ArticleView": _object(
        {
            "article": _object(
                {
                    "id": _INT,
                    "title": _STR,
                    "byline": _NULLABLE_STR,
                    "dateline": _NULLABLE_STR,
                    "published": _NULLABLE_STR,
                    "url": _NULLABLE_STR,
                    "credits": {"type": "array", "items": _STR},
                    "project_id": _INT,
                }
            ),
            "project": _object(
                {
                    "id": _INT,
                    "name": _STR,
                    "suggestion_mode": {"enum": ["hidden", "hint", "prefill"]},
                    "labels": {
                        "type": "array",
                        "items": _object(
                            {"id": _INT, "name": _STR, "key": _STR, "description": _STR}
                        ),
                    },
                }
            ),
            "annotator": _object({"id": _INT, "username": _STR}),
            "read_only": {"type": "boolean"},
            "units": {"type": "array", "items": ref("Unit")},
            "mentions": {
                "type": "array",
                "description": "offsets into the article text, in code points",
                "items": _object({"source_id": _INT, "name": _STR, "start": _INT, "end": _INT}),
            },
            "progress": ref("Progress"),
            "next_article_id": {"type": ["integer", "null"]},
        }
    ),
    "SaveAnnotation": _object(
        {
            "label": {"type": "string", "description": "the name of one of the project's labels"},
            "sources": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "maxItems": MAX_SOURCES,
                "uniqueItems": True,
                "description": "ids of the project's sources in order: speaker first, then relays",
            },
            "note": {"type": "string", "maxLength": NOTE_MAX},
            "expected_version": {
                "type": "integer",
                "minimum": 0,
                "description": "0 for a new annotation, else the version you last saw",
            },
            "seconds_spent": {
                "type": "number",
                "minimum": 0,
                "maximum": MAX_SECONDS,
                "description": "time spent on the unit since the last save; added to the total",
            },
        },
        required=["label", "expected_version"],
    ),
    "SavedAnnotation": _object(
        {
            "annotation": {"oneOf": [{"type": "null"}, ref("Annotation")]},
            "progress": ref("Progress"),
        }
    ),
    "Conflict": _object(
        {
            "error": {"const": "conflict"},
            "message": _STR,
            "current": {"oneOf": [{"type": "null"}, ref("Annotation")]},
        }
    ),
    "Invalid": _object({"error": {"const": "invalid"}, "message": _STR, "field": _STR}),
}

_UNIT_ERRORS = {
    **error_responses(400, 401, 404, 503),
    "409": json_content(ref("Conflict"), "The annotation changed since you read it"),
    "422": json_content(ref("Invalid"), "A value is wrong; field names it"),
}

OPENAPI_PATHS: dict[str, Any] = {
    "/articles/{article_id}": {
        "get": {
            "summary": "An article with its units and one annotator's answers",
            "operationId": "getArticleView",
            "parameters": [
                {"name": "article_id", **_ID_PARAM},
                {
                    "name": "annotator",
                    "in": "query",
                    "required": False,
                    "schema": _STR,
                    "description": "whose answers (reviewers and admins; read-only); "
                    "default: the caller's own",
                },
            ],
            "responses": {
                "200": json_content(ref("ArticleView"), "The article view"),
                **error_responses(401, 403, 404),
            },
        }
    },
    "/units/{unit_id}/annotation": {
        "put": {
            "summary": "Save the caller's annotation of a sentence",
            "description": "Idempotent: the same payload again answers 200 with the same "
            "version. A stale expected_version answers 409 with the stored annotation.",
            "operationId": "putAnnotation",
            "parameters": [{"name": "unit_id", **_ID_PARAM}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("SaveAnnotation")}},
            },
            "responses": {
                "200": json_content(ref("SavedAnnotation"), "Saved (or already stored)"),
                **_UNIT_ERRORS,
                **error_responses(415),
            },
        },
        "delete": {
            "summary": "Delete the caller's annotation of a sentence",
            "operationId": "deleteAnnotation",
            "parameters": [
                {"name": "unit_id", **_ID_PARAM},
                {
                    "name": "expected_version",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            "responses": {
                "200": json_content(ref("SavedAnnotation"), "Deleted; annotation is null"),
                **_UNIT_ERRORS,
            },
        },
    },
    "/csrf-token": {
        "get": {
            "summary": "A CSRF token for the caller's browser session",
            "operationId": "getCsrfToken",
            "responses": {
                "200": json_content(_object({"csrf_token": _STR}), "The token"),
                **error_responses(401),
            },
        }
    },
}
