"""A project's ratings kept as column files, brought up to date from the history.

Loading a million annotations from the database takes seconds (``project_agreement.
load_ratings``); between two views of the agreement dashboard a team changes a few
hundred. So the loaded columns are stored under the instance folder (numpy ``.npz``
plus a JSON sidecar), and the next load reads them and applies only the
``annotation_events`` rows added since: every write of an annotation appends one, in
the same transaction, with the label and source names it left (models.AnnotationEvent).

Anything the history does not describe makes the cache useless rather than wrong; the
loader then reads everything again: a change to the project's units, labels, sources
(names included) or users, an event of another kind (segmentation edits, source
merges), a new annotator, a history row that committed late with a lower id
(PostgreSQL hands ids out before commit; the count of rows up to the cached id catches
it), or an annotation count that does not match what the events imply. Gold answers
are re-read whenever the gold history moved; suggestions only change with units.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    AnnotationEvent,
    GoldEvent,
    Label,
    Source,
    Unit,
    User,
)
from annotator.project_agreement import (
    ProjectRatings,
    load_ratings,
    load_references,
    project_scope,
)

FORMAT = 1
# Actions that replace one (unit, annotator) answer by the event's label and sources.
ANSWER_ACTIONS = frozenset({"create", "update", "import", "demo"})
DELETE_ACTION = "delete"
# Beyond this many new events a full load is about as fast and simpler.
MAX_DELTA = 50_000
# The files are rewritten once this many events were applied (or gold changed).
REWRITE_AFTER = 2_000
_COLUMNS = ("unit", "article", "annotator", "label", "source_list")
# Every sentence unit of the project with its article, rated or not (sorted by unit).
_SCOPE = ("scope_unit", "scope_article")
_REFERENCES = tuple(f"{k}_{c}" for k in ("gold", "suggestion") for c in ("unit", "label", "list"))


def _structure(session: Session, project_id: int) -> str:
    """A key of everything besides annotations and gold that the columns depend on."""
    db = session.connection()
    # The whole table's count and newest id: any import, split or merge moves one of
    # them (a change in another project only costs this cache a reload).
    units = db.execute(select(func.count(), func.max(Unit.id))).one()
    labels = db.execute(
        select(Label.id, Label.name).where(Label.project_id == project_id).order_by(Label.position)
    ).all()
    sources = db.execute(
        select(Source.id, Source.name).where(Source.project_id == project_id).order_by(Source.id)
    ).all()
    users = db.execute(select(func.count(), func.max(User.id))).one()
    text = repr((FORMAT, project_id, tuple(units), labels, sources, tuple(users)))
    return hashlib.sha256(text.encode()).hexdigest()


def _history(session: Session, table: Any) -> tuple[int, int, str]:
    """(newest id, row count, when the newest row was written) of a history table.

    The time tells this database's history from another one's with equal counts
    (a restored backup, a different database behind the same instance folder).
    """
    newest, count = session.execute(select(func.max(table.id), func.count())).one()
    at = session.scalar(select(table.at).where(table.id == newest)) if newest else None
    return int(newest or 0), int(count), str(at)


def load_ratings_cached(
    session: Session, project_id: int, cache_dir: Path | None
) -> ProjectRatings:
    """The project's ratings (as ``load_ratings``), from the column cache when it can be
    brought up to date, else loaded in full and cached. Without ``cache_dir``: a full load."""
    if cache_dir is None:
        return load_ratings(session, project_id)
    stem = cache_dir / f"ratings-{project_id}"
    structure = _structure(session, project_id)
    events = _history(session, AnnotationEvent)
    golds = _history(session, GoldEvent)
    cached = _read(stem)
    update = None
    if cached is not None and cached[2]["structure"] == structure:
        update = _bring_up_to_date(session, cached, events)
    if update is None:
        data = load_ratings(session, project_id, with_references=False)
        load_references(session, data, project_id)
        units, articles = project_scope(session, project_id)
        order = np.argsort(units)
        scope = {"scope_unit": units[order], "scope_article": articles[order]}
        _write(stem, data, scope, _meta(session, data, structure, events, golds))
        return data
    data, scope, meta, applied = update
    rewrite = applied >= REWRITE_AFTER
    if meta["golds"] != list(golds):
        load_references(session, data, project_id, suggestions=False)
        meta["golds"] = list(golds)
        rewrite = True
    if rewrite:
        # Small changes are cheaper to apply again than 40 MB of columns to rewrite.
        _write(stem, data, scope, meta)
    return data


def _meta(
    session: Session,
    data: ProjectRatings,
    structure: str,
    events: tuple[int, int],
    golds: tuple[int, int],
) -> dict[str, Any]:
    """The sidecar: names, references and the history position the columns reflect."""
    names = dict(session.execute(select(User.username, User.id)).all())
    return {
        "format": FORMAT,
        "structure": structure,
        "events": list(events),
        "golds": list(golds),
        "annotations": int(session.scalar(select(func.count()).select_from(Annotation)) or 0),
        "labels": list(data.labels),
        "annotators": list(data.annotators),
        "annotator_ids": [names[name] for name in data.annotators],
        "source_lists": [list(s) for s in data.source_lists],
    }


def _reference_arrays(
    data: ProjectRatings,
) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """Gold and suggestions as (unit, label code, list code) columns, and the lists."""
    label_code = {name: code for code, name in enumerate(data.labels)}
    lists: dict[tuple[str, ...], int] = {}
    arrays: dict[str, np.ndarray] = {}
    for kind, references in (("gold", data.gold), ("suggestion", data.suggestions)):
        answers = list(references.values())
        arrays[f"{kind}_unit"] = np.fromiter(references, np.int64, count=len(answers))
        arrays[f"{kind}_label"] = np.fromiter(
            (label_code[label] for label, _ in answers), np.int64, count=len(answers)
        )
        arrays[f"{kind}_list"] = np.fromiter(
            (lists.setdefault(names, len(lists)) for _, names in answers),
            np.int64,
            count=len(answers),
        )
    return arrays, [list(names) for names in lists]


def _references(
    stored: dict[str, np.ndarray], kind: str, labels: tuple[str, ...], lists: list[tuple[str, ...]]
) -> dict[int, tuple[str, tuple[str, ...]]]:
    answers = zip(
        [labels[c] for c in stored[f"{kind}_label"].tolist()],
        [lists[c] for c in stored[f"{kind}_list"].tolist()],
        strict=True,
    )
    return dict(zip(stored[f"{kind}_unit"].tolist(), answers, strict=True))


def _bring_up_to_date(
    session: Session,
    cached: tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]],
    events: tuple[int, int],
) -> tuple[ProjectRatings, dict[str, np.ndarray], dict[str, Any], int] | None:
    """The cached columns with the new history applied (and how many events that was),
    or None when they cannot be."""
    arrays, scope, meta = cached
    last_id, last_count, last_at = meta["events"]
    newest, count, _ = events
    if count - last_count > MAX_DELTA:
        return None
    seen = session.scalar(
        select(func.count()).select_from(AnnotationEvent).where(AnnotationEvent.id <= last_id)
    )
    seen_at = session.scalar(select(AnnotationEvent.at).where(AnnotationEvent.id == last_id))
    if seen != last_count or str(seen_at) != last_at:
        return None  # a history row committed late below the cached id, or another history
    rows = session.execute(
        select(
            AnnotationEvent.unit_id,
            AnnotationEvent.annotator_id,
            AnnotationEvent.action,
            AnnotationEvent.label,
            AnnotationEvent.sources,
        )
        .where(AnnotationEvent.id > last_id)
        .order_by(AnnotationEvent.id)
    ).all()
    data = _ratings(arrays, meta)
    latest: dict[tuple[int, int], tuple[str, str | None, tuple[str, ...]]] = {}
    for unit, annotator, action, label, sources in rows:
        if action not in ANSWER_ACTIONS and action != DELETE_ACTION:
            return None
        latest[(unit, annotator)] = (action, label, tuple(sources or ()))
    if latest:
        units = np.fromiter((u for u, _ in latest), np.int64, count=len(latest))
        at = np.minimum(np.searchsorted(scope["scope_unit"], units), scope["scope_unit"].size - 1)
        in_project = scope["scope_unit"][at] == units if units.size else units.astype(bool)
        article_of = dict(zip(units.tolist(), scope["scope_article"][at].tolist(), strict=True))
        changes = [item for item, keep in zip(latest.items(), in_project, strict=True) if keep]
        applied = _apply(data, meta, changes, article_of)
        if applied is None:
            return None
        data, added = applied
        if bool(in_project.all()):
            total = int(session.scalar(select(func.count()).select_from(Annotation)) or 0)
            if total - meta["annotations"] != added:
                return None  # something wrote annotations without history
        else:
            # Other projects' writes changed the total too; the events are trusted.
            total = int(session.scalar(select(func.count()).select_from(Annotation)) or 0)
        meta = {**meta, "annotations": total}
    meta = {
        **meta,
        "events": list(events),
        "source_lists": [list(s) for s in data.source_lists],
    }
    return data, scope, meta, len(rows)


def _apply(
    data: ProjectRatings,
    meta: dict[str, Any],
    changes: list[Any],
    article_of: dict[int, int],
) -> tuple[ProjectRatings, int] | None:
    """Columns with ``changes`` ((unit, annotator id) → answer) applied; the net row change."""
    code_of_user = {user: code for code, user in enumerate(meta["annotator_ids"])}
    label_code = {name: code for code, name in enumerate(data.labels)}
    lists = list(data.source_lists)
    list_code = {names: code for code, names in enumerate(lists)}
    if any(user not in code_of_user for (_, user), _ in changes):
        return None  # a new annotator: load in full
    width = max(len(data.annotators), 1)
    key = data.unit * width + data.annotator
    wanted = np.fromiter(
        (unit * width + code_of_user[user] for (unit, user), _ in changes), np.int64
    )
    hits = np.flatnonzero(np.isin(key, wanted))
    row_of = dict(zip(key[hits].tolist(), hits.tolist(), strict=True))
    keep = np.ones(data.unit.size, dtype=bool)
    label, source_list = data.label.copy(), data.source_list.copy()
    new_rows: dict[tuple[int, int], tuple[int, int]] = {}
    for (unit, user), (action, name, sources) in changes:
        code = code_of_user[user]
        row = row_of.get(unit * width + code, -1)
        if action == DELETE_ACTION:
            if row >= 0:
                keep[row] = False
            new_rows.pop((unit, code), None)
            continue
        if name not in label_code:
            return None
        if sources not in list_code:
            list_code[sources] = len(lists)
            lists.append(sources)
        if row >= 0:
            keep[row] = True
            label[row], source_list[row] = label_code[name], list_code[sources]
        else:
            new_rows[(unit, code)] = (label_code[name], list_code[sources])
    added = len(new_rows) - int((~keep).sum())
    extra = np.array(
        [(u, c, lab, lst) for (u, c), (lab, lst) in new_rows.items()], dtype=np.int64
    ).reshape(-1, 4)
    data.unit = np.concatenate([data.unit[keep], extra[:, 0]])
    data.article = np.concatenate(
        [data.article[keep], np.array([article_of[u] for u in extra[:, 0].tolist()], np.int64)]
    )
    data.annotator = np.concatenate([data.annotator[keep], extra[:, 1]])
    data.label = np.concatenate([label[keep], extra[:, 2]])
    data.source_list = np.concatenate([source_list[keep], extra[:, 3]])
    # Drop lists nobody uses any more: the statistics count the distinct lists.
    used = np.flatnonzero(np.bincount(data.source_list, minlength=len(lists)))
    recode = np.full(len(lists), -1, dtype=np.int64)
    recode[used] = np.arange(used.size)
    data.source_list = recode[data.source_list]
    data.source_lists = tuple(lists[i] for i in used.tolist())
    return data, added


def _ratings(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> ProjectRatings:
    labels = tuple(meta["labels"])
    lists = [tuple(names) for names in meta["reference_lists"]]
    return ProjectRatings(
        labels=labels,
        annotators=tuple(meta["annotators"]),
        source_lists=tuple(tuple(s) for s in meta["source_lists"]),
        **{name: arrays[name] for name in _COLUMNS},
        gold=_references(arrays, "gold", labels, lists),
        suggestions=_references(arrays, "suggestion", labels, lists),
    )


def _read(
    stem: Path,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]] | None:
    """The cached columns, project scope and sidecar, or None when absent or unreadable."""
    try:
        meta = orjson.loads(stem.with_suffix(".json").read_bytes())
        if meta.get("format") != FORMAT:
            return None
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as stored:
            if stored["token"].item() != meta["token"]:
                return None  # the two files come from different writes
            columns = {name: stored[name] for name in (*_COLUMNS, *_REFERENCES)}
            return columns, {name: stored[name] for name in _SCOPE}, meta
    except (OSError, ValueError, KeyError, orjson.JSONDecodeError):
        return None


def _write(
    stem: Path, data: ProjectRatings, scope: dict[str, np.ndarray], meta: dict[str, Any]
) -> None:
    """Store columns and sidecar atomically; a failure only costs the next load time."""
    token = os.urandom(8).hex()
    references, reference_lists = _reference_arrays(data)
    meta = {**meta, "token": token, "reference_lists": reference_lists}
    temporary: list[str] = []
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        fd, npz = tempfile.mkstemp(dir=stem.parent, prefix=".ratings-", suffix=".npz")
        temporary.append(npz)
        with os.fdopen(fd, "wb") as handle:
            columns = {c: getattr(data, c) for c in _COLUMNS}
            np.savez(handle, token=np.array(token), **columns, **scope, **references)
        fd, side = tempfile.mkstemp(dir=stem.parent, prefix=".ratings-", suffix=".json")
        temporary.append(side)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(meta))
        os.replace(npz, stem.with_suffix(".npz"))
        os.replace(side, stem.with_suffix(".json"))
    except OSError:
        for path in temporary:
            Path(path).unlink(missing_ok=True)
