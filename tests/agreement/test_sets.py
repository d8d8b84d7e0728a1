"""MASI distance: Passonneau's weights, the empty set, the vectorised table, NLTK."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from annotator.agreement import sets as sets_module
from annotator.agreement.sets import MasiTable, masi_distance

from .factories import PATHS, on_path, popular_sets, use_path

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


@pytest.mark.parametrize("path", PATHS)
def test_table_matches_the_scalar_distance(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Every path gives every pairwise distance and Σ n_c n_k δ exactly."""
    use_path(monkeypatch, path)
    rng = random.Random(PATHS.index(path))
    values = _random_sets(rng, 80, 7)
    table = MasiTable(values)
    assert on_path(table) == path
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


@pytest.mark.parametrize("path", PATHS)
def test_table_of_only_empty_and_single_sets(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Degenerate tables: one empty set; one set; none."""
    use_path(monkeypatch, path)
    empty = MasiTable([frozenset()])
    assert empty.distance(np.array([0]), np.array([0])).tolist() == [0.0]
    assert empty.expected_sum(np.array([4])) == 0.0
    assert MasiTable([]).expected_sum(np.zeros(0)) == 0.0
    single = MasiTable([frozenset({"AP", "KCNA"})])
    assert single.distance(np.array([0]), np.array([0])).tolist() == [0.0]
    assert single.expected_sum(np.array([5])) == 0.0
    nothing = np.zeros(0, dtype=np.int64)
    assert single.distance(nothing, nothing).size == 0


@pytest.mark.parametrize("path", PATHS)
def test_table_without_shared_names(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Nothing shared: 0 on the diagonal, 1 elsewhere."""
    use_path(monkeypatch, path)
    table = MasiTable([frozenset()])
    assert table.distance(np.array([0]), np.array([0])).tolist() == [0.0]
    table = MasiTable([frozenset(), frozenset({"AP"})])
    assert table.distance(np.array([0, 1, 0]), np.array([1, 1, 0])).tolist() == [1.0, 0.0, 0.0]
    assert table.expected_sum(np.array([2, 3])) == 12.0


def _brute_expected(values: list[frozenset[str]], counts: np.ndarray) -> float:
    """Σ_c Σ_k n_c n_k δ(c, k) over every ordered pair of the distinct sets, summed exactly."""
    return math.fsum(
        int(counts[i]) * int(counts[j]) * masi_distance(values[i], values[j])
        for i in range(len(values))
        for j in range(len(values))
    )


@pytest.mark.parametrize("max_size", [1, 2, 3, 5, sets_module._FAST_MAX_SIZE])
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_table_matches_brute_force_with_popular_names(max_size: int, seed: int) -> None:
    """Agencies in most sets (every pair of those shares a name), people in few: the fast
    path gives every distance of the pair table bit for bit, and Σ n_c n_k δ of brute force."""
    rng = random.Random(seed * 100 + max_size)
    values = popular_sets(rng, 150, max_size)
    fast = MasiTable(values)
    assert on_path(fast) == "fast" and fast.width == max_size
    with pytest.MonkeyPatch.context() as patch:
        use_path(patch, "sparse")
        pairs = MasiTable(values)
    a, b = np.array(list(itertools.product(range(len(values)), repeat=2))).T
    distances = fast.distance(a, b)
    np.testing.assert_array_equal(distances, pairs.distance(a, b))
    expected = [masi_distance(values[i], values[j]) for i, j in zip(a, b, strict=True)]
    np.testing.assert_allclose(distances, expected, rtol=0, atol=1e-12)
    # Large counts too: products near 10^12, as with a million ratings.
    for high in (5, 1_000_000):
        counts = np.array([rng.randint(0, high) for _ in values])
        brute = _brute_expected(values, counts)
        assert fast.expected_sum(counts) == pytest.approx(brute, rel=1e-12, abs=1e-9)
        assert pairs.expected_sum(counts) == pytest.approx(brute, rel=1e-12, abs=1e-9)


def test_a_large_set_falls_back_to_the_pair_table() -> None:
    """One set above the fast path's size sends the table to the exact pair table."""
    rng = random.Random(9)
    big = frozenset(f"p{i}" for i in range(sets_module._FAST_MAX_SIZE + 1)) | {"AP"}
    values = [*popular_sets(rng, 40, 3), big]
    table = MasiTable(values)
    assert on_path(table) == "dense"
    a, b = np.array(list(itertools.product(range(len(values)), repeat=2))).T
    expected = [masi_distance(values[i], values[j]) for i, j in zip(a, b, strict=True)]
    np.testing.assert_allclose(table.distance(a, b), expected, rtol=0, atol=1e-12)
    counts = np.array([rng.randint(0, 9) for _ in values])
    assert table.expected_sum(counts) == pytest.approx(_brute_expected(values, counts), rel=1e-12)
