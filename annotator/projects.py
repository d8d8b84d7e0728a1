"""Projects and their label scheme."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.models import NAME_MAX, Label, Project
from annotator.names import clean_name, name_problem

# The default scheme (DESIGN.md); keys are the keyboard shortcuts.
DEFAULT_LABELS: tuple[tuple[str, str, str], ...] = (
    (
        "reported_fact",
        "1",
        "A claim presented as established, by the outlet or by an attributed source, "
        "without hedging.",
    ),
    (
        "quote",
        "2",
        "The sentence carries a direct quotation (in quotation marks) of someone's words. "
        "A direct quotation is a quote even when its content is speculative.",
    ),
    (
        "speculation",
        "3",
        "A hedged, predicted or conjectured claim (could, may, is expected to, likely, "
        "analysts believe …), not in direct quotation.",
    ),
    (
        "unclear",
        "4",
        "The status cannot be decided from the text (ambiguous, a question, a fragment).",
    ),
)

DEFAULT_PROJECT = "default"


class ProjectError(ValueError):
    """A project name or setting that cannot be used; the message says why."""


def get_project_by_name(session: Session, name: str) -> Project | None:
    """The project called ``name`` (after cleaning), if any."""
    return session.scalar(select(Project).where(Project.name == clean_name(name)))


def get_or_create_project(session: Session, name: str) -> tuple[Project, bool]:
    """The project called ``name``, created with the default labels when missing."""
    problem = name_problem(name, max_length=NAME_MAX)
    if problem:
        raise ProjectError(f"project name {problem}")
    project = get_project_by_name(session, name)
    if project is not None:
        return project, False
    project = Project(name=clean_name(name))
    project.labels = [
        Label(name=label, key=key, description=text, position=position)
        for position, (label, key, text) in enumerate(DEFAULT_LABELS)
    ]
    session.add(project)
    session.flush()
    return project, True


def label_ids(session: Session, project_id: int) -> dict[str, int]:
    """The project's label names mapped to their ids."""
    rows = session.execute(select(Label.name, Label.id).where(Label.project_id == project_id))
    return {name: label_id for name, label_id in rows}
