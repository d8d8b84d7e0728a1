"""Coding ratings as columns: unit order, pairs, sparse ids, bad input."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from annotator.agreement import Rating, encode, summarise

from .factories import LABELS, random_matrices, ratings_from_matrix


def _ratings(seed: int) -> list[Rating]:
    data, linked = random_matrices(np.random.default_rng(seed))
    return [
        Rating(r.unit, r.annotator, LABELS[int(r.label)], r.sources)
        for r in ratings_from_matrix(data, linked)
    ]


def test_pairs_are_every_two_ratings_of_a_unit() -> None:
    """first/second list each pair of same-unit positions exactly once."""
    coded = encode(_ratings(1), LABELS)
    found = sorted(zip(coded.first.tolist(), coded.second.tolist(), strict=True))
    expected = sorted(
        (i, j)
        for i, j in itertools.combinations(range(coded.n_ratings), 2)
        if coded.unit[i] == coded.unit[j]
    )
    assert found == expected
    assert (coded.pair_unit == coded.unit[coded.first]).all()


def test_order_and_ids_do_not_matter() -> None:
    """Shuffled input, sparse unit ids and a generator give the same summary."""
    ratings = _ratings(2)
    base = summarise(ratings, LABELS, bootstrap=100)
    shuffled = ratings[:]
    random.Random(0).shuffle(shuffled)
    assert summarise(shuffled, LABELS, bootstrap=100) == base
    sparse = [Rating(r.unit * 10**12 - 7, r.annotator, r.label, r.sources) for r in ratings]
    assert summarise(sparse, LABELS, bootstrap=100) == base
    assert summarise(iter(ratings), LABELS, bootstrap=100) == base


def test_unit_codes_and_ids() -> None:
    """Unit ids ascend by code; ids nobody rated map to -1."""
    coded = encode([Rating(7, "a", "quote"), Rating(3, "a", "quote")], LABELS)
    assert coded.unit_ids.tolist() == [3, 7]
    assert coded.unit_codes([7, 3, 5]).tolist() == [1, 0, -1]


def test_sources_given_as_a_list_become_a_tuple() -> None:
    """A list would not hash; the Rating keeps a tuple."""
    rating = Rating(1, "a", "quote", ["AP", "KCNA"])  # type: ignore[arg-type]
    assert rating.sources == ("AP", "KCNA")
    assert summarise([rating], LABELS)["sources"]["n_distinct_lists"] == 1


@pytest.mark.parametrize(
    ("ratings", "labels", "message"),
    [
        ([Rating(1, "a", "quote"), Rating(1, "a", "unclear")], LABELS, "'a' rated unit 1"),
        ([Rating(1, "a", "rumour")], LABELS, "unknown label 'rumour'"),
        ([], ("quote", "quote"), "labels must be distinct"),
    ],
)
def test_bad_input_is_a_value_error(
    ratings: list[Rating], labels: tuple[str, ...], message: str
) -> None:
    """A repeated rating, an unknown label, a label scheme with duplicates."""
    with pytest.raises(ValueError, match=message):
        encode(ratings, labels)
