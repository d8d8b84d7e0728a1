"""/api/v1/projects: listing, one project, importing an article, export; roles and bad input."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from annotator.api.openapi import document
from annotator.auth import create_api_token
from annotator.models import Article, User
from tests.helpers import app_session
from tests.test_projects_pages import World, client_for, counts, csrf, make_world


@pytest.fixture
def world(app: Flask) -> World:
    return make_world(app)


ARTICLE = {"text": "The port reopened on Monday, AP reported. Ships queued.", "title": "Port"}


def token_for(app: Flask, name: str) -> str:
    with app_session(app) as session:
        user = session.scalars(select(User).where(User.username == name)).one()
        token = create_api_token(session, user, "test")
        session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_is_described() -> None:
    paths = document()["paths"]
    for path, method in (
        ("/projects", "get"),
        ("/projects/{project_id}", "get"),
        ("/projects/{project_id}/articles", "post"),
        ("/projects/{project_id}/export", "get"),
    ):
        assert method in paths[path]


def test_anonymous_gets_401_json(app: Flask, world: World) -> None:
    client = app.test_client()
    for url in (
        "/api/v1/projects",
        f"/api/v1/projects/{world.wire}",
        f"/api/v1/projects/{world.wire}/export",
    ):
        response = client.get(url)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthenticated"
    # With a CSRF token of the anonymous session, the POST reaches the login check.
    token = client.get("/login").get_data(as_text=True).split('name="csrf-token" content="')[1]
    response = client.post(
        f"/api/v1/projects/{world.wire}/articles",
        json=ARTICLE,
        headers={"X-CSRFToken": token.split('"')[0]},
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_list_projects_by_role(app: Flask, world: World) -> None:
    mine = client_for(app, "ann").get("/api/v1/projects").get_json()["projects"]
    assert [(p["name"], p["articles"], p["progress_scope"]) for p in mine] == [("wire", 2, "own")]
    assert mine[0]["progress"] == {"done": 3, "total": 5, "percent": 60}
    everything = client_for(app, "root").get("/api/v1/projects").get_json()["projects"]
    assert [p["name"] for p in everything] == ["other", "wire"]
    assert everything[1]["progress_scope"] == "overall"
    assert client_for(app, "loner").get("/api/v1/projects").get_json() == {"projects": []}


def test_get_project(app: Flask, world: World) -> None:
    body = client_for(app, "rev").get(f"/api/v1/projects/{world.wire}").get_json()
    assert body["name"] == "wire" and body["suggestion_mode"] == "hint"
    assert [label["name"] for label in body["labels"]] == [
        "reported_fact",
        "quote",
        "speculation",
        "unclear",
    ]
    assert body["articles"]["total"] == 2 and body["articles"]["page"] == 1
    first = body["articles"]["items"][0]
    assert first["title"] == "Three <script>alert(1)</script>"  # JSON carries the raw string
    assert (first["sentences"], first["finished"], first["assigned"]) == (3, 1, [])
    assert body["progress"] == {"done": 3, "total": 5, "percent": 60}


def test_get_project_annotator_sees_no_reviewer_fields(app: Flask, world: World) -> None:
    body = client_for(app, "ann").get(f"/api/v1/projects/{world.wire}").get_json()
    first = body["articles"]["items"][0]
    assert "finished" not in first and "assigned" not in first
    assert first["progress"] == {"done": 3, "total": 3, "percent": 100}


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e309", str(2**64), "1 OR 1=1", "٣"])
def test_get_project_bad_page(app: Flask, world: World, page: str) -> None:
    response = client_for(app, "rev").get(
        f"/api/v1/projects/{world.wire}", query_string={"page": page}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_page"


@pytest.mark.parametrize("name", ["out", "loner"])
def test_non_members_get_404_everywhere(app: Flask, world: World, name: str) -> None:
    client = client_for(app, name)
    before = counts(app)
    for url in (f"/api/v1/projects/{world.wire}", f"/api/v1/projects/{world.wire}/export"):
        assert client.get(url).status_code == 404
    response = client.post(
        f"/api/v1/projects/{world.wire}/articles",
        json=ARTICLE,
        headers={"X-CSRFToken": csrf(client)},
    )
    assert response.status_code == 404
    assert client.get("/api/v1/projects/99999").status_code == 404
    assert counts(app) == before


def test_annotator_gets_403_for_reviewer_actions(app: Flask, world: World) -> None:
    client = client_for(app, "ann")
    before = counts(app)
    assert client.get(f"/api/v1/projects/{world.wire}/export").status_code == 403
    response = client.post(
        f"/api/v1/projects/{world.wire}/articles",
        json=ARTICLE,
        headers={"X-CSRFToken": csrf(client)},
    )
    assert response.status_code == 403
    assert counts(app) == before


def post_article(client: FlaskClient, project_id: int, body: object, **kwargs: object):
    return client.post(
        f"/api/v1/projects/{project_id}/articles",
        headers={"X-CSRFToken": csrf(client)},
        json=body,
        **kwargs,
    )


def test_import_article_then_duplicate(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    created = post_article(
        client, world.wire, {**ARTICLE, "credits": ["AP"], "published": "2024-01-02"}
    )
    assert created.status_code == 201
    body = created.get_json()
    assert (body["title"], body["sentences"], body["duplicate_of"]) == ("Port", 2, None)
    assert "AP" in body["sources"]
    with app_session(app) as session:
        article = session.get(Article, body["article_id"])
        assert article is not None
        assert (article.credits, article.published, article.origin) == (
            ["AP"],
            "2024-01-02",
            "api",
        )
    before = counts(app)
    again = post_article(client, world.wire, ARTICLE)
    assert again.status_code == 200
    assert again.get_json()["duplicate_of"] == body["article_id"]
    assert counts(app) == before


def test_import_with_bearer_token_needs_no_csrf(app: Flask, world: World) -> None:
    token = token_for(app, "root")
    response = app.test_client().post(
        f"/api/v1/projects/{world.wire}/articles", json=ARTICLE, headers=bearer(token)
    )
    assert response.status_code == 201


def test_import_without_csrf_refused(app: Flask, world: World) -> None:
    before = counts(app)
    response = client_for(app, "rev").post(f"/api/v1/projects/{world.wire}/articles", json=ARTICLE)
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"
    assert counts(app) == before


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        0,
        {},
        {"text": ""},
        {"text": "   \n "},
        {"text": ["A list."]},
        {"text": 1e309},
        {"text": 2**64},
        {"text": None},
        {"text": "Fine text. Yes.", "title": ["x"]},
        {"text": "Fine text. Yes.", "title": 5},
        {"text": "Fine text. Yes.", "credits": "AP"},
        {"text": "Fine text. Yes.", "credits": [1]},
        {"text": "Fine text. Yes.", "url": "javascript:alert(1)"},
        {"text": "Fine text. Yes.", "published": "yesterday-ish"},
        {"text": "Fine text. Yes.", "id": "1 OR 1=1"},
        {"text": "Fine text. Yes.", "title": "x" * 1001},
        {"text": "Menu | Home | Login"},
    ],
)
def test_import_bad_json_is_422(app: Flask, world: World, body: object) -> None:
    client = client_for(app, "rev")
    before = counts(app)
    response = post_article(client, world.wire, body)
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()) >= {"error", "message"}
    assert counts(app) == before


def test_import_wrong_content_type_and_broken_json(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    url = f"/api/v1/projects/{world.wire}/articles"
    headers = {"X-CSRFToken": csrf(client)}
    plain = client.post(url, data=json.dumps(ARTICLE), content_type="text/plain", headers=headers)
    assert plain.status_code == 415
    broken = client.post(url, data='{"text": ', content_type="application/json", headers=headers)
    assert broken.status_code == 400 and broken.get_json()["error"] == "bad_json"
    null = client.post(url, data="null", content_type="application/json", headers=headers)
    assert null.status_code == 422
    huge = client.post(
        url, data='{"text": 1e309}', content_type="application/json", headers=headers
    )
    assert huge.status_code == 422


def test_import_too_large_is_413_json(app: Flask, world: World) -> None:
    client = client_for(app, "rev")
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = post_article(client, world.wire, {"text": "Word. " * 100})
    assert response.status_code == 413
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        (None, "application/json"),
        ("json", "application/json"),
        ("jsonl", "application/x-ndjson"),
        ("csv", "text/csv; charset=utf-8"),
    ],
)
def test_export(app: Flask, world: World, fmt: str | None, content_type: str) -> None:
    query = {} if fmt is None else {"format": fmt}
    response = client_for(app, "rev").get(
        f"/api/v1/projects/{world.wire}/export", query_string=query
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="wire-')
    body = response.get_data(as_text=True)
    if fmt == "csv":
        assert body.startswith("article,unit,annotator,label,sources,note,")
        assert body.count("\n") == 4  # header + ann's three annotations
    elif fmt == "jsonl":
        records = [json.loads(line)["record"] for line in body.splitlines()]
        assert records == ["header", "project", "article", "article"]
    else:
        assert [p["name"] for p in json.loads(body)["projects"]] == ["wire"]


@pytest.mark.parametrize("fmt", ["xml", "", "JSON", "../json"])
def test_export_bad_format(app: Flask, world: World, fmt: str) -> None:
    response = client_for(app, "rev").get(
        f"/api/v1/projects/{world.wire}/export", query_string={"format": fmt}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_format"
