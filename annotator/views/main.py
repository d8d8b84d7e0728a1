"""The start page: the projects the user may see, with progress; admins create projects."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from annotator.access import is_reviewer
from annotator.db import get_session
from annotator.forms_projects import NewProjectForm
from annotator.overview import project_summaries
from annotator.progress import next_article_for
from annotator.project_settings import create_project
from annotator.projects import ProjectError
from annotator.web import current_user, error_response, login_required

bp = Blueprint("main", __name__)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    """List the visible projects; a POST (admins) creates a project."""
    user = current_user()
    assert user is not None
    session = get_session()
    form = NewProjectForm() if user.role == "admin" else None
    status = 200
    if request.method == "POST":
        if form is None:
            return error_response(403, "forbidden", "only admins create projects")
        if form.validate_on_submit():
            try:
                project = create_project(session, form.name.data or "", form.description.data or "")
                session.commit()
            except (ProjectError, IntegrityError) as error:
                # IntegrityError: another admin created the same name just now.
                session.rollback()
                message = str(error) if isinstance(error, ProjectError) else "name already taken"
                form.name.errors = [*form.name.errors, message[:1].upper() + message[1:] + "."]
            else:
                flash(f"Created the project “{project.name}”.")
                return redirect(url_for("projects.show", project_id=project.id))
        status = 400
    projects = project_summaries(session, user)
    continue_links = {
        summary.id: next_article_for(session, user, summary.id) for summary in projects
    }
    return (
        render_template(
            "index.html",
            projects=projects,
            continue_links=continue_links,
            form=form,
            reviewer=is_reviewer(user),
        ),
        status,
    )
