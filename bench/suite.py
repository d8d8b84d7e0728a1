"""Run every benchmark on one database engine and print one table.

    python bench/suite.py                                   # SQLite (files in bench/out/)
    python bench/suite.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/suite.py --quick                           # short runs, to check it works

On PostgreSQL the URL names a server and a maintenance database; the suite creates
fresh databases ``annotator_bench_*`` next to it (dropped first when they exist) and
keeps the 1-million-annotation one for later runs (``--rebuild`` makes it again).

Each benchmark runs in its own process with ``--report``; the table shows its
headline figures with their targets (see docs/performance.md for what each means).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def fresh_postgres(url: str, name: str, keep: bool) -> tuple[str, bool]:
    """URL of database ``name`` on ``url``'s server; (re)created unless ``keep`` and present.

    Returns the URL and whether the database is new (needs building).
    """
    server = make_url(url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if exists and not keep:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not exists or not keep:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False), not (exists and keep)


def run(script: str, args: list[str], report: Path) -> float:
    """Run ``bench/<script>`` with ``args``; seconds taken. Its output goes to the console."""
    command = [sys.executable, str(ROOT / "bench" / script), *args, "--report", str(report)]
    print(f"\n$ {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - started


def verdict(row: dict) -> str:
    """met / MISSED against the row's target, or empty."""
    target = row.get("target")
    if target is None:
        return ""
    if row.get("higher_is_better"):
        return "met" if row["value"] >= target else "MISSED"
    return "met" if row["value"] <= target else "MISSED"


def print_table(rows: list[dict], engine: str, started: datetime) -> None:
    """The suite's table, one line per headline figure."""
    print(f"\nannotator benchmark suite, {engine}, {started:%Y-%m-%d %H:%M} UTC")
    print(f"{'bench':<10}{'figure':<50}{'value':>10} {'unit':<6}{'target':>8}  verdict")
    for row in rows:
        value = row["value"]
        shown = f"{value:.0%}" if row["unit"] == "ratio" else f"{value:,.2f}"
        target = row.get("target")
        if target is None:
            limit = ""
        elif row["unit"] == "ratio":
            limit = f">= {target:.0%}"
        else:
            limit = f"{'>=' if row.get('higher_is_better') else '<='} {target:g}"
        unit = "" if row["unit"] == "ratio" else row["unit"]
        print(f"{row['bench']:<10}{row['name']:<50}{shown:>10} {unit:<6}{limit:>8}  {verdict(row)}")


def main() -> int:
    """Run the benchmarks chosen by the arguments and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="short runs, small sizes")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the 1M database")
    parser.add_argument(
        "--only",
        default="footprint,ingest,annotate,export,agreement",
        help="comma-separated benchmarks to run",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    started = datetime.now(UTC)
    engine = "postgresql" if args.database_url else "sqlite"
    OUT.mkdir(parents=True, exist_ok=True)
    runs = "1" if args.quick else "3"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        report.touch()

        def database(name: str, keep: bool) -> tuple[list[str], bool]:
            if not args.database_url:
                return [], False
            url, new = fresh_postgres(args.database_url, f"annotator_bench_{name}", keep)
            return ["--database-url", url], new

        if "footprint" in only:
            url_args, _ = database("footprint", keep=False)
            run("footprint.py", ["--runs", runs, *url_args], report)
        if "ingest" in only:
            url_args, _ = database("ingest", keep=False)
            sizes = ["--sentences", "2000", "--large", "0"] if args.quick else ["--large", "0"]
            run("ingest.py", ["--runs", runs, *sizes, *url_args], report)
        if "annotate" in only:
            url_args, _ = database("annotate", keep=False)
            if args.database_url:
                ceiling, _ = database("ceiling", keep=False)
                url_args += ["--ceiling-database-url", ceiling[1]]
            duration = "2" if args.quick else "5"
            run(
                "annotate.py",
                ["--target", "both", "--repeat", runs, "--duration", duration, *url_args],
                report,
            )
        if only & {"export", "agreement"}:
            # One realistic 1M-annotation database serves both (built once, kept).
            if args.database_url:
                url_args, new = database("1m", keep=not args.rebuild)
                build = ["--build"] if new else []
            else:
                db = OUT / "suite_1m.db"
                if args.rebuild:
                    db.unlink(missing_ok=True)
                build = [] if db.exists() else ["--build"]
                url_args = ["--database-url", f"sqlite:///{db}"]
            if "agreement" in only:
                run("agreement.py", ["--runs", runs, *build, *url_args], report)
                build = []
            if "export" in only:
                run("export.py", ["--runs", runs, "--formats", "json", *build, *url_args], report)
        rows = [json.loads(line) for line in report.read_text().splitlines()]
    print_table(rows, engine, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
