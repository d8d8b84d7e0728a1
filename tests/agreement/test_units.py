"""Per-unit agreement for the review queue."""

from __future__ import annotations

from annotator.agreement import Rating, unit_agreement

from .factories import LABELS

RATINGS = [
    Rating(10, "a", "quote", ("AP",)),
    Rating(10, "b", "quote", ("AP",)),
    Rating(10, "c", "quote", ("AP",)),
    Rating(20, "a", "quote", ("AP",)),
    Rating(20, "b", "speculation", ("AP",)),
    Rating(20, "c", "speculation", ()),
    Rating(30, "a", "quote"),
    Rating(30, "b", "unclear"),
    Rating(30, "c", "speculation"),
    Rating(40, "a", "quote"),
    Rating(50, "a", "quote", ("AP",)),
    Rating(50, "b", "quote", ("AFP",)),
]


def test_least_agreed_units_come_first() -> None:
    """Order: label agreement, then source agreement; single ratings last."""
    units = unit_agreement(RATINGS, LABELS)
    assert [u["unit"] for u in units] == [30, 20, 50, 10, 40]
    three_way, split, sources_only, unanimous, single = units
    assert three_way["majority"] is None and three_way["pairwise_agreement"] == 0.0
    assert split["majority"] == "speculation"
    assert split["majority_share"] == 2 / 3 and split["pairwise_agreement"] == 1 / 3
    assert split["sources_pairwise_agreement"] == 1 / 3
    assert sources_only["pairwise_agreement"] == 1.0
    assert sources_only["sources_pairwise_agreement"] == 0.0
    assert unanimous == {
        "unit": 10,
        "n_ratings": 3,
        "majority": "quote",
        "majority_share": 1.0,
        "pairwise_agreement": 1.0,
        "sources_pairwise_agreement": 1.0,
    }
    assert single["pairwise_agreement"] is None and single["n_ratings"] == 1


def test_limit_and_empty() -> None:
    """A limit keeps the first units of the queue; no ratings, no units."""
    assert [u["unit"] for u in unit_agreement(RATINGS, LABELS, limit=2)] == [30, 20]
    assert unit_agreement([], LABELS) == []
