"""The database as a Flask extension: one engine per app, one session per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import orjson
from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

EXTENSION_KEY = "annotator.db"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
F = TypeVar("F", bound=Callable[..., Any])

# Whether transactions begun now are meant to write. In SQLite's WAL mode a
# transaction that reads and then writes fails at once with "database is
# locked" when another connection committed in between (busy_timeout does not
# help a snapshot that went stale); one begun with BEGIN IMMEDIATE takes the
# write lock first, waiting up to busy_timeout, so it cannot fail that way.
_write_intent: ContextVar[bool] = ContextVar("annotator_write_intent", default=False)


def wants_write() -> bool:
    """Whether transactions begun now start with the write lock (SQLite)."""
    return _write_intent.get()


@contextmanager
def write_intent() -> Iterator[None]:
    """Begin the transactions inside this block with BEGIN IMMEDIATE on SQLite."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def make_engine(url: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> Engine:
    """Build an engine for ``url``; SQLite gets our pragmas on *this* engine only."""
    # orjson decodes the JSON columns (suggestions, cues, credits) several times
    # faster than the standard library; the annotation page reads ~100 per load.
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, json_deserializer=orjson.loads
        )
        _configure_sqlite(engine, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        return engine
    from annotator.postgres import make_postgres_engine

    return make_postgres_engine(url)


def _configure_sqlite(engine: Engine, *, synchronous: str, busy_timeout_ms: int) -> None:
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(
            f"SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}"
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks
        # SAVEPOINT; we emit BEGIN ourselves (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers (page loads, exports) run while one writer commits.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers begin deferred, so they never wait for a writer (WAL);
        # writers take the lock up front (see _write_intent).
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


class Database:
    """The engine and session factory of one app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        self.schema_checked = False
        self.autocommit_sessionmaker = None
        if engine.dialect.name == "postgresql":
            # Same pool; each statement its own transaction, no BEGIN or COMMIT.
            autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
            self.autocommit_sessionmaker = sessionmaker(autocommit, expire_on_commit=False)

    def session(self, *, autocommit_reads: bool = False) -> Session:
        """A new session; the caller closes it.

        ``autocommit_reads`` (PostgreSQL only, ignored elsewhere): every
        statement runs in a transaction of its own, which spares the BEGIN
        and COMMIT round trips; for requests that only read and do not need
        their statements to see one snapshot (``single_reads``).
        """
        if autocommit_reads and self.autocommit_sessionmaker is not None:
            return self.autocommit_sessionmaker()
        return self.sessionmaker()


def init_app(app: Flask) -> Database:
    """Create the app's engine from its config and register session teardown."""
    from annotator.config import database_url

    url = database_url(app.config, app.instance_path)
    engine = make_engine(
        url,
        synchronous=str(app.config["SQLITE_SYNCHRONOUS"]),
        busy_timeout_ms=int(app.config["SQLITE_BUSY_TIMEOUT_MS"]),
    )
    database = Database(engine)
    app.extensions[EXTENSION_KEY] = database
    # pytest-flask keeps one app context open per test, so close on both; the
    # second call finds nothing to close.
    app.teardown_request(close_session)
    app.teardown_appcontext(close_session)
    app.before_request(_declare_write_intent)
    app.before_request(_require_current_schema)
    app.teardown_request(_end_write_intent)
    return database


def writes_late(view: F) -> F:
    """Mark a view that takes the write lock itself, after its reads (``begin_write``).

    Other state-changing requests hold SQLite's single write lock from their
    first statement to their commit; the annotation save, the hottest write
    of the app, holds it only for its writes, so two workers rarely wait on
    each other.
    """
    view.writes_late = True  # type: ignore[attr-defined]
    return view


def _declare_write_intent() -> None:
    """State-changing requests begin their transactions with the write lock."""
    from flask import request

    if request.method not in WRITE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "writes_late", False):
        return
    g.write_intent_token = _write_intent.set(True)


def _end_write_intent(_exc: BaseException | None = None) -> None:
    token = g.pop("write_intent_token", None)
    if token is not None:
        _write_intent.reset(token)


def _require_current_schema() -> Response | None:
    """Answer 503 with instructions while the database is empty or outdated.

    The app never creates or migrates a database on its own (a web request is
    the wrong place for DDL); `annotator run`/`demo`/`db upgrade` do. The check
    runs until it first succeeds, then never again in this process.
    """
    database = get_database()
    if database.schema_checked:
        return None
    from annotator.schema import SchemaState, schema_state

    state = schema_state(database.engine)
    if state is SchemaState.CURRENT:
        database.schema_checked = True
        return None
    message = (
        "The annotator database is not ready ("
        + state.value
        + "): run `annotator db upgrade` on the server."
    )
    return Response(
        message + "\n", status=503, mimetype="text/plain", headers={"Retry-After": "30"}
    )


def get_database(app: Flask | None = None) -> Database:
    """The Database of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION_KEY]


def get_session() -> Session:
    """The session of the current request or app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_database().session(autocommit_reads=_single_reads_request())
    return g.db_session


def single_reads(view: F) -> F:
    """Mark a GET view whose statements need not share one snapshot (each is
    consistent on its own), so on PostgreSQL they run without BEGIN and COMMIT.

    The annotation page reads its user and then the whole article in one
    statement; two of the five round trips of a load were BEGIN and COMMIT.
    """
    view.single_reads = True  # type: ignore[attr-defined]
    return view


def _single_reads_request() -> bool:
    from flask import has_request_context, request

    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "single_reads", False))


def close_session(exc: BaseException | None = None) -> None:
    """Close the context's session if one was opened; safe to call twice.

    A read request's transaction ends with COMMIT rather than the ROLLBACK of
    ``close``: psycopg forgets its prepared statements on every ROLLBACK, so
    PostgreSQL would plan the page's queries afresh on every load (a third of
    a millisecond each). Anything that may have written is rolled back.
    """
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if exc is None and session.in_transaction() and _is_read_request():
            session.commit()
    except SQLAlchemyError:
        pass  # close() below rolls back whatever is left
    finally:
        session.close()


def _is_read_request() -> bool:
    from flask import has_request_context, request

    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")
