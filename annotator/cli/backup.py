"""``annotator backup PATH`` and ``annotator restore PATH`` (SQLite; PostgreSQL has pg_dump)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from annotator.backup import BackupError, backup_database, restore_database, sqlite_file
from annotator.cli.common import fail
from annotator.db import get_database


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_command(path: Path, force: bool) -> None:
    """Copy the SQLite database to PATH while the app runs (a consistent snapshot)."""
    engine = get_database(current_app).engine
    try:
        live = sqlite_file(engine.url, "annotator backup", "pg_dump -Fc")
        summary = backup_database(live, path, force=force)
    except BackupError as error:
        fail(str(error))
    click.echo(f"backed up {live} to {summary.path}")
    click.echo(f"  {summary.describe()}")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Replace the SQLite database with the backup PATH; the old one is kept beside it.

    Stop the server first: the restore refuses while another process has the
    database open.
    """
    engine = get_database(current_app).engine
    # This process's own pooled connections would count as "in use".
    engine.dispose()
    try:
        live = sqlite_file(engine.url, "annotator restore", "pg_restore")
        result = restore_database(live, path)
    except BackupError as error:
        fail(str(error))
    click.echo(f"restored {path} into {live}")
    click.echo(f"  {result.restored.describe()}")
    if result.previous is not None:
        click.echo(f"  the previous database is kept as {result.previous}")
    if result.needs_upgrade:
        click.echo("  its schema is older than this version: run `annotator db upgrade`")
