"""Agreement on the sources linked to units: MASI alpha on sets, nominal alpha on the speaker.

Values here are varied (every distinct set of sources is a value), so alpha is
computed from the pairs of ratings that share a unit rather than from a units × values
matrix: a pair (a, b) on a unit with m ratings adds δ(a, b) / (m − 1) to the
coincidences twice, once in each order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from annotator.agreement.alpha import Alpha, alpha_from_sums
from annotator.agreement.encode import Coded
from annotator.agreement.raw import Share
from annotator.agreement.sets import MasiTable

NO_SPEAKER = "(none)"
SOURCES_CI = "the bootstrap covers the label statistics only"


def pair_weights(coded: Coded) -> np.ndarray:
    """1 / (m − 1) for each pair of ratings, m being its unit's number of ratings."""
    return 1.0 / (coded.size[coded.pair_unit] - 1)


def pairwise_alpha(
    coded: Coded,
    values: np.ndarray,
    n_kinds: int,
    table: MasiTable | None,
    weights: np.ndarray | None = None,
) -> Alpha:
    """Alpha of per-rating value codes below ``n_kinds``: MASI via ``table``, else nominal.

    ``weights`` are :func:`pair_weights`, passed in when already computed.
    """
    weights = pair_weights(coded) if weights is None else weights
    totals = np.bincount(values, minlength=n_kinds)
    alone = coded.start[coded.size == 1]  # positions of units with a single rating
    if alone.size:
        totals -= np.bincount(values[alone], minlength=n_kinds)
    a, b = values[coded.first], values[coded.second]
    if table is None:
        # As floats: numpy's dot of float64 with bool takes a slow generic loop.
        observed_sum = float(weights @ (a != b).astype(np.float64))
        n = float(totals.sum())
        expected_sum = n * n - float(totals @ totals)
    else:
        observed_sum = float(weights @ table.distance(a, b))
        expected_sum = table.expected_sum(totals)
    return alpha_from_sums(
        n_units=int(np.count_nonzero(coded.size >= 2)),
        n_values=int(totals.sum()),
        n_distinct=int(np.count_nonzero(totals)),
        # Each pair stands for two coincidences, (a, b) and (b, a).
        observed_sum=2.0 * observed_sum,
        expected_sum=expected_sum,
        ci95_reason=SOURCES_CI,
    )


def exact_agreement(coded: Coded) -> Share:
    """Mean over units with ≥ 2 ratings of the share of pairs with identical ordered lists."""
    pairable = coded.size >= 2
    n_units = int(np.count_nonzero(pairable))
    if n_units == 0:
        return Share(None, "no unit has two or more ratings", 0)
    same = coded.source_list[coded.first] == coded.source_list[coded.second]
    agreeing = np.bincount(coded.pair_unit, weights=same, minlength=coded.n_units)
    size = coded.size[pairable]
    per_unit = agreeing[pairable] * 2.0 / (size * (size - 1))
    return Share(float(per_unit.mean()), None, n_units)


def source_codes(coded: Coded) -> tuple[np.ndarray, list[frozenset[str]], np.ndarray, list[str]]:
    """Per rating: the code of its set of sources and of its first source ("speaker").

    Returns (set code per rating, the distinct sets, speaker code per rating, speakers).
    An empty list is the empty set and the speaker ``"(none)"``, a value of its own.
    """
    lists = coded.source_lists
    set_index: dict[frozenset[str], int] = {}
    speaker_index: dict[str | None, int] = {}
    # One pass per column over the distinct lists (tens of thousands), not the ratings;
    # comprehensions, because assigning numpy elements one by one costs ~1 µs each.
    set_of_list = np.array(
        [set_index.setdefault(frozenset(names), len(set_index)) for names in lists],
        dtype=np.int64,
    )
    # None stands for "no source" so that a source really named "(none)" stays apart.
    speaker_of_list = np.array(
        [
            speaker_index.setdefault(names[0] if names else None, len(speaker_index))
            for names in lists
        ],
        dtype=np.int64,
    )
    speakers = [NO_SPEAKER if s is None else s for s in speaker_index]
    return (
        set_of_list[coded.source_list],
        list(set_index),
        speaker_of_list[coded.source_list],
        speakers,
    )


def source_summary(coded: Coded) -> dict[str, Any]:
    """The ``sources`` part of the summary (see :func:`annotator.agreement.summarise`)."""
    sets, distinct_sets, speakers, distinct_speakers = source_codes(coded)
    weights = pair_weights(coded)
    table = MasiTable(distinct_sets)
    masi = pairwise_alpha(coded, sets, len(distinct_sets), table, weights)
    speaker = pairwise_alpha(coded, speakers, len(distinct_speakers), None, weights)
    return {
        "krippendorff_alpha_masi": masi.as_dict(),
        "krippendorff_alpha_speaker": speaker.as_dict(),
        "percent_agreement_exact": exact_agreement(coded).as_dict(),
        "n_distinct_lists": len(coded.source_lists),
        "n_distinct_sets": len(distinct_sets),
        "n_without_sources": int(np.count_nonzero(sets == _empty_code(distinct_sets))),
    }


def _empty_code(sets: list[frozenset[str]]) -> int:
    """Code of the empty set, or -1 when no rating has it."""
    for code, value in enumerate(sets):
        if not value:
            return code
    return -1
