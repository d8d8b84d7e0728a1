"""``annotator export --history``: every annotation's events and every sentence's gold history,
valid against the shipped schema; ``import-annotations`` of such a file ignores the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from annotator.exchange.apply import delete_annotation, upsert_annotation
from annotator.exchange.document import check_document
from annotator.exchange.export import schema
from annotator.exchange.gold import clear_gold, upsert_gold
from annotator.models import Annotation, AnnotationEvent, GoldEvent
from tests import review_world
from tests.helpers import app_session


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """review_world; on sentence 3 ann1 changes their answer, ann2 deletes theirs, and
    rev decides, changes and clears the gold, then decides again."""
    with app_session(app) as session:
        built = review_world.build(session)
        users, labels, sources = built["users"], built["labels"], built["sources"]
        unit = built["units"][3]
        upsert_annotation(
            session,
            unit,
            users["ann1"],
            labels["quote"],
            [sources["AFP"], sources["AP"]],
            "now a quote",
            users["ann1"],
            "update",
        )
        delete_annotation(session, unit, users["ann2"], users["ann2"], 1)
        for label, rationale in (("quote", "first"), ("unclear", "second")):
            upsert_gold(
                session,
                unit,
                labels[label],
                [sources["AFP"]],
                "adjudicated",
                users["rev"],
                rationale,
            )
        clear_gold(session, unit, users["boss"], "again")
        upsert_gold(session, unit, labels["speculation"], [], "adjudicated", users["rev"], "last")
        session.commit()
    return built


def _export(runner: FlaskCliRunner, tmp_path: Path, *options: str) -> dict[str, Any]:
    target = tmp_path / "export.json"
    result = runner.invoke(args=["export", "-o", str(target), *options])
    assert result.exit_code == 0, result.output
    return json.loads(target.read_text("utf-8"))


def _unit(document: dict[str, Any], index: int, title: str = "Talks resume") -> dict[str, Any]:
    for project in document["projects"]:
        for article in project["articles"]:
            if article["title"] == title:
                return next(u for u in article["units"] if u["index"] == index)
    raise AssertionError("unit not found")


def test_export_with_history_holds_every_event(
    runner: FlaskCliRunner, world: dict[str, Any], tmp_path: Path
) -> None:
    document = _export(runner, tmp_path, "--history")
    assert list(Draft202012Validator(schema()).iter_errors(document)) == []
    assert check_document(document) == []
    unit = _unit(document, 3)
    [ann1] = unit["annotations"]
    assert [
        (e["action"], e["version"], e["label"], e["sources"], e["actor"]) for e in ann1["history"]
    ] == [
        ("create", 1, "speculation", ["AFP"], "ann1"),
        ("update", 2, "quote", ["AFP", "AP"], "ann1"),
    ]
    assert ann1["history"][1]["note"] == "now a quote"
    assert [r["annotator"] for r in unit["removed_annotations"]] == ["ann2"]
    assert [(e["action"], e["label"]) for e in unit["removed_annotations"][0]["history"]] == [
        ("create", "unclear"),
        ("delete", None),
    ]
    assert [
        (e["action"], e["label"], e["provenance"], e["rationale"], e["actor"])
        for e in unit["gold_history"]
    ] == [
        ("decide", "quote", "adjudicated", "first", "rev"),
        ("decide", "unclear", "adjudicated", "second", "rev"),
        ("clear", None, None, "again", "boss"),
        ("decide", "speculation", "adjudicated", "last", "rev"),
    ]
    assert all(e["at"].endswith("Z") for e in unit["gold_history"])
    # Every event of the project is somewhere in the file, exactly once.
    wire = next(p for p in document["projects"] if p["name"] == "wire")
    count = 0
    for article in wire["articles"]:
        for u in article["units"]:
            count += len(u.get("gold_history", []))
            count += sum(len(a["history"]) for a in u.get("annotations", []))
            count += sum(len(r["history"]) for r in u.get("removed_annotations", []))
    app: Flask = runner.app
    with app_session(app) as session:
        stored = session.scalar(
            select(func.count())
            .select_from(AnnotationEvent)
            .where(AnnotationEvent.unit_id != world["foreign_unit"])
        )
        stored += session.scalar(select(func.count()).select_from(GoldEvent))
    assert count == stored


def test_export_without_history_is_unchanged(
    runner: FlaskCliRunner, world: dict[str, Any], tmp_path: Path
) -> None:
    unit = _unit(_export(runner, tmp_path), 3)
    assert "gold_history" not in unit and "removed_annotations" not in unit
    assert all("history" not in a for a in unit["annotations"])


def test_jsonl_and_gold_only_carry_the_history(
    runner: FlaskCliRunner, world: dict[str, Any], tmp_path: Path
) -> None:
    target = tmp_path / "export.jsonl"
    result = runner.invoke(args=["export", "--format", "jsonl", "--history", "-o", str(target)])
    assert result.exit_code == 0, result.output
    articles = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    talks = next(a for a in articles if a.get("title") == "Talks resume")
    unit = next(u for u in talks["units"] if u["index"] == 3)
    assert len(unit["gold_history"]) == 4 and unit["annotations"][0]["history"]
    gold_only = _export(runner, tmp_path, "--gold-only", "--history")
    assert len(_unit(gold_only, 3)["gold_history"]) == 4
    assert list(Draft202012Validator(schema()).iter_errors(gold_only)) == []


def test_csv_refuses_history(runner: FlaskCliRunner, world: dict[str, Any]) -> None:
    result = runner.invoke(args=["export", "--format", "csv", "--history"])
    assert result.exit_code != 0
    assert "--history" in result.output and "Traceback" not in result.output


def test_import_of_an_export_with_history_ignores_the_history(
    runner: FlaskCliRunner, world: dict[str, Any], tmp_path: Path
) -> None:
    """Into a renamed project: the answers come back, their history is the import only;
    a second import changes nothing."""
    document = _export(runner, tmp_path, "--history", "--project", "wire")
    document["projects"][0]["name"] = "wire copy"
    source = tmp_path / "copy.json"
    source.write_text(json.dumps(document), "utf-8")
    app: Flask = runner.app

    def counts() -> tuple[int, int, int]:
        with app_session(app) as session:
            return (
                session.scalar(select(func.count()).select_from(Annotation)) or 0,
                session.scalar(select(func.count()).select_from(AnnotationEvent)) or 0,
                session.scalar(select(func.count()).select_from(GoldEvent)) or 0,
            )

    before = counts()
    with app_session(app) as session:
        last_event = session.scalar(select(func.max(AnnotationEvent.id)))
    result = runner.invoke(args=["import-annotations", str(source)])
    assert result.exit_code == 0, result.output
    after = counts()
    exported_annotations = sum(
        len(u.get("annotations", []))
        for a in document["projects"][0]["articles"]
        for u in a["units"]
    )
    decided = sum(
        1 for a in document["projects"][0]["articles"] for u in a["units"] if u.get("gold")
    )
    # One import event per restored annotation and gold decision, not the old history.
    assert after[0] - before[0] == exported_annotations
    assert after[1] - before[1] == exported_annotations
    assert after[2] - before[2] == decided
    with app_session(app) as session:
        actions = set(
            session.scalars(select(AnnotationEvent.action).where(AnnotationEvent.id > last_event))
        )
    assert actions == {"import"}
    again = runner.invoke(args=["import-annotations", str(source)])
    assert again.exit_code == 0, again.output
    assert counts() == after
