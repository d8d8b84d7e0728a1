"""``--agreement`` and ``--gold-only`` exports: valid documents, figures equal to the
agreement module's, only decided sentences in the clean dataset, and clear refusals."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from exchange_factories import BACKENDS, build_small, make_article, make_project, open_session
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from annotator.exchange import export_json, export_jsonl, schema
from annotator.exchange.import_json import import_export
from annotator.project_agreement import project_agreement


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    with open_session(request.param, tmp_path) as session:
        yield session


def _json(session: Session, **kwargs: Any) -> dict[str, Any]:
    out = io.BytesIO()
    export_json(session, out, **kwargs)
    return orjson.loads(out.getvalue())


def test_agreement_export_carries_the_summary_and_per_sentence_agreement(
    session: Session,
) -> None:
    small = build_small(session)
    session.commit()
    document = _json(session, agreement=True)
    jsonschema.validate(document, schema())
    [project] = document["projects"]
    expected = project_agreement(session, small["project"].id)
    assert project["agreement"]["labels"] == expected["labels"]
    assert project["agreement"]["n_units"] == expected["n_units"] == 2
    units = project["articles"][0]["units"]
    assert "agreement" not in units[0]  # the title is context, not annotated
    assert units[1]["agreement"] == {"n": 2, "majority": "reported_fact", "pairwise_agreement": 1.0}
    assert units[2]["agreement"] == {"n": 2, "majority": None, "pairwise_agreement": 0.0}
    assert units[3]["agreement"] == {"n": 0, "majority": None, "pairwise_agreement": None}
    # JSON lines carry the same project line.
    out = io.BytesIO()
    export_jsonl(session, out, agreement=True)
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert lines[1]["record"] == "project" and lines[1]["agreement"] == project["agreement"]


def test_gold_only_is_the_clean_dataset(session: Session) -> None:
    small = build_small(session)
    undecided = make_project(session, "undecided")
    make_article(session, undecided, "Nothing decided here.", [("sentence", 0, 21)])
    session.commit()
    document = _json(session, gold_only=True)
    jsonschema.validate(document, schema())
    by_name = {p["name"]: p for p in document["projects"]}
    assert by_name["undecided"]["articles"] == []
    [article] = by_name[small["project"].name]["articles"]
    [unit] = article["units"]
    assert set(unit) == {"id", "index", "kind", "start", "end", "text", "gold"}
    assert unit["gold"]["label"] == "quote"
    assert unit["gold"]["sources"] == ["Koh Yu-hwan", "AP"]
    assert unit["gold"]["provenance"] == "adjudicated"
    assert article["text"][unit["start"] : unit["end"]] == unit["text"]


def test_an_agreement_export_imports_back_unchanged(session: Session, tmp_path: Path) -> None:
    build_small(session)
    session.commit()
    document = _json(session, agreement=True)
    summary = import_export(session, document)
    assert not summary.changed, summary


def test_cli_flags_and_refusal(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    target = tmp_path / "gold.json"
    result = runner.invoke(args=["export", "--gold-only", "--agreement", "-o", str(target)])
    assert result.exit_code == 0, result.output
    jsonschema.validate(orjson.loads(target.read_bytes()), schema())
    refused = runner.invoke(args=["export", "--format", "csv", "--gold-only"])
    assert refused.exit_code == 1
    assert "work with --format json or jsonl" in refused.output
