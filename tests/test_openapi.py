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


def test_every_body_operation_documents_its_413(app: Flask) -> None:
    """A body over MAX_CONTENT_LENGTH is refused with 413 and the JSON error body by every
    operation that reads one, and the document says so (schemathesis checks the rest)."""
    from annotator.api.openapi import document
    from annotator.auth import create_api_token
    from annotator.users import get_user_by_name
    from tests import review_world
    from tests.helpers import app_session

    with app_session(app) as session:
        world = review_world.build(session)
        boss = get_user_by_name(session, "boss")
        assert boss is not None
        token = create_api_token(session, boss, "test")
        session.commit()
    ids = {
        "project_id": world["project"],
        "unit_id": world["units"][1],
        "source_id": world["sources"]["AP"],
        "alias_id": 1,
    }
    app.config["MAX_CONTENT_LENGTH"] = 1024
    client = app.test_client()
    body = {"note": "x" * 2048}
    checked = []
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            url = "/api/v1" + path.format(**ids)
            response = client.open(
                url, method=method.upper(), json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 413, (method, path, response.status_code)
            assert response.get_json()["error"], (method, path)
            assert "413" in operation["responses"], f"{method} {path} does not document 413"
            checked.append((method, path))
    assert len(checked) >= 5
