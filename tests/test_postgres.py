"""The PostgreSQL engine's liveness checks, and the app when the database drops a connection.

A connection the server closed (here: ``pg_terminate_backend``, as a restart
does) must cost at most one refused request, answered 503 with ``Retry-After``
and nothing saved; an idle one is checked before use and replaced.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from annotator.db import get_database
from annotator.postgres import make_postgres_engine
from tests.conftest import PG_URL
from tests.helpers import add_article, add_project, add_user, app_session, login


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("the liveness checks are PostgreSQL's")
    return database_url


@pytest.fixture
def admin() -> Iterator[Engine]:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _backend_of(engine: Engine) -> int:
    """The server process of the pool's (only) connection."""
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()


def test_an_idle_connection_is_checked_and_replaced(postgres_url: str, admin: Engine) -> None:
    engine = make_postgres_engine(postgres_url, ping_after=0)
    try:
        dead = _backend_of(engine)
        _terminate(admin, dead)
        # No error: the check on checkout found it dead and the pool connected anew.
        assert _backend_of(engine) != dead
    finally:
        engine.dispose()


def test_a_busy_connection_is_not_pinged_and_fails_once(postgres_url: str, admin: Engine) -> None:
    engine = make_postgres_engine(postgres_url, ping_after=3600)
    try:
        dead = _backend_of(engine)
        _terminate(admin, dead)
        with pytest.raises(OperationalError) as failure, engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert failure.value.connection_invalidated
        assert _backend_of(engine) != dead  # the pool recycled it
    finally:
        engine.dispose()


@pytest.mark.expect_5xx
def test_a_lost_connection_answers_503_then_works(
    app: Flask, postgres_url: str, admin: Engine
) -> None:
    with app_session(app) as session:
        project = add_project(session)
        add_user(session, "ann1", project=project)
        article = add_article(session, project, "Talks resumed on Monday, AP reported.")
        session.commit()
    client = app.test_client()
    login(client, "ann1")
    page = f"/articles/{article.id}/annotate"
    assert client.get(page).status_code == 200
    _terminate(admin, _backend_of(get_database(app).engine))
    refused = client.get(page)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert "try again" in refused.get_data(as_text=True)
    assert client.get(page).status_code == 200
    # The API says the same in JSON (its contract for any database failure).
    _terminate(admin, _backend_of(get_database(app).engine))
    refused = client.get(f"/api/v1/articles/{article.id}")
    assert refused.status_code == 503
    assert refused.get_json()["error"] == "unavailable"
    assert "Retry-After" in refused.headers
    assert client.get(f"/api/v1/articles/{article.id}").status_code == 200
