"""History pages: every change to the annotations and gold decisions of a sentence or project.

Reviewers and admins only. A unit or project the user cannot see answers 404 like
a missing one; an annotator who can see it gets 403 (annotation is blind: nobody's
history but the reviewers'). Filters travel in the query string; pages follow an
opaque cursor (``annotator.audit``), so the hundredth page costs what the first does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from annotator.audit import (
    ACTIONS,
    HistoryPage,
    InvalidFilter,
    parse_filter,
    project_history,
    sources_text,
    unit_history,
    visible_unit,
)
from annotator.db import get_session
from annotator.models import Article, ProjectMember, User
from annotator.views.loaders import get_project_or_404, require_reviewer
from annotator.web import login_required, require_user

bp = Blueprint("audit", __name__)
# Up to this many articles the filter is a list of titles; beyond, an id field.
ARTICLE_CHOICES_MAX = 300
FILTER_KEYS = ("article", "annotator", "kind", "action", "since", "until")
ACTION_TEXT = {
    "create": "created (annotation)",
    "update": "updated (annotation)",
    "delete": "deleted (annotation)",
    "import": "imported",
    "demo": "demo data",
    "segmentation": "segmentation edit",
    "superseded": "superseded by a merge",
    "merge_sources": "sources merged",
    "decide": "gold decided",
    "accept_unanimous": "unanimous gold accepted",
    "clear": "gold cleared",
}
FIELD_TEXT = {
    "label": "Label",
    "sources": "Sources",
    "note": "Note",
    "provenance": "Provenance",
    "rationale": "Rationale",
    "error_category": "Why",
    "reviewer": "Reviewer",
}


def _helpers() -> dict[str, Any]:
    return {"sources_text": sources_text, "field_text": FIELD_TEXT}


@bp.get("/units/<int:unit_id>/history")
@login_required
def unit(unit_id: int) -> ResponseReturnValue:
    """Everything that happened to one sentence's annotations and gold, oldest first."""
    session, user = get_session(), require_user()
    header = visible_unit(session, unit_id, user)
    if header is None:
        abort(404)
    require_reviewer(user)
    cursor = request.args.get("cursor") or None
    try:
        page = unit_history(session, unit_id, cursor=cursor)
    except InvalidFilter as error:
        return _error_page(error), 422
    return render_template(
        "audit/unit.html",
        unit=header,
        page=page,
        label_index={name: i for i, name in enumerate(header.labels)},
        next_url=_next_url("audit.unit", {"unit_id": unit_id}, page),
        first_page=cursor is None,
        **_helpers(),
    )


@bp.get("/projects/<int:project_id>/history")
@login_required
def project(project_id: int) -> ResponseReturnValue:
    """The project's history, newest first, with filters and pages."""
    session, user = get_session(), require_user()
    found = get_project_or_404(session, project_id, user)
    require_reviewer(user)
    args = {key: request.args.get(key, "") for key in FILTER_KEYS}
    errors: dict[str, str] = {}
    page: HistoryPage | None = None
    cursor = request.args.get("cursor") or None
    try:
        f, limit = parse_filter(session, found.id, request.args)
        page = project_history(session, found.id, f, cursor=cursor, limit=limit)
    except InvalidFilter as error:
        errors[error.field] = error.message[:1].upper() + error.message[1:] + "."
    kept = {key: value for key, value in args.items() if value}
    html = render_template(
        "audit/project.html",
        project=found,
        page=page,
        args=args,
        errors=errors,
        label_index={label.name: i for i, label in enumerate(found.labels)},
        article_choices=_article_choices(found.id),
        annotator_names=_member_names(found.id),
        actions=[(action, ACTION_TEXT.get(action, action)) for action in ACTIONS],
        next_url=_next_url("audit.project", {"project_id": found.id, **kept}, page),
        first_url=url_for("audit.project", project_id=found.id, **kept),
        first_page=cursor is None,
        **_helpers(),
    )
    return html, 422 if errors else 200


def _next_url(endpoint: str, values: dict[str, Any], page: HistoryPage | None) -> str | None:
    if page is None or page.next_cursor is None:
        return None
    return url_for(endpoint, **values, cursor=page.next_cursor)


def _error_page(error: InvalidFilter) -> str:
    return render_template("error.html", status=422, message=f"{error.field}: {error.message}")


def _article_choices(project_id: int) -> list[tuple[int, str]] | None:
    """Id and title of each article, or None when there are too many for a list."""
    session = get_session()
    rows = session.execute(
        select(Article.id, Article.title)
        .where(Article.project_id == project_id)
        .order_by(Article.id)
        .limit(ARTICLE_CHOICES_MAX + 1)
    ).all()
    if len(rows) > ARTICLE_CHOICES_MAX:
        return None
    return [(article_id, title) for article_id, title in rows]


def _member_names(project_id: int) -> list[str]:
    """The project's members, offered as annotator names (any user name is accepted)."""
    return list(
        get_session().scalars(
            select(User.username)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == project_id)
            .order_by(func.lower(User.username))
        )
    )
