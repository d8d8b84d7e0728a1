"""Imports next to other writers: no write lock while parsing, no clash on new source names."""

from __future__ import annotations

import io
import sqlite3
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from annotator import importer, project_settings
from annotator.models import Article, Source
from annotator.registry import SourceIndex
from tests.helpers import add_project, add_user, app_session, login

TEXT = (
    "Talks resume\n\n"
    "Koh Yu-hwan, a professor at Dongguk University, said the talks would resume. "
    "The agency KCNA reported the visit on Friday."
)


@pytest.fixture
def lock_checked(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Makes every analysis first check that nobody holds SQLite's write lock."""
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's single write lock; PostgreSQL locks rows")
    analysed: list[int] = []
    original = importer.analyse_all

    def checking(articles: list) -> list:
        # Another connection takes the write lock at once, or this raises "locked".
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
        analysed.append(len(articles))
        return original(articles)

    monkeypatch.setattr(importer, "analyse_all", checking)
    monkeypatch.setattr(project_settings, "analyse_all", checking)
    return analysed


def _reviewer_client(app: Flask) -> tuple[object, int]:
    with app_session(app) as session:
        project = add_project(session)
        add_user(session, "rev", "reviewer", project=project)
        session.commit()
        project_id = project.id
    client = app.test_client()
    login(client, "rev")
    return client, project_id


def _csrf(client: object, project_id: int) -> str:
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)  # type: ignore[attr-defined]
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


@pytest.mark.parametrize("how", ["paste", "upload"])
def test_web_imports_analyse_before_taking_the_write_lock(
    app: Flask, lock_checked: list[int], how: str
) -> None:
    client, project_id = _reviewer_client(app)
    data: dict[str, object] = {"csrf_token": _csrf(client, project_id)}
    if how == "paste":
        data["text"] = TEXT
    else:
        data["file"] = (io.BytesIO(TEXT.encode()), "a.txt")
    response = client.post(f"/projects/{project_id}/import", data=data)  # type: ignore[attr-defined]
    assert response.status_code == 302, response.get_data(as_text=True)
    assert lock_checked == [1]
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_api_import_analyses_before_taking_the_write_lock(
    app: Flask, lock_checked: list[int]
) -> None:
    client, project_id = _reviewer_client(app)
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]  # type: ignore[attr-defined]
    response = client.post(  # type: ignore[attr-defined]
        f"/api/v1/projects/{project_id}/articles",
        json={"text": TEXT},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert lock_checked == [1]


def test_cli_import_analyses_before_taking_the_write_lock(
    runner: FlaskCliRunner, tmp_path: Path, lock_checked: list[int]
) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(TEXT.replace("Friday", name), encoding="utf-8")
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert lock_checked == [2]


def test_two_imports_registering_the_same_new_source_do_not_clash(engine: Engine) -> None:
    """The second import's registry was read before the first committed the name."""
    with Session(engine) as setup:
        project_id = add_project(setup).id
        setup.commit()
    first, second = Session(engine), Session(engine)
    try:
        stale = SourceIndex(second, project_id)  # read before either registers the name
        second.commit()
        first_id = SourceIndex(first, project_id).ensure("Koh Yu-hwan", "person", ["Koh"])
        outcome: dict[str, object] = {}

        def register_too() -> None:
            try:
                outcome["id"] = stale.ensure("Koh Yu-hwan", "person", ["Koh"])
                second.commit()
            except Exception as error:  # the assertion below shows it
                outcome["error"] = error
                second.rollback()

        thread = threading.Thread(target=register_too)
        if engine.dialect.name == "postgresql":
            thread.start()  # waits on the first transaction's unique key
            thread.join(0.5)
            first.commit()
        else:
            first.commit()  # SQLite: one writer at a time, so commit first
            thread.start()
        thread.join(30)
        assert "error" not in outcome, outcome.get("error")
        assert outcome["id"] == first_id
        with Session(engine) as check:
            names = check.scalars(select(Source.name).where(Source.project_id == project_id))
            assert sorted(names) == ["Koh Yu-hwan"]
    finally:
        first.close()
        second.close()
