"""Cohen's kappa (two annotators) and Fleiss' kappa (a fixed number of annotators per unit).

Both are (p_o − p_e) / (1 − p_e): observed agreement corrected by the agreement that
chance would give with the marginal label proportions. They are undefined (``value``
None, with a ``reason``) when p_e = 1, i.e. every rating is the same single label, and
when there is too little to compare.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Kappa:
    """A kappa with its observed (p_o) and chance (p_e) agreement over ``n`` shared units."""

    value: float | None
    reason: str | None
    n: int
    observed: float | None = None
    expected: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: value, reason, n, observed, expected."""
        return {
            "value": self.value,
            "reason": self.reason,
            "n": self.n,
            "observed": self.observed,
            "expected": self.expected,
        }


def cohen_kappa_many(confusions: np.ndarray) -> list[Kappa]:
    """Cohen's kappa of each of a stack of L × L confusion matrices (rows: first annotator)."""
    table = np.asarray(confusions, dtype=np.int64)
    n = table.sum(axis=(1, 2))
    agree = np.trace(table, axis1=1, axis2=2)
    # Chance agreement in integers, p_e = Σ_c rows_c cols_c / n², so p_e = 1 is exact.
    chance = np.einsum("kc,kc->k", table.sum(axis=2), table.sum(axis=1))
    results = []
    for count, same, by_chance in zip(n.tolist(), agree.tolist(), chance.tolist(), strict=True):
        if count == 0:
            results.append(Kappa(None, "no shared units", 0))
            continue
        p_o = same / count
        p_e = by_chance / (count * count)
        if count < 2:
            reason = "only one shared unit"
            results.append(Kappa(None, reason, count, p_o, p_e))
        elif by_chance == count * count:
            reason = "both gave one and the same label throughout, so chance agreement is 1"
            results.append(Kappa(None, reason, count, p_o, p_e))
        else:
            results.append(Kappa((p_o - p_e) / (1.0 - p_e), None, count, p_o, p_e))
    return results


def cohen_kappa(confusion: Sequence[Sequence[int]] | np.ndarray) -> Kappa:
    """Cohen's kappa of one square confusion matrix (rows: first annotator's labels)."""
    table = np.asarray(confusion, dtype=np.int64)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"a confusion matrix must be square, not {table.shape}")
    return cohen_kappa_many(table[None])[0]


def cohen_kappa_from_labels(
    first: Sequence[Hashable | None], second: Sequence[Hashable | None]
) -> Kappa:
    """Cohen's kappa of two annotators' labels on the same units (None: unit not rated)."""
    if len(first) != len(second):
        raise ValueError("both annotators need one entry per unit (None where missing)")
    shared = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]
    index = {v: i for i, v in enumerate(dict.fromkeys(v for pair in shared for v in pair))}
    table = np.zeros((max(len(index), 1),) * 2, dtype=np.int64)
    for a, b in shared:
        table[index[a], index[b]] += 1
    return cohen_kappa(table)


@dataclass(frozen=True)
class Fleiss:
    """Fleiss' kappa with P̄ (``observed``), P̄_e (``expected``) and the category shares p_j.

    ``unit_agreement`` holds P_i for each unit when computed from a full table.
    """

    value: float | None
    reason: str | None
    n_units: int
    raters: int | None = None
    observed: float | None = None
    expected: float | None = None
    proportions: tuple[float, ...] = ()
    unit_agreement: tuple[float, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the per-unit P_i)."""
        return {
            "value": self.value,
            "reason": self.reason,
            "n_units": self.n_units,
            "raters_per_unit": self.raters,
            "observed": self.observed,
            "expected": self.expected,
            "proportions": list(self.proportions),
        }


def fleiss_from_patterns(rows: np.ndarray, freq: np.ndarray) -> Fleiss:
    """Fleiss' kappa from distinct units × categories count rows and how many units have each.

    Defined only when every unit has the same number k ≥ 2 of ratings.
    """
    rows = np.asarray(rows, dtype=np.int64)
    freq = np.asarray(freq, dtype=np.int64)
    n_units = int(freq.sum())
    if n_units == 0:
        return Fleiss(None, "no units", 0)
    sizes = rows.sum(axis=1)[freq > 0]
    low, high = int(sizes.min()), int(sizes.max())
    if low != high:
        reason = (
            f"units have between {low} and {high} ratings; Fleiss' kappa needs "
            "the same number on every unit"
        )
        return Fleiss(None, reason, n_units)
    if high < 2:
        return Fleiss(None, "every unit has only one rating", n_units, high)
    k = high
    agreement = ((rows * rows).sum(axis=1) - k) / (k * (k - 1))
    p_bar = float(freq @ agreement / n_units)
    shares = (freq @ rows) / (n_units * k)
    p_e = float(shares @ shares)
    proportions = tuple(float(p) for p in shares)
    if np.count_nonzero(shares) == 1:
        reason = "every rating is the same label, so chance agreement is 1"
        return Fleiss(None, reason, n_units, k, p_bar, p_e, proportions)
    value = (p_bar - p_e) / (1.0 - p_e)
    return Fleiss(value, None, n_units, k, p_bar, p_e, proportions)


def fleiss_kappa(table: Sequence[Sequence[int]] | np.ndarray) -> Fleiss:
    """Fleiss' kappa of a units × categories table of rating counts, with P_i per unit."""
    rows = np.asarray(table, dtype=np.int64)
    if rows.ndim != 2:
        raise ValueError(f"a Fleiss table is units × categories, not {rows.shape}")
    result = fleiss_from_patterns(rows, np.ones(rows.shape[0], dtype=np.int64))
    if result.observed is None or result.raters is None:
        return result
    k = result.raters
    per_unit = ((rows * rows).sum(axis=1) - k) / (k * (k - 1))
    return replace(result, unit_agreement=tuple(float(p) for p in per_unit))
