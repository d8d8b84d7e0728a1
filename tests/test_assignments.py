"""Assigning articles: round-robin by load, deterministic, never dropping started work."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.assignments import (
    AssignmentError,
    distribute,
    has_assignments,
    project_assignments,
    set_article_annotators,
)
from annotator.memberships import (
    MembershipError,
    add_member_by_name,
    list_members,
    remove_member,
)
from annotator.models import Assignment, ProjectMember
from tests.helpers import add_article, add_project
from tests.test_overview import add_user, label_sentences


def make(session: Session, articles: int = 5, annotators: int = 3, per_article: int | None = 2):
    project = add_project(session)
    project.annotators_per_article = per_article
    docs = [
        add_article(session, project, f"Item {n} happened today. More followed.", title=f"A{n}")
        for n in range(articles)
    ]
    people = [add_user(session, f"ann{n}", project=project) for n in range(annotators)]
    add_user(session, "rev", "reviewer", project=project)  # reviewers are never assigned
    return project, docs, people


def names(session: Session, project_id: int, people) -> dict[int, list[str]]:
    by_id = {p.id: p.username for p in people}
    return {
        article: sorted(by_id[u] for u in users)
        for article, users in project_assignments(session, project_id).items()
    }


def test_distribute_round_robin_by_load(session: Session) -> None:
    project, docs, people = make(session)
    result = distribute(session, project.id)
    assert (result.created, result.articles) == (10, 5)
    got = names(session, project.id, people)
    assert [got[d.id] for d in docs] == [
        ["ann0", "ann1"],
        ["ann0", "ann2"],
        ["ann1", "ann2"],
        ["ann0", "ann1"],
        ["ann0", "ann2"],
    ]
    assert has_assignments(session, project.id)
    # Running again changes nothing.
    again = distribute(session, project.id)
    assert (again.created, again.message) == (0, "Every article already has its annotators.")


def test_distribute_is_deterministic(session: Session) -> None:
    project, docs, people = make(session)
    distribute(session, project.id)
    first = names(session, project.id, people)
    session.execute(Assignment.__table__.delete())
    distribute(session, project.id)
    assert names(session, project.id, people) == first


def test_distribute_tops_up_new_articles_and_new_annotators(session: Session) -> None:
    project, docs, people = make(session, articles=2, annotators=2, per_article=1)
    distribute(session, project.id)
    newcomer = add_user(session, "ann9", project=project)
    late = add_article(session, project, "A late story arrived. It was short.", title="Late")
    result = distribute(session, project.id)
    assert result.created == 1
    assert project_assignments(session, project.id)[late.id] == {newcomer.id}


def test_distribute_without_target_and_without_assignments_does_nothing(session: Session) -> None:
    project, _, _ = make(session, per_article=None)
    result = distribute(session, project.id)
    assert result.created == 0
    assert "already sees every article" in result.message
    assert not has_assignments(session, project.id)


def test_distribute_without_target_tops_up_to_everyone(session: Session) -> None:
    project, docs, people = make(session, articles=2, annotators=2, per_article=None)
    session.add(Assignment(article_id=docs[0].id, user_id=people[0].id))
    session.flush()
    assert distribute(session, project.id).created == 3


def test_distribute_reports_too_few_annotators(session: Session) -> None:
    project, _, _ = make(session, articles=2, annotators=1, per_article=3)
    result = distribute(session, project.id)
    assert (result.created, result.short) == (2, 2)
    assert "only 1" in result.message


def test_distribute_without_annotators(session: Session) -> None:
    project, _, _ = make(session, annotators=0)
    result = distribute(session, project.id)
    assert result.created == 0
    assert result.message == "The project has no annotators to assign articles to."


def test_set_article_annotators_keeps_started_work(session: Session) -> None:
    project, docs, people = make(session, articles=1)
    article = docs[0]
    set_article_annotators(session, article.id, {people[0].id, people[1].id})
    label_sentences(session, people[0], article, 1)
    result = set_article_annotators(session, article.id, {people[2].id})
    assert (result.added, result.removed, result.kept) == (["ann2"], ["ann1"], ["ann0"])
    assert project_assignments(session, project.id)[article.id] == {people[0].id, people[2].id}


def test_set_article_annotators_refuses_non_members(session: Session) -> None:
    project, docs, _ = make(session, articles=1)
    stranger = add_user(session, "stranger")
    reviewer = add_user(session, "rev2", "reviewer", project=project)
    for user in (stranger, reviewer):
        with pytest.raises(AssignmentError):
            set_article_annotators(session, docs[0].id, {user.id})
    with pytest.raises(AssignmentError):
        set_article_annotators(session, 10**6, set())


def test_members_add_list_remove(session: Session) -> None:
    project, docs, people = make(session, articles=2)
    newcomer = add_user(session, "Zed", "reviewer")
    assert add_member_by_name(session, project.id, "  ZED ").id == newcomer.id
    with pytest.raises(MembershipError, match="already a member"):
        add_member_by_name(session, project.id, "zed")
    with pytest.raises(MembershipError, match="annotator users add"):
        add_member_by_name(session, project.id, "nobody")
    listed = [(m.username, m.role) for m in list_members(session, project.id)]
    assert listed == [
        ("rev", "reviewer"),
        ("zed", "reviewer"),
        ("ann0", "annotator"),
        ("ann1", "annotator"),
        ("ann2", "annotator"),
    ]
    distribute(session, project.id)
    label_sentences(session, people[0], docs[0], 1)
    remove_member(session, project.id, people[0].id)
    assert session.get(ProjectMember, (project.id, people[0].id)) is None
    # The assignment of the article ann0 labelled stays; the untouched one goes.
    left = session.scalars(select(Assignment.article_id).where(Assignment.user_id == people[0].id))
    assert list(left) == [docs[0].id]
    with pytest.raises(MembershipError):
        remove_member(session, project.id, people[0].id)
    assert session.scalar(select(func.count()).select_from(ProjectMember)) == 4
