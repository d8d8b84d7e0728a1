"""Ratings → integer-coded columns, the only step that touches one Python object per rating.

Every statistic in this package works on the arrays built here: units, annotators,
labels and ordered source lists are mapped to small integer codes once, the ratings
are put in unit order, and the pairs of ratings that share a unit are listed, so the
rest is numpy over whole columns.

Coding is bound by memory latency: each pass reads one attribute of every rating.
A loader that maps annotator, label and source ids to names through dicts (so equal
names are one shared string object) codes a million ratings about twice as fast as
one that keeps a fresh string per database row (see bench/agreement_stats.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, itemgetter

import numpy as np

# A dense unit-code table is faster than sorting when ids are not too sparse.
_DENSE_SPAN_FACTOR = 4


@dataclass(frozen=True, slots=True)
class Rating:
    """One annotator's answer on one unit.

    ``sources`` is the ordered list of source names (who made the claim first, then
    through whom it reached the article); ``()`` is the outlet's own voice.
    """

    unit: int
    annotator: str
    label: str
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Tuples hash and compare by value; a list given by mistake would not.
        if type(self.sources) is not tuple:
            object.__setattr__(self, "sources", tuple(self.sources))


Reference = tuple[str, Sequence[str]]
"""A gold answer or a suggestion for one unit: ``(label, sources)``."""


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class Coded:
    """Ratings as integer columns in unit order (see :func:`encode`).

    ``unit``/``annotator``/``label``/``source_list`` hold one code per rating; unit
    codes index ``unit_ids`` (ascending), annotator codes ``annotators`` (sorted),
    label codes ``labels``, source-list codes ``source_lists``. The ratings of unit
    ``u`` are the positions ``start[u] : start[u] + size[u]``. ``first``/``second``
    list every pair of positions that share a unit (``first < second``), ``pair_unit``
    its unit code.
    """

    labels: tuple[str, ...]
    annotators: tuple[str, ...]
    unit_ids: np.ndarray
    source_lists: tuple[tuple[str, ...], ...]
    unit: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    source_list: np.ndarray
    size: np.ndarray
    start: np.ndarray
    first: np.ndarray
    second: np.ndarray
    pair_unit: np.ndarray

    @property
    def n_ratings(self) -> int:
        """Number of ratings."""
        return int(self.unit.size)

    @property
    def n_units(self) -> int:
        """Number of distinct units rated."""
        return int(self.unit_ids.size)

    def label_counts(self) -> np.ndarray:
        """Units × labels matrix of rating counts."""
        width = len(self.labels)
        flat = np.bincount(self.unit * width + self.label, minlength=self.n_units * width)
        return flat.reshape(self.n_units, width)

    def unit_codes(self, ids: Iterable[int]) -> np.ndarray:
        """Unit code of each id, or -1 for units nobody rated."""
        wanted = np.fromiter(ids, dtype=np.int64)
        if self.unit_ids.size == 0 or wanted.size == 0:
            return np.full(wanted.size, -1, dtype=np.int64)
        pos = np.searchsorted(self.unit_ids, wanted)
        pos = np.minimum(pos, self.unit_ids.size - 1)
        return np.where(self.unit_ids[pos] == wanted, pos, -1)

    def reference_columns(
        self, references: Mapping[int, Reference]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per unit code: the reference label code and source-list code (-1: none given).

        A reference source list no annotator used gets code -2, which matches no rating.
        """
        label_ref = np.full(self.n_units, -1, dtype=np.int64)
        list_ref = np.full(self.n_units, -1, dtype=np.int64)
        if not references:
            return label_ref, list_ref
        codes = self.unit_codes(references.keys())
        label_index = {name: i for i, name in enumerate(self.labels)}
        list_index = {value: i for i, value in enumerate(self.source_lists)}
        answers = list(references.values())
        ref_labels = _codes(
            map(itemgetter(0), answers), label_index, "reference label", len(answers)
        )
        lists = map(tuple, map(itemgetter(1), answers))
        ref_lists = np.fromiter(
            map(list_index.get, lists, repeat(-2)), dtype=np.int64, count=len(answers)
        )
        known = codes >= 0
        label_ref[codes[known]] = ref_labels[known]
        list_ref[codes[known]] = ref_lists[known]
        return label_ref, list_ref


def _codes(
    values: Iterable[str], index: Mapping[str, int], what: str, count: int = -1
) -> np.ndarray:
    """Codes of ``values`` in ``index``; an unknown value is a ValueError naming it."""
    try:
        return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=count)
    except KeyError as missing:
        known = ", ".join(repr(name) for name in index)
        raise ValueError(f"unknown {what} {missing.args[0]!r}; expected one of {known}") from None


def _unit_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes for unit ids (in ascending id order) and the id of each code."""
    if ids.size == 0:
        return ids.astype(np.int64), ids.astype(np.int64)
    low, high = int(ids.min()), int(ids.max())
    span = high - low + 1
    if span <= _DENSE_SPAN_FACTOR * ids.size + 1024:
        offsets = ids - low
        seen = np.zeros(span, dtype=bool)
        seen[offsets] = True
        code_of = np.cumsum(seen) - 1
        return code_of[offsets], np.flatnonzero(seen) + low
    unique, inverse = np.unique(ids, return_inverse=True)
    return inverse.reshape(-1), unique


def _pairs(unit: np.ndarray, size: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every pair of positions in the same unit, from unit-sorted ratings.

    Pairs at distance d are found among the positions that still have d ratings after
    them, a set that shrinks with d; the work is proportional to the number of pairs.
    """
    after = start[unit] + size[unit] - 1 - np.arange(unit.size)
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    candidates = np.flatnonzero(after > 0)
    distance = 1
    while candidates.size:
        firsts.append(candidates)
        seconds.append(candidates + distance)
        distance += 1
        candidates = candidates[after[candidates] >= distance]
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(firsts), np.concatenate(seconds)


class _FirstSeen(dict):
    """Codes values in first-seen order: looking up a new value gives it the next code."""

    def __missing__(self, key: Hashable) -> int:
        code = self[key] = len(self)
        return code


def _first_seen_codes(values: Iterable[Hashable], count: int) -> tuple[np.ndarray, list]:
    """Dense codes of ``values`` in first-seen order, and the distinct values in that order.

    One dict lookup per value, on dict's C path for every value already seen. Touching
    each Python object only once matters: at a million ratings a pass over objects
    scattered in memory costs 0.1–0.3 s, nearly all of it waiting for memory.
    """
    index = _FirstSeen()
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=count)
    return codes, list(index)


def encode(ratings: Iterable[Rating], labels: Sequence[str]) -> Coded:
    """Code ``ratings`` as integer columns; ValueError on an unknown label or a repeated rating."""
    rows = ratings if isinstance(ratings, list | tuple) else list(ratings)
    return encode_columns(
        map(attrgetter("unit"), rows),
        map(attrgetter("annotator"), rows),
        map(attrgetter("label"), rows),
        map(attrgetter("sources"), rows),
        labels,
        count=len(rows),
    )


def encode_columns(
    units: Iterable[int],
    annotators_: Iterable[str],
    labels_: Iterable[str],
    sources: Iterable[tuple[str, ...]],
    labels: Sequence[str],
    *,
    count: int,
) -> Coded:
    """Like :func:`encode`, from parallel columns of ``count`` ratings (a database loader
    builds no ``Rating`` object per row); ``sources`` holds tuples of names."""
    labels = tuple(labels)
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct: {labels!r}")
    ids = np.fromiter(units, dtype=np.int64, count=count)
    label_index = {name: i for i, name in enumerate(labels)}
    label = _codes(labels_, label_index, "label", count)
    seen_order, names = _first_seen_codes(annotators_, count)
    annotators = tuple(sorted(names))
    rank = {name: i for i, name in enumerate(annotators)}
    annotator = np.array([rank[name] for name in names], dtype=np.int64)[seen_order]
    source_list, lists = _first_seen_codes(sources, count)
    return encode_codes(ids, annotator, annotators, label, labels, source_list, tuple(lists))


def encode_codes(
    ids: np.ndarray,
    annotator: np.ndarray,
    annotators: tuple[str, ...],
    label: np.ndarray,
    labels: tuple[str, ...],
    source_list: np.ndarray,
    source_lists: tuple[tuple[str, ...], ...],
) -> Coded:
    """:class:`Coded` from integer columns a loader already built (unit ids, and codes
    into ``annotators`` (sorted), ``labels`` and ``source_lists``), in any order."""
    unit, unit_ids = _unit_codes(ids)
    # Canonical order and codes, so the same ratings in any input order give the same
    # floating-point sums bit for bit: ratings by (unit, annotator), source lists sorted.
    if len(source_lists) > 1:
        ranking = sorted(range(len(source_lists)), key=source_lists.__getitem__)
        rank = np.empty(len(source_lists), dtype=np.int64)
        rank[ranking] = np.arange(len(source_lists))
        source_list = rank[source_list]
        source_lists = tuple(source_lists[i] for i in ranking)
    key = unit * max(len(annotators), 1) + annotator
    if key.size > 1 and not bool(np.all(key[1:] > key[:-1])):
        # Ratings usually arrive in this order (a database ORDER BY); sort only if not.
        order = np.argsort(key, kind="stable")
        unit, annotator, label, source_list = (
            unit[order],
            annotator[order],
            label[order],
            source_list[order],
        )
    size = np.bincount(unit, minlength=unit_ids.size)
    start = np.cumsum(size) - size
    first, second = _pairs(unit, size, start)
    repeated = np.flatnonzero(annotator[first] == annotator[second])
    if repeated.size:
        where = first[repeated[0]]
        raise ValueError(
            f"annotator {annotators[annotator[where]]!r} rated unit "
            f"{int(unit_ids[unit[where]])} more than once"
        )
    return Coded(
        labels=labels,
        annotators=annotators,
        unit_ids=unit_ids,
        source_lists=source_lists,
        unit=unit,
        annotator=annotator,
        label=label,
        source_list=source_list,
        size=size,
        start=start,
        first=first,
        second=second,
        pair_unit=unit[first],
    )
