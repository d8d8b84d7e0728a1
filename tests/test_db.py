"""The engine: SQLite pragmas on our engine, schema creation and state checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotator.db import make_engine
from annotator.models import Annotation, Article, Label, Project, Unit, User
from annotator.schema import SchemaError, SchemaState, ensure_schema, schema_state, upgrade


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}", synchronous="FULL", busy_timeout_ms=1234)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_pragmas_are_not_global(tmp_path: Path) -> None:
    make_engine(f"sqlite:///{tmp_path / 'ours.db'}")
    other = create_engine(f"sqlite:///{tmp_path / 'theirs.db'}")
    with other.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0


def test_bad_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        make_engine(f"sqlite:///{tmp_path / 'x.db'}", synchronous="sometimes")


def test_schema_states(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    assert schema_state(engine) is SchemaState.EMPTY
    assert ensure_schema(engine) is True
    assert schema_state(engine) is SchemaState.CURRENT
    assert ensure_schema(engine) is False


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(SchemaError, match="did not create"):
        ensure_schema(engine)


def test_outdated_database_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(SchemaError, match="annotator db upgrade"):
        ensure_schema(engine)


def _unit_fixture(session: Session) -> tuple[Project, Unit, User]:
    project = Project(name="p")
    project.labels = [Label(name="quote", key="2", position=0)]
    session.add(project)
    session.flush()
    article = Article(project_id=project.id, text="One. Two.", content_hash="h")
    session.add(article)
    session.flush()
    unit = Unit(article_id=article.id, position=0, index=0, kind="sentence", start=0, end=4)
    user = User(username="ann", role="annotator")
    session.add_all([unit, user])
    session.flush()
    return project, unit, user


def test_one_annotation_per_unit_and_annotator(session: Session) -> None:
    project, unit, user = _unit_fixture(session)
    label = project.labels[0]
    session.add(Annotation(unit_id=unit.id, annotator_id=user.id, label_id=label.id))
    session.flush()
    session.add(Annotation(unit_id=unit.id, annotator_id=user.id, label_id=label.id))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize(
    "values",
    [
        {"kind": "paragraph", "index": 1},  # unknown kind
        {"kind": "title", "index": 1},  # only sentences carry an index
        {"kind": "sentence", "index": None},  # a sentence needs one
        {"start": 5, "end": 5},  # empty span
        {"start": -1, "end": 3},
    ],
)
def test_unit_check_constraints(session: Session, values: dict) -> None:
    _project, unit, _user = _unit_fixture(session)
    fields = {
        "article_id": unit.article_id,
        "position": 1,
        "index": 1,
        "kind": "sentence",
        "start": 5,
        "end": 9,
    } | values
    session.add(Unit(**fields))
    with pytest.raises(IntegrityError):
        session.flush()


def test_role_is_checked(session: Session) -> None:
    session.add(User(username="x", role="superuser"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Unit(article_id=999, position=0, index=0, kind="sentence", start=0, end=1))
    with pytest.raises(IntegrityError):
        session.flush()
