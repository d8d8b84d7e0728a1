"""Inter-annotator agreement from in-memory ratings: pure statistics, no Flask, no database.

The caller loads annotations as :class:`Rating` objects (filtering them first for a
breakdown by article, annotator or label) and calls :func:`summarise` for one
JSON-ready dict, or :func:`unit_agreement` for a review queue. The individual
statistics are public too and take the textbook inputs (reliability matrices,
confusion matrices, count tables), so they can be checked on published examples.
Every statistic that can be undefined comes back as None with a human-readable
reason, never NaN.
"""

from annotator.agreement.alpha import (
    Alpha,
    alpha_from_counts,
    coincidence_matrix,
    interpret_alpha,
    krippendorff_alpha,
    reliability_counts,
)
from annotator.agreement.encode import (
    Coded,
    Rating,
    Reference,
    encode,
    encode_codes,
    encode_columns,
)
from annotator.agreement.kappa import (
    Fleiss,
    Kappa,
    cohen_kappa,
    cohen_kappa_from_labels,
    fleiss_kappa,
)
from annotator.agreement.raw import Share, pair_counts, percent_agreement, specific_agreement
from annotator.agreement.sets import MasiTable, masi_distance
from annotator.agreement.summary import pairwise_cohen, summarise, summarise_coded
from annotator.agreement.units import one_unit_agreement, unit_agreement, unit_agreement_coded

__all__ = [
    "Alpha",
    "Coded",
    "Fleiss",
    "Kappa",
    "MasiTable",
    "Rating",
    "Reference",
    "Share",
    "alpha_from_counts",
    "cohen_kappa",
    "cohen_kappa_from_labels",
    "coincidence_matrix",
    "encode",
    "encode_codes",
    "encode_columns",
    "fleiss_kappa",
    "interpret_alpha",
    "krippendorff_alpha",
    "masi_distance",
    "one_unit_agreement",
    "pair_counts",
    "pairwise_cohen",
    "percent_agreement",
    "reliability_counts",
    "specific_agreement",
    "summarise",
    "summarise_coded",
    "unit_agreement",
    "unit_agreement_coded",
]
