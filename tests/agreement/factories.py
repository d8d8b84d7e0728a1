"""Ratings built from reliability matrices and at random, for the agreement tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from annotator.agreement import Rating

LABELS = ("reported_fact", "quote", "speculation", "unclear")
NAMES = ("AP", "AFP", "KCNA", "Koh Yu-hwan", "Reuters", "Yonhap")


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
