"""Ratings built from reliability matrices and at random, for the agreement tests."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pytest

from annotator.agreement import MasiTable, Rating
from annotator.agreement import sets as sets_module

LABELS = ("reported_fact", "quote", "speculation", "unclear")
NAMES = ("AP", "AFP", "KCNA", "Koh Yu-hwan", "Reuters", "Yonhap")
AGENCIES = ("AP", "AFP", "KCNA", "Reuters", "Yonhap")
# The ways a MasiTable can work: names compared per pair and chance sums over subsets
# (fast), or the pair table of every two sets sharing a name, as a matrix (dense) or
# searched (sparse).
PATHS = ["fast", "dense", "sparse"]


def use_path(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Make the next MasiTables take ``path`` (fast only for sets small enough for it)."""
    if path != "fast":
        monkeypatch.setattr(sets_module, "_FAST_MAX_SIZE", -1)
    monkeypatch.setattr(sets_module, "_DENSE_LIMIT", 10_000 if path == "dense" else 0)


def on_path(table: MasiTable) -> str:
    """Which of PATHS ``table`` took."""
    if table.pairs is None:
        return "fast"
    return "sparse" if table.pairs.dense is None else "dense"


def popular_source(rng: random.Random, size: int, people: int = 40) -> list[str]:
    """``size`` distinct names, each an agency half the time (so agencies are in most
    lists, as in real data), else one of ``people`` persons."""
    names: list[str] = []
    while len(names) < size:
        name = rng.choice(AGENCIES) if rng.random() < 0.5 else f"person {rng.randrange(people)}"
        if name not in names:
            names.append(name)
    return names


def popular_sets(rng: random.Random, count: int, max_size: int) -> list[frozenset[str]]:
    """``count`` distinct sets of up to ``max_size`` names (the empty one and one of
    ``max_size`` included), names from :func:`popular_source`."""
    # Few people, so that they are shared too; enough for ``count`` sets of one name.
    people = 2 * count if max_size == 1 else 30
    found = {frozenset(), frozenset(popular_source(rng, max_size, people))}
    while len(found) < count:
        found.add(frozenset(popular_source(rng, rng.randint(1, max_size), people)))
    return sorted(found, key=sorted)


def ratings_from_matrix(
    data: Sequence[Sequence[object | None]],
    sources: Sequence[Sequence[tuple[str, ...] | None]] | None = None,
) -> list[Rating]:
    """Coders × units (None = missing) as Ratings: label str(value), coder "c<i>", unit j."""
    ratings = []
    for coder, row in enumerate(data):
        for unit, value in enumerate(row):
            if value is None:
                continue
            linked = sources[coder][unit] if sources is not None else ()
            ratings.append(Rating(unit, f"c{coder}", str(value), linked or ()))
    return ratings


def random_matrices(
    rng: np.random.Generator, labels: int = 4
) -> tuple[list[list[int | None]], list[list[tuple[str, ...] | None]]]:
    """A coders × units label matrix with holes, and ordered source lists for it."""
    coders, units = int(rng.integers(2, 7)), int(rng.integers(2, 40))
    missing = float(rng.uniform(0, 0.5))
    names = NAMES[: int(rng.integers(2, len(NAMES) + 1))]
    data: list[list[int | None]] = []
    linked: list[list[tuple[str, ...] | None]] = []
    for _ in range(coders):
        row, row_sources = [], []
        for _ in range(units):
            if rng.random() < missing:
                row.append(None)
                row_sources.append(None)
                continue
            row.append(int(rng.integers(0, labels)))
            chosen = rng.choice(len(names), size=int(rng.integers(0, 3)), replace=False)
            row_sources.append(tuple(names[i] for i in chosen))
        data.append(row)
        linked.append(row_sources)
    return data, linked
