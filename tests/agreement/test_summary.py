"""The summary dict: the DESIGN.md contract, published values through Ratings, undefined cases."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.agreement import (
    Rating,
    cohen_kappa,
    krippendorff_alpha,
    masi_distance,
    summarise,
    unit_agreement,
)

from .factories import LABELS, random_matrices, ratings_from_matrix

CONTRACT = [
    ("n_units",),
    ("n_annotators",),
    ("labels", "krippendorff_alpha"),
    ("labels", "fleiss_kappa"),
    ("labels", "percent_agreement"),
    ("labels", "cohen_kappa"),
    ("labels", "per_label"),
    ("labels", "confusion"),
    ("sources", "krippendorff_alpha_masi"),
]


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, leaf) of a JSON-like value."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _walk(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _walk(item, f"{path}[{i}]")]
    return [(path, value)]


def assert_clean(summary: dict[str, Any]) -> None:
    """JSON without NaN, plain Python types, and a reason beside every null statistic."""
    json.dumps(summary, allow_nan=False)
    for path, leaf in _walk(summary):
        assert leaf is None or isinstance(leaf, str | int | float | bool), (path, type(leaf))
        assert not (isinstance(leaf, float) and math.isnan(leaf)), path
    for path, leaf in _walk(summary):
        name = path.rsplit(".", 1)[-1]
        if leaf is None and name in {
            "value",
            "kappa",
            "specific_agreement",
            "accuracy",
            "difference",
        }:
            parent = _lookup(summary, path.rsplit(".", 1)[0])
            assert parent.get("reason"), f"{path} is null without a reason"


def _lookup(summary: dict[str, Any], path: str) -> Any:
    node: Any = summary
    for part in path.strip(".").replace("[", ".[").split("."):
        if not part:
            continue
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node


def test_contract_keys_and_shapes() -> None:
    """The keys `annotator agreement --json` promises, with the documented shapes."""
    data = [["1", "2", "3", "1"], ["1", "2", "3", "2"], ["1", None, "3", "1"]]
    summary = summarise(ratings_from_matrix(data), ["1", "2", "3"], bootstrap=50)
    for path in CONTRACT:
        node = summary
        for key in path:
            node = node[key]
    assert summary["n_units"] == 4 and summary["n_annotators"] == 3
    alpha = summary["labels"]["krippendorff_alpha"]
    assert isinstance(alpha["value"], float) and len(alpha["ci95"]) == 2
    assert alpha["interpretation"]
    assert {"a", "b", "kappa", "n"} <= set(summary["labels"]["cohen_kappa"][0])
    assert summary["labels"]["confusion"]["labels"] == ["1", "2", "3"]
    assert_clean(summary)


def test_published_alpha_through_ratings(examples: dict[str, Any]) -> None:
    """Krippendorff §C as Rating objects: α 0.743, D_o 0.2, D_e 0.779, 11 pairable units."""
    case = examples["krippendorff_2011_C_nominal_missing"]
    summary = summarise(ratings_from_matrix(case["data"]), ["1", "2", "3", "4", "5"])
    alpha = summary["labels"]["krippendorff_alpha"]
    assert round(alpha["value"], 3) == 0.743
    assert round(alpha["observed_disagreement"], 3) == 0.2
    assert round(alpha["expected_disagreement"], 3) == 0.779
    assert alpha["n_units"] == 11 and summary["n_units"] == 12
    assert alpha["ci95"][0] < alpha["value"] < alpha["ci95"][1]
    assert "unequal" not in summary["labels"]["fleiss_kappa"]["reason"]
    assert summary["labels"]["fleiss_kappa"]["reason"].startswith("units have between 1 and 4")


def test_published_fleiss_through_ratings(examples: dict[str, Any]) -> None:
    """The Wikipedia table as 14 ratings per unit: κ 0.210."""
    table = examples["fleiss_wikipedia_10x14x5"]["table_subjects_x_categories"]
    labels = ["1", "2", "3", "4", "5"]
    ratings = []
    for unit, row in enumerate(table):
        given = [label for label, count in zip(labels, row, strict=True) for _ in range(count)]
        ratings += [Rating(unit, f"r{i}", label) for i, label in enumerate(given)]
    fleiss = summarise(ratings, labels, bootstrap=0)["labels"]["fleiss_kappa"]
    assert round(fleiss["value"], 3) == 0.210
    assert fleiss["raters_per_unit"] == 14
    assert round(fleiss["observed"], 3) == 0.378 and round(fleiss["expected"], 3) == 0.213


def test_empty_input() -> None:
    """No ratings: counts 0 and every statistic null with a reason."""
    summary = summarise([], LABELS)
    assert summary["n_units"] == 0 and summary["n_annotators"] == 0
    assert summary["labels"]["krippendorff_alpha"]["value"] is None
    assert summary["labels"]["fleiss_kappa"]["reason"] == "no units"
    assert summary["labels"]["cohen_kappa"] == []
    assert summary["sources"]["krippendorff_alpha_masi"]["value"] is None
    assert summary["annotators"] == []
    assert_clean(summary)


def test_single_annotator() -> None:
    """One annotator: nothing pairable, no pairs, majority has nobody else."""
    ratings = [Rating(u, "solo", LABELS[u % 4], ("AP",)) for u in range(8)]
    summary = summarise(ratings, LABELS)
    assert summary["labels"]["krippendorff_alpha"]["reason"].startswith("no unit has values")
    assert summary["labels"]["percent_agreement"]["value"] is None
    assert summary["labels"]["cohen_kappa"] == []
    assert summary["annotators"][0]["majority"]["alone"] == 8
    assert_clean(summary)


def test_single_category_used() -> None:
    """Everyone says quote: alpha, Fleiss and Cohen undefined, raw agreement 1."""
    ratings = [Rating(u, a, "quote") for u in range(5) for a in ("x", "y")]
    labels = summarise(ratings, LABELS)["labels"]
    assert labels["krippendorff_alpha"]["value"] is None
    assert labels["fleiss_kappa"]["value"] is None
    assert labels["cohen_kappa"][0]["kappa"] is None
    assert labels["percent_agreement"]["value"] == 1.0
    quote = labels["per_label"][1]
    assert quote["specific_agreement"] == 1.0 and quote["alpha_vs_rest"]["value"] is None


def test_subset_by_label_is_a_valid_summary() -> None:
    """Filtering ratings (here to one label) still gives a clean summary with reasons."""
    rng = np.random.default_rng(4)
    data, linked = random_matrices(rng)
    ratings = [r for r in ratings_from_matrix(data, linked) if r.label == "1"]
    summary = summarise(ratings, ["0", "1", "2", "3"], bootstrap=20)
    assert summary["labels"]["krippendorff_alpha"]["value"] is None
    assert_clean(summary)


def test_unclear_as_category_and_as_missing() -> None:
    """Alpha both ways, and their difference (as missing minus as category)."""
    data = [
        ["quote", "unclear", "speculation", "quote", "reported_fact"],
        ["quote", "quote", "speculation", "unclear", "reported_fact"],
        ["quote", "unclear", "speculation", "quote", "speculation"],
    ]
    summary = summarise(ratings_from_matrix(data), LABELS, bootstrap=0)
    unclear = summary["labels"]["unclear"]
    as_category = krippendorff_alpha(data).value
    as_missing = krippendorff_alpha([[v if v != "unclear" else None for v in row] for row in data])
    assert summary["labels"]["krippendorff_alpha"]["value"] == pytest.approx(as_category)
    assert unclear["alpha_as_missing"]["value"] == pytest.approx(as_missing.value)
    assert unclear["difference"] == pytest.approx(as_missing.value - as_category)
    assert unclear["n_ratings"] == 3
    no_unclear = summarise(ratings_from_matrix(data), LABELS, unclear=None)["labels"]["unclear"]
    assert no_unclear["alpha_as_missing"]["value"] is None and no_unclear["reason"]
    assert no_unclear["difference"] is None


def test_pairwise_cohen_lists_every_pair() -> None:
    """Three annotators: three pairs, including one that shares no unit."""
    ratings = [
        Rating(1, "ann", "quote"),
        Rating(1, "bob", "quote"),
        Rating(2, "ann", "speculation"),
        Rating(2, "bob", "quote"),
        Rating(3, "cat", "quote"),
    ]
    pairs = summarise(ratings, LABELS)["labels"]["cohen_kappa"]
    assert [(p["a"], p["b"], p["n"]) for p in pairs] == [
        ("ann", "bob", 2),
        ("ann", "cat", 0),
        ("bob", "cat", 0),
    ]
    assert pairs[1]["kappa"] is None and pairs[1]["reason"] == "no shared units"


def test_summary_agrees_with_independent_implementations() -> None:
    """Random data: alpha = krippendorff package, Cohen per pair = statsmodels."""
    krippendorff = pytest.importorskip("krippendorff")
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(99)
    labels = ["0", "1", "2", "3"]
    for _ in range(40):
        data, linked = random_matrices(rng)
        summary = summarise(ratings_from_matrix(data, linked), labels, bootstrap=0)
        alpha = summary["labels"]["krippendorff_alpha"]["value"]
        if alpha is not None:
            theirs = krippendorff.alpha(
                reliability_data=np.array(data, dtype=float), level_of_measurement="nominal"
            )
            assert alpha == pytest.approx(theirs, abs=1e-9)
        pairs = {(p["a"], p["b"]): p for p in summary["labels"]["cohen_kappa"]}
        for i, j in itertools.combinations(range(len(data)), 2):
            table = np.zeros((4, 4), dtype=int)
            for a, b in zip(data[i], data[j], strict=True):
                if a is not None and b is not None:
                    table[a, b] += 1
            entry = pairs.get((f"c{i}", f"c{j}"))
            if entry is None:  # a coder with no rating at all is no annotator
                assert table.sum() == 0
                continue
            assert entry["n"] == table.sum()
            ours = cohen_kappa(table)
            assert entry["kappa"] == ours.value
            if ours.value is not None:
                with np.errstate(all="ignore"):
                    assert ours.value == pytest.approx(inter_rater.cohens_kappa(table).kappa)


def test_confusion_and_per_label() -> None:
    """Pair counts and specific agreement on a small hand example."""
    ratings = [
        Rating(1, "a", "quote"),
        Rating(1, "b", "quote"),
        Rating(2, "a", "quote"),
        Rating(2, "b", "speculation"),
    ]
    labels = summarise(ratings, LABELS)["labels"]
    assert labels["confusion"]["matrix"][1] == [0, 2, 1, 0]
    assert labels["confusion"]["n_pairs"] == 4
    quote = labels["per_label"][1]
    assert quote["specific_agreement"] == pytest.approx(2 / 3)  # 2a / (2a + b + c)
    assert quote["n_ratings"] == 3
    assert labels["per_label"][0]["specific_agreement"] is None


def test_bootstrap_zero_and_seed() -> None:
    """bootstrap=0: no interval, with the reason; a seed gives the same interval twice."""
    rng = np.random.default_rng(8)
    data, _ = random_matrices(rng)
    ratings = ratings_from_matrix(data)
    labels = ["0", "1", "2", "3"]
    off = summarise(ratings, labels, bootstrap=0)["labels"]["krippendorff_alpha"]
    assert off["ci95"] is None and off["ci95_reason"].startswith("not requested")
    first = summarise(ratings, labels, bootstrap=200, seed=3)
    assert first == summarise(ratings, labels, bootstrap=200, seed=3)


def test_unknown_label_is_an_error() -> None:
    """A label outside the scheme is a ValueError naming it."""
    with pytest.raises(ValueError, match="'rumour'"):
        summarise([Rating(1, "a", "rumour")], LABELS)


_ANSWERS = st.tuples(
    st.sampled_from(LABELS),
    st.lists(st.sampled_from(["AP", "AFP", "KCNA"]), unique=True, max_size=3).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.tuples(st.integers(0, 5), st.sampled_from("abcd")), _ANSWERS))
def test_any_small_input_gives_a_clean_consistent_summary(answers: dict) -> None:
    """Whatever the ratings: clean JSON, reasons for nulls, alphas equal to the matrix path."""
    ratings = [Rating(u, a, label, src) for (u, a), (label, src) in answers.items()]
    summary = summarise(ratings, LABELS, bootstrap=30, gold={0: ("quote", ("AP",))})
    assert_clean(summary)
    units = sorted({u for u, _ in answers})
    coders = sorted({a for _, a in answers})
    labels = [[answers[(u, a)][0] if (u, a) in answers else None for u in units] for a in coders]
    sets = [
        [frozenset(answers[(u, a)][1]) if (u, a) in answers else None for u in units]
        for a in coders
    ]
    expected = krippendorff_alpha(labels).value
    alpha = summary["labels"]["krippendorff_alpha"]["value"]
    assert alpha == (pytest.approx(expected) if expected is not None else None)
    expected = krippendorff_alpha(sets, metric=masi_distance).value
    masi = summary["sources"]["krippendorff_alpha_masi"]["value"]
    assert masi == (pytest.approx(expected) if expected is not None else None)
    assert len(unit_agreement(ratings, LABELS)) == summary["n_units"]
