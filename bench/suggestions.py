"""Measure the suggestions against the labelled development set (tests/data/devset/).

    .venv/bin/python bench/suggestions.py [--errors] [--runs 5]

Prints label accuracy, per-label precision and recall, source-set precision,
recall and F1, the share of sentences where accepting the suggestion needed no
change, names the articles are only about that were proposed as sources, and
the time the analysis takes (median of ``--runs``). ``--errors`` lists every
sentence whose suggestion was wrong, for error analysis.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotator.projects import DEFAULT_LABELS  # noqa: E402
from annotator.suggestion_eval import evaluate  # noqa: E402
from bench.devset import load_devset  # noqa: E402

DEVSET = ROOT / "tests" / "data" / "devset"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the wrong suggestions")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        articles = load_devset(DEVSET)
        times.append(time.perf_counter() - started)
    cases = [case for article in articles for case in article.cases]
    unmatched = sum(len(article.unmatched) for article in articles)
    about = [name for article in articles for name in article.about_proposed]
    evaluation = evaluate(cases, [name for name, _, _ in DEFAULT_LABELS])
    figures = evaluation.figures()
    sources = figures["sources"]
    print(
        f"development set: {len(articles)} articles, {len(cases)} sentences evaluated "
        f"({unmatched} gold sentences joined with a neighbour by the splitter, not scored); "
        f"parse + analysis {statistics.median(times) * 1000:.0f} ms (median of {args.runs})"
    )
    print(f"label accuracy            {_fmt(figures['label_accuracy'])}   (target >= 0.85)")
    print(f"source-set F1             {_fmt(sources['f1'])}   (target >= 0.85)")
    print(f"source recall             {_fmt(sources['recall'])}   (target >= 0.95)")
    print(f"source precision          {_fmt(sources['precision'])}")
    print(f"exact ordered sources     {_fmt(sources['exact_list'])}")
    print(f"accepted with no change   {_fmt(figures['accepted_unchanged'])}")
    print(f"people/organisations only written about, proposed as sources: {len(about)} {about}")
    print(f"{'label':<16}{'gold':>6}{'suggested':>11}{'precision':>11}{'recall':>8}")
    for row in figures["per_label"]:
        print(
            f"{row['label']:<16}{row['gold']:>6}{row['suggested']:>11}"
            f"{_fmt(row['precision']):>11}{_fmt(row['recall']):>8}"
        )
    if args.errors:
        for case in evaluation.label_errors:
            print(f"LABEL  gold {case.gold_label:<14} got {case.suggested_label}: {case.text}")
        for case in evaluation.source_errors:
            gold, got = list(case.gold_sources), list(case.suggested_sources)
            print(f"SOURCE gold {gold} got {got}: {case.text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
