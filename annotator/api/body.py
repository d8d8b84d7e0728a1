"""Reading JSON request bodies the same strict way in every API module."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from annotator.web import error_response


class BadBody(Exception):
    """A request body that is not JSON (415) or not well-formed (400)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(message)

    def response(self) -> ResponseReturnValue:
        """The JSON error answer."""
        return error_response(self.status, self.code, self.message)


def json_body() -> Any:
    """The request's JSON body; ``BadBody`` for another content type or malformed JSON."""
    if request.mimetype != "application/json":
        raise BadBody(415, "unsupported_media_type", "send the body as application/json")
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(data) >= limit:
        # A body of unknown length (chunked): Werkzeug stops reading quietly at the
        # limit, so a longer body would arrive truncated instead of refused.
        raise RequestEntityTooLarge()
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 too; RecursionError a pathologically nested body.
        raise BadBody(400, "bad_json", "the body is not well-formed JSON") from None
