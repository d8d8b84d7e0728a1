"""Who may see and do what: the authorization rules every page and API call share.

- admins see every project;
- reviewers and annotators see the projects they are members of;
- annotators see the articles assigned to them, or all of a project's articles
  when the project has no assignments; reviewers and admins see all of them;
- only reviewers and admins see other people's annotations.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, exists, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from annotator.models import Article, Assignment, Project, ProjectMember, User

REVIEW_ROLES = ("admin", "reviewer")


def is_reviewer(user: User) -> bool:
    """Whether the user may review, edit segmentation and see others' work."""
    return user.role in REVIEW_ROLES


def visible_projects(user: User) -> Select[tuple[Project]]:
    """A query of the projects ``user`` may see."""
    query = select(Project)
    if user.role != "admin":
        query = query.where(
            exists().where(ProjectMember.project_id == Project.id, ProjectMember.user_id == user.id)
        )
    return query


def can_see_project(session: Session, user: User, project_id: int) -> bool:
    """Whether ``user`` may see the project."""
    if user.role == "admin":
        return session.get(Project, project_id) is not None
    return (
        session.scalar(
            select(ProjectMember.user_id).where(
                ProjectMember.project_id == project_id, ProjectMember.user_id == user.id
            )
        )
        is not None
    )


def visible_project_clause(project_id: Any, user: User) -> ColumnElement[bool]:
    """A WHERE clause: the project ``project_id`` (a column) is visible to ``user``.

    Loading an object and checking the caller's right to it in one query makes
    another project's id cost exactly what a missing id costs: no timing oracle.
    """
    if user.role == "admin":
        return true()
    return exists().where(ProjectMember.project_id == project_id, ProjectMember.user_id == user.id)


def visible_articles(user: User, project_id: int) -> Select[tuple[Article]]:
    """A query of the project's articles ``user`` may open (membership checked elsewhere)."""
    query = select(Article).where(Article.project_id == project_id)
    if is_reviewer(user):
        return query
    project_has_assignments = exists().where(
        Assignment.article_id.in_(select(Article.id).where(Article.project_id == project_id))
    )
    assigned_to_user = exists().where(
        Assignment.article_id == Article.id, Assignment.user_id == user.id
    )
    return query.where(assigned_to_user | ~project_has_assignments)


def can_see_article(session: Session, user: User, article_id: int) -> Article | None:
    """The article if ``user`` may open it, else None (callers answer 404 either way).

    One query, built once per role: every annotation page load runs it.
    """
    return session.scalar(
        _visible_article(user.role), {"article_id": article_id, "user_id": user.id}
    )


@functools.cache
def _visible_article(role: str) -> Select[tuple[Article]]:
    return select(Article).where(
        Article.id == bindparam("article_id", type_=Integer),
        visible_article_clause(bindparam("user_id", type_=Integer), role),
    )


def add_member(session: Session, project_id: int, user_id: int) -> bool:
    """Make a user a member of a project; False when they already were."""
    if session.get(ProjectMember, (project_id, user_id)) is not None:
        return False
    session.add(ProjectMember(project_id=project_id, user_id=user_id))
    return True


def visible_article_clause(user_id: Any, role: str) -> ColumnElement[bool]:
    """A WHERE clause on ``Article`` with the rules of ``annotator.access``, correlated,
    so a unit, its article and the caller's right to open it load in one query."""
    clauses: list[ColumnElement[bool]] = []
    if role != "admin":
        clauses.append(
            exists().where(
                ProjectMember.project_id == Article.project_id, ProjectMember.user_id == user_id
            )
        )
    if role not in ("admin", "reviewer"):
        other = aliased(Article)
        project_has_assignments = exists().where(
            Assignment.article_id == other.id, other.project_id == Article.project_id
        )
        assigned = exists().where(
            Assignment.article_id == Article.id, Assignment.user_id == user_id
        )
        clauses.append(assigned | ~project_has_assignments)
    if not clauses:
        return Article.id.is_not(None)
    result = clauses[0]
    for clause in clauses[1:]:
        result = result & clause
    return result
