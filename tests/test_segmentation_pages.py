"""The segmentation page: roles, split and merge forms, errors next to the unit, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from annotator.exchange.apply import upsert_annotation
from annotator.models import Annotation, Unit
from annotator.projects import label_ids
from tests.helpers import add_article, add_project, add_user, app_session, login

TEXT = (
    "Bridge closes\n\n"
    "The bridge will close on Monday the council said. It reopens in May.\n\n"
    "Traffic\n\n"
    "Drivers should use the <script>alert(1)</script> ferry."
)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        project = add_project(session, "wire")
        other = add_project(session, "elsewhere")
        article = add_article(session, project, TEXT)
        ann = add_user(session, "ann", project=project)
        add_user(session, "rev", "reviewer", project=project)
        add_user(session, "rev2", "reviewer", project=other)
        add_user(session, "boss", "admin")
        first = session.scalar(select(Unit).where(Unit.article_id == article.id, Unit.index == 0))
        assert first is not None
        labels = label_ids(session, project.id)
        upsert_annotation(session, first.id, ann.id, labels["quote"], [], "", ann.id, "create")
        session.commit()
        return {
            "article": article.id,
            "unit": first.id,
            "start": first.start,
            "end": first.end,
        }


def client_for(app: Flask, name: str | None) -> FlaskClient:
    client = app.test_client()
    if name:
        login(client, name)
    return client


def csrf(client: FlaskClient) -> str:
    html = client.get("/guidelines").get_data(as_text=True)
    return html.split('name="csrf-token" content="')[1].split('"')[0]


def spans(app: Flask, article_id: int) -> list[tuple[str, int, int, int | None]]:
    with app_session(app) as session:
        return [
            (kind, start, end, index)
            for kind, start, end, index in session.execute(
                select(Unit.kind, Unit.start, Unit.end, Unit.index)
                .where(Unit.article_id == article_id)
                .order_by(Unit.position)
            )
        ]


def test_anonymous_goes_to_login(app: Flask, world: dict) -> None:
    response = app.test_client().get(f"/articles/{world['article']}/segments")
    assert response.headers["Location"] == f"/login?next=/articles/{world['article']}/segments"


@pytest.mark.parametrize(
    ("user", "status"), [("ann", 403), ("rev", 200), ("boss", 200), ("rev2", 404)]
)
def test_page_by_role_and_no_write(app: Flask, world: dict, user: str, status: int) -> None:
    before = spans(app, world["article"])
    response = client_for(app, user).get(f"/articles/{world['article']}/segments")
    assert response.status_code == status
    assert spans(app, world["article"]) == before


@pytest.mark.parametrize("article", ["99999999999999999999", "0", "4242"])
def test_unknown_articles_are_404(app: Flask, world: dict, article: str) -> None:
    assert client_for(app, "boss").get(f"/articles/{article}/segments").status_code == 404


def test_page_lists_units_with_controls_and_escapes_text(app: Flask, world: dict) -> None:
    html = (
        client_for(app, "rev").get(f"/articles/{world['article']}/segments").get_data(as_text=True)
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f'href="/articles/{world["article"]}/annotate"' in html
    assert html.count('class="split-form"') == 3  # one per sentence
    # The second sentence is followed by a heading: it gets no merge button.
    assert html.count('class="merge-form"') == 1
    assert "Next is a heading" in html
    assert 'src="/static/segmentation.js"' in html and "<script>" not in html.replace(
        '<script src="/static/segmentation.js" defer></script>', ""
    )


@pytest.mark.parametrize("user", [None, "ann", "rev2"])
def test_edits_are_refused_to_others(app: Flask, world: dict, user: str | None) -> None:
    client = client_for(app, user)
    token = csrf(client) if user else ""
    before = spans(app, world["article"])
    base = f"/articles/{world['article']}/segments/{world['unit']}"
    data = {"start": world["start"], "end": world["end"], "csrf_token": token}
    split = client.post(f"{base}/split", data={**data, "offset": 5})
    merge = client.post(f"{base}/merge", data=data)
    expected = {None: 400, "ann": 403, "rev2": 404}[user]
    assert (split.status_code, merge.status_code) == (expected, expected)
    assert spans(app, world["article"]) == before


def test_edits_need_a_csrf_token(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    before = spans(app, world["article"])
    response = client.post(
        f"/articles/{world['article']}/segments/{world['unit']}/split",
        data={"offset": 5, "start": world["start"], "end": world["end"]},
    )
    assert response.status_code == 400
    assert spans(app, world["article"]) == before


def test_split_then_merge_through_the_forms(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    token = csrf(client)
    article, unit = world["article"], world["unit"]
    base = f"/articles/{article}/segments/{unit}"
    offset = len("The bridge will close on Monday ")
    data = {"start": world["start"], "end": world["end"], "csrf_token": token}
    response = client.post(f"{base}/split", data={**data, "offset": offset})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/articles/{article}/segments?page=1#u-{unit}"
    page = client.get(f"/articles/{article}/segments").get_data(as_text=True)
    assert "Split the sentence in two. 1 annotation(s) kept and flagged" in page
    assert "1 flagged annotation" in page
    rows = spans(app, article)
    assert [r[3] for r in rows[:4]] == [None, 0, 1, 2]
    # The page showed the old offsets: a second edit from it is refused, nothing changes.
    stale = client.post(f"{base}/merge", data=data)
    assert stale.status_code == 409
    assert "changed since the page was loaded" in stale.get_data(as_text=True)
    assert spans(app, article) == rows
    fresh = {"start": rows[1][1], "end": rows[1][2], "csrf_token": token}
    assert client.post(f"{base}/merge", data=fresh).status_code == 302
    assert spans(app, article)[1][1:3] == (world["start"], world["end"])
    with app_session(app) as session:
        annotation = session.scalar(select(Annotation).where(Annotation.unit_id == unit))
        assert annotation is not None and annotation.flagged and annotation.version == 3


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        ("", "give the position to split at"),
        ("abc", "Not a valid integer value"),
        ("0", "must be inside the sentence"),
        ("-3", "must be inside the sentence"),
        ("99999999999999999999", "must be inside the sentence"),
        ("500", "strictly inside the sentence"),
    ],
)
def test_bad_offsets_are_shown_next_to_the_sentence(
    app: Flask, world: dict, offset: str, message: str
) -> None:
    client = client_for(app, "rev")
    before = spans(app, world["article"])
    response = client.post(
        f"/articles/{world['article']}/segments/{world['unit']}/split",
        data={
            "offset": offset,
            "start": world["start"],
            "end": world["end"],
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'id="errors-{world["unit"]}"' in html
    assert spans(app, world["article"]) == before


def test_a_unit_of_another_article_is_404(app: Flask, world: dict) -> None:
    with app_session(app) as session:
        project = add_project(session, "wire")
        other = add_article(session, project, "Another story. With two sentences.")
        session.commit()
        other_id = other.id
    client = client_for(app, "rev")
    response = client.post(
        f"/articles/{other_id}/segments/{world['unit']}/merge",
        data={"start": world["start"], "end": world["end"], "csrf_token": csrf(client)},
    )
    assert response.status_code == 404
