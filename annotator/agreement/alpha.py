"""Krippendorff's alpha with missing data, from coincidences, with a unit bootstrap.

Terms follow Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": a unit
with m ≥ 2 values ("pairable") adds n_uc n_uk / (m − 1) to the coincidence o_ck of
every two of its values from different coders (n_uc (n_uc − 1) / (m − 1) on the
diagonal), so each pairable value counts once; units with fewer than two values add
nothing. With n_c = Σ_k o_ck and n = Σ_c n_c,

    D_o = Σ_ck o_ck δ_ck / n,   D_e = Σ_ck n_c n_k δ_ck / (n (n − 1)),   α = 1 − D_o / D_e.

Alpha is undefined (``value`` None, with a ``reason``) when no unit is pairable and when
D_e = 0, i.e. every pairable value is the same: chance would agree perfectly too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

NO_PAIRABLE = "no unit has values from two or more annotators, so nothing can be compared"
ONE_VALUE = "every pairable value is the same, so chance agreement is perfect and alpha is 0/0"
NO_SPREAD = "the distance puts no two pairable values apart, so alpha is 0/0"
ONE_VALUE_CI = "alpha is undefined"
# Bootstrap cost ~ resamples × (patterns × values + values²); above this it is skipped.
BOOTSTRAP_WORK_LIMIT = 50_000_000


def interpret_alpha(value: float | None) -> str | None:
    """Krippendorff's reading of an alpha (Content Analysis, 2004): reliable, tentative or not."""
    if value is None:
        return None
    if value >= 0.800:
        return "reliable (alpha >= 0.800)"
    if value >= 0.667:
        return "tentative conclusions only (0.667 <= alpha < 0.800)"
    return "unreliable (alpha < 0.667)"


@dataclass(frozen=True)
class Alpha:
    """An alpha and what it was computed from.

    ``value`` is None exactly when alpha is undefined, and then ``reason`` says why.
    ``observed``/``expected`` are D_o and D_e; ``n_units``/``n_values`` count the
    pairable units and values. ``ci95`` is the 2.5th and 97.5th percentile of alpha
    over bootstrap resamples of the pairable units (resamples whose alpha is undefined
    are left out; ``ci95_resamples`` says how many remain); when it is None,
    ``ci95_reason`` says why.
    """

    value: float | None
    reason: str | None = None
    n_units: int = 0
    n_values: int = 0
    observed: float | None = None
    expected: float | None = None
    ci95: tuple[float, float] | None = None
    ci95_reason: str | None = "not computed"
    ci95_resamples: int = 0

    @property
    def interpretation(self) -> str | None:
        """Krippendorff's reading of the value (see :func:`interpret_alpha`)."""
        return interpret_alpha(self.value)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: value, reason, interpretation, ci95, ci95_reason, counts, D_o, D_e."""
        return {
            "value": self.value,
            "reason": self.reason,
            "interpretation": self.interpretation,
            "ci95": list(self.ci95) if self.ci95 is not None else None,
            "ci95_reason": self.ci95_reason,
            "ci95_resamples": self.ci95_resamples,
            "n_units": self.n_units,
            "n_values": self.n_values,
            "observed_disagreement": self.observed,
            "expected_disagreement": self.expected,
        }


def alpha_from_sums(
    *,
    n_units: int,
    n_values: int,
    n_distinct: int,
    observed_sum: float,
    expected_sum: float,
    ci95_reason: str = "not computed",
) -> Alpha:
    """Alpha from Σ o_ck δ_ck and Σ n_c n_k δ_ck over the pairable values.

    ``n_distinct`` is how many different values occur among them; fewer than two makes
    alpha undefined whatever rounding left in ``expected_sum``.
    """
    if n_units == 0:
        return Alpha(None, NO_PAIRABLE, ci95_reason=ONE_VALUE_CI)
    if n_distinct < 2:
        return Alpha(None, ONE_VALUE, n_units, n_values, ci95_reason=ONE_VALUE_CI)
    if expected_sum <= 0:
        return Alpha(None, NO_SPREAD, n_units, n_values, ci95_reason=ONE_VALUE_CI)
    observed = observed_sum / n_values
    expected = expected_sum / (n_values * (n_values - 1))
    return Alpha(
        float(1.0 - observed / expected),
        None,
        n_units,
        n_values,
        float(observed),
        float(expected),
        ci95_reason=ci95_reason,
    )


def nominal_distance(n_values: int) -> np.ndarray:
    """The nominal metric: 0 on the diagonal, 1 elsewhere."""
    return 1.0 - np.eye(n_values)


def unit_patterns(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of a units × values count matrix, how many units share each, and
    which distinct row each unit has.

    Units with the same counts contribute identically to alpha (and to every other
    statistic here), so the rest works on these few patterns. Rows are coded as
    integers in base (max count + 1) when that fits in 62 bits.
    """
    counts = np.asarray(counts, dtype=np.int64)
    width = counts.shape[1]
    if counts.shape[0] == 0 or width == 0:
        freq = np.array([counts.shape[0]] if counts.shape[0] else [], dtype=np.int64)
        inverse = np.zeros(counts.shape[0], dtype=np.int64)
        return counts[:1], freq, inverse
    base = int(counts.max()) + 1
    if base**width >= 2**62:
        rows, inverse, freq = np.unique(counts, axis=0, return_inverse=True, return_counts=True)
        return rows, freq, inverse.reshape(-1)
    powers = base ** np.arange(width, dtype=np.int64)
    keys = counts @ powers
    if base**width <= 4 * keys.size + 1024:
        tally = np.bincount(keys)
        distinct = np.flatnonzero(tally)
        freq = tally[distinct]
        inverse = (np.cumsum(tally > 0) - 1)[keys]
    else:
        distinct, inverse, freq = np.unique(keys, return_inverse=True, return_counts=True)
    rows = (distinct[:, None] // powers[None, :]) % base
    return rows, freq, inverse.reshape(-1)


def compress_units(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a units × values count matrix and how many units share each."""
    rows, freq, _ = unit_patterns(counts)
    return rows, freq


def _pairable(rows: np.ndarray, freq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patterns with two or more values (as floats), their frequencies and value counts."""
    size = rows.sum(axis=1)
    keep = size >= 2
    return rows[keep].astype(np.float64), freq[keep].astype(np.float64), size[keep]


def coincidence_matrix(counts: np.ndarray, freq: np.ndarray | None = None) -> np.ndarray:
    """Krippendorff's coincidence matrix o_ck from units × values counts (rows × ``freq``)."""
    rows = np.asarray(counts, dtype=np.int64)
    if freq is None:
        freq = np.ones(rows.shape[0], dtype=np.int64)
    rows, weights, size = _pairable(rows, np.asarray(freq))
    weights = weights / (size - 1)
    return (rows * weights[:, None]).T @ rows - np.diag(weights @ rows)


def alpha_from_patterns(
    rows: np.ndarray,
    freq: np.ndarray,
    distance: np.ndarray | None = None,
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> Alpha:
    """Alpha from distinct unit patterns (value counts) and how many units have each.

    ``distance`` is the values × values matrix δ (nominal when None). With
    ``bootstrap`` > 0 the pairable units are resampled with replacement that many
    times: drawing how many copies of each pattern a resample holds from
    Multinomial(n_units, pattern frequencies / n_units) is the same thing, done
    without touching units one by one.
    """
    rows = np.asarray(rows, dtype=np.int64)
    delta = _delta(rows.shape[1], distance)
    rows, freq, size = _pairable(rows, np.asarray(freq))
    totals = freq @ rows
    result = alpha_from_sums(
        n_units=int(freq.sum()),
        n_values=int(round(float(totals.sum()))),
        n_distinct=int(np.count_nonzero(totals)),
        observed_sum=float(freq @ _unit_disagreement(rows, size, delta)),
        expected_sum=float(totals @ delta @ totals),
        ci95_reason="not requested (bootstrap = 0)",
    )
    if result.value is None or bootstrap <= 0:
        return result
    work = bootstrap * (rows.shape[0] * (rows.shape[1] + 8) + delta.size)
    if work > BOOTSTRAP_WORK_LIMIT:
        reason = f"skipped: {rows.shape[0]} distinct unit patterns are too many to resample"
        return _with_ci(result, None, reason, 0)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(result.n_units, freq / freq.sum(), size=bootstrap)
    alphas = resampled_alphas(rows, draws, delta)
    alphas = alphas[~np.isnan(alphas)]
    if alphas.size == 0:
        return _with_ci(result, None, "every resample has a single value", 0)
    low, high = np.percentile(alphas, [2.5, 97.5])
    return _with_ci(result, (float(low), float(high)), None, int(alphas.size))


def _delta(n_values: int, distance: np.ndarray | None) -> np.ndarray:
    return nominal_distance(n_values) if distance is None else np.asarray(distance, dtype=float)


def _unit_disagreement(rows: np.ndarray, size: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Σ_ck O_ck δ_ck of one unit of each pattern: (N δ N − Σ_c N_c δ_cc) / (m − 1)."""
    pairs = np.einsum("pi,ij,pj->p", rows, delta, rows) - rows @ np.diag(delta)
    return pairs / np.maximum(size - 1, 1)


def resampled_alphas(
    rows: np.ndarray, draws: np.ndarray, distance: np.ndarray | None = None
) -> np.ndarray:
    """Alpha of each resample that holds ``draws[b, p]`` copies of a unit with pattern p.

    Coincidences add up over units, so a resample's alpha follows from the pattern
    totals weighted by the draws. Used for the bootstrap; NaN marks a resample whose
    alpha is undefined (this array never reaches the JSON).
    """
    rows = np.asarray(rows, dtype=np.float64)
    delta = _delta(rows.shape[1], distance)
    rows = rows * (rows.sum(axis=1) >= 2)[:, None]  # unpairable units add nothing
    size = rows.sum(axis=1)
    weights = np.asarray(draws, dtype=np.float64)
    n_values = weights @ size
    observed = weights @ _unit_disagreement(rows, size, delta)
    totals = weights @ rows
    expected = np.einsum("bi,ij,bj->b", totals, delta, totals)
    alphas = np.full(weights.shape[0], np.nan)
    ok = expected > 0
    alphas[ok] = 1.0 - (n_values[ok] - 1.0) * observed[ok] / expected[ok]
    return alphas


def _with_ci(result: Alpha, ci95: tuple[float, float] | None, reason: str | None, n: int) -> Alpha:
    return replace(result, ci95=ci95, ci95_reason=reason, ci95_resamples=n)


def alpha_from_counts(
    counts: np.ndarray,
    distance: np.ndarray | None = None,
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> Alpha:
    """Alpha from a units × values count matrix (nominal unless ``distance`` is given)."""
    rows, freq = compress_units(np.asarray(counts, dtype=np.int64))
    return alpha_from_patterns(rows, freq, distance, bootstrap=bootstrap, seed=seed)


def reliability_counts(
    data: Sequence[Sequence[Hashable | None]],
) -> tuple[list[Hashable], np.ndarray]:
    """Coders × units reliability data (None or NaN = missing) → (values, units × values counts).

    Values are sorted when they can be, else kept in first-seen order.
    """
    seen = dict.fromkeys(v for row in data for v in row if not _missing(v))
    try:
        values: list[Hashable] = sorted(seen)  # type: ignore[type-var]
    except TypeError:
        values = list(seen)
    index = {v: i for i, v in enumerate(values)}
    n_units = max((len(row) for row in data), default=0)
    counts = np.zeros((n_units, len(values)), dtype=np.int64)
    for row in data:
        for unit, value in enumerate(row):
            if not _missing(value):
                counts[unit, index[value]] += 1
    return values, counts


def _missing(value: object) -> bool:
    # NaN, the krippendorff package's missing value, is the only value unequal to itself.
    return value is None or value != value


def krippendorff_alpha(
    data: Sequence[Sequence[Hashable | None]],
    metric: Callable[[Any, Any], float] | None = None,
    *,
    bootstrap: int = 0,
    seed: int = 0,
) -> Alpha:
    """Alpha of coders × units reliability data (None or NaN = missing), nominal by default.

    ``metric(a, b)`` gives any other distance between two values (e.g. ``masi_distance``
    on frozensets); it is called for every two of the distinct values.
    """
    values, counts = reliability_counts(data)
    distance = None
    if metric is not None:
        distance = np.array([[metric(a, b) for b in values] for a in values], dtype=float)
        distance = distance.reshape(len(values), len(values))
    return alpha_from_counts(counts, distance, bootstrap=bootstrap, seed=seed)
