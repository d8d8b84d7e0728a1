"""The crash bench's ledger and checker: what the server acknowledged, and whether the
database still holds it (bench/crash.py runs it after every SIGKILL)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from annotator.attribution import analyse_article
from annotator.importer import content_hash, read_file
from annotator.ingest import parse_text
from annotator.ingest.parsed import ParsedArticle
from annotator.models import Base, Unit


@dataclass(frozen=True, slots=True)
class Save:
    """A save as sent: unit, annotator, label, unique note, and the version it needs."""

    unit: int
    annotator: str
    label: str
    note: str
    version: int  # acknowledged: the version answered; attempted: expected + 1


@dataclass(slots=True)
class Expected:
    """What a complete article holds, from the parser and the analysis."""

    content_hash: str
    units: list[tuple[str, int, int]]
    mentions: list[tuple[int, int]]


@dataclass
class Ledger:
    """Everything the server acknowledged, and everything whose outcome is unknown."""

    acked: list[Save] = field(default_factory=list)
    attempted: list[Save] = field(default_factory=list)
    # Article title -> how to parse it again: ("text", body) or ("file", path).
    articles: dict[str, tuple[str, str]] = field(default_factory=dict)
    acked_articles: set[str] = field(default_factory=set)
    expected: dict[str, Expected] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expect(self, title: str) -> Expected | None:
        """The complete form of the article called ``title`` (parsed once, then cached)."""
        if title not in self.expected:
            if title not in self.articles:
                return None
            kind, value = self.articles[title]
            parsed = read_file(Path(value))[0] if kind == "file" else parse_text(value, title=title)
            self.expected[title] = expected_of(parsed)
        return self.expected[title]


def expected_of(parsed: ParsedArticle) -> Expected:
    """Units and mentions of a parsed article, as the importer stores them."""
    analysis = analyse_article(parsed)
    units = [(unit.kind, unit.start, unit.end) for unit in parsed.units]
    mentions = sorted((m.start, m.end) for m in analysis.mentions)
    return Expected(content_hash(parsed.text), units, mentions)


# --- the checker ---------------------------------------------------------------------


def check_database(engine: Engine, ledger: Ledger) -> list[str]:
    """Every way the database disagrees with what was acknowledged; [] when sound."""
    try:
        problems = check_integrity(engine)
        with Session(engine) as session:
            problems += check_saves(session, ledger)
            problems += check_articles(session, ledger)
    except DBAPIError as error:
        # A database too damaged to answer is the worst finding, not a crash of the checker.
        return [f"the database cannot be read: {' '.join(str(error.orig).split())[:200]}"]
    return problems


def check_integrity(engine: Engine) -> list[str]:
    """The engine's own consistency checks, and foreign keys that point nowhere."""
    problems: list[str] = []
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            verdict = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                problems.append(f"integrity_check: {verdict[:5]}")
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if dangling:
                problems.append(f"foreign_key_check: {dangling[:5]}")
        else:
            problems += _amcheck(connection)
        for table in Base.metadata.sorted_tables:
            for key in table.foreign_key_constraints:
                [column], [target] = key.column_keys, key.elements
                parent = target.column
                orphans = connection.execute(
                    text(
                        f'SELECT count(*) FROM "{table.name}" c WHERE c."{column}" IS NOT NULL '
                        f'AND NOT EXISTS (SELECT 1 FROM "{parent.table.name}" p '
                        f'WHERE p."{parent.name}" = c."{column}")'
                    )
                ).scalar_one()
                if orphans:
                    problems.append(f"{orphans} rows of {table.name}.{column} point nowhere")
    return problems


def _amcheck(connection: Any) -> list[str]:
    """PostgreSQL's counterpart of integrity_check: every B-tree index against its table."""
    schema = connection.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'"
        )
    ).scalar()
    if schema is None:
        return []  # not installed in this database (the bench installs it in its own)
    indexes = connection.execute(
        text(
            "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' "
            "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        )
    ).all()
    problems = []
    for oid, name in indexes:
        try:
            connection.execute(text(f'SELECT "{schema}".bt_index_check(:oid, true)'), {"oid": oid})
        except Exception as error:  # amcheck raises on the first inconsistency
            connection.rollback()
            problems.append(f"amcheck {name}: {' '.join(str(error).split())[:200]}")
    return problems


def check_saves(session: Session, ledger: Ledger) -> list[str]:
    """Every acknowledged save present; every stored answer one that a client sent."""
    current = {
        (unit, who): (label, note, version)
        for unit, who, label, note, version in session.execute(
            text(
                "SELECT a.unit_id, u.username, l.name, a.note, a.version FROM annotations a "
                "JOIN users u ON u.id = a.annotator_id JOIN labels l ON l.id = a.label_id"
            )
        )
    }
    history = set(
        tuple(row)
        for row in session.execute(
            text(
                "SELECT e.unit_id, u.username, e.label, e.note, e.version "
                "FROM annotation_events e JOIN users u ON u.id = e.annotator_id"
            )
        )
    )
    problems: list[str] = []
    sent = {(s.unit, s.annotator, s.label, s.note, s.version) for s in ledger.attempted}
    for save in ledger.acked:
        key = (save.unit, save.annotator)
        row = (save.unit, save.annotator, save.label, save.note, save.version)
        sent.add(row)
        stored = current.get(key)
        if stored is None:
            problems.append(f"acknowledged save lost: {save}")
        elif stored[2] < save.version:
            problems.append(f"acknowledged save rolled back to version {stored[2]}: {save}")
        elif stored[2] == save.version and stored[:2] != (save.label, save.note):
            problems.append(f"acknowledged save changed to {stored[:2]}: {save}")
        if row not in history:
            problems.append(f"acknowledged save missing from the history: {save}")
    clients = {s.annotator for s in ledger.acked} | {s.annotator for s in ledger.attempted}
    for (unit, who), (label, note, version) in current.items():
        if who in clients and (unit, who, label, note, version) not in sent:
            problems.append(f"stored answer nobody sent: unit {unit} {who} {label} v{version}")
    return problems


def check_articles(session: Session, ledger: Ledger) -> list[str]:
    """Every article complete or absent; every acknowledged import present."""
    problems: list[str] = []
    rows = session.execute(text("SELECT id, title, content_hash FROM articles")).all()
    present = set()
    for article_id, title, digest in rows:
        present.add(title)
        expected = ledger.expect(title)
        if expected is None:
            problems.append(f"article {article_id} {title!r} was never imported")
            continue
        units = session.execute(
            select(Unit.kind, Unit.start, Unit.end)
            .where(Unit.article_id == article_id)
            .order_by(Unit.position)
        )
        mentions = session.execute(
            text('SELECT start, "end" FROM mentions WHERE article_id = :a ORDER BY start, "end"'),
            {"a": article_id},
        )
        units, mentions = [tuple(r) for r in units], [tuple(r) for r in mentions]
        if digest != expected.content_hash:
            problems.append(f"article {article_id} {title!r} has another text")
        if units != expected.units:
            problems.append(
                f"article {article_id} {title!r} is incomplete: "
                f"{len(units)} of {len(expected.units)} units"
            )
        if mentions != expected.mentions:
            problems.append(
                f"article {article_id} {title!r} has {len(mentions)} of "
                f"{len(expected.mentions)} mentions"
            )
    for title in sorted(ledger.acked_articles - present):
        problems.append(f"acknowledged import lost: {title!r}")
    return problems


def drop_save(engine: Engine, save: Save) -> None:
    """Delete the stored annotation behind ``save`` (the bench's self-check)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "DELETE FROM annotations WHERE unit_id = :unit AND annotator_id = "
                "(SELECT id FROM users WHERE username = :who)"
            ),
            {"unit": save.unit, "who": save.annotator},
        )
