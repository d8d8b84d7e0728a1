"""/api/v1/me: who is calling."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from annotator.api import bp
from annotator.api.openapi import error_responses
from annotator.web import current_user, login_required

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Me": {
        "type": "object",
        "required": ["id", "username", "role"],
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "role": {"type": "string", "enum": ["admin", "reviewer", "annotator"]},
        },
    }
}
OPENAPI_PATHS: dict[str, Any] = {
    "/me": {
        "get": {
            "summary": "The calling user",
            "operationId": "getMe",
            "responses": {
                "200": {
                    "description": "The user",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Me"}}
                    },
                },
                **error_responses(401),
            },
        }
    }
}


@bp.get("/me")
@login_required
def me() -> ResponseReturnValue:
    """The calling user's id, name and role."""
    user = current_user()
    assert user is not None
    return jsonify(id=user.id, username=user.username, role=user.role)
