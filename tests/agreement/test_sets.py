"""MASI distance: Passonneau's weights, the empty set, the vectorised table, NLTK."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from annotator.agreement import sets as sets_module
from annotator.agreement.sets import MasiTable, masi_distance

A, B, C = "A", "B", "C"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ({A, B}, {A, B}, 0.0),  # identical: J 1, M 1
        ({A}, {A, B}, 1 - 1 / 2 * 2 / 3),  # subset: J 1/2, M 2/3
        ({A, B}, {B, C}, 1 - 1 / 3 * 1 / 3),  # overlap: J 1/3, M 1/3
        ({A}, {B}, 1.0),  # disjoint
        (set(), set(), 0.0),  # both the outlet's own voice
        (set(), {A}, 1.0),  # own voice against a source
    ],
)
def test_masi_distance(a: set[str], b: set[str], distance: float) -> None:
    """Passonneau (2006) with the weights 1, 2/3, 1/3, 0; symmetric."""
    assert masi_distance(frozenset(a), frozenset(b)) == pytest.approx(distance)
    assert masi_distance(frozenset(b), frozenset(a)) == pytest.approx(distance)


def _random_sets(rng: random.Random, count: int, names: int) -> list[frozenset[str]]:
    pool = [f"s{i}" for i in range(names)]
    found = {frozenset(rng.sample(pool, rng.randint(0, 3))) for _ in range(count)}
    return sorted(found, key=sorted)


def test_masi_distance_matches_nltk() -> None:
    """NLTK's masi_distance on non-empty sets (NLTK divides by zero on two empty ones)."""
    distance = pytest.importorskip("nltk.metrics.distance")
    if distance.masi_distance({1, 2}, {1, 2, 3, 4}) != pytest.approx(2 / 3):
        pytest.skip("this NLTK rounds the MASI weights to 0.67/0.33 (before nltk#3361)")
    rng = random.Random(2006)
    values = [s for s in _random_sets(rng, 60, 6) if s]
    for a, b in itertools.product(values, repeat=2):
        assert masi_distance(a, b) == pytest.approx(distance.masi_distance(a, b), abs=1e-12)


@pytest.mark.parametrize("dense_limit", [10_000, 0])
def test_table_matches_the_scalar_distance(
    monkeypatch: pytest.MonkeyPatch, dense_limit: int
) -> None:
    """Dense and sparse tables give every pairwise distance and Σ n_c n_k δ exactly."""
    monkeypatch.setattr(sets_module, "_DENSE_LIMIT", dense_limit)
    rng = random.Random(dense_limit)
    values = _random_sets(rng, 80, 7)
    table = MasiTable(values)
    assert (table.dense is None) == (dense_limit == 0)
    a, b = np.array(list(itertools.product(range(len(values)), repeat=2))).T
    expected = [masi_distance(values[i], values[j]) for i, j in zip(a, b, strict=True)]
    np.testing.assert_allclose(table.distance(a, b), expected, atol=1e-12)
    counts = np.array([rng.randint(0, 5) for _ in values])
    brute = sum(
        counts[i] * counts[j] * masi_distance(values[i], values[j])
        for i in range(len(values))
        for j in range(len(values))
    )
    assert table.expected_sum(counts) == pytest.approx(brute, rel=1e-12)


def test_table_of_only_empty_and_single_sets() -> None:
    """Degenerate tables: one empty set; one set."""
    empty = MasiTable([frozenset()])
    assert empty.distance(np.array([0]), np.array([0])).tolist() == [0.0]
    assert empty.expected_sum(np.array([4])) == 0.0
    assert MasiTable([]).expected_sum(np.zeros(0)) == 0.0


def test_sparse_table_without_shared_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sparse table with nothing shared: 0 on the diagonal, 1 elsewhere."""
    monkeypatch.setattr(sets_module, "_DENSE_LIMIT", 0)
    table = MasiTable([frozenset()])
    assert table.distance(np.array([0]), np.array([0])).tolist() == [0.0]
    table = MasiTable([frozenset(), frozenset({"AP"})])
    assert table.distance(np.array([0, 1, 0]), np.array([1, 1, 0])).tolist() == [1.0, 0.0, 0.0]
    assert table.expected_sum(np.array([2, 3])) == 12.0
