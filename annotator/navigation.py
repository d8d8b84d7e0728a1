"""The main navigation, filtered by the user's role."""

from __future__ import annotations

from typing import Any

from flask import Flask

from annotator.web import current_user

# (endpoint, label, roles allowed or None for everyone logged in)
NAV: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("main.index", "Projects", None),
    ("sources.registry", "Sources", ("admin", "reviewer")),
    ("review.index", "Review", ("admin", "reviewer")),
    ("guidelines.show", "Guidelines", None),
)


def init_app(app: Flask) -> None:
    """Provide ``nav_items`` to every template."""

    @app.context_processor
    def _nav() -> dict[str, Any]:
        user = current_user()
        items = [
            (endpoint, label)
            for endpoint, label, roles in NAV
            if user is not None
            and endpoint in app.view_functions
            and (roles is None or user.role in roles)
        ]
        return {"nav_items": items}
