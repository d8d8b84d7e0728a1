"""Helpers shared by the CLI commands: database access and error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from annotator.db import get_database, write_intent
from annotator.schema import SchemaError, ensure_schema


def fail(message: str) -> None:
    """Print one readable line to stderr and exit with status 1."""
    raise click.ClickException(message)


def ensure_database(quiet: bool = False) -> None:
    """Create the schema on an empty database, refuse an outdated one."""
    database = get_database(current_app)
    try:
        created = ensure_schema(database.engine)
    except SchemaError as error:
        fail(str(error))
    except OperationalError as error:
        # Drivers explain over several lines (psycopg adds a hint); one line here.
        fail("cannot open the database: " + " ".join(str(error.orig).split()))
    # The app's own check before its first request would repeat this (in every
    # worker `serve` forks, each on its own connection).
    database.schema_checked = True
    if created and not quiet:
        click.echo(f"created the database at {database.engine.url.render_as_string()}", err=True)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session on a database whose schema is current; closed afterwards."""
    ensure_database()
    session = get_database(current_app).session()
    try:
        # Commands write; take SQLite's write lock at BEGIN so a running
        # server's commits cannot make them fail half-way.
        with write_intent():
            yield session
    finally:
        session.close()
