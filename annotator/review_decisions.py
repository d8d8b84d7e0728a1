"""Gold decisions of the review area: decide, accept an answer, clear, and accept
unanimous sentences in bulk; the queue and the unit view are in ``review.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.access import is_reviewer
from annotator.agreement.units import unit_columns
from annotator.exchange.apply import Upserted
from annotator.exchange.gold import NewGold, clear_gold, insert_gold_many, upsert_gold
from annotator.models import (
    ERROR_CATEGORIES,
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    Label,
    Project,
    Source,
    Unit,
    User,
)
from annotator.project_agreement import ProjectRatings
from annotator.registry import SourceIndex
from annotator.review import (
    _CONTROLS,
    DECISIONS,
    ID_MAX,
    MAX_SOURCES,
    RATIONALE_MAX,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    AnswerChanged,
    InvalidDecision,
    UnitNotFound,
    _coded,
)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unit_project(session: Session, unit_id: object) -> int:
    if not _is_int(unit_id) or not 1 <= unit_id <= ID_MAX:  # type: ignore[operator]
        raise UnitNotFound(unit_id)
    row = session.execute(
        select(Article.project_id, Unit.kind)
        .join(Article, Article.id == Unit.article_id)
        .where(Unit.id == unit_id)
    ).one_or_none()
    if row is None or row.kind != "sentence":
        raise UnitNotFound(unit_id)
    return int(row.project_id)


def _check_reviewer(reviewer: User) -> None:
    if not is_reviewer(reviewer):
        raise PermissionError("only reviewers and admins decide gold")


def clean_rationale(value: object) -> str:
    """A rationale as stored: text without control characters, at most RATIONALE_MAX."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidDecision("rationale", "must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidDecision("rationale", "must be valid Unicode text") from None
    if any(c in _CONTROLS for c in value):
        raise InvalidDecision("rationale", "must not contain control characters")
    value = value.strip()
    if len(value) > RATIONALE_MAX:
        raise InvalidDecision("rationale", f"must be at most {RATIONALE_MAX} characters")
    return value


def _category(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in ERROR_CATEGORIES:
        raise InvalidDecision("error_category", f"must be one of {', '.join(ERROR_CATEGORIES)}")
    return value


def _sources(session: Session, project_id: int, source_ids: object) -> list[int]:
    if source_ids is None:
        return []
    if not isinstance(source_ids, list | tuple):
        raise InvalidDecision("sources", "must be a list of source ids")
    if len(source_ids) > MAX_SOURCES:
        raise InvalidDecision("sources", f"may hold at most {MAX_SOURCES} sources")
    if not all(_is_int(s) and 1 <= s <= ID_MAX for s in source_ids):
        raise InvalidDecision("sources", "must be a list of source ids (positive integers)")
    if len(set(source_ids)) != len(source_ids):
        raise InvalidDecision("sources", "must not name a source twice")
    known = set(
        session.scalars(
            select(Source.id).where(Source.project_id == project_id, Source.id.in_(source_ids))
        )
    )
    missing = [s for s in source_ids if s not in known]
    if missing:
        raise InvalidDecision("sources", f"source {missing[0]} is not in this project's registry")
    return list(source_ids)


def resolve_source_names(session: Session, project_id: int, names: Sequence[str]) -> list[int]:
    """Registry names or aliases, in order, as source ids; InvalidDecision naming the unknown."""
    index = SourceIndex(session, project_id)
    ids: list[int] = []
    unknown: list[str] = []
    for name in names:
        source_id = index.resolve(name)
        if source_id is None:
            unknown.append(name)
        elif source_id in ids:
            raise InvalidDecision("sources", f"“{name}” names a source already in the list")
        else:
            ids.append(source_id)
    if unknown:
        listed = ", ".join(f"“{name}”" for name in unknown[:5])
        them = "it" if len(unknown) == 1 else "them"
        raise InvalidDecision(
            "sources", f"not in the registry: {listed} (add {them} on the Sources page first)"
        )
    return ids


def decide(
    session: Session,
    unit_id: int,
    reviewer: User,
    label: str | None,
    source_ids: Sequence[int],
    rationale: str = "",
    error_category: str | None = None,
    provenance: str = "adjudicated",
) -> Upserted:
    """Write the reviewer's gold decision for a sentence (no commit).

    ``adjudicated`` needs a label; ``unresolved`` needs a rationale (why it could
    not be decided) and may carry a tentative label and sources. Raises
    ``UnitNotFound`` or ``InvalidDecision`` with nothing written.
    """
    _check_reviewer(reviewer)
    project_id = _unit_project(session, unit_id)
    if provenance not in DECISIONS:
        raise InvalidDecision("provenance", f"must be one of {', '.join(DECISIONS)}")
    labels = dict(
        session.execute(select(Label.name, Label.id).where(Label.project_id == project_id)).all()
    )
    if label == "":
        label = None
    if label is None:
        if provenance == "adjudicated":
            raise InvalidDecision("label", "choose the label of the decision")
    elif not isinstance(label, str) or label not in labels:
        raise InvalidDecision("label", "must be the name of one of the project's labels")
    sources = _sources(session, project_id, source_ids)
    text = clean_rationale(rationale)
    if provenance == "unresolved" and not text:
        raise InvalidDecision("rationale", "say why the sentence stays unresolved")
    category = _category(error_category)
    return upsert_gold(
        session,
        unit_id,
        labels[label] if label is not None else None,
        sources,
        provenance,
        reviewer.id,
        text,
        category,
        action="decide",
        label_name=label,
    )


def accept_answer(
    session: Session,
    unit_id: int,
    reviewer: User,
    annotator_id: int,
    version: int,
    rationale: str = "",
    error_category: str | None = None,
) -> Upserted:
    """Make one annotator's answer (at the version the reviewer saw) the adjudicated gold."""
    _unit_project(session, unit_id)
    if not (_is_int(annotator_id) and 1 <= annotator_id <= ID_MAX and _is_int(version)):
        raise InvalidDecision("accept", "choose one of the answers shown")
    row = session.execute(
        select(Annotation.id, Label.name, Annotation.version)
        .join(Label, Label.id == Annotation.label_id)
        .where(Annotation.unit_id == unit_id, Annotation.annotator_id == annotator_id)
    ).one_or_none()
    if row is None:
        raise AnswerChanged("accept", "that answer was deleted since the page was shown")
    if row.version != version:
        raise AnswerChanged(
            "accept", "that answer changed since the page was shown; look at it again"
        )
    source_ids = session.scalars(
        select(AnnotationSource.source_id)
        .where(AnnotationSource.annotation_id == row.id)
        .order_by(AnnotationSource.position)
    ).all()
    return decide(
        session,
        unit_id,
        reviewer,
        row.name,
        list(source_ids),
        rationale,
        error_category,
        "adjudicated",
    )


def clear(session: Session, unit_id: int, reviewer: User, rationale: str = "") -> bool:
    """Remove a sentence's gold decision (kept in the history); False when there was none."""
    _check_reviewer(reviewer)
    _unit_project(session, unit_id)
    return clear_gold(session, unit_id, reviewer.id, clean_rationale(rationale)) is not None


# --- unanimous units -----------------------------------------------------------------


def unanimous_threshold(session: Session, project_id: int) -> int:
    """The project's minimum number of agreeing annotators for bulk acceptance."""
    value = session.scalar(select(Project.unanimous_min_annotators).where(Project.id == project_id))
    return int(value or THRESHOLD_MIN)


def set_unanimous_threshold(session: Session, project_id: int, value: Any) -> None:
    """Change the threshold (THRESHOLD_MIN..THRESHOLD_MAX); InvalidDecision otherwise."""
    if not _is_int(value) or not THRESHOLD_MIN <= value <= THRESHOLD_MAX:
        raise InvalidDecision(
            "threshold", f"must be a whole number from {THRESHOLD_MIN} to {THRESHOLD_MAX}"
        )
    project = session.get(Project, project_id)
    if project is None:
        raise LookupError(project_id)
    project.unanimous_min_annotators = value
    session.flush()


def unanimous_candidates(
    session: Session, project_id: int, *, data: ProjectRatings | None = None
) -> list[NewGold]:
    """Sentences without gold where at least the threshold of annotators, and all of
    them, give the same label and the same ordered sources.

    Units with an annotation flagged by a segmentation edit wait for a reviewer.
    """
    threshold = unanimous_threshold(session, project_id)
    coded = _coded(session, project_id, None, data)
    if coded.n_units == 0:
        return []
    columns = unit_columns(coded)
    size = columns["n_ratings"]
    # Every rating on the unit gives the most frequent label, and every pair agrees
    # on the ordered source list.
    agreeing = (
        (size >= threshold)
        & (columns["majority_share"] == 1.0)
        & (np.nan_to_num(columns["sources_pairwise"], nan=0.0) == 1.0)
    )
    codes = np.flatnonzero(agreeing)
    if codes.size == 0:
        return []
    project_units = select(Unit.id).join(Article, Article.id == Unit.article_id)
    project_units = project_units.where(Article.project_id == project_id)
    taken = set(session.scalars(select(Gold.unit_id).where(Gold.unit_id.in_(project_units))))
    taken |= set(
        session.scalars(
            select(Annotation.unit_id).where(
                Annotation.flagged.is_(True), Annotation.unit_id.in_(project_units)
            )
        )
    )
    labels = dict(
        session.execute(select(Label.name, Label.id).where(Label.project_id == project_id)).all()
    )
    ids = {
        name: source_id
        for source_id, name in session.execute(
            select(Source.id, Source.name).where(Source.project_id == project_id)
        )
    }
    found = []
    for code in codes.tolist():
        unit_id = int(coded.unit_ids[code])
        if unit_id in taken:
            continue
        first = int(coded.start[code])
        label = coded.labels[int(coded.label[first])]
        names = coded.source_lists[int(coded.source_list[first])]
        found.append(
            NewGold(unit_id, labels[label], tuple(ids[n] for n in names), label, tuple(names))
        )
    return found


def accept_unanimous(session: Session, project_id: int, reviewer: User) -> int:
    """Gold with provenance ``unanimous`` for every candidate (no commit); how many.

    Never touches a unit that already has gold, whatever its provenance.
    """
    _check_reviewer(reviewer)
    candidates = unanimous_candidates(session, project_id)
    created = insert_gold_many(
        session,
        candidates,
        provenance="unanimous",
        reviewer_id=reviewer.id,
        actor_id=reviewer.id,
        action="accept_unanimous",
    )
    return len(created)
