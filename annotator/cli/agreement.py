"""``annotator agreement``: how far annotators agree, as JSON or as tables for people."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from annotator.cli.common import fail, session_scope
from annotator.models import Project


@click.command("agreement")
@click.option("--project", "project_name", help="The project (default: the only one).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole summary as JSON.")
@click.option(
    "--by",
    type=click.Choice(["article", "annotator", "label"]),
    help="A table with one row per article, annotator or label.",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(0, 100_000),
    default=1000,
    show_default=True,
    help="Resamples for alpha's 95 % confidence interval (0: none).",
)
@with_appcontext
def agreement_command(
    project_name: str | None, as_json: bool, by: str | None, bootstrap: int
) -> None:
    """Agreement of a project's annotators: Krippendorff's alpha, kappas, per label, sources."""
    from annotator.project_agreement import agreement_by, project_agreement
    from annotator.ratings_cache import load_ratings_cached

    with session_scope() as session:
        project = _project(session, project_name)
        if by is not None:
            rows = agreement_by(session, project.id, by)  # type: ignore[arg-type]
            if as_json:
                click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
            else:
                click.echo(_table(rows, by))
            return
        cache_dir = Path(current_app.instance_path) / "cache"
        data = load_ratings_cached(session, project.id, cache_dir)
        summary = project_agreement(session, project.id, data=data, bootstrap=bootstrap)
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(_overview(summary))


def _project(session: Any, name: str | None) -> Project:
    if name is not None:
        project = session.scalar(select(Project).where(Project.name == name))
        if project is None:
            fail(f"no such project: {name}")
        return project
    projects = session.scalars(select(Project).order_by(Project.name).limit(2)).all()
    if not projects:
        fail("there are no projects yet; import articles first")
    if len(projects) > 1:
        fail("there are several projects; choose one with --project NAME")
    return projects[0]


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _overview(summary: dict[str, Any]) -> str:
    """The headline figures, each undefined one with its reason."""
    labels = summary["labels"]
    alpha = labels["krippendorff_alpha"]
    lines = [
        f"project {summary['project']['name']}: {summary['n_units']} units, "
        f"{summary['n_ratings']} annotations by {summary['n_annotators']} annotators",
        _statistic("Krippendorff's alpha (labels)", alpha),
    ]
    if alpha.get("ci95"):
        low, high = alpha["ci95"]
        lines[-1] += f"  95 % CI {low:.3f}–{high:.3f}"
    fleiss = labels["fleiss_kappa"]
    lines.append(_statistic("Fleiss' kappa", fleiss))
    lines.append(_statistic("percent agreement", labels["percent_agreement"]))
    unclear = labels.get("unclear") or {}
    if unclear.get("alpha_as_missing"):
        lines.append(_statistic("alpha with 'unclear' as missing", unclear["alpha_as_missing"]))
    sources = summary["sources"]
    lines.append(_statistic("alpha on source sets (MASI)", sources["krippendorff_alpha_masi"]))
    if sources.get("krippendorff_alpha_speaker"):
        lines.append(_statistic("alpha on the speaker", sources["krippendorff_alpha_speaker"]))
    lines.append("")
    lines.append("pairwise Cohen's kappa:")
    for pair in labels["cohen_kappa"]:
        value = _number(pair["kappa"]) if pair["kappa"] is not None else f"— ({pair['reason']})"
        lines.append(f"  {pair['a']} × {pair['b']}: {value} on {pair['n']} shared units")
    lines.append("")
    lines.append("per label (specific agreement):")
    for row in labels["per_label"]:
        value = row["specific_agreement"]
        shown = _number(value) if value is not None else f"— ({row['reason']})"
        lines.append(f"  {row['label']}: {shown} ({row['n_ratings']} annotations)")
    return "\n".join(lines)


def _statistic(name: str, statistic: dict[str, Any]) -> str:
    value = statistic.get("value")
    if value is None:
        return f"{name}: — ({statistic.get('reason')})"
    text = f"{name}: {value:.3f}"
    if statistic.get("interpretation"):
        text += f" — {statistic['interpretation']}"
    return text


def _table(rows: list[dict[str, Any]], by: str) -> str:
    """A plain-text table, one row per group, widest first column."""
    header = [by, "units", "annotations", "annotators", "alpha", "agreement", "sources α"]
    body = []
    for row in rows:
        key = row.get("title") or row[by]
        name = f"{row[by]} {key}" if by == "article" and row.get("title") else str(key)
        body.append(
            [
                name[:60],
                str(row["n_units"]),
                str(row["n_ratings"]),
                str(row["n_annotators"]),
                _number(row["krippendorff_alpha"]),
                _number(row["percent_agreement"]),
                _number(row["sources_alpha_masi"]),
            ]
        )
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = []
    for cells in [header, *body]:
        first = cells[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        lines.append(f"{first}  {rest}")
    return "\n".join(lines)


@click.command("suggestions-eval")
@click.option("--project", "project_name", help="The project (default: the only one).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--errors", is_flag=True, help="Also list every sentence the suggestion got wrong.")
@with_appcontext
def suggestions_eval_command(project_name: str | None, as_json: bool, errors: bool) -> None:
    """How good the suggestions are against the project's gold answers."""
    from annotator.suggestion_eval import evaluate_project

    with session_scope() as session:
        project = _project(session, project_name)
        evaluation = evaluate_project(session, project.id)
    figures = evaluation.figures()
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    if not figures["n_units"]:
        fail(f"project {project.name} has no gold answers yet; adjudicate some sentences first")
    sources = figures["sources"]
    click.echo(f"{figures['n_units']} sentences with gold in project {project.name}")
    click.echo(f"label accuracy           {_number(figures['label_accuracy'])}")
    click.echo(
        f"sources: precision {_number(sources['precision'])}, recall "
        f"{_number(sources['recall'])}, F1 {_number(sources['f1'])}, "
        f"exact ordered list {_number(sources['exact_list'])}"
    )
    click.echo(f"accepted with no change  {_number(figures['accepted_unchanged'])}")
    for row in figures["per_label"]:
        click.echo(
            f"  {row['label']}: precision {_number(row['precision'])}, "
            f"recall {_number(row['recall'])} ({row['gold']} in gold)"
        )
    if errors:
        for case in evaluation.label_errors:
            click.echo(
                f"label: gold {case.gold_label}, suggested {case.suggested_label}: {case.text}"
            )
        for case in evaluation.source_errors:
            click.echo(
                f"sources: gold {list(case.gold_sources)}, suggested "
                f"{list(case.suggested_sources)}: {case.text}"
            )
