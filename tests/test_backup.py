"""`annotator backup` and `annotator restore`: a consistent copy of a database that is
being written, restored intact; bad paths and files refused without losing anything."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator import create_app
from annotator.annotating import SaveRequest, save_annotation
from annotator.db import get_database, make_engine
from annotator.models import Annotation, Unit, User
from annotator.schema import ensure_schema
from tests.conftest import PG_URL
from tests.helpers import add_article, add_project, add_user

LABELS = ("reported_fact", "quote", "speculation", "unclear")
TEXT = " ".join(
    f"Officials in city {n} said the talks would resume, AP reported." for n in range(40)
)


def digest(path: Path) -> str:
    """Everything a backup must carry over, hashed: annotations, their history, units."""
    with closing(sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT a.unit_id, u.username, l.name, a.note, a.version FROM annotations a "
            "JOIN labels l ON l.id = a.label_id JOIN users u ON u.id = a.annotator_id "
            "ORDER BY a.unit_id, u.username"
        ).fetchall()
        events = db.execute(
            "SELECT unit_id, version, label, note FROM annotation_events ORDER BY id"
        ).fetchall()
        units = db.execute("SELECT count(*) FROM units").fetchone()
    return hashlib.sha256(repr((rows, events, units)).encode()).hexdigest()


def one_line(output: str) -> str:
    [line] = output.strip().splitlines()
    assert line.startswith("Error: ")
    return line


def strays(folder: Path) -> list[str]:
    """Temporary or kept-aside files a refused command must not leave behind."""
    return sorted(
        p.name for p in folder.iterdir() if ".tmp-" in p.name or "before-restore" in p.name
    )


@dataclass
class World:
    app: Flask
    runner: FlaskCliRunner
    live: Path
    url: str
    units: list[int]
    user_id: int


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """An app on a SQLite file with a project, an annotator and a 40-sentence article."""
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "instance"))
    live = tmp_path / "live" / "annotator.sqlite3"
    live.parent.mkdir()
    url = f"sqlite:///{live}"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex})
    ensure_schema(get_database(app).engine)
    with get_database(app).session() as session:
        project = add_project(session)
        user = add_user(session, "ann", project=project)
        article = add_article(session, project, TEXT, title="Talks")
        units = session.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).all()
        session.commit()
        user_id = user.id
    get_database(app).engine.dispose()
    yield World(app, app.test_cli_runner(), live, url, list(units), user_id)
    get_database(app).engine.dispose()


def save(world: World, count: int, note: str = "n") -> None:
    """``count`` saves through the domain function, each its own transaction."""
    engine = make_engine(world.url)
    with Session(engine) as session:
        user = session.get(User, world.user_id)
        assert user is not None
        for n in range(count):
            unit = world.units[n % len(world.units)]
            version = session.scalar(
                select(Annotation.version).where(
                    Annotation.unit_id == unit, Annotation.annotator_id == world.user_id
                )
            )
            request = SaveRequest(LABELS[n % 4], (), f"{note} {n}", version or 0)
            save_annotation(session, unit, user, request)
    engine.dispose()


def test_backup_while_writing_is_a_snapshot_that_restores(world: World, tmp_path: Path) -> None:
    states: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        # Every commit is followed by the digest of the state it left; nothing
        # else writes, so each digest names one state the database really had.
        engine = make_engine(world.url)
        try:
            with Session(engine) as session:
                user = session.get(User, world.user_id)
                assert user is not None
                versions: dict[int, int] = {}
                n = 0
                while not stop.is_set():
                    unit = world.units[n % len(world.units)]
                    request = SaveRequest(LABELS[n % 4], (), f"save {n}", versions.get(unit, 0))
                    result = save_annotation(session, unit, user, request)
                    versions[unit] = result["annotation"]["version"]
                    states.append(digest(world.live))
                    n += 1
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            engine.dispose()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(states) < 20 and thread.is_alive():
            threading.Event().wait(0.01)
        before = len(states)
        copy = tmp_path / "copy.sqlite3"
        result = world.runner.invoke(args=["backup", str(copy)])
        after = len(states)
        while len(states) < after + 20 and thread.is_alive():
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert result.exit_code == 0, result.output
    assert f"to {copy}" in result.output and "annotations" in result.output
    # One file, no WAL beside it, sound, and exactly one state the source had
    # while the backup ran (the writer went on before and after it).
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == [
        "copy.sqlite3"
    ]
    with closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    snapshot = digest(copy)
    assert snapshot in states[before - 1 : after + 1]
    final = digest(world.live)
    assert final == states[-1] != snapshot

    result = world.runner.invoke(args=["restore", str(copy)])
    assert result.exit_code == 0, result.output
    assert digest(world.live) == snapshot
    [kept] = [p for p in world.live.parent.iterdir() if "before-restore" in p.name]
    assert f"kept as {kept}" in result.output
    assert digest(kept) == final
    # The restored database is the app's database: it serves it.
    with world.app.test_client() as client:
        assert client.get("/login").status_code == 200
    assert strays(tmp_path) == []


def test_backup_does_not_overwrite_without_force(world: World, tmp_path: Path) -> None:
    save(world, 5)
    target = tmp_path / "old.sqlite3"
    target.write_text("keep me")
    result = world.runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 1
    assert "exists; pass --force" in one_line(result.output)
    assert target.read_text() == "keep me"
    result = world.runner.invoke(args=["backup", "--force", str(target)])
    assert result.exit_code == 0, result.output
    assert digest(target) == digest(world.live)


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("missing/folder/copy.sqlite3", "does not exist"),
        (".", "is a directory"),
        ("live/annotator.sqlite3", "must not overwrite the live database"),
    ],
)
def test_backup_refuses_bad_destinations(
    world: World, tmp_path: Path, destination: str, message: str
) -> None:
    save(world, 3)
    before = digest(world.live)
    result = world.runner.invoke(args=["backup", "--force", str(tmp_path / destination)])
    assert result.exit_code == 1
    assert message in one_line(result.output)
    assert digest(world.live) == before
    assert strays(tmp_path) == strays(world.live.parent) == []


def _plain_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.commit()


def _with_revision(revision: str) -> object:
    def make(path: Path, world: World) -> None:
        assert world.runner.invoke(args=["backup", str(path)]).exit_code == 0
        with closing(sqlite3.connect(path)) as db:
            db.execute("UPDATE alembic_version SET version_num = ?", (revision,))
            db.commit()

    return make


def _damaged(path: Path, world: World) -> None:
    assert world.runner.invoke(args=["backup", str(path)]).exit_code == 0
    page = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as handle:  # the b-tree header of page 2
        handle.seek(page)
        handle.write(b"\xff" * 64)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "no such file"),
        (lambda p, w: p.mkdir(), "is not a file"),
        (lambda p, w: p.write_text("annotations, honest\n"), "is not a SQLite database"),
        (lambda p, w: p.write_bytes(b""), "is not a SQLite database"),
        (lambda p, w: _plain_sqlite(p), "not an annotator database"),
        (_with_revision("9999_from_the_future"), "does not know"),
        (_damaged, "cannot be read as a database"),
    ],
    ids=["missing", "directory", "text", "empty", "foreign", "newer", "damaged"],
)
def test_restore_refuses_what_it_cannot_use(
    world: World, tmp_path: Path, make: object, message: str
) -> None:
    save(world, 7)
    before = digest(world.live)
    source = tmp_path / "backup.sqlite3"
    if make is not None:
        make(source, world)  # type: ignore[operator]
    result = world.runner.invoke(args=["restore", str(source)])
    assert result.exit_code == 1
    assert message in one_line(result.output)
    assert digest(world.live) == before
    assert strays(world.live.parent) == []


def test_restore_refuses_while_another_process_has_the_database_open(
    world: World, tmp_path: Path
) -> None:
    save(world, 4)
    backup = tmp_path / "b.sqlite3"
    assert world.runner.invoke(args=["backup", str(backup)]).exit_code == 0
    save(world, 4, note="later")
    before = digest(world.live)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]);"
            "db.execute('PRAGMA journal_mode=WAL'); db.execute('SELECT count(*) FROM users');"
            "print('open', flush=True); sys.stdin.read()",
            str(world.live),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        result = world.runner.invoke(args=["restore", str(backup)])
        assert result.exit_code == 1
        assert "is in use" in one_line(result.output)
        assert digest(world.live) == before
        assert strays(world.live.parent) == []
    finally:
        holder.communicate(b"", timeout=30)
    result = world.runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert digest(world.live) == digest(backup) != before


def test_a_failed_restore_loses_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(world, 4)
    backup = tmp_path / "b.sqlite3"
    assert world.runner.invoke(args=["backup", str(backup)]).exit_code == 0
    save(world, 4, note="after the backup")
    before = digest(world.live)

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("annotator.backup.os.replace", full_disk)
    result = world.runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 1
    assert "No space left on device" in one_line(result.output)
    assert digest(world.live) == before
    assert strays(world.live.parent) == []
    with closing(sqlite3.connect(world.live)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_restore_of_an_older_revision_asks_for_an_upgrade(world: World, tmp_path: Path) -> None:
    backup = tmp_path / "old.sqlite3"
    _with_revision("0001")(backup, world)  # type: ignore[operator]
    result = world.runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert "run `annotator db upgrade`" in result.output
    assert "revision 0001" in result.output


@pytest.mark.parametrize(("command", "tool"), [("backup", "pg_dump"), ("restore", "pg_restore")])
def test_postgresql_points_to_its_own_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, tool: str
) -> None:
    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "instance"))
    url = PG_URL or "postgresql+psycopg://nobody@127.0.0.1:1/none"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x" * 32})
    target = tmp_path / "dump"
    result = app.test_cli_runner().invoke(args=[command, str(target)])
    assert result.exit_code == 1
    line = one_line(result.output)
    assert tool in line and "docs/backups.md" in line
    assert not target.exists() and strays(tmp_path) == []
