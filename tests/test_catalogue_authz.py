"""Catalogue rows 33–37 (authorization): IDOR on another annotator's answer, enumeration
by non-members, annotators on reviewer and admin routes, the blind phase, anonymous
callers on every route.

Each test is named after its row of /work/shared/reference/bad_input_and_attacks.md;
``tests/test_authz_matrix.py`` runs the full route × role × method matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from annotator.exchange.apply import upsert_annotation
from annotator.models import Annotation, AnnotationEvent, Article, Base, Project, Source, Unit
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from annotator.web import safe_next
from tests.authz_matrix import ENTRIES, Ctx, Fixture, World
from tests.helpers import add_article, add_project, add_user, app_session, counted, login
from tests.review_world import sentence_ids

TEXT = (
    "The harbour bridge will close for repairs, the council said. "
    '"It cannot wait," the engineer told Reuters. Traffic may double on the ring road.'
)
OTHER = "The ferry timetable changes in June. Tickets cost more."
# Strings only someone allowed to see others' answers (or the project) may be shown.
NOTE_A, NOTE_B = "note-of-alpha-7319", "note-of-bravo-4402"
ANNOTATORS = ("annalpha", "annbravo")
PROJECT_SECRETS = ("Harbour story", "Harbour Council", "newsroom-p")
AUTH_TABLES = {"login_sessions", "api_tokens", "login_attempts"}
_CSRF = re.compile(r'(name="csrf[-_]token"\s+(?:content|value)=)"[^"]*"')


@dataclass
class Ids:
    """Ids of the world of these tests."""

    project: int
    other: int
    article: int
    units: list[int]
    source: int
    alias: int
    users: dict[str, int]
    foreign_article: int
    foreign_unit: int
    foreign_source: int


def build(app: Flask) -> Ids:
    """Project "newsroom-p": annalpha and annbravo disagree on the first sentence (with
    notes), annblind has answered nothing, revp reviews; "elsewhere-q": outsider
    (annotator) and revq (reviewer); boss is an admin."""
    with app_session(app) as session:
        project = add_project(session, "newsroom-p")
        other = add_project(session, "elsewhere-q")
        users = {
            name: add_user(session, name, project=project) for name in (*ANNOTATORS, "annblind")
        }
        users["revp"] = add_user(session, "revp", "reviewer", project=project)
        users["outsider"] = add_user(session, "outsider", project=other)
        users["revq"] = add_user(session, "revq", "reviewer", project=other)
        users["boss"] = add_user(session, "boss", "admin")
        article = add_article(session, project, TEXT, title="Harbour story")
        foreign = add_article(session, other, OTHER, title="Ferry story")
        registry = SourceIndex(session, project.id)
        source = registry.ensure("Harbour Council", "government", ["HC"])
        foreign_source = SourceIndex(session, other.id).ensure("Ferry Board", "organization")
        session.flush()
        labels = label_ids(session, project.id)
        units = sentence_ids(session, article.id)
        for name, label, note in (
            ("annalpha", "quote", NOTE_A),
            ("annbravo", "speculation", NOTE_B),
        ):
            user = users[name]
            upsert_annotation(
                session, units[0], user.id, labels[label], [source], note, user.id, "create"
            )
        alias = session.get(Source, source)
        assert alias is not None
        session.commit()
        return Ids(
            project=project.id,
            other=other.id,
            article=article.id,
            units=units,
            source=source,
            alias=alias.aliases[0].id,
            users={name: user.id for name, user in users.items()},
            foreign_article=foreign.id,
            foreign_unit=sentence_ids(session, foreign.id)[0],
            foreign_source=foreign_source,
        )


@pytest.fixture
def ids(app: Flask) -> Ids:
    """The world of these tests, committed."""
    return build(app)


def client_of(app: Flask, name: str | None) -> FlaskClient:
    """A client logged in as ``name`` (anonymous for None)."""
    client = app.test_client()
    if name is not None:
        login(client, name)
    return client


def csrf(client: FlaskClient) -> dict[str, str]:
    """The X-CSRFToken header of the client's session."""
    reply = client.get("/api/v1/csrf-token")
    if reply.status_code == 200:
        return {"X-CSRFToken": reply.get_json()["csrf_token"]}
    page = client.get("/login").get_data(as_text=True)
    return {"X-CSRFToken": page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]}


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the login ones."""
    with app_session(app) as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
            if table.name not in AUTH_TABLES
        }


def annotation_row(app: Flask, unit_id: int, user_id: int) -> tuple[Any, ...]:
    """The stored annotation (label, note, version, updated_at) and its history length."""
    with app_session(app) as session:
        row = session.execute(
            select(
                Annotation.label_id, Annotation.note, Annotation.version, Annotation.updated_at
            ).where(Annotation.unit_id == unit_id, Annotation.annotator_id == user_id)
        ).one()
        events = session.scalar(
            select(func.count())
            .select_from(AnnotationEvent)
            .where(AnnotationEvent.unit_id == unit_id, AnnotationEvent.annotator_id == user_id)
        )
    return (*row, events)


def without_tokens(body: str) -> str:
    """The body with its CSRF tokens blanked (they carry a timestamp)."""
    return _CSRF.sub(r'\1=""', body)


# --- row 33 ------------------------------------------------------------------------------


def test_row_33_idor_on_another_annotators_annotation(app: Flask, ids: Ids) -> None:
    """Annotator B cannot change or delete annotator A's answer: the API addresses only
    the caller's own answer of a unit, another project's unit is 404, and an annotation
    id is no address at all. A's row, version and history stay as they were."""
    unit, alpha = ids.units[0], ids.users["annalpha"]
    stored = annotation_row(app, unit, alpha)
    version = stored[2]
    path = f"/api/v1/units/{unit}/annotation"
    body = {"label": "unclear", "sources": [], "note": "hijacked", "expected_version": version}
    with app_session(app) as session:
        annotation_id = session.scalar(
            select(Annotation.id).where(
                Annotation.unit_id == unit, Annotation.annotator_id == alpha
            )
        )

    outsider = client_of(app, "outsider")  # B of another project
    headers = csrf(outsider)
    for reply in (
        outsider.delete(path, query_string={"expected_version": version}, headers=headers),
        outsider.put(path, json=body, headers=headers),
    ):
        assert reply.status_code == 404 and reply.get_json()["error"] == "not_found"
    patch = outsider.patch(path, json=body, headers=headers)
    assert patch.status_code == 405 and patch.is_json

    bravo = client_of(app, "annbravo")  # B of the same project, with an answer of her own
    headers = csrf(bravo)
    blind = client_of(app, "annblind")  # B of the same project, without one
    blind_headers = csrf(blind)
    deleted = blind.delete(path, query_string={"expected_version": version}, headers=blind_headers)
    # The request addresses B's own (missing) answer: a conflict that shows B's, not A's.
    assert deleted.status_code == 409 and deleted.get_json()["current"] is None
    assert NOTE_A not in deleted.get_data(as_text=True)
    for client, hdrs in ((bravo, headers), (blind, blind_headers)):
        assert client.patch(path, json=body, headers=hdrs).status_code == 405
        for method in ("GET", "PATCH", "PUT", "DELETE"):
            reply = client.open(
                f"/api/v1/annotations/{annotation_id}", method=method, json=body, headers=hdrs
            )
            assert reply.status_code in (404, 405) and reply.is_json

    assert annotation_row(app, unit, alpha) == stored


# --- row 34 ------------------------------------------------------------------------------


def _enumerations(ids: Ids, missing: int) -> list[tuple[str, list[int]]]:
    """URL templates with the ids of P's objects and ids that exist nowhere."""
    projects = [ids.project, missing, missing + 1]
    articles = [ids.article, missing]
    units = [*ids.units, missing]
    sources = [ids.source, missing]
    return [
        ("/projects/{}", projects),
        ("/projects/{}/review", projects),
        ("/projects/{}/export.json", projects),
        ("/projects/{}/agreement", projects),
        ("/projects/{}/manage", projects),
        ("/projects/{}/guidelines", projects),
        ("/sources?project={}", projects),
        ("/articles/{}/annotate", articles),
        ("/articles/{}/segments", articles),
        ("/units/{}/review", units),
        ("/units/{}/review/next", units),
        ("/sources/{}", sources),
        ("/api/v1/projects/{}", projects),
        ("/api/v1/projects/{}/export", projects),
        ("/api/v1/projects/{}/review-queue", projects),
        ("/api/v1/projects/{}/sources", projects),
        ("/api/v1/articles/{}", articles),
    ]


@pytest.mark.parametrize("name", ["outsider", "revq"])
def test_row_34_non_member_enumeration_is_404_without_oracle(
    app: Flask, ids: Ids, name: str
) -> None:
    """A member of another project (annotator or reviewer) who walks the ids of P's
    projects, articles, sentences, sources, exports and review pages gets 404 for every
    one, with the same bytes and the same number of SQL statements as for an id that
    does not exist: neither the size nor the work of the answer tells them apart."""
    client = client_of(app, name)
    with app_session(app) as session:
        top = max(
            session.scalar(select(func.max(table.id))) or 0
            for table in (Project, Article, Unit, Source)
        )
    for template, values in _enumerations(ids, top + 1000):
        answers = []
        for value in values:
            with counted(app) as statements:
                reply = client.get(template.format(value))
            assert reply.status_code == 404, (template, value)
            answers.append((without_tokens(reply.get_data(as_text=True)), len(statements)))
        assert all(answer == answers[0] for answer in answers), (template, answers)


def test_row_34_objects_of_another_project_inside_a_project_url_are_404(
    app: Flask, ids: Ids
) -> None:
    """A reviewer of P who puts Q's article, sentence or source into one of P's URLs or
    bodies is answered exactly as for an id that does not exist."""
    client = client_of(app, "revp")
    headers = csrf(client)
    missing = ids.foreign_unit + 10_000
    pairs = [
        ("GET", f"/projects/{ids.project}/articles/{{}}/assign", None, ids.foreign_article),
        ("GET", f"/projects/{ids.project}/review?article={{}}", None, ids.foreign_article),
        (
            "GET",
            f"/api/v1/projects/{ids.project}/review-queue?article={{}}",
            None,
            ids.foreign_article,
        ),
        (
            "POST",
            f"/articles/{ids.article}/segments/{{}}/merge",
            {"start": 0, "end": 1},
            ids.foreign_unit,
        ),
    ]
    before = snapshot(app)
    for method, template, form, foreign in pairs:
        replies = [
            client.open(template.format(value), method=method, data=form, headers=headers)
            for value in (foreign, missing)
        ]
        assert replies[0].status_code == replies[1].status_code
        assert replies[0].status_code in (404, 422), template
        bodies = [without_tokens(r.get_data(as_text=True)) for r in replies]
        assert bodies[0] == bodies[1].replace(str(missing), str(foreign)), template
    # JSON bodies naming another project's source: refused like an unknown id.
    merge = [
        client.post(f"/api/v1/sources/{ids.source}/merge", json={"into": into}, headers=headers)
        for into in (ids.foreign_source, missing)
    ]
    assert merge[0].status_code == merge[1].status_code == 422
    assert merge[0].get_json() == merge[1].get_json()
    assert snapshot(app) == before


# --- row 35 ------------------------------------------------------------------------------


def test_row_35_annotator_on_reviewer_and_admin_routes(app: Flask, ids: Ids) -> None:
    """A member annotator gets 403 from review, export, member management, settings,
    agreement, import, segmentation, the registry and project creation, with nothing of
    the data in the answer and nothing written."""
    client = client_of(app, "annalpha")
    headers = csrf(client)
    p, unit = ids.project, ids.units[0]
    gets = [
        f"/projects/{p}/review",
        f"/units/{unit}/review",
        f"/projects/{p}/export.json",
        f"/projects/{p}/export.csv",
        f"/projects/{p}/manage",
        f"/projects/{p}/agreement",
        f"/projects/{p}/articles/{ids.article}/assign",
        f"/articles/{ids.article}/segments",
        f"/sources?project={p}",
        f"/sources/{ids.source}",
        "/review",
        f"/api/v1/projects/{p}/export",
        f"/api/v1/projects/{p}/review-queue",
        f"/articles/{ids.article}/annotate?annotator=annbravo",
        f"/api/v1/articles/{ids.article}?annotator=annbravo",
    ]
    posts: list[tuple[str, str, dict[str, Any] | None, Any]] = [
        ("POST", f"/projects/{p}/members", {"username": "outsider"}, None),
        ("POST", f"/projects/{p}/members/{ids.users['annbravo']}/remove", {}, None),
        ("POST", f"/projects/{p}/settings", {"suggestion_mode": "hidden"}, None),
        ("POST", f"/projects/{p}/import", {"text": "A new story. It is short."}, None),
        ("POST", f"/projects/{p}/assign", {}, None),
        ("POST", f"/projects/{p}/review/accept-unanimous", {}, None),
        ("POST", f"/projects/{p}/review/threshold", {"threshold": "3"}, None),
        ("POST", f"/units/{unit}/review", {"accept": "new", "label": "quote"}, None),
        ("POST", f"/units/{unit}/review/clear", {}, None),
        ("POST", f"/sources/{ids.source}/rename", {"name": "Renamed"}, None),
        ("POST", f"/sources/{ids.source}/aliases/remove", {"alias_id": ids.alias}, None),
        ("POST", "/", {"name": "annotators-project"}, None),
        ("PUT", f"/api/v1/units/{unit}/gold", None, {"label": "quote", "sources": []}),
        ("POST", f"/api/v1/units/{unit}/split", None, {"at": 10}),
        ("POST", f"/api/v1/projects/{p}/articles", None, {"text": "Another story."}),
        ("PATCH", f"/api/v1/sources/{ids.source}", None, {"name": "Renamed"}),
        ("DELETE", f"/api/v1/sources/{ids.source}/aliases/{ids.alias}", None, None),
    ]
    before = snapshot(app)
    replies = [(path, client.get(path)) for path in gets]
    replies += [
        (path, client.open(path, method=method, data=form, json=body, headers=headers))
        for method, path, form, body in posts
    ]
    for path, reply in replies:
        assert reply.status_code == 403, path
        text = reply.get_data(as_text=True)
        if path.startswith("/api/"):
            assert set(reply.get_json()) == {"error", "message"}, path
        else:
            assert reply.mimetype == "text/html", path
        leaked = [s for s in (NOTE_A, NOTE_B, "annbravo", "Harbour Council") if s in text]
        assert leaked == [], path
    assert snapshot(app) == before


# --- row 36 ------------------------------------------------------------------------------


def _get_routes(app: Flask, ids: Ids) -> list[str]:
    """Every GET route of the app addressed at P's objects, through the matrix builders."""
    fx = Fixture(
        ids.project, ids.article, ids.units[0], ids.units[1], ids.source, ids.source, ids.alias
    )
    world = World(fx, fx, {}, make=None)  # type: ignore[arg-type]  # GETs make nothing
    paths = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or "GET" not in (rule.methods or ()):
                continue
            call = ENTRIES[rule.endpoint].build(Ctx(world, "P", "annblind", "GET"))
            path = url_for(rule.endpoint, **call.values, **call.query)
            paths.append(path)
            # Asking for someone else's answers by name must not work either.
            separator = "&" if "?" in path else "?"
            paths += [f"{path}{separator}annotator={name}" for name in ANNOTATORS]
    return paths


@pytest.mark.parametrize("name", ["annblind", "annalpha"])
def test_row_36_blind_phase_hides_other_annotators(app: Flask, ids: Ids, name: str) -> None:
    """An annotator (one who answered nothing, and one who did) sees no other
    annotator's label, note or name on any page or API answer, however asked."""
    client = client_of(app, name)
    others = [n for n in ANNOTATORS if n != name]
    hidden = [*others, *(NOTE_A if n == "annalpha" else NOTE_B for n in others)]
    for path in _get_routes(app, ids):
        reply = client.get(path)
        assert reply.status_code < 500
        text = reply.get_data(as_text=True)
        leaked = [s for s in hidden if s in text]
        assert leaked == [], path
    view = client.get(f"/api/v1/articles/{ids.article}").get_json()
    answers = {u["id"]: u["annotation"] for u in view["units"] if u["annotation"]}
    if name == "annblind":
        assert answers == {}
    else:  # only her own answer, on the one sentence she labelled
        assert list(answers) == [ids.units[0]] and answers[ids.units[0]]["note"] == NOTE_A
        assert answers[ids.units[0]]["label"] == "quote"
    for who in others:
        refused = client.get(f"/api/v1/articles/{ids.article}?annotator={who}")
        assert refused.status_code == 403
        page = client.get(f"/articles/{ids.article}/annotate?annotator={who}")
        assert page.status_code == 403


# --- row 37 ------------------------------------------------------------------------------

PUBLIC = {"static", "auth.login", "auth.logout", "api.openapi_json"}


def _values(rule: Rule, ids: Ids) -> dict[str, Any]:
    """URL values for any rule, from the argument names (no matrix entry needed)."""
    known = {
        "project_id": ids.project,
        "article_id": ids.article,
        "unit_id": ids.units[0],
        "source_id": ids.source,
        "alias_id": ids.alias,
        "user_id": ids.users["annbravo"],
        "fmt": "json",
    }
    missing = sorted(set(rule.arguments) - known.keys())
    assert missing == [], f"{rule.rule}: no value for {missing}; add one here"
    return {name: known[name] for name in rule.arguments}


def test_row_37_unauthenticated_calls_to_every_route(app: Flask, ids: Ids) -> None:
    """Generated from app.url_map: every route but login, logout, static and the OpenAPI
    document answers an anonymous caller 401 JSON (API) or a 302 to the login page with
    a same-origin ``next`` (pages), for every method it accepts; never data, no write."""
    client = client_of(app, None)
    headers = csrf(client)  # so that the login check, not the CSRF check, answers
    before = snapshot(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        path = rule.build(_values(rule, ids), append_unknown=False)[1]
        for method in sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}):
            reply = client.open(path, method=method, headers=headers, json={})
            text = reply.get_data(as_text=True)
            checked += 1
            if rule.rule.startswith("/api/"):
                assert reply.status_code == 401, (method, path)
                assert reply.get_json() == {
                    "error": "unauthenticated",
                    "message": "log in or send an API token",
                }
            else:
                assert reply.status_code == 302, (method, path)
                location = urlsplit(reply.headers["Location"])
                assert (location.scheme, location.netloc, location.path) == ("", "", "/login")
                target = parse_qs(location.query)["next"][0]
                assert target == path and safe_next(target) == target
            assert [s for s in PROJECT_SECRETS if s in text] == [], (method, path)
    assert checked > 0
    assert snapshot(app) == before


def test_row_37_login_redirect_never_points_off_site(app: Flask, ids: Ids) -> None:
    """Paths crafted to look like another host still send the anonymous caller to a
    login page whose ``next`` stays on this site (or is dropped)."""
    client = client_of(app, None)
    for path in (
        f"//evil.example/projects/{ids.project}",
        f"/\\evil.example/projects/{ids.project}",
    ):
        reply = client.get("/", environ_overrides={"PATH_INFO": path})
        assert reply.status_code in (302, 308, 404)
        if reply.status_code == 302:
            location = urlsplit(reply.headers["Location"])
            assert location.netloc == "" and location.path in ("/login", "/")
            target = parse_qs(location.query).get("next", [""])[0]
            assert target == "" or safe_next(target) == target
        elif reply.status_code == 308:
            assert urlsplit(reply.headers["Location"]).netloc in ("", "localhost")
