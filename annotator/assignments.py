"""Assign a project's articles to its annotators (no Flask).

``distribute`` tops every article up to the project's ``annotators_per_article``
by giving it to the member annotators with the least work first; it only adds,
so nobody loses an article they started. ``set_article_annotators`` replaces one
article's annotators by hand but keeps anyone who already labelled part of it.
Both are deterministic: the same database state gives the same assignments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from annotator.models import Annotation, Article, Assignment, Project, ProjectMember, Unit, User


class AssignmentError(ValueError):
    """An assignment that cannot be made; the message says why."""


@dataclass(slots=True)
class DistributeResult:
    """What ``distribute`` did."""

    created: int = 0
    articles: int = 0  # articles that got at least one new annotator
    short: int = 0  # articles still below the target (too few annotators)
    message: str = ""


@dataclass(slots=True)
class ArticleAssignmentResult:
    """What ``set_article_annotators`` did."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # asked to remove, but they have annotations


def member_annotators(session: Session, project_id: int) -> list[User]:
    """The project's members with the annotator role, by id."""
    return list(
        session.scalars(
            select(User)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == project_id, User.role == "annotator")
            .order_by(User.id)
        )
    )


def project_assignments(session: Session, project_id: int) -> dict[int, set[int]]:
    """Article id → ids of the users assigned to it, for the whole project."""
    found: dict[int, set[int]] = {}
    for article_id, user_id in session.execute(
        select(Assignment.article_id, Assignment.user_id)
        .join(Article, Article.id == Assignment.article_id)
        .where(Article.project_id == project_id)
    ):
        found.setdefault(article_id, set()).add(user_id)
    return found


def distribute(session: Session, project_id: int) -> DistributeResult:
    """Give every article enough annotators, least-loaded (then lowest id) first; no commit."""
    project = session.get(Project, project_id)
    if project is None:
        raise AssignmentError("no such project")
    annotators = [user.id for user in member_annotators(session, project_id)]
    if not annotators:
        return DistributeResult(message="The project has no annotators to assign articles to.")
    current = project_assignments(session, project_id)
    if project.annotators_per_article is None and not current:
        # Without assignments every member already sees every article.
        return DistributeResult(message="Every annotator already sees every article.")
    target = min(project.annotators_per_article or len(annotators), len(annotators))
    members = set(annotators)
    load = {uid: 0 for uid in annotators}
    for users in current.values():
        for uid in users & members:
            load[uid] += 1
    rows: list[dict[str, int]] = []
    result = DistributeResult()
    article_ids = session.scalars(
        select(Article.id).where(Article.project_id == project_id).order_by(Article.id)
    ).all()
    for article_id in article_ids:
        have = current.get(article_id, set())
        needed = target - len(have & members)
        if needed <= 0:
            continue
        # Stable sort by (load, id): ties always go to the same annotator.
        chosen = sorted((uid for uid in annotators if uid not in have), key=lambda u: (load[u], u))
        for uid in chosen[:needed]:
            rows.append({"article_id": article_id, "user_id": uid})
            load[uid] += 1
        result.articles += 1
    if rows:
        session.execute(insert(Assignment), rows)
    result.created = len(rows)
    if project.annotators_per_article and project.annotators_per_article > len(annotators):
        result.short = len(article_ids)
    result.message = (
        f"Assigned {result.created} article{_s(result.created)} to annotators "
        f"({result.articles} article{_s(result.articles)} changed)."
        if rows
        else "Every article already has its annotators."
    )
    if result.short:
        result.message += (
            f" The project asks for {project.annotators_per_article} annotators per article"
            f" but has only {len(annotators)}."
        )
    return result


def annotated_by(session: Session, article_id: int) -> set[int]:
    """Ids of the users with at least one annotation on the article."""
    return set(
        session.scalars(
            select(Annotation.annotator_id)
            .join(Unit, Unit.id == Annotation.unit_id)
            .where(Unit.article_id == article_id)
            .distinct()
        )
    )


def set_article_annotators(
    session: Session, article_id: int, user_ids: set[int]
) -> ArticleAssignmentResult:
    """Make ``user_ids`` the article's annotators; keep those who labelled it. No commit."""
    project_id = session.scalar(select(Article.project_id).where(Article.id == article_id))
    if project_id is None:
        raise AssignmentError("no such article")
    allowed = {user.id: user.username for user in member_annotators(session, project_id)}
    strangers = user_ids - set(allowed)
    if strangers:
        raise AssignmentError("only annotators who are members of the project can be assigned")
    current = set(
        session.scalars(select(Assignment.user_id).where(Assignment.article_id == article_id))
    )
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(current))).all())
    names.update(allowed)
    worked = annotated_by(session, article_id)
    result = ArticleAssignmentResult()
    for uid in sorted(user_ids - current):
        session.add(Assignment(article_id=article_id, user_id=uid))
        result.added.append(names[uid])
    for uid in sorted(current - user_ids):
        if uid in worked:
            result.kept.append(names[uid])
            continue
        assignment = session.get(Assignment, (article_id, uid))
        if assignment is not None:
            session.delete(assignment)
        result.removed.append(names[uid])
    session.flush()
    return result


def assignment_counts(session: Session, project_id: int) -> dict[int, int]:
    """User id → number of the project's articles assigned to them."""
    return dict(
        session.execute(
            select(Assignment.user_id, func.count())
            .join(Article, Article.id == Assignment.article_id)
            .where(Article.project_id == project_id)
            .group_by(Assignment.user_id)
        ).all()
    )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def has_assignments(session: Session, project_id: int) -> bool:
    """Whether any of the project's articles is assigned (then annotators see only theirs)."""
    found = session.scalar(
        select(Assignment.article_id)
        .join(Article, Article.id == Assignment.article_id)
        .where(Article.project_id == project_id)
        .limit(1)
    )
    return found is not None
