"""Benchmark the exporters on one million annotations.

Builds (once, cached under bench/out/) an SQLite database with ~3,000
articles, 333,334 sentence units and 3 annotators per unit, then runs each
export format in a fresh child process three times and prints the median wall
time and the child's peak RSS.

    .venv/bin/python bench/export.py [--formats json,jsonl,csv] [--runs 3]
    .venv/bin/python bench/export.py --database-url postgresql+psycopg://… --build
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEFAULT_DB = OUT / "export_1m.db"
ARTICLES = 3_000
SENTENCES = 333_334
ANNOTATORS = ("ann1", "ann2", "ann3")
SOURCES = 200
AGENCIES = 5  # realistic mode: a few wire agencies and many people
REALISTIC_SOURCES = 2_000
TARGET_SECONDS = 10.0
TARGET_MB = 150.0

sys.path.insert(0, str(ROOT))

from bench.report import add_report_option, write_report  # noqa: E402

_WORDS = (
    "the government said on Tuesday that talks with officials would resume after a long "
    "pause analysts believe launch missile agency reported according to sources close "
    "negotiations could collapse if sanctions are extended minister told reporters café "
    "“officials” déjà vu economy growth forecast expected likely statement spokesperson"
).split()


def _sentence_pool(rng: random.Random, size: int = 4000) -> list[str]:
    pool = []
    for _ in range(size):
        words: list[str] = []
        target = rng.randint(110, 190)
        while sum(len(w) + 1 for w in words) < target:
            words.append(rng.choice(_WORDS))
        pool.append(" ".join(words).capitalize() + ".")
    return pool


def build(url: str, *, realistic: bool = False) -> None:
    """Create the benchmark database with bulk Core inserts (executemany).

    ``realistic`` (bench/agreement.py) draws answers the way a team gives them
    instead of uniformly at random: each sentence has a likely label that each
    annotator picks with probability 0.8, and sources come from the article's
    own cast (one of a few agencies, three people out of a large registry).
    """
    sources_total = REALISTIC_SOURCES if realistic else SOURCES
    from sqlalchemy import insert

    from annotator.db import make_engine
    from annotator.models import (
        Annotation,
        AnnotationSource,
        Article,
        Gold,
        GoldSource,
        Label,
        Mention,
        Project,
        Source,
        Unit,
        User,
    )
    from annotator.projects import DEFAULT_LABELS
    from annotator.schema import ensure_schema

    started = time.perf_counter()
    rng = random.Random(20240501)
    pool = _sentence_pool(rng)
    engine = make_engine(url, synchronous="OFF")
    ensure_schema(engine)
    t0 = datetime(2024, 5, 1, tzinfo=UTC)
    label_names = [name for name, _, _ in DEFAULT_LABELS]
    with engine.begin() as db:
        db.execute(insert(Project), [{"id": 1, "name": "bench", "description": ""}])
        db.execute(
            insert(Label),
            [
                {"id": i + 1, "project_id": 1, "name": n, "key": k, "description": d, "position": i}
                for i, (n, k, d) in enumerate(DEFAULT_LABELS)
            ],
        )
        db.execute(
            insert(User),
            [
                {"id": i + 1, "username": name, "role": "annotator"}
                for i, name in enumerate(ANNOTATORS)
            ]
            + [{"id": 9, "username": "reviewer", "role": "reviewer"}],
        )
        db.execute(
            insert(Source),
            [
                {
                    "id": s,
                    "project_id": 1,
                    "name": f"Source {s}",
                    "name_key": f"source {s}",
                    "kind": "person",
                }
                for s in range(1, sources_total + 1)
            ],
        )
        unit_id = annotation_id = gold_id = 0
        per_article, extra = divmod(SENTENCES, ARTICLES)
        for article_id in range(1, ARTICLES + 1):
            count = per_article + (article_id <= extra)
            title = f"Article {article_id}: " + rng.choice(pool)[:60]
            sentences = [rng.choice(pool) for _ in range(count)]
            text = title + "\n" + " ".join(sentences)
            db.execute(
                insert(Article),
                [
                    {
                        "id": article_id,
                        "project_id": 1,
                        "title": title,
                        "text": text,
                        "credits": ["AP"],
                        "content_hash": f"{article_id:064x}",
                        "created_at": t0,
                    }
                ],
            )
            units, annotations, links, golds, gold_links = [], [], [], [], []
            cast = [rng.randint(1, AGENCIES)] + rng.sample(
                range(AGENCIES + 1, sources_total + 1), 3
            )
            unit_id += 1
            units.append(
                {
                    "id": unit_id,
                    "article_id": article_id,
                    "position": 0,
                    "index": None,
                    "kind": "title",
                    "start": 0,
                    "end": len(title),
                }
            )
            offset = len(title) + 1
            for index, sentence in enumerate(sentences):
                unit_id += 1
                hinted = index % 2 == 0
                units.append(
                    {
                        "id": unit_id,
                        "article_id": article_id,
                        "position": index + 1,
                        "index": index,
                        "kind": "sentence",
                        "start": offset,
                        "end": offset + len(sentence),
                        "suggested_label": "reported_fact" if hinted else None,
                        "suggested_sources": [rng.randint(1, SOURCES)] if hinted else [],
                        "suggestion_cues": (
                            [{"kind": "verb", "text": "said", "start": offset, "end": offset + 4}]
                            if hinted
                            else []
                        ),
                    }
                )
                offset += len(sentence) + 1
                likely_label = rng.randint(1, len(label_names))
                likely_sources = rng.sample(cast[1:], 1) + rng.sample(cast[:1], rng.randint(0, 1))
                for annotator in range(1, len(ANNOTATORS) + 1):
                    annotation_id += 1
                    at = t0 + timedelta(seconds=annotation_id)
                    annotations.append(
                        {
                            "id": annotation_id,
                            "unit_id": unit_id,
                            "annotator_id": annotator,
                            "label_id": (
                                likely_label
                                if realistic and rng.random() < 0.8
                                else rng.randint(1, len(label_names))
                            ),
                            "note": "",
                            "version": 1,
                            "seconds_spent": 4.5,
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
                    if not realistic:
                        chosen = rng.sample(range(1, SOURCES + 1), rng.randint(0, 2))
                    elif rng.random() < 0.8:
                        chosen = likely_sources
                    else:
                        chosen = rng.sample(cast, rng.randint(0, 2))
                    for position, source in enumerate(chosen):
                        links.append(
                            {
                                "annotation_id": annotation_id,
                                "position": position,
                                "source_id": source,
                            }
                        )
                if index % 10 == 0:
                    gold_id += 1
                    golds.append(
                        {
                            "id": gold_id,
                            "unit_id": unit_id,
                            "label_id": 1,
                            "provenance": "adjudicated",
                            "reviewer_id": 9,
                            "rationale": "",
                            "decided_at": t0,
                        }
                    )
                    gold_links.append({"gold_id": gold_id, "position": 0, "source_id": 1})
            db.execute(insert(Unit), units)
            db.execute(insert(Annotation), annotations)
            if links:
                db.execute(insert(AnnotationSource), links)
            if golds:
                db.execute(insert(Gold), golds)
                db.execute(insert(GoldSource), gold_links)
            db.execute(
                insert(Mention),
                [
                    {
                        "article_id": article_id,
                        "source_id": 1 + article_id % SOURCES,
                        "start": len(title) + 1,
                        "end": len(title) + 4,
                    }
                ],
            )
    if engine.dialect.name == "postgresql":
        # Fresh bulk-loaded tables have no statistics; the planner needs them.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.exec_driver_sql("ANALYZE")
            # Rows were inserted with explicit ids: move each id sequence past them,
            # or the next row the app inserts (a user, a save) collides.
            sequences = db.exec_driver_sql(
                "SELECT table_name, column_name, pg_get_serial_sequence(table_name, column_name)"
                " FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND (column_default LIKE 'nextval%%' OR is_identity = 'YES')"
            ).all()
            for table, column, sequence in sequences:
                if sequence:
                    db.exec_driver_sql(
                        f"SELECT setval('{sequence}', "
                        f'(SELECT COALESCE(MAX("{column}"), 0) + 1 FROM "{table}"), false)'
                    )
    engine.dispose()
    print(f"built {url} in {time.perf_counter() - started:.1f} s ({annotation_id:,} annotations)")


def child(url: str, fmt: str, out: str) -> None:
    """Run one export in this (child) process and print its figures as JSON."""
    from sqlalchemy.orm import Session

    from annotator.db import make_engine
    from annotator.exchange import export_csv, export_json, export_jsonl

    exporter = {"json": export_json, "jsonl": export_jsonl, "csv": export_csv}[fmt]
    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session, open(out, "wb") as handle:
        exporter(session, handle)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="benchmark an existing database instead")
    parser.add_argument(
        "--build", action="store_true", help="fill --database-url (an empty database) first"
    )
    parser.add_argument("--formats", default="json,jsonl")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=os.devnull, help="where exports go (default /dev/null)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    add_report_option(parser)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{DEFAULT_DB}"
    if args.child:
        child(url, args.child, args.out)
        return 0
    if args.build or (not args.database_url and not DEFAULT_DB.exists()):
        OUT.mkdir(parents=True, exist_ok=True)
        build(url)
    rows = []
    for fmt in args.formats.split(","):
        runs = []
        for _ in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--database-url",
                    url,
                    "--child",
                    fmt,
                    "--out",
                    args.out,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["process_seconds"] = time.perf_counter() - started
            runs.append(figures)
        seconds = statistics.median(r["seconds"] for r in runs)
        process = statistics.median(r["process_seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        ok = seconds <= TARGET_SECONDS and peak <= TARGET_MB
        rows.append((fmt, seconds, process, peak, "ok" if ok else "MISSED"))
    print(f"{'format':<8}{'export s':>10}{'process s':>11}{'peak RSS MB':>13}  target")
    for fmt, seconds, process, peak, verdict in rows:
        print(f"{fmt:<8}{seconds:>10.2f}{process:>11.2f}{peak:>13.1f}  {verdict}")
    print(f"(median of {args.runs} runs; targets <= {TARGET_SECONDS:g} s, <= {TARGET_MB:g} MB)")
    if args.report:
        report = []
        for fmt, seconds, _process, peak, _verdict in rows:
            report.append(
                {
                    "name": f"export {fmt}, 1M annotations",
                    "value": seconds,
                    "unit": "s",
                    "target": TARGET_SECONDS,
                }
            )
            report.append(
                {
                    "name": f"export {fmt}, peak RSS",
                    "value": peak,
                    "unit": "MB",
                    "target": TARGET_MB,
                }
            )
        write_report(args.report, "export", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
