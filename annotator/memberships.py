"""Who works on a project: add existing users by name, remove them (no Flask)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from annotator.access import add_member
from annotator.models import Annotation, Article, Assignment, ProjectMember, Unit, User
from annotator.users import get_user_by_name


class MembershipError(ValueError):
    """A membership change that cannot be made; the message says why."""


@dataclass(slots=True)
class Member:
    """A project member as the members list shows them."""

    user_id: int
    username: str
    role: str
    assigned: int = 0


def list_members(session: Session, project_id: int) -> list[Member]:
    """The project's members by role (admins, reviewers, annotators), then name."""
    order = {"admin": 0, "reviewer": 1, "annotator": 2}
    rows = session.execute(
        select(User.id, User.username, User.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id)
    )
    members = [Member(uid, name, role) for uid, name, role in rows]
    return sorted(members, key=lambda m: (order.get(m.role, 3), m.username))


def add_member_by_name(session: Session, project_id: int, username: str) -> User:
    """Make the existing user called ``username`` a member; no commit."""
    user = get_user_by_name(session, username)
    if user is None:
        raise MembershipError(
            "No user with that name. Accounts are created on the server with "
            "`annotator users add NAME --role ROLE`."
        )
    if not add_member(session, project_id, user.id):
        raise MembershipError(f"{user.username} is already a member of this project.")
    session.flush()
    return user


def remove_member(session: Session, project_id: int, user_id: int) -> User:
    """End a membership; drop the user's untouched assignments in the project. No commit.

    Assignments of articles the user already labelled are kept, so their work
    stays attributed to the assignment if they are added back.
    """
    membership = session.get(ProjectMember, (project_id, user_id))
    user = session.get(User, user_id)
    if membership is None or user is None:
        raise MembershipError("That user is not a member of this project.")
    labelled = exists().where(
        Annotation.annotator_id == user_id,
        Annotation.unit_id == Unit.id,
        Unit.article_id == Assignment.article_id,
    )
    project_articles = select(Article.id).where(Article.project_id == project_id)
    session.execute(
        delete(Assignment)
        .where(
            Assignment.user_id == user_id,
            Assignment.article_id.in_(project_articles),
            ~labelled,
        )
        .execution_options(synchronize_session=False)
    )
    session.delete(membership)
    session.flush()
    return user
