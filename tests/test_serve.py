"""`annotator serve`: gunicorn workers on one database, and two real app processes that
agree on everything (annotations, conflicts, login sessions)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from annotator.cli.server import MAX_DEFAULT_WORKERS, default_workers, gunicorn_options
from annotator.db import get_database
from annotator.models import Unit
from tests.helpers import PASSWORD, add_article, add_project, add_user

START_TIMEOUT = 60


def test_default_workers_are_bounded() -> None:
    assert 2 <= default_workers() <= MAX_DEFAULT_WORKERS


def test_threads_choose_the_gthread_worker() -> None:
    assert gunicorn_options("127.0.0.1", 8000, 2, 1, 120)["worker_class"] == "sync"
    threaded = gunicorn_options("::1", 8000, 2, 4, 120)
    assert threaded["worker_class"] == "gthread" and threaded["threads"] == 4
    assert threaded["bind"] == "[::1]:8000"


def test_serve_refuses_an_outdated_database(app: Flask, runner: FlaskCliRunner) -> None:
    with get_database(app).engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    result = runner.invoke(args=["serve", "--port", "1"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert "needs a migration" in line and "annotator db upgrade" in line


def test_serve_refuses_an_unreachable_database_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotator import create_app

    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    result = app.test_cli_runner().invoke(args=["serve"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: cannot open the database")


# --- two processes, one database --------------------------------------------------------


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # the 302 itself is the answer we check


class Browser:
    """One browser: a cookie jar and the CSRF token of its session, for any server."""

    def __init__(self) -> None:
        self.jar = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.jar), _NoRedirects())
        self.csrf = ""

    def call(
        self, server: str, method: str, path: str, *, json_body: Any = None, form: Any = None
    ) -> tuple[int, Any]:
        """(status, JSON body or text) of one request."""
        headers = {"X-CSRFToken": self.csrf}
        data = None
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = Request(server + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, raw, kind = response.status, response.read(), response.headers
        except HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers
        if kind.get_content_type() == "application/json":
            return status, json.loads(raw)
        return status, raw.decode("utf-8", "replace")

    def put(self, server: str, unit: int, body: dict[str, Any]) -> tuple[int, Any]:
        """Save an annotation through the API."""
        return self.call(server, "PUT", f"/api/v1/units/{unit}/annotation", json_body=body)

    def login(self, server: str, username: str) -> None:
        """Log in through the real form (CSRF token included), then fetch the API token."""
        status, page = self.call(server, "GET", "/login")
        assert status == 200
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        form = {"username": username, "password": PASSWORD, "csrf_token": token}
        status, _ = self.call(server, "POST", "/login", form=form)
        assert status == 302
        self.refresh_csrf(server)

    def refresh_csrf(self, server: str) -> None:
        status, reply = self.call(server, "GET", "/api/v1/csrf-token")
        assert status == 200, reply
        self.csrf = reply["csrf_token"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """One `annotator serve` process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def signal_stop(self) -> None:
        """Ask gunicorn for a quick shutdown (SIGINT); ``wait`` for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def wait(self) -> None:
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(database_url: str, workdir: Path, secret: str, workers: int) -> Server:
    """Start `annotator serve` in its own instance folder and wait until it answers."""
    port = free_port()
    workdir.mkdir()
    env = {
        **os.environ,
        "ANNOTATOR_DATABASE_URL": database_url,
        # Separate instance folders: nothing may be shared through the file system.
        "ANNOTATOR_INSTANCE_PATH": str(workdir / "instance"),
        "ANNOTATOR_SECRET_KEY": secret,
        "ANNOTATOR_SQLITE_SYNCHRONOUS": "OFF",
    }
    log = workdir / "server.log"
    command = [sys.executable, "-c", "from annotator.cli import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"annotator serve exited:\n{log.read_text()}")
        try:
            if Browser().call(server.url, "GET", "/login")[0] == 200:
                return server
        except (URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    server.signal_stop()
    server.wait()
    pytest.fail(f"annotator serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture
def shared(session: Session) -> dict[str, Any]:
    """A project with an article and an annotator who has a password."""
    project = add_project(session, "wire")
    add_user(session, "ann", project=project)
    article = add_article(
        session,
        project,
        'KCNA said talks resumed. "We are ready," Koh Yu-hwan told AP. Prices may rise.',
        title="Talks",
    )
    sentences = session.scalars(
        select(Unit.id)
        .where(Unit.article_id == article.id, Unit.kind == "sentence")
        .order_by(Unit.position)
    ).all()
    session.commit()
    return {"article": article.id, "sentences": list(sentences)}


@pytest.fixture
def two_servers(database_url: str, shared: dict[str, Any], tmp_path: Path) -> Iterator[list[str]]:
    """Two `annotator serve` processes (2 workers each) on the same database."""
    secret = "test-" + uuid.uuid4().hex
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            servers.append(start_server(database_url, tmp_path / name, secret, workers=2))
        yield [server.url for server in servers]
    finally:
        for server in servers:
            server.signal_stop()
        for server in servers:
            server.wait()


def test_two_processes_share_one_state(two_servers: list[str], shared: dict[str, Any]) -> None:
    a, b = two_servers
    article, unit = shared["article"], shared["sentences"][0]
    on_a, on_b = Browser(), Browser()
    on_a.login(a, "ann")
    on_b.login(b, "ann")

    # Saved on one process, read on the other.
    save = {"label": "quote", "sources": [], "note": "from A", "expected_version": 0}
    status, saved = on_a.put(a, unit, save)
    assert status == 200 and saved["annotation"]["version"] == 1
    status, view = on_b.call(b, "GET", f"/api/v1/articles/{article}")
    assert status == 200
    [seen] = [u["annotation"] for u in view["units"] if u["id"] == unit]
    assert (seen["label"], seen["note"], seen["version"]) == ("quote", "from A", 1)
    assert view["progress"]["done"] == 1

    # A stale save on the other process: 409 with the current state.
    stale = {"label": "speculation", "sources": [], "note": "from B", "expected_version": 0}
    status, conflict = on_b.put(b, unit, stale)
    assert status == 409 and conflict["error"] == "conflict"
    assert conflict["current"] == saved["annotation"]
    fresh = {**stale, "expected_version": 1}
    status, second = on_b.put(b, unit, fresh)
    assert status == 200 and second["annotation"]["version"] == 2
    status, view = on_a.call(a, "GET", f"/api/v1/articles/{article}")
    [seen] = [u["annotation"] for u in view["units"] if u["id"] == unit]
    assert (seen["label"], seen["version"]) == ("speculation", 2)

    # A's login works on B (sessions live in the database, not in a process) ...
    assert on_a.call(b, "GET", "/api/v1/me")[0] == 200
    # ... until it logs out on A: then it is over on B too, and B's own session lives on.
    status, _ = on_a.call(a, "POST", "/logout", form={"csrf_token": on_a.csrf})
    assert status == 302
    assert on_a.call(b, "GET", "/api/v1/me")[0] == 401
    assert on_a.call(a, "GET", "/api/v1/me")[0] == 401
    for server in (b, a):
        status, me = on_b.call(server, "GET", "/api/v1/me")
        assert status == 200 and me["username"] == "ann"
