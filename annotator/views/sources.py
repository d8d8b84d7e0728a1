"""The source registry pages: list a project's sources, see where one is cited, curate it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from annotator.access import visible_projects
from annotator.db import get_session
from annotator.forms_sources import (
    ID_MAX,
    AliasForm,
    DetailsForm,
    MergeForm,
    RegistryQueryForm,
    RemoveAliasForm,
    RenameForm,
)
from annotator.models import Project, Source
from annotator.registry import SourceIndex
from annotator.source_edits import (
    SourceEditError,
    add_alias,
    merge_sources,
    remove_alias,
    rename_source,
    update_source,
)
from annotator.source_usage import registry_page, source_citations, usage_counts
from annotator.views.loaders import get_project_or_404, get_source_or_404, require_reviewer
from annotator.web import login_required, require_user

bp = Blueprint("sources", __name__)
PER_PAGE = 50
# Names offered for the merge target; beyond this the reviewer types the name.
CHOICES_MAX = 2000


@bp.get("/sources")
@login_required
def registry() -> ResponseReturnValue:
    """A project's registry, filtered, sorted and paginated."""
    session, user = get_session(), require_user()
    form = RegistryQueryForm(request.args)
    valid = form.validate()
    if form.project.errors:
        abort(404)
    project: Project | None = None
    if form.project.data is not None:
        # The project first: another project's registry is 404, as a missing one.
        project = get_project_or_404(session, form.project.data, user)
    require_reviewer(user)
    projects = session.scalars(visible_projects(user).order_by(Project.name)).all()
    if project is None:
        project = projects[0] if projects else None
    if project is None:
        return render_template("sources/registry.html", form=form, project=None, projects=[])
    page = form.page.data if valid and form.page.data else 1
    rows, total = registry_page(
        session,
        project.id,
        query=(form.q.data or "") if valid else "",
        sort=form.sort.data if valid else "name",
        page=page,
        per_page=PER_PAGE,
    )
    pages = max(1, -(-total // PER_PAGE))
    return render_template(
        "sources/registry.html",
        form=form,
        project=project,
        projects=projects,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
    )


def _load(source_id: int) -> Source:
    """The source if the user may see its project (else 404) and reviews (else 403)."""
    user = require_user()
    if source_id > ID_MAX:
        abort(404)
    source = get_source_or_404(get_session(), source_id, user)
    require_reviewer(user)
    return source


def _detail(source: Source, status: int = 200, **forms: Any) -> ResponseReturnValue:
    session = get_session()
    articles, cited_units = source_citations(session, source)
    mentions, annotations, gold = usage_counts(session, source.id)
    forms.setdefault("rename_form", RenameForm(formdata=None))
    forms.setdefault(
        "details_form",
        DetailsForm(formdata=None, kind=source.kind, description=source.description or ""),
    )
    forms.setdefault("alias_form", AliasForm(formdata=None))
    forms.setdefault("merge_form", MergeForm(formdata=None))
    others = session.scalars(
        select(Source.name)
        .where(Source.project_id == source.project_id, Source.id != source.id)
        .order_by(Source.name_key)
        .limit(CHOICES_MAX)
    ).all()
    html = render_template(
        "sources/detail.html",
        source=source,
        project=session.get(Project, source.project_id),
        articles=articles,
        cited_units=cited_units,
        counts={"mentions": mentions, "annotations": annotations, "gold": gold},
        others=others,
        remove_form=RemoveAliasForm(formdata=None),
        **forms,
    )
    return html, status


@bp.get("/sources/<int:source_id>")
@login_required
def detail(source_id: int) -> ResponseReturnValue:
    """One source: its names, where it is cited, and the forms to curate it."""
    return _detail(_load(source_id))


def _done(source_id: int, message: str) -> ResponseReturnValue:
    get_session().commit()
    flash(message)
    return redirect(url_for("sources.detail", source_id=source_id))


def _refused(source: Source, form_name: str, form: Any, field: str, error: str) -> Any:
    get_session().rollback()
    getattr(form, field).errors = [*getattr(form, field).errors, error]
    return _detail(source, 422, **{form_name: form})


@bp.post("/sources/<int:source_id>/rename")
@login_required
def rename(source_id: int) -> ResponseReturnValue:
    """Rename the source; the old name becomes an alias."""
    source = _load(source_id)
    form = RenameForm()
    if not form.validate():
        return _detail(source, 422, rename_form=form)
    old = source.name
    try:
        rename_source(get_session(), source, form.name.data or "")
    except SourceEditError as error:
        return _refused(source, "rename_form", form, "name", str(error))
    return _done(source.id, f"Renamed “{old}” to “{source.name}”.")


@bp.post("/sources/<int:source_id>/details")
@login_required
def details(source_id: int) -> ResponseReturnValue:
    """Change the kind and description."""
    source = _load(source_id)
    form = DetailsForm()
    if not form.validate():
        return _detail(source, 422, details_form=form)
    try:
        update_source(
            get_session(), source, kind=form.kind.data, description=form.description.data or ""
        )
    except SourceEditError as error:
        return _refused(source, "details_form", form, "description", str(error))
    return _done(source.id, "Saved the kind and description.")


@bp.post("/sources/<int:source_id>/aliases")
@login_required
def alias_add(source_id: int) -> ResponseReturnValue:
    """Add an alias."""
    source = _load(source_id)
    form = AliasForm()
    if not form.validate():
        return _detail(source, 422, alias_form=form)
    try:
        row = add_alias(get_session(), source, form.alias.data or "")
    except SourceEditError as error:
        return _refused(source, "alias_form", form, "alias", str(error))
    return _done(source.id, f"Added the alias “{row.alias}”.")


@bp.post("/sources/<int:source_id>/aliases/remove")
@login_required
def alias_remove(source_id: int) -> ResponseReturnValue:
    """Remove an alias of this source (404 for anyone else's)."""
    source = _load(source_id)
    form = RemoveAliasForm()
    if not form.validate() or form.alias_id.data is None:
        abort(404)
    try:
        remove_alias(get_session(), source, form.alias_id.data)
    except LookupError:
        abort(404)
    return _done(source.id, "Removed the alias.")


@bp.post("/sources/<int:source_id>/merge")
@login_required
def merge(source_id: int) -> ResponseReturnValue:
    """Merge this source into another one of the project, chosen by name or alias."""
    session, user = get_session(), require_user()
    source = _load(source_id)
    form = MergeForm()
    if not form.validate():
        return _detail(source, 422, merge_form=form)
    target_id = SourceIndex(session, source.project_id).resolve(form.into.data or "")
    target = session.get(Source, target_id) if target_id is not None else None
    if target is None:
        return _refused(
            source, "merge_form", form, "into", "no source of this project has that name or alias"
        )
    name = source.name
    try:
        result = merge_sources(session, source, target, user.id)
    except SourceEditError as error:
        return _refused(source, "merge_form", form, "into", str(error))
    return _done(
        result.into_id,
        f"Merged “{name}” into “{target.name}”: {result.annotations} annotations, "
        f"{result.gold} gold decisions, {result.mentions} mentions and "
        f"{result.suggestions} suggestions now cite it.",
    )
