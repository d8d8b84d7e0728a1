"""Cohen's and Fleiss' kappa: published examples, undefined cases, statsmodels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from annotator.agreement.kappa import (
    cohen_kappa,
    cohen_kappa_from_labels,
    cohen_kappa_many,
    fleiss_from_patterns,
    fleiss_kappa,
)


def test_cohen_grant_proposals(examples: dict[str, Any]) -> None:
    """Wikipedia: p_o 0.7, p_e 0.5, κ 0.4."""
    case = examples["cohen_wikipedia_grant_proposals"]
    result = cohen_kappa(case["confusion"])
    expected = case["expected_published"]
    assert round(result.observed, 3) == expected["p_o"]
    assert round(result.expected, 3) == expected["p_e"]
    assert round(result.value, 3) == expected["kappa"]
    assert result.n == 50


def test_cohen_same_agreement_different_kappa(examples: dict[str, Any]) -> None:
    """Wikipedia: the same 60 % agreement gives κ 0.1304 and 0.2593."""
    for case in examples["cohen_wikipedia_same_agreement_different_kappa"]["cases"]:
        result = cohen_kappa(case["confusion"])
        assert round(result.observed, 3) == round(case["p_o"], 3)
        assert round(result.expected, 3) == round(case["p_e"], 3)
        assert result.value == pytest.approx(case["kappa"], abs=5e-5)


def test_cohen_sas_table(examples: dict[str, Any]) -> None:
    """The SAS printout statsmodels tests against: κ 0.4842."""
    case = examples["cohen_sas_table10"]
    assert cohen_kappa(case["confusion"]).value == pytest.approx(
        case["expected_published"]["kappa"], abs=5e-5
    )


def test_fleiss_wikipedia(examples: dict[str, Any]) -> None:
    """κ 0.210 with P̄ 0.378, P̄_e 0.213, every p_j and every P_i."""
    case = examples["fleiss_wikipedia_10x14x5"]
    result = fleiss_kappa(case["table_subjects_x_categories"])
    expected = case["expected_published"]
    assert round(result.value, 3) == expected["kappa"]
    assert round(result.observed, 3) == expected["P_bar"]
    assert round(result.expected, 3) == expected["P_e_bar"]
    assert [round(p, 3) for p in result.proportions] == expected["p_j"]
    assert [round(p, 3) for p in result.unit_agreement] == expected["P_i"]
    assert result.raters == 14 and result.n_units == 10
    assert result.value == pytest.approx(case["computed_here"]["kappa"], abs=1e-6)


def test_fleiss_from_patterns_matches_the_full_table(examples: dict[str, Any]) -> None:
    """Counting identical units once with a frequency changes nothing."""
    table = np.array(examples["fleiss_wikipedia_10x14x5"]["table_subjects_x_categories"])
    doubled = fleiss_from_patterns(table, np.full(len(table), 2))
    assert doubled.value == pytest.approx(fleiss_kappa(table).value)
    assert doubled.n_units == 20


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ([[2, 0], [1, 2]], "units have between 2 and 3 ratings"),
        ([[1, 0], [0, 1]], "every unit has only one rating"),
        ([[3, 0], [3, 0]], "every rating is the same label"),
        (np.zeros((0, 3), dtype=int), "no units"),
    ],
)
def test_fleiss_undefined(table: Any, reason: str) -> None:
    """Unequal numbers of ratings, one rating per unit, one label, no units."""
    result = fleiss_kappa(table)
    assert result.value is None
    assert result.reason.startswith(reason)
    assert set(result.as_dict()) >= {"value", "reason"}


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        (["a", None, "b"], [None, "a", None], "no shared units"),
        ([], [], "no shared units"),
        (["a", "b"], ["a", None], "only one shared unit"),
        (["q", "q", "q"], ["q", "q", "q"], "both gave one and the same label"),
    ],
)
def test_cohen_undefined(first: list[Any], second: list[Any], reason: str) -> None:
    """No shared units, a single shared unit, p_e = 1: None with a reason."""
    result = cohen_kappa_from_labels(first, second)
    assert result.value is None
    assert result.reason.startswith(reason)


def test_cohen_from_labels_counts_shared_units_only() -> None:
    """Units one annotator skipped are left out; disagreement on all gives a negative kappa."""
    result = cohen_kappa_from_labels(["a", "b", None, "a"], ["b", "a", "a", None])
    assert result.n == 2
    assert result.value == pytest.approx(-1.0)


def test_cohen_rejects_a_non_square_table() -> None:
    """A confusion matrix must be square."""
    with pytest.raises(ValueError):
        cohen_kappa([[1, 2, 3], [4, 5, 6]])


def test_cohen_agrees_with_statsmodels() -> None:
    """Random confusion matrices: statsmodels' cohens_kappa gives the same kappa."""
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(1960)
    tables = [rng.integers(0, 12, size=(k, k)) for k in rng.integers(2, 6, size=30)]
    for table in tables:
        ours = cohen_kappa(table)
        if ours.value is None:
            continue
        with np.errstate(all="ignore"):  # its z statistic divides 0 by 0 on some tables
            theirs = inter_rater.cohens_kappa(table).kappa
        assert ours.value == pytest.approx(theirs, abs=1e-9)
    stacked = np.stack([rng.integers(0, 9, size=(3, 3)) for _ in range(20)])
    assert [k.value for k in cohen_kappa_many(stacked)] == [cohen_kappa(t).value for t in stacked]


def test_fleiss_agrees_with_statsmodels() -> None:
    """Random subjects × categories tables with a fixed number of raters."""
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(1971)
    for _ in range(200):
        raters, categories = int(rng.integers(2, 9)), int(rng.integers(2, 6))
        units = int(rng.integers(1, 25))
        table = np.stack(
            [rng.multinomial(raters, rng.dirichlet(np.ones(categories))) for _ in range(units)]
        )
        ours = fleiss_kappa(table)
        if ours.value is None:
            continue
        assert ours.value == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-9)
