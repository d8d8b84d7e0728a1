"""MASI distance between sets of sources (Passonneau 2006), for one pair and for many.

MASI = 1 − J × M, where J is the Jaccard index |A ∩ B| / |A ∪ B| and M the
monotonicity weight: 1 when the sets are identical, 2/3 when one is a subset of the
other, 1/3 when they overlap but neither contains the other, 0 when they are disjoint.
Passonneau defines the weights as thirds; NLTK used the rounded 0.67 and 0.33 until
3.10 (nltk issue #3361). Two empty sets (both annotators heard the outlet's own voice)
are identical: distance 0; an empty set against a non-empty one is distance 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet

import numpy as np

SUBSET_WEIGHT = 2 / 3
OVERLAP_WEIGHT = 1 / 3
# Above this many distinct sets the table is looked up by search instead of a matrix.
_DENSE_LIMIT = 2048


def masi_distance(a: AbstractSet[Hashable], b: AbstractSet[Hashable]) -> float:
    """MASI distance between two sets (0 identical … 1 disjoint)."""
    if a == b:
        return 0.0
    shared = len(a & b)
    if shared == 0:
        return 1.0
    weight = SUBSET_WEIGHT if shared == min(len(a), len(b)) else OVERLAP_WEIGHT
    return 1.0 - shared / len(a | b) * weight


def _masi_similarity(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """J × M for pairs of non-empty sets with ``shared`` > 0 names in common."""
    union = size_a + size_b - shared
    weight = np.where(
        shared == union,
        1.0,
        np.where(shared == np.minimum(size_a, size_b), SUBSET_WEIGHT, OVERLAP_WEIGHT),
    )
    return shared / union * weight


class MasiTable:
    """MASI distances between every two of a list of distinct sets.

    Only pairs of sets that share a name have a similarity above zero, so the table
    lists those pairs (found through the sets holding each name) and treats every other
    pair as distance 1, or 0 for a set with itself. Up to a couple of thousand sets it
    is also spread into a dense matrix for fast lookups.
    """

    def __init__(self, sets: Sequence[AbstractSet[Hashable]]) -> None:
        self.n_sets = len(sets)
        self.sizes = np.fromiter(map(len, sets), dtype=np.int64, count=self.n_sets)
        name_index: dict[Hashable, int] = {}
        owners = np.repeat(np.arange(self.n_sets), self.sizes)
        names = np.fromiter(
            (name_index.setdefault(name, len(name_index)) for s in sets for name in s),
            dtype=np.int64,
            count=int(self.sizes.sum()),
        )
        self.codes, self.similarity = self._shared_pairs(owners, names)
        self.dense: np.ndarray | None = None
        if self.n_sets <= _DENSE_LIMIT:
            # Small enough for a full (flattened) matrix: one gather per lookup.
            dense = np.ones(self.n_sets * self.n_sets)
            dense[self.codes] = 1.0 - self.similarity
            dense[:: self.n_sets + 1] = 0.0  # every set, the empty one too, vs itself
            self.dense = dense

    def _shared_pairs(self, owners: np.ndarray, names: np.ndarray) -> tuple[np.ndarray, ...]:
        """Ordered pairs of sets sharing names (as a * n_sets + b, ascending), J × M each."""
        if names.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        order = np.argsort(names, kind="stable")
        owners, names = owners[order], names[order]
        group = np.bincount(names)
        starts = np.cumsum(group) - group
        # Each membership pairs with every membership of the same name: g² per name.
        repeats = group[names]
        left = np.repeat(np.arange(names.size), repeats)
        offset = np.arange(left.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        right = starts[names[left]] + offset
        # A pair appears once per shared name, so its multiplicity is |A ∩ B|.
        codes, shared = np.unique(owners[left] * self.n_sets + owners[right], return_counts=True)
        size_a = self.sizes[codes // self.n_sets]
        size_b = self.sizes[codes % self.n_sets]
        return codes, _masi_similarity(shared, size_a, size_b)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """MASI distance between sets ``a[i]`` and ``b[i]`` (codes into the list given)."""
        wanted = a * self.n_sets + b
        if self.dense is not None:
            return self.dense[wanted]
        result = np.ones(wanted.size)
        if self.codes.size:
            pos = np.minimum(np.searchsorted(self.codes, wanted), self.codes.size - 1)
            found = self.codes[pos] == wanted
            result[found] = 1.0 - self.similarity[pos[found]]
        result[a == b] = 0.0
        return result

    def expected_sum(self, counts: np.ndarray) -> float:
        """Σ_c Σ_k n_c n_k δ(c, k) for value counts ``counts`` (one per set)."""
        weights = counts.astype(np.float64)
        if self.dense is not None:
            square = self.dense.reshape(self.n_sets, self.n_sets)
            return float(weights @ square @ weights)
        # Every pair is at distance 1 except the similar ones and each set with itself.
        total = weights.sum()
        a, b = np.divmod(self.codes, self.n_sets)
        similar = float(np.sum(weights[a] * weights[b] * self.similarity))
        empty = float(np.sum(weights[self.sizes == 0] ** 2))
        return float(total * total) - similar - empty
