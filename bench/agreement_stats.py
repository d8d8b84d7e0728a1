"""Agreement statistics benchmark: seconds for `summarise` on synthetic ratings.

    python bench/agreement_stats.py [--ratings 1000000] [--annotators 3] [--runs 5]
                                    [--bootstrap 1000] [--order unit|annotator|random]
                                    [--references] [--fresh-strings]

Units get ratings from every annotator (the last unit may get fewer) with the default
four labels and 1–2 sources each out of 50 names; annotators mostly agree with a
hidden answer. Prints the median of the runs. ``--order`` is the order the ratings
arrive in: by unit (a database ORDER BY unit), by annotator, or random;
``--references`` adds gold answers and suggestions for every unit; ``--fresh-strings``
gives every rating its own string objects (see `synthetic`).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotator.agreement import Rating, summarise  # noqa: E402

LABELS = ("reported_fact", "quote", "speculation", "unclear")
NAMES = tuple(f"Source {i:02d}" for i in range(50))


def answer(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A random label and 1–2 distinct sources."""
    return rng.choice(LABELS), tuple(rng.sample(NAMES, rng.randint(1, 2)))


def synthetic(
    count: int,
    annotators: int,
    order: str = "unit",
    fresh_strings: bool = False,
    seed: int = 0,
) -> tuple[list[Rating], dict[int, tuple[str, tuple[str, ...]]]]:
    """``count`` ratings over units rated by ``annotators`` each, and a hidden answer per unit.

    The Rating objects are built the way a database load would build them: in the
    order the rows arrive (``unit``, ``annotator`` or ``random``), each with a fresh
    unit int and source tuple. Names are shared string objects, as when a loader maps
    annotator, label and source ids to names through a dict; ``fresh_strings`` makes
    every string a new object instead, as a loader that keeps the driver's strings.
    """
    rng = random.Random(seed)
    names = [f"annotator{i}" for i in range(annotators)]
    plan: list[tuple[int, str, str, tuple[str, ...]]] = []
    truth: dict[int, tuple[str, tuple[str, ...]]] = {}
    unit = 0
    while len(plan) < count:
        label, sources = truth[unit] = answer(rng)
        for name in names[: count - len(plan)]:
            mine_label = label if rng.random() < 0.75 else rng.choice(LABELS)
            mine_sources = sources if rng.random() < 0.7 else answer(rng)[1]
            plan.append((unit, name, mine_label, mine_sources))
        unit += 1
    if order == "annotator":
        plan.sort(key=lambda row: row[1])
    elif order == "random":
        rng.shuffle(plan)
    # A JSON round trip makes every value a new object, created in row order.
    rows = json.loads(json.dumps(plan))
    if fresh_strings:
        ratings = [Rating(u, a, label, tuple(src)) for u, a, label, src in rows]
    else:
        shared = {s: s for s in (*names, *LABELS, *NAMES)}
        ratings = [
            Rating(u, shared[a], shared[label], tuple(map(shared.__getitem__, src)))
            for u, a, label, src in rows
        ]
    return ratings, truth


def main() -> None:
    """Build the data once, then time `summarise` on it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--order", choices=("unit", "annotator", "random"), default="unit")
    parser.add_argument("--references", action="store_true")
    parser.add_argument("--fresh-strings", action="store_true")
    args = parser.parse_args()

    ratings, truth = synthetic(args.ratings, args.annotators, args.order, args.fresh_strings)
    references = {}
    if args.references:
        references = {"gold": truth, "suggestions": truth}
    times, cpu = [], []
    for _ in range(args.runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = summarise(ratings, LABELS, bootstrap=args.bootstrap, **references)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    alpha = result["labels"]["krippendorff_alpha"]
    print(
        f"{len(ratings):,} ratings, {result['n_units']:,} units, "
        f"{result['n_annotators']} annotators, bootstrap {args.bootstrap}"
        f", in {args.order} order{', fresh strings' if args.fresh_strings else ''}"
        f"{', gold + suggestions' if args.references else ''}"
    )
    print(
        f"label alpha {alpha['value']:.3f} (95% CI {alpha['ci95'][0]:.3f}–{alpha['ci95'][1]:.3f})"
    )
    print(
        f"summarise: median {statistics.median(times):.3f} s over {args.runs} runs "
        f"(CPU {statistics.median(cpu):.3f} s; min {min(times):.3f} s)"
    )


if __name__ == "__main__":
    main()
