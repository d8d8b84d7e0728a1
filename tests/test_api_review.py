"""The review API: the queue with the page's filters and PUT gold, by session or token."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from annotator.auth import create_api_token
from annotator.models import Gold, GoldEvent
from annotator.users import get_user_by_name
from tests import review_world
from tests.helpers import app_session, login


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        return review_world.build(session)


def token_for(app: Flask, name: str) -> dict[str, str]:
    with app_session(app) as session:
        user = get_user_by_name(session, name)
        assert user is not None
        token = create_api_token(session, user, "test")
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def written(app: Flask) -> tuple[int, int]:
    with app_session(app) as session:
        return (
            session.scalar(select(func.count()).select_from(Gold)) or 0,
            session.scalar(select(func.count()).select_from(GoldEvent)) or 0,
        )


def queue_url(world: dict, params: str = "") -> str:
    return f"/api/v1/projects/{world['project']}/review-queue" + (f"?{params}" if params else "")


@pytest.mark.parametrize(
    ("user", "status"),
    [(None, 401), ("ann1", 403), ("outsider", 404), ("rev2", 404), ("rev", 200), ("boss", 200)],
)
def test_queue_by_role(app: Flask, world: dict, user: str | None, status: int) -> None:
    headers = token_for(app, user) if user else {}
    response = app.test_client().get(queue_url(world), headers=headers)
    assert response.status_code == status
    assert response.is_json


def test_queue_content_and_filters(app: Flask, world: dict) -> None:
    client, headers = app.test_client(), token_for(app, "rev")
    body = client.get(queue_url(world), headers=headers).get_json()
    units = world["units"]
    assert body["total"] == 6 and (body["limit"], body["offset"]) == (50, 0)
    first = body["items"][0]
    assert first["unit_id"] == units[3]
    assert first["labels"] == {"speculation": 1, "unclear": 1}
    assert first["pairwise_agreement"] == 0.0 and first["gold_provenance"] is None
    assert first["text"] == "Prices rose by 4 percent."

    def ids(params: str) -> list[int]:
        found = client.get(queue_url(world, params), headers=headers).get_json()
        return [item["unit_id"] for item in found["items"]]

    assert ids("pair=speculation,reported_fact") == [units[1]]
    assert ids("pair=quote,quote") == [units[2], units[0], units[5]]
    assert ids("sources=true") == [units[2]]
    assert ids("annotator=ann3") == [units[1], units[0]]
    assert ids(f"article={world['second']}") == world["second_units"][:1]
    assert ids("status=all&limit=2&offset=5") == [units[5], units[4]]
    echoed = client.get(queue_url(world, "pair=quote,quote"), headers=headers).get_json()
    assert echoed["filters"]["pair"] == ["quote", "quote"]
    assert echoed["filters"]["status"] == "all"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("pair=quote", "pair"),
        ("pair=quote,opinion", "pair"),
        ("sources=maybe", "sources"),
        ("status=closed", "status"),
        ("limit=-1", "limit"),
        ("limit=5000", "limit"),
        ("offset=1e3", "offset"),
        ("article=abc", "article"),
        ("article=99999999999999999999", "article"),
        ("article=FOREIGN", "article"),
        ("annotator=" + "x" * 300, "annotator"),
    ],
)
def test_bad_queue_filters_are_422(app: Flask, world: dict, params: str, field: str) -> None:
    params = params.replace("FOREIGN", str(world["foreign"]))
    response = app.test_client().get(queue_url(world, params), headers=token_for(app, "rev"))
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_put_gold_with_a_token(app: Flask, world: dict) -> None:
    client, headers = app.test_client(), token_for(app, "rev")
    unit, koh, ap = world["units"][2], world["sources"]["Koh"], world["sources"]["AP"]
    body = {
        "label": "quote",
        "sources": [koh, ap],
        "rationale": "relay via AP",
        "error_category": "annotator_error",
        "provenance": "adjudicated",
    }
    response = client.put(f"/api/v1/units/{unit}/gold", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    gold = response.get_json()
    assert gold["outcome"] == "created"
    assert gold["label"] == "quote" and gold["reviewer"] == "rev"
    assert [s["id"] for s in gold["sources"]] == [koh, ap]
    assert gold["provenance"] == "adjudicated" and gold["decided_at"].endswith("Z")
    assert written(app) == (1, 1)
    again = client.put(f"/api/v1/units/{unit}/gold", json=body, headers=headers)
    assert again.get_json()["outcome"] == "unchanged"
    assert written(app) == (1, 1)
    unresolved = client.put(
        f"/api/v1/units/{unit}/gold",
        json={"label": None, "provenance": "unresolved", "rationale": "unclear relay"},
        headers=headers,
    )
    assert unresolved.status_code == 200
    assert unresolved.get_json()["label"] is None
    assert written(app) == (1, 2)


def test_put_gold_with_the_session_needs_csrf(app: Flask, world: dict) -> None:
    client = app.test_client()
    login(client, "rev")
    url = f"/api/v1/units/{world['units'][2]}/gold"
    assert client.put(url, json={"label": "quote"}).status_code == 400
    page = client.get("/guidelines").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.put(url, json={"label": "quote"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert written(app) == (1, 1)


@pytest.mark.parametrize(
    ("user", "status"), [(None, 401), ("ann1", 403), ("outsider", 404), ("rev2", 404)]
)
def test_put_gold_refused_to_others(app: Flask, world: dict, user: str | None, status: int) -> None:
    headers = token_for(app, user) if user else {}
    response = app.test_client().put(
        f"/api/v1/units/{world['units'][2]}/gold", json={"label": "quote"}, headers=headers
    )
    assert response.status_code == status
    assert written(app) == (0, 0)


@pytest.mark.parametrize("unit", ["0", "4242", "99999999999999999999"])
def test_put_gold_unknown_unit(app: Flask, world: dict, unit: str) -> None:
    response = app.test_client().put(
        f"/api/v1/units/{unit}/gold", json={"label": "quote"}, headers=token_for(app, "boss")
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("quote", "body"),
        ({}, "label"),
        ({"label": "opinion"}, "label"),
        ({"label": None}, "label"),
        ({"label": {"a": 1}}, "label"),
        ({"label": ["quote"]}, "label"),
        ({"label": "quote", "sources": "1"}, "sources"),
        ({"label": "quote", "sources": [1.5]}, "sources"),
        ({"label": "quote", "sources": [{"id": 1}]}, "sources"),
        ({"label": "quote", "sources": [2**40]}, "sources"),
        ({"label": "quote", "sources": [123456]}, "sources"),
        ({"label": "quote", "rationale": 5}, "rationale"),
        ({"label": "quote", "rationale": "\u0000"}, "rationale"),
        ({"label": "quote", "error_category": "typo"}, "error_category"),
        ({"label": "quote", "error_category": ["x"]}, "error_category"),
        ({"label": "quote", "provenance": "unanimous"}, "provenance"),
        ({"label": "quote", "provenance": {"x": 1}}, "provenance"),
        ({"label": None, "provenance": "unresolved"}, "rationale"),
        ({"label": "quote", "reviewer": "boss"}, "reviewer"),
    ],
)
def test_put_gold_bad_input_is_422(app: Flask, world: dict, body: Any, field: str) -> None:
    response = app.test_client().put(
        f"/api/v1/units/{world['units'][2]}/gold", json=body, headers=token_for(app, "rev")
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field
    assert written(app) == (0, 0)


def test_put_gold_bad_bodies(app: Flask, world: dict) -> None:
    client, headers = app.test_client(), token_for(app, "rev")
    url = f"/api/v1/units/{world['units'][2]}/gold"
    deep = b"[" * 100_000 + b"]" * 100_000
    json_type = {**headers, "Content-Type": "application/json"}
    assert client.put(url, data=deep, headers=json_type).status_code == 400
    assert client.put(url, data=b"\xff{}", headers=json_type).status_code == 400
    plain = {**headers, "Content-Type": "text/plain"}
    assert client.put(url, data=b"{}", headers=plain).status_code == 415
    assert written(app) == (0, 0)


def test_openapi_describes_the_review_routes(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "get" in document["paths"]["/projects/{project_id}/review-queue"]
    put = document["paths"]["/units/{unit_id}/gold"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GoldDecision"
    }
    assert {"ReviewQueue", "ReviewQueueItem", "GoldDecision", "Gold"} <= set(
        document["components"]["schemas"]
    )
