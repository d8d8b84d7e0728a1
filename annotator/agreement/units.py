"""Agreement unit by unit, for a review queue that shows the least agreed units first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from annotator.agreement.encode import Coded, Rating, encode


def unit_columns(coded: Coded) -> dict[str, np.ndarray]:
    """Per-unit arrays (unit code order): see :func:`unit_agreement` for their meaning.

    ``pairwise``/``sources_pairwise`` are NaN and ``majority`` is -1 where undefined.
    """
    counts = coded.label_counts()
    size = coded.size
    if counts.size:
        top = counts.argmax(axis=1)
        top_count = counts[np.arange(coded.n_units), top]
    else:
        top = top_count = np.zeros(coded.n_units, dtype=np.int64)
    pairs = size * (size - 1)
    pairable = pairs > 0
    safe_pairs = np.where(pairable, pairs, 1)
    pairwise = np.where(pairable, (counts * (counts - 1)).sum(axis=1) / safe_pairs, np.nan)
    same = coded.source_list[coded.first] == coded.source_list[coded.second]
    agreeing = np.bincount(coded.pair_unit, weights=same, minlength=coded.n_units)
    sources_pairwise = np.where(pairable, 2.0 * agreeing / safe_pairs, np.nan)
    return {
        "unit": coded.unit_ids,
        "n_ratings": size,
        "majority": np.where(2 * top_count > size, top, -1),
        "majority_share": top_count / np.maximum(size, 1),
        "pairwise": pairwise,
        "sources_pairwise": sources_pairwise,
    }


def review_order(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Unit positions, least agreed first: label pairwise agreement, then sources, then
    majority share, then unit id; units with a single rating come last."""
    # np.lexsort sorts by the last key first; NaN (single rating) sorts after numbers.
    return np.lexsort(
        (
            columns["unit"],
            columns["majority_share"],
            columns["sources_pairwise"],
            columns["pairwise"],
        )
    )


def _maybe(value: float) -> float | None:
    return None if value != value else value  # NaN is the only value unequal to itself


def unit_agreement(
    ratings: Iterable[Rating], labels: Sequence[str], *, limit: int | None = None
) -> list[dict[str, Any]]:
    """Agreement per unit, least agreed first (at most ``limit`` units).

    Each entry: ``unit`` (id), ``n_ratings``, ``majority`` (the label more than half
    of the ratings give, else None), ``majority_share`` (share of ratings giving the
    most frequent label), ``pairwise_agreement`` (share of agreeing pairs of labels,
    None with a single rating) and ``sources_pairwise_agreement`` (the same for
    identical ordered source lists).
    """
    return unit_agreement_coded(encode(ratings, labels), limit=limit)


def unit_agreement_coded(coded: Coded, *, limit: int | None = None) -> list[dict[str, Any]]:
    """:func:`unit_agreement` for ratings already coded with ``encode``/``encode_columns``."""
    columns = unit_columns(coded)
    order = review_order(columns)
    if limit is not None:
        order = order[: max(limit, 0)]
    label_names = coded.labels
    return [
        {
            "unit": unit,
            "n_ratings": n,
            "majority": label_names[majority] if majority >= 0 else None,
            "majority_share": share,
            "pairwise_agreement": _maybe(pairwise),
            "sources_pairwise_agreement": _maybe(sources),
        }
        for unit, n, majority, share, pairwise, sources in zip(
            columns["unit"][order].tolist(),
            columns["n_ratings"][order].tolist(),
            columns["majority"][order].tolist(),
            columns["majority_share"][order].tolist(),
            columns["pairwise"][order].tolist(),
            columns["sources_pairwise"][order].tolist(),
            strict=True,
        )
    ]


def one_unit_agreement(labels: Sequence[str]) -> dict[str, Any]:
    """The agreement of one unit's labels, as :func:`unit_agreement` defines it.

    ``n``: ratings; ``majority``: the label more than half give, else None;
    ``pairwise_agreement``: share of agreeing pairs (None below two ratings).
    """
    n = len(labels)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    top = max(counts.items(), key=lambda item: item[1], default=(None, 0))
    pairs = n * (n - 1)
    agreeing = sum(c * (c - 1) for c in counts.values())
    return {
        "n": n,
        "majority": top[0] if 2 * top[1] > n else None,
        "pairwise_agreement": agreeing / pairs if pairs else None,
    }
