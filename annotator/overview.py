"""Read-only summaries of projects and articles for listings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.access import visible_projects
from annotator.models import Annotation, Article, Project, Source, Unit, User


@dataclass(slots=True)
class ArticleRow:
    id: int
    title: str
    published: str | None
    credits: list[str]
    sentences: int
    annotations: int


@dataclass(slots=True)
class ProjectRow:
    id: int
    name: str
    sources: int
    articles: list[ArticleRow] = field(default_factory=list)


def project_overview(session: Session, user: User) -> list[ProjectRow]:
    """The projects ``user`` may see, with their articles and counts.

    A fixed number of grouped queries whatever the number of projects and articles.
    """
    visible = visible_projects(user).with_only_columns(Project.id, Project.name)
    projects = {
        pid: ProjectRow(pid, name, 0)
        for pid, name in session.execute(visible.order_by(Project.name))
    }
    for pid, count in session.execute(
        select(Source.project_id, func.count()).group_by(Source.project_id)
    ):
        if pid in projects:
            projects[pid].sources = count
    sentences = dict(
        session.execute(
            select(Unit.article_id, func.count())
            .where(Unit.kind == "sentence")
            .group_by(Unit.article_id)
        ).all()
    )
    annotations = dict(
        session.execute(
            select(Unit.article_id, func.count())
            .join(Annotation, Annotation.unit_id == Unit.id)
            .group_by(Unit.article_id)
        ).all()
    )
    for aid, pid, title, published, credits in session.execute(
        select(
            Article.id, Article.project_id, Article.title, Article.published, Article.credits
        ).order_by(Article.project_id, Article.id)
    ):
        projects[pid].articles.append(
            ArticleRow(
                aid, title, published, credits or [], sentences.get(aid, 0), annotations.get(aid, 0)
            )
        )
    return list(projects.values())
