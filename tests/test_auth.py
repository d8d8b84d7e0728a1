"""Logging in and out, password changes, sessions that end on the server, CSRF."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from annotator.models import LoginSession
from tests.helpers import PASSWORD, add_project, add_user, app_session, login


@pytest.fixture
def people(app: Flask) -> None:
    with app_session(app) as session:
        project = add_project(session)
        add_user(session, "ann1", project=project)
        add_user(session, "boss", "admin")
        session.commit()


def csrf_from(html: str) -> str:
    return html.split('name="csrf-token" content="')[1].split('"')[0]


@pytest.mark.usefixtures("people")
def test_anonymous_pages_redirect_to_login_with_next(app: Flask) -> None:
    response = app.test_client().get("/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/?page%3D2"


@pytest.mark.usefixtures("people")
def test_login_then_logout_ends_the_session_on_the_server(app: Flask) -> None:
    client = app.test_client()
    login(client, "ann1")
    assert client.get("/").status_code == 200
    stolen_cookie = client.get_cookie("session")
    assert stolen_cookie is not None
    page = client.get("/").get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/login"
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0
    # The copied cookie no longer works: the session ended server-side.
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie.value)
    assert replay.get("/").status_code == 302


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("username", "password"),
    [("ann1", "wrong password"), ("nobody", PASSWORD), ("ANN1", "wrong password")],
)
def test_failed_login_gives_one_message(app: Flask, username: str, password: str) -> None:
    client = app.test_client()
    token = (
        client.get("/login")
        .get_data(as_text=True)
        .split('name="csrf_token" type="hidden" value="')[1]
        .split('"')[0]
    )
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.get_data(as_text=True)


@pytest.mark.usefixtures("people")
def test_username_is_case_insensitive(app: Flask) -> None:
    login(app.test_client(), "ANN1")


@pytest.mark.usefixtures("people")
def test_login_without_csrf_token_is_refused(app: Flask) -> None:
    response = app.test_client().post("/login", data={"username": "ann1", "password": PASSWORD})
    assert response.status_code == 400
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    "target",
    ["https://evil.com", "//evil.com", "/\\evil.com", "javascript:alert(1)", "%2F%2Fevil.com"],
)
def test_open_redirects_go_home(app: Flask, target: str) -> None:
    client = app.test_client()
    page = client.get(f"/login?next={target}").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        f"/login?next={target}",
        data={"username": "ann1", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


@pytest.mark.usefixtures("people")
def test_password_change_ends_other_sessions(app: Flask) -> None:
    laptop, tablet = app.test_client(), app.test_client()
    login(laptop, "ann1")
    login(tablet, "ann1")
    page = laptop.get("/account/password").get_data(as_text=True)
    response = laptop.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a much better secret",
            "confirm": "a much better secret",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert tablet.get("/").status_code == 302
    login(app.test_client(), "ann1", "a much better secret")


@pytest.mark.usefixtures("people")
def test_one_time_password_must_be_changed(app: Flask) -> None:
    with app_session(app) as session:
        from annotator.users import get_user_by_name

        user = get_user_by_name(session, "boss")
        assert user is not None
        user.must_change_password = True
        session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"].startswith("/account/password")
