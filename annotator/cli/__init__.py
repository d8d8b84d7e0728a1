"""The ``annotator`` command line: a Flask CLI group, so ``flask --app annotator`` works too."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, routes_command, shell_command


def register_commands(app: Flask) -> None:
    """Attach annotator's commands to ``app.cli``."""
    from annotator.cli import agreement, backup, data, database, server, users

    for command in (
        database.db_group,
        data.import_command,
        data.export_command,
        data.import_annotations_command,
        agreement.agreement_command,
        agreement.suggestions_eval_command,
        users.users_group,
        server.run_command,
        server.serve_command,
        server.demo_command,
        backup.backup_command,
        backup.restore_command,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from annotator import create_app
    from annotator.config import ConfigError

    try:
        return create_app()
    except ConfigError as error:  # a setting that cannot be used: one line, no traceback
        raise click.ClickException(str(error)) from None


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    set_debug_flag=False,
    help="Annotate news articles sentence by sentence: import, serve, export.",
)
def main() -> None:
    """The console script entry point."""


main.add_command(shell_command)
main.add_command(routes_command)
