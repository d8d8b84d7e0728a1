"""annotator: sentence-level attribution annotation for news articles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

_PACKAGE_DIR = Path(__file__).resolve().parent


def _asset_folder(name: str) -> str:
    """The folder inside the package (wheel install) or beside it (checkout)."""
    inside = _PACKAGE_DIR / name
    return str(inside if inside.is_dir() else _PACKAGE_DIR.parent / name)


# Ids are 32-bit INTEGER columns (PostgreSQL's int4 overflows beyond this).
MAX_ID = 2**31 - 1


def _refuse_huge_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
        raise NotFound()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an annotator app.

    Configuration is read in order: defaults, ``instance/config.py``,
    ``ANNOTATOR_*`` environment variables, then ``test_config``.
    """
    from annotator import db, headers, navigation, web
    from annotator.config import DEFAULTS, SECRET_FILE, as_bool, as_count, load_or_create_secret
    from annotator.uploads import UploadRequest

    instance_path = os.environ.get("ANNOTATOR_INSTANCE_PATH") or None
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        static_folder=_asset_folder("static"),
        template_folder=_asset_folder("templates"),
    )
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ANNOTATOR")
    if test_config is not None:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        try:
            app.config["SECRET_KEY"] = load_or_create_secret(app.instance_path)
        except (OSError, UnicodeDecodeError) as error:
            # Commands that sign nothing (import, export) still work; serving
            # refuses with this reason (config.production_problems).
            path = os.path.join(app.instance_path, SECRET_FILE)
            reason = getattr(error, "strerror", None) or "not ASCII text"
            app.config["SECRET_KEY_ERROR"] = f"cannot read or create {path} ({reason})"
    app.config["SESSION_COOKIE_SECURE"] = as_bool(
        app.config["SESSION_COOKIE_SECURE"], "SESSION_COOKIE_SECURE"
    )
    # Checked at start: a bad value must not turn every login into a 500.
    for name, maximum in (
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT", 1_000_000),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", 1_000_000),
        ("LOGIN_WINDOW_SECONDS", 30 * 86400),
    ):
        app.config[name] = as_count(app.config[name], name, maximum=maximum)
    hops = as_count(app.config["PROXY_FIX_X_FOR"], "PROXY_FIX_X_FOR", maximum=10)
    app.config["PROXY_FIX_X_FOR"] = hops
    if hops:
        # request.remote_addr becomes the address the last ``hops`` proxies
        # saw; with 0 a client's own X-Forwarded-For is never believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]

    # Ids in URLs beyond MAX_ID are not ours: 404 before any view passes them
    # to a database that would overflow (PostgreSQL's integer is 32-bit).
    app.url_value_preprocessor(_refuse_huge_ids)
    db.init_app(app)
    headers.init_app(app)
    web.init_app(app)
    app.request_class = UploadRequest  # web's form limits, plus closing cut-short uploads

    from annotator import api
    from annotator.cli import register_commands
    from annotator.views import (
        agreement,
        annotate,
        audit,
        auth,
        guidelines,
        main,
        projects,
        review,
        segmentation,
        sources,
    )

    for blueprint in (
        auth.bp,
        main.bp,
        projects.bp,
        annotate.bp,
        sources.bp,
        segmentation.bp,
        guidelines.bp,
        agreement.bp,
        review.bp,
        audit.bp,
        api.register(),
    ):
        app.register_blueprint(blueprint)
    navigation.init_app(app)
    register_commands(app)
    return app
