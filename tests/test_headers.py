"""Browser-side hardening as sent: the CSP and security headers on every kind of response,
cookie flags, downloads as attachments, no inline script or style in templates, and
user-written text escaped in HTML, in the JSON embedded in pages and in SVG charts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from annotator.charts import Bar, bars, heatmap
from annotator.headers import CONTENT_SECURITY_POLICY
from annotator.views.annotate import unit_item
from tests import hostile_world
from tests.helpers import app_session, login

ROOT = Path(__file__).resolve().parents[1]
EXPORT_TYPES = {
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}


def directives(policy: str) -> dict[str, list[str]]:
    """The CSP as {directive: sources}."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            assert words[0] not in parsed, f"{words[0]} given twice"
            parsed[words[0]] = words[1:]
    return parsed


def assert_hardened(response: TestResponse, what: str) -> None:
    """Every security header with the exact properties the policy promises."""
    headers = response.headers
    policy = headers.get("Content-Security-Policy")
    assert policy is not None, f"{what}: no CSP"
    assert headers.getlist("Content-Security-Policy") == [policy], f"{what}: two CSPs"
    csp = directives(policy)
    for sources in csp.values():
        for bad in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"):
            assert bad not in sources, f"{what}: {bad} in {policy}"
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    assert headers.get("X-Frame-Options") == "DENY", what


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app_session(app) as session:
        return hostile_world.build(session)


@pytest.fixture
def boss(app: Flask, world: dict[str, Any]) -> FlaskClient:
    client = app.test_client()
    login(client, "boss")
    return client


def page_paths(world: dict[str, Any]) -> list[str]:
    project, article, unit = world["project"], world["article"], world["units"][0]
    return [
        "/",
        f"/projects/{project}",
        f"/projects/{project}/manage",
        f"/projects/{project}/guidelines",
        f"/projects/{project}/agreement",
        f"/projects/{project}/review",
        f"/articles/{article}/annotate",
        f"/articles/{article}/segments",
        f"/units/{unit}/review",
        "/review",
        "/sources",
        f"/sources/{world['source']}",
        "/guidelines",
        "/account/password",
    ]


# --- headers -------------------------------------------------------------------------


def test_the_policy_constant_is_the_strict_one() -> None:
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives(CONTENT_SECURITY_POLICY)["frame-ancestors"] == ["'none'"]


def test_every_page_is_hardened(boss: FlaskClient, world: dict[str, Any]) -> None:
    for path in page_paths(world):
        response = boss.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html", path
        assert_hardened(response, path)


def test_anonymous_pages_and_redirects_are_hardened(app: Flask) -> None:
    client = app.test_client()
    for path, status in (("/login", 200), ("/", 302), ("/sources", 302)):
        response = client.get(path)
        assert response.status_code == status, path
        assert_hardened(response, path)


def test_the_api_is_hardened(boss: FlaskClient, app: Flask, world: dict[str, Any]) -> None:
    anonymous = app.test_client()
    for client, path, status in (
        (boss, "/api/v1/me", 200),
        (boss, f"/api/v1/articles/{world['article']}", 200),
        (boss, "/api/v1/openapi.json", 200),
        (boss, "/api/v1/projects/999999", 404),
        (anonymous, "/api/v1/me", 401),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "application/json", path
        assert_hardened(response, path)


def test_errors_are_hardened(boss: FlaskClient, app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    anonymous = app.test_client()
    token = boss.get("/").get_data(as_text=True).split('name="csrf-token" content="')[1]
    token = token.split('"')[0]
    cases = [
        (boss.get("/no/such/page"), 404, "text/html"),
        (boss.get("/api/v1/nothing-here"), 404, "application/json"),
        (boss.get("/logout"), 405, "text/html"),
        (anonymous.delete("/api/v1/me"), 405, "application/json"),
        (boss.post("/login", data={"username": "x" * 4096}), 413, "text/html"),
        (
            boss.put(
                "/api/v1/units/1/annotation",
                data="x" * 4096,
                content_type="application/json",
                headers={"X-CSRFToken": token},
            ),
            413,
            "application/json",
        ),
        (boss.post("/account/password", data={"current": "x"}), 400, "text/html"),  # CSRF
    ]
    for response, status, mimetype in cases:
        assert response.status_code == status, response.get_data(as_text=True)[:200]
        assert response.mimetype == mimetype
        assert_hardened(response, f"HTTP {status}")


@pytest.mark.expect_5xx
def test_the_not_ready_answer_is_hardened(bare_app: Flask) -> None:
    response = bare_app.test_client().get("/login")  # no schema yet: 503 with instructions
    assert response.status_code == 503
    assert_hardened(response, "503")


def test_static_files_are_hardened(app: Flask) -> None:
    client = app.test_client()
    for name, mimetype in (
        ("annotate.js", "text/javascript"),
        ("app.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        assert_hardened(response, name)
        response.close()


def test_a_rate_limited_login_is_hardened(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client()
    statuses = []
    for _ in range(6):
        token = csrf_from_login(client)
        response = client.post(
            "/login", data={"username": "ann1", "password": "wrong!!!", "csrf_token": token}
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429
    assert_hardened(response, "429")


def csrf_from_login(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


# --- cookies -------------------------------------------------------------------------


def session_cookie(response: TestResponse) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(app: Flask, world: dict[str, Any], secure: bool) -> None:
    app.config["SESSION_COOKIE_SECURE"] = secure
    client = app.test_client()
    first = client.get("/login")  # the CSRF token starts the session
    token = first.get_data(as_text=True).split('type="hidden" value="')[1].split('"')[0]
    logged_in = client.post(
        "/login",
        data={"username": "ann1", "password": "correct horse battery", "csrf_token": token},
    )
    assert logged_in.status_code == 302
    for response in (first, logged_in):
        cookie = session_cookie(response)
        flags = cookie_flags(cookie)
        assert "httponly" in flags
        assert "samesite=lax" in cookie.lower()
        assert ("secure" in flags) is secure


# --- downloads -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(EXPORT_TYPES))
def test_every_download_is_an_attachment_with_a_fixed_type(
    boss: FlaskClient, world: dict[str, Any], fmt: str
) -> None:
    project = world["project"]
    for path in (
        f"/projects/{project}/export.{fmt}",
        f"/api/v1/projects/{project}/export?format={fmt}",
    ):
        response = boss.get(path)
        body = response.get_data()
        response.close()
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == EXPORT_TYPES[fmt], path
        disposition = response.headers["Content-Disposition"]
        # The hostile project name leaves only [A-Za-z0-9._-] in the file name.
        match = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"', disposition)
        assert match is not None, disposition
        assert match.group(1).endswith(f".{fmt}")
        assert_hardened(response, path)
        # The payloads travel as data: the export holds them exactly.
        encoded = json.dumps(hostile_world.TITLE, ensure_ascii=False)[1:-1]
        assert encoded.encode() in body or fmt == "csv"
        assert hostile_world.NOTE.replace('"', '""').encode() in body or fmt != "csv"


def test_an_unknown_export_format_is_no_download(boss: FlaskClient, world: dict[str, Any]) -> None:
    project = world["project"]
    for path, status in (
        (f"/projects/{project}/export.html", 404),
        (f"/api/v1/projects/{project}/export?format=html", 400),
    ):
        response = boss.get(path)
        assert response.status_code == status
        assert "Content-Disposition" not in response.headers


# --- templates and scripts -----------------------------------------------------------


def templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    assert len(found) >= 10
    return found


def tags(source: str) -> list[str]:
    """The HTML start tags of a template (Jinja expressions inside them included)."""
    return re.findall(r"<[a-zA-Z][^<>]*(?:\{\{[^}]*\}\}[^<>]*)*>", source)


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    problems = []
    for path in templates():
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT)
        for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", source, re.S):
            attributes, body = match.groups()
            data_block = 'type="application/json"' in attributes
            external = re.search(r"\bsrc=", attributes) is not None and not body.strip()
            if not (data_block or external):
                problems.append(f"{name}: inline script {match.group(0)[:60]!r}")
        if re.search(r"<style\b", source):
            problems.append(f"{name}: <style> element")
        if "javascript:" in source.lower():
            problems.append(f"{name}: javascript: URL")
        if re.search(r"\|\s*safe\b", source):
            problems.append(f"{name}: |safe")
        for tag in tags(source):
            if re.search(r"\sstyle\s*=", tag):
                problems.append(f"{name}: style attribute in {tag[:60]!r}")
            if re.search(r"\son[a-z]+\s*=", tag, re.I):
                problems.append(f"{name}: event handler attribute in {tag[:60]!r}")
    assert problems == []


def test_the_scanner_finds_what_it_looks_for() -> None:
    # The template check above would be vacuous if these were not caught.
    bad = '<div style="color:red" onclick="x()"><script>alert(1)</script>'
    assert any(re.search(r"\sstyle\s*=", tag) for tag in tags(bad))
    assert any(re.search(r"\son[a-z]+\s*=", tag) for tag in tags(bad))
    with_jinja = '<input value="{{ x }}" onfocus="y()">'
    assert any(re.search(r"\son[a-z]+\s*=", tag) for tag in tags(with_jinja))


def test_scripts_build_no_html_from_strings() -> None:
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new Function"
        r"|setTimeout\s*\(\s*['\"`]|setInterval\s*\(\s*['\"`]|setAttribute\(\s*['\"](on|style)"
        r"|\.cssText\b|createContextualFragment|DOMParser"
    )
    scripts = sorted((ROOT / "static").glob("*.js"))
    assert scripts
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in scripts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if sinks.search(line)
    ]
    assert found == []


# --- escaping ------------------------------------------------------------------------


def assert_escaped(body: str, what: str) -> None:
    for marker in hostile_world.RAW_MARKERS:
        assert marker not in body, f"{what}: raw {marker!r}"


def test_user_text_is_escaped_on_every_page(boss: FlaskClient, world: dict[str, Any]) -> None:
    shown = 0
    for path in page_paths(world):
        body = boss.get(path).get_data(as_text=True)
        assert_escaped(body, path)
        shown += "&lt;script&gt;window.__xss=1&lt;/script&gt;" in body
    # The payloads are there, as text, on the pages that show them.
    assert shown >= 10


def test_the_json_embedded_in_the_annotate_page_cannot_close_its_script(
    app: Flask, world: dict[str, Any]
) -> None:
    client = app.test_client()
    login(client, "ann1")  # whose answers cite the hostile source and carry the note
    page = client.get(f"/articles/{world['article']}/annotate").get_data(as_text=True)
    [block] = re.findall(
        r'<script type="application/json" id="annotate-data">(.*?)</script>', page, re.S
    )
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.dumps(json.loads(block), ensure_ascii=False)
    assert json.dumps(hostile_world.SOURCE, ensure_ascii=False) in data
    assert json.dumps(hostile_world.NOTE, ensure_ascii=False) in data


def test_the_annotation_markup_and_the_charts_escape_their_text() -> None:
    hostile = hostile_world.HOSTILE
    markup = unit_item("sentence", hostile) + unit_item("heading", hostile)
    chart = heatmap(
        hostile,
        [hostile],
        [hostile],
        [[0.5]],
        text=lambda _r, _c: hostile,
        link=lambda _r, _c: '/x?a="><script>',
        row_axis=hostile,
        column_axis=hostile,
    )
    bar_chart = bars(hostile, [Bar(hostile, 0.5, hostile, '/y"><script>')])
    for what, text in (("units", markup), ("heatmap", chart), ("bars", bar_chart)):
        assert_escaped(str(text), what)
        assert '"><script>' not in str(text), what
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in str(text), what
