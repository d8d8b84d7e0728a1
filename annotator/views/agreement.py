"""The agreement dashboard of a project (reviewers and admins).

The figures come from ``annotator.project_agreement`` (the same numbers as
``annotator agreement --json``); the charts are server-side SVG
(``annotator.charts``). Confusion cells link to the review queue filtered to
exactly those label pairs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from annotator.agreement_cache import cached_summary
from annotator.charts import Bar, bars, heatmap
from annotator.db import get_session
from annotator.forms_sources import ID_MAX
from annotator.models import NAME_MAX, Article
from annotator.overview import annotator_progress
from annotator.project_agreement import project_agreement
from annotator.ratings_cache import load_ratings_cached
from annotator.suggestion_eval import evaluate_references
from annotator.views.loaders import get_project_or_404, require_reviewer
from annotator.web import login_required, require_user

bp = Blueprint("agreement", __name__)
# Above this many articles the filter is a number field, not a drop-down.
MAX_ARTICLE_CHOICES = 300
REVIEW_ENDPOINT = "review.queue"


@bp.get("/projects/<int:project_id>/agreement")
@login_required
def dashboard(project_id: int) -> ResponseReturnValue:
    """Agreement figures, their interpretation and charts, filtered by article and annotator."""
    if project_id > ID_MAX:
        abort(404)
    session = get_session()
    # The project first: a non-member gets 404 (as for a missing one), a member
    # who may not review 403.
    user = require_user()
    project = get_project_or_404(session, project_id, user)
    require_reviewer(user)
    article_id = request.args.get("article", type=int)
    if article_id is not None and not 1 <= article_id <= ID_MAX:
        article_id = None
    annotator = (request.args.get("annotator") or "").strip()[:NAME_MAX] or None
    filters = {"article": article_id, "annotator": annotator}
    cache_dir = Path(current_app.instance_path) / "cache"
    summary, _ = cached_summary(
        session,
        project.id,
        filters,
        lambda: _figures(session, project.id, article_id, annotator, cache_dir),
        cache_dir,
    )
    names = {row["annotator"] for row in summary["annotators"]} | ({annotator} - {None})
    return render_template(
        "agreement/dashboard.html",
        project=project,
        summary=summary,
        labels=summary["labels"],
        sources=summary["sources"],
        filters=filters,
        annotators=sorted(names),
        articles=_article_choices(session, project.id),
        charts=_charts(project.id, summary, filters),
        progress=annotator_progress(session, project.id),
        review_url=_review_url(project.id, **filters),
    )


def _figures(
    session: Any, project_id: int, article_id: int | None, annotator: str | None, cache_dir: Path
) -> dict[str, Any]:
    """The agreement summary, plus (unfiltered) how the suggestions fare against gold."""
    # The whole project's ratings come from the column cache, brought up to date
    # with the history since; one article's are few enough to load directly.
    data = load_ratings_cached(session, project_id, cache_dir) if article_id is None else None
    summary = project_agreement(
        session, project_id, article_id=article_id, annotator=annotator, data=data
    )
    if data is not None and annotator is None:
        # The cached ratings hold every sentence's suggestion and the gold answers.
        quality = evaluate_references(data.gold, data.suggestions, data.labels)
        summary["suggestion_quality"] = quality.figures()
    return summary


def _article_choices(session: Any, project_id: int) -> list[tuple[int, str]] | None:
    """(id, title) of the project's articles for the filter, or None when there are many."""
    count = session.scalar(select(func.count()).where(Article.project_id == project_id))
    if count > MAX_ARTICLE_CHOICES:
        return None
    return list(
        session.execute(
            select(Article.id, Article.title)
            .where(Article.project_id == project_id)
            .order_by(Article.id)
        ).all()
    )


def _review_url(project_id: int, **params: Any) -> str | None:
    """The review queue's URL with these filters, once the review area exists."""
    if REVIEW_ENDPOINT not in current_app.view_functions:
        return None
    query = {k: v for k, v in params.items() if v is not None}
    return url_for(REVIEW_ENDPOINT, project_id=project_id, **query)


def _charts(project_id: int, summary: dict[str, Any], filters: dict[str, Any]) -> dict[str, Any]:
    labels = summary["labels"]
    confusion = labels["confusion"]
    names = confusion["labels"]
    matrix = confusion["matrix"]
    biggest = max((max(row) for row in matrix), default=0) or 1
    charts: dict[str, Any] = {
        "confusion": heatmap(
            "Confusion between annotators: how often one label met another on the same sentence",
            names,
            names,
            [[count / biggest for count in row] for row in matrix],
            text=lambda i, j: str(matrix[i][j]),
            link=lambda i, j: (
                _review_url(project_id, pair=f"{names[i]},{names[j]}", **filters)
                if matrix[i][j]
                else None
            ),
            row_axis="one annotator's label (rows) × another's (columns)",
        )
    }
    charts["per_label"] = bars(
        "Specific agreement per label",
        [
            Bar(row["label"], row["specific_agreement"], row["reason"] or "")
            for row in labels["per_label"]
        ],
        marks=(0.667, 0.8),
    )
    people = sorted(
        {p["a"] for p in labels["cohen_kappa"]} | {p["b"] for p in labels["cohen_kappa"]}
    )
    kappa = {(p["a"], p["b"]): p for p in labels["cohen_kappa"]}
    kappa |= {(b, a): p for (a, b), p in list(kappa.items())}

    def cell(i: int, j: int) -> float | None:
        pair = kappa.get((people[i], people[j]))
        return None if i == j or pair is None else pair["kappa"]

    if len(people) >= 2:
        charts["kappa"] = heatmap(
            "Cohen's kappa between each pair of annotators",
            people,
            people,
            [[cell(i, j) for j in range(len(people))] for i in range(len(people))],
            text=lambda i, j: "—" if cell(i, j) is None else f"{cell(i, j):.2f}",
            diverging=True,
        )
    return charts
