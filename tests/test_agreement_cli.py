"""``annotator agreement``: the JSON contract of DESIGN.md, the tables, and refusals."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskCliRunner

from annotator.demo import load_demo
from annotator.project_agreement import project_agreement
from annotator.projects import get_project_by_name
from tests.helpers import add_project, app_session


def _demo(app: Flask) -> str:
    with app_session(app) as session:
        load_demo(session)
        session.commit()
        name = "Demo: wire stories"
        assert get_project_by_name(session, name) is not None
        return name


def test_json_holds_the_contracted_keys_and_the_module_figures(
    app: Flask, runner: FlaskCliRunner
) -> None:
    name = _demo(app)
    result = runner.invoke(args=["agreement", "--json", "--bootstrap", "100"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    for key in ("n_units", "n_annotators"):
        assert isinstance(summary[key], int)
    labels = summary["labels"]
    for key in (
        "krippendorff_alpha",
        "fleiss_kappa",
        "percent_agreement",
        "per_label",
        "confusion",
    ):
        assert key in labels
    assert {"a", "b", "kappa", "n"} <= set(labels["cohen_kappa"][0])
    assert "krippendorff_alpha_masi" in summary["sources"]
    # Undefined figures are null with a reason, never NaN.
    fleiss = labels["fleiss_kappa"]
    assert (fleiss["value"] is None) == bool(fleiss["reason"])
    with app_session(app) as session:
        project = get_project_by_name(session, name)
        expected = project_agreement(session, project.id, bootstrap=100)
    assert (
        labels["krippendorff_alpha"]["value"] == expected["labels"]["krippendorff_alpha"]["value"]
    )


def test_overview_and_tables_for_people(app: Flask, runner: FlaskCliRunner) -> None:
    _demo(app)
    overview = runner.invoke(args=["agreement", "--bootstrap", "0"])
    assert overview.exit_code == 0, overview.output
    assert "Krippendorff's alpha (labels):" in overview.output
    assert "Fleiss' kappa: — (" in overview.output  # unequal annotators per unit: undefined
    for by, first_column in (
        ("annotator", "annotator"),
        ("label", "label"),
        ("article", "article"),
    ):
        table = runner.invoke(args=["agreement", "--by", by])
        assert table.exit_code == 0, table.output
        lines = table.output.splitlines()
        assert lines[0].split()[0] == first_column
        assert len(lines) >= 3
    rows = json.loads(runner.invoke(args=["agreement", "--by", "label", "--json"]).output)
    assert {row["label"] for row in rows} == {"reported_fact", "quote", "speculation", "unclear"}


def test_refusals_are_one_line_and_non_zero(app: Flask, runner: FlaskCliRunner) -> None:
    empty = runner.invoke(args=["agreement"])
    assert empty.exit_code == 1 and "no projects yet" in empty.output
    with app_session(app) as session:
        add_project(session, "one")
        add_project(session, "two")
        session.commit()
    several = runner.invoke(args=["agreement"])
    assert several.exit_code == 1 and "--project NAME" in several.output
    missing = runner.invoke(args=["agreement", "--project", "three"])
    assert missing.exit_code == 1 and "no such project: three" in missing.output
    bad = runner.invoke(args=["agreement", "--project", "one", "--by", "weekday"])
    assert bad.exit_code == 2 and "weekday" in bad.output
    fine = runner.invoke(args=["agreement", "--project", "one", "--json"])
    assert fine.exit_code == 0
    assert json.loads(fine.output)["labels"]["krippendorff_alpha"]["value"] is None
