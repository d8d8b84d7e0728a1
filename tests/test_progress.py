"""Progress per article and the next article to open."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.models import Assignment, Unit
from annotator.progress import article_progress, next_article_for
from annotator.projects import label_ids
from tests.helpers import add_article, add_project, add_user


def _label_all(session: Session, article_id: int, user_id: int, label_id: int) -> None:
    for unit_id in session.scalars(
        select(Unit.id).where(Unit.article_id == article_id, Unit.kind == "sentence")
    ):
        upsert_annotation(session, unit_id, user_id, label_id, [], "", user_id, "create")


def test_next_article_skips_finished_ones_and_wraps(session: Session) -> None:
    project = add_project(session)
    ann = add_user(session, "ann", project=project)
    first, second, third = (
        add_article(session, project, f"Story {n}\n\nOfficials said the road {n} reopened.")
        for n in range(3)
    )
    quote = label_ids(session, project.id)["quote"]
    _label_all(session, first.id, ann.id, quote)
    assert next_article_for(session, ann, project.id) == second.id
    assert next_article_for(session, ann, project.id, after=second.id) == third.id
    assert next_article_for(session, ann, project.id, after=third.id) == second.id  # wraps
    assert article_progress(session, [first.id, second.id], ann.id) == {
        first.id: (1, 1),
        second.id: (0, 1),
    }
    for article in (second, third):
        _label_all(session, article.id, ann.id, quote)
    assert next_article_for(session, ann, project.id) is None


def test_annotators_only_get_their_assigned_articles(session: Session) -> None:
    project = add_project(session)
    ann = add_user(session, "ann", project=project)
    boss = add_user(session, "boss", "reviewer", project=project)
    first = add_article(session, project, "One\n\nPolice said the bridge closed.")
    second = add_article(session, project, "Two\n\nPolice said the tunnel closed.")
    session.add(Assignment(article_id=second.id, user_id=ann.id))
    session.flush()
    assert next_article_for(session, ann, project.id) == second.id
    assert next_article_for(session, ann, project.id, after=second.id) == second.id
    assert next_article_for(session, boss, project.id) == first.id  # reviewers see all
