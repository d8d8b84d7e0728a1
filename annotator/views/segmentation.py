"""The segmentation page: a reviewer splits a sentence or merges it with the next one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from annotator.db import get_session
from annotator.forms_sources import ID_MAX, MergeNextForm, SplitForm
from annotator.models import Annotation, Article, Unit
from annotator.segmentation import (
    EditResult,
    SegmentationConflict,
    SegmentationError,
    article_units,
    merge_with_next,
    split_unit,
)
from annotator.views.loaders import get_article_or_404, require_reviewer
from annotator.web import login_required, require_user

bp = Blueprint("segmentation", __name__)
# Units per page: long articles (thousands of sentences) stay quick to render.
PER_PAGE = 200


def _article(article_id: int) -> Article:
    """The article (404 unless the user may open it) if the user reviews (403 otherwise)."""
    if article_id > ID_MAX:
        abort(404)
    user = require_user()
    article = get_article_or_404(get_session(), article_id, user)
    require_reviewer(user)
    return article


def _page(
    article: Article, page: int, status: int = 200, errors: dict[int, Any] | None = None
) -> ResponseReturnValue:
    session = get_session()
    units = article_units(session, article.id, article.text)
    pages = max(1, -(-len(units) // PER_PAGE))
    page = min(max(page, 1), pages)
    shown = units[(page - 1) * PER_PAGE : page * PER_PAGE]
    flagged = dict(
        session.execute(
            select(Annotation.unit_id, func.count())
            .where(
                Annotation.unit_id.in_(select(Unit.id).where(Unit.article_id == article.id)),
                Annotation.flagged.is_(True),
            )
            .group_by(Annotation.unit_id)
        ).all()
    )
    errors = errors or {}
    html = render_template(
        "segmentation/edit.html",
        article=article,
        units=shown,
        next_kind={u.id: n.kind for u, n in zip(units, units[1:], strict=False)},
        flagged=flagged,
        errors=errors,
        # What the reviewer typed, shown again next to the error.
        submitted={unit_id: request.form.get("offset", "")[:20] for unit_id in errors},
        split_form=SplitForm(formdata=None),
        merge_form=MergeNextForm(formdata=None),
        page=page,
        pages=pages,
    )
    return html, status


def _page_number() -> int:
    page = request.args.get("page", type=int) or 1
    return page if 1 <= page <= 1_000_000 else 1


@bp.get("/articles/<int:article_id>/segments")
@login_required
def edit(article_id: int) -> ResponseReturnValue:
    """The article's units in order, with split and merge controls on every sentence."""
    return _page(_article(article_id), _page_number())


def _unit_of(article: Article, unit_id: int) -> Unit:
    unit = get_session().get(Unit, unit_id) if unit_id <= ID_MAX else None
    if unit is None or unit.article_id != article.id:
        abort(404)
    return unit


def _back(article: Article, unit_id: int, message: str) -> ResponseReturnValue:
    get_session().commit()
    flash(message)
    return redirect(
        url_for("segmentation.edit", article_id=article.id, page=_page_number()) + f"#u-{unit_id}"
    )


def _summary(done: str, result: EditResult) -> str:
    parts = [done]
    if result.flagged_annotations:
        parts.append(
            f"{result.flagged_annotations} annotation(s) kept and flagged for their annotators."
        )
    if result.unresolved_gold:
        parts.append("The gold decision needs a new review.")
    return " ".join(parts)


def _refused(article: Article, unit_id: int, error: SegmentationError) -> ResponseReturnValue:
    session = get_session()
    session.rollback()
    status = 409 if isinstance(error, SegmentationConflict) else 422
    return _page(article, _page_number(), status, {unit_id: [str(error)]})


@bp.post("/articles/<int:article_id>/segments/<int:unit_id>/split")
@login_required
def split(article_id: int, unit_id: int) -> ResponseReturnValue:
    """Split a sentence before the given character (counted from the sentence's start)."""
    article = _article(article_id)
    unit = _unit_of(article, unit_id)
    form = SplitForm()
    if not form.validate():
        messages = [e for field in form for e in field.errors]
        return _page(article, _page_number(), 422, {unit_id: messages})
    expected = (form.start.data or 0, form.end.data or 0)
    try:
        result = split_unit(
            get_session(),
            unit.id,
            unit.start + (form.offset.data or 0),
            require_user().id,
            expected=expected,
        )
    except SegmentationError as error:
        return _refused(article, unit_id, error)
    return _back(article, unit_id, _summary("Split the sentence in two.", result))


@bp.post("/articles/<int:article_id>/segments/<int:unit_id>/merge")
@login_required
def merge(article_id: int, unit_id: int) -> ResponseReturnValue:
    """Merge a sentence with the next one."""
    article = _article(article_id)
    unit = _unit_of(article, unit_id)
    form = MergeNextForm()
    if not form.validate():
        messages = [e for field in form for e in field.errors]
        return _page(article, _page_number(), 422, {unit_id: messages})
    expected = (form.start.data or 0, form.end.data or 0)
    try:
        result = merge_with_next(get_session(), unit.id, require_user().id, expected=expected)
    except SegmentationError as error:
        return _refused(article, unit_id, error)
    return _back(article, unit_id, _summary("Merged the sentence with the next one.", result))
