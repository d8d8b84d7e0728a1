"""The JSON API under /api/v1/: the same domain functions and authorization as the pages.

Each area adds its routes to ``bp`` in its own module and describes them in that
module's ``OPENAPI_PATHS``; ``openapi.py`` assembles the document served at
/api/v1/openapi.json, and a test checks that every route is described.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from annotator.web import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Seconds a client should wait before retrying after the database failed; about
# SQLite's busy timeout, long enough for a lock to clear or a restart to finish.
RETRY_AFTER = 5


@bp.errorhandler(OperationalError)
@bp.errorhandler(PoolTimeout)
def database_unavailable(error: Exception) -> ResponseReturnValue:
    """503 with Retry-After when the database fails (locked, disk full, gone), rolled back.

    The failure is the server's and passing: a client keeps its change and sends it
    again later, and must not read a 2xx as saved or a 4xx as refused.
    """
    current_app.logger.exception("database unavailable: %s", type(error).__name__)
    if "db_session" in g:
        g.db_session.rollback()
    response = error_response(
        503, "unavailable", "the database is busy or unavailable; nothing was saved, try again"
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def register(app_bp: Blueprint = bp) -> Blueprint:
    """Import the API modules (which attach their routes) and return the blueprint."""
    from annotator.api import (  # noqa: F401
        annotations,
        history,
        me,
        openapi,
        projects,
        review,
        segmentation,
        sources,
    )

    return app_bp
