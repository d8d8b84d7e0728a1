"""``annotator users``: accounts and roles."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from annotator.access import add_member
from annotator.auth import change_password
from annotator.cli.common import fail, session_scope
from annotator.models import ROLES, User
from annotator.projects import ProjectError, get_or_create_project
from annotator.users import UserError, create_user, get_user_by_name


@click.group("users", help="Manage user accounts.")
def users_group() -> None:
    """The ``users`` command group."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="annotator", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--no-password",
    is_flag=True,
    help="Create the account without a password (it cannot log in yet).",
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    help="Make the user a member of this project (repeatable; created if missing).",
)
@with_appcontext
def add_command(
    name: str, role: str, password_stdin: bool, no_password: bool, projects: tuple[str, ...]
) -> None:
    """Add a user; the password is prompted for unless given on stdin."""
    password: str | None
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        try:
            user = create_user(session, name, role=role, password=password)
            for project_name in projects:
                project, _ = get_or_create_project(session, project_name)
                add_member(session, project.id, user.id)
        except (UserError, ProjectError) as error:
            fail(str(error))
        session.commit()
        where = f" in {', '.join(repr(p) for p in projects)}" if projects else ""
        click.echo(f"added {user.role} {user.username!r}{where}")


@users_group.command("list")
@with_appcontext
def list_command() -> None:
    """List users with their roles."""
    with session_scope() as session:
        for username, role, has_password in session.execute(
            select(User.username, User.role, User.password_hash.is_not(None)).order_by(User.id)
        ):
            click.echo(f"{username}\t{role}\t{'password set' if has_password else 'no password'}")


@users_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--temporary", is_flag=True, help="The user must choose a new password at the next login."
)
@with_appcontext
def set_password_command(name: str, password_stdin: bool, temporary: bool) -> None:
    """Reset a user's password; every login session of the account ends.

    This is the only password reset: the app sends no e-mail, so no reset link
    can be pointed at a spoofed host.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        user = get_user_by_name(session, name)
        if user is None:
            fail(f"no user called {name!r}")
        assert user is not None
        try:
            change_password(session, user, password)
        except UserError as error:
            fail(str(error))
        user.must_change_password = temporary
        session.commit()
        click.echo(f"set the password of {user.username!r}; its sessions were ended")
