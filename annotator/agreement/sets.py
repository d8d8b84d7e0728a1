"""MASI distance between sets of sources (Passonneau 2006), for one pair and for many.

MASI = 1 − J × M, where J is the Jaccard index |A ∩ B| / |A ∪ B| and M the
monotonicity weight: 1 when the sets are identical, 2/3 when one is a subset of the
other, 1/3 when they overlap but neither contains the other, 0 when they are disjoint.
Passonneau defines the weights as thirds; NLTK used the rounded 0.67 and 0.33 until
3.10 (nltk issue #3361). Two empty sets (both annotators heard the outlet's own voice)
are identical: distance 0; an empty set against a non-empty one is distance 1.

For many sets (:class:`MasiTable`) nothing is computed per pair of sets: a popular name
(a news agency in thousands of sets) makes millions of such pairs. MASI depends only
on |A|, |B| and |A ∩ B|, so the distance of a pair of ratings comes from comparing
their few names, and the chance term Σ n_c n_k δ(c, k) from sums over the subsets of
each set's names (see :meth:`MasiTable.expected_sum`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet
from itertools import combinations
from math import comb

import numpy as np

SUBSET_WEIGHT = 2 / 3
OVERLAP_WEIGHT = 1 / 3
# Sets up to this size take the fast path: each set lists its 2^size subsets once and
# each pair of ratings makes width² name comparisons (width: the largest size). A
# larger set sends the whole table to the exact pair table (g² work for a name held
# by g sets), which has no size limit but blows up on popular names.
_FAST_MAX_SIZE = 8
# Above this many distinct sets the pair table is looked up by search instead of a matrix.
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
    """J × M for pairs of sets with ``shared`` names in common (1 for two empty sets).

    The same operations in the same order on every path, so that all paths give the
    very same floats for the same pair.
    """
    union = size_a + size_b - shared
    weight = np.where(
        shared == union,
        1.0,
        np.where(shared == np.minimum(size_a, size_b), SUBSET_WEIGHT, OVERLAP_WEIGHT),
    )
    # J of two empty sets is taken as 1 (they are identical); dividing would warn.
    jaccard = np.divide(shared, union, out=np.ones(union.shape), where=union > 0)
    return jaccard * weight


class MasiTable:
    """MASI distances between every two of a list of distinct sets, and chance sums.

    Sets are kept as rows of name codes (sorted, padded with -1). While no set has
    more than ``_FAST_MAX_SIZE`` names that is all a lookup needs; larger sets fall
    back to a :class:`PairTable` of every two sets sharing a name (``pairs``).
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
        self.width = int(self.sizes.max(initial=0))
        self.pairs: PairTable | None = None
        if self.width > _FAST_MAX_SIZE:
            self.pairs = PairTable(self.n_sets, self.sizes, owners, names)
            return
        # Row-major by set, names ascending within a set: equal subsets of two sets
        # then read the same left to right, which the subset ids below rely on.
        order = np.lexsort((names, owners))
        starts = np.cumsum(self.sizes) - self.sizes
        column = np.arange(names.size) - starts[owners]
        members = np.full((self.n_sets, self.width), -1, dtype=np.int64)
        members[owners, column] = names[order]
        # Per j: which set holds each j-subset, and the (subset, holder size) cell it adds to.
        cells = self.width + 1
        self._levels = [
            (holders, ids * cells + self.sizes[holders], n_ids * cells)
            for holders, ids, n_ids in _subset_levels(members, self.sizes, len(name_index))
        ]
        self._inversion, self._grid = _exact_overlap_weights(self.width)
        # Lookups gather a million pairs at a time: narrow types and one contiguous
        # array per column halve the memory traffic, which is most of the cost.
        small = np.int32 if len(name_index) < 2**31 else np.int64
        self._columns = [members[:, i].astype(small) for i in range(self.width)]
        # A pair's distance is looked up by (|A|, |B|, number of equal column pairs).
        self._stride = self.width * self.width + 1
        self._offset_a = self.sizes * ((self.width + 1) * self._stride)
        self._offset_b = self.sizes * self._stride
        self._lookup = _distance_lookup(self.width)

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """MASI distance between sets ``a[i]`` and ``b[i]`` (codes into the list given)."""
        if self.pairs is not None:
            return self.pairs.distance(a, b)
        # Count equal names over every column of A against every column of B: the
        # sets are tiny, so width² vectorised comparisons beat any search.
        equal = np.zeros(a.size, dtype=np.int8 if self._stride <= 127 else np.int16)
        right = [column[b] for column in self._columns]
        for column in self._columns:
            left = column[a]
            for other in right:
                equal += left == other
        code = self._offset_a[a] + self._offset_b[b]
        code += equal
        return self._lookup[code]

    def expected_sum(self, counts: np.ndarray) -> float:
        """Σ_c Σ_k n_c n_k δ(c, k) for value counts ``counts`` (one per set).

        With n = Σ n_c, δ = 1 − J × M and J × M = 0 unless c and k share a name or are
        both empty: Σ = n² − n_∅² − Σ_{c, k sharing} n_c n_k sim(|c|, |k|, |c ∩ k|).
        Let E[t, s, r] = Σ n_c n_k over |c| = s, |k| = r, |c ∩ k| = t. A j-subset X
        of names lies in both c and k for C(|c ∩ k|, j) choices of X, so

            F[j, s, r] = Σ_X g_s(X) g_r(X) = Σ_t C(t, j) E[t, s, r],

        g_s(X) being Σ n_c over the sets of size s that contain X; binomial inversion
        gives E[t] = Σ_j (−1)^(j−t) C(j, t) F[j]. The work is one bincount over the
        subsets of each set and a (width+1)² matrix per j. With whole counts F and E
        are integers, exact in float64 while n² C(width, width / 2) < 2^53 (n up to
        10^7 and more); beyond that only float64 rounding (~1e-16 relative) comes in.
        """
        if self.pairs is not None:
            return self.pairs.expected_sum(counts)
        weights = np.asarray(counts, dtype=np.float64)
        total = float(weights.sum())
        empty = float(weights[self.sizes == 0].sum())
        cells = self.width + 1
        joint = np.zeros((cells, cells, cells))
        for j, (holders, slots, n_slots) in enumerate(self._levels, start=1):
            # by_size[X, s] = g_s(X): the counts of the sets of size s holding subset X.
            by_size = np.bincount(slots, weights=weights[holders], minlength=n_slots)
            by_size = by_size.reshape(-1, cells)
            joint[j] = by_size.T @ by_size
        exact = (self._inversion @ joint.reshape(cells, -1)).reshape(joint.shape)
        similar = float(np.sum(exact * self._grid))
        return total * total - similar - empty * empty


def _subset_levels(
    members: np.ndarray, sizes: np.ndarray, n_names: int
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """For j = 1 … width: each j-subset of each set's names, as (holder set, subset id).

    Returns one (holders, ids, number of ids) per j. A j-subset is a choice of j
    columns of a set's row; its id is built from the id of its first j − 1 names and
    its last name, and renumbered densely, so keys stay small whatever the width.
    """
    width = members.shape[1]
    # Sets that have a name in column i (columns fill from the left), ascending.
    having = [np.flatnonzero(sizes > i) for i in range(width)]
    # Subset ids of the previous level by choice of columns, in the order of ``having``.
    previous: dict[tuple[int, ...], np.ndarray] = {}
    levels = []
    for j in range(1, width + 1):
        chosen = list(combinations(range(width), j))
        holders = [having[columns[-1]] for columns in chosen]
        keys = []
        for columns, rows in zip(chosen, holders, strict=True):
            key = members[rows, columns[-1]]
            if j > 1:
                # A set with a name in the last column has one in every earlier column,
                # so its prefix is found among the holders of the prefix.
                at = np.searchsorted(having[columns[-2]], rows)
                key = previous[columns[:-1]][at] * n_names + key
            keys.append(key)
        unique, ids = np.unique(np.concatenate(keys), return_inverse=True)
        ids = ids.reshape(-1)
        levels.append((np.concatenate(holders), ids, int(unique.size)))
        bounds = np.cumsum([0] + [rows.size for rows in holders]).tolist()
        previous = {columns: ids[bounds[n] : bounds[n + 1]] for n, columns in enumerate(chosen)}
    return levels


def _exact_overlap_weights(width: int) -> tuple[np.ndarray, np.ndarray]:
    """The binomial inversion F → E and J × M on every (|c ∩ k|, |c|, |k|) that can occur.

    ``inversion[t, j]`` = (−1)^(j−t) C(j, t) for 1 ≤ t ≤ j (row 0, the disjoint pairs,
    stays zero: they add no similarity). ``grid[t, s, r]`` is J × M for sets of sizes
    s and r sharing t ≥ 1 names, zero where t > min(s, r).
    """
    cells = width + 1
    inversion = np.zeros((cells, cells))
    for t in range(1, cells):
        for j in range(t, cells):
            inversion[t, j] = (-1) ** (j - t) * comb(j, t)
    shared, size_a, size_b = np.indices((cells, cells, cells))
    possible = (shared >= 1) & (shared <= np.minimum(size_a, size_b))
    grid = np.where(possible, _masi_similarity(shared, size_a, size_b), 0.0)
    return inversion, grid


def _distance_lookup(width: int) -> np.ndarray:
    """MASI distance by (|A|, |B|, equal column pairs), flattened, for sets padded to ``width``.

    The -1 padding matches itself: (width − |A|) × (width − |B|) of the equal column
    pairs are padding, the rest are the shared names. Entries no pair can reach are NaN.
    """
    cells = width + 1
    size_a, size_b, equal = np.indices((cells, cells, width * width + 1))
    shared = equal - (width - size_a) * (width - size_b)
    possible = (shared >= 0) & (shared <= np.minimum(size_a, size_b))
    shared = np.where(possible, shared, 0)
    return np.where(possible, 1.0 - _masi_similarity(shared, size_a, size_b), np.nan).ravel()


class PairTable:
    """MASI similarities of every ordered pair of sets that share a name.

    The exact method for any set size: pairs are found through the sets holding each
    name (g² work for a name in g sets), every other pair is distance 1, or 0 for a
    set with itself. Up to a couple of thousand sets it is also spread into a dense
    matrix for fast lookups.
    """

    def __init__(
        self, n_sets: int, sizes: np.ndarray, owners: np.ndarray, names: np.ndarray
    ) -> None:
        self.n_sets = n_sets
        self.sizes = sizes
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
        """MASI distance between sets ``a[i]`` and ``b[i]``."""
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
