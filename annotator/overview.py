"""Progress summaries for listings: projects, their articles and their annotators.

Progress counts sentences. An annotator's progress is the sentences they
labelled over the sentences of the articles they may open (their assigned
articles, or every article while the project has no assignments). A project's
overall progress adds that up over its member annotators, so the overall bar
is exactly the sum of the per-annotator bars a reviewer sees.

Every function runs a fixed number of grouped queries, whatever the number of
projects, articles or annotators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select, Subquery

from annotator.access import is_reviewer, visible_articles, visible_projects
from annotator.models import Annotation, Article, Assignment, Project, ProjectMember, Unit, User

ARTICLES_PER_PAGE = 50


@dataclass(slots=True)
class Progress:
    """Sentences labelled out of sentences expected."""

    done: int = 0
    total: int = 0

    @property
    def percent(self) -> int:
        """Whole percent done (0 when nothing is expected)."""
        return (100 * self.done) // self.total if self.total else 0

    def as_dict(self) -> dict[str, int]:
        """The JSON form used by the API."""
        return {"done": self.done, "total": self.total, "percent": self.percent}


@dataclass(slots=True)
class ProjectSummary:
    """One project as the start page and the API list it."""

    id: int
    name: str
    description: str
    articles: int = 0
    progress: Progress = field(default_factory=Progress)
    own: bool = True  # progress is the viewer's own (annotators) or overall (reviewers)


@dataclass(slots=True)
class ArticleRow:
    """One article of the project page's table."""

    id: int
    title: str
    published: str | None
    credits: list[str]
    sentences: int
    progress: Progress
    finished: int = 0  # annotators who labelled every sentence (shown to reviewers)
    assigned: list[str] = field(default_factory=list)  # usernames (shown to reviewers)


@dataclass(slots=True)
class ArticlePage:
    """A page of the project's articles."""

    rows: list[ArticleRow]
    page: int
    pages: int
    total: int


@dataclass(slots=True)
class AnnotatorProgress:
    """One annotator's progress in a project."""

    user_id: int
    username: str
    progress: Progress


def _sentence() -> ColumnElement[bool]:
    return Unit.kind == "sentence"


def _projects_with_assignments(project_ids: Iterable[int]) -> Select[tuple[int]]:
    """Those of ``project_ids`` with any assignment (then annotators see only theirs)."""
    other = aliased(Article)
    return (
        select(other.project_id)
        .join(Assignment, Assignment.article_id == other.id)
        .where(other.project_id.in_(list(project_ids)))
    )


def _may_open(
    article_id: ColumnElement[int],
    project_id: ColumnElement[int],
    user_id: ColumnElement[int] | int,
    project_ids: Iterable[int],
) -> ColumnElement[bool]:
    """SQL for access.visible_articles' annotator rule, usable in grouped queries over
    ``project_ids``."""
    assigned = exists().where(Assignment.article_id == article_id, Assignment.user_id == user_id)
    # Not correlated to the row, so the database works the list out once per
    # query. "Has this row's project any assignment?" asked per row walked the
    # project's articles for every unit or annotation counted: 10 s and more
    # for the progress of a 1,000-article project without assignments.
    return or_(assigned, project_id.not_in(_projects_with_assignments(project_ids)))


def project_summaries(session: Session, user: User) -> list[ProjectSummary]:
    """The projects ``user`` may see, with article counts and progress (own or overall)."""
    visible = visible_projects(user).with_only_columns(
        Project.id, Project.name, Project.description
    )
    projects = {
        pid: ProjectSummary(pid, name, description or "", own=not is_reviewer(user))
        for pid, name, description in session.execute(visible.order_by(Project.name, Project.id))
    }
    if not projects:
        return []
    ids = list(projects)
    counted = select(Article.project_id, func.count()).where(Article.project_id.in_(ids))
    if not is_reviewer(user):
        counted = counted.where(_may_open(Article.id, Article.project_id, user.id, ids))
    for pid, count in session.execute(counted.group_by(Article.project_id)):
        projects[pid].articles = count
    totals, done = (_own_progress if not is_reviewer(user) else _overall_progress)(
        session, ids, user
    )
    for pid, summary in projects.items():
        summary.progress = Progress(done.get(pid, 0), totals.get(pid, 0))
    return list(projects.values())


def _own_progress(
    session: Session, project_ids: list[int], user: User
) -> tuple[dict[int, int], dict[int, int]]:
    """Per project: sentences the user may open, and those they labelled."""
    base = (
        select(Article.project_id, func.count(Unit.id))
        .join(Unit, Unit.article_id == Article.id)
        .where(
            Article.project_id.in_(project_ids),
            _sentence(),
            _may_open(Article.id, Article.project_id, user.id, project_ids),
        )
        .group_by(Article.project_id)
    )
    totals = dict(session.execute(base).all())
    labelled = base.join(
        Annotation, (Annotation.unit_id == Unit.id) & (Annotation.annotator_id == user.id)
    )
    return totals, dict(session.execute(labelled).all())


def _overall_progress(
    session: Session, project_ids: list[int], _user: User | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """Per project, summed over member annotators: sentences expected and labelled."""
    member = and_(
        ProjectMember.project_id == Article.project_id,
        ProjectMember.user_id == User.id,
        User.role == "annotator",
    )
    # Expected: every (annotator, sentence) pair of the articles each annotator may
    # open. Counted per article first, so the access rule is checked per article
    # and annotator rather than per sentence and annotator.
    sentences = _sentences_per_article(project_ids)
    expected = (
        select(Article.project_id, func.sum(sentences.c.n))
        .join(sentences, sentences.c.article_id == Article.id)
        .join(ProjectMember, ProjectMember.project_id == Article.project_id)
        .join(User, member)
        .where(_may_open(Article.id, Article.project_id, User.id, project_ids))
        .group_by(Article.project_id)
    )
    labels = _labelled_per_article(project_ids)
    labelled = (
        select(Article.project_id, func.sum(labels.c.n))
        .select_from(labels)
        .join(Article, Article.id == labels.c.article_id)
        .join(User, User.id == labels.c.annotator_id)
        .join(ProjectMember, member)
        .where(_may_open(Article.id, Article.project_id, User.id, project_ids))
        .group_by(Article.project_id)
    )
    return _sums(session, expected), _sums(session, labelled)


def _sentences_per_article(project_ids: list[int]) -> Subquery:
    """(article_id, n): the sentences of every article of these projects."""
    return (
        select(Unit.article_id, func.count().label("n"))
        .join(Article, Article.id == Unit.article_id)
        .where(Article.project_id.in_(project_ids), _sentence())
        .group_by(Unit.article_id)
        .subquery("sentences")
    )


def _labelled_per_article(
    project_ids: list[int], annotator_ids: list[int] | None = None
) -> Subquery:
    """(article_id, annotator_id, n): the sentences each annotator labelled per article."""
    query = (
        select(Unit.article_id, Annotation.annotator_id, func.count().label("n"))
        .join(Annotation, Annotation.unit_id == Unit.id)
        .join(Article, Article.id == Unit.article_id)
        .where(Article.project_id.in_(project_ids), _sentence())
        .group_by(Unit.article_id, Annotation.annotator_id)
    )
    if annotator_ids is not None:
        query = query.where(Annotation.annotator_id.in_(annotator_ids))
    return query.subquery("labelled")


def _sums(session: Session, query: Select[tuple[int, int]]) -> dict[int, int]:
    # SUM of counts is NUMERIC on PostgreSQL: whole numbers for the pages and JSON.
    return {key: int(total) for key, total in session.execute(query)}


def project_progress(session: Session, project_id: int, user: User) -> Progress:
    """The viewer's own progress (annotators) or the overall progress (reviewers)."""
    fn = _overall_progress if is_reviewer(user) else _own_progress
    totals, done = fn(session, [project_id], user)
    return Progress(done.get(project_id, 0), totals.get(project_id, 0))


def annotator_progress(
    session: Session, project_id: int, only: User | None = None
) -> list[AnnotatorProgress]:
    """Each member annotator's progress (or only ``only``'s), ordered by name."""
    query = (
        select(User.id, User.username)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project_id, User.role == "annotator")
        .order_by(User.username)
    )
    if only is not None:
        query = query.where(User.id == only.id)
    people = session.execute(query).all()
    if not people:
        return []
    user_ids = [uid for uid, _ in people]
    # Per article first (see _overall_progress), then per annotator.
    sentences = _sentences_per_article([project_id])
    totals = _sums(
        session,
        select(User.id, func.sum(sentences.c.n))
        .select_from(User)
        .join(Article, Article.project_id == project_id)
        .join(sentences, sentences.c.article_id == Article.id)
        .where(
            User.id.in_(user_ids),
            _may_open(Article.id, Article.project_id, User.id, [project_id]),
        )
        .group_by(User.id),
    )
    labels = _labelled_per_article([project_id], user_ids)
    done = _sums(
        session,
        select(labels.c.annotator_id, func.sum(labels.c.n))
        .join(Article, Article.id == labels.c.article_id)
        .where(_may_open(Article.id, Article.project_id, labels.c.annotator_id, [project_id]))
        .group_by(labels.c.annotator_id),
    )
    return [
        AnnotatorProgress(uid, name, Progress(done.get(uid, 0), totals.get(uid, 0)))
        for uid, name in people
    ]


def article_page(
    session: Session, project_id: int, user: User, page: int = 1, per_page: int = ARTICLES_PER_PAGE
) -> ArticlePage:
    """One page of the articles ``user`` may open, with sentences and progress per article."""
    visible = visible_articles(user, project_id)
    total = session.scalar(visible.with_only_columns(func.count(Article.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.execute(
        visible.with_only_columns(Article.id, Article.title, Article.published, Article.credits)
        .order_by(Article.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    ids = [row[0] for row in rows]
    sentences = _count_by_article(
        session, select(Unit.article_id, func.count(Unit.id)).where(_sentence()), ids
    )
    own = _count_by_article(
        session,
        select(Unit.article_id, func.count(Annotation.id))
        .join(Annotation, Annotation.unit_id == Unit.id)
        .where(_sentence(), Annotation.annotator_id == user.id),
        ids,
    )
    articles = [
        ArticleRow(
            aid,
            title,
            published,
            list(credits or []),
            sentences.get(aid, 0),
            Progress(own.get(aid, 0), sentences.get(aid, 0)),
        )
        for aid, title, published, credits in rows
    ]
    if is_reviewer(user) and ids:
        _add_reviewer_columns(session, articles, sentences)
    return ArticlePage(articles, page, pages, total)


def _count_by_article(
    session: Session, query: Select[tuple[int, int]], article_ids: Iterable[int]
) -> dict[int, int]:
    ids = list(article_ids)
    if not ids:
        return {}
    grouped = query.where(Unit.article_id.in_(ids)).group_by(Unit.article_id)
    return dict(session.execute(grouped).all())


def _add_reviewer_columns(
    session: Session, articles: list[ArticleRow], sentences: dict[int, int]
) -> None:
    """Fill in who is assigned and how many annotators finished each article."""
    ids = [row.id for row in articles]
    per_annotator = session.execute(
        select(Unit.article_id, Annotation.annotator_id, func.count(Annotation.id))
        .join(Annotation, Annotation.unit_id == Unit.id)
        .where(Unit.article_id.in_(ids), _sentence())
        .group_by(Unit.article_id, Annotation.annotator_id)
    )
    finished: dict[int, int] = {}
    for aid, _annotator, count in per_annotator:
        if sentences.get(aid) and count >= sentences[aid]:
            finished[aid] = finished.get(aid, 0) + 1
    assigned: dict[int, list[str]] = {}
    for aid, name in session.execute(
        select(Assignment.article_id, User.username)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.article_id.in_(ids))
        .order_by(User.username)
    ):
        assigned.setdefault(aid, []).append(name)
    for row in articles:
        row.finished = finished.get(row.id, 0)
        row.assigned = assigned.get(row.id, [])
