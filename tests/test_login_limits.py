"""Login rate limits: per account and per address, in the database, shared by processes."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from annotator import auth, create_app
from annotator.db import get_database, write_intent
from annotator.login_limits import (
    Limits,
    account_key,
    begin_attempt,
    check_allowed,
    record_failure,
    record_success,
)
from annotator.models import LoginAttempt, LoginSession
from annotator.schema import upgrade
from annotator.users import get_user_by_name
from tests.helpers import PASSWORD, add_project, add_user, app_session, login

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def attempts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LoginAttempt)) or 0


# --- the domain module -------------------------------------------------------------------


def test_five_failures_lock_the_account_until_the_oldest_leaves_the_window(
    session: Session,
) -> None:
    for i in range(5):
        assert begin_attempt(session, "ann1", "10.0.0.1", now=minutes(i)).allowed
    session.commit()
    refused = begin_attempt(session, "ann1", "10.0.0.9", now=minutes(5))
    # The 5th newest failure (at minute 0) leaves the window at minute 15.
    assert (refused.allowed, refused.retry_after) == (False, 600)
    assert begin_attempt(session, "ann1", "10.0.0.9", now=minutes(15) - timedelta(seconds=1)) == (
        refused.__class__(allowed=False, retry_after=1)
    )
    # Sliding, not fixed: at minute 15 one place is free, and only one.
    assert begin_attempt(session, "ann1", "10.0.0.9", now=minutes(15)).allowed
    assert begin_attempt(session, "ann1", "10.0.0.9", now=minutes(15.5)).retry_after == 30


def test_refused_attempts_neither_count_nor_extend_the_lock(session: Session) -> None:
    for i in range(5):
        begin_attempt(session, "ann1", "10.0.0.1", now=minutes(i))
    session.commit()
    before = attempts(session)
    waits = [
        begin_attempt(session, "ann1", "10.0.0.1", now=minutes(5 + i)).retry_after for i in range(9)
    ]
    session.commit()
    assert attempts(session) == before == 5
    assert waits == [600 - 60 * i for i in range(9)]


def test_names_count_in_normalised_form_and_unknown_names_alike(session: Session) -> None:
    add_user(session, "ann1")
    for name in ("ann1", "ANN1", " Ann1 ", "ａｎｎ１", "ann1"):  # the last in full width
        begin_attempt(session, name, "10.0.0.1", now=T0)
    assert not check_allowed(session, "ann1", "10.0.0.2", now=T0).allowed
    for _ in range(5):
        begin_attempt(session, "nobody-like-this", "10.0.0.3", now=T0)
    assert not check_allowed(session, "NOBODY-like-this", "10.0.0.4", now=T0).allowed
    # What is stored is a hash: a password typed into the name field never is.
    stored = set(session.scalars(select(LoginAttempt.account_key)))
    assert stored == {account_key("ann1"), account_key("nobody-like-this")}
    assert all(re.fullmatch("[0-9a-f]{64}", key) for key in stored)


def test_the_address_limit_spans_accounts(session: Session) -> None:
    for i in range(20):
        assert begin_attempt(session, f"user{i}", "10.0.0.1", now=minutes(i / 10)).allowed
    refused = begin_attempt(session, "user-new", "10.0.0.1", now=minutes(3))
    assert not refused.allowed and refused.retry_after == 12 * 60
    assert begin_attempt(session, "user-new", "10.0.0.2", now=minutes(3)).allowed


def test_success_forgets_only_this_address_s_failures_on_this_account(session: Session) -> None:
    for i in range(2):
        record_failure(session, "ann1", "attacker", now=minutes(i))
        record_failure(session, "ann1", "owner", now=minutes(i))
        record_failure(session, "other", "owner", now=minutes(i))
    decision = begin_attempt(session, "ann1", "owner", now=minutes(3))
    record_success(session, "ann1", "owner", decision.attempt_id)
    left = session.execute(select(LoginAttempt.account_key, LoginAttempt.address)).all()
    assert sorted(left) == sorted(
        [(account_key("ann1"), "attacker")] * 2 + [(account_key("other"), "owner")] * 2
    )


def test_old_attempts_are_pruned(session: Session) -> None:
    for i in range(4):
        record_failure(session, f"u{i}", "10.0.0.1", now=minutes(i))
    session.commit()
    begin_attempt(session, "late", "10.0.0.2", now=minutes(17))
    session.commit()
    # Minutes 0, 1 and 2 left the window; minute 3 and the new one are kept.
    assert sorted(session.scalars(select(LoginAttempt.address))) == ["10.0.0.1", "10.0.0.2"]


def test_limits_come_from_the_config_and_zero_turns_one_off(session: Session) -> None:
    limits = Limits.from_config(
        {
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": 2,
            "LOGIN_MAX_FAILURES_PER_ADDRESS": 0,
            "LOGIN_WINDOW_SECONDS": 60,
        }
    )
    assert limits == Limits(per_account=2, per_address=0, window=timedelta(seconds=60))
    for i in range(30):
        assert begin_attempt(session, f"u{i}", "10.0.0.1", now=T0, limits=limits).allowed
    begin_attempt(session, "ann1", "10.0.0.1", now=T0, limits=limits)
    begin_attempt(session, "ann1", "10.0.0.1", now=T0, limits=limits)
    assert begin_attempt(session, "ann1", "10.0.0.1", now=T0, limits=limits).retry_after == 60


def test_parallel_attempts_cannot_pass_the_limit(engine: Engine) -> None:
    # Ten workers try at the same instant: exactly five get to check a password.
    results: list[bool] = []
    barrier = threading.Barrier(10)

    def attempt() -> None:
        with Session(engine) as s, write_intent():
            barrier.wait()
            decision = begin_attempt(s, "ann1", "10.0.0.1", now=T0)
            s.commit()
            results.append(decision.allowed)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * 5 + [True] * 5
    with Session(engine) as s:
        assert attempts(s) == 5


def test_no_lock_is_held_while_the_password_hash_runs(
    session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(session, "ann1")
    session.commit()
    seen: list[bool] = []
    original = auth.check_password

    def checking(user: object, password: str) -> bool:
        seen.append(session.in_transaction())
        if engine.url.get_backend_name() == "sqlite":
            # Another process takes the write lock at once, or fails.
            other = sqlite3.connect(engine.url.database or "", timeout=0)
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
        return original(user, password)  # type: ignore[arg-type]

    monkeypatch.setattr(auth, "check_password", checking)
    with write_intent():  # as in a POST: BEGIN IMMEDIATE on SQLite
        wrong = auth.attempt_login(session, "ann1", "not the password", "10.0.0.1")
        unknown = auth.attempt_login(session, "ghost", PASSWORD, "10.0.0.1")
        right = auth.attempt_login(session, "ann1", PASSWORD, "10.0.0.1")
        session.commit()
    assert (wrong.user, unknown.user) == (None, None)
    assert right.user is not None and right.user.username == "ann1"
    assert seen == [False, False, False]
    # The wrong password from this address was forgotten by the right one;
    # the unknown name's attempt stays counted.
    assert list(session.scalars(select(LoginAttempt.account_key))) == [account_key("ghost")]


def test_migration_0004_adds_and_removes_the_table(database_url: str) -> None:
    from alembic import command

    from annotator.db import make_engine
    from annotator.schema import alembic_config

    engine = make_engine(database_url, synchronous="OFF")
    try:
        upgrade(engine, "0003")
        assert "login_attempts" not in inspect(engine).get_table_names()
        upgrade(engine)
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("login_attempts")}
        assert {"ix_login_attempts_account", "ix_login_attempts_address"} <= indexes
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        assert "login_attempts" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


# --- over HTTP ---------------------------------------------------------------------------


@pytest.fixture
def people(app: Flask) -> None:
    with app_session(app) as s:
        project = add_project(s)
        add_user(s, "ann1", project=project)
        s.commit()


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def post_login(
    client: FlaskClient, username: str, password: str, headers: dict[str, str] | None = None
) -> tuple[int, str, str | None]:
    """(status, the page's error text, Retry-After) of one login form submission."""
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        headers=headers or {},
    )
    body = response.get_data(as_text=True)
    errors = re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', body, re.S)
    return response.status_code, " ".join(errors), response.headers.get("Retry-After")


def stored_addresses(app: Flask) -> list[str]:
    with app_session(app) as s:
        return list(s.scalars(select(LoginAttempt.address).order_by(LoginAttempt.id)))


def sessions(app: Flask) -> int:
    with app_session(app) as s:
        return s.scalar(select(func.count()).select_from(LoginSession)) or 0


@pytest.mark.usefixtures("people")
def test_the_sixth_try_is_refused_with_429_even_with_the_right_password(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        status, error, _ = post_login(client, "ann1", "wrong password")
        assert (status, error) == (401, "<li>Unknown username or wrong password.</li>")
    status, error, retry_after = post_login(client, "ann1", PASSWORD)
    assert status == 429
    assert "Too many failed logins" in error and "15 minutes" in error
    assert retry_after is not None and 890 <= int(retry_after) <= 900
    assert sessions(app) == 0
    assert client.get("/").status_code == 302  # still not logged in


@pytest.mark.usefixtures("people")
def test_unknown_user_and_wrong_password_answer_alike_to_the_end(app: Flask) -> None:
    known = [post_login(app.test_client(), "ann1", "wrong password")[:2] for _ in range(6)]
    unknown = [post_login(app.test_client(), "ghost", "wrong password")[:2] for _ in range(6)]
    assert known == unknown
    assert [status for status, _ in known] == [401] * 5 + [429]


@pytest.mark.usefixtures("people")
def test_a_right_password_forgets_the_typos_before_it(app: Flask) -> None:
    client = app.test_client()
    for _ in range(4):
        assert post_login(client, "ann1", "wrong password")[0] == 401
    login(client, "ann1")
    assert stored_addresses(app) == []
    other = app.test_client()
    for _ in range(5):
        assert post_login(other, "ann1", "wrong password")[0] == 401
    assert post_login(other, "ann1", "wrong password")[0] == 429


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("hops", [0, 1])
def test_row_43_rotating_x_forwarded_for_does_not_reset_the_account_limit(
    app: Flask, hops: int
) -> None:
    # Catalogue row 43: 6 wrong passwords within a minute for one user, each
    # from a new spoofed X-Forwarded-For. Whether the app trusts no proxy (0)
    # or one (1, so the header does change remote_addr), the 6th is refused.
    app.config["PROXY_FIX_X_FOR"] = hops
    target = create_app({**app.config, "TESTING": True}) if hops else app
    client = target.test_client()
    statuses = []
    for i in range(6):
        spoofed = {"X-Forwarded-For": f"203.0.113.{i + 1}"}
        statuses.append(post_login(client, "ann1", "wrong password", spoofed)[0])
    assert statuses == [401] * 5 + [429]
    expected = [f"203.0.113.{i + 1}" for i in range(5)] if hops else ["127.0.0.1"] * 5
    assert stored_addresses(app) == expected
    if hops:
        get_database(target).engine.dispose()


def test_proxy_fix_believes_only_the_configured_number_of_hops(people: None, app: Flask) -> None:
    trusting = create_app({**app.config, "PROXY_FIX_X_FOR": "1"})
    try:
        # The client wrote 198.51.100.7; our one proxy appended what it saw.
        post_login(
            trusting.test_client(),
            "ann1",
            "wrong password",
            {"X-Forwarded-For": "198.51.100.7, 192.0.2.44"},
        )
        post_login(app.test_client(), "ann1", "wrong password", {"X-Forwarded-For": "192.0.2.9"})
    finally:
        get_database(trusting).engine.dispose()
    assert stored_addresses(app) == ["192.0.2.44", "127.0.0.1"]


@pytest.mark.parametrize("value", ["-1", "many", "11"])
def test_a_bad_proxy_hop_count_is_refused(tmp_path: Path, value: str) -> None:
    from annotator.config import ConfigError

    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR must be a whole number"):
        create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SECRET_KEY": uuid.uuid4().hex,
                "PROXY_FIX_X_FOR": value,
            }
        )


@pytest.mark.usefixtures("people")
def test_two_app_instances_on_one_database_share_the_counter(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    # Two create_app objects stand for two processes: nothing is shared but the database.
    second = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "other-" + uuid.uuid4().hex,
            "SQLITE_SYNCHRONOUS": "OFF",
        }
    )
    try:
        assert get_database(second) is not get_database(app)
        first_client, second_client = app.test_client(), second.test_client()
        for _ in range(3):
            assert post_login(first_client, "ann1", "wrong password")[0] == 401
        for _ in range(2):
            assert post_login(second_client, "ann1", "wrong password")[0] == 401
        assert post_login(first_client, "ann1", PASSWORD)[0] == 429
        assert post_login(second_client, "ann1", PASSWORD)[0] == 429
    finally:
        get_database(second).engine.dispose()


@pytest.mark.usefixtures("people")
def test_a_stolen_session_cannot_guess_the_password(app: Flask) -> None:
    client = app.test_client()
    login(client, "ann1")
    token = csrf(client, "/account/password")
    form = {"new": "a much better secret", "confirm": "a much better secret", "csrf_token": token}
    for _ in range(5):
        response = client.post("/account/password", data={**form, "current": "guess"})
        assert response.status_code == 400
        assert "That is not your current password." in response.get_data(as_text=True)
    response = client.post("/account/password", data={**form, "current": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    with app_session(app) as s:
        user = get_user_by_name(s, "ann1")
        assert user is not None
        from annotator.users import check_password

        assert check_password(user, PASSWORD)  # unchanged
