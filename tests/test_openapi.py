"""The OpenAPI document describes every API route, and only existing ones."""

from __future__ import annotations

import re

from flask import Flask


def _openapi_path(rule: str) -> str:
    # Flask's <int:article_id> becomes OpenAPI's {article_id}.
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_every_api_route_is_described(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "patch", "delete"}
    }
    routed = {
        (_openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routed - described == set(), "routes missing from the OpenAPI document"
    assert described - routed == set(), "OpenAPI describes routes that do not exist"


def test_every_operation_documents_its_errors(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert "401" in operation["responses"], f"{method} {path} does not list 401"


def test_huge_ids_are_404_not_500(app: Flask) -> None:
    from tests.helpers import add_project, add_user, app_session, login

    with app_session(app) as session:
        add_user(session, "ann1", project=add_project(session))
        session.commit()
    client = app.test_client()
    login(client, "ann1")
    for url in (
        f"/articles/{2**64}/annotate",
        f"/projects/{2**63}",
        "/api/v1/articles/99999999999999999999",
    ):
        assert client.get(url).status_code == 404, url


def test_every_json_route_refuses_bad_bodies_alike(app: Flask) -> None:
    """Deep nesting, bad UTF-8 and a wrong content type: 400/415 everywhere, never 5xx."""
    from tests.helpers import add_project, add_user, app_session

    with app_session(app) as session:
        project = add_project(session)
        add_user(session, "boss", "admin", project=project)
        session.commit()
        project_id = project.id
    from annotator.auth import create_api_token
    from annotator.users import get_user_by_name

    with app_session(app) as session:
        user = get_user_by_name(session, "boss")
        assert user is not None
        token = create_api_token(session, user, "test")
        session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    routes = [
        ("post", f"/api/v1/projects/{project_id}/articles"),
        ("post", f"/api/v1/projects/{project_id}/sources"),
        ("patch", "/api/v1/sources/1"),
    ]
    for method, url in routes:
        call = getattr(client, method)
        deep = b"[" * 100_000 + b"]" * 100_000
        for body, status in ((deep, 400), (b"\xff\xfe{}", 400)):
            response = call(url, data=body, headers={**auth, "Content-Type": "application/json"})
            assert response.status_code in (status, 404), (url, response.status_code)
            assert response.status_code != 500
        response = call(url, data=b"{}", headers={**auth, "Content-Type": "text/plain"})
        assert response.status_code in (415, 404), (url, response.status_code)
