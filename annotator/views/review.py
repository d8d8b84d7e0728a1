"""Review pages: the queue of disagreements and the adjudication of one sentence.

Reviewers and admins only: a project the user cannot see is 404, a role that
may not review is 403. The queue's filters travel in the query string from the
queue to every unit page and back, so "next" stays inside the filtered queue.
``/projects/<id>/review?pair=a,b`` is the dashboard's link from confusion cell
(a, b); without an explicit ``status`` it lists every such unit, decided or not.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from annotator.access import REVIEW_ROLES, visible_projects
from annotator.db import get_session
from annotator.forms_review import (
    CATEGORY_TEXT,
    DecisionForm,
    QueueForm,
    ThresholdForm,
)
from annotator.models import Article, Project
from annotator.review import (
    ID_MAX,
    AnswerChanged,
    InvalidDecision,
    QueueFilter,
    UnitNotFound,
    load_project_ratings,
    neighbour,
    open_counts,
    queue_annotators,
    review_queue,
)
from annotator.review_decisions import (
    accept_answer,
    accept_unanimous,
    clear,
    decide,
    resolve_source_names,
    set_unanimous_threshold,
    unanimous_candidates,
    unanimous_threshold,
)
from annotator.review_unit import UnitReview, unit_for_review
from annotator.views.loaders import get_project_or_404, get_unit_or_404, require_reviewer
from annotator.web import login_required, require_user, roles_required

bp = Blueprint("review", __name__)
PER_PAGE = 50
# Up to this many articles the filter is a list of titles; beyond, an id field.
ARTICLE_CHOICES_MAX = 300
AGREEMENT_ENDPOINT = "agreement.dashboard"


def _agreement_url(project_id: int) -> str | None:
    """The project's agreement dashboard, when this build has one."""
    if AGREEMENT_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(AGREEMENT_ENDPOINT, project_id=project_id)


def _reviewer_project(project_id: int) -> Project:
    """The project (404 unless the user sees it) if the user reviews (403 otherwise)."""
    if project_id > ID_MAX:
        abort(404)
    user = require_user()
    project = get_project_or_404(get_session(), project_id, user)
    require_reviewer(user)
    return project


def _unit_project(unit_id: int) -> Project:
    """The project of a sentence, with the same rules as ``_reviewer_project``."""
    if unit_id > ID_MAX:
        abort(404)
    # The unit and the right to open it in one query: another project's sentence
    # costs what a missing one does.
    _, project_id = get_unit_or_404(get_session(), unit_id, require_user())
    return _reviewer_project(project_id)


def _labels(project: Project) -> tuple[str, ...]:
    return tuple(label.name for label in project.labels)


def _label_index(project: Project) -> dict[str, int]:
    """Label name -> position, for the label colours."""
    return {name: i for i, name in enumerate(_labels(project))}


def _queue_form(project: Project) -> QueueForm:
    """The filter form read from the query string (not validated yet)."""
    # A confusion cell links with ?pair=a,b only: show all of its units.
    default = "all" if request.args.get("pair") else "open"
    form = QueueForm(formdata=request.args, status=default)
    form.pair.set_labels(_labels(project))
    names = queue_annotators(get_session(), project.id)
    form.annotator.choices = [("", "Anyone")] + [(name, name) for name in names]
    return form


def _filter_of(form: QueueForm, project: Project) -> QueueFilter | None:
    """The validated filters, or None with the errors on the form's fields."""
    if not form.validate():
        return None
    article_id = form.article.data
    if article_id is not None:
        found = get_session().scalar(
            select(Article.id).where(Article.id == article_id, Article.project_id == project.id)
        )
        if found is None:
            form.article.errors = [*form.article.errors, "Not an article of this project."]
            return None
    return QueueFilter(
        pair=form.pair.pair(),
        sources_disagree=bool(form.sources.data),
        article_id=article_id,
        annotator=form.annotator.data or None,
        status=form.status.data,  # type: ignore[arg-type]
    )


def filter_args(f: QueueFilter) -> dict[str, Any]:
    """The filters as query-string arguments (the same names the queue form uses)."""
    args: dict[str, Any] = {"status": f.status}
    if f.pair is not None:
        args["pair"] = ",".join(f.pair)
    if f.sources_disagree:
        args["sources"] = "y"
    if f.article_id is not None:
        args["article"] = f.article_id
    if f.annotator:
        args["annotator"] = f.annotator
    return args


def _carried_filter(project: Project) -> QueueFilter:
    """The filters a unit page was opened with; malformed ones fall back to the default."""
    return _filter_of(_queue_form(project), project) or QueueFilter()


def _page_number() -> int:
    """The ``page`` argument; anything but a sensible number is the first page."""
    page = request.args.get("page", type=int) or 1
    return page if 1 <= page <= 1_000_000 else 1


def _article_choices(project: Project) -> list[tuple[int, str]] | None:
    session = get_session()
    count = session.scalar(select(func.count()).where(Article.project_id == project.id)) or 0
    if count > ARTICLE_CHOICES_MAX:
        return None
    return [
        (article_id, title)
        for article_id, title in session.execute(
            select(Article.id, Article.title)
            .where(Article.project_id == project.id)
            .order_by(Article.id)
        )
    ]


@bp.get("/review")
@roles_required(*REVIEW_ROLES)
def index() -> ResponseReturnValue:
    """The projects the reviewer may review, with how many sentences wait for a decision."""
    session = get_session()
    projects = session.scalars(visible_projects(require_user()).order_by(Project.name)).all()
    counts = open_counts(session, [p.id for p in projects])
    return render_template(
        "review/index.html", projects=projects, counts=counts, agreement_url=_agreement_url
    )


def _queue_page(
    project: Project,
    *,
    threshold_form: ThresholdForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = get_session()
    form = _queue_form(project)
    f = _filter_of(form, project)
    page = _page_number()
    queue = None
    # One load of the project's ratings serves the queue and the unanimous count.
    data = load_project_ratings(session, project.id)
    if f is None:
        status = max(status, 422)
    else:
        queue = review_queue(
            session,
            project.id,
            data=data,
            pair=f.pair,
            sources_disagree=f.sources_disagree,
            article_id=f.article_id,
            annotator=f.annotator,
            status=f.status,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
    threshold = unanimous_threshold(session, project.id)
    if threshold_form is None:
        threshold_form = ThresholdForm(formdata=None, threshold=threshold)
    html = render_template(
        "review/queue.html",
        project=project,
        agreement_url=_agreement_url(project.id),
        label_index=_label_index(project),
        form=form,
        queue=queue,
        page=page,
        pages=max(1, -(-queue.total // PER_PAGE)) if queue else 1,
        args=filter_args(f) if f else {},
        article_choices=_article_choices(project),
        threshold=threshold,
        candidates=len(unanimous_candidates(session, project.id, data=data)),
        threshold_form=threshold_form,
    )
    return html, status


@bp.get("/projects/<int:project_id>/review")
@login_required
def queue(project_id: int) -> ResponseReturnValue:
    """The review queue, least agreed first, with filters, paging and bulk acceptance."""
    return _queue_page(_reviewer_project(project_id))


def _back_to_queue(project: Project) -> ResponseReturnValue:
    args = filter_args(_carried_filter(project))
    return redirect(url_for("review.queue", project_id=project.id, **args))


@bp.post("/projects/<int:project_id>/review/accept-unanimous")
@login_required
def accept_all_unanimous(project_id: int) -> ResponseReturnValue:
    """Gold with provenance ``unanimous`` for every qualifying sentence without gold."""
    project = _reviewer_project(project_id)
    session = get_session()
    count = accept_unanimous(session, project.id, require_user())
    session.commit()
    flash(
        f"Accepted {count} unanimous sentence{'' if count == 1 else 's'} as gold."
        if count
        else "No sentence qualified: nothing was accepted."
    )
    return _back_to_queue(project)


@bp.post("/projects/<int:project_id>/review/threshold")
@login_required
def change_threshold(project_id: int) -> ResponseReturnValue:
    """Change how many agreeing annotators make a sentence unanimous."""
    project = _reviewer_project(project_id)
    form = ThresholdForm()
    if not form.validate():
        return _queue_page(project, threshold_form=form, status=422)
    session = get_session()
    try:
        set_unanimous_threshold(session, project.id, form.threshold.data)
    except InvalidDecision as error:
        session.rollback()
        form.threshold.errors = [*form.threshold.errors, error.message]
        return _queue_page(project, threshold_form=form, status=422)
    session.commit()
    flash(f"Unanimous now needs at least {form.threshold.data} annotators in agreement.")
    return _back_to_queue(project)


# --- one unit ------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """Seconds as ``42 s``, ``3 min 5 s`` or ``2 h 4 min``."""
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _unit_page(
    project: Project, review: UnitReview, form: DecisionForm, status: int = 200
) -> ResponseReturnValue:
    f = _carried_filter(project)
    args = filter_args(f)
    html = render_template(
        "review/unit.html",
        project=project,
        review=review,
        label_index=_label_index(project),
        form=form,
        args=args,
        labels=review.labels,
        categories=CATEGORY_TEXT,
        has_errors=any(field.errors for field in form),
        error_count=sum(len(field.errors) for field in form),
        duration=duration,
        keys=[str(n) for n in range(1, 10)],
    )
    return html, status


def _decision_form(review: UnitReview) -> DecisionForm:
    form = DecisionForm()
    form.set_labels(tuple(name for name, _key, _text in review.labels))
    return form


def _load(unit_id: int) -> UnitReview:
    try:
        return unit_for_review(get_session(), unit_id)
    except UnitNotFound:
        abort(404)


@bp.get("/units/<int:unit_id>/review")
@login_required
def unit(unit_id: int) -> ResponseReturnValue:
    """Every annotator's answer side by side, the sentence in context, and the decision form."""
    project = _unit_project(unit_id)
    review = _load(unit_id)
    form = DecisionForm(formdata=None)
    form.set_labels(tuple(name for name, _key, _text in review.labels))
    if review.gold is not None:
        form.label.data = review.gold.label or ""
        form.sources.data = "\n".join(s.name for s in review.gold.sources)
        form.rationale.data = review.gold.rationale
        form.error_category.data = review.gold.error_category or ""
    return _unit_page(project, review, form)


def _refuse(
    project: Project, unit_id: int, form: DecisionForm, field: str, message: str, status: int
) -> ResponseReturnValue:
    get_session().rollback()
    target = getattr(form, field, None) if field in form else None
    target = target or form.accept
    target.errors = [*target.errors, message[:1].upper() + message[1:] + "."]
    return _unit_page(project, _load(unit_id), form, status)


@bp.post("/units/<int:unit_id>/review")
@login_required
def decide_unit(unit_id: int) -> ResponseReturnValue:
    """Save the decision, then open the next sentence of the same filtered queue."""
    project = _unit_project(unit_id)
    review = _load(unit_id)
    form = _decision_form(review)
    if not form.validate():
        return _unit_page(project, review, form, 422)
    session, user = get_session(), require_user()
    choice = form.accept.data or ""
    rationale = form.rationale.data or ""
    category = form.error_category.data or None
    try:
        if choice in ("new", "unresolved"):
            sources = resolve_source_names(session, project.id, form.source_names())
            decide(
                session,
                unit_id,
                user,
                form.label.data or None,
                sources,
                rationale,
                category,
                "adjudicated" if choice == "new" else "unresolved",
            )
        else:
            annotator_id, version = (int(part) for part in choice.split(":"))
            accept_answer(session, unit_id, user, annotator_id, version, rationale, category)
    except AnswerChanged as error:
        return _refuse(project, unit_id, form, "accept", error.message, 409)
    except InvalidDecision as error:
        return _refuse(project, unit_id, form, error.field, error.message, 422)
    session.commit()
    where = f"sentence {review.index + 1}" if review.index is not None else "the sentence"
    flash(f"Saved the decision on {where} of “{review.article_title}”.")
    return _step(project, unit_id, 1)


@bp.post("/units/<int:unit_id>/review/clear")
@login_required
def clear_unit(unit_id: int) -> ResponseReturnValue:
    """Remove the sentence's gold decision (the history keeps it)."""
    project = _unit_project(unit_id)
    session = get_session()
    cleared = clear(session, unit_id, require_user())
    session.commit()
    flash("Cleared the gold decision." if cleared else "There was no gold decision to clear.")
    args = filter_args(_carried_filter(project))
    return redirect(url_for("review.unit", unit_id=unit_id, **args))


def _step(project: Project, unit_id: int, step: int) -> ResponseReturnValue:
    f = _carried_filter(project)
    args = filter_args(f)
    target = neighbour(get_session(), project.id, unit_id, f, step=step)
    if target is None:
        if step > 0:
            flash("That was the last sentence of this queue.")
            return redirect(url_for("review.queue", project_id=project.id, **args))
        flash("This is the first sentence of the queue.")
        target = unit_id
    return redirect(url_for("review.unit", unit_id=target, **args))


@bp.get("/units/<int:unit_id>/review/next")
@login_required
def next_unit(unit_id: int) -> ResponseReturnValue:
    """The next sentence of the filtered queue (or the queue when this was the last)."""
    return _step(_unit_project(unit_id), unit_id, 1)


@bp.get("/units/<int:unit_id>/review/previous")
@login_required
def previous_unit(unit_id: int) -> ResponseReturnValue:
    """The previous sentence of the filtered queue."""
    return _step(_unit_project(unit_id), unit_id, -1)
