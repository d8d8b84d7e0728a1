"""The JSON API under /api/v1/: the same domain functions and authorization as the pages.

Each area adds its routes to ``bp`` in its own module and describes them in that
module's ``OPENAPI_PATHS``; ``openapi.py`` assembles the document served at
/api/v1/openapi.json, and a test checks that every route is described.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register(app_bp: Blueprint = bp) -> Blueprint:
    """Import the API modules (which attach their routes) and return the blueprint."""
    from annotator.api import (  # noqa: F401
        annotations,
        me,
        openapi,
        projects,
        review,
        segmentation,
        sources,
    )

    return app_bp
