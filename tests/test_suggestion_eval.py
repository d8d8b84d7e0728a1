"""Suggestions against gold: the figures on hand-counted cases, the dev set targets,
and ``annotator suggestions-eval`` on a project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import Source, Unit
from annotator.projects import label_ids
from annotator.ratings_cache import load_ratings_cached
from annotator.suggestion_eval import Case, evaluate, evaluate_project, evaluate_references
from tests.helpers import add_article, add_project, add_user, app_session

LABELS = ["reported_fact", "quote", "speculation", "unclear"]
DEVSET = Path(__file__).resolve().parent / "data" / "devset"


def test_figures_on_hand_counted_cases() -> None:
    cases = [
        Case(1, "quote", ("Koh", "AP"), "quote", ("Koh", "AP")),  # right, accepted as is
        Case(2, "quote", ("AP",), "quote", ("Koh", "AP")),  # right label, one source missed
        Case(3, "reported_fact", (), "speculation", ()),  # wrong label
        Case(4, None, ("KCNA",), "reported_fact", ()),  # no label, a wrong source
    ]
    figures = evaluate(cases, LABELS).figures()
    assert figures["label_accuracy"] == 0.5
    assert figures["accepted_unchanged"] == 0.25
    sources = figures["sources"]
    # Suggested 2 + 1 + 0 + 1 = 4 names, 3 right; gold 2 + 2 = 4 names, 3 found.
    assert sources["precision"] == sources["recall"] == sources["f1"] == 0.75
    quote = next(row for row in figures["per_label"] if row["label"] == "quote")
    assert quote == {"label": "quote", "gold": 2, "suggested": 2, "precision": 1.0, "recall": 1.0}
    fact = next(row for row in figures["per_label"] if row["label"] == "reported_fact")
    assert fact["precision"] == 0.0 and fact["recall"] == 0.0


def test_development_set_meets_the_targets() -> None:
    from bench.devset import load_devset

    articles = load_devset(DEVSET)
    cases = [case for article in articles for case in article.cases]
    assert len(cases) >= 150
    figures = evaluate(cases, LABELS).figures()
    assert figures["label_accuracy"] >= 0.85
    assert figures["sources"]["f1"] >= 0.85
    assert figures["sources"]["recall"] >= 0.95
    assert not [name for article in articles for name in article.about_proposed]


def test_cli_on_a_project_with_gold(app: Flask, runner: FlaskCliRunner) -> None:
    with app_session(app) as session:
        project = add_project(session, "eval")
        article = add_article(
            session,
            project,
            "Talks\n\nThe minister said the talks would resume. Prices rose by 4 percent.",
        )
        labels = label_ids(session, project.id)
        units = session.scalars(
            select(Unit).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).all()
        upsert_gold(session, units[0].id, labels["reported_fact"], [], "adjudicated", None, "")
        upsert_gold(session, units[1].id, labels["speculation"], [], "adjudicated", None, "")
        expected_right = sum(
            u.suggested_label == g
            for u, g in zip(units, ["reported_fact", "speculation"], strict=True)
        )
        session.commit()
    result = runner.invoke(args=["suggestions-eval", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["n_units"] == 2
    assert figures["label_accuracy"] == pytest.approx(expected_right / 2)
    text = runner.invoke(args=["suggestions-eval", "--errors"])
    assert text.exit_code == 0 and "label accuracy" in text.output


def test_cli_without_gold_says_so(app: Flask, runner: FlaskCliRunner) -> None:
    with app_session(app) as session:
        add_project(session, "fresh")
        session.commit()
    result = runner.invoke(args=["suggestions-eval"])
    assert result.exit_code == 1 and "no gold answers yet" in result.output


def test_figures_from_loaded_references_equal_the_database_path(
    session: Session, tmp_path: Path
) -> None:
    """The dashboard's path (gold and suggestions from the ratings cache) agrees with
    ``evaluate_project``, including gold on a sentence nobody annotated."""
    project = add_project(session, "refs")
    article = add_article(
        session,
        project,
        "Talks\n\nThe minister said the talks would resume, the agency KCNA reported. "
        "Prices rose by 4 percent. Analysts believe the deal could collapse. "
        '"We will not accept it," Koh Yu-hwan said.',
    )
    labels = label_ids(session, project.id)
    units = session.scalars(
        select(Unit).where(Unit.article_id == article.id, Unit.kind == "sentence")
    ).all()
    kcna = session.scalar(select(Source.id).where(Source.name == "KCNA"))
    golds = ["reported_fact", "speculation", "speculation", "quote"]
    for unit, label in zip(units, golds, strict=True):
        sources = [kcna] if label == "reported_fact" and kcna else []
        upsert_gold(session, unit.id, labels[label], sources, "adjudicated", None, "")
    annotator = add_user(session, "ann1", project=project)
    upsert_annotation(
        session, units[0].id, annotator.id, labels["quote"], [], "", annotator.id, "create"
    )
    session.commit()
    data = load_ratings_cached(session, project.id, tmp_path)
    fast = evaluate_references(data.gold, data.suggestions, data.labels).figures()
    assert fast == evaluate_project(session, project.id).figures()
    assert fast["n_units"] == 4
