"""Tiny test-data builders (add, flush, return), a login helper and a statement counter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from annotator.access import add_member
from annotator.db import get_database
from annotator.importer import store_articles
from annotator.ingest import parse_text
from annotator.models import Article, Project, User
from annotator.projects import get_or_create_project
from annotator.users import create_user, hash_password

PASSWORD = "correct horse battery"
_HASHES: dict[str, str] = {}


def add_user(
    session: Session,
    name: str,
    role: str = "annotator",
    *,
    project: Project | None = None,
    password: str = PASSWORD,
) -> User:
    """A user with a password, optionally a member of ``project``."""
    user = create_user(session, name, role=role)
    # Argon2 is slow on purpose; hash each test password once per run.
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    user.password_hash = _HASHES[password]
    if project is not None:
        add_member(session, project.id, user.id)
    session.flush()
    return user


def add_project(session: Session, name: str = "wire") -> Project:
    """A project with the default labels."""
    project, _ = get_or_create_project(session, name)
    return project


def add_article(session: Session, project: Project, text: str, title: str | None = None) -> Article:
    """Parse ``text`` and store it (with sources and suggestions) in ``project``."""
    [result] = store_articles(session, project.id, [(parse_text(text, title=title), None)])
    session.flush()
    article = session.get(Article, result.article_id)
    assert article is not None
    return article


def app_session(app: Flask) -> Session:
    """A new session on the app's database (close it, or use it in ``with``)."""
    return get_database(app).session()


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    statements: list[str] = []
    engine = get_database(app).engine

    def hear(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", hear)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", hear)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> None:
    """Log ``client`` in through the real login form, CSRF token included."""
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    response = client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
