"""``annotator run``, ``annotator serve`` and ``annotator demo``: serve the app."""

from __future__ import annotations

import os
import secrets
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from annotator.cli.common import ensure_database
from annotator.config import is_loopback, production_problems
from annotator.db import get_database
from annotator.models import User
from annotator.users import create_user


def refuse_unsafe_start(app: Flask, host: str, debug: bool, *, production: bool) -> None:
    """Exit non-zero, one line per problem, when ``app`` must not serve on ``host``.

    Whether this is production mode is the caller's to say (the definition is
    in ``config.production_problems``): the secret key is checked only then,
    debug on an address other than loopback always.
    """
    problems = production_problems(app.config, debug=debug, host=host, production=production)
    if problems:
        for problem in problems:
            click.echo(f"Error: {problem}", err=True)
        raise click.exceptions.Exit(1)


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

    # Checked here too, so no caller can open the debugger to the network.
    refuse_unsafe_start(app, host, debug, production=not is_loopback(host))
    click.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=debug)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--debug", is_flag=True, help="Interactive debugger (loopback only).")
@with_appcontext
def run_command(host: str, port: int, debug: bool) -> None:
    """Serve annotator (creates the database when it is empty)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # FLASK_DEBUG / ANNOTATOR_DEBUG turn debug on as --debug does.
    debug = debug or app.debug
    # Before anything is written: a refused start leaves no database or admin.
    refuse_unsafe_start(app, host, debug, production=not is_loopback(host))
    ensure_database()
    _first_admin()
    serve(app, host, port, debug)


# More sync workers than this mostly queue on the database (SQLite has one
# writer) and each costs a process's memory and, on PostgreSQL, its connections.
MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """Two workers per usable core, at least 2 and at most ``MAX_DEFAULT_WORKERS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(2, min(2 * cores, MAX_DEFAULT_WORKERS))


def gunicorn_options(
    host: str, port: int, workers: int, threads: int, timeout: int
) -> dict[str, Any]:
    """The gunicorn settings of ``annotator serve``."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        # A sync worker busy with one request longer than this is killed: a
        # streamed export of a large project takes tens of seconds.
        "timeout": timeout,
        "proc_name": "annotator",
        "errorlog": "-",
        "loglevel": "info",
        # gunicorn >= 25 puts a control socket at one path per user: a second
        # server on the host would take it over. Nothing here uses it.
        "control_socket_disable": True,
    }


def serve_gunicorn(app: Flask, options: dict[str, Any]) -> None:
    """Run ``app`` under gunicorn's arbiter with ``options`` until it is stopped."""
    from gunicorn.app.base import BaseApplication

    engine = get_database(app).engine

    def post_fork(_server: Any, _worker: Any) -> None:
        # A pooled connection must never be shared across processes; the
        # master disposed its pool already, this makes sure of it.
        engine.dispose(close=False)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {**options, "post_fork": post_fork}.items():
                if key in self.cfg.settings:  # older gunicorns lack some settings
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    # The master only checked the schema; workers open their own connections.
    engine.dispose()
    Server().run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help=f"Worker processes [default: 2 per core, 2 to {MAX_DEFAULT_WORKERS}; "
    f"here {default_workers()}].",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per worker; more than 1 uses gunicorn's gthread workers.",
)
@click.option(
    "--timeout",
    default=120,
    show_default=True,
    type=click.IntRange(0, 86400),
    help="Seconds a request may run before its worker is restarted (0: never).",
)
@with_appcontext
def serve_command(host: str, port: int, workers: int | None, threads: int, timeout: int) -> None:
    """Serve annotator with gunicorn: several worker processes on one database.

    Every worker is stateless (sessions, CSRF tokens and caches live in the
    database, the signed cookie or the instance folder), so several `serve`
    processes, on one host or many, can share a PostgreSQL database behind a
    reverse proxy; give them the same ANNOTATOR_SECRET_KEY.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # `serve` is for a team: always production mode, whatever the address.
    refuse_unsafe_start(app, host, app.debug, production=True)
    ensure_database()
    _first_admin()
    workers = workers or default_workers()
    kind = f"{threads} threads each" if threads > 1 else "sync"
    click.echo(f"serving on http://{host}:{port}/ with {workers} workers ({kind}); Ctrl+C stops")
    serve_gunicorn(app, gunicorn_options(host, port, workers, threads, timeout))


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
