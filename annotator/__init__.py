"""annotator: sentence-level attribution annotation for news articles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound

_PACKAGE_DIR = Path(__file__).resolve().parent


def _asset_folder(name: str) -> str:
    """The folder inside the package (wheel install) or beside it (checkout)."""
    inside = _PACKAGE_DIR / name
    return str(inside if inside.is_dir() else _PACKAGE_DIR.parent / name)


MAX_ID = 2**63 - 1


def _refuse_huge_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and any(isinstance(v, int) and v > MAX_ID for v in values.values()):
        raise NotFound()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an annotator app.

    Configuration is read in order: defaults, ``instance/config.py``,
    ``ANNOTATOR_*`` environment variables, then ``test_config``.
    """
    from annotator import db, headers, navigation, web
    from annotator.config import DEFAULTS, load_or_create_secret

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
        app.config["SECRET_KEY"] = load_or_create_secret(app.instance_path)

    # Ids in URLs beyond a 64-bit integer are not ours: 404 before any view
    # passes them to a database driver that would overflow.
    app.url_value_preprocessor(_refuse_huge_ids)
    db.init_app(app)
    headers.init_app(app)
    web.init_app(app)

    from annotator import api
    from annotator.cli import register_commands
    from annotator.views import (
        agreement,
        annotate,
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
        api.register(),
    ):
        app.register_blueprint(blueprint)
    navigation.init_app(app)
    register_commands(app)
    return app
