"""Each annotator against the majority of the others, against gold, against suggestions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from annotator.agreement.encode import Coded, Reference
from annotator.agreement.kappa import cohen_kappa_many


def _per_annotator(
    coded: Coded,
    compared: np.ndarray,
    reference: np.ndarray,
    sources_same: np.ndarray | None,
    nothing: str,
) -> list[dict[str, Any]]:
    """Accuracy and Cohen's kappa of each annotator's label against ``reference``.

    ``compared`` selects the ratings that have a reference; ``reference`` holds its
    label code per rating; ``sources_same`` (optional) whether the ordered sources
    match; ``nothing`` is the reason given when an annotator has nothing to compare.
    """
    n_annotators, n_labels = len(coded.annotators), len(coded.labels)
    who = coded.annotator[compared]
    cells = (who * n_labels + coded.label[compared]) * n_labels + reference[compared]
    tables = np.bincount(cells, minlength=n_annotators * n_labels * n_labels)
    kappas = cohen_kappa_many(tables.reshape(n_annotators, n_labels, n_labels))
    matching = None
    if sources_same is not None:
        matching = np.bincount(who, weights=sources_same[compared], minlength=n_annotators)
    results = []
    for code, kappa in enumerate(kappas):
        entry: dict[str, Any] = {
            "n": kappa.n,
            "accuracy": kappa.observed,
            "kappa": kappa.value,
            "reason": kappa.reason if kappa.n else nothing,
        }
        if matching is not None:
            entry["sources_exact"] = float(matching[code] / kappa.n) if kappa.n else None
        results.append(entry)
    return results


def others_majority(rows: np.ndarray) -> np.ndarray:
    """For each unit pattern and label: the others' strict majority label, or -1.

    ``rows`` are distinct units × labels count rows; entry [p, l] is for a rating with
    label l on a unit of pattern p, whose other ratings are rows[p] minus that one.
    """
    n_labels = rows.shape[1]
    others = rows[:, None, :] - np.eye(n_labels, dtype=np.int64)[None, :, :]
    if others.size == 0:
        return np.full(rows.shape[:1] + (n_labels,), -1, dtype=np.int64)
    top = others.argmax(axis=2)
    top_count = np.take_along_axis(others, top[:, :, None], axis=2)[:, :, 0]
    n_others = rows.sum(axis=1, keepdims=True) - 1
    return np.where(2 * top_count > n_others, top, -1)


def majority_agreement(coded: Coded, rows: np.ndarray, pattern: np.ndarray) -> list[dict[str, Any]]:
    """Per annotator: agreement with the strict majority label of the other annotators.

    For each rating, the others are the other annotators of the same unit; their
    majority is a label that more than half of them gave. Units where nobody else
    rated (``alone``) or the others had no such label (``no_majority``) are skipped.
    ``rows``/``pattern`` are the units' label-count patterns and each unit's pattern
    (see :func:`annotator.agreement.alpha.unit_patterns`).
    """
    n_annotators = len(coded.annotators)
    table = others_majority(rows).reshape(-1)
    top = table[pattern[coded.unit] * len(coded.labels) + coded.label]
    strict = top >= 0
    results = _per_annotator(
        coded, strict, top, None, "no unit where the other annotators have a majority"
    )
    alone = np.bincount(coded.annotator[coded.size[coded.unit] == 1], minlength=n_annotators)
    undecided = np.bincount(coded.annotator[~strict], minlength=n_annotators) - alone
    for code, entry in enumerate(results):
        entry["no_majority"] = int(undecided[code])
        entry["alone"] = int(alone[code])
    return results


def reference_agreement(coded: Coded, references: Mapping[int, Reference]) -> list[dict[str, Any]]:
    """Per annotator: accuracy, Cohen's kappa and exact-sources share against references.

    ``references`` maps unit ids to (label, sources): gold answers or the tool's
    suggestions; units without one are skipped.
    """
    label_ref, list_ref = coded.reference_columns(references)
    reference = label_ref[coded.unit]
    same_sources = (coded.source_list == list_ref[coded.unit]).astype(np.float64)
    nothing = "no unit this annotator rated has one"
    return _per_annotator(coded, reference >= 0, reference, same_sources, nothing)


def annotator_summary(
    coded: Coded,
    rows: np.ndarray,
    pattern: np.ndarray,
    gold: Mapping[int, Reference] | None,
    suggestions: Mapping[int, Reference] | None,
) -> list[dict[str, Any]]:
    """The ``annotators`` part of the summary (see :func:`annotator.agreement.summarise`)."""
    n_ratings = np.bincount(coded.annotator, minlength=len(coded.annotators))
    majority = majority_agreement(coded, rows, pattern)
    against_gold = reference_agreement(coded, gold) if gold is not None else None
    against_suggestions = (
        reference_agreement(coded, suggestions) if suggestions is not None else None
    )
    return [
        {
            "annotator": name,
            "n_ratings": int(n_ratings[code]),
            "majority": majority[code],
            "gold": against_gold[code] if against_gold is not None else None,
            "suggestions": against_suggestions[code] if against_suggestions is not None else None,
        }
        for code, name in enumerate(coded.annotators)
    ]
