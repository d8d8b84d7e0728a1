"""Production mode refuses to start with a missing or weak secret key, or debug on a
public address (catalogue rows 42 and 46); SESSION_COOKIE_SECURE from the environment."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import inspect

from annotator import create_app
from annotator.cli import main
from annotator.config import ConfigError, production_problems
from annotator.db import get_database

STRONG = uuid.uuid4().hex + uuid.uuid4().hex  # 64 random hex characters


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean ANNOTATOR_/FLASK_ environment with its instance folder in tmp_path."""
    for name in (
        "ANNOTATOR_SECRET_KEY",
        "ANNOTATOR_DEBUG",
        "FLASK_DEBUG",
        "ANNOTATOR_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ANNOTATOR_SESSION_COOKIE_SECURE", raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("ANNOTATOR_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("ANNOTATOR_SQLITE_SYNCHRONOUS", "OFF")
    return tmp_path


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what would have been served instead of serving it."""
    calls: list[dict[str, Any]] = []

    def fake_gunicorn(app: Flask, options: dict[str, Any]) -> None:
        calls.append({"server": "gunicorn", "bind": options["bind"]})

    def fake_run_simple(host: str, port: int, app: Any, **kwargs: Any) -> None:
        calls.append({"server": "werkzeug", "host": host, "debugger": kwargs["use_debugger"]})

    monkeypatch.setattr("annotator.cli.server.serve_gunicorn", fake_gunicorn)
    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    return calls


def invoke(*args: str) -> tuple[Flask, Result]:
    """Run the real ``annotator`` command group (as the console script does) in-process."""
    info = ScriptInfo(create_app=create_app, set_debug_flag=False)
    result = CliRunner().invoke(main, list(args), obj=info)
    app = info._loaded_app
    assert app is not None, result.output
    get_database(app).engine.dispose()
    return app, result


def errors(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error: ")]


def nothing_written(tmp_path: Path) -> bool:
    """No database tables (so no admin account) were created by a refused start."""
    database = tmp_path / "db.sqlite3"
    if not database.exists():
        return True
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{database}")
    try:
        return inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("short-but-random-7Hq2", "shorter than 32 characters"),
        ("changeme", "well-known placeholder"),
        ("CHANGE-ME", "well-known placeholder"),
        ("a" * 64, "too few characters"),
        ("abababababababababababababababababab", "too few characters"),
    ],
)
def test_serve_refuses_a_weak_secret_key(
    environment: Path,
    served: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    reason: str,
) -> None:
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", key)
    _, result = invoke("serve")
    assert result.exit_code == 1
    [line] = errors(result)
    assert reason in line and "ANNOTATOR_SECRET_KEY" in line
    assert key not in line  # the key itself is never printed
    assert served == [] and nothing_written(environment)


def test_serve_refuses_when_the_instance_key_cannot_be_read_or_created(
    environment: Path, served: list[dict[str, Any]]
) -> None:
    # Root ignores file modes, so the key file is made unreadable another way:
    # a directory where the file should be.
    (environment / "instance" / "secret_key").mkdir(parents=True)
    app, result = invoke("serve")
    assert app.config["SECRET_KEY"] is None
    assert result.exit_code == 1
    [line] = errors(result)
    assert "cannot read or create" in line and "secret_key" in line
    assert served == [] and nothing_written(environment)


def test_commands_that_sign_nothing_work_without_a_key(environment: Path) -> None:
    (environment / "instance" / "secret_key").mkdir(parents=True)
    _, result = invoke("export", "--schema")
    assert result.exit_code == 0, result.output
    assert '"$schema"' in result.output


def test_serve_starts_with_the_generated_key_or_a_strong_one(
    environment: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, result = invoke("serve", "--host", "0.0.0.0", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert len((environment / "instance" / "secret_key").read_text().strip()) == 64
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", STRONG)
    _, result = invoke("serve", "--port", "8124")
    assert result.exit_code == 0, result.output
    assert served == [
        {"server": "gunicorn", "bind": "0.0.0.0:8123"},
        {"server": "gunicorn", "bind": "127.0.0.1:8124"},
    ]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["run", "--debug", "--host", "0.0.0.0"], {}),
        (["run", "--debug", "--host", "192.0.2.10"], {}),
        (["run", "--debug", "--host", "::"], {}),
        (["run", "--host", "0.0.0.0"], {"FLASK_DEBUG": "1"}),
        (["run", "--host", "0.0.0.0"], {"ANNOTATOR_DEBUG": "true"}),
        (["serve", "--host", "0.0.0.0"], {"ANNOTATOR_DEBUG": "true"}),
    ],
)
def test_row_46_debug_on_a_public_address_refuses_to_start(
    environment: Path,
    served: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
) -> None:
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", STRONG)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _, result = invoke(*args)
    assert result.exit_code == 1
    [line] = errors(result)
    assert line.startswith("Error: refusing to run with debug on ")
    assert "bind to 127.0.0.1 or turn debug off" in line
    assert served == [] and nothing_written(environment)


def test_debug_on_loopback_and_a_weak_key_on_loopback_are_allowed(
    environment: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `annotator run` on loopback is one person on their own machine: not production.
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", "dev")
    _, result = invoke("run", "--debug", "--port", "5111")
    assert result.exit_code == 0, result.output
    _, result = invoke("run", "--host", "::1", "--port", "5112")
    assert result.exit_code == 0, result.output
    assert served == [
        {"server": "werkzeug", "host": "127.0.0.1", "debugger": True},
        {"server": "werkzeug", "host": "::1", "debugger": False},
    ]


def test_run_on_a_public_address_is_production(
    environment: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", "dev")
    monkeypatch.setenv("ANNOTATOR_DEBUG", "true")
    _, result = invoke("run", "--host", "0.0.0.0")
    assert result.exit_code == 1
    # One readable line per problem: the key and the debugger.
    lines = errors(result)
    assert len(lines) == 2
    assert "well-known placeholder" in lines[0] and "debug on 0.0.0.0" in lines[1]
    assert served == [] and nothing_written(environment)


def test_the_wsgi_factory_checks_like_serve(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from annotator.wsgi import UnsafeStartError, create_production_app

    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", "secret")
    with pytest.raises(UnsafeStartError, match="well-known placeholder"):
        create_production_app()
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", STRONG)
    monkeypatch.setenv("ANNOTATOR_DEBUG", "true")
    with pytest.raises(UnsafeStartError, match="debug under a WSGI server"):
        create_production_app()
    monkeypatch.delenv("ANNOTATOR_DEBUG")
    app = create_production_app()
    assert app.config["SECRET_KEY"] == STRONG and not app.debug
    get_database(app).engine.dispose()


def test_a_generated_key_passes_and_no_key_fails(tmp_path: Path) -> None:
    from annotator.config import load_or_create_secret

    generated = load_or_create_secret(str(tmp_path))
    assert production_problems({"SECRET_KEY": generated}, debug=False, host="0.0.0.0") == []
    [problem] = production_problems({"SECRET_KEY": ""}, debug=False, host="127.0.0.1")
    assert "no secret key" in problem
    # Outside production mode only debug on a public address counts.
    assert production_problems({"SECRET_KEY": ""}, debug=True, host="::1", production=False) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("True", True), ("yes", True), ("1", True), ("false", False), ("off", False)],
)
def test_session_cookie_secure_from_the_environment(
    environment: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("ANNOTATOR_SESSION_COOKIE_SECURE", value)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is expected
    get_database(app).engine.dispose()


def test_session_cookie_secure_refuses_a_value_it_cannot_read(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOTATOR_SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE must be true or false"):
        create_app()


def test_secure_is_off_by_default(environment: Path) -> None:
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    get_database(app).engine.dispose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SESSION_COOKIE_SECURE", "maybe"),
        ("PROXY_FIX_X_FOR", "-1"),
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "five"),
        ("LOGIN_WINDOW_SECONDS", "1.5"),
    ],
)
def test_a_bad_setting_stops_every_command_in_one_line(
    environment: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("ANNOTATOR_" + name, value)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert errors(result) == [result.output.strip()]
    assert name in result.output and "Traceback" not in result.output
    assert nothing_written(environment)
