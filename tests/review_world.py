"""A small project with known disagreements, shared by the review tests.

Sentences of the article "Talks resume" (index: answers of ann1 / ann2 / ann3):

0. quote [Koh, AP] by all three                                      unanimous (3)
1. reported_fact / speculation / reported_fact, no sources           label pair
2. quote [Koh] / quote [Koh, AP]                                     sources disagree
3. speculation [AFP] / unclear [AFP]                                 no agreement
4. reported_fact [KCNA] by ann1 only                                 single rating
5. quote by ann1 and ann2, no sources                                unanimous (2)
6. not labelled

Least agreed first (open queue): 3, 1, 2, 0, 5; sentence 4 comes last in "all".
A second article ("Other story") has one sentence labelled quote / speculation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.models import Unit
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from tests.helpers import add_article, add_project, add_user

TEXT = (
    'Officials met on Monday. The talks could resume in May. "We are ready," Koh said. '
    "Prices rose by 4 percent. Is this the end? The agency reported a launch.\n\n"
    "Analysts expect more."
)
OTHER = "The ministry said the bridge could close. Nobody knows when."

ANSWERS: dict[int, dict[str, tuple[str, list[str]]]] = {
    0: {
        "ann1": ("quote", ["Koh", "AP"]),
        "ann2": ("quote", ["Koh", "AP"]),
        "ann3": ("quote", ["Koh", "AP"]),
    },
    1: {
        "ann1": ("reported_fact", []),
        "ann2": ("speculation", []),
        "ann3": ("reported_fact", []),
    },
    2: {"ann1": ("quote", ["Koh"]), "ann2": ("quote", ["Koh", "AP"])},
    3: {"ann1": ("speculation", ["AFP"]), "ann2": ("unclear", ["AFP"])},
    4: {"ann1": ("reported_fact", ["KCNA"])},
    5: {"ann1": ("quote", []), "ann2": ("quote", [])},
}


def sentence_ids(session: Session, article_id: int) -> list[int]:
    """The article's sentence unit ids by index."""
    return list(
        session.scalars(
            select(Unit.id)
            .where(Unit.article_id == article_id, Unit.kind == "sentence")
            .order_by(Unit.index)
        )
    )


def build(session: Session, *, hostile: bool = False) -> dict[str, Any]:
    """The project "wire" (answers above), "elsewhere" with its own reviewer, and users:
    ann1..ann3 (annotators of wire), outsider (annotator of elsewhere), rev (reviewer
    of wire), rev2 (reviewer of elsewhere), boss (admin). Commits."""
    project = add_project(session, "wire")
    other_project = add_project(session, "elsewhere")
    text = TEXT
    if hostile:
        text = text.replace("Prices rose by 4 percent.", "Prices <script>alert(1)</script> rose.")
    article = add_article(session, project, text, title="Talks resume")
    second = add_article(session, project, OTHER, title="Other story")
    foreign = add_article(session, other_project, OTHER, title="Foreign story")
    users = {name: add_user(session, name, project=project) for name in ("ann1", "ann2", "ann3")}
    users["outsider"] = add_user(session, "outsider", project=other_project)
    users["rev"] = add_user(session, "rev", "reviewer", project=project)
    users["rev2"] = add_user(session, "rev2", "reviewer", project=other_project)
    users["boss"] = add_user(session, "boss", "admin")
    registry = SourceIndex(session, project.id)
    sources = {
        "Koh": registry.ensure("Koh Yu-hwan", "person", ["Koh"]),
        "AP": registry.ensure("AP", "news_agency", ["Associated Press"]),
        "AFP": registry.ensure("AFP", "news_agency"),
        "KCNA": registry.ensure("KCNA", "news_agency"),
    }
    session.flush()
    labels = label_ids(session, project.id)
    units = sentence_ids(session, article.id)
    for index, answers in ANSWERS.items():
        for name, (label, names) in answers.items():
            user = users[name]
            upsert_annotation(
                session,
                units[index],
                user.id,
                labels[label],
                [sources[n] for n in names],
                "",
                user.id,
                "create",
                seconds_spent=12.0 + index,
            )
    second_units = sentence_ids(session, second.id)
    for name, label in (("ann1", "quote"), ("ann2", "speculation")):
        user = users[name]
        upsert_annotation(
            session, second_units[0], user.id, labels[label], [], "", user.id, "create"
        )
    session.commit()
    return {
        "project": project.id,
        "other_project": other_project.id,
        "article": article.id,
        "second": second.id,
        "foreign": foreign.id,
        "foreign_unit": sentence_ids(session, foreign.id)[0],
        "units": units,
        "second_units": second_units,
        "users": {name: user.id for name, user in users.items()},
        "sources": sources,
        "source_names": {key: registry.names[i] for key, i in sources.items()},
        "labels": labels,
    }
