"""The source registry pages: who may see and edit them, forms, escaping, no writes on GET."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from annotator.models import Annotation, Source, SourceAlias
from annotator.registry import SourceIndex
from tests.helpers import add_article, add_project, add_user, app_session, login

TEXT = (
    "Talks resume\n\n"
    "Ola Berg said the talks would resume, Nordwire reported. Nothing else happened."
)
XSS = "<script>alert(1)</script>"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        project = add_project(session, "wire")
        other = add_project(session, "elsewhere")
        article = add_article(session, project, TEXT)
        registry = SourceIndex(session, project.id)
        ids = {
            name: registry.ensure(name, kind)
            for name, kind in [
                ("NW", "news_agency"),
                ("Nordwire Agency", "news_agency"),
                (XSS, "person"),
            ]
        }
        foreign = SourceIndex(session, other.id).ensure("Reuters", "news_agency")
        add_user(session, "ann", project=project)
        add_user(session, "rev", "reviewer", project=project)
        add_user(session, "rev2", "reviewer", project=other)
        add_user(session, "boss", "admin")
        session.commit()
        return {
            "project": project.id,
            "other": other.id,
            "article": article.id,
            "ids": ids,
            "foreign": foreign,
        }


def client_for(app: Flask, name: str | None) -> FlaskClient:
    client = app.test_client()
    if name:
        login(client, name)
    return client


def csrf(client: FlaskClient) -> str:
    html = client.get("/guidelines").get_data(as_text=True)
    return html.split('name="csrf-token" content="')[1].split('"')[0]


def snapshot(app: Flask) -> tuple:
    with app_session(app) as session:
        return (
            tuple(session.execute(select(Source.id, Source.name, Source.kind)).all()),
            tuple(session.execute(select(SourceAlias.id, SourceAlias.alias)).all()),
            session.scalar(select(func.count()).select_from(Annotation)),
        )


def test_anonymous_is_sent_to_login(app: Flask, world: dict) -> None:
    client = app.test_client()
    response = client.get("/sources?project=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/sources?project%3D1"
    nw = world["ids"]["NW"]
    assert client.get(f"/sources/{nw}").headers["Location"] == f"/login?next=/sources/{nw}"


@pytest.mark.parametrize(
    ("user", "status"), [("ann", 403), ("rev", 200), ("boss", 200), ("rev2", 404)]
)
def test_detail_by_role(app: Flask, world: dict, user: str, status: int) -> None:
    before = snapshot(app)
    response = client_for(app, user).get(f"/sources/{world['ids']['NW']}")
    assert response.status_code == status
    assert snapshot(app) == before


@pytest.mark.parametrize(("user", "status"), [("ann", 403), ("rev", 200), ("boss", 200)])
def test_registry_by_role(app: Flask, world: dict, user: str, status: int) -> None:
    response = client_for(app, user).get("/sources")
    assert response.status_code == status


def test_reviewer_of_another_project_sees_only_their_registry(app: Flask, world: dict) -> None:
    client = client_for(app, "rev2")
    html = client.get("/sources").get_data(as_text=True)
    assert "Reuters" in html and "Nordwire Agency" not in html
    assert client.get(f"/sources?project={world['project']}").status_code == 404
    assert client.get(f"/sources/{world['foreign']}").status_code == 200


@pytest.mark.parametrize(
    "query", ["project=abc", "project=-1", "project=99999999999999999999", "project=0"]
)
def test_bad_project_parameters_are_404(app: Flask, world: dict, query: str) -> None:
    assert client_for(app, "boss").get(f"/sources?{query}").status_code == 404


@pytest.mark.parametrize("path", ["/sources/99999999999999999999", "/sources/0", "/sources/123456"])
def test_unknown_sources_are_404(app: Flask, world: dict, path: str) -> None:
    assert client_for(app, "boss").get(path).status_code == 404


def test_registry_lists_filters_escapes_and_switches_projects(app: Flask, world: dict) -> None:
    client = client_for(app, "boss")
    html = client.get(f"/sources?project={world['project']}").get_data(as_text=True)
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Nordwire Agency" in html and 'id="project-switch"' in html
    filtered = client.get(f"/sources?project={world['project']}&q=AGENC").get_data(as_text=True)
    assert "Nordwire Agency" in filtered and ">NW<" not in filtered
    assert "1 source matching" in filtered
    wild = client.get(f"/sources?project={world['project']}&q=%25").get_data(as_text=True)
    assert "0 sources matching" in wild
    odd = client.get(f"/sources?project={world['project']}&sort=bogus&page=-4&q=" + "x" * 300)
    assert odd.status_code == 200
    other = client.get(f"/sources?project={world['other']}").get_data(as_text=True)
    assert "Reuters" in other and "Nordwire Agency" not in other


def test_registry_paginates(app: Flask, world: dict) -> None:
    with app_session(app) as session:
        registry = SourceIndex(session, world["project"])
        for n in range(60):
            registry.ensure(f"Outlet {n:03d}", "media_outlet")
        session.commit()
    client = client_for(app, "rev")
    first = client.get(f"/sources?project={world['project']}").get_data(as_text=True)
    assert "page 1 of 2" in first and "Outlet 000" in first and 'rel="next"' in first
    second = client.get(f"/sources?project={world['project']}&page=2").get_data(as_text=True)
    assert "Outlet 000" not in second and "page 2 of 2" in second
    assert "No sources on this page" in client.get(
        f"/sources?project={world['project']}&page=9"
    ).get_data(as_text=True)


def test_detail_shows_where_the_source_is_cited(app: Flask, world: dict) -> None:
    html = client_for(app, "rev").get(f"/sources/{world['ids']['NW']}").get_data(as_text=True)
    # The import registered a mention of "Nordwire" for its own source, not NW.
    assert "No sentence mentions this source" in html
    with app_session(app) as session:
        nordwire = SourceIndex(session, world["project"]).resolve("Nordwire")
    html = client_for(app, "rev").get(f"/sources/{nordwire}").get_data(as_text=True)
    assert f'href="/articles/{world["article"]}/annotate"' in html
    assert "Ola Berg said the talks would resume, Nordwire reported." in html
    assert "mentioned" in html


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("rename", {"name": "Nordic Wire"}),
        ("details", {"kind": "person", "description": "x"}),
        ("aliases", {"alias": "N.W."}),
        ("merge", {"into": "Nordwire Agency", "confirm": "y"}),
    ],
)
@pytest.mark.parametrize("user", [None, "ann", "rev2"])
def test_edits_are_refused_to_others(
    app: Flask, world: dict, path: str, data: dict, user: str | None
) -> None:
    client = client_for(app, user)
    before = snapshot(app)
    token = csrf(client) if user else ""
    response = client.post(
        f"/sources/{world['ids']['NW']}/{path}", data={**data, "csrf_token": token}
    )
    assert response.status_code == {None: 400, "ann": 403, "rev2": 404}[user]
    assert snapshot(app) == before


def test_edits_need_a_csrf_token(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    before = snapshot(app)
    response = client.post(f"/sources/{world['ids']['NW']}/rename", data={"name": "Nordic"})
    assert response.status_code == 400
    assert snapshot(app) == before


def test_rename_alias_and_details_through_the_forms(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    token = csrf(client)
    nw = world["ids"]["NW"]
    response = client.post(
        f"/sources/{nw}/rename", data={"name": "Nordic Wire", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/sources/{nw}"
    page = client.get(f"/sources/{nw}").get_data(as_text=True)
    assert "Renamed “NW” to “Nordic Wire”." in page
    taken = client.post(
        f"/sources/{nw}/aliases", data={"alias": "nordwire agency", "csrf_token": token}
    )
    assert taken.status_code == 422
    assert "already names another source: “Nordwire Agency”" in taken.get_data(as_text=True)
    bad = client.post(f"/sources/{nw}/aliases", data={"alias": "x" * 201, "csrf_token": token})
    assert bad.status_code == 422
    client.post(f"/sources/{nw}/aliases", data={"alias": "N.W.", "csrf_token": token})
    kinds = client.post(
        f"/sources/{nw}/details",
        data={"kind": "government", "description": XSS, "csrf_token": token},
    )
    assert kinds.status_code == 302
    wrong_kind = client.post(
        f"/sources/{nw}/details", data={"kind": "<b>", "description": "", "csrf_token": token}
    )
    assert wrong_kind.status_code == 422
    with app_session(app) as session:
        source = session.get(Source, nw)
        assert source is not None
        assert (source.name, source.kind, source.description) == ("Nordic Wire", "government", XSS)
        assert sorted(a.alias for a in source.aliases) == ["N.W.", "NW"]
        alias_id = next(a.id for a in source.aliases if a.alias == "N.W.")
        other_alias = session.scalar(select(SourceAlias.id).where(SourceAlias.source_id != nw))
    assert XSS not in client.get(f"/sources/{nw}").get_data(as_text=True)
    if other_alias is not None:
        response = client.post(
            f"/sources/{nw}/aliases/remove", data={"alias_id": other_alias, "csrf_token": token}
        )
        assert response.status_code == 404
    response = client.post(
        f"/sources/{nw}/aliases/remove", data={"alias_id": alias_id, "csrf_token": token}
    )
    assert response.status_code == 302
    for junk in ["abc", "-1", "99999999999999999999"]:
        response = client.post(
            f"/sources/{nw}/aliases/remove", data={"alias_id": junk, "csrf_token": token}
        )
        assert response.status_code == 404


def test_merge_through_the_form(app: Flask, world: dict) -> None:
    client = client_for(app, "rev")
    token = csrf(client)
    nw, target = world["ids"]["NW"], world["ids"]["Nordwire Agency"]
    unconfirmed = client.post(
        f"/sources/{nw}/merge", data={"into": "Nordwire Agency", "csrf_token": token}
    )
    assert unconfirmed.status_code == 422
    assert "tick the box" in unconfirmed.get_data(as_text=True)
    unknown = client.post(
        f"/sources/{nw}/merge", data={"into": "Reuters", "confirm": "y", "csrf_token": token}
    )
    assert unknown.status_code == 422  # Reuters belongs to another project
    itself = client.post(
        f"/sources/{nw}/merge", data={"into": "nw", "confirm": "y", "csrf_token": token}
    )
    assert itself.status_code == 422 and "into itself" in itself.get_data(as_text=True)
    done = client.post(
        f"/sources/{nw}/merge",
        data={"into": "nordwire agency", "confirm": "y", "csrf_token": token},
    )
    assert done.status_code == 302 and done.headers["Location"] == f"/sources/{target}"
    assert client.get(f"/sources/{nw}").status_code == 404
    with app_session(app) as session:
        assert SourceIndex(session, world["project"]).resolve("NW") == target
