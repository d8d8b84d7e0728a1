"""``annotator run`` and ``annotator demo``: serve the app."""

from __future__ import annotations

import ipaddress
import secrets

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from annotator.cli.common import ensure_database, fail
from annotator.db import get_database
from annotator.models import User
from annotator.users import create_user


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _first_admin() -> None:
    """On a database without users, create ``admin`` and print its one-time password."""
    session = get_database(current_app).session()
    try:
        if session.scalar(select(func.count()).select_from(User)):
            return
        password = secrets.token_urlsafe(12)
        admin = create_user(session, "admin", role="admin", password=password)
        admin.must_change_password = True
        session.commit()
    finally:
        session.close()
    click.echo(f"created user 'admin' with the one-time password {password}")
    click.echo("  (you choose a new one at the first login; `annotator users add` adds accounts)")


def serve(app: Flask, host: str, port: int, debug: bool) -> None:
    """Serve ``app`` with Werkzeug's threaded server (use gunicorn for a team)."""
    from werkzeug.serving import run_simple

    if debug and not is_loopback(host):
        fail(
            f"refusing to run with debug on {host}: the debugger runs code for anyone "
            "who can reach it; bind to 127.0.0.1 or turn debug off"
        )
    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=debug)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Interactive debugger (loopback only).")
@with_appcontext
def run_command(host: str, port: int, debug: bool) -> None:
    """Serve annotator (creates the database when it is empty)."""
    ensure_database()
    _first_admin()
    serve(current_app._get_current_object(), host, port, debug)  # type: ignore[attr-defined]


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
@with_appcontext
def demo_command(port: int, no_serve: bool) -> None:
    """Load a sample project with demo users and annotations, then serve on 127.0.0.1."""
    from annotator.demo import load_demo

    ensure_database()
    session = get_database(current_app).session()
    try:
        summary = load_demo(session)
        session.commit()
    finally:
        session.close()
    click.echo(
        f"demo project {summary.project!r}: {summary.articles} articles, "
        f"{summary.annotations} annotations"
    )
    click.echo("log in with one of these accounts (passwords are new on every `demo` run):")
    for name, role, password in summary.accounts:
        click.echo(f"  {name:<10} {role:<10} {password}")
    if not no_serve:
        serve(current_app._get_current_object(), "127.0.0.1", port, False)  # type: ignore[attr-defined]
