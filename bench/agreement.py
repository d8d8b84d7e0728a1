"""Benchmark agreement on one million annotations: the summary and the dashboard page.

Builds (once, cached under bench/out/) an SQLite database with 3,000 articles,
333,334 sentences and 3 annotators per sentence whose answers look like a
team's (a likely label picked 80 % of the time, sources from each article's
own cast; see ``bench/export.py --realistic``), then prints the median of
several runs of:

- load: the project's annotations, gold and suggestions as integer columns;
- summary: alpha with a 1,000-resample bootstrap, Fleiss, pairwise Cohen,
  per label, confusion, MASI and speaker alpha on sources, annotators vs
  majority, gold and suggestions;
- full summary = load + summary (target <= 2 s);
- the dashboard page over HTTP semantics (Flask test client, logged in as
  an admin), first view after a change and repeated view (target <= 1 s).

    .venv/bin/python bench/agreement.py [--runs 5]
    .venv/bin/python bench/agreement.py --database-url postgresql+psycopg://… --build
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export import OUT, build  # noqa: E402
from bench.report import add_report_option, write_report  # noqa: E402

DEFAULT_DB = OUT / "agreement_1m.db"
PASSWORD = "bench-agreement-1"


def timed(function, runs: int) -> tuple[float, object]:
    """Median seconds over ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="benchmark this database instead")
    parser.add_argument("--build", action="store_true", help="(re)build the database first")
    parser.add_argument("--runs", type=int, default=5)
    add_report_option(parser)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{DEFAULT_DB}"
    if args.build or (args.database_url is None and not DEFAULT_DB.exists()):
        OUT.mkdir(parents=True, exist_ok=True)
        if args.database_url is None:
            DEFAULT_DB.unlink(missing_ok=True)
        build(url, realistic=True)

    from sqlalchemy.orm import Session

    from annotator.agreement import summarise_coded
    from annotator.db import make_engine
    from annotator.project_agreement import load_ratings
    from annotator.ratings_cache import load_ratings_cached

    engine = make_engine(url)
    with Session(engine) as session:
        load_s, data = timed(lambda: load_ratings(session, 1), args.runs)
        coded = data.coded()

        def summary() -> dict:
            return summarise_coded(coded, gold=data.gold, suggestions=data.suggestions)

        summary_s, result = timed(summary, args.runs)
        full_s, _ = timed(
            lambda: summarise_coded(
                (fresh := load_ratings(session, 1)).coded(),
                gold=fresh.gold,
                suggestions=fresh.suggestions,
            ),
            args.runs,
        )
        with tempfile.TemporaryDirectory() as cache:
            load_ratings_cached(session, 1, Path(cache))  # the first load fills the cache
            after_save = []
            for _ in range(args.runs):
                save_one(session)
                session.commit()
                started = time.perf_counter()
                fresh = load_ratings_cached(session, 1, Path(cache))
                summarise_coded(fresh.coded(), gold=fresh.gold, suggestions=fresh.suggestions)
                after_save.append(time.perf_counter() - started)
            cached_s = statistics.median(after_save)
    engine.dispose()
    cold_s, warm_s = dashboard(url, args.runs)
    alpha = result["labels"]["krippendorff_alpha"]
    print(
        f"{len(data):,} annotations on {result['n_units']:,} sentences by "
        f"{result['n_annotators']} annotators ({engine.dialect.name}); "
        f"alpha {alpha['value']:.3f} CI {alpha['ci95'][0]:.3f}-{alpha['ci95'][1]:.3f}; "
        f"median of {args.runs} runs"
    )
    rows = [
        ("load annotations, gold, suggestions", load_s, None),
        ("summary (bootstrap 1,000)", summary_s, None),
        ("full summary: load + summary", full_s, None),
        ("full summary after a save, column cache", cached_s, 2.0),
        ("dashboard page, first view after a change", cold_s, None),
        ("dashboard page, repeated view", warm_s, 1.0),
    ]
    for name, seconds, target in rows:
        verdict = ""
        if target is not None:
            verdict = f"  (target <= {target:g} s: {'met' if seconds <= target else 'MISSED'})"
        print(f"{name:<44}{seconds:>8.2f} s{verdict}")
    if args.report:
        write_report(
            args.report,
            "agreement",
            [
                {"name": name + ", 1M annotations", "value": seconds, "unit": "s", "target": target}
                for name, seconds, target in rows
            ],
        )
    return 0


def save_one(session: object) -> None:
    """Change one existing annotation's label the way the save API does (with history)."""
    from sqlalchemy import select

    from annotator.exchange.apply import upsert_annotation
    from annotator.models import Annotation, Label

    annotation = session.scalar(select(Annotation).order_by(Annotation.id).limit(1))
    labels = session.scalars(select(Label.id).where(Label.project_id == 1)).all()
    label = labels[(labels.index(annotation.label_id) + 1) % len(labels)]
    upsert_annotation(
        session,
        annotation.unit_id,
        annotation.annotator_id,
        label,
        [],
        annotation.note,
        annotation.annotator_id,
        "update",
    )


def dashboard(url: str, runs: int) -> tuple[float, float]:
    """Median seconds of the dashboard page: right after a change, and viewed again."""
    from sqlalchemy import select

    from annotator import create_app
    from annotator.db import get_database
    from annotator.models import User
    from annotator.users import create_user
    from tests.helpers import login

    with tempfile.TemporaryDirectory() as instance:
        os.environ["ANNOTATOR_INSTANCE_PATH"] = instance
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
        database = get_database(app)
        with database.session() as session:
            if session.scalar(select(User).where(User.username == "bench-admin")) is None:
                create_user(session, "bench-admin", role="admin", password=PASSWORD)
                session.commit()
        client = app.test_client()
        login(client, "bench-admin", PASSWORD)

        def view() -> None:
            response = client.get("/projects/1/agreement")
            assert response.status_code == 200, response.status_code

        def change_then_view() -> None:
            # A save anywhere in the project makes cached figures stale.
            with database.session() as session:
                save_one(session)
                session.commit()
            view()

        view()  # the first view fills the caches; later ones start from them
        cold, _ = timed(change_then_view, runs)
        view()
        warm, _ = timed(view, runs)
        database.engine.dispose()
    return cold, warm


if __name__ == "__main__":
    raise SystemExit(main())
