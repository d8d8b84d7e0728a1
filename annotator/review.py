"""Review and adjudication (no Flask): which units to look at first, what every
annotator answered, and the reviewer's decision written as gold.

The queue orders a project's rated sentences least agreed first with the
per-unit figures of ``annotator.agreement.units`` (the numbers the dashboard
and the export show), on the ratings ``project_agreement.load_ratings`` loads.
Filters are masks over those per-unit columns:

- ``pair=(a, b)``, a ≠ b: one annotator gave label a and another gave b;
  ``pair=(a, a)``: at least two annotators gave a. These are exactly the units
  behind cell (a, b) of the pooled confusion matrix between annotators.
- ``sources_disagree``: at least two ratings with different ordered source lists.
- ``article_id``; ``annotator``: units that annotator rated (with every rating on them).
- ``status``: ``open`` (two or more ratings, no gold or unresolved gold),
  ``decided`` (gold that is unanimous or adjudicated) or ``all``.

Gold is only written through ``annotator.exchange.gold``, which keeps its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.agreement import Coded
from annotator.agreement.units import review_order, unit_columns
from annotator.models import (
    NOTE_MAX,
    Annotation,
    Article,
    Gold,
    Label,
    Unit,
    User,
)
from annotator.project_agreement import ProjectRatings, load_ratings
from annotator.users import username_key

Status = Literal["open", "decided", "all"]
STATUSES: tuple[Status, ...] = ("open", "decided", "all")
# What a reviewer may decide by hand; ``unanimous`` comes from bulk acceptance only.
DECISIONS = ("adjudicated", "unresolved")
RATIONALE_MAX = NOTE_MAX
MAX_SOURCES = 20
THRESHOLD_MIN, THRESHOLD_MAX = 2, 100
# Ids beyond a 32-bit integer exist in no table.
ID_MAX = 2**31 - 1
# Tab, newline and carriage return are fine in a rationale; other C0 controls are not.
_CONTROLS = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"}


class ReviewError(ValueError):
    """A request the review domain refuses; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InvalidDecision(ReviewError):
    """A gold decision with a wrong value (unknown label or source, bad category …)."""


class InvalidFilter(ReviewError):
    """A queue filter that names no label, status or number the project has."""


class AnswerChanged(ReviewError):
    """The annotator's answer the reviewer accepted changed since it was shown."""


class UnitNotFound(LookupError):
    """No such sentence."""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The queue's filters (see the module docstring)."""

    pair: tuple[str, str] | None = None
    sources_disagree: bool = False
    article_id: int | None = None
    annotator: str | None = None
    status: Status = "open"


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One unit of the queue with the figures that put it there."""

    unit_id: int
    article_id: int
    article_title: str
    index: int | None
    text: str
    n_ratings: int
    labels: tuple[tuple[str, int], ...]  # (label, how many gave it), in the project's order
    majority: str | None
    majority_share: float
    pairwise_agreement: float | None
    sources_pairwise_agreement: float | None
    gold_provenance: str | None


@dataclass(frozen=True, slots=True)
class Queue:
    """A page of the queue and the number of units matching the filters."""

    items: list[QueueItem]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class _Selection:
    coded: Coded
    columns: dict[str, np.ndarray]
    ordered: np.ndarray  # unit codes, least agreed first, filtered
    provenance: dict[int, str]  # unit id -> gold provenance


def parse_pair(value: str) -> tuple[str, str]:
    """``"a,b"`` (the dashboard's link) as a pair of label names; InvalidFilter otherwise."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise InvalidFilter("pair", "give two label names separated by a comma")
    return parts[0], parts[1]


def _check_filter(session: Session, project_id: int, f: QueueFilter) -> tuple[str, ...]:
    labels = tuple(
        session.scalars(
            select(Label.name).where(Label.project_id == project_id).order_by(Label.position)
        )
    )
    if f.status not in STATUSES:
        raise InvalidFilter("status", f"must be one of {', '.join(STATUSES)}")
    if f.pair is not None:
        unknown = [name for name in f.pair if name not in labels]
        if unknown:
            raise InvalidFilter("pair", f"{unknown[0]!r} is not a label of this project")
    if f.article_id is not None and not 1 <= f.article_id <= ID_MAX:
        raise InvalidFilter("article", "is not an article of this project")
    return labels


def _gold_provenance(session: Session, project_id: int, article_id: int | None) -> dict[int, str]:
    query = (
        select(Gold.unit_id, Gold.provenance)
        .join(Unit, Unit.id == Gold.unit_id)
        .join(Article, Article.id == Unit.article_id)
        .where(Article.project_id == project_id)
    )
    if article_id is not None:
        query = query.where(Unit.article_id == article_id)
    return dict(session.execute(query).all())


def _mask(
    coded: Coded,
    columns: dict[str, np.ndarray],
    provenance: dict[int, str],
    f: QueueFilter,
) -> np.ndarray:
    mask = np.ones(coded.n_units, dtype=bool)
    if f.pair is not None:
        counts = coded.label_counts()
        a, b = (coded.labels.index(name) for name in f.pair)
        mask &= counts[:, a] >= 2 if a == b else (counts[:, a] > 0) & (counts[:, b] > 0)
    if f.sources_disagree:
        # NaN (a single rating) counts as agreeing: there is nothing to disagree with.
        mask &= np.nan_to_num(columns["sources_pairwise"], nan=1.0) < 1.0
    if f.annotator is not None:
        name = username_key(f.annotator)
        rated = np.zeros(coded.n_units, dtype=bool)
        if name in coded.annotators:
            rated[coded.unit[coded.annotator == coded.annotators.index(name)]] = True
        mask &= rated
    if f.status != "all":
        decided = np.zeros(coded.n_units, dtype=bool)
        settled = [u for u, p in provenance.items() if p != "unresolved"]
        codes = coded.unit_codes(settled)
        decided[codes[codes >= 0]] = True
        if f.status == "decided":
            mask &= decided
        else:
            mask &= (columns["n_ratings"] >= 2) & ~decided
    return mask


def load_project_ratings(session: Session, project_id: int) -> ProjectRatings:
    """The project's ratings, loaded once for several calls of one request (``data=``)."""
    return load_ratings(session, project_id, with_references=False)


def _coded(
    session: Session, project_id: int, article_id: int | None, data: ProjectRatings | None
) -> Coded:
    if data is None:
        return load_ratings(
            session, project_id, article_id=article_id, with_references=False
        ).coded()
    if article_id is None:
        return data.coded()
    return data.coded([i for i, article in enumerate(data.article) if article == article_id])


def _select(
    session: Session,
    project_id: int,
    f: QueueFilter,
    *,
    keep: int | None = None,
    data: ProjectRatings | None = None,
) -> _Selection:
    """The filtered units in review order (``keep``: a unit kept whatever the filters)."""
    _check_filter(session, project_id, f)
    coded = _coded(session, project_id, f.article_id, data)
    columns = unit_columns(coded)
    provenance = _gold_provenance(session, project_id, f.article_id)
    mask = _mask(coded, columns, provenance, f)
    if keep is not None:
        code = int(coded.unit_codes([keep])[0])
        if code >= 0:
            mask[code] = True
    order = review_order(columns)
    return _Selection(coded, columns, order[mask[order]], provenance)


def review_queue(
    session: Session,
    project_id: int,
    *,
    pair: tuple[str, str] | None = None,
    sources_disagree: bool = False,
    article_id: int | None = None,
    annotator: str | None = None,
    status: Status = "open",
    limit: int = 50,
    offset: int = 0,
    data: ProjectRatings | None = None,
) -> Queue:
    """A page of the project's review queue, least agreed first, and the total count.

    ``data``: the project's ratings when the caller loaded them already.
    """
    f = QueueFilter(pair, sources_disagree, article_id, annotator, status)
    limit, offset = max(0, min(limit, 1000)), max(0, offset)
    selection = _select(session, project_id, f, data=data)
    page = selection.ordered[offset : offset + limit]
    return Queue(_items(session, selection, page), int(selection.ordered.size), offset, limit)


def _unit_texts(session: Session, unit_ids: Sequence[int]) -> dict[int, tuple]:
    """Unit id -> (article id, article title, sentence index, text), read in SQL."""
    if not unit_ids:
        return {}
    rows = session.execute(
        select(
            Unit.id,
            Unit.article_id,
            Article.title,
            Unit.index,
            # Both engines count characters (code points), like the offsets.
            func.substr(Article.text, Unit.start + 1, Unit.end - Unit.start),
        )
        .join(Article, Article.id == Unit.article_id)
        .where(Unit.id.in_(list(unit_ids)))
    )
    return {unit_id: rest for unit_id, *rest in rows}


def _items(session: Session, selection: _Selection, page: np.ndarray) -> list[QueueItem]:
    coded, columns = selection.coded, selection.columns
    if page.size == 0:
        return []
    counts = coded.label_counts()[page]
    unit_ids = coded.unit_ids[page].tolist()
    texts = _unit_texts(session, unit_ids)
    items = []
    for row, (code, unit_id) in enumerate(zip(page.tolist(), unit_ids, strict=True)):
        article_id, title, index, text = texts[unit_id]
        majority = int(columns["majority"][code])
        pairwise = float(columns["pairwise"][code])
        sources = float(columns["sources_pairwise"][code])
        items.append(
            QueueItem(
                unit_id=unit_id,
                article_id=article_id,
                article_title=title,
                index=index,
                text=text,
                n_ratings=int(columns["n_ratings"][code]),
                labels=tuple(
                    (name, int(n))
                    for name, n in zip(coded.labels, counts[row].tolist(), strict=True)
                    if n
                ),
                majority=coded.labels[majority] if majority >= 0 else None,
                majority_share=float(columns["majority_share"][code]),
                pairwise_agreement=None if np.isnan(pairwise) else pairwise,
                sources_pairwise_agreement=None if np.isnan(sources) else sources,
                gold_provenance=selection.provenance.get(unit_id),
            )
        )
    return items


def neighbour(
    session: Session, project_id: int, unit_id: int, f: QueueFilter, *, step: int = 1
) -> int | None:
    """The unit ``step`` places after (negative: before) ``unit_id`` in the filtered queue.

    The unit itself counts as in the queue even when it no longer matches (it was
    just decided), so "next" continues from where the reviewer is.
    """
    selection = _select(session, project_id, f, keep=unit_id)
    code = int(selection.coded.unit_codes([unit_id])[0])
    ordered = selection.ordered
    where = np.flatnonzero(ordered == code) if code >= 0 else np.zeros(0, dtype=np.int64)
    if where.size == 0:
        target = 0 if step > 0 else -1
    else:
        target = int(where[0]) + step
    if not 0 <= target < ordered.size:
        return None
    return int(selection.coded.unit_ids[ordered[target]])


def queue_annotators(session: Session, project_id: int) -> list[str]:
    """Names of everyone who labelled a sentence of the project, sorted."""
    return sorted(
        session.scalars(
            select(User.username)
            .distinct()
            .join(Annotation, Annotation.annotator_id == User.id)
            .join(Unit, Unit.id == Annotation.unit_id)
            .join(Article, Article.id == Unit.article_id)
            .where(Article.project_id == project_id)
        )
    )


def open_counts(session: Session, project_ids: Sequence[int]) -> dict[int, int]:
    """Per project: sentences with two or more ratings and no settled gold decision."""
    if not project_ids:
        return {}
    rated = (
        select(Annotation.unit_id).group_by(Annotation.unit_id).having(func.count() >= 2).subquery()
    )
    settled = select(Gold.unit_id).where(Gold.provenance != "unresolved")
    rows = session.execute(
        select(Article.project_id, func.count())
        .select_from(rated)
        .join(Unit, Unit.id == rated.c.unit_id)
        .join(Article, Article.id == Unit.article_id)
        .where(
            Article.project_id.in_(list(project_ids)),
            Unit.kind == "sentence",
            Unit.id.not_in(settled),
        )
        .group_by(Article.project_id)
    )
    return dict(rows.all())


# --- one unit ------------------------------------------------------------------------
