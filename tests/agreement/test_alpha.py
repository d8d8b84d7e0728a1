"""Krippendorff's alpha: published examples, edge cases, bootstrap, and the krippendorff package."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from annotator.agreement import alpha as alpha_module
from annotator.agreement.alpha import (
    NO_PAIRABLE,
    ONE_VALUE,
    alpha_from_counts,
    alpha_from_patterns,
    coincidence_matrix,
    compress_units,
    interpret_alpha,
    krippendorff_alpha,
    reliability_counts,
    resampled_alphas,
    unit_patterns,
)


def test_krippendorff_2011_section_c_nominal(examples: dict[str, Any]) -> None:
    """α = 0.743 on the 4 coders × 12 units matrix with missing values."""
    case = examples["krippendorff_2011_C_nominal_missing"]
    result = krippendorff_alpha(case["data"])
    assert round(result.value, 3) == case["expected_published"]["nominal"]
    assert result.value == pytest.approx(case["computed_here"]["nominal"], abs=1e-6)
    matrix = case["nominal_coincidence_matrix"]
    assert round(result.observed, 3) == round(matrix["D_o"], 3)
    assert round(result.expected, 3) == round(matrix["D_e"], 3)
    assert result.n_values == matrix["n"]
    assert result.n_units == 11  # unit 12 has a single value and adds nothing
    assert result.interpretation == "tentative conclusions only (0.667 <= alpha < 0.800)"


def test_krippendorff_2011_coincidence_matrix(examples: dict[str, Any]) -> None:
    """The coincidence matrix, n_c and n of §C."""
    case = examples["krippendorff_2011_C_nominal_missing"]
    values, counts = reliability_counts(case["data"])
    expected = case["nominal_coincidence_matrix"]
    assert values == expected["values"]
    observed = coincidence_matrix(counts)
    np.testing.assert_allclose(observed.round(3), np.array(expected["o"]).round(3))
    assert observed.sum(axis=1).round(6).tolist() == expected["n_c"]
    assert observed.sum() == pytest.approx(expected["n"])


def test_fleiss_example_as_alpha(examples: dict[str, Any]) -> None:
    """The Fleiss table read as alpha data (14 values per unit) gives the recomputed 0.216."""
    case = examples["fleiss_wikipedia_10x14x5"]
    result = alpha_from_counts(np.array(case["table_subjects_x_categories"]))
    expected = case["computed_here"]["krippendorff_alpha_nominal_after_expanding_to_raters"]
    assert round(result.value, 3) == round(expected, 3)


def _edge_data(case: dict[str, Any]) -> list[list[Any]]:
    return case.get("data") or case["data_coders_x_units"]


def test_every_edge_case_in_the_reference_file(examples: dict[str, Any]) -> None:
    """Each edge case listed: its alpha, or undefined where the file says so."""
    checked = 0
    for case in examples["edge_cases"]:
        if "krippendorff_nominal" in case:
            result = krippendorff_alpha(_edge_data(case))
            assert result.value == pytest.approx(case["krippendorff_nominal"], abs=5e-4), case
            checked += 1
        elif case.get("krippendorff", "").startswith("undefined"):
            # "all ratings identical (single category)": not 1 (NLTK), not an error.
            result = krippendorff_alpha([["x", "x", "x"], ["x", "x", None]])
            assert result.value is None and result.reason == ONE_VALUE
            checked += 1
        else:
            pytest.fail(f"edge case not covered by this test: {case}")
    assert checked == len(examples["edge_cases"])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], NO_PAIRABLE),  # empty input
        ([["a", "b", "c"]], NO_PAIRABLE),  # one annotator
        ([["a", None], [None, "b"]], NO_PAIRABLE),  # no unit has two values
        ([["q", "q"], ["q", "q"]], ONE_VALUE),  # a single category used
        ([["q", "q", "x"], ["q", "q", None]], ONE_VALUE),  # the other one is not pairable
    ],
)
def test_undefined_alpha(data: list[list[Any]], reason: str) -> None:
    """Undefined alpha is None with a reason, never NaN, 0 or 1."""
    result = krippendorff_alpha(data, bootstrap=100)
    assert result.value is None
    assert result.reason == reason
    assert result.interpretation is None
    assert result.ci95 is None and result.ci95_reason


@pytest.mark.parametrize(
    ("value", "reading"),
    [(0.9, "reliable"), (0.8, "reliable"), (0.7, "tentative"), (0.667, "tentative"), (0.5, "un")],
)
def test_interpretation(value: float, reading: str) -> None:
    """Krippendorff's thresholds: 0.800 and 0.667."""
    assert interpret_alpha(value).startswith(reading)


def test_compress_units_keeps_every_unit() -> None:
    """Patterns with their frequencies rebuild the units' counts; inverse points back."""
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 3, size=(200, 4))
    rows, freq, inverse = unit_patterns(counts)
    assert freq.sum() == 200
    np.testing.assert_array_equal(rows[inverse], counts)
    wide = rng.integers(0, 40, size=(50, 15))  # too wide for the integer code
    rows, freq = compress_units(wide)
    assert sorted(map(tuple, np.repeat(rows, freq, axis=0))) == sorted(map(tuple, wide))


def test_resampled_alphas_equal_alpha_of_the_expanded_units() -> None:
    """Weighting patterns by draws is exactly alpha of the resample built unit by unit."""
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 3, size=(60, 3))
    rows, freq = compress_units(counts)
    draws = rng.multinomial(60, freq / freq.sum(), size=25)
    fast = resampled_alphas(rows, draws)
    for weights, value in zip(draws, fast, strict=True):
        slow = alpha_from_counts(np.repeat(rows, weights, axis=0)).value
        if slow is None:
            assert math.isnan(value)
        else:
            assert value == pytest.approx(slow, abs=1e-12)


def test_bootstrap_matches_resampling_units_one_by_one(examples: dict[str, Any]) -> None:
    """The multinomial-over-patterns bootstrap has the distribution of unit resampling."""
    case = examples["krippendorff_2011_C_nominal_missing"]
    _, counts = reliability_counts(case["data"])
    counts = counts[counts.sum(axis=1) >= 2]
    fast = krippendorff_alpha(case["data"], bootstrap=2000, seed=1)
    rng = np.random.default_rng(2)
    slow = []
    for _ in range(2000):
        value = alpha_from_counts(counts[rng.integers(0, len(counts), len(counts))]).value
        if value is not None:
            slow.append(value)
    low, high = np.percentile(slow, [2.5, 97.5])
    assert fast.ci95[0] == pytest.approx(low, abs=0.03)
    assert fast.ci95[1] == pytest.approx(high, abs=0.03)
    assert fast.ci95[0] <= fast.value <= fast.ci95[1]


def test_bootstrap_is_repeatable_and_seeded(examples: dict[str, Any]) -> None:
    """The same seed gives the same interval; another seed another one."""
    data = examples["krippendorff_2011_C_nominal_missing"]["data"]
    first = krippendorff_alpha(data, bootstrap=300, seed=5)
    assert krippendorff_alpha(data, bootstrap=300, seed=5).ci95 == first.ci95
    assert krippendorff_alpha(data, bootstrap=300, seed=6).ci95 != first.ci95
    assert first.ci95_resamples <= 300
    assert krippendorff_alpha(data).ci95 is None


def test_bootstrap_skipped_above_the_work_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many patterns to resample: no interval, and a reason saying so."""
    monkeypatch.setattr(alpha_module, "BOOTSTRAP_WORK_LIMIT", 10)
    result = alpha_from_patterns(np.array([[2, 0], [1, 1]]), np.array([3, 2]), bootstrap=50)
    assert result.value is not None
    assert result.ci95 is None and "too many" in result.ci95_reason


def test_metric_alpha_uses_the_distance() -> None:
    """With an interval metric the §C data give the published interval alpha."""
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    result = krippendorff_alpha(data, metric=lambda a, b: float(a - b) ** 2)
    assert round(result.value, 3) == 0.849


def _random_matrix(rng: np.random.Generator) -> list[list[int | None]]:
    coders, units = int(rng.integers(2, 7)), int(rng.integers(1, 30))
    values = int(rng.integers(2, 6))
    missing = float(rng.uniform(0, 0.6))
    matrix = rng.integers(0, values, size=(coders, units)).tolist()
    holes = rng.random((coders, units)) < missing
    return [
        [None if h else v for v, h in zip(row, hole, strict=True)]
        for row, hole in zip(matrix, holes, strict=True)
    ]


def test_alpha_agrees_with_the_krippendorff_package() -> None:
    """Random matrices with missing data and 2–6 coders: same alpha as `krippendorff`."""
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(2011)
    compared = 0
    for _ in range(300):
        data = _random_matrix(rng)
        ours = krippendorff_alpha(data)
        if ours.value is None:
            continue
        theirs = krippendorff.alpha(
            reliability_data=np.array(data, dtype=float), level_of_measurement="nominal"
        )
        assert ours.value == pytest.approx(theirs, abs=1e-9), data
        compared += 1
    assert compared > 200
