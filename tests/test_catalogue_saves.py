"""Catalogue rows 42, 44, 45 (cookies, redirects, password reset) and 47–53
(concurrency, durability, data loss) through the login and the save API.

Each test is named after its row of /work/shared/reference/bad_input_and_attacks.md.
The barrier-synchronised scenarios of tests/test_apply_concurrency.py run here at
small scale; the client side (drafts in localStorage, the conflict dialog, the
re-login banner, retry with backoff) is driven in tests/browser/test_annotate_browser.py.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError

from annotator.db import get_database
from annotator.models import LoginSession, User, utcnow
from tests.helpers import PASSWORD, app_session
from tests.test_annotating import World, build_world
from tests.test_api_annotations import Api
from tests.test_apply_concurrency import body, history, more_annotators, run_together, stored
from tests.test_catalogue_api import csrf_field, snapshot


@pytest.fixture
def world(app: Flask) -> World:
    with app_session(app) as session:
        return build_world(session)


def test_row_47_a_stale_or_replayed_save_is_409_with_the_server_state(
    app: Flask, world: World
) -> None:
    """A form rendered at version 3, another tab's save made version 4: the old form's
    save, now and replayed later, is 409 carrying version 4, and overwrites nothing."""
    tab_a, tab_b = Api(app, "ann"), Api(app, "ann")
    unit = world.sentences[0]
    version = 0
    for label in ("quote", "speculation", "unclear"):
        version = tab_a.put(unit, body(label, version)).get_json()["annotation"]["version"]
    assert version == 3
    first_save = body("quote", 0)
    stale_form = body("reported_fact", 3, note="typed at version 3")
    newer = tab_b.put(unit, body("quote", 3, note="tab B", sources=[world.sources["AP"]]))
    assert newer.status_code == 200
    current = newer.get_json()["annotation"]
    assert current["version"] == 4
    before = snapshot(app)
    for request in (stale_form, stale_form, first_save):
        reply = tab_a.put(unit, request)
        assert reply.status_code == 409
        assert reply.get_json()["error"] == "conflict" and reply.get_json()["current"] == current
    deleting = tab_a.delete(unit, 3)
    assert deleting.status_code == 409 and deleting.get_json()["current"] == current
    assert snapshot(app) == before
    assert stored(app)[unit, "ann"] == ("quote", "tab B", 4)


def test_row_48_a_double_submit_is_stored_once(app: Flask, world: World) -> None:
    """The same request twice in a row, then four times at once (a network retry):
    every answer is 200 with the same state, one row, one version per distinct save."""
    api = Api(app, "ann")
    unit, ap = world.sentences[1], world.sources["AP"]
    request = body("quote", 0, sources=[ap], note="once")
    first, second = api.put(unit, request), api.put(unit, request)
    assert first.status_code == second.status_code == 200
    assert first.get_json()["annotation"] == second.get_json()["annotation"]
    tabs = [Api(app, "ann") for _ in range(4)]
    retry = body("speculation", 1, sources=[ap], note="retried")
    replies = run_together(*(functools.partial(tab.put, unit, retry) for tab in tabs))
    assert [reply.status_code for reply in replies] == [200] * 4
    assert {reply.get_json()["annotation"]["version"] for reply in replies} == {2}
    state = snapshot(app)
    assert (state["annotations"], state["annotation_sources"], state["annotation_events"]) == (
        1,
        1,
        2,
    )
    assert [v for v, *_ in history(app)[unit, "ann"]] == [1, 2]


def test_row_49_two_tabs_at_once_one_wins_the_other_gets_409(app: Flask, world: World) -> None:
    tab_a, tab_b = Api(app, "ann"), Api(app, "ann")
    unit, version = world.sentences[2], 0
    for round_ in range(2):
        replies = run_together(
            functools.partial(tab_a.put, unit, body("quote", version, note=f"A{round_}")),
            functools.partial(tab_b.put, unit, body("unclear", version, note=f"B{round_}")),
        )
        statuses = sorted(reply.status_code for reply in replies)
        assert statuses == [200, 409], [reply.get_json() for reply in replies]
        winner, loser = sorted(replies, key=lambda reply: reply.status_code)
        saved = winner.get_json()["annotation"]
        assert loser.get_json()["current"] == saved  # no lost update: the loser learns it
        version = saved["version"]
        assert stored(app)[unit, "ann"] == (saved["label"], saved["note"], version)
    assert snapshot(app)["annotations"] == 1
    assert [v for v, *_ in history(app)[unit, "ann"]] == [1, 2]


def test_row_50_two_annotators_at_once_are_both_stored_and_blind(app: Flask, world: World) -> None:
    ann, ann2 = Api(app, "ann"), Api(app, "ann2")
    unit = world.sentences[0]
    replies = run_together(
        functools.partial(ann.put, unit, body("quote", 0, note="note-of-ann-one")),
        functools.partial(ann2.put, unit, body("speculation", 0, note="note-of-ann-two")),
    )
    assert [reply.status_code for reply in replies] == [200, 200]
    assert stored(app)[unit, "ann"] == ("quote", "note-of-ann-one", 1)
    assert stored(app)[unit, "ann2"] == ("speculation", "note-of-ann-two", 1)
    for api, mine, theirs in (
        (ann, "note-of-ann-one", "note-of-ann-two"),
        (ann2, "note-of-ann-two", "note-of-ann-one"),
    ):
        view = api.get(f"/api/v1/articles/{world.article}")
        seen = view.get_json()["units"]
        annotations = [u["annotation"] for u in seen if u["annotation"]]
        assert [a["note"] for a in annotations] == [mine]
        assert theirs not in view.get_data(as_text=True)
        page = api.get(f"/articles/{world.article}/annotate").get_data(as_text=True)
        assert mine in page and theirs not in page


def test_row_51_an_export_while_saving_is_one_consistent_snapshot(app: Flask, world: World) -> None:
    """Exports taken while four annotators save: each one's header counts what its body
    holds, every exported answer is a version its history recorded, and an export after
    the saves holds every annotator's rows."""
    names = ["ann", "ann2", "rev", *more_annotators(app, world, 1)]
    savers = [Api(app, name) for name in names]
    reviewer = Api(app, "rev")

    def save_all(api: Api) -> list[int]:
        statuses, versions = [], dict.fromkeys(world.sentences, 0)
        for round_ in range(3):
            for unit in world.sentences:
                reply = api.put(unit, body("quote", versions[unit], note=f"{api.username}{round_}"))
                statuses.append(reply.status_code)
                if reply.status_code == 200:
                    versions[unit] = reply.get_json()["annotation"]["version"]
        return statuses

    def export() -> bytes:
        return reviewer.client.get(
            f"/api/v1/projects/{world.project}/export", query_string={"format": "jsonl"}
        ).get_data()

    results = run_together(export, *(functools.partial(save_all, api) for api in savers), export)
    for result in results:
        assert not isinstance(result, Exception), result
    for statuses in results[1:-1]:
        assert set(statuses) == {200}
    events = history(app)
    for raw in (results[0], results[-1], export()):
        lines = [orjson.loads(line) for line in raw.splitlines()]
        header = lines[0]
        assert header["record"] == "header" and header["exported_at"]
        units = [u for line in lines if line["record"] == "article" for u in line["units"]]
        exported = {(u["id"], a["annotator"]): a for u in units for a in u.get("annotations", [])}
        assert header["counts"]["annotations"] == len(exported)
        for (unit, name), annotation in exported.items():
            recorded = {version: (label, note) for version, label, note in events[unit, name]}
            assert recorded[annotation["version"]] == (annotation["label"], annotation["note"])
    assert {name for _, name in exported} == set(names)
    assert len(exported) == len(names) * len(world.sentences)


def test_row_52_an_expired_session_gets_json_401_and_writes_nothing(
    app: Flask, world: World
) -> None:
    api = Api(app, "ann")
    unit = world.sentences[0]
    request = body("quote", 0, note="typed before the session ended")
    with app_session(app) as session:
        session.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    before = snapshot(app)
    for reply in (api.put(unit, request), api.delete(unit, 0)):
        assert reply.status_code == 401 and reply.is_json, reply.status_code
        assert reply.get_json()["error"] == "unauthenticated"
        assert "Location" not in reply.headers  # not a redirect fetch() would follow
    assert api.get("/api/v1/csrf-token").status_code == 401
    page = api.get(f"/articles/{world.article}/annotate")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert snapshot(app) == before
    # After logging in again the kept draft is replayed and stored once.
    again = Api(app, "ann")
    replayed = again.put(unit, request)
    assert replayed.status_code == 200 and replayed.get_json()["annotation"]["version"] == 1
    assert stored(app)[unit, "ann"] == ("quote", "typed before the session ended", 1)


class DiskFull:
    """Fail the statement that appends to the annotation history, as a full disk would:
    the annotation row itself has been written by then, so only a rollback undoes it."""

    def __init__(self, app: Flask) -> None:
        self.engine = get_database(app).engine
        self.failed = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ANNOTATION_EVENTS"):
            self.failed += 1
            raise OperationalError(statement, params, OSError(28, "No space left on device"))

    def __enter__(self) -> DiskFull:
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


@pytest.mark.expect_5xx
def test_row_53_a_database_failure_is_503_with_retry_after_and_rolled_back(
    app: Flask, world: World
) -> None:
    api = Api(app, "ann")
    first, second = world.sentences[:2]
    assert api.put(second, body("quote", 0, sources=[world.sources["AP"]])).status_code == 200
    before = snapshot(app)
    with DiskFull(app) as disk:
        replies = [
            api.put(first, body("quote", 0)),  # a first save: would insert a row
            api.put(second, body("unclear", 1, sources=[])),  # an update: would change one
            api.delete(second, 1),
        ]
    assert disk.failed == 3
    for reply in replies:
        assert reply.status_code == 503 and reply.is_json
        assert reply.get_json()["error"] == "unavailable"
        assert int(reply.headers["Retry-After"]) > 0
    assert snapshot(app) == before  # no partial rows, no changed version
    assert stored(app)[second, "ann"] == ("quote", "", 1)
    # The client retries later with the same requests, and they are stored once.
    assert api.put(first, body("quote", 0)).get_json()["annotation"]["version"] == 1
    retried = api.put(second, body("unclear", 1, sources=[]))
    assert retried.status_code == 200 and retried.get_json()["annotation"]["version"] == 2
    assert [v for v, *_ in history(app)[second, "ann"]] == [1, 2]


# --- rows 42, 44, 45: cookies, redirects, password reset --------------------------------


def _cookie_with_key(app: Flask, secret: str, data: dict[str, Any]) -> str:
    other = Flask("forger")
    other.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(other)
    assert serializer is not None
    return serializer.dumps(data)


def test_row_42_tampered_or_foreign_cookies_are_anonymous(app: Flask, world: World) -> None:
    ann = Api(app, "ann")
    cookie = ann.client.get_cookie("session")
    assert cookie is not None and ann.client.get("/").status_code == 200
    with ann.client.session_transaction() as live:
        token = live["login"]
    payload, _, signature = cookie.value.rpartition(".")
    tampered = [
        cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"),
        payload + ".",
        "garbage",
        # A valid login token, signed with another key: it must not be trusted.
        _cookie_with_key(app, "another-key", {"login": token}),
    ]
    for value in tampered:
        client = app.test_client()
        client.set_cookie("session", value)
        page = client.get(f"/projects/{world.project}")
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")
        api = client.get(f"/api/v1/articles/{world.article}")
        assert api.status_code == 401 and api.get_json()["error"] == "unauthenticated"
    assert signature  # the real cookie was signed


# --- rows 44, 45: redirects and password reset ------------------------------------------

EVIL_TARGETS = [
    "https://evil.com",
    "//evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "javascript:alert(1)",
    "%2F%2Fevil.com",
    "/\t/evil.com",
    "https:evil.com",
    " //evil.com",
    "\r\n//evil.com",
]


def test_row_44_open_redirects_go_to_the_default_page(app: Flask, world: World) -> None:
    client = app.test_client()
    for target in EVIL_TARGETS:
        token = csrf_field(client, "/login")
        reply = client.post(
            "/login",
            query_string={"next": target},
            data={"username": "ann", "password": PASSWORD, "csrf_token": token},
        )
        assert reply.status_code == 302 and reply.headers["Location"] == "/", target
    # The password page's next= is checked the same way (each change hashes: a few).
    password = PASSWORD
    for target in EVIL_TARGETS[:3]:
        token = csrf_field(client, "/account/password")
        changed = client.post(
            "/account/password",
            query_string={"next": target},
            data={
                "current": password,
                "new": password + "!",
                "confirm": password + "!",
                "csrf_token": token,
            },
        )
        password += "!"
        assert changed.status_code == 302 and changed.headers["Location"] == "/", target
    # A same-site target is kept, so the check is not simply "always go home".
    token = csrf_field(client, "/account/password")
    kept = client.post(
        "/account/password",
        query_string={"next": f"/projects/{world.project}?page=2"},
        data={
            "current": password,
            "new": "x" + password,
            "confirm": "x" + password,
            "csrf_token": token,
        },
    )
    assert kept.headers["Location"] == f"/projects/{world.project}?page=2"


def test_row_45_there_is_no_password_reset_and_a_change_ends_sessions(
    app: Flask, world: World
) -> None:
    """Decision: no e-mailed reset exists (admins reset with `annotator users …`), so no
    route can be fed a spoofed Host; a password change ends every other session."""
    assert "email" not in User.__table__.c  # no address a reset link could go to
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert not [r for r in rules if any(w in r for w in ("reset", "forgot", "recover"))]
    anonymous = app.test_client()
    for url in ("/reset", "/password-reset", "/forgot-password", "/account/reset"):
        assert anonymous.post(url, data={"email": "a@b.c"}).status_code in (400, 404)
    login_page = anonymous.get("/login").get_data(as_text=True).lower()
    assert "forgot" not in login_page and "reset" not in login_page
    # A spoofed Host or X-Forwarded-Host never reaches a Location header or a page:
    # every link and redirect is relative.
    spoofed = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    redirect = anonymous.get(f"/projects/{world.project}", headers=spoofed)
    assert redirect.headers["Location"] == f"/login?next=/projects/{world.project}"
    assert "evil.example" not in anonymous.get("/login", headers=spoofed).get_data(as_text=True)
    laptop, phone = Api(app, "ann"), Api(app, "ann")
    token = csrf_field(laptop.client, "/account/password")
    reply = laptop.client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a new long secret",
            "confirm": "a new long secret",
            "csrf_token": token,
        },
    )
    assert reply.status_code == 302
    assert laptop.client.get("/").status_code == 200  # this session was renewed
    assert phone.client.get("/").status_code == 302
    assert phone.client.get(f"/api/v1/articles/{world.article}").status_code == 401
    stale = phone.put(world.sentences[0], body("quote", 0))
    assert stale.status_code == 401 and snapshot(app)["annotations"] == 0


def test_row_45_admins_reset_passwords_with_the_cli(app: Flask, world: World) -> None:
    """The reset the decision relies on: `annotator users set-password` ends every
    session of the account; bad input is one readable line and a non-zero exit."""
    runner = app.test_cli_runner()
    logged_in = Api(app, "ann")
    short = runner.invoke(args=["users", "set-password", "ann", "--password-stdin"], input="x\n")
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    unknown = runner.invoke(
        args=["users", "set-password", "nobody", "--password-stdin"], input="long enough\n"
    )
    assert unknown.exit_code != 0 and "no user called 'nobody'" in unknown.output
    assert logged_in.client.get("/").status_code == 200  # refusals changed nothing
    reset = runner.invoke(
        args=["users", "set-password", "ANN", "--password-stdin", "--temporary"],
        input="a temporary secret\n",
    )
    assert reset.exit_code == 0, reset.output
    assert logged_in.client.get("/").status_code == 302
    client = app.test_client()
    token = csrf_field(client, "/login")
    old = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    assert old.status_code == 401
    new = client.post(
        "/login", data={"username": "ann", "password": "a temporary secret", "csrf_token": token}
    )
    assert new.headers["Location"].startswith("/account/password")
