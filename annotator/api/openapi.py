"""The OpenAPI 3.1 document of the JSON API, assembled from each module's paths."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from annotator.api import bp

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def error_responses(*codes: int) -> dict[str, Any]:
    """Standard error responses for an operation (JSON body with error and message)."""
    text = {
        400: "Malformed request or missing CSRF token",
        401: "Not logged in and no valid API token",
        403: "Your role may not do this",
        404: "No such object, or not visible to you",
        409: "The object changed since you read it",
        413: "Request body too large",
        415: "Body must be application/json",
        422: "Well-formed but invalid values",
        503: "The database is busy or unavailable; nothing was saved, retry after Retry-After",
    }
    return {
        str(code): {
            "description": text[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


# A 422 that names the field it refuses (review and history filters).
INVALID_FIELD_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "field"],
    "properties": {
        "error": {"const": "invalid"},
        "message": {"type": "string"},
        "field": {"type": "string"},
    },
}


def query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query-string parameter of an operation."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    from annotator.api import annotations, history, me, projects, review, segmentation, sources

    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for module in (me, projects, annotations, sources, segmentation, review, history):
        for path, operations in module.OPENAPI_PATHS.items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    for operations in paths.values():
        for method, operation in operations.items():
            if "requestBody" in operation and "413" not in operation["responses"]:
                # Every body is read under MAX_CONTENT_LENGTH, whichever view reads it.
                responses = {**operation["responses"], **error_responses(413)}
                operations[method] = {**operation, "responses": dict(sorted(responses.items()))}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "annotator API",
            "version": "1",
            "description": (
                "Sentence-level attribution annotation. Authenticate with the browser session "
                "(state-changing requests then need the X-CSRFToken header from the page's "
                "csrf-token meta tag) or with `Authorization: Bearer <token>`. Character "
                "offsets count Unicode code points."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"session": []}, {"token": []}],
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    """Serve the OpenAPI document (public: it describes, it holds no data)."""
    return jsonify(document())
