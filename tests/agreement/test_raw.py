"""Percent agreement, pair counts and specific agreement, against hand counts."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.agreement.alpha import coincidence_matrix
from annotator.agreement.raw import pair_counts, percent_agreement, specific_agreement

# Units × (a, b, c) counts: 3 agree, 2–1 split, three-way split, a single rating.
COUNTS = np.array([[3, 0, 0], [2, 1, 0], [1, 1, 1], [0, 0, 1]])


def test_percent_agreement_is_the_mean_pairwise_share() -> None:
    """(1 + 1/3 + 0) / 3 over the three units with two or more ratings."""
    result = percent_agreement(COUNTS)
    assert result.value == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert result.n == 3


def test_percent_agreement_with_frequencies() -> None:
    """Distinct rows with frequencies count like repeated units."""
    repeated = np.repeat(COUNTS, [2, 1, 1, 5], axis=0)
    assert (
        percent_agreement(COUNTS, np.array([2, 1, 1, 5])).value == percent_agreement(repeated).value
    )


def test_percent_agreement_undefined_without_pairs() -> None:
    """No unit with two ratings: None with a reason."""
    result = percent_agreement(np.array([[1, 0], [0, 1]]))
    assert result.value is None and result.reason and result.n == 0
    assert percent_agreement(np.zeros((0, 2), dtype=int)).value is None


def test_pair_counts_are_symmetric_ordered_pairs() -> None:
    """Σ m (m − 1) ordered pairs; an agreeing pair adds 2 on the diagonal."""
    matrix = pair_counts(COUNTS)
    np.testing.assert_array_equal(matrix, matrix.T)
    assert matrix.sum() == 3 * 2 * 3
    assert matrix.tolist() == [[6 + 2 + 0, 2 + 1, 1], [2 + 1, 0, 1], [1, 1, 0]]


def test_specific_agreement_with_two_raters_is_2a_over_2a_b_c() -> None:
    """With two ratings per unit: positive agreement 2a / (2a + b + c)."""
    # a = 20 both yes, b + c = 15 split, d = 15 both no.
    counts = np.array([[2, 0]] * 20 + [[1, 1]] * 15 + [[0, 2]] * 15)
    yes, no = specific_agreement(coincidence_matrix(counts))
    assert yes.value == pytest.approx(2 * 20 / (2 * 20 + 15))
    assert no.value == pytest.approx(2 * 15 / (2 * 15 + 15))
    assert yes.n == 55 and no.n == 45


def test_specific_agreement_undefined_for_an_unused_value() -> None:
    """A value no pairable rating has: None with a reason."""
    results = specific_agreement(coincidence_matrix(np.array([[2, 0, 0], [0, 0, 1]])))
    assert results[0].value == 1.0
    assert results[1].value is None and results[1].reason
    assert results[2].value is None  # only on a unit with one rating
