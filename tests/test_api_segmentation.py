"""/api/v1 segmentation and source-editing routes: roles, strict JSON, results, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from annotator.api.openapi import document
from annotator.auth import create_api_token
from annotator.exchange.apply import upsert_annotation
from annotator.models import Annotation, Source, SourceAlias, Unit
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from tests.helpers import add_article, add_project, add_user, app_session, login

TEXT = (
    "Bridge closes\n\n"
    "The bridge will close on Monday the council said. It reopens in May.\n\n"
    "Traffic\n\n"
    "Drivers should use the ferry."
)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        project = add_project(session, "wire")
        other = add_project(session, "elsewhere")
        article = add_article(session, project, TEXT)
        users = {
            "ann": add_user(session, "ann", project=project),
            "rev": add_user(session, "rev", "reviewer", project=project),
            "rev2": add_user(session, "rev2", "reviewer", project=other),
            "boss": add_user(session, "boss", "admin"),
        }
        tokens = {name: create_api_token(session, user, "t") for name, user in users.items()}
        units = session.scalars(
            select(Unit).where(Unit.article_id == article.id).order_by(Unit.position)
        ).all()
        registry = SourceIndex(session, project.id)
        nw = registry.ensure("NW", "news_agency")
        target = registry.ensure("Nordwire Agency", "news_agency")
        foreign = SourceIndex(session, other.id).ensure("Reuters", "news_agency")
        labels = label_ids(session, project.id)
        upsert_annotation(
            session, units[1].id, users["ann"].id, labels["quote"], [nw], "", None, "create"
        )
        session.commit()
        return {
            "tokens": tokens,
            "article": article.id,
            "units": [(u.id, u.kind, u.start, u.end) for u in units],
            "nw": nw,
            "target": target,
            "foreign": foreign,
        }


def call(
    app: Flask, world: dict, user: str | None, method: str, path: str, body: Any = None, **kw: Any
):
    client = app.test_client()
    if user:
        headers = {"Authorization": f"Bearer {world['tokens'][user]}"}
    else:
        # Anonymous but with a valid CSRF token, so the request reaches the auth check.
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        headers = {"X-CSRFToken": token}
    return client.open(f"/api/v1{path}", method=method, json=body, headers=headers, **kw)


def state(app: Flask) -> tuple:
    with app_session(app) as session:
        return (
            tuple(session.execute(select(Unit.id, Unit.start, Unit.end, Unit.index)).all()),
            tuple(session.execute(select(Source.id, Source.name, Source.kind)).all()),
            tuple(session.execute(select(SourceAlias.id, SourceAlias.alias)).all()),
            tuple(session.execute(select(Annotation.id, Annotation.version)).all()),
        )


def routes(world: dict) -> list[tuple[str, str, Any]]:
    unit = world["units"][1][0]
    return [
        ("POST", f"/units/{unit}/split", {"at": world["units"][1][2] + 10}),
        ("POST", f"/units/{unit}/merge-next", {}),
        ("PATCH", f"/sources/{world['nw']}", {"kind": "person"}),
        ("POST", f"/sources/{world['nw']}/aliases", {"alias": "N.W."}),
        ("DELETE", f"/sources/{world['nw']}/aliases/1", None),
        ("POST", f"/sources/{world['nw']}/merge", {"into": world["target"]}),
    ]


@pytest.mark.parametrize(("user", "status"), [(None, 401), ("ann", 403), ("rev2", 404)])
def test_every_route_refuses_others_without_writing(
    app: Flask, world: dict, user: str | None, status: int
) -> None:
    before = state(app)
    for method, path, body in routes(world):
        response = call(app, world, user, method, path, body)
        assert response.status_code == status, (method, path, response.get_json())
        assert response.is_json and set(response.get_json()) >= {"error", "message"}
    assert state(app) == before


def test_session_requests_need_the_csrf_header(app: Flask, world: dict) -> None:
    client: FlaskClient = app.test_client()
    login(client, "rev")
    before = state(app)
    unit = world["units"][1][0]
    response = client.post(f"/api/v1/units/{unit}/merge-next", json={})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf"
    assert state(app) == before
    page = client.get("/guidelines").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    ok = client.post(f"/api/v1/units/{unit}/merge-next", json={}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200


@pytest.mark.parametrize("user", ["rev", "boss"])
def test_split_and_merge_return_the_units(app: Flask, world: dict, user: str) -> None:
    unit, _, start, end = world["units"][1]
    at = start + len("The bridge will close on Monday ")
    response = call(app, world, user, "POST", f"/units/{unit}/split", {"at": at})
    assert response.status_code == 200
    data = response.get_json()
    texts = [(u["kind"], u["index"], u["text"]) for u in data["units"]]
    assert texts[:4] == [
        ("title", None, "Bridge closes"),
        ("sentence", 0, "The bridge will close on Monday"),
        ("sentence", 1, "the council said."),
        ("sentence", 2, "It reopens in May."),
    ]
    assert data["flagged_annotations"] == 1 and data["changed_unit_ids"][0] == unit
    assert [u["position"] for u in data["units"]] == list(range(len(data["units"])))
    merged = call(app, world, user, "POST", f"/units/{unit}/merge-next")
    assert merged.status_code == 200
    first = merged.get_json()["units"][1]
    assert (first["id"], first["start"], first["end"]) == (unit, start, end)


@pytest.mark.parametrize(
    "body",
    [
        {"at": "12"},
        {"at": None},
        {"at": [12]},
        {"at": True},
        {"at": 1.5},
        {"at": "1 OR 1=1"},
        {"at": -1},
        {"at": 2**64},
        {},
    ],
)
def test_split_validates_types_strictly(app: Flask, world: dict, body: dict) -> None:
    before = state(app)
    response = call(app, world, "rev", "POST", f"/units/{world['units'][1][0]}/split", body)
    assert response.status_code == 422
    assert state(app) == before


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"at": 1e309}', "application/json", 422),
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('{"at": 20}', "text/plain", 415),
        ("at=20", "application/x-www-form-urlencoded", 415),
    ],
)
def test_split_refuses_malformed_bodies(
    app: Flask, world: dict, data: str, content_type: str, status: int
) -> None:
    before = state(app)
    response = call(
        app,
        world,
        "rev",
        "POST",
        f"/units/{world['units'][1][0]}/split",
        data=data,
        content_type=content_type,
    )
    assert response.status_code == status
    assert state(app) == before


def test_segmentation_errors_are_422(app: Flask, world: dict) -> None:
    before = state(app)
    title, second = world["units"][0][0], world["units"][2][0]
    split_title = call(app, world, "rev", "POST", f"/units/{title}/split", {"at": 3})
    assert split_title.status_code == 422
    assert split_title.get_json()["error"] == "invalid_segmentation"
    across = call(app, world, "rev", "POST", f"/units/{second}/merge-next")
    assert across.status_code == 422 and "heading" in across.get_json()["message"]
    assert (
        call(app, world, "rev", "POST", "/units/99999999999999999999/merge-next").status_code == 404
    )
    assert state(app) == before


def test_source_edits(app: Flask, world: dict) -> None:
    nw, target = world["nw"], world["target"]
    renamed = call(app, world, "rev", "PATCH", f"/sources/{nw}", {"name": "Nordic Wire"})
    assert renamed.status_code == 200
    data = renamed.get_json()
    assert (data["name"], [a["alias"] for a in data["aliases"]]) == ("Nordic Wire", ["NW"])
    taken = call(app, world, "rev", "PATCH", f"/sources/{nw}", {"name": "nordwire agency"})
    assert taken.status_code == 422 and taken.get_json()["error"] == "name_taken"
    described = call(
        app, world, "rev", "PATCH", f"/sources/{nw}", {"kind": "person", "description": None}
    )
    assert described.get_json()["kind"] == "person"
    added = call(app, world, "rev", "POST", f"/sources/{nw}/aliases", {"alias": "N.W."})
    alias_id = next(a["id"] for a in added.get_json()["aliases"] if a["alias"] == "N.W.")
    removed = call(app, world, "rev", "DELETE", f"/sources/{nw}/aliases/{alias_id}")
    assert removed.status_code == 200
    assert [a["alias"] for a in removed.get_json()["aliases"]] == ["NW"]
    again = call(app, world, "rev", "DELETE", f"/sources/{nw}/aliases/{alias_id}")
    assert again.status_code == 404
    merged = call(app, world, "boss", "POST", f"/sources/{nw}/merge", {"into": target})
    assert merged.status_code == 200
    result = merged.get_json()
    assert result["source"]["id"] == target and result["annotations"] == 1
    assert sorted(a["alias"] for a in result["source"]["aliases"]) == ["NW", "Nordic Wire"]
    with app_session(app) as session:
        assert session.get(Source, nw) is None
        annotation = session.scalar(select(Annotation))
        assert annotation is not None and annotation.version == 2


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"name": ["x"]}),
        ("PATCH", "", {"name": None}),
        ("PATCH", "", {"kind": 3}),
        ("PATCH", "", {"kind": "<script>"}),
        ("PATCH", "", {"name": "x" * 10_000}),
        ("PATCH", "", {"description": "x" * 6000}),
        ("PATCH", "", {"name": "A\u202eB"}),
        ("PATCH", "", {"bogus": 1}),
        ("POST", "/aliases", {"alias": 1}),
        ("POST", "/aliases", {}),
        ("POST", "/merge", {"into": "1 OR 1=1"}),
        ("POST", "/merge", {"into": -1}),
        ("POST", "/merge", {"into": 2**64}),
        ("POST", "/merge", {"into": True}),
        ("POST", "/merge", {"into": None}),
        ("POST", "/merge", {"into": 999_999}),
    ],
)
def test_source_edits_validate_strictly(
    app: Flask, world: dict, method: str, suffix: str, body: dict
) -> None:
    before = state(app)
    response = call(app, world, "rev", method, f"/sources/{world['nw']}{suffix}", body)
    assert response.status_code == 422, response.get_json()
    assert state(app) == before


def test_merge_into_another_projects_source_or_itself_is_refused(app: Flask, world: dict) -> None:
    before = state(app)
    nw = world["nw"]
    foreign = call(app, world, "boss", "POST", f"/sources/{nw}/merge", {"into": world["foreign"]})
    assert foreign.status_code == 422 and foreign.get_json()["error"] == "unknown_source"
    itself = call(app, world, "boss", "POST", f"/sources/{nw}/merge", {"into": nw})
    assert itself.status_code == 422
    assert call(app, world, "rev", "PATCH", f"/sources/{world['foreign']}", {}).status_code == 404
    assert state(app) == before
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Source)) >= 3


def test_every_route_is_described_in_openapi(app: Flask) -> None:
    paths = document()["paths"]
    assert set(paths["/units/{unit_id}/split"]) == {"post"}
    assert set(paths["/units/{unit_id}/merge-next"]) == {"post"}
    assert "patch" in paths["/sources/{source_id}"]
    assert set(paths["/sources/{source_id}/aliases/{alias_id}"]) == {"delete"}
    assert set(paths["/sources/{source_id}/merge"]) == {"post"}
    assert "post" in paths["/sources/{source_id}/aliases"]
    schemas = document()["components"]["schemas"]
    for operation in ("SegmentationResult", "RegistrySource", "SourceMergeResult"):
        assert operation in schemas
