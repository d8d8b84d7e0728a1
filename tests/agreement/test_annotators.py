"""Each annotator against the others' majority, gold and suggestions."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.agreement import Rating, cohen_kappa, encode, summarise
from annotator.agreement.alpha import unit_patterns
from annotator.agreement.annotators import majority_agreement, others_majority

from .factories import LABELS

RATINGS = [
    Rating(1, "a", "quote", ("AP",)),
    Rating(1, "b", "quote", ("AP",)),
    Rating(1, "c", "quote", ("AFP",)),
    Rating(2, "a", "quote"),
    Rating(2, "b", "speculation"),
    Rating(2, "c", "speculation"),
    Rating(3, "a", "quote"),
    Rating(3, "b", "reported_fact"),
    Rating(3, "c", "speculation"),
    Rating(4, "a", "quote"),
]


def _by_name(summary: dict) -> dict[str, dict]:
    return {entry["annotator"]: entry for entry in summary["annotators"]}


def test_majority_of_the_others() -> None:
    """Matches, misses, ties skipped as no_majority, lone units counted as alone."""
    people = _by_name(summarise(RATINGS, LABELS))
    a, b = people["a"]["majority"], people["b"]["majority"]
    assert (a["n"], a["accuracy"], a["no_majority"], a["alone"]) == (2, 0.5, 1, 1)
    assert (b["n"], b["accuracy"], b["no_majority"], b["alone"]) == (1, 1.0, 2, 0)
    assert a["kappa"] == cohen_kappa([[0, 0, 0, 0], [0, 1, 1, 0], [0] * 4, [0] * 4]).value
    assert b["kappa"] is None and b["reason"] == "only one shared unit"
    assert people["a"]["n_ratings"] == 4


@pytest.mark.parametrize(
    ("others", "majority"),
    [
        (["quote", "quote", "speculation", "unclear"], None),  # 2 of 4 is no strict majority
        (["quote", "quote", "quote", "unclear"], "quote"),
        (["quote"], "quote"),
        (["quote", "unclear"], None),
    ],
)
def test_strict_majority_means_more_than_half(others: list[str], majority: str | None) -> None:
    """The others' label must be given by more than half of them."""
    ratings = [Rating(1, "me", "reported_fact")]
    ratings += [Rating(1, f"o{i}", label) for i, label in enumerate(others)]
    coded = encode(ratings, LABELS)
    rows, _, pattern = unit_patterns(coded.label_counts())
    mine = majority_agreement(coded, rows, pattern)[coded.annotators.index("me")]
    assert mine["n"] == (0 if majority is None else 1)
    table = others_majority(rows)
    top = table[pattern[0], LABELS.index("reported_fact")]
    assert (LABELS[top] if top >= 0 else None) == majority


def test_gold_and_suggestions() -> None:
    """Accuracy, kappa and exact sources per annotator; units without a reference skipped."""
    gold = {1: ("quote", ["AP"]), 2: ("speculation", []), 99: ("quote", ())}
    suggestions = {1: ("quote", ("AP",)), 2: ("quote", ()), 3: ("quote", ()), 4: ("quote", ())}
    people = _by_name(summarise(RATINGS, LABELS, gold=gold, suggestions=suggestions))
    a = people["a"]
    assert (a["gold"]["n"], a["gold"]["accuracy"], a["gold"]["sources_exact"]) == (2, 0.5, 1.0)
    assert a["gold"]["kappa"] == cohen_kappa([[0, 0, 0, 0], [0, 1, 1, 0], [0] * 4, [0] * 4]).value
    assert people["c"]["gold"]["sources_exact"] == 0.5  # AFP is not AP
    assert a["suggestions"]["accuracy"] == 1.0 and a["suggestions"]["n"] == 4
    assert a["suggestions"]["kappa"] is None  # quote everywhere: chance agreement 1
    assert a["suggestions"]["reason"]


def test_no_references_given() -> None:
    """Without gold or suggestions their entries are None; an unmatched gold has a reason."""
    people = _by_name(summarise(RATINGS, LABELS))
    assert people["a"]["gold"] is None and people["a"]["suggestions"] is None
    only_elsewhere = _by_name(summarise(RATINGS, LABELS, gold={99: ("quote", ())}))
    entry = only_elsewhere["b"]["gold"]
    assert entry["n"] == 0 and entry["accuracy"] is None and entry["reason"]


def test_reference_with_unknown_label_is_an_error() -> None:
    """A gold label outside the scheme is a ValueError."""
    with pytest.raises(ValueError, match="'rumour'"):
        summarise(RATINGS, LABELS, gold={1: ("rumour", ())})


def test_majority_kappa_agrees_with_a_direct_count() -> None:
    """Random data: the per-annotator majority confusion counted rating by rating."""
    rng = np.random.default_rng(12)
    ratings = [
        Rating(unit, f"a{k}", LABELS[int(rng.integers(0, 3))])
        for unit in range(300)
        for k in range(int(rng.integers(1, 6)))
    ]
    by_unit: dict[int, list[Rating]] = {}
    for r in ratings:
        by_unit.setdefault(r.unit, []).append(r)
    people = _by_name(summarise(ratings, LABELS, bootstrap=0))
    for name, entry in people.items():
        table = np.zeros((4, 4), dtype=int)
        for rows in by_unit.values():
            mine = [r for r in rows if r.annotator == name]
            others = [r.label for r in rows if r.annotator != name]
            if not mine or not others:
                continue
            top = max(set(others), key=others.count)
            if 2 * others.count(top) > len(others):
                table[LABELS.index(mine[0].label), LABELS.index(top)] += 1
        assert entry["majority"]["n"] == table.sum()
        assert entry["majority"]["kappa"] == cohen_kappa(table).value
