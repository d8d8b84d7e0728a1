"""Exports: schema validity, exact JSONL/CSV contents, one snapshot, bounded queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from exchange_factories import (
    BACKENDS,
    SMALL_TEXT,
    build_small,
    make_annotation,
    make_article,
    make_project,
    make_source,
    make_user,
    open_session,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from annotator.exchange import export_csv, export_json, export_jsonl, schema, snapshot

TS = "2024-05-01T12:00:00.000000Z"


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    with open_session(request.param, tmp_path) as session:
        yield session


def _json(session: Session, **kwargs: Any) -> dict[str, Any]:
    out = io.BytesIO()
    export_json(session, out, **kwargs)
    return orjson.loads(out.getvalue())


def _jsonl(session: Session) -> list[dict[str, Any]]:
    out = io.BytesIO()
    export_jsonl(session, out)
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_schema_ships_in_the_package_and_is_valid() -> None:
    document_schema = schema()
    jsonschema.Draft202012Validator.check_schema(document_schema)
    assert document_schema["properties"]["format"] == {"const": "annotator-export"}
    assert "Unicode code points" in document_schema["description"]


def test_empty_database_exports_a_valid_document(session: Session) -> None:
    document = _json(session)
    jsonschema.validate(document, schema())
    assert document["projects"] == []
    assert document["counts"] == dict.fromkeys(
        ("projects", "articles", "units", "annotations", "gold"), 0
    )


def test_json_export_validates_and_holds_the_known_values(session: Session) -> None:
    build_small(session)
    document = _json(session)
    jsonschema.validate(document, schema())
    assert document["counts"] == {
        "projects": 1,
        "articles": 1,
        "units": 4,
        "annotations": 4,
        "gold": 1,
    }
    assert document["exported_at"].endswith("Z")
    (project,) = document["projects"]
    assert [label["name"] for label in project["labels"]] == [
        "reported_fact",
        "quote",
        "speculation",
        "unclear",
    ]
    assert project["sources"][1] == {
        "name": "KCNA",
        "kind": "news_agency",
        "aliases": ["Korean Central News Agency"],
        "description": None,
    }
    units = project["articles"][0]["units"]
    assert [u["index"] for u in units] == [None, 0, 1, 2]
    assert units[2]["gold"] == {
        "label": "quote",
        "sources": ["Koh Yu-hwan", "AP"],
        "provenance": "adjudicated",
        "reviewer": "boss",
        "rationale": "quotation marks",
        "error_category": None,
        "decided_at": TS,
    }


def test_jsonl_lines_for_the_small_dataset(session: Session) -> None:
    build_small(session)
    header, project, article = _jsonl(session)
    assert header["record"] == "header"
    assert header["format"] == "annotator-export"
    assert header["counts"]["annotations"] == 4
    assert project["record"] == "project"
    assert project["name"] == "news"
    assert [s["name"] for s in project["sources"]] == ["AP", "KCNA", "Koh Yu-hwan"]
    assert article["record"] == "article"
    assert article["project"] == "news"
    assert article["title"] == "Koh warns"
    assert article["credits"] == ["AP"]
    assert article["text"] == SMALL_TEXT
    assert article["mentions"] == [{"source": "KCNA", "start": 10, "end": 14}]
    first, second = article["units"][1], article["units"][2]
    assert (first["start"], first["end"], first["text"]) == (
        10,
        41,
        "KCNA said the launch succeeded.",
    )
    assert first["annotations"] == [
        {
            "annotator": "ann1",
            "label": "reported_fact",
            "sources": ["KCNA"],
            "note": "",
            "version": 1,
            "seconds_spent": 2.5,
            "created_at": TS,
            "updated_at": TS,
        },
        {
            "annotator": "ann2",
            "label": "reported_fact",
            "sources": ["KCNA", "AP"],
            "note": "via AP?",
            "version": 1,
            "seconds_spent": 0.0,
            "created_at": TS,
            "updated_at": TS,
        },
    ]
    assert second["text"] == '"It may fail," Koh Yu-hwan told AP.'
    assert [(a["annotator"], a["label"], a["version"]) for a in second["annotations"]] == [
        ("ann1", "quote", 2),
        ("ann2", "speculation", 1),
    ]
    # Each article line is an article of the JSON schema.
    article_schema = {"$ref": "#/$defs/article", "$defs": schema()["$defs"]}
    jsonschema.validate(article, article_schema)


def test_csv_rows_for_the_small_dataset(session: Session) -> None:
    build_small(session)
    out = io.StringIO()
    export_csv(session, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][:6] == ["article", "unit", "annotator", "label", "sources", "note"]
    assert rows[0][6:] == [
        "project",
        "article_title",
        "unit_text",
        "version",
        "seconds_spent",
        "created_at",
        "updated_at",
        "gold_label",
        "gold_sources",
    ]
    quote = '"It may fail," Koh Yu-hwan told AP.'
    fact = "KCNA said the launch succeeded."
    common = ["news", "Koh warns"]
    assert rows[1:] == [
        ["1", "0", "ann1", "reported_fact", "KCNA", "", *common, fact, "1", "2.5", TS, TS, "", ""],
        ["1", "0", "ann2", "reported_fact", "KCNA;AP", "via AP?", *common, fact]
        + ["1", "0.0", TS, TS, "", ""],
        ["1", "1", "ann1", "quote", "Koh Yu-hwan;AP", "", *common, quote]
        + ["2", "0.0", TS, TS, "quote", "Koh Yu-hwan;AP"],
        ["1", "1", "ann2", "speculation", "", "", *common, quote]
        + ["1", "0.0", TS, TS, "quote", "Koh Yu-hwan;AP"],
    ]


def test_text_and_binary_outputs_are_the_same(session: Session) -> None:
    build_small(session)
    for exporter in (export_jsonl, export_csv):
        binary, text = io.BytesIO(), io.StringIO()
        exporter(session, binary)
        exporter(session, text)
        strip = b"exported_at"  # differs between two runs
        left = [ln for ln in binary.getvalue().splitlines() if strip not in ln]
        right = [ln for ln in text.getvalue().encode().splitlines() if strip not in ln]
        assert left == right


def test_project_filter(session: Session) -> None:
    build_small(session)
    other = make_project(session, "other")
    make_article(session, other, "Just one sentence.", [("sentence", 0, 18)])
    assert [p["name"] for p in _json(session)["projects"]] == ["news", "other"]
    document = _json(session, project_names=["other"])
    assert [p["name"] for p in document["projects"]] == ["other"]
    assert document["counts"]["articles"] == 1
    jsonschema.validate(document, schema())


def test_export_leaves_no_transaction_open(session: Session) -> None:
    build_small(session)
    session.commit()
    _json(session)
    assert not session.in_transaction()


def _build(session: Session, articles: int, sentences: int, annotators: int) -> None:
    project = make_project(session)
    source = make_source(session, project, "AP", "news_agency")
    users = [make_user(session, f"user{i}") for i in range(annotators)]
    for a in range(articles):
        text = " ".join(f"Sentence {a}-{s}." for s in range(sentences))
        spans, start = [], 0
        for s in range(sentences):
            end = start + len(f"Sentence {a}-{s}.")
            spans.append(("sentence", start, end))
            start = end + 1
        _, units = make_article(session, project, text, spans, title=f"Article {a}")
        for unit in units:
            for user in users:
                make_annotation(session, unit, user, "quote", [source])


def _count_statements(session: Session) -> int:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        _json(session)
        _jsonl(session)
        export_csv(session, io.StringIO())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


@pytest.mark.parametrize("backend", BACKENDS)
def test_query_count_does_not_grow_with_size(backend: str, tmp_path: Path) -> None:
    counts = []
    for n, (articles, sentences, annotators) in enumerate([(1, 2, 1), (4, 6, 3)]):
        (tmp_path / str(n)).mkdir()
        with open_session(backend, tmp_path / str(n)) as session:
            _build(session, articles, sentences, annotators)
            session.commit()
            counts.append(_count_statements(session))
    assert counts[0] == counts[1]


def test_export_by_ranges_of_articles_is_the_same_document(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads the per-row streams a range of articles at a time:
    # ranges of one article (each "too large", so streamed through a
    # server-side cursor) and of two (read whole) join up into the same document.
    _build(session, articles=5, sentences=3, annotators=2)
    session.commit()
    whole = _json(session)
    for units_per_range in (1, 4):
        monkeypatch.setattr(snapshot, "UNITS_PER_RANGE", units_per_range)
        assert _json(session)["projects"] == whole["projects"]
    assert len(whole["projects"][0]["articles"]) == 5


def test_export_is_one_snapshot(session: Session, tmp_path: Path) -> None:
    """A write committed by someone else while the export runs is not half-seen."""
    small = build_small(session)
    session.commit()
    units = small["units"]
    assert isinstance(units, list)
    engine = session.get_bind()
    writer = Session(engine)
    done: list[bool] = []

    def write_meanwhile(*args: Any) -> None:
        # Fires before the annotations stream, after counts and units were read.
        if "annotation_sources" in args[2] and not done:
            done.append(True)
            make_annotation(writer, units[3], make_user(writer, "late"), "unclear")
            writer.commit()

    event.listen(engine, "before_cursor_execute", write_meanwhile)
    try:
        document = _json(session)
    finally:
        event.remove(engine, "before_cursor_execute", write_meanwhile)
        writer.close()
    assert done
    exported = [
        a for unit in document["projects"][0]["articles"][0]["units"] for a in unit["annotations"]
    ]
    assert document["counts"]["annotations"] == len(exported) == 4
    assert _json(session)["counts"]["annotations"] == 5
