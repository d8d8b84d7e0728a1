"""Catalogue rows 24, 26–30, 32 (payload integrity and limits) and 38–40 (CSRF):
tampered requests change nothing.

Each test is named after its row of /work/shared/reference/bad_input_and_attacks.md;
"no write" is checked on every table's row count and on the annotations' versions.
"""

from __future__ import annotations

from typing import Any

import itsdangerous
import pytest
from flask import Flask
from sqlalchemy import func, select
from wtforms.validators import Length

from annotator.api.annotations import MAX_SOURCES
from annotator.forms import LoginForm
from annotator.forms_projects import MemberForm, NewProjectForm
from annotator.forms_sources import AliasForm, DetailsForm, RenameForm
from annotator.models import (
    LABEL_NAME_MAX,
    NOTE_MAX,
    Annotation,
    Base,
    Label,
    Project,
    Source,
    SourceAlias,
    Unit,
    User,
)
from annotator.registry import SourceIndex
from annotator.review import RATIONALE_MAX
from annotator.source_edits import DESCRIPTION_MAX
from tests.helpers import PASSWORD, app_session
from tests.test_annotating import World, build_world
from tests.test_api_annotations import Api, body


@pytest.fixture
def world(app: Flask) -> World:
    """build_world, plus a label "rumour" and a source "Tass" that only "other" has."""
    with app_session(app) as session:
        world = build_world(session)
        session.add(Label(project_id=world.other_project, name="rumour", key="5", position=9))
        SourceIndex(session, world.other_project).ensure("Tass", "news_agency")
        session.commit()
    return world


def snapshot(app: Flask) -> dict[str, Any]:
    """Row counts of every table, and every annotation's (id, version, updated_at)."""
    with app_session(app) as session:
        # Logins and their bookkeeping are not what these requests could write.
        state: dict[str, Any] = {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
            if not table.name.startswith(("login_", "api_tokens"))
        }
        state["versions"] = session.execute(
            select(Annotation.id, Annotation.version, Annotation.updated_at).order_by(Annotation.id)
        ).all()
    return state


def other_label_id(app: Flask, world: World) -> int:
    with app_session(app) as session:
        found = session.scalar(select(Label.id).where(Label.project_id == world.other_project))
    assert found is not None
    return found


def csrf_field(client: Any, url: str) -> str:
    """The session's CSRF token, as the page at ``url`` gives it to its forms."""
    html = client.get(url).get_data(as_text=True)
    return html.split('name="csrf-token" content="')[1].split('"')[0]


# --- rows 24, 26–30, 32: payload integrity and limits ---------------------------------


def _length_max(form: type, field: str) -> int:
    validators = getattr(form, field).kwargs["validators"]
    return next(v.max for v in validators if isinstance(v, Length))


def test_row_24_form_limits_match_the_columns() -> None:
    """Every length a form allows fits its column; the API's limits are the columns'."""
    column_length = {
        (RenameForm, "name"): Source.__table__.c.name.type.length,
        (AliasForm, "alias"): SourceAlias.__table__.c.alias.type.length,
        (NewProjectForm, "name"): Project.__table__.c.name.type.length,
        (LoginForm, "username"): User.__table__.c.username.type.length,
        (MemberForm, "username"): User.__table__.c.username.type.length,
    }
    for (form, field), length in column_length.items():
        assert _length_max(form, field) == length, (form.__name__, field)
    assert Label.__table__.c.name.type.length == LABEL_NAME_MAX
    # Unbounded text columns get their limit from the forms and the API alone.
    assert _length_max(DetailsForm, "description") == DESCRIPTION_MAX == NOTE_MAX
    assert RATIONALE_MAX == NOTE_MAX


def test_row_24_very_long_identifiers_and_notes_are_refused(app: Flask, world: World) -> None:
    before = snapshot(app)
    ann, rev = Api(app, "ann"), Api(app, "rev")
    huge, megabyte = "x" * 10_000, "n" * 1_000_000
    unit = world.sentences[0]
    label = ann.put(unit, body(huge))
    assert label.status_code == 422 and label.get_json()["field"] == "label"
    note = ann.put(unit, body(note=megabyte))
    assert note.status_code == 422 and note.get_json()["field"] == "note"
    source = ann.client.post(
        f"/api/v1/projects/{world.project}/sources",
        json={"name": huge, "kind": "person"},
        headers=ann.headers,
    )
    assert source.status_code == 422 and source.get_json()["field"] == "name"
    ap = world.sources["AP"]
    for url, field in ((f"/sources/{ap}/rename", "name"), (f"/sources/{ap}/aliases", "alias")):
        token = csrf_field(rev.client, f"/sources/{ap}")
        reply = rev.client.post(url, data={field: huge, "csrf_token": token})
        # The form comes back with the field's message (422: the value is wrong).
        assert reply.status_code in (400, 422), url
        assert "200 characters" in reply.get_data(as_text=True), url
    boss = Api(app, "boss")
    token = csrf_field(boss.client, "/")
    project = boss.client.post("/", data={"name": huge, "csrf_token": token})
    assert project.status_code == 400 and "200 characters" in project.get_data(as_text=True)
    rationale = rev.client.put(
        f"/api/v1/units/{unit}/gold",
        json={"label": "quote", "rationale": "r" * (NOTE_MAX + 1)},
        headers=rev.headers,
    )
    assert rationale.status_code == 422 and rationale.get_json()["field"] == "rationale"
    assert snapshot(app) == before


def test_row_26_labels_outside_the_project_are_refused(app: Flask, world: World) -> None:
    """A label the project does not have (made up, or another project's) is 422 on the
    save API, the gold API and the review form; nothing reaches the database."""
    before = snapshot(app)
    ann, rev = Api(app, "ann"), Api(app, "rev")
    unit = world.sentences[0]
    for label in ("nonsense", "rumour", "QUOTE", " quote", "quote\u200b"):
        reply = ann.put(unit, body(label))
        assert reply.status_code == 422 and reply.get_json()["field"] == "label", label
        gold = rev.client.put(
            f"/api/v1/units/{unit}/gold", json={"label": label}, headers=rev.headers
        )
        assert gold.status_code == 422 and gold.get_json()["field"] == "label", label
    token = csrf_field(rev.client, f"/units/{unit}/review")
    form = rev.client.post(
        f"/units/{unit}/review", data={"accept": "new", "label": "rumour", "csrf_token": token}
    )
    assert form.status_code == 422
    assert snapshot(app) == before


def test_row_27_label_ids_of_another_project_are_refused(app: Flask, world: World) -> None:
    """The API names labels; a label id (of another project or ours) is a wrong type."""
    before = snapshot(app)
    ann, rev = Api(app, "ann"), Api(app, "rev")
    foreign = other_label_id(app, world)
    unit = world.sentences[0]
    for label in (foreign, str(foreign), {"id": foreign}):
        assert ann.put(unit, body(label)).status_code == 422  # type: ignore[arg-type]
        gold = rev.client.put(
            f"/api/v1/units/{unit}/gold", json={"label": label}, headers=rev.headers
        )
        assert gold.status_code == 422
    assert snapshot(app) == before


def test_row_28_sources_of_another_project_are_refused_and_never_shown(
    app: Flask, world: World
) -> None:
    before = snapshot(app)
    ann, rev = Api(app, "ann"), Api(app, "rev")
    unit, tass = world.sentences[0], world.other_source
    mixed = [world.sources["AP"], tass]
    for sources in ([tass], mixed):
        save = ann.put(unit, body(sources=sources))
        assert save.status_code == 422 and save.get_json()["field"] == "sources"
        gold = rev.client.put(
            f"/api/v1/units/{unit}/gold",
            json={"label": "quote", "sources": sources},
            headers=rev.headers,
        )
        assert gold.status_code == 422 and gold.get_json()["field"] == "sources"
    token = csrf_field(rev.client, f"/units/{unit}/review")
    form = rev.client.post(
        f"/units/{unit}/review",
        data={"accept": "new", "label": "quote", "sources": "Tass", "csrf_token": token},
    )
    assert form.status_code == 422
    assert snapshot(app) == before
    # Not listed, not searchable, not openable from our project.
    found = ann.get(f"/api/v1/projects/{world.project}/sources?q=Tass").get_json()["sources"]
    assert found == []
    registry = rev.client.get(f"/sources?project={world.project}").get_data(as_text=True)
    assert "Tass" not in registry and f"/sources/{tass}" not in registry
    assert rev.client.get(f"/sources/{tass}").status_code == 404
    view = ann.get(f"/api/v1/articles/{world.article}").get_data(as_text=True)
    assert "Tass" not in view


def test_row_29_units_of_another_article_or_project_are_404(app: Flask, world: World) -> None:
    with app_session(app) as session:
        foreign = session.scalar(select(Unit.id).where(Unit.article_id == world.other_article))
        second = session.scalar(
            select(Unit.id).where(Unit.article_id == world.second_article, Unit.kind == "sentence")
        )
    before = snapshot(app)
    ann, rev = Api(app, "ann"), Api(app, "rev")
    assert ann.put(foreign, body()).status_code == 404  # type: ignore[arg-type]
    assert ann.delete(foreign, 0).status_code == 404  # type: ignore[arg-type]
    gold = rev.client.put(
        f"/api/v1/units/{foreign}/gold", json={"label": "quote"}, headers=rev.headers
    )
    assert gold.status_code == 404
    assert rev.client.get(f"/units/{foreign}/review").status_code == 404
    # A unit of another article in this project, under this article's URL.
    token = csrf_field(rev.client, f"/articles/{world.article}/segments")
    merge = rev.client.post(
        f"/articles/{world.article}/segments/{second}/merge",
        data={"start": 0, "end": 5, "csrf_token": token},
    )
    assert merge.status_code == 404
    assert snapshot(app) == before


WRONG_TYPES: list[Any] = [["quote"], {"name": "quote"}, 2, None, True, 1e308]
WRONG_IDS: list[Any] = ["1 OR 1=1", -1, 2**64, 1.5, "1", None, [1]]


def test_row_30_wrong_json_types_are_4xx_never_5xx(app: Flask, world: World) -> None:
    before = snapshot(app)
    ann, rev = Api(app, "ann"), Api(app, "rev")
    unit = world.sentences[0]
    for label in WRONG_TYPES:
        assert ann.put(unit, body(label)).status_code == 422, label
        gold = rev.client.put(
            f"/api/v1/units/{unit}/gold", json={"label": label}, headers=rev.headers
        )
        assert gold.status_code == 422, label
    for wrong in WRONG_IDS:
        assert ann.put(unit, body(sources=[wrong])).status_code == 422, wrong
        assert ann.put(unit, body(version=wrong)).status_code == 422, wrong
    assert ann.put(unit, body(sources=[0])).status_code == 422
    for raw in ("[1e309]", "[18446744073709551616]", '["1 OR 1=1"]'):
        reply = ann.client.put(
            f"/api/v1/units/{unit}/annotation",
            data='{"label": "quote", "expected_version": 0, "sources": ' + raw + "}",
            headers={**ann.headers, "Content-Type": "application/json"},
        )
        assert reply.status_code == 422 and reply.get_json()["field"] == "sources", raw
    source = ann.client.post(
        f"/api/v1/projects/{world.project}/sources",
        json={"name": ["AP"], "kind": 3},
        headers=ann.headers,
    )
    assert source.status_code == 422
    # Ids in URLs beyond any integer column, or not integers at all.
    for url in (f"/api/v1/units/{2**64}/annotation", "/api/v1/units/1%20OR%201=1/annotation"):
        assert ann.client.put(url, json=body(), headers=ann.headers).status_code == 404
    assert ann.get(f"/api/v1/articles/{2**64}").status_code == 404
    assert rev.client.get(f"/units/{2**64}/review").status_code == 404
    assert snapshot(app) == before


def test_row_30_too_many_sources_are_refused(app: Flask, world: World) -> None:
    ann = Api(app, "ann")
    reply = ann.put(world.sentences[0], body(sources=list(range(1, MAX_SOURCES + 2))))
    assert reply.status_code == 422 and reply.get_json()["field"] == "sources"


def test_row_32_too_many_form_fields_are_413(app: Flask, world: World) -> None:
    before = snapshot(app)
    boss = Api(app, "boss")
    token = csrf_field(boss.client, "/")
    fields = {f"f{i}": "x" for i in range(app.config["MAX_FORM_PARTS"] + 1)}
    form = boss.client.post("/", data={"name": "crowded", "csrf_token": token, **fields})
    assert form.status_code == 413
    multipart = boss.client.post(
        f"/projects/{world.project}/import",
        data={"text": "A sentence.", "csrf_token": token, **fields},
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 413
    assert snapshot(app) == before


# --- rows 38–40: CSRF -------------------------------------------------------------------


def _state_changing_page_routes(app: Flask, world: World) -> list[str]:
    """Every POST route outside the API, its ids filled with real ones."""
    ids = {
        "project_id": world.project,
        "article_id": world.article,
        "unit_id": world.sentences[0],
        "source_id": world.sources["AP"],
        "user_id": world.users["ann2"],
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        urls.append(rule.build(ids, append_unknown=False)[1])  # type: ignore[index]
    return urls


def test_row_38_every_state_changing_form_needs_a_csrf_token(app: Flask, world: World) -> None:
    urls = _state_changing_page_routes(app, world)
    assert len(urls) >= 15  # the generator found the app's forms
    before = snapshot(app)
    boss = Api(app, "boss")
    for url in urls:
        reply = boss.client.post(url, data={"name": "x", "label": "quote", "accept": "new"})
        assert reply.status_code == 400, url
        assert "Reload the page" in reply.get_data(as_text=True), url
    anonymous = app.test_client().post("/login", data={"username": "ann", "password": PASSWORD})
    assert anonymous.status_code == 400
    for method in ("put", "delete"):
        reply = getattr(boss.client, method)(
            f"/api/v1/units/{world.sentences[0]}/annotation?expected_version=0", json=body()
        )
        assert reply.status_code == 400 and reply.get_json()["error"] == "csrf"
    assert snapshot(app) == before


def test_row_39_foreign_or_expired_tokens_are_400_then_a_fresh_one_works(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, other = Api(app, "ann"), Api(app, "ann")
    unit = world.sentences[0]
    url = f"/api/v1/units/{unit}/annotation"
    foreign = ann.client.put(url, json=body(), headers=other.headers)
    assert foreign.status_code == 400 and foreign.get_json()["error"] == "csrf"
    # Tokens normally live as long as the login session; with a time limit set they
    # expire, and the page's fetch of /csrf-token plus one retry recovers.
    app.config["WTF_CSRF_TIME_LIMIT"] = 60
    stale = ann.client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    later = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.TimestampSigner, "get_timestamp", lambda self: later(self) + 3600
    )
    expired = ann.client.put(url, json=body(), headers={"X-CSRFToken": stale})
    assert expired.status_code == 400
    assert expired.get_json()["error"] == "csrf" and "expired" in expired.get_json()["message"]
    assert snapshot(app)["annotations"] == 0
    fresh = ann.client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    retried = ann.client.put(url, json=body(), headers={"X-CSRFToken": fresh})
    assert retried.status_code == 200


def test_row_40_cross_origin_posts_and_simple_requests_are_refused(
    app: Flask, world: World
) -> None:
    before = snapshot(app)
    boss = Api(app, "boss")
    evil = {"Origin": "https://evil.example", "Referer": "https://evil.example/x"}
    form = boss.client.post("/", data={"name": "forged"}, headers=evil)
    assert form.status_code == 400
    url = f"/api/v1/units/{world.sentences[0]}/annotation"
    raw = '{"label": "quote", "expected_version": 0}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        # What a cross-site page can send without a preflight: no custom header.
        simple = boss.client.put(url, data=raw, headers={**evil, "Content-Type": content_type})
        assert simple.status_code == 400 and simple.get_json()["error"] == "csrf"
        # Even with the token, a JSON endpoint reads nothing but JSON.
        typed = boss.client.put(
            url, data=raw, headers={**boss.headers, "Content-Type": content_type}
        )
        assert typed.status_code == 415, content_type
    assert snapshot(app) == before
