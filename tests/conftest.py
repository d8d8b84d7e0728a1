"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL.

Set ANNOTATOR_TEST_DATABASE_URL (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) to run every database test
on PostgreSQL as well; each test then gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from annotator import create_app
from annotator.db import get_database, make_engine
from annotator.schema import ensure_schema

PG_URL = os.environ.get("ANNOTATOR_TEST_DATABASE_URL", "")
SEED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seed"
SEED_FILE = SEED_DIR / "dw-2014-north-korea-envoy-to-russia.txt"


def seed_path() -> Path:
    """The seed article, or skip the test when ../shared is not there (a newcomer's clone)."""
    if not SEED_FILE.is_file():
        pytest.skip(f"seed article not found at {SEED_FILE} (../shared is absent on this clone)")
    return SEED_FILE


@pytest.fixture(autouse=True)
def no_unexpected_5xx(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test whose test client receives a 5xx it did not declare.

    A user can send anything and must never get a server error (catalogue rule);
    a test that provokes one on purpose says so with ``@pytest.mark.expect_5xx``.
    """
    if request.node.get_closest_marker("expect_5xx") is not None:
        return
    original = FlaskClient.open

    def checked_open(self: FlaskClient, *args: object, **kwargs: object) -> object:
        response = original(self, *args, **kwargs)  # type: ignore[arg-type]
        status = getattr(response, "status_code", 0)
        if status >= 500:
            body = response.get_data(as_text=True)[:500]  # type: ignore[union-attr]
            pytest.fail(f"unexpected HTTP {status} from the app: {body}", pytrace=False)
        return response

    monkeypatch.setattr(FlaskClient, "open", checked_open)


@contextmanager
def fresh_database_url(engine: str, folder: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file in ``folder``, or on PostgreSQL a
    schema of its own, dropped afterwards (skips when PostgreSQL is not configured)."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / 'test.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need ANNOTATOR_TEST_DATABASE_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each engine."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh database with the current schema."""
    engine = make_engine(database_url, synchronous="OFF")
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the fresh database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def bare_app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """An app on a fresh, empty database (no schema yet), its instance folder in tmp_path."""
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-" + uuid.uuid4().hex,
            "SQLITE_SYNCHRONOUS": "OFF",
        }
    )
    yield app
    get_database(app).engine.dispose()


@pytest.fixture
def app(bare_app: Flask) -> Flask:
    """An app on a fresh database with the current schema."""
    ensure_schema(get_database(bare_app).engine)
    return bare_app


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner bound to the app."""
    return app.test_cli_runner()
