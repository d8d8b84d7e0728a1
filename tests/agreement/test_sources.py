"""Source agreement: MASI alpha on sets, speaker alpha, exact lists; NLTK and a second path."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotator.agreement import Rating, encode, krippendorff_alpha, masi_distance, summarise
from annotator.agreement.sources import exact_agreement, source_summary

from .factories import (
    LABELS,
    PATHS,
    popular_source,
    random_matrices,
    ratings_from_matrix,
    use_path,
)

NUMBERS = ["0", "1", "2", "3"]


def _as_sets(linked: list[list[tuple[str, ...] | None]]) -> list[list[frozenset[str] | None]]:
    return [[None if s is None else frozenset(s) for s in row] for row in linked]


def test_masi_alpha_by_hand() -> None:
    """Own voice twice on one unit, AP against own voice on another: α = 0."""
    ratings = [
        Rating(1, "a", "quote"),
        Rating(1, "b", "quote"),
        Rating(2, "a", "quote", ("AP",)),
        Rating(2, "b", "quote"),
    ]
    masi = summarise(ratings, LABELS)["sources"]["krippendorff_alpha_masi"]
    # n = 4, n_∅ = 3, n_AP = 1; Σ o δ = 2; Σ n_c n_k δ = 6; α = 1 − 3 × 2 / 6.
    assert masi["value"] == pytest.approx(0.0)
    assert masi["n_values"] == 4 and masi["n_units"] == 2


def test_everyone_using_the_outlet_voice_is_undefined() -> None:
    """Only empty source lists: a single value, so MASI alpha is None with a reason."""
    ratings = [Rating(u, a, "reported_fact") for u in range(4) for a in ("a", "b")]
    sources = summarise(ratings, LABELS)["sources"]
    assert sources["krippendorff_alpha_masi"]["value"] is None
    assert sources["krippendorff_alpha_masi"]["reason"]
    assert sources["percent_agreement_exact"]["value"] == 1.0
    assert sources["n_without_sources"] == 8


@pytest.mark.parametrize("path", PATHS)
def test_masi_alpha_matches_the_metric_path(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Pairs + MasiTable (every path) = patterns + scalar masi_distance, empty sets too."""
    use_path(monkeypatch, path)
    rng = np.random.default_rng(2006 + PATHS.index(path))
    compared = 0
    for _ in range(40):
        data, linked = random_matrices(rng)
        ours = summarise(ratings_from_matrix(data, linked), NUMBERS, bootstrap=0)
        masi = ours["sources"]["krippendorff_alpha_masi"]
        reference = krippendorff_alpha(_as_sets(linked), metric=masi_distance)
        if reference.value is None:
            assert masi["value"] is None
            continue
        assert masi["value"] == pytest.approx(reference.value, abs=1e-9)
        assert masi["expected_disagreement"] == pytest.approx(reference.expected, abs=1e-12)
        compared += 1
    assert compared > 30


def test_masi_alpha_matches_nltk() -> None:
    """NLTK's AnnotationTask(distance=masi_distance).alpha() on non-empty random sets."""
    agreement = pytest.importorskip("nltk.metrics.agreement")
    distance = pytest.importorskip("nltk.metrics.distance")
    if distance.masi_distance({1, 2}, {1, 2, 3, 4}) != pytest.approx(2 / 3):
        pytest.skip("this NLTK rounds the MASI weights to 0.67/0.33 (before nltk#3361)")
    rng = np.random.default_rng(3361)
    compared = 0
    for _ in range(30):
        data, linked = random_matrices(rng)
        linked = [[s if s else ("AP",) if s is not None else None for s in row] for row in linked]
        ours = summarise(ratings_from_matrix(data, linked), NUMBERS, bootstrap=0)
        value = ours["sources"]["krippendorff_alpha_masi"]["value"]
        triples = [
            (f"c{coder}", unit, frozenset(s))
            for coder, row in enumerate(linked)
            for unit, s in enumerate(row)
            if s is not None
        ]
        if value is None:
            continue
        task = agreement.AnnotationTask(data=triples, distance=distance.masi_distance)
        assert value == pytest.approx(task.alpha(), abs=1e-9)
        compared += 1
    assert compared > 20


def test_speaker_alpha_is_nominal_alpha_on_the_first_source() -> None:
    """The first source, "(none)" for the outlet's voice, as a nominal value."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        data, linked = random_matrices(rng)
        ours = summarise(ratings_from_matrix(data, linked), NUMBERS, bootstrap=0)
        speakers = [
            [None if s is None else (s[0] if s else "(none)") for s in row] for row in linked
        ]
        reference = krippendorff_alpha(speakers)
        assert ours["sources"]["krippendorff_alpha_speaker"]["value"] == (
            pytest.approx(reference.value, abs=1e-9) if reference.value is not None else None
        )


def test_a_source_named_none_is_not_the_outlet_voice() -> None:
    """A source literally called "(none)" stays apart from an empty list."""
    ratings = [
        Rating(1, "a", "quote", ("(none)",)),
        Rating(1, "b", "quote", ()),
        Rating(2, "a", "quote", ("(none)",)),
        Rating(2, "b", "quote", ("(none)",)),
    ]
    speaker = summarise(ratings, LABELS)["sources"]["krippendorff_alpha_speaker"]
    assert speaker["value"] is not None and speaker["value"] < 1


def test_exact_agreement_compares_ordered_lists() -> None:
    """Same names in another order is a disagreement for exact lists, not for MASI."""
    ratings = [
        Rating(1, "a", "quote", ("Koh Yu-hwan", "AP")),
        Rating(1, "b", "quote", ("AP", "Koh Yu-hwan")),
        Rating(2, "a", "quote", ("KCNA",)),
        Rating(2, "b", "quote", ("KCNA",)),
        Rating(3, "a", "quote", ("AFP",)),
    ]
    result = exact_agreement(encode(ratings, LABELS))
    assert result.value == 0.5 and result.n == 2
    sources = summarise(ratings, LABELS)["sources"]
    assert sources["n_distinct_lists"] == 4 and sources["n_distinct_sets"] == 3
    assert sources["krippendorff_alpha_masi"]["value"] == 1.0


def _popular_ratings(rng: random.Random, units: int) -> list[Rating]:
    """1–4 annotators per unit, lists of 0–4 names with agencies in most of them; often
    a copy of another annotator's list, reordered, so that units agree now and then."""
    ratings = []
    for unit in range(units):
        lists: list[list[str]] = []
        for annotator in range(rng.randint(1, 4)):
            if lists and rng.random() < 0.4:
                names = list(rng.choice(lists))
                rng.shuffle(names)
            else:
                names = popular_source(rng, rng.randint(0, 4), people=25)
            lists.append(names)
            ratings.append(Rating(unit, f"a{annotator}", "quote", tuple(names)))
    return ratings


@pytest.mark.parametrize("seed", range(4))
def test_masi_alpha_with_popular_names_on_every_path(seed: int) -> None:
    """Fast path = pair tables (dense, sparse) = brute-force metric path, to 1e-12."""
    rng = random.Random(seed)
    ratings = _popular_ratings(rng, 250)
    coded = encode(ratings, LABELS)
    results = {}
    for path in PATHS:
        with pytest.MonkeyPatch.context() as patch:
            use_path(patch, path)
            results[path] = source_summary(coded)
    masi = results["fast"]["krippendorff_alpha_masi"]
    for path in ("dense", "sparse"):
        assert (
            results[path]["krippendorff_alpha_speaker"]
            == results["fast"]["krippendorff_alpha_speaker"]
        )
        other = results[path]["krippendorff_alpha_masi"]
        for key in ("value", "observed_disagreement", "expected_disagreement"):
            assert masi[key] == pytest.approx(other[key], rel=0, abs=1e-12)
    matrix: dict[str, dict[int, frozenset[str]]] = {}
    for rating in ratings:
        matrix.setdefault(rating.annotator, {})[rating.unit] = frozenset(rating.sources)
    data = [[row.get(unit) for unit in range(250)] for row in matrix.values()]
    reference = krippendorff_alpha(data, metric=masi_distance)
    assert masi["value"] == pytest.approx(reference.value, rel=0, abs=1e-12)
    assert masi["observed_disagreement"] == pytest.approx(reference.observed, rel=0, abs=1e-12)
    assert masi["expected_disagreement"] == pytest.approx(reference.expected, rel=0, abs=1e-12)
