"""Restore our JSON export into a database, idempotently and all-or-nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotator.exchange.apply import load_current_annotations, upsert_annotation
from annotator.exchange.document import check_document, read_document
from annotator.exchange.gold import load_current_gold, upsert_gold
from annotator.exchange.summary import ImportProblems, ImportSummary
from annotator.exchange.times import parse_iso
from annotator.exchange.users import ensure_users
from annotator.models import Article, Label, Mention, Project, Unit
from annotator.names import clean_name, normalise_name
from annotator.projects import label_ids
from annotator.registry import SourceIndex


def import_export(session: Session, data_or_file: Any) -> ImportSummary:
    """Restore projects, sources, articles, users, annotations and gold from a JSON export.

    ``data_or_file``: the parsed document, its bytes or text, a path or a file
    object. Refuses with ``ImportProblems`` before writing anything when the
    document is invalid. Runs in a savepoint, so a failure leaves the session's
    transaction as it was; the caller commits.
    """
    document = read_document(data_or_file)
    problems = check_document(document)
    if problems:
        raise ImportProblems(problems)
    summary = ImportSummary()
    try:
        with session.begin_nested():
            users = _users(session, document, summary)
            for project in document["projects"]:
                _import_project(session, project, users, summary)
    except IntegrityError as error:
        raise ImportProblems([f"the database refused the import: {error.orig}"]) from error
    return summary


def _users(session: Session, document: dict[str, Any], summary: ImportSummary) -> dict[str, int]:
    reviewers: list[str] = []
    annotators: list[str] = []
    for project in document["projects"]:
        for article in project["articles"]:
            for unit in article["units"]:
                annotators.extend(a["annotator"] for a in unit.get("annotations", []))
                gold = unit.get("gold")
                if gold and gold.get("reviewer"):
                    reviewers.append(gold["reviewer"])
    ids, created = ensure_users(session, {"reviewer": reviewers, "annotator": annotators})
    summary.users_created += created
    return ids


def _import_project(
    session: Session, data: dict[str, Any], users: dict[str, int], summary: ImportSummary
) -> None:
    project = _project(session, data, summary)
    labels = label_ids(session, project.id)
    registry = SourceIndex(session, project.id)
    before = len(registry.names)
    for source in data["sources"]:
        registry.ensure(
            source["name"], source["kind"], source.get("aliases", []), source.get("description")
        )
    summary.sources_created += len(registry.names) - before
    hashes = dict(
        session.execute(
            select(Article.content_hash, Article.id).where(Article.project_id == project.id)
        ).all()
    )
    for article in data["articles"]:
        article_id = hashes.get(article.get("content_hash") or _hash(article["text"]))
        if article_id is None:
            units = _create_article(session, project.id, article, registry, summary)
        else:
            units = _match_units(session, article_id, article)
            summary.articles_matched += 1
        _import_answers(session, article, units, labels, registry, users, summary)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _project(session: Session, data: dict[str, Any], summary: ImportSummary) -> Project:
    name = clean_name(data["name"])
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        project = Project(
            name=name,
            description=data.get("description", ""),
            suggestion_mode=data.get("suggestion_mode", "hint"),
        )
        session.add(project)
        session.flush()
        summary.projects_created += 1
    else:
        wanted = {
            "description": data.get("description", project.description),
            "suggestion_mode": data.get("suggestion_mode", project.suggestion_mode),
        }
        if any(getattr(project, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(project, k, v)
            summary.projects_updated += 1
    existing = {label.name: label for label in project.labels}
    keys = {label.key: label.name for label in project.labels}
    position = max((label.position for label in project.labels), default=-1) + 1
    for label in data["labels"]:
        if label["name"] in existing:
            continue
        if label["key"] in keys:
            raise ImportProblems(
                [
                    f"project {name!r}: label {label['name']!r} has key {label['key']!r}, "
                    f"which the project already uses for {keys[label['key']]!r}"
                ]
            )
        session.add(
            Label(
                project_id=project.id,
                name=label["name"],
                key=label["key"],
                description=label.get("description", ""),
                position=position,
            )
        )
        keys[label["key"]] = label["name"]
        position += 1
        summary.labels_created += 1
    session.flush()
    return project


def _create_article(
    session: Session,
    project_id: int,
    data: dict[str, Any],
    registry: SourceIndex,
    summary: ImportSummary,
) -> dict[tuple[int, int], int]:
    article_id = session.execute(
        insert(Article)
        .values(
            project_id=project_id,
            title=data["title"],
            byline=data.get("byline"),
            dateline=data.get("dateline"),
            published=data.get("published"),
            url=data.get("url"),
            credits=data.get("credits", []),
            text=data["text"],
            content_hash=data.get("content_hash") or _hash(data["text"]),
            origin="import-annotations",
        )
        .returning(Article.id)
    ).scalar_one()
    summary.articles_created += 1
    rows = []
    for position, unit in enumerate(data["units"]):
        suggestion = unit.get("suggestion") or {}
        rows.append(
            {
                "article_id": article_id,
                "position": position,
                "index": unit["index"],
                "kind": unit["kind"],
                "start": unit["start"],
                "end": unit["end"],
                "suggested_label": suggestion.get("label"),
                "suggested_sources": [registry.resolve(s) for s in suggestion.get("sources", [])],
                "suggestion_cues": suggestion.get("cues", []),
            }
        )
    if rows:
        session.execute(insert(Unit), rows)
        summary.units_created += len(rows)
    mentions = [
        {
            "article_id": article_id,
            "source_id": registry.resolve(m["source"]),
            "start": m["start"],
            "end": m["end"],
        }
        for m in data.get("mentions", [])
    ]
    if mentions:
        session.execute(insert(Mention), mentions)
        summary.mentions_created += len(mentions)
    return _match_units(session, article_id, data)


def _match_units(
    session: Session, article_id: int, data: dict[str, Any]
) -> dict[tuple[int, int], int]:
    """The article's unit ids keyed by (start, end); refuse if an answered unit is missing."""
    units = {
        (start, end): unit_id
        for unit_id, start, end in session.execute(
            select(Unit.id, Unit.start, Unit.end).where(Unit.article_id == article_id)
        )
    }
    missing = [
        f"article {data['title']!r}: unit {u['start']}–{u['end']} does not exist in the "
        "database's segmentation of this article"
        for u in data["units"]
        if (u.get("annotations") or u.get("gold")) and (u["start"], u["end"]) not in units
    ]
    if missing:
        raise ImportProblems(missing)
    return units


def _import_answers(
    session: Session,
    article: dict[str, Any],
    units: dict[tuple[int, int], int],
    labels: dict[str, int],
    registry: SourceIndex,
    users: dict[str, int],
    summary: ImportSummary,
) -> None:
    unit_ids = [
        units[u["start"], u["end"]] for u in article["units"] if (u["start"], u["end"]) in units
    ]
    current = load_current_annotations(session, unit_ids)
    current_gold = load_current_gold(session, unit_ids)
    for unit in article["units"]:
        unit_id = units.get((unit["start"], unit["end"]))
        if unit_id is None:
            continue
        for a in unit.get("annotations", []):
            annotator_id = users[normalise_name(a["annotator"])]
            sources = [registry.resolve(s) for s in a["sources"]]
            result = upsert_annotation(
                session,
                unit_id,
                annotator_id,
                labels[a["label"]],
                sources,  # type: ignore[arg-type]
                a.get("note", ""),
                None,
                "import",
                current=current.get((unit_id, annotator_id)),
                seconds_spent=a.get("seconds_spent"),
                version=a.get("version"),
                created_at=parse_iso(a["created_at"]) if "created_at" in a else None,
                updated_at=parse_iso(a["updated_at"]) if "updated_at" in a else None,
                label_name=a["label"],
                source_names=[registry.names[s] for s in sources],  # type: ignore[index]
            )
            _count(summary, "annotations", result.outcome)
        gold = unit.get("gold")
        if gold:
            reviewer = gold.get("reviewer")
            gold_sources = [registry.resolve(s) for s in gold["sources"]]
            result = upsert_gold(
                session,
                unit_id,
                labels[gold["label"]] if gold["label"] is not None else None,
                gold_sources,  # type: ignore[arg-type]
                gold["provenance"],
                users[normalise_name(reviewer)] if reviewer else None,
                gold.get("rationale", ""),
                gold.get("error_category"),
                decided_at=parse_iso(gold["decided_at"]) if "decided_at" in gold else None,
                current=current_gold.get(unit_id),
                actor_id=None,
                action="import",
                label_name=gold["label"],
                source_names=[registry.names[s] for s in gold_sources],  # type: ignore[index]
            )
            _count(summary, "gold", result.outcome)


def _count(summary: ImportSummary, what: str, outcome: str) -> None:
    name = f"{what}_{outcome}"
    setattr(summary, name, getattr(summary, name) + 1)
