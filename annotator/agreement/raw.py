"""Agreement not corrected for chance: percent agreement, specific agreement, pair counts.

All take units × values count rows (optionally distinct rows with a frequency each, as
:func:`annotator.agreement.alpha.compress_units` returns them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Share:
    """A proportion over ``n`` items; ``value`` None (with a ``reason``) when n is 0."""

    value: float | None
    reason: str | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: value, reason, n."""
        return {"value": self.value, "reason": self.reason, "n": self.n}


def _rows(counts: np.ndarray, freq: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray(counts, dtype=np.int64)
    weights = np.ones(rows.shape[0], dtype=np.int64) if freq is None else np.asarray(freq)
    return rows, weights


def percent_agreement(counts: np.ndarray, freq: np.ndarray | None = None) -> Share:
    """Mean pairwise agreement over units with two or more ratings.

    For a unit with m ratings, n_c of them with value c, the share of its m (m − 1) / 2
    pairs of ratings that agree is Σ_c n_c (n_c − 1) / (m (m − 1)); the result is the
    plain mean of that share over those units (each unit weighs the same), and ``n``
    counts them.
    """
    rows, weights = _rows(counts, freq)
    size = rows.sum(axis=1)
    keep = size >= 2
    n_units = int(weights[keep].sum())
    if n_units == 0:
        return Share(None, "no unit has two or more ratings", 0)
    rows, weights, size = rows[keep], weights[keep], size[keep]
    per_unit = (rows * (rows - 1)).sum(axis=1) / (size * (size - 1))
    return Share(float(weights @ per_unit / n_units), None, n_units)


def pair_counts(counts: np.ndarray, freq: np.ndarray | None = None) -> np.ndarray:
    """Values × values counts of ordered pairs of ratings on the same unit.

    Every two ratings of a unit (from different annotators) count once as (a, b) and
    once as (b, a), so the matrix is symmetric, an agreeing pair adds 2 to its diagonal
    cell, and the total is Σ_u m_u (m_u − 1).
    """
    rows, weights = _rows(counts, freq)
    return (rows * weights[:, None]).T @ rows - np.diag(weights @ rows)


def specific_agreement(coincidence: np.ndarray) -> list[Share]:
    """Category-specific agreement o_cc / n_c for each value c, from a coincidence matrix.

    It is the share of the pairings of c-values that pair them with another c, each
    pairable value weighing the same (Krippendorff's coincidences weight a unit's pairs
    by 1 / (m − 1)). With two ratings per unit it is the usual 2 a / (2 a + b + c).
    ``n`` is n_c rounded: the pairable values that are c.
    """
    matrix = np.asarray(coincidence, dtype=np.float64)
    totals = matrix.sum(axis=1)
    results = []
    for value, total in zip(np.diag(matrix).tolist(), totals.tolist(), strict=True):
        n = int(round(total))
        if n == 0:
            results.append(Share(None, "no pairable rating has this value", 0))
        else:
            results.append(Share(value / total, None, n))
    return results
