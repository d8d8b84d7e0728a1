"""Ingest benchmark: sentences per second for splitting alone and for a whole import.

    python bench/ingest.py [--sentences 10000] [--runs 5] [--database-url URL]

The import figure covers everything `annotator import` does per article: decoding,
boilerplate removal, splitting, source detection, suggestions, and storing the
article, units, sources and mentions (SQLite with the app's own pragmas, in a fresh
database per run, unless --database-url points elsewhere).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotator.attribution import analyse_article  # noqa: E402
from annotator.db import make_engine  # noqa: E402
from annotator.importer import import_paths  # noqa: E402
from annotator.ingest.pipeline import parse_document  # noqa: E402
from annotator.projects import get_or_create_project  # noqa: E402
from annotator.schema import ensure_schema  # noqa: E402
from bench.corpus import corpus  # noqa: E402
from bench.report import add_report_option, write_report  # noqa: E402


def write_corpus(folder: Path, sentences: int) -> list[Path]:
    """Write generated articles as .txt files until they hold ``sentences`` sentence units.

    The generator's sentences do not map one to one onto units (a quotation that
    runs into its attribution is one unit), so the splitter counts.
    """
    paths: list[Path] = []
    found = 0
    for number, text in enumerate(corpus(sentences * 2)):
        if found >= sentences:
            break
        path = folder / f"article-{number:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        found += sum(
            u.kind == "sentence"
            for a in parse_document(path.read_bytes(), path.name)
            for u in a.units
        )
    return paths


def time_split(paths: list[Path]) -> tuple[float, int]:
    """Seconds to parse (decode, clean, split) every file; and the sentence count."""
    blobs = [(p.read_bytes(), p.name) for p in paths]
    start = time.perf_counter()
    count = 0
    for data, name in blobs:
        for parsed in parse_document(data, name):
            count += sum(1 for u in parsed.units if u.kind == "sentence")
    return time.perf_counter() - start, count


def time_analyse(paths: list[Path]) -> float:
    """Seconds for source detection and suggestions on already parsed articles."""
    parsed = [a for p in paths for a in parse_document(p.read_bytes(), p.name)]
    start = time.perf_counter()
    for article in parsed:
        analyse_article(article)
    return time.perf_counter() - start


def time_import(paths: list[Path], url: str | None, workdir: Path, run: int) -> float:
    """Seconds for a full import into a fresh database."""
    engine = make_engine(url or f"sqlite:///{workdir / f'bench-{run}.sqlite3'}")
    ensure_schema(engine)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        project, _ = get_or_create_project(session, f"bench-{run}")
        session.commit()
        start = time.perf_counter()
        results, failures = import_paths(session, project, paths)
        elapsed = time.perf_counter() - start
    engine.dispose()
    if failures:
        raise SystemExit(f"import failed: {failures[0].path}: {failures[0].message}")
    return elapsed


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--large",
        type=int,
        default=100_000,
        help="also import one article of this many sentences (0 to skip)",
    )
    add_report_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        paths = write_corpus(workdir, args.sentences)
        split = [time_split(paths) for _ in range(args.runs)]
        sentences = split[0][1]
        analyse = [time_analyse(paths) for _ in range(args.runs)]
        imports = [time_import(paths, args.database_url, workdir, run) for run in range(args.runs)]
    print(f"corpus: {len(paths)} articles, {sentences} sentences; median of {args.runs} runs")
    print(f"{'step':<34}{'seconds':>10}{'sentences/s':>14}")
    for name, times in (
        ("parse (decode, clean, split)", [s for s, _ in split]),
        ("attribution (sources, suggestions)", analyse),
        ("full import, stored", imports),
    ):
        median = statistics.median(times)
        print(f"{name:<34}{median:>10.3f}{sentences / median:>14,.0f}")
    target = 1.5 * sentences / 10_000
    verdict = "met" if statistics.median(imports) <= target else "MISSED"
    print(f"target: full import of {sentences} sentences in <= {target:.2f} s: {verdict}")
    report = [
        {
            "name": f"import {sentences:,} sentences",
            "value": statistics.median(imports),
            "unit": "s",
            "target": target,
        }
    ]
    if args.large:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            path = workdir / "one-large-article.txt"
            path.write_text(
                "\n\n".join(corpus(args.large, per_article=args.large)), encoding="utf-8"
            )
            megabytes = path.stat().st_size / 1e6
            seconds = time_import([path], args.database_url, workdir, 99)
        print(
            f"one article of ~{args.large:,} sentences ({megabytes:.1f} MB), "
            f"one transaction: {seconds:.2f} s"
        )
        report.append(
            {
                "name": f"import one article of {args.large:,} sentences",
                "value": seconds,
                "unit": "s",
            }
        )
    if args.report:
        write_report(args.report, "ingest", report)


if __name__ == "__main__":
    main()
