"""Browser tests: a live server on a temporary SQLite database and headless Chromium.

Chromium is Debian's (``shutil.which("chromium")``), driven by Playwright for
Python; the tests skip, saying why, only when one of them is missing (CI
installs both).
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from annotator import create_app
from annotator.db import get_database
from annotator.importer import import_file
from annotator.schema import ensure_schema
from tests.conftest import seed_path
from tests.helpers import PASSWORD, add_project, add_user, app_session

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    """A running app: its base URL, the app (for database checks) and the seed article."""

    url: str
    app: Flask
    project_id: int = 0
    article_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def session(self) -> Session:
        """A new session on the server's database (use it in ``with``)."""
        return app_session(self.app)


@contextmanager
def serving(
    app: Flask, project_id: int, article_id: int, extra: dict[str, Any] | None = None
) -> Iterator[LiveServer]:
    """Serve ``app`` on a free port of 127.0.0.1 until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(
            f"http://127.0.0.1:{server.server_port}", app, project_id, article_id, extra or {}
        )
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        get_database(app).engine.dispose()


def serve_world(app: Flask, world: dict[str, Any]) -> Iterator[LiveServer]:
    """Serve a test world (tests/*_world.py: ``project``, ``article`` and more)."""
    with serving(app, world["project"], world["article"], world) as server:
        yield server


@pytest.fixture
def live_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """An app on a fresh SQLite database with the schema, not yet serving."""
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
            "SECRET_KEY": "live-" + uuid.uuid4().hex,
            "SQLITE_SYNCHRONOUS": "OFF",
        }
    )
    ensure_schema(get_database(app).engine)
    return app


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    """The seed article in project "dw" with annotators ann1, ann2 and reviewer rev,
    served on 127.0.0.1 at a free port."""
    seed = seed_path()
    with app_session(live_app) as s:
        project = add_project(s, "dw")
        for name in ("ann1", "ann2"):
            add_user(s, name, project=project)
        add_user(s, "rev", "reviewer", project=project)
        s.commit()
        [result] = import_file(s, project, seed)
        project_id, article_id = project.id, result.article_id
    with serving(live_app, project_id, article_id) as server:
        yield server


def serve_article(live_app: Flask, text: str, setup: Any = None) -> Iterator[LiveServer]:
    """Serve ``text`` as the one article of project "p" (``setup(session, project)`` runs first)."""
    from annotator.importer import store_articles
    from annotator.ingest import parse_text

    with app_session(live_app) as s:
        project = add_project(s, "p")
        add_user(s, "ann1", project=project)
        extra = setup(s, project) if setup else {}
        [result] = store_articles(s, project.id, [(parse_text(text), None)])
        s.commit()
        project_id, article_id = project.id, result.article_id
    with serving(live_app, project_id, article_id, extra) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright (skipped when either is missing)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); CI installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (cookies, localStorage) at 1280x800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def log_in(page: Any, base: str, name: str) -> None:
    """Log in through the /login form (Enter submits it)."""
    page.goto(f"{base}/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)
