"""Progress summaries: own progress for annotators, overall for reviewers, constant queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.access import add_member
from annotator.models import Annotation, Article, Assignment, Label, Project, Unit, User
from annotator.overview import annotator_progress, article_page, project_summaries
from annotator.users import create_user
from tests.helpers import add_article, add_project

THREE = "The council met on Monday. It approved the budget. The mayor said it was fair."
TWO = "Prices rose. Analysts expect more rises."


def add_user(
    session: Session, name: str, role: str = "annotator", *, project: Project | None = None
) -> User:
    """A user without a password (hashing costs most of a second), optionally a member."""
    user = create_user(session, name, role=role)
    if project is not None:
        add_member(session, project.id, user.id)
    session.flush()
    return user


def label_sentences(session: Session, user: User, article: Article, count: int) -> None:
    """Label the first ``count`` sentences of the article as ``user``."""
    label_id = session.scalar(
        select(Label.id).where(Label.project_id == article.project_id, Label.name == "quote")
    )
    units = session.scalars(
        select(Unit.id)
        .where(Unit.article_id == article.id, Unit.kind == "sentence")
        .order_by(Unit.index)
        .limit(count)
    ).all()
    for unit_id in units:
        session.add(Annotation(unit_id=unit_id, annotator_id=user.id, label_id=label_id))
    session.flush()


def setup(session: Session):
    project = add_project(session, "wire")
    other = add_project(session, "other")
    a3 = add_article(session, project, THREE, title="Three")
    a2 = add_article(session, project, TWO, title="Two")
    add_article(session, other, TWO, title="Elsewhere")
    ann = add_user(session, "ann", project=project)
    bob = add_user(session, "bob", project=project)
    rev = add_user(session, "rev", "reviewer", project=project)
    return project, a3, a2, ann, bob, rev


def test_annotator_sees_own_progress_in_member_projects_only(session: Session) -> None:
    project, a3, a2, ann, bob, _ = setup(session)
    label_sentences(session, ann, a3, 2)
    label_sentences(session, bob, a2, 2)
    [summary] = project_summaries(session, ann)
    assert (summary.name, summary.articles, summary.own) == ("wire", 2, True)
    assert (summary.progress.done, summary.progress.total) == (2, 5)
    assert summary.progress.percent == 40


def test_reviewer_sees_overall_progress_over_member_annotators(session: Session) -> None:
    project, a3, a2, ann, bob, rev = setup(session)
    label_sentences(session, ann, a3, 3)
    label_sentences(session, bob, a2, 1)
    label_sentences(session, rev, a2, 2)  # reviewers' own labels do not fill annotator slots
    [summary] = project_summaries(session, rev)
    # two annotators x five sentences expected; 3 + 1 labelled
    assert (summary.progress.done, summary.progress.total, summary.own) == (4, 10, False)


def test_admin_sees_every_project(session: Session) -> None:
    setup(session)
    admin = add_user(session, "root", "admin")
    names = [summary.name for summary in project_summaries(session, admin)]
    assert names == ["other", "wire"]


def test_assignments_limit_what_counts(session: Session) -> None:
    project, a3, a2, ann, bob, rev = setup(session)
    session.add(Assignment(article_id=a3.id, user_id=ann.id))
    session.add(Assignment(article_id=a2.id, user_id=bob.id))
    session.flush()
    label_sentences(session, ann, a3, 1)
    label_sentences(session, ann, a2, 2)  # not assigned to ann: not counted
    [mine] = project_summaries(session, ann)
    assert (mine.articles, mine.progress.done, mine.progress.total) == (1, 1, 3)
    people = {
        p.username: (p.progress.done, p.progress.total)
        for p in annotator_progress(session, project.id)
    }
    assert people == {"ann": (1, 3), "bob": (0, 2)}
    [overall] = project_summaries(session, rev)
    assert (overall.progress.done, overall.progress.total) == (1, 5)


def test_annotator_progress_only_one(session: Session) -> None:
    project, a3, _, ann, bob, _ = setup(session)
    label_sentences(session, bob, a3, 3)
    [only] = annotator_progress(session, project.id, only=ann)
    assert (only.username, only.progress.done, only.progress.total) == ("ann", 0, 5)


def test_article_page_rows_and_reviewer_columns(session: Session) -> None:
    project, a3, a2, ann, bob, rev = setup(session)
    label_sentences(session, ann, a3, 3)
    label_sentences(session, bob, a3, 3)
    label_sentences(session, bob, a2, 1)
    session.add(Assignment(article_id=a3.id, user_id=ann.id))
    session.flush()
    page = article_page(session, project.id, rev)
    assert (page.page, page.pages, page.total) == (1, 1, 2)
    first, second = page.rows
    assert (first.id, first.title, first.sentences, first.finished) == (a3.id, "Three", 3, 2)
    assert first.assigned == ["ann"]
    assert (second.sentences, second.finished, second.assigned) == (2, 0, [])
    assert (first.progress.done, first.progress.total) == (0, 3)  # the reviewer's own
    mine = article_page(session, project.id, ann)
    assert [row.id for row in mine.rows] == [a3.id]  # assignments exist: only hers
    assert (mine.rows[0].progress.done, mine.rows[0].finished) == (3, 0)


def test_article_page_paginates_and_clamps(session: Session) -> None:
    project = add_project(session)
    admin = add_user(session, "root", "admin")
    for n in range(7):
        add_article(session, project, f"Sentence number {n} is here.", title=f"A{n}")
    page = article_page(session, project.id, admin, page=2, per_page=3)
    assert ([row.title for row in page.rows], page.pages, page.total) == (["A3", "A4", "A5"], 3, 7)
    assert article_page(session, project.id, admin, page=99, per_page=3).page == 3
    assert article_page(session, project.id, admin, page=-5, per_page=3).page == 1


def test_no_projects(session: Session) -> None:
    nobody = add_user(session, "nobody")
    assert project_summaries(session, nobody) == []
