"""Agreement of a project's annotators, loaded from the database.

The statistics live in ``annotator.agreement`` (no database, no Flask); this
module loads a project's annotations as integer-coded columns, with gold and
suggestions, and applies the breakdowns the CLI, the dashboard and the export
share: one article, one annotator (every rating on the units they labelled),
one label (every rating on the units where someone used it).

Loading a million annotations is the expensive part, so it uses one query
with the ordered source ids aggregated per annotation, plain tuples, and
dicts that map ids to names (equal names are one shared string object,
which the coding step in ``agreement.encode`` reads much faster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from annotator.agreement import Coded, encode_codes, summarise_coded, unit_agreement_coded
from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    GoldSource,
    Label,
    Project,
    Source,
    Unit,
    User,
)

Breakdown = Literal["article", "annotator", "label"]


@dataclass
class ProjectRatings:
    """A project's sentence annotations as integer columns (one entry per rating).

    ``annotator``, ``label`` and ``source_list`` are codes into ``annotators``
    (sorted names), ``labels`` (the project's order) and ``source_lists``
    (ordered tuples of source names).
    """

    labels: tuple[str, ...]
    annotators: tuple[str, ...]
    source_lists: tuple[tuple[str, ...], ...]
    unit: np.ndarray
    article: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    source_list: np.ndarray
    gold: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    suggestions: dict[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.unit.size)

    def coded(self, mask: np.ndarray | None = None) -> Coded:
        """The ratings (all, or where ``mask`` is true) coded for ``annotator.agreement``."""
        columns = (self.unit, self.annotator, self.label, self.source_list)
        if mask is not None:
            columns = tuple(column[mask] for column in columns)
        unit, annotator, label, source_list = columns
        return encode_codes(
            unit, annotator, self.annotators, label, self.labels, source_list, self.source_lists
        )

    def on_units_where(self, chosen: np.ndarray) -> np.ndarray:
        """Mask of every rating on the units where ``chosen`` (a rating mask) holds."""
        return np.isin(self.unit, np.unique(self.unit[chosen]))


def _concat(dialect: str, column: Any) -> Any:
    """All values of an integer column as one comma-separated string.

    A million ratings come back as four strings that numpy parses in C, several
    times faster than a million row tuples through the driver. The aggregates of
    one SELECT read the rows in the same order, so the columns stay aligned.
    """
    if dialect == "postgresql":
        return func.string_agg(cast(column, String), ",")
    return func.group_concat(column, ",")


def _ints(text: str | None) -> np.ndarray:
    if not text:
        return np.zeros(0, dtype=np.int64)
    # Text mode of fromstring (sep given) parses in C; only its binary mode is deprecated.
    return np.fromstring(text, dtype=np.int64, sep=",")


def _list_codes(
    rows: int, owner: np.ndarray, position: np.ndarray, source: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Code each rating's ordered source ids; returns codes and the distinct id lists.

    ``owner`` gives the rating (row) each (position, source) belongs to.
    """
    if source.size == 0:
        return np.zeros(rows, dtype=np.int64), [()]
    order = np.lexsort((position, owner))
    owner, source = owner[order], source[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    rank = np.arange(owner.size) - np.repeat(starts, np.diff(np.r_[starts, owner.size]))
    width = int(rank.max()) + 1
    matrix = np.full((rows, width), -1, dtype=np.int64)
    matrix[owner, rank] = source
    base = int(source.max()) + 2
    if base**width < 2**62:
        # One integer per list (sorting integers is far cheaper than sorting rows).
        key = (matrix + 1) @ (base ** np.arange(width, dtype=np.int64))
        _, first, codes = np.unique(key, return_index=True, return_inverse=True)
        distinct = matrix[first]
    else:
        distinct, codes = np.unique(matrix, axis=0, return_inverse=True)
    lists = [tuple(int(s) for s in row if s >= 0) for row in distinct.tolist()]
    return codes.reshape(-1), lists


def _scan(
    db: Any, *columns: Any, joins: list[tuple[Any, Any]] = (), where: list[Any] = ()
) -> list[np.ndarray]:
    """Integer columns of one table (optionally joined and filtered) as numpy arrays."""
    query = select(*(_concat(db.dialect.name, column) for column in columns))
    for target, on in joins:
        query = query.join(target, on)
    return [_ints(text) for text in db.execute(query.where(*where)).one()]


def load_ratings(
    session: Session,
    project_id: int,
    *,
    article_id: int | None = None,
    with_references: bool = True,
) -> ProjectRatings:
    """Every sentence annotation of the project (or one article), with gold and suggestions."""
    db = session.connection()
    dialect = db.dialect.name
    label_rows = db.execute(
        select(Label.id, Label.name).where(Label.project_id == project_id).order_by(Label.position)
    ).all()
    label_code = {label_id: code for code, (label_id, _) in enumerate(label_rows)}
    labels = tuple(name for _, name in label_rows)
    names = dict(
        db.execute(select(Source.id, Source.name).where(Source.project_id == project_id)).all()
    )
    project_articles = select(Article.id).where(Article.project_id == project_id)
    in_scope = [Unit.kind == "sentence", Unit.article_id.in_(project_articles)]
    if article_id is not None:
        in_scope.append(Unit.article_id == article_id)
    units, unit_articles = (
        _ints(text)
        for text in db.execute(
            select(_concat(dialect, Unit.id), _concat(dialect, Unit.article_id)).where(*in_scope)
        ).one()
    )
    total_units = db.scalar(select(func.count()).select_from(Unit)) or 0
    if article_id is None and units.size * 2 >= total_units:
        # The project holds most of the database: scanning the two tables and
        # filtering in numpy beats an index look-up per annotation.
        ids, unit, annotator_ids, label_ids = _scan(
            db, Annotation.id, Annotation.unit_id, Annotation.annotator_id, Annotation.label_id
        )
        keep = np.isin(unit, units)
        ids, unit, annotator_ids, label_ids = (
            ids[keep],
            unit[keep],
            annotator_ids[keep],
            label_ids[keep],
        )
        owners, positions, sources = _scan(
            db,
            AnnotationSource.annotation_id,
            AnnotationSource.position,
            AnnotationSource.source_id,
        )
        keep = np.isin(owners, ids)
        owners, positions, sources = owners[keep], positions[keep], sources[keep]
    else:
        ids, unit, annotator_ids, label_ids = _scan(
            db,
            Annotation.id,
            Annotation.unit_id,
            Annotation.annotator_id,
            Annotation.label_id,
            joins=[(Unit, Unit.id == Annotation.unit_id)],
            where=in_scope,
        )
        owners, positions, sources = _scan(
            db,
            AnnotationSource.annotation_id,
            AnnotationSource.position,
            AnnotationSource.source_id,
            joins=[
                (Annotation, Annotation.id == AnnotationSource.annotation_id),
                (Unit, Unit.id == Annotation.unit_id),
            ],
            where=in_scope,
        )
    by_unit = np.argsort(units)
    article = unit_articles[by_unit[np.searchsorted(units[by_unit], unit)]] if unit.size else unit
    if ids.size > 1 and bool(np.all(ids[1:] > ids[:-1])):
        owner_rows = np.searchsorted(ids, owners)  # a table scan returns ids in order
    else:
        by_id = np.argsort(ids)
        owner_rows = by_id[np.searchsorted(ids[by_id], owners)] if owners.size else owners
    source_list, id_lists = _list_codes(ids.size, owner_rows, positions, sources)
    user_ids = np.unique(annotator_ids)
    usernames = dict(
        db.execute(select(User.id, User.username).where(User.id.in_(user_ids.tolist()))).all()
    )
    sorted_names = sorted(usernames.values())
    rank = {name: i for i, name in enumerate(sorted_names)}
    annotator_code = np.array([rank[usernames[int(u)]] for u in user_ids], dtype=np.int64)
    label_lookup = np.full(max(label_code, default=0) + 1, -1, dtype=np.int64)
    for label_id, code in label_code.items():
        label_lookup[label_id] = code
    data = ProjectRatings(
        labels=labels,
        annotators=tuple(sorted_names),
        source_lists=tuple(tuple(names[s] for s in ids_ if s in names) for ids_ in id_lists),
        unit=unit,
        article=article,
        annotator=annotator_code[np.searchsorted(user_ids, annotator_ids)],
        label=label_lookup[label_ids] if label_ids.size else label_ids,
        source_list=source_list,
    )
    if with_references:
        _load_references(db, data, in_scope, label_rows, names)
    return data


def project_scope(session: Session, project_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(unit id, article id) of every sentence unit of the project, rated or not."""
    db = session.connection()
    project_articles = select(Article.id).where(Article.project_id == project_id)
    units, articles = (
        _ints(text)
        for text in db.execute(
            select(
                _concat(db.dialect.name, Unit.id), _concat(db.dialect.name, Unit.article_id)
            ).where(Unit.kind == "sentence", Unit.article_id.in_(project_articles))
        ).one()
    )
    return units, articles


def load_references(
    session: Session, data: ProjectRatings, project_id: int, *, suggestions: bool = True
) -> None:
    """(Re)load the gold answers (and suggestions) of ``data``'s project into it.

    Suggestions are loaded for every sentence unit here, rated or not (a cache that
    later learns of new ratings needs them; the statistics ignore unrated units).
    """
    db = session.connection()
    label_rows = db.execute(
        select(Label.id, Label.name).where(Label.project_id == project_id).order_by(Label.position)
    ).all()
    names = dict(
        db.execute(select(Source.id, Source.name).where(Source.project_id == project_id)).all()
    )
    project_articles = select(Article.id).where(Article.project_id == project_id)
    in_scope = [Unit.kind == "sentence", Unit.article_id.in_(project_articles)]
    _load_references(
        db, data, in_scope, label_rows, names, rated_only=False, suggestions=suggestions
    )


def _load_references(
    db: Any,
    data: ProjectRatings,
    in_scope: list[Any],
    label_rows: Any,
    names: dict[int, str],
    *,
    rated_only: bool = True,
    suggestions: bool = True,
) -> None:
    """Gold answers and suggestions of the rated units (or all), as (label, source names)."""
    labels = dict(label_rows)
    gold_label: dict[int, str] = {}
    gold_sources: dict[int, list[str]] = {}
    for unit, label, source in db.execute(
        select(Gold.unit_id, Gold.label_id, GoldSource.source_id)
        .join(Unit, Unit.id == Gold.unit_id)
        .outerjoin(GoldSource, GoldSource.gold_id == Gold.id)
        .where(*in_scope, Gold.label_id.is_not(None))
        .order_by(Gold.unit_id, GoldSource.position)
    ):
        gold_label[unit] = labels[label]
        if source in names:  # None (no sources) is never a key
            gold_sources.setdefault(unit, []).append(names[source])
    data.gold = {u: (name, tuple(gold_sources.get(u, ()))) for u, name in gold_label.items()}
    if not suggestions:
        return
    rated = set(data.unit.tolist()) if rated_only else None
    label_names = set(labels.values())
    data.suggestions = {}
    for unit, label, source_ids in db.execute(
        select(Unit.id, Unit.suggested_label, Unit.suggested_sources).where(
            *in_scope, Unit.suggested_label.is_not(None)
        )
    ):
        if (rated is None or unit in rated) and label in label_names:
            data.suggestions[unit] = (
                label,
                tuple(names[s] for s in source_ids or () if s in names),
            )


def _mask(data: ProjectRatings, *, annotator: str | None, label: str | None) -> np.ndarray | None:
    """Ratings of the annotator/label breakdown (None: all of them).

    For an annotator: every rating on the units they labelled (their agreement
    with the others); for a label: every rating on the units where someone used it.
    An unknown name selects nothing.
    """
    mask = None
    if annotator is not None:
        code = data.annotators.index(annotator) if annotator in data.annotators else -1
        mask = data.on_units_where(data.annotator == code)
    if label is not None:
        code = data.labels.index(label) if label in data.labels else -1
        by_label = data.on_units_where(data.label == code)
        mask = by_label if mask is None else mask & by_label
    return mask


def project_agreement(
    session: Session,
    project_id: int,
    *,
    article_id: int | None = None,
    annotator: str | None = None,
    label: str | None = None,
    bootstrap: int = 1000,
    data: ProjectRatings | None = None,
) -> dict[str, Any]:
    """The agreement summary of a project, optionally for one article, annotator or label.

    The dict is ``annotator.agreement.summarise`` plus ``project`` and ``filters``.
    """
    if data is None:
        data = load_ratings(session, project_id, article_id=article_id)
    coded = data.coded(_mask(data, annotator=annotator, label=label))
    summary = summarise_coded(
        coded, gold=data.gold or None, suggestions=data.suggestions or None, bootstrap=bootstrap
    )
    name = session.scalar(select(Project.name).where(Project.id == project_id))
    return {
        "project": {"id": project_id, "name": name},
        "filters": {"article": article_id, "annotator": annotator, "label": label},
        **summary,
    }


def agreement_by(
    session: Session, project_id: int, by: Breakdown, *, data: ProjectRatings | None = None
) -> list[dict[str, Any]]:
    """One row per article, annotator or label: units, ratings, alpha, percent agreement."""
    if data is None:
        data = load_ratings(session, project_id, with_references=False)
    groups: list[tuple[Any, np.ndarray]] = []
    titles: dict[int, str] = {}
    if by == "article":
        articles = np.unique(data.article)
        groups = [(int(a), data.article == a) for a in articles]
        titles = dict(
            session.execute(
                select(Article.id, Article.title).where(Article.project_id == project_id)
            ).all()
        )
    elif by == "annotator":
        groups = [(name, _mask(data, annotator=name, label=None)) for name in data.annotators]
    else:
        groups = [(name, _mask(data, annotator=None, label=name)) for name in data.labels]
    table = []
    for key, mask in groups:
        summary = summarise_coded(data.coded(mask), bootstrap=0)
        alpha = summary["labels"]["krippendorff_alpha"]
        row = {
            by: key,
            "n_units": summary["n_units"],
            "n_ratings": summary["n_ratings"],
            "n_annotators": summary["n_annotators"],
            "krippendorff_alpha": alpha["value"],
            "reason": alpha["reason"],
            "percent_agreement": summary["labels"]["percent_agreement"]["value"],
            "sources_alpha_masi": summary["sources"]["krippendorff_alpha_masi"]["value"],
        }
        if by == "article":
            row["title"] = titles.get(key)
        table.append(row)
    return table


def review_units(
    session: Session, project_id: int, *, data: ProjectRatings | None = None
) -> list[dict[str, Any]]:
    """Every rated unit of the project with its agreement, least agreed first."""
    if data is None:
        data = load_ratings(session, project_id, with_references=False)
    return unit_agreement_coded(data.coded())
