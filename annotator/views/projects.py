"""Project pages: articles and progress, import, members and assignments, settings, export."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectChoice

from annotator.access import is_reviewer
from annotator.assignments import (
    AssignmentError,
    distribute,
    has_assignments,
    member_annotators,
    project_assignments,
    set_article_annotators,
)
from annotator.db import get_session, writes_late
from annotator.downloads import EXPORT_FORMATS, export_response
from annotator.forms_projects import (
    ActionForm,
    ArticleAssignForm,
    ImportForm,
    MemberForm,
    SettingsForm,
)
from annotator.importer import upload_origin
from annotator.ingest import IngestError
from annotator.memberships import (
    MembershipError,
    add_member_by_name,
    list_members,
    remove_member,
)
from annotator.models import Article, Project
from annotator.overview import annotator_progress, article_page, project_progress
from annotator.progress import next_article_for
from annotator.project_settings import (
    describe_result,
    import_pasted,
    import_upload,
    update_settings,
)
from annotator.projects import ProjectError
from annotator.views.loaders import get_project_or_404, require_reviewer
from annotator.web import error_response, login_required, require_user

bp = Blueprint("projects", __name__, url_prefix="/projects")
FLASH_LINES = 20


def _reviewer_project(project_id: int) -> Project:
    """The project (404 for non-members) if the user reviews it (403 otherwise)."""
    user = require_user()
    project = get_project_or_404(get_session(), project_id, user)
    require_reviewer(user)
    return project


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} kB"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Response:
    """Say which limit the upload or pasted text went over, and what to do instead."""
    config = current_app.config
    body_limit = config.get("MAX_CONTENT_LENGTH") or 0
    # A chunked body has no Content-Length: only the body limit can have stopped it.
    length = request.content_length
    if body_limit and (length is None or length > body_limit):
        message = (
            f"The upload is larger than the server accepts ({_size(body_limit)} per request). "
            "Split the file into smaller files and import them one by one, or use "
            "`annotator import` on the server."
        )
    else:
        field_limit = config.get("MAX_FORM_MEMORY_SIZE") or 0
        message = (
            f"Pasted text is limited to {_size(field_limit)}. Save the article as a .txt file "
            f"and upload it instead (files up to {_size(config['IMPORT_MAX_BYTES'])})."
        )
    return error_response(413, "too_large", message)


@bp.get("/<int:project_id>")
@login_required
def show(project_id: int) -> ResponseReturnValue:
    """The project: its articles (paginated), progress, links; import form for reviewers."""
    project = get_project_or_404(get_session(), project_id, require_user())
    return _render_show(project, ImportForm() if is_reviewer(require_user()) else None)


def _render_show(project: Project, import_form: ImportForm | None, status: int = 200) -> Any:
    session, user = get_session(), require_user()
    reviewer = is_reviewer(user)
    articles = article_page(session, project.id, user, request.args.get("page", 1, type=int))
    registry = (
        url_for("sources.registry", project=project.id)
        if reviewer and "sources.registry" in current_app.view_functions
        else None
    )
    context = {
        "project": project,
        "reviewer": reviewer,
        "progress": project_progress(session, project.id, user),
        "articles": articles,
        "annotators": annotator_progress(session, project.id, None if reviewer else user),
        "next_article": next_article_for(session, user, project.id),
        "registry_url": registry,
        "import_form": import_form,
        "export_formats": EXPORT_FORMATS if reviewer else (),
        "import_limit": _size(current_app.config["IMPORT_MAX_BYTES"]),
        "has_assignments": reviewer and has_assignments(session, project.id),
    }
    return render_template("projects/show.html", **context), status


@bp.post("/<int:project_id>/import")
@writes_late  # parses before it takes SQLite's write lock (project_settings.import_*)
@login_required
def import_articles(project_id: int) -> ResponseReturnValue:
    """Import pasted text or one uploaded file in one transaction; report what was stored."""
    project = _reviewer_project(project_id)
    session = get_session()
    form = ImportForm()
    field_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if field_limit and len((form.text.data or "").encode()) > field_limit:
        # Werkzeug caps multipart fields at MAX_FORM_MEMORY_SIZE but not urlencoded
        # ones; pasted text gets the same limit however the form was encoded.
        raise RequestEntityTooLarge()
    if not form.validate_on_submit():
        return _render_show(project, form, 400)
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    try:
        if form.text.data and form.text.data.strip():
            results = [import_pasted(session, project.id, form.text.data, form.title.data)]
        else:
            upload = form.file.data
            data = upload.stream.read(limit + 1)
            if len(data) > limit:
                raise IngestError(f"the file is larger than the import limit of {_size(limit)}")
            # The client's file name is recorded as text (its base name), never used
            # as a path: uploads are parsed in memory and not stored as files.
            origin = upload_origin(upload.filename or "")
            results = import_upload(session, project.id, data, origin, max_bytes=limit)
        session.commit()
    except IngestError as error:
        session.rollback()
        field = form.text if form.text.data and form.text.data.strip() else form.file
        message = str(error)
        field.errors = [*field.errors, message[:1].upper() + message[1:] + "."]
        return _render_show(project, form, 400)
    for result in results[:FLASH_LINES]:
        flash(describe_result(result))
    if len(results) > FLASH_LINES:
        flash(f"… and {len(results) - FLASH_LINES} more articles.")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.get("/<int:project_id>/manage")
@login_required
def manage(project_id: int) -> ResponseReturnValue:
    """Members, assignments and settings (reviewers and admins)."""
    project = _reviewer_project(project_id)
    return _render_manage(project)


def _render_manage(
    project: Project,
    member_form: MemberForm | None = None,
    settings_form: SettingsForm | None = None,
    status: int = 200,
) -> Any:
    session = get_session()
    if settings_form is None:
        settings_form = SettingsForm(
            data={
                "suggestion_mode": project.suggestion_mode,
                "annotators_per_article": project.annotators_per_article,
                "description": project.description,
            }
        )
    members = list_members(session, project.id)
    assignments = project_assignments(session, project.id)
    load: dict[int, int] = {}
    for users in assignments.values():
        for uid in users:
            load[uid] = load.get(uid, 0) + 1
    for member in members:
        member.assigned = load.get(member.user_id, 0)
    context = {
        "project": project,
        "members": members,
        "member_form": member_form or MemberForm(),
        "settings_form": settings_form,
        "action_form": ActionForm(),
        "assigned_articles": len(assignments),
        "total_articles": session.scalar(
            select(func.count(Article.id)).where(Article.project_id == project.id)
        ),
        "me": require_user(),
    }
    return render_template("projects/manage.html", **context), status


@bp.post("/<int:project_id>/members")
@login_required
def add_member(project_id: int) -> ResponseReturnValue:
    """Add an existing user to the project by name."""
    project = _reviewer_project(project_id)
    session = get_session()
    form = MemberForm()
    if form.validate_on_submit():
        try:
            user = add_member_by_name(session, project.id, form.username.data or "")
            session.commit()
        except MembershipError as error:
            session.rollback()
            form.username.errors = [*form.username.errors, str(error)]
        else:
            flash(f"Added {user.username} ({user.role}) to the project.")
            return redirect(url_for("projects.manage", project_id=project.id))
    return _render_manage(project, member_form=form, status=400)


@bp.post("/<int:project_id>/members/<int:user_id>/remove")
@login_required
def remove_member_view(project_id: int, user_id: int) -> ResponseReturnValue:
    """Remove a member; their untouched assignments go, their annotations stay."""
    project = _reviewer_project(project_id)
    session, me = get_session(), require_user()
    if not ActionForm().validate_on_submit():
        return error_response(400, "csrf", "The form expired. Reload the page and try again.")
    if user_id == me.id and me.role != "admin":
        return error_response(
            409, "self", "You cannot remove yourself; ask an admin or another reviewer."
        )
    try:
        user = remove_member(session, project.id, user_id)
        session.commit()
    except MembershipError as error:
        session.rollback()
        return error_response(404, "not_found", str(error))
    flash(f"Removed {user.username} from the project; their annotations are kept.")
    return redirect(url_for("projects.manage", project_id=project.id))


@bp.post("/<int:project_id>/settings")
@login_required
def settings(project_id: int) -> ResponseReturnValue:
    """Change suggestion mode, annotators per article and description."""
    project = _reviewer_project(project_id)
    session = get_session()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            update_settings(
                session,
                project,
                suggestion_mode=form.suggestion_mode.data or "",
                annotators_per_article=form.annotators_per_article.data,
                description=form.description.data or "",
            )
            session.commit()
        except ProjectError as error:
            session.rollback()
            form.suggestion_mode.errors = [*form.suggestion_mode.errors, str(error)]
        else:
            flash("Saved the project settings.")
            return redirect(url_for("projects.manage", project_id=project.id))
    return _render_manage(project, settings_form=form, status=400)


@bp.post("/<int:project_id>/assign")
@login_required
def assign(project_id: int) -> ResponseReturnValue:
    """Distribute articles to member annotators, least-loaded first."""
    project = _reviewer_project(project_id)
    session = get_session()
    if not ActionForm().validate_on_submit():
        return error_response(400, "csrf", "The form expired. Reload the page and try again.")
    result = distribute(session, project.id)
    session.commit()
    flash(result.message)
    return redirect(url_for("projects.manage", project_id=project.id))


@bp.route("/<int:project_id>/articles/<int:article_id>/assign", methods=["GET", "POST"])
@login_required
def article_assignments(project_id: int, article_id: int) -> ResponseReturnValue:
    """Choose the annotators of one article."""
    project = _reviewer_project(project_id)
    session = get_session()
    article = session.get(Article, article_id)
    if article is None or article.project_id != project.id:
        return error_response(404, "not_found", "No such article in this project.")
    annotators = member_annotators(session, project.id)
    form = ArticleAssignForm()
    form.annotators.choices = [SelectChoice(str(user.id), user.username) for user in annotators]
    if request.method == "GET":
        form.annotators.data = sorted(project_assignments(session, project.id).get(article_id, []))
    elif form.validate_on_submit():
        try:
            result = set_article_annotators(session, article.id, set(form.annotators.data or []))
            session.commit()
        except AssignmentError as error:
            session.rollback()
            form.annotators.errors = [*form.annotators.errors, str(error)]
        else:
            flash(_describe_assignment(result.added, result.removed, result.kept))
            return redirect(url_for("projects.show", project_id=project.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "projects/assign.html", project=project, article=article, form=form, annotators=annotators
    ), status


def _describe_assignment(added: list[str], removed: list[str], kept: list[str]) -> str:
    parts = []
    if added:
        parts.append("assigned " + ", ".join(added))
    if removed:
        parts.append("unassigned " + ", ".join(removed))
    if kept:
        parts.append("kept " + ", ".join(kept) + " (they already labelled part of it)")
    return ("Article: " + "; ".join(parts) + ".") if parts else "Nothing changed."


@bp.get("/<int:project_id>/export.<fmt>")
@login_required
def export(project_id: int, fmt: str) -> ResponseReturnValue:
    """Download the project's export (JSON, JSONL or CSV), streamed."""
    project = _reviewer_project(project_id)
    if fmt not in EXPORT_FORMATS:
        return error_response(404, "not_found", "Unknown export format.")
    return export_response(project.name, fmt)
