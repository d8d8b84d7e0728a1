"""Crash safety: the server and a large import killed with SIGKILL under load lose no
acknowledged save and leave no half-imported article (bench/crash.py, short run), and
the checker behind that verdict catches every kind of damage it looks for."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from annotator.annotating import SaveRequest, save_annotation
from annotator.models import Project, Unit, User
from bench.crash import Options, run
from bench.crash_check import Ledger, Save, check_database
from tests.conftest import PG_URL
from tests.helpers import add_article, add_project, add_user

TEXT = (
    "KCNA said talks resumed on Monday, AP reported. "
    '"We are ready," Koh Yu-hwan told AFP. Prices may rise next year. '
    "The ministry did not comment. Analysts believe the deal could collapse."
)
TITLE = "Talks resume"


def _world(engine: Engine) -> tuple[Ledger, int, list[int]]:
    """An article, an annotator's three acknowledged saves, and the ledger that says so."""
    with Session(engine, expire_on_commit=False) as session:
        project = add_project(session)
        user = add_user(session, "ann", project=project)
        article = add_article(session, project, TEXT, title=TITLE)
        units = list(
            session.scalars(
                select(Unit.id)
                .where(Unit.article_id == article.id, Unit.kind == "sentence")
                .order_by(Unit.position)
            )
        )
        session.commit()
        saves = [
            Save(units[0], "ann", "quote", "first", 1),
            Save(units[0], "ann", "speculation", "second", 2),
            Save(units[1], "ann", "unclear", "other", 1),
        ]
        for save in saves:
            user = session.get(User, user.id)
            request = SaveRequest(save.label, (), save.note, save.version - 1)
            save_annotation(session, save.unit, user, request)
        article_id = article.id
    ledger = Ledger(acked=saves)
    ledger.articles[TITLE] = ("text", TEXT)
    ledger.acked_articles.add(TITLE)
    return ledger, article_id, units


def _sql(statement: str) -> Callable[[Engine, int, list[int]], None]:
    def doctor(engine: Engine, article: int, units: list[int]) -> None:
        with engine.begin() as connection:
            connection.execute(
                text(statement), {"article": article, "u0": units[0], "u1": units[1]}
            )

    return doctor


def _orphans(engine: Engine, article: int, _units: list[int]) -> None:
    """Delete the article behind the database's back: foreign keys not enforced, no cascade."""
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        if engine.dialect.name == "sqlite":
            # Autocommit connection (db.make_engine): the pragma applies at once.
            driver.execute("PRAGMA foreign_keys=OFF")
            driver.execute("DELETE FROM articles WHERE id = ?", (article,))
            driver.execute("PRAGMA foreign_keys=ON")
        else:
            # Replica mode skips the triggers that enforce foreign keys.
            driver.execute("SET session_replication_role = replica")
            driver.execute("DELETE FROM articles WHERE id = %s", (article,))
            driver.execute("SET session_replication_role = DEFAULT")
            driver.commit()
    finally:
        raw.close()


def _stranger(engine: Engine, _article: int, _units: list[int]) -> None:
    """An article nobody imported."""
    with Session(engine) as session:
        add_article(session, session.scalars(select(Project)).one(), "A stranger wrote this.")
        session.commit()


DOCTORED = {
    "dropped save": (
        _sql("DELETE FROM annotations WHERE unit_id = :u1"),
        "acknowledged save lost",
    ),
    "rolled back save": (
        _sql(
            "UPDATE annotations SET version = 1, note = 'first', "
            "label_id = (SELECT id FROM labels WHERE name = 'quote') WHERE unit_id = :u0"
        ),
        "acknowledged save rolled back",
    ),
    "changed save": (
        _sql("UPDATE annotations SET note = 'tampered' WHERE unit_id = :u0"),
        "acknowledged save changed",
    ),
    "history lost": (
        _sql("DELETE FROM annotation_events WHERE unit_id = :u0 AND version = 2"),
        "missing from the history",
    ),
    "answer nobody sent": (
        _sql("UPDATE annotations SET version = 7 WHERE unit_id = :u1"),
        "stored answer nobody sent",
    ),
    "half an article": (
        _sql(
            "DELETE FROM units WHERE article_id = :article AND position = "
            "(SELECT max(position) FROM units WHERE article_id = :article)"
        ),
        "is incomplete",
    ),
    "mentions lost": (
        _sql(
            "DELETE FROM mentions WHERE id = "
            "(SELECT min(id) FROM mentions WHERE article_id = :article)"
        ),
        "mentions",
    ),
    "import lost": (_sql("DELETE FROM articles WHERE id = :article"), "acknowledged import lost"),
    "article nobody imported": (_stranger, "was never imported"),
    "rows pointing nowhere": (_orphans, "point nowhere"),
}


def test_the_checker_passes_a_sound_database(engine: Engine) -> None:
    ledger, _, _ = _world(engine)
    assert check_database(engine, ledger) == []


@pytest.mark.parametrize("damage", list(DOCTORED))
def test_the_checker_finds_doctored_damage(engine: Engine, damage: str) -> None:
    ledger, article, units = _world(engine)
    doctor, message = DOCTORED[damage]
    doctor(engine, article, units)
    problems = check_database(engine, ledger)
    assert any(message in problem for problem in problems), problems


def test_the_checker_reports_a_damaged_sqlite_file(tmp_path: Path) -> None:
    from annotator.db import make_engine
    from annotator.schema import ensure_schema

    path = tmp_path / "damaged.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    ledger, _, _ = _world(engine)
    engine.dispose()
    page = 4096
    with open(path, "r+b") as handle:  # the b-tree header of page 2
        handle.seek(page)
        handle.write(b"\xff" * 64)
    problems = check_database(engine, ledger)
    engine.dispose()
    assert problems, problems
    assert "cannot be read" in problems[0] or "integrity_check" in problems[0], problems


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_acknowledged_work_survives_sigkill(engine_name: str, tmp_path: Path) -> None:
    if engine_name == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL tests need ANNOTATOR_TEST_DATABASE_URL (set by .ci/run)")
    seed = random.SystemRandom().randrange(1 << 31)
    report = run(
        Options(
            engine=engine_name,
            database_url=PG_URL,
            trials=3,
            seed=seed,
            clients=3,
            load_seconds=(0.5, 1.5),
            # Large enough, and the kill soon enough after the import begins
            # writing, that the kill lands while it writes: on a fast machine
            # (or with PostgreSQL's COPY) 10,000 sentences were written within 0.2 s.
            import_sentences=30_000,
            api_import_sentences=600,
            kill_window=0.1,
            workdir=tmp_path,
        )
    )
    context = f"seed {seed}: " + "; ".join(report.lines())
    assert report.problems == [], context
    assert report.trials == 3, context
    # The kills found work to lose: saves acknowledged, the large import under way.
    assert report.saves_checked > 0, context
    assert report.cli_imports == 2, context
    assert report.imports_interrupted >= 1, context
    assert report.self_check, context
