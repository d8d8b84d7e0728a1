"""One JSON-ready summary of every agreement statistic for a set of ratings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from annotator.agreement.alpha import (
    Alpha,
    alpha_from_patterns,
    coincidence_matrix,
    unit_patterns,
)
from annotator.agreement.annotators import annotator_summary
from annotator.agreement.encode import Coded, Rating, Reference, encode
from annotator.agreement.kappa import cohen_kappa_many, fleiss_from_patterns
from annotator.agreement.raw import pair_counts, percent_agreement, specific_agreement
from annotator.agreement.sources import source_summary

# Above this many (annotator pair, label, label) cells, tally only the pairs that occur.
_DENSE_PAIR_CELLS = 4_000_000


def pairwise_cohen(coded: Coded) -> list[dict[str, Any]]:
    """Cohen's kappa for every two annotators over the units both rated.

    One entry per pair, names in sorted order: ``a``, ``b``, ``kappa`` (None with a
    ``reason`` when undefined), ``n`` (shared units), ``observed``/``expected`` (p_o, p_e).
    """
    n_annotators, n_labels = len(coded.annotators), len(coded.labels)
    a, b = coded.annotator[coded.first], coded.annotator[coded.second]
    # Pairs come in either annotator order; tally both and fold (b, a) into (a, b) below.
    pair = a * n_annotators + b
    if n_annotators * n_annotators * n_labels * n_labels <= _DENSE_PAIR_CELLS:
        present, slot = np.arange(n_annotators * n_annotators), pair
    else:
        present, slot = np.unique(pair, return_inverse=True)
    cells = (slot * n_labels + coded.label[coded.first]) * n_labels + coded.label[coded.second]
    tables = np.bincount(cells, minlength=present.size * n_labels * n_labels)
    tables = tables.reshape(present.size, n_labels, n_labels)
    low, high = np.triu_indices(n_annotators, k=1)
    forward = _lookup(tables, present, low * n_annotators + high)
    backward = _lookup(tables, present, high * n_annotators + low)
    kappas = cohen_kappa_many(forward + backward.transpose(0, 2, 1))
    return [
        {
            "a": coded.annotators[i],
            "b": coded.annotators[j],
            "kappa": kappa.value,
            "n": kappa.n,
            "reason": kappa.reason,
            "observed": kappa.observed,
            "expected": kappa.expected,
        }
        for i, j, kappa in zip(low.tolist(), high.tolist(), kappas, strict=True)
    ]


def _lookup(tables: np.ndarray, present: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The tables of the ``wanted`` pair codes (zeros for codes not ``present``)."""
    if present.size == 0:
        return np.zeros((wanted.size,) + tables.shape[1:], dtype=tables.dtype)
    pos = np.minimum(np.searchsorted(present, wanted), present.size - 1)
    found = present[pos] == wanted
    return np.where(found[:, None, None], tables[pos], 0)


def _unclear_part(
    rows: np.ndarray,
    freq: np.ndarray,
    labels: tuple[str, ...],
    unclear: str | None,
    as_category: Alpha,
    **boot: int,
) -> dict[str, Any]:
    """Alpha with ``unclear`` treated as missing data, and how far it moves from alpha."""
    if unclear is None or unclear not in labels:
        reason = f"the label scheme has no {unclear!r} label"
        return {
            "label": unclear,
            "n_ratings": 0,
            "alpha_as_missing": Alpha(None, reason, ci95_reason=reason).as_dict(),
            "difference": None,
            "reason": reason,
        }
    column = labels.index(unclear)
    as_missing = alpha_from_patterns(np.delete(rows, column, axis=1), freq, **boot)
    difference, reason = None, None
    if as_missing.value is None:
        reason = f"alpha with {unclear!r} as missing is undefined"
    elif as_category.value is None:
        reason = f"alpha with {unclear!r} as a category is undefined"
    else:
        difference = as_missing.value - as_category.value
    return {
        "label": unclear,
        "n_ratings": int(freq @ rows[:, column]),
        "alpha_as_missing": as_missing.as_dict(),
        "difference": difference,
        "reason": reason,
    }


def label_summary(
    coded: Coded,
    rows: np.ndarray,
    freq: np.ndarray,
    *,
    unclear: str | None,
    bootstrap: int,
    seed: int,
) -> dict[str, Any]:
    """The ``labels`` part of the summary (see :func:`summarise`), from unit patterns."""
    labels = coded.labels
    boot = {"bootstrap": bootstrap, "seed": seed}
    alpha = alpha_from_patterns(rows, freq, **boot)

    coincidence = coincidence_matrix(rows, freq)
    per_label = []
    totals = freq @ rows
    for column, (name, specific) in enumerate(
        zip(labels, specific_agreement(coincidence), strict=True)
    ):
        # Category-specific alpha: this label against all others pooled.
        binary = np.stack([rows[:, column], rows.sum(axis=1) - rows[:, column]], axis=1)
        per_label.append(
            {
                "label": name,
                "n_ratings": int(totals[column]),
                "n_values": specific.n,
                "specific_agreement": specific.value,
                "reason": specific.reason,
                "alpha_vs_rest": alpha_from_patterns(binary, freq, **boot).as_dict(),
            }
        )
    confusion = pair_counts(rows, freq)
    return {
        "counts": {name: int(totals[i]) for i, name in enumerate(labels)},
        "krippendorff_alpha": alpha.as_dict(),
        "unclear": _unclear_part(rows, freq, labels, unclear, alpha, **boot),
        "fleiss_kappa": fleiss_from_patterns(rows, freq).as_dict(),
        "percent_agreement": percent_agreement(rows, freq).as_dict(),
        "cohen_kappa": pairwise_cohen(coded),
        "per_label": per_label,
        "confusion": {
            "labels": list(labels),
            "matrix": confusion.astype(np.int64).tolist(),
            "n_pairs": int(confusion.sum()),
            "coincidence": coincidence.tolist(),
        },
    }


def summarise_coded(
    coded: Coded,
    *,
    gold: Mapping[int, Reference] | None = None,
    suggestions: Mapping[int, Reference] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    unclear: str | None = "unclear",
) -> dict[str, Any]:
    """:func:`summarise` for ratings already coded with :func:`encode`."""
    rows, freq, pattern = unit_patterns(coded.label_counts())
    return {
        "n_ratings": coded.n_ratings,
        "n_units": coded.n_units,
        "n_pairable_units": int(np.count_nonzero(coded.size >= 2)),
        "n_annotators": len(coded.annotators),
        "labels": label_summary(coded, rows, freq, unclear=unclear, bootstrap=bootstrap, seed=seed),
        "sources": source_summary(coded),
        "annotators": annotator_summary(coded, rows, pattern, gold, suggestions),
        "bootstrap": {"resamples": bootstrap, "seed": seed, "resampled": "units"},
    }


def summarise(
    ratings: Iterable[Rating],
    labels: Sequence[str],
    *,
    gold: Mapping[int, Reference] | None = None,
    suggestions: Mapping[int, Reference] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    unclear: str | None = "unclear",
) -> dict[str, Any]:
    """Every agreement statistic for ``ratings`` as one JSON-ready dict.

    ``labels`` is the project's label scheme (a rating with another label is a
    ValueError, as is an annotator rating a unit twice). ``gold`` and ``suggestions``
    map unit ids to ``(label, sources)``. ``bootstrap`` resamples of the units give
    the 95 % intervals of the label alphas (0 turns them off; the source alphas have
    none, their values being too varied to resample by pattern); ``seed`` makes them
    repeatable. ``unclear`` names the label also treated as missing data.

    Shape (every statistic that can be undefined is None next to a ``reason``)::

        {"n_ratings", "n_units", "n_pairable_units", "n_annotators",
         "labels": {"counts": {label: n},
                    "krippendorff_alpha": ALPHA,
                    "unclear": {"label", "n_ratings", "alpha_as_missing": ALPHA,
                                "difference": as missing − as category, "reason"},
                    "fleiss_kappa": {"value", "reason", "n_units", "raters_per_unit",
                                     "observed", "expected", "proportions"},
                    "percent_agreement": {"value", "reason", "n"},
                    "cohen_kappa": [{"a", "b", "kappa", "n", "reason", "observed", "expected"}],
                    "per_label": [{"label", "n_ratings", "n_values", "specific_agreement",
                                   "reason", "alpha_vs_rest": ALPHA}],
                    "confusion": {"labels", "matrix", "n_pairs", "coincidence"}},
         "sources": {"krippendorff_alpha_masi": ALPHA, "krippendorff_alpha_speaker": ALPHA,
                     "percent_agreement_exact": {"value", "reason", "n"},
                     "n_distinct_lists", "n_distinct_sets", "n_without_sources"},
         "annotators": [{"annotator", "n_ratings",
                         "majority": {"n", "accuracy", "kappa", "reason", "no_majority", "alone"},
                         "gold": None | {"n", "accuracy", "kappa", "reason", "sources_exact"},
                         "suggestions": None | {... as gold}}],
         "bootstrap": {"resamples", "seed", "resampled"}}

    ``confusion.matrix`` counts ordered pairs of ratings on the same unit (symmetric;
    see :func:`pair_counts`), ``confusion.coincidence`` is Krippendorff's o_ck, which
    weights a unit's pairs by 1 / (m − 1); they are equal when every unit has two
    ratings. ALPHA is ``Alpha.as_dict()``: {"value", "reason", "interpretation", "ci95",
    "ci95_reason", "ci95_resamples", "n_units", "n_values", "observed_disagreement",
    "expected_disagreement"}.
    """
    coded = encode(ratings, labels)
    return summarise_coded(
        coded,
        gold=gold,
        suggestions=suggestions,
        bootstrap=bootstrap,
        seed=seed,
        unclear=unclear,
    )
