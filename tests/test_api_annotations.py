"""/api/v1 annotation routes: article view, save, delete, CSRF token; every role, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from annotator.api.openapi import document
from annotator.auth import create_api_token, start_login_session
from annotator.models import Annotation, AnnotationEvent, AnnotationSource, Unit, User
from annotator.web import SESSION_TOKEN_KEY
from tests.helpers import app_session, login
from tests.test_annotating import World, build_world

ROLES = ("ann", "outsider", "rev", "boss")


@pytest.fixture
def world(app: Flask) -> World:
    with app_session(app) as session:
        return build_world(session)


class Api:
    """A test client logged in as one user, sending the CSRF header like the page does."""

    def __init__(self, app: Flask, username: str | None) -> None:
        self.client: FlaskClient = app.test_client()
        self.headers: dict[str, str] = {}
        self.app, self.username = app, username
        if username is None:
            return
        # A login session straight in the database: the login form's password
        # hashing would make this matrix of roles slow (the form has its own tests).
        with app_session(app) as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            token = start_login_session(session, user)
            session.commit()
        with self.client.session_transaction() as cookie:
            cookie[SESSION_TOKEN_KEY] = token
        reply = self.client.get("/api/v1/csrf-token")
        assert reply.status_code == 200
        self.headers = {"X-CSRFToken": reply.get_json()["csrf_token"]}

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def put(self, unit: int, body: Any, **kw: Any) -> Any:
        return self.client.put(
            f"/api/v1/units/{unit}/annotation", json=body, headers=self.headers, **kw
        )

    def delete(self, unit: int, version: object) -> Any:
        return self.client.delete(
            f"/api/v1/units/{unit}/annotation?expected_version={version}", headers=self.headers
        )


def counts(app: Flask) -> tuple[int, int, int]:
    with app_session(app) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Annotation, AnnotationSource, AnnotationEvent)
        )


def body(label: str = "quote", version: int = 0, **extra: Any) -> dict[str, Any]:
    return {"label": label, "sources": [], "note": "", "expected_version": version, **extra}


# --- GET /articles/<id> -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("ann", 200), ("outsider", 404), ("rev", 200), ("boss", 200)]
)
def test_article_view_by_role(app: Flask, world: World, role: str, status: int) -> None:
    before = counts(app)
    response = Api(app, role).get(f"/api/v1/articles/{world.article}")
    assert response.status_code == status
    if status == 200:
        data = response.get_json()
        assert data["article"]["id"] == world.article
        assert data["annotator"]["username"] == role and data["read_only"] is False
        assert data["progress"] == {"done": 0, "total": 4}
    else:
        assert response.get_json()["error"] == "not_found"
    assert counts(app) == before  # GET never writes


def test_anonymous_calls_get_401_json(app: Flask, world: World) -> None:
    api = Api(app, None)
    calls = [
        api.client.get(f"/api/v1/articles/{world.article}"),
        api.client.get("/api/v1/csrf-token"),
        api.client.put(f"/api/v1/units/{world.sentences[0]}/annotation", json=body()),
        api.client.delete(f"/api/v1/units/{world.sentences[0]}/annotation?expected_version=0"),
    ]
    for response in calls:
        # Writes without a session also lack a CSRF token; either way no data, no redirect.
        assert response.status_code in (400, 401)
        assert response.is_json and "Location" not in response.headers
    assert calls[0].status_code == calls[1].status_code == 401
    assert calls[0].get_json()["error"] == "unauthenticated"
    assert counts(app) == (0, 0, 0)


def test_other_projects_and_missing_articles_are_404(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    for article in (world.other_article, 999_999, 2**70):
        response = api.get(f"/api/v1/articles/{article}")
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_annotator_query_parameter(app: Flask, world: World) -> None:
    Api(app, "ann2").put(world.sentences[0], body("speculation", note="ann2's private note"))
    url = f"/api/v1/articles/{world.article}?annotator="
    ann = Api(app, "ann")
    refused = ann.get(url + "ann2")
    assert refused.status_code == 403 and "private" not in refused.get_data(as_text=True)
    assert ann.get(url + "nobody").status_code == 403  # no enumeration of names either
    own = ann.get(url + "ANN")
    assert own.status_code == 200 and own.get_json()["read_only"] is False
    reviewer = Api(app, "rev")
    theirs = reviewer.get(url + "ann2").get_json()
    assert theirs["read_only"] is True and theirs["annotator"]["username"] == "ann2"
    assert theirs["units"][1]["annotation"]["note"] == "ann2's private note"
    assert reviewer.get(url + "nobody").status_code == 404
    assert reviewer.get(url + "a%00b").status_code == 404
    assert Api(app, "boss").get(url + "ann2").status_code == 200
    assert Api(app, "outsider").get(url + "ann2").status_code == 404


# --- PUT /units/<id>/annotation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("ann", 200), ("outsider", 404), ("rev", 200), ("boss", 200)]
)
def test_save_by_role(app: Flask, world: World, role: str, status: int) -> None:
    response = Api(app, role).put(world.sentences[1], body(sources=[world.sources["AP"]]))
    assert response.status_code == status
    with app_session(app) as session:
        owners = session.scalars(select(Annotation.annotator_id)).all()
    assert owners == ([world.users[role]] if status == 200 else [])
    if status == 200:
        data = response.get_json()
        assert data["annotation"]["version"] == 1
        assert data["annotation"]["sources"] == [
            {"id": world.sources["AP"], "name": "AP", "kind": "news_agency"}
        ]
        assert data["progress"] == {"done": 1, "total": 4}


def test_save_update_conflict_and_replay(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    unit = world.sentences[0]
    first = api.put(unit, body("reported_fact", note="<script>alert(1)</script>"))
    assert first.status_code == 200
    assert first.get_json()["annotation"]["note"] == "<script>alert(1)</script>"
    replay = api.put(unit, body("reported_fact", note="<script>alert(1)</script>"))
    assert replay.status_code == 200 and replay.get_json()["annotation"]["version"] == 1
    second = api.put(unit, body("quote", version=1))
    assert second.get_json()["annotation"]["version"] == 2
    stale = api.put(unit, body("speculation", version=1))
    assert stale.status_code == 409
    payload = stale.get_json()
    assert payload["error"] == "conflict" and payload["message"]
    assert (payload["current"]["label"], payload["current"]["version"]) == ("quote", 2)
    assert counts(app) == (1, 0, 2)


def test_save_after_delete_elsewhere_conflicts_with_null(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    unit = world.sentences[0]
    api.put(unit, body("quote"))
    assert api.delete(unit, 1).status_code == 200
    stale = api.put(unit, body("speculation", version=1))
    assert stale.status_code == 409 and stale.get_json()["current"] is None


def test_saves_need_a_csrf_token_unless_bearer(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    url = f"/api/v1/units/{world.sentences[0]}/annotation"
    missing = api.client.put(url, json=body())
    assert missing.status_code == 400 and missing.get_json()["error"] == "csrf"
    wrong = api.client.put(url, json=body(), headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "csrf"
    deleting = api.client.delete(url + "?expected_version=0")
    assert deleting.status_code == 400 and deleting.get_json()["error"] == "csrf"
    assert counts(app) == (0, 0, 0)
    with app_session(app) as session:
        user = session.get(User, world.users["ann"])
        assert user is not None
        token = create_api_token(session, user, "script")
        session.commit()
    scripted = app.test_client().put(url, json=body(), headers={"Authorization": f"Bearer {token}"})
    assert scripted.status_code == 200
    assert counts(app) == (1, 0, 1)


def test_a_token_from_the_csrf_route_is_accepted_after_relogin(app: Flask, world: World) -> None:
    client = app.test_client()
    login(client, "ann")
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    response = client.put(
        f"/api/v1/units/{world.sentences[0]}/annotation",
        json=body(),
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200


NOT_JSON: list[tuple[str, str | bytes, int, str]] = [
    ("text/plain", '{"label": "quote", "expected_version": 0}', 415, "unsupported_media_type"),
    (
        "application/x-www-form-urlencoded",
        "label=quote&expected_version=0",
        415,
        "unsupported_media_type",
    ),
    ("application/json", '{"label": "quote",', 400, "bad_json"),
    ("application/json", b'{"label": "\xff"}', 400, "bad_json"),
    ("application/json", "[" * 100_000 + "]" * 100_000, 400, "bad_json"),
    ("application/json", "", 400, "bad_json"),
]


def test_bodies_that_are_not_json(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    for content_type, data, status, error in NOT_JSON:
        response = api.client.put(
            f"/api/v1/units/{world.sentences[0]}/annotation",
            data=data,
            headers={**api.headers, "Content-Type": content_type},
        )
        assert response.status_code == status, (content_type, data[:40])
        assert response.get_json()["error"] == error
    assert counts(app) == (0, 0, 0)


BAD_VALUES: list[tuple[str, str]] = [
    ('{"label": ["quote"], "expected_version": 0}', "label"),
    ('{"label": 2, "expected_version": 0}', "label"),
    ('{"label": null, "expected_version": 0}', "label"),
    ('{"label": {"name": "quote"}, "expected_version": 0}', "label"),
    ('{"expected_version": 0}', "label"),
    ('{"label": "nonsense", "expected_version": 0}', "label"),
    ('{"label": "' + "q" * 10_000 + '", "expected_version": 0}', "label"),
    ('{"label": "\\ud800", "expected_version": 0}', "label"),
    ('{"label": "quote\\u0000", "expected_version": 0}', "label"),
    ('{"label": "quote", "sources": "1 OR 1=1", "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": ["1 OR 1=1"], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [-1], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [0], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [18446744073709551616], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [1e309], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [1.0], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [true], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": [999999], "expected_version": 0}', "sources"),
    ('{"label": "quote", "sources": null, "expected_version": 0}', "sources"),
    (
        '{"label": "quote", "sources": [' + ",".join(["1"] * 21) + '], "expected_version": 0}',
        "sources",
    ),
    ('{"label": "quote", "expected_version": "1 OR 1=1"}', "expected_version"),
    ('{"label": "quote", "expected_version": -1}', "expected_version"),
    ('{"label": "quote", "expected_version": 18446744073709551616}', "expected_version"),
    ('{"label": "quote", "expected_version": 1e309}', "expected_version"),
    ('{"label": "quote", "expected_version": 0.5}', "expected_version"),
    ('{"label": "quote", "expected_version": true}', "expected_version"),
    ('{"label": "quote", "expected_version": null}', "expected_version"),
    ('{"label": "quote"}', "expected_version"),
    ('{"label": "quote", "expected_version": 0, "note": ["x"]}', "note"),
    ('{"label": "quote", "expected_version": 0, "note": null}', "note"),
    ('{"label": "quote", "expected_version": 0, "note": "' + "n" * 5001 + '"}', "note"),
    ('{"label": "quote", "expected_version": 0, "note": "a\\u0000b"}', "note"),
    ('{"label": "quote", "expected_version": 0, "note": "\\udfff"}', "note"),
    ('{"label": "quote", "expected_version": 0, "seconds_spent": -1}', "seconds_spent"),
    ('{"label": "quote", "expected_version": 0, "seconds_spent": "5"}', "seconds_spent"),
    ('{"label": "quote", "expected_version": 0, "seconds_spent": 1e309}', "seconds_spent"),
    ('{"label": "quote", "expected_version": 0, "seconds_spent": NaN}', "seconds_spent"),
    ('{"label": "quote", "expected_version": 0, "seconds_spent": 1e9}', "seconds_spent"),
    ('{"label": "quote", "expected_version": 0, "seconds_spent": false}', "seconds_spent"),
    ('["quote"]', "body"),
    ("null", "body"),
    ('"quote"', "body"),
]


def test_wrong_types_and_values_are_422(app: Flask, world: World) -> None:
    # One world for the whole table: each row is a request that must write nothing.
    api = Api(app, "ann")
    for raw, field in BAD_VALUES:
        response = api.client.put(
            f"/api/v1/units/{world.sentences[0]}/annotation",
            data=raw,
            headers={**api.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, (raw[:80], response.get_data(as_text=True))
        reply = response.get_json()
        assert (reply["error"], reply["field"]) == ("invalid", field), raw[:80]
        assert set(reply) == {"error", "message", "field"} and reply["message"]
    assert counts(app) == (0, 0, 0)


def test_sources_of_another_project_and_duplicates_are_refused(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    ap = world.sources["AP"]
    for sources in ([world.other_source], [ap, ap], [ap, world.other_source]):
        response = api.put(world.sentences[0], body(sources=sources))
        assert response.status_code == 422 and response.get_json()["field"] == "sources"
    assert counts(app) == (0, 0, 0)


def test_units_that_cannot_be_saved_are_404(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    with app_session(app) as session:
        foreign = session.scalar(select(Unit.id).where(Unit.article_id == world.other_article))
    for unit in (world.title_unit, foreign, 999_999, 2**70):
        response = api.put(unit, body())  # type: ignore[arg-type]
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
        assert api.delete(unit, 0).status_code == 404  # type: ignore[arg-type]
    assert counts(app) == (0, 0, 0)


def test_a_save_is_always_the_callers_own(app: Flask, world: World) -> None:
    Api(app, "ann2").put(world.sentences[0], body("speculation", note="theirs"))
    # Extra fields naming someone else are ignored: the caller saves their own.
    mine = Api(app, "ann").put(
        world.sentences[0], body("quote", annotator="ann2", annotator_id=world.users["ann2"])
    )
    assert mine.status_code == 200 and mine.get_json()["annotation"]["version"] == 1
    with app_session(app) as session:
        rows = dict(session.execute(select(Annotation.annotator_id, Annotation.note)).all())
    assert rows == {world.users["ann2"]: "theirs", world.users["ann"]: ""}


# --- DELETE /units/<id>/annotation ------------------------------------------------------


def test_delete_by_role_and_version(app: Flask, world: World) -> None:
    unit = world.sentences[0]
    ann = Api(app, "ann")
    ann.put(unit, body("quote", sources=[world.sources["AP"]]))
    # Someone else's delete touches only their own (absent) annotation.
    assert Api(app, "rev").delete(unit, 1).status_code == 409
    assert Api(app, "outsider").delete(unit, 1).status_code == 404
    assert counts(app)[0] == 1
    stale = ann.delete(unit, 2)
    assert stale.status_code == 409 and stale.get_json()["current"]["version"] == 1
    done = ann.delete(unit, 1)
    assert done.status_code == 200
    assert done.get_json() == {"annotation": None, "progress": {"done": 0, "total": 4}}
    assert counts(app) == (0, 0, 2)


@pytest.mark.parametrize("version", ["", "abc", "-1", "1.5", "99999999999", "1%20OR%201=1", "²"])
def test_delete_needs_a_whole_expected_version(app: Flask, world: World, version: str) -> None:
    response = Api(app, "ann").delete(world.sentences[0], version)
    assert response.status_code == 422
    assert response.get_json()["field"] == "expected_version"


# --- CSRF token and the OpenAPI description ---------------------------------------------


def test_csrf_token_route(app: Flask, world: World) -> None:
    assert Api(app, None).get("/api/v1/csrf-token").status_code == 401
    token = Api(app, "ann").headers["X-CSRFToken"]
    assert isinstance(token, str) and len(token) > 20


def test_every_route_here_is_described_in_openapi(app: Flask) -> None:
    paths = document()["paths"]
    expected = {
        ("/articles/{article_id}", "get"),
        ("/units/{unit_id}/annotation", "put"),
        ("/units/{unit_id}/annotation", "delete"),
        ("/csrf-token", "get"),
        ("/projects/{project_id}/sources", "get"),
        ("/projects/{project_id}/sources", "post"),
    }
    for path, method in expected:
        operation = paths[path][method]
        assert operation["operationId"]
        assert {"200", "401"} <= set(operation["responses"])
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[-1] in {
            "get_article",
            "put_annotation",
            "delete_annotation",
            "csrf_token",
            "list_sources",
            "add_source",
        }:
            path = rule.rule.removeprefix("/api/v1")
            for name in ("article_id", "unit_id", "project_id"):
                path = path.replace(f"<int:{name}>", "{" + name + "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
                routed.add((path, method.lower()))
    assert routed == expected
    served = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = served["components"]["schemas"]
    for name in ("ArticleView", "Unit", "Annotation", "SaveAnnotation", "Conflict", "Source"):
        assert name in schemas
