"""The app factory, configuration and the secret key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from flask import Flask

from annotator import create_app
from annotator.config import load_or_create_secret


def test_secret_key_is_generated_once_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("ANNOTATOR_SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    secret_file = tmp_path / "inst" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600


def test_two_instances_get_different_secrets(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert load_or_create_secret(str(tmp_path / "a")) != load_or_create_secret(str(tmp_path / "b"))


def test_environment_overrides_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("ANNOTATOR_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("ANNOTATOR_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "inst" / "secret_key").exists()
    from annotator.db import get_database

    assert get_database(app).engine.url.database == str(tmp_path / "env.db")


def test_default_database_is_sqlite_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("ANNOTATOR_DATABASE_URL", raising=False)
    app = create_app()
    from annotator.db import get_database

    assert get_database(app).engine.url.database == str(tmp_path / "inst" / "annotator.sqlite3")


def test_security_headers(app: Flask) -> None:
    response = app.test_client().get("/login")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_ids_beyond_32_bits_are_404_on_every_get_route(app: Flask) -> None:
    """Every id column is a 32-bit INTEGER (int4 on PostgreSQL): a larger id in a URL is
    "not found", not a driver overflow and a 500 (found by tests/test_api_fuzz.py)."""
    from tests.helpers import add_project, add_user, app_session, login

    with app_session(app) as session:
        add_user(session, "boss", "admin", project=add_project(session))
        session.commit()
    client = app.test_client()
    login(client, "boss")
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set())
        and any(type(c).__name__ == "IntegerConverter" for c in rule._converters.values())
    ]
    assert len(routes) >= 5
    for rule in routes:
        values = {name: 2**31 for name in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]  # type: ignore[index]
        assert client.get(url).status_code == 404, url
