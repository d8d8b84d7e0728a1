"""Crash safety: kill the server (and an import) with SIGKILL under load, restart, check.

    python bench/crash.py [--engine sqlite|postgresql] [--trials 8] [--seed N]
                          [--import-sentences 100000] [--clients 4] [--workers 2]

Every trial restarts `annotator serve` (gunicorn, in a process group of its own)
on the same database, lets annotator threads save through the JSON API while a
reviewer thread imports articles through the API, and, on every other trial,
runs `annotator import` of one large article in a subprocess. It then kills the
server's whole process group and the import with SIGKILL: at a random moment of
the load, or at a random moment after the large import began writing. After each
kill it checks the database:

* every save answered 2xx is there, at that version with that label and note (or
  at a later version the client sent), and its version is in the history;
* every article is complete (the units and mentions the parser gives for its
  text) or absent, and every import answered 2xx is there;
* SQLite: ``PRAGMA integrity_check`` is ok and ``foreign_key_check`` empty;
  PostgreSQL: amcheck finds every index sound; both: no row points nowhere.

The next trial's start is the restart; each client first reads its annotations
back through the API. At the end the script drops one acknowledged save on
purpose and makes sure the checker notices (a checker that cannot fail proves
nothing). PostgreSQL runs use a fresh database, dropped afterwards
(``--database-url`` or ANNOTATOR_TEST_DATABASE_URL names the server).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from annotator.access import add_member  # noqa: E402
from annotator.db import make_engine  # noqa: E402
from annotator.importer import store_articles  # noqa: E402
from annotator.ingest import parse_text  # noqa: E402
from annotator.models import Unit  # noqa: E402
from annotator.projects import get_or_create_project  # noqa: E402
from annotator.schema import ensure_schema  # noqa: E402
from annotator.users import create_user  # noqa: E402
from bench.corpus import corpus  # noqa: E402
from bench.crash_check import Ledger, check_database, check_saves, drop_save  # noqa: E402
from bench.crash_clients import (  # noqa: E402
    PASSWORD,
    SERVER_GONE,
    Annotator,
    Browser,
    Importer,
    Tally,
)

PROJECT = "crash"
API_PROJECT = "crash-api"
IMPORT_APP_NAME = "annotator-crash-import"
START_TIMEOUT = 60.0
# The large import counts as writing once it wrote this much (SQLite spills the
# transaction's pages into the WAL long before its commit).
WRITING_BYTES = 256 * 1024


# --- processes -----------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group ``process`` leads (it was started in a session of its own)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@dataclass
class Setup:
    """The database under test and how to start things on it."""

    url: str
    workdir: Path
    env: dict[str, str]
    workers: int

    def command(self, *args: str) -> list[str]:
        """The `annotator` console script run with this interpreter."""
        return [sys.executable, "-c", "from annotator.cli import main; main()", *args]

    def start_server(self, log: Path) -> tuple[subprocess.Popen[bytes], str]:
        """Start `annotator serve` in a new process group; wait until it answers."""
        port = free_port()
        with open(log, "ab") as output:
            process = subprocess.Popen(
                self.command("serve", "--port", str(port), "--workers", str(self.workers)),
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"annotator serve exited; see {log}")
            try:
                if Browser("probe").call(server + "/login", "GET")[0] == 200:
                    return process, server
            except SERVER_GONE:
                pass
            time.sleep(0.1)
        kill_group(process)
        raise RuntimeError(f"annotator serve did not answer within {START_TIMEOUT} s; see {log}")

    def start_import(self, path: Path, log: Path) -> subprocess.Popen[bytes]:
        """`annotator import PATH` in a process group of its own."""
        url = self.url
        if not url.startswith("sqlite"):
            # Named, so the probe can find its backend in pg_stat_activity.
            url = make_url(url).update_query_dict({"application_name": IMPORT_APP_NAME})
            url = url.render_as_string(hide_password=False)
        with open(log, "ab") as output:
            return subprocess.Popen(
                self.command("import", str(path), "--project", PROJECT),
                env={**self.env, "ANNOTATOR_DATABASE_URL": url},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def import_is_writing(setup: Setup, process: subprocess.Popen[bytes], probe: Engine) -> bool:
    """Whether the import's transaction has begun writing (and not yet committed)."""
    if setup.url.startswith("sqlite"):
        try:
            io = Path(f"/proc/{process.pid}/io").read_text()
        except OSError:
            return False
        written = int(next(line for line in io.splitlines() if line.startswith("wchar")).split()[1])
        return written > WRITING_BYTES
    with probe.connect() as connection:
        # A PostgreSQL transaction gets an xid with its first write.
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :name AND backend_xid IS NOT NULL"
                ),
                {"name": IMPORT_APP_NAME},
            ).scalar()
        )


@contextmanager
def fresh_database(engine_name: str, admin_url: str, workdir: Path) -> Iterator[str]:
    """A URL of an empty database: a file, or a PostgreSQL database dropped afterwards."""
    if engine_name == "sqlite":
        yield f"sqlite:///{workdir / 'crash.sqlite3'}"
        return
    name = f"crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name)
    try:
        own = create_engine(url, isolation_level="AUTOCOMMIT")
        with own.connect() as connection, suppress(Exception):
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
        own.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def populate(url: str, clients: int) -> tuple[int, int, list[int], str, str]:
    """Schema, projects, annotators and the article they annotate.

    Returns the API imports' project, the article, its sentence units, its title and text.
    """
    engine = make_engine(url)
    ensure_schema(engine)
    with Session(engine) as session:
        project, _ = get_or_create_project(session, PROJECT)
        names = [f"ann{n}" for n in range(clients)]
        for name in names:
            add_member(session, project.id, create_user(session, name, password=PASSWORD).id)
        # The API imports go to a project of their own: imports into one project
        # at the same time can collide on a new source name (a known race, not
        # what this bench measures; the report names it).
        api_project, _ = get_or_create_project(session, API_PROJECT)
        editor = create_user(session, "editor", role="reviewer", password=PASSWORD)
        add_member(session, api_project.id, editor.id)
        [body] = corpus(120, per_article=120, seed=1)
        title = "the article everyone annotates"
        parsed = parse_text(body, title=title)
        [result] = store_articles(session, project.id, [(parsed, None)])
        session.commit()
        units = session.scalars(
            select(Unit.id).where(Unit.article_id == result.article_id, Unit.kind == "sentence")
        ).all()
        project_id, article_id = api_project.id, result.article_id
    engine.dispose()
    assert article_id is not None
    return project_id, article_id, list(units), title, body


# --- the trials ----------------------------------------------------------------------


@dataclass
class Options:
    """How hard and how long to try."""

    engine: str = "sqlite"
    database_url: str = ""
    trials: int = 8
    seed: int | None = None
    clients: int = 4
    workers: int = 2
    load_seconds: tuple[float, float] = (1.0, 4.0)
    import_sentences: int = 100_000
    api_import_sentences: int = 1500
    kill_window: float = 3.0
    synchronous: str = "FULL"
    workdir: Path | None = None
    keep: bool = False
    echo: bool = True


@dataclass
class Report:
    """The figures of a run."""

    engine: str
    seed: int
    trials: int = 0
    saves_checked: int = 0
    conflicts: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unknown: int = 0
    cli_imports: int = 0
    imports_interrupted: int = 0
    interrupted_while_writing: int = 0
    api_imports_acked: int = 0
    api_imports_in_flight: int = 0
    problems: list[str] = field(default_factory=list)
    self_check: bool = False

    def lines(self) -> list[str]:
        """The summary, one figure a line."""
        return [
            f"engine {self.engine}, seed {self.seed}, trials {self.trials}",
            f"acknowledged saves checked: {self.saves_checked} (refused with 409: "
            f"{self.conflicts}; other answers: {dict(self.statuses) or 'none'}; "
            f"in flight at a kill: {self.unknown})",
            f"CLI imports: {self.cli_imports}, interrupted by the kill: "
            f"{self.imports_interrupted} (while writing: {self.interrupted_while_writing})",
            f"API imports acknowledged: {self.api_imports_acked}, "
            f"in flight at a kill: {self.api_imports_in_flight}",
            f"failures: {len(self.problems)}",
            "self-check (a dropped acknowledged save is detected): "
            + ("yes" if self.self_check else "NO"),
        ]


def run(options: Options) -> Report:
    """Run the trials and return the figures (problems listed, never raised)."""
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1 << 31)
    rng = random.Random(seed)
    report = Report(options.engine, seed)
    say = print if options.echo else (lambda *_a, **_k: None)
    say(f"engine {options.engine}, seed {seed} (rerun with --seed {seed})", flush=True)
    with _workdir(options.workdir, options.keep) as workdir:
        if options.keep:
            say(f"files (server and import logs) kept in {workdir}")
        with fresh_database(options.engine, options.database_url, workdir) as url:
            _trials(options, url, workdir, rng, report, say)
    return report


@contextmanager
def _workdir(parent: Path | None, keep: bool) -> Iterator[Path]:
    if keep:
        yield Path(tempfile.mkdtemp(prefix="crash-", dir=parent))
        return
    with tempfile.TemporaryDirectory(prefix="crash-", dir=parent) as tmp:
        yield Path(tmp)


def _trials(
    options: Options, url: str, workdir: Path, rng: random.Random, report: Report, say: Any
) -> None:
    project, article, units, title, body = populate(url, options.clients)
    ledger = Ledger()
    ledger.articles[title] = ("text", body)
    env = {
        **os.environ,
        "ANNOTATOR_DATABASE_URL": url,
        "ANNOTATOR_INSTANCE_PATH": str(workdir / "instance"),
        "ANNOTATOR_SECRET_KEY": uuid.uuid4().hex,
        "ANNOTATOR_SQLITE_SYNCHRONOUS": options.synchronous,
    }
    setup = Setup(url, workdir, env, options.workers)
    annotators = [
        Annotator(f"ann{n}", article, units, ledger, rng.randrange(1 << 30))
        for n in range(options.clients)
    ]
    importer = Importer(project, ledger, options.api_import_sentences, rng.randrange(1 << 30))
    checker = make_engine(url)
    log = workdir / "server.log"
    try:
        for trial in range(options.trials):
            tally = Tally()
            line = _trial(options, setup, trial, annotators, importer, ledger, tally, rng, report)
            problems = tally.problems + check_database(checker, ledger)
            checker.dispose()  # the next check opens the files afresh, as a restart does
            report.trials += 1
            report.saves_checked = len(ledger.acked)
            report.conflicts += tally.conflicts
            report.errors += tally.errors
            report.statuses.update(tally.statuses)
            report.unknown += tally.unknown
            report.api_imports_acked += tally.imports_acked
            report.api_imports_in_flight += tally.imports_unknown
            report.problems += [f"trial {trial}: {p}" for p in problems]
            say(
                f"trial {trial}: {line}; saves {tally.acked} acked, {tally.conflicts} refused, "
                f"{tally.errors} errors {dict(tally.statuses)}, {tally.unknown} in flight; "
                f"API imports {tally.imports_acked} acked, {tally.imports_unknown} in flight; "
                + ("check ok" if not problems else f"{len(problems)} PROBLEMS: {problems[:3]}"),
                flush=True,
            )
        # A last restart: the app serves what was acknowledged.
        server, address = setup.start_server(log)
        tally = Tally()
        try:
            for annotator in annotators:
                annotator.start(address, tally)
        finally:
            kill_group(server)
        report.problems += [f"final restart: {p}" for p in tally.problems]
        report.self_check = self_check(checker, ledger)
    finally:
        checker.dispose()
    for line in report.lines():
        say(line)


def _trial(
    options: Options,
    setup: Setup,
    trial: int,
    annotators: list[Annotator],
    importer: Importer,
    ledger: Ledger,
    tally: Tally,
    rng: random.Random,
    report: Report,
) -> str:
    """One restart, load and SIGKILL; returns a line on when and what was killed."""
    server, address = setup.start_server(setup.workdir / "server.log")
    stop = threading.Event()
    threads: list[threading.Thread] = []
    importing = None
    writing_at = None
    probe = create_engine(setup.url) if not setup.url.startswith("sqlite") else None
    try:
        for annotator in annotators:
            annotator.start(address, tally)
        threads = [threading.Thread(target=a.run, args=(address, stop, tally)) for a in annotators]
        threads.append(threading.Thread(target=importer.run, args=(address, trial, stop, tally)))
        for thread in threads:
            thread.start()
        started = time.monotonic()
        if options.import_sentences and trial % 2 == 0:
            importing = _start_big_import(options, setup, trial, ledger)
            report.cli_imports += 1
            while importing.poll() is None and time.monotonic() - started < 600:
                if import_is_writing(setup, importing, probe):  # type: ignore[arg-type]
                    writing_at = time.monotonic()
                    break
                time.sleep(0.02)
            delay = rng.uniform(0, options.kill_window)
            time.sleep(delay)
            what = f"import of {options.import_sentences:,} sentences, kill "
            what += f"{delay:.2f} s after it began writing" if writing_at else "(it never wrote)"
        else:
            delay = rng.uniform(*options.load_seconds)
            time.sleep(delay)
            what = f"load only, kill after {delay:.2f} s"
        # The crash: the whole server (master and workers) and the import at once.
        kill_group(server)
        if importing is not None:
            kill_group(importing)
            # It reports after its commit; a process killed while it exits
            # has finished all the same, and its article must be there.
            log = (setup.workdir / f"import-{trial}.log").read_text(encoding="utf-8")
            if "1 imported" in log:
                with ledger.lock:
                    ledger.acked_articles.add(f"cli import t{trial}")
                what += ": the import had finished"
            elif importing.returncode == -signal.SIGKILL:
                report.imports_interrupted += 1
                report.interrupted_while_writing += int(writing_at is not None)
                what += ": import interrupted"
            else:
                tally.problems.append(f"the import failed on its own: {log.strip()[-300:]}")
    finally:
        stop.set()
        kill_group(server)
        if importing is not None:
            kill_group(importing)
        for thread in threads:
            thread.join()
        if probe is not None:
            probe.dispose()
    return what


def _start_big_import(
    options: Options, setup: Setup, trial: int, ledger: Ledger
) -> subprocess.Popen[bytes]:
    """Write one large article as a .json file (its title given) and start importing it."""
    title = f"cli import t{trial}"
    [body] = corpus(options.import_sentences, per_article=options.import_sentences, seed=trial)
    path = setup.workdir / f"large-{trial}.json"
    path.write_text(json.dumps({"title": title, "text": body}), encoding="utf-8")
    with ledger.lock:
        ledger.articles[title] = ("file", str(path))
    return setup.start_import(path, setup.workdir / f"import-{trial}.log")


def self_check(engine: Engine, ledger: Ledger) -> bool:
    """Drop the newest acknowledged save on purpose: the checker must say so."""
    if not ledger.acked:
        return False
    victim = ledger.acked[-1]
    drop_save(engine, victim)
    with Session(engine) as session:
        problems = check_saves(session, ledger)
    return any(p.startswith("acknowledged save lost") and str(victim) in p for p in problems)


def main() -> None:
    """Parse the options, run, print the figures; exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ANNOTATOR_TEST_DATABASE_URL", ""),
        help="PostgreSQL server to create the run's database on",
    )
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--clients", type=int, default=4, help="annotator threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--load-min", type=float, default=1.0, help="seconds before a kill")
    parser.add_argument("--load-max", type=float, default=4.0)
    parser.add_argument("--import-sentences", type=int, default=100_000, help="0: no CLI import")
    parser.add_argument("--api-import-sentences", type=int, default=1500)
    parser.add_argument(
        "--kill-window", type=float, default=3.0, help="kill within this many s of the write"
    )
    parser.add_argument("--synchronous", default="FULL", help="SQLite synchronous pragma")
    parser.add_argument("--keep", action="store_true", help="keep the logs and SQLite files")
    args = parser.parse_args()
    if args.engine == "postgresql" and not args.database_url:
        parser.error("PostgreSQL needs --database-url or ANNOTATOR_TEST_DATABASE_URL")
    report = run(
        Options(
            engine=args.engine,
            database_url=args.database_url,
            trials=args.trials,
            seed=args.seed,
            clients=args.clients,
            workers=args.workers,
            load_seconds=(args.load_min, args.load_max),
            import_sentences=args.import_sentences,
            api_import_sentences=args.api_import_sentences,
            kill_window=args.kill_window,
            synchronous=args.synchronous,
            keep=args.keep,
        )
    )
    for problem in report.problems[:50]:
        print("FAIL", problem)
    sys.exit(1 if report.problems or not report.self_check else 0)


if __name__ == "__main__":
    main()
