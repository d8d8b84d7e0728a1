"""``annotator db``: schema migrations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import OperationalError

from annotator.cli.common import fail
from annotator.db import get_database
from annotator.schema import SchemaState, head_revision, schema_state, upgrade


@click.group("db", help="Create or migrate the database schema.")
def db_group() -> None:
    """The ``db`` command group."""


@db_group.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Apply all migrations (creates the schema on an empty database)."""
    engine = get_database(current_app).engine
    try:
        state = schema_state(engine)
        if state is SchemaState.UNKNOWN:
            fail("the database has tables that annotator did not create; refusing to touch it")
        upgrade(engine)
    except OperationalError as error:
        fail(f"cannot open the database: {error.orig}")
    click.echo(f"database is at revision {head_revision()}")


@db_group.command("status")
@with_appcontext
def status_command() -> None:
    """Say whether the database is empty, current or needs a migration."""
    try:
        state = schema_state(get_database(current_app).engine)
    except OperationalError as error:
        fail(f"cannot open the database: {error.orig}")
    click.echo(state.value)
