"""/api/v1 source picker routes: search and inline create, every role, bad input."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import Annotation, Source, SourceAlias
from annotator.registry import SourceIndex
from annotator.source_lookup import create_source, search_sources
from tests.helpers import app_session
from tests.test_annotating import World, build_world
from tests.test_api_annotations import Api


@pytest.fixture
def world(app: Flask) -> World:
    with app_session(app) as session:
        world = build_world(session)
        index = SourceIndex(session, world.project)
        index.ensure("Korean Central News Agency", "news_agency", aliases=["KCNA"])
        index.ensure("Agence France-Presse", "news_agency", aliases=["AFP"])
        index.ensure("100% Pure_News", "media_outlet")
        index.ensure("Café Society", "organization")
        index.ensure("Reporters Without Borders", "organization", aliases=["RSF"])
        session.commit()
        return world


def names(found: list[dict]) -> list[str]:
    return [source["name"] for source in found]


def search(app: Flask, world: World, query: str, limit: int = 20) -> list[str]:
    with app_session(app) as session:
        return names(search_sources(session, world.project, query, limit))


def source_count(app: Flask) -> int:
    with app_session(app) as session:
        return session.scalar(select(func.count()).select_from(Source)) or 0


# --- the domain -------------------------------------------------------------------------


def test_search_ranks_exact_then_prefix_then_infix_then_aliases(app: Flask, world: World) -> None:
    # Registering "Korean Central News Agency" with alias KCNA found the article's
    # KCNA and gave it the long name as an alias.
    assert search(app, world, "kcna") == ["KCNA"]
    # Name prefix, then name infixes by key, then sources found only by an alias
    # ("Associated Press" for AP, "Korean Central News Agency" for KCNA).
    assert search(app, world, "re") == [
        "Reporters Without Borders",
        "100% Pure_News",
        "Agence France-Presse",
        "North Korea",
        "AP",
        "KCNA",
    ]
    assert search(app, world, "re", limit=2) == ["Reporters Without Borders", "100% Pure_News"]
    assert search(app, world, "a")[:2] == ["Agence France-Presse", "AP"]  # prefixes first
    assert search(app, world, "news agency") == ["KCNA"]
    assert search(app, world, "rsf") == ["Reporters Without Borders"]  # by alias only


def test_search_is_case_and_width_insensitive(app: Flask, world: World) -> None:
    assert search(app, world, "ＫＣＮＡ")[0] == "KCNA"
    assert search(app, world, "CAFE\u0301") == ["Café Society"]  # decomposed é
    assert search(app, world, "café") == ["Café Society"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("%", ["100% Pure_News"]), ("_", ["100% Pure_News"]), ("\\", []), ("' OR 1=1 --", [])],
)
def test_like_wildcards_match_literally(
    app: Flask, world: World, query: str, expected: list[str]
) -> None:
    assert search(app, world, query) == expected


def test_without_a_query_the_most_used_come_first(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    ap, koh = world.sources["AP"], world.sources["Koh Yu-hwan"]
    api.put(world.sentences[0], {"label": "quote", "sources": [koh, ap], "expected_version": 0})
    api.put(world.sentences[1], {"label": "quote", "sources": [ap], "expected_version": 0})
    assert search(app, world, "")[:2] == ["AP", "Koh Yu-hwan"]
    assert len(search(app, world, "", limit=3)) == 3


def test_create_returns_the_existing_source_for_a_name_or_alias(
    session: Session, world_session: World
) -> None:
    project = world_session.project
    created, was_new = create_source(session, project, "  Yonhap\u00a0News ", "news_agency")
    session.commit()
    assert was_new and created["name"] == "Yonhap News" and created["aliases"] == []
    again, was_new = create_source(session, project, "YONHAP NEWS", "person")
    assert not was_new and again["id"] == created["id"] and again["kind"] == "news_agency"
    SourceIndex(session, project).add_alias(created["id"], "Yonhap")
    session.commit()
    by_alias, was_new = create_source(session, project, "yonhap", "person")
    assert not was_new and by_alias["id"] == created["id"] and by_alias["aliases"] == ["Yonhap"]


@pytest.fixture
def world_session(session: Session) -> World:
    return build_world(session)


# --- the routes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("ann", 200), ("outsider", 404), ("rev", 200), ("boss", 200)]
)
def test_search_route_by_role(app: Flask, world: World, role: str, status: int) -> None:
    before = source_count(app)
    response = Api(app, role).get(f"/api/v1/projects/{world.project}/sources?q=kcna&limit=5")
    assert response.status_code == status
    if status == 200:
        found = response.get_json()["sources"]
        assert found[0]["name"] == "KCNA"
        assert "Korean Central News Agency" in found[0]["aliases"]
        assert found[0]["kind"] == "news_agency"
    assert source_count(app) == before


def test_search_route_refuses_bad_parameters(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    url = f"/api/v1/projects/{world.project}/sources"
    for query in (
        "limit=0",
        "limit=51",
        "limit=abc",
        "limit=-1",
        "limit=1e3",
        "limit=²",
        "q=" + "x" * 201,
    ):
        response = api.get(f"{url}?{query}")
        assert response.status_code == 422, query
        assert response.get_json()["error"] == "invalid"
    assert api.get(f"{url}?q=a%00b").status_code == 200  # control characters are ignored
    assert api.get(f"{url}?limit=50").status_code == 200
    assert api.get(f"/api/v1/projects/{world.other_project}/sources").status_code == 404
    assert api.get(f"/api/v1/projects/{2**70}/sources").status_code == 404
    assert Api(app, None).get(url).status_code == 401


@pytest.mark.parametrize(
    ("role", "status"), [("ann", 201), ("outsider", 404), ("rev", 201), ("boss", 201)]
)
def test_create_route_by_role(app: Flask, world: World, role: str, status: int) -> None:
    api = Api(app, role)
    response = api.client.post(
        f"/api/v1/projects/{world.project}/sources",
        json={"name": "Yonhap", "kind": "news_agency"},
        headers=api.headers,
    )
    assert response.status_code == status
    with app_session(app) as session:
        stored = session.scalars(select(Source.project_id).where(Source.name == "Yonhap")).all()
    assert stored == ([world.project] if status == 201 else [])
    if status == 201:
        assert response.get_json()["source"]["name"] == "Yonhap"


def test_create_route_answers_200_with_the_existing_source(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    url = f"/api/v1/projects/{world.project}/sources"
    before = source_count(app)
    response = api.client.post(url, json={"name": "afp", "kind": "person"}, headers=api.headers)
    assert response.status_code == 200
    assert response.get_json()["source"]["name"] == "Agence France-Presse"
    assert source_count(app) == before


def test_create_route_refuses_bad_input(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    url = f"/api/v1/projects/{world.project}/sources"
    before = source_count(app)
    bad = [
        ({"name": "", "kind": "person"}, "name"),
        ({"name": "   ", "kind": "person"}, "name"),
        ({"name": "Evil\u202eName", "kind": "person"}, "name"),
        ({"name": "Zero\u200bWidth", "kind": "person"}, "name"),
        ({"name": "Line\nBreak", "kind": "person"}, "name"),
        ({"name": "Nul\x00", "kind": "person"}, "name"),
        ({"name": "x" * 201, "kind": "person"}, "name"),
        ({"name": ["AP"], "kind": "person"}, "name"),
        ({"name": None, "kind": "person"}, "name"),
        ({"name": 5, "kind": "person"}, "name"),
        ({"name": "Fine", "kind": "alien"}, "kind"),
        ({"name": "Fine", "kind": None}, "kind"),
        ({"name": "Fine"}, "kind"),
        (["Fine"], "body"),
    ]
    for payload, field in bad:
        response = api.client.post(url, json=payload, headers=api.headers)
        assert response.status_code == 422, payload
        assert response.get_json()["field"] == field, payload
    surrogate = api.client.post(
        url,
        data='{"name": "\\ud800", "kind": "person"}',
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422
    plain = api.client.post(
        url, data="name=x&kind=person", headers={**api.headers, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    broken = api.client.post(
        url, data="{", headers={**api.headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    no_csrf = api.client.post(url, json={"name": "Fine", "kind": "person"})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["error"] == "csrf"
    assert source_count(app) == before


def test_created_source_can_be_used_at_once(app: Flask, world: World) -> None:
    api = Api(app, "ann")
    created = api.client.post(
        f"/api/v1/projects/{world.project}/sources",
        json={"name": "<script>alert(1)</script>", "kind": "person"},
        headers=api.headers,
    ).get_json()["source"]
    assert created["name"] == "<script>alert(1)</script>"
    saved = api.put(
        world.sentences[0], {"label": "quote", "sources": [created["id"]], "expected_version": 0}
    )
    assert saved.status_code == 200
    assert saved.get_json()["annotation"]["sources"][0]["name"] == "<script>alert(1)</script>"
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Annotation)) == 1
        assert session.scalar(select(func.count()).select_from(SourceAlias)) >= 4
