"""A WSGI entry for servers other than ``annotator serve``.

``gunicorn 'annotator.wsgi:create_production_app()'`` (or uWSGI, mod_wsgi …)
gets the same production checks as ``annotator serve``; ``create_app()`` alone
is the factory of tests and commands and checks nothing.
"""

from __future__ import annotations

from flask import Flask

from annotator import create_app
from annotator.config import production_problems


class UnsafeStartError(RuntimeError):
    """The app must not serve in production as configured; the message says why."""


def create_production_app() -> Flask:
    """``create_app()``, refusing a missing or weak secret key and debug mode."""
    app = create_app()
    # The bind address belongs to the WSGI server, so debug is refused outright.
    problems = production_problems(app.config, debug=app.debug, host=None)
    if problems:
        raise UnsafeStartError("; ".join(problems))
    return app
