"""The number of SQL statements of the hot pages does not grow with the data.

Each route is measured on a small project and on one four times larger in every
direction (sentences per article, articles, annotators, annotations, gold), on
both engines; the counts must be equal. A count that grows is an N+1 query.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from annotator.access import add_member
from annotator.models import (
    Annotation,
    AnnotationEvent,
    AnnotationSource,
    Assignment,
    Gold,
    GoldSource,
    Source,
    Unit,
    User,
)
from annotator.projects import label_ids
from tests.helpers import add_article, add_project, add_user, app_session, counted, login

LABELS = ("reported_fact", "quote", "speculation", "unclear")


@dataclass
class Sized:
    """Ids of one project built at a given scale."""

    project: int
    article: int
    sentences: list[int]


def _text(article: int, sentences: int) -> str:
    """Exactly ``sentences`` sentences citing sources (Reuters, AP) and quoting someone."""
    return " ".join(
        f'"The port {article}-{i} will reopen," a minister told Reuters.'
        if i % 2
        else f"Prices {article}-{i} may rise, AP reported."
        for i in range(sentences)
    )


def build(app: Flask, name: str, scale: int) -> Sized:
    """A project of 2·scale articles of 3·scale sentences, 2·scale annotators labelling
    every sentence (with sources, notes and history), gold on every other sentence."""
    with app_session(app) as session:
        project = add_project(session, name)
        ann, rev = (session.scalar(select(User).where(User.username == n)) for n in ("ann", "rev"))
        assert ann is not None and rev is not None
        for member in (ann, rev):
            add_member(session, project.id, member.id)
        people = [ann]
        people += [add_user(session, f"{name}-a{n}", project=project) for n in range(2 * scale - 1)]
        articles = [
            add_article(session, project, _text(a, 3 * scale), title=f"{name} {a}")
            for a in range(2 * scale)
        ]
        labels = label_ids(session, project.id)
        sources = session.scalars(
            select(Source.id).where(Source.project_id == project.id).order_by(Source.id)
        ).all()
        assert len(sources) >= 2
        first_sentences: list[int] = []
        for a, article in enumerate(articles):
            session.add(Assignment(article_id=article.id, user_id=people[0].id))
            units = session.scalars(
                select(Unit.id)
                .where(Unit.article_id == article.id, Unit.kind == "sentence")
                .order_by(Unit.position)
            ).all()
            if a == 0:
                first_sentences = list(units)
            for u, unit in enumerate(units):
                for p, person in enumerate(people):
                    label = LABELS[(u + p) % len(LABELS)]
                    chosen = sources[: (u + p) % 3]
                    # In bulk: the write path has its own tests, and this is 2,000 rows.
                    annotation = Annotation(
                        unit_id=unit, annotator_id=person.id, label_id=labels[label], note=f"n{u}"
                    )
                    annotation.sources = [
                        AnnotationSource(position=i, source_id=s) for i, s in enumerate(chosen)
                    ]
                    session.add(annotation)
                    session.add(
                        AnnotationEvent(
                            unit_id=unit,
                            annotator_id=person.id,
                            actor_id=person.id,
                            action="create",
                            version=1,
                            label=label,
                            note=f"n{u}",
                        )
                    )
                if u % 2 == 0:
                    gold = Gold(
                        unit_id=unit,
                        label_id=labels[LABELS[u % len(LABELS)]],
                        provenance="adjudicated",
                        reviewer_id=rev.id,
                        rationale="r",
                    )
                    gold.sources = [GoldSource(position=0, source_id=sources[0])]
                    session.add(gold)
        session.commit()
        return Sized(project.id, articles[0].id, first_sentences)


def client_for(app: Flask, name: str) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    login(client, name)
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    return client, {"X-CSRFToken": token}


def get_count(app: Flask, client: FlaskClient, url: str) -> int:
    with counted(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(statements)


ARTICLE_URLS = {
    "annotation page": "/articles/{article}/annotate",
    "article API": "/api/v1/articles/{article}",
}
PROJECT_URLS = {
    "project page": "/projects/{project}",
    "project API": "/api/v1/projects/{project}",
}
REVIEWER_URLS = {
    "annotation page, another's work": "/articles/{article}/annotate?annotator=ann",
    "article API, another's work": "/api/v1/articles/{article}?annotator=ann",
}
DASHBOARD_QUERIES = {
    "dashboard": "",
    "dashboard of one annotator": "?annotator=ann",
    "dashboard of one article": "?article={article}",
}


def save_count(app: Flask, sized: Sized, sources: int) -> int:
    """Statements of one save of an existing annotation with ``sources`` sources."""
    client, headers = client_for(app, "ann")
    with app_session(app) as session:
        ids = session.scalars(
            select(Source.id).where(Source.project_id == sized.project).order_by(Source.id)
        ).all()
    unit = sized.sentences[sources]
    view = client.get(f"/api/v1/articles/{sized.article}").get_json()
    [current] = [u["annotation"] for u in view["units"] if u["id"] == unit]
    body = {
        "label": "unclear",
        "sources": list(ids[:sources]),
        "note": "changed",
        "expected_version": current["version"],
    }
    with counted(app) as statements:
        response = client.put(f"/api/v1/units/{unit}/annotation", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["annotation"]["version"] == current["version"] + 1
    return len(statements)


def measure(app: Flask, sized: Sized) -> dict[str, int]:
    """Statements per route on one project, as an annotator and as a reviewer."""
    counts: dict[str, int] = {}
    ids = {"article": sized.article, "project": sized.project}
    for who in ("ann", "rev"):
        client, _ = client_for(app, who)
        urls = {**ARTICLE_URLS, **PROJECT_URLS}
        if who == "rev":
            urls |= REVIEWER_URLS
        for name, url in urls.items():
            target = url.format(**ids)
            client.get(target)  # the first request of a process also checks the schema
            counts[f"{name} ({who})"] = get_count(app, client, target)
    client, _ = client_for(app, "rev")
    for name, query in DASHBOARD_QUERIES.items():
        url = f"/projects/{sized.project}/agreement" + query.format(**ids)
        # The first view after the data changed computes the figures, the next reads the cache.
        counts[f"{name} (computed)"] = get_count(app, client, url)
        counts[f"{name} (cached)"] = get_count(app, client, url)
    for sources in (0, 2):
        counts[f"save with {sources} sources"] = save_count(app, sized, sources)
    return counts


def test_statement_counts_do_not_grow_with_the_data(app: Flask) -> None:
    with app_session(app) as session:
        add_user(session, "ann")
        add_user(session, "rev", "reviewer")
        session.commit()
    small, large = build(app, "small", 1), build(app, "large", 4)
    assert len(large.sentences) == 4 * len(small.sentences)
    at_small, at_large = measure(app, small), measure(app, large)
    grown = {name: (at_small[name], at_large[name]) for name in at_small}
    grown = {name: pair for name, pair in grown.items() if pair[0] != pair[1]}
    assert not grown, f"statements grow with the data (small, large): {grown}"
