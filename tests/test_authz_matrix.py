"""The authorization matrix, generated from ``app.url_map``: every route × role × method.

``tests/authz_matrix.py`` holds one entry per endpoint (how to call it, who may);
this module checks that the entries and the routes match one to one (a new route
without an entry fails) and runs every case against one world per engine, built
once per module: status, JSON errors from the API, the login redirect of pages
with a same-origin ``next``, and no write for a refused state-changing request.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule

from annotator import create_app
from annotator.db import get_database
from annotator.exchange.apply import upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import Annotation, Base, Project, SourceAlias, Unit
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from annotator.schema import ensure_schema
from annotator.web import safe_next
from tests.authz_matrix import (
    CROSS_PROJECT_ROLES,
    ENTRIES,
    EXCLUDED,
    LOGIN,
    ROLES,
    STATE_CHANGING,
    Ctx,
    Fixture,
    Target,
    World,
    expected,
)
from tests.conftest import PG_URL
from tests.helpers import add_article, add_project, add_user, app_session, login

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Tables a refused request must leave exactly as they were (sessions and tokens
# belong to logging in, which the matrix's own clients do).
AUTH_TABLES = {"login_sessions", "api_tokens", "login_attempts"}
# The role each matrix role has in the database, and the project it is a member of.
ACCOUNTS: dict[str, tuple[str, Target | None]] = {
    "ann_p": ("annotator", "P"),
    "ann_q": ("annotator", "Q"),
    "rev": ("reviewer", "P"),
    "admin": ("admin", None),
}
STORY = (
    'The port will reopen on Monday, the ministry of {t} said. "We are ready," Koh said. '
    "Prices may rise in {t}."
)


# --- the routes and the cases ------------------------------------------------------------


@cache
def _rules() -> tuple[Rule, ...]:
    """The app's URL rules (an app built only to read its url_map; no database opened)."""
    with tempfile.TemporaryDirectory() as folder:
        saved = os.environ.get("ANNOTATOR_INSTANCE_PATH")
        os.environ["ANNOTATOR_INSTANCE_PATH"] = str(Path(folder) / "instance")
        try:
            app = create_app(
                {
                    "TESTING": True,
                    "SECRET_KEY": "rules",
                    "DATABASE_URL": f"sqlite:///{folder}/unused.sqlite3",
                }
            )
        finally:
            if saved is None:
                os.environ.pop("ANNOTATOR_INSTANCE_PATH", None)
            else:
                os.environ["ANNOTATOR_INSTANCE_PATH"] = saved
        return tuple(app.url_map.iter_rules())


def _methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - IGNORED_METHODS


@dataclass(frozen=True)
class Case:
    """One request of the matrix."""

    endpoint: str
    method: str
    role: str
    target: Target
    api: bool

    @property
    def id(self) -> str:
        """The pytest id."""
        suffix = "" if self.target == "P" else f"@{self.target}"
        return f"{self.endpoint}:{self.method}:{self.role}{suffix}"


def _cases() -> list[Case]:
    """Every endpoint × role × (its methods, plus GET where GET answers 405)."""
    rules = sorted(
        (r for r in _rules() if r.endpoint not in EXCLUDED and r.endpoint in ENTRIES),
        key=lambda r: (r.rule, r.endpoint),
    )
    get_served = {r.rule for r in rules if "GET" in _methods(r)}
    probed: set[str] = set()
    cases = []
    for rule in rules:
        entry = ENTRIES[rule.endpoint]
        methods = sorted(_methods(rule))
        if rule.rule not in get_served and rule.rule not in probed:
            probed.add(rule.rule)  # one GET → 405 per path, not one per endpoint on it
            methods = ["GET", *methods]
        api = rule.rule.startswith("/api/")
        for method, role in itertools.product(methods, ROLES):
            cases.append(Case(rule.endpoint, method, role, "P", api))
        if entry.has_objects():
            for method, role in itertools.product(methods, CROSS_PROJECT_ROLES):
                cases.append(Case(rule.endpoint, method, role, "Q", api))
    return cases


CASES = _cases()


def test_every_route_has_an_entry_and_every_entry_a_route() -> None:
    """A new route without a matrix entry fails here, and so does an entry left behind."""
    endpoints = {rule.endpoint for rule in _rules()} - EXCLUDED
    assert sorted(endpoints - ENTRIES.keys()) == [], "routes missing from tests/authz_matrix.py"
    assert sorted(ENTRIES.keys() - endpoints) == [], "matrix entries without a route"
    for rule in _rules():
        if rule.endpoint in ENTRIES:
            entry = ENTRIES[rule.endpoint]
            assert set(entry.ok) == _methods(rule), f"{rule.endpoint}: methods differ"


def test_the_matrix_covers_every_role_and_method() -> None:
    """Each endpoint runs for every role with each method it accepts."""
    seen = {(c.endpoint, c.method, c.role) for c in CASES}
    for rule in _rules():
        if rule.endpoint in EXCLUDED:
            continue
        for method, role in itertools.product(_methods(rule), ROLES):
            assert (rule.endpoint, method, role) in seen


# --- the world ---------------------------------------------------------------------------


class Maker:
    """Fresh objects for cases that would use a shared one up (``authz_matrix.Factory``)."""

    def __init__(self, app: Flask, projects: dict[str, int]) -> None:
        self.app, self.projects, self.counter = app, projects, itertools.count(1)

    def name(self, prefix: str) -> str:
        """A name used nowhere yet."""
        return f"{prefix}-{next(self.counter)}"

    def article(self, target: Target) -> tuple[int, int, int, int]:
        """A new two-sentence article of the target project."""
        n = next(self.counter)
        with app_session(self.app) as session:
            project = session.get(Project, self.projects[target])
            assert project is not None
            text_ = f"Alpha beta gamma delta {n}. Epsilon zeta eta theta {n}."
            article = add_article(session, project, text_, title=f"Fresh {n}")
            unit = session.scalars(
                select(Unit)
                .where(Unit.article_id == article.id, Unit.kind == "sentence")
                .order_by(Unit.index)
            ).first()
            assert unit is not None
            result = (article.id, unit.id, unit.start, unit.end)
            session.commit()
        return result

    def source(self, target: Target) -> tuple[int, str]:
        """A new source of the target project."""
        name = self.name("Org")
        with app_session(self.app) as session:
            source_id = SourceIndex(session, self.projects[target]).ensure(name, "organization")
            session.commit()
        return source_id, name

    def alias(self, target: Target) -> tuple[int, int]:
        """A new source with one alias."""
        name, alias = self.name("Aliased"), self.name("aka")
        with app_session(self.app) as session:
            registry = SourceIndex(session, self.projects[target])
            source_id = registry.ensure(name, "organization", [alias])
            alias_id = session.scalar(
                select(SourceAlias.id).where(
                    SourceAlias.source_id == source_id, SourceAlias.alias == alias
                )
            )
            assert alias_id is not None
            session.commit()
        return source_id, alias_id

    def user(self, role: str, member_of: Target | None) -> tuple[int, str]:
        """A new account, a member of ``member_of`` when given."""
        name = self.name(f"user-{role}")
        with app_session(self.app) as session:
            project = session.get(Project, self.projects[member_of]) if member_of else None
            user = add_user(session, name, role, project=project)
            session.commit()
            return user.id, user.username

    def version(self, unit_id: int, user_id: int) -> int:
        """The user's annotation version on the unit (0 when there is none)."""
        with app_session(self.app) as session:
            version = session.scalar(
                select(Annotation.version).where(
                    Annotation.unit_id == unit_id, Annotation.annotator_id == user_id
                )
            )
        return version or 0


def build_world(app: Flask) -> World:
    """Projects P and Q with their objects, the four accounts; committed."""
    with app_session(app) as session:
        projects = {t: add_project(session, f"matrix-{t.lower()}") for t in ("P", "Q")}
        users = {
            role: add_user(session, role, db_role, project=projects[t] if t else None)
            for role, (db_role, t) in ACCOUNTS.items()
        }
        fixtures: dict[str, Fixture] = {}
        for t, annotator in (("P", users["ann_p"]), ("Q", users["ann_q"])):
            project = projects[t]
            article = add_article(session, project, STORY.format(t=t), title=f"Story of {t}")
            units = list(
                session.scalars(
                    select(Unit.id)
                    .where(Unit.article_id == article.id, Unit.kind == "sentence")
                    .order_by(Unit.index)
                )
            )
            registry = SourceIndex(session, project.id)
            source = registry.ensure(f"Source of {t}", "organization", [f"Src {t}"])
            source2 = registry.ensure(f"Speaker of {t}", "person")
            session.flush()
            alias = session.scalar(
                select(SourceAlias.id).where(
                    SourceAlias.source_id == source, SourceAlias.alias == f"Src {t}"
                )
            )
            assert alias is not None
            labels = label_ids(session, project.id)
            upsert_annotation(
                session,
                units[0],
                annotator.id,
                labels["quote"],
                [source],
                "",
                annotator.id,
                "create",
            )
            upsert_gold(
                session, units[0], labels["quote"], [source], "adjudicated", users["rev"].id, "seed"
            )
            fixtures[t] = Fixture(
                project.id, article.id, units[0], units[1], source, source2, alias
            )
        session.commit()
        ids = {role: user.id for role, user in users.items()}
        project_ids = {t: p.id for t, p in projects.items()}
    return World(fixtures["P"], fixtures["Q"], ids, Maker(app, project_ids))


@dataclass
class Matrix:
    """The app, its world and one logged-in client per role."""

    app: Flask
    world: World
    clients: dict[str, FlaskClient]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    """One world per engine for all the cases (as conftest's ``database_url``, module-wide)."""
    base = tmp_path_factory.mktemp("authz")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'matrix.sqlite3'}"
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL tests need ANNOTATOR_TEST_DATABASE_URL (set by .ci/run)")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        url = url.render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ANNOTATOR_INSTANCE_PATH", str(base / "instance"))
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "SECRET_KEY": "test-" + uuid.uuid4().hex,
                "SQLITE_SYNCHRONOUS": "OFF",
            }
        )
    ensure_schema(get_database(app).engine)
    world = build_world(app)
    clients = {role: app.test_client() for role in ROLES}
    for role in ACCOUNTS:
        login(clients[role], role)
    try:
        yield Matrix(app, world, clients)
    finally:
        get_database(app).engine.dispose()
        if schema is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


# --- running a case ----------------------------------------------------------------------


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the login ones, in primary-key order."""
    rows = {}
    with app_session(app) as session:
        for table in Base.metadata.sorted_tables:
            if table.name in AUTH_TABLES:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in session.execute(query)]
    return rows


def csrf_token(client: FlaskClient, logged_in: bool) -> str:
    """A valid CSRF token of the client's session (from the API, or the login form)."""
    if logged_in:
        return client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    page = client.get("/login").get_data(as_text=True)
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def client_for(m: Matrix, case: Case) -> tuple[FlaskClient, str | None]:
    """The role's shared client, or (a request that ends or replaces the session) a new one
    logged in as a new account of the role."""
    if not (ENTRIES[case.endpoint].fresh_client and case.method in STATE_CHANGING):
        return m.clients[case.role], case.role if case.role != "anonymous" else None
    client = m.app.test_client()
    if case.role == "anonymous":
        return client, None
    db_role, member_of = ACCOUNTS[case.role]
    _, name = m.world.make.user(db_role, member_of)
    login(client, name)
    return client, name


def secrets_of(m: Matrix, target: Target) -> list[str]:
    """Strings only someone who may see the target project's objects would be shown."""
    return [f"Story of {target}", f"Source of {target}", f"Speaker of {target}"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_route_role_method(matrix: Matrix, case: Case) -> None:
    """The case answers what the matrix expects, refusals as JSON or a login redirect,
    and a refused state-changing request writes nothing."""
    m, entry = matrix, ENTRIES[case.endpoint]
    client, username = client_for(m, case)
    ctx = Ctx(m.world, case.target, case.role, case.method, username)
    call = entry.build(ctx)
    with m.app.test_request_context():
        path = url_for(case.endpoint, **call.values)
    want = expected(entry, case.role, case.method, case.target, case.api)
    writes = case.method in STATE_CHANGING
    refused = want in (LOGIN, 401, 403, 404, 405)
    headers = {}
    if writes:
        headers["X-CSRFToken"] = csrf_token(client, username is not None)
    before = snapshot(m.app) if writes and refused else None

    response = client.open(
        path,
        method=case.method,
        query_string=call.query,
        data=call.form if writes else None,
        json=call.json if writes and call.json is not None else None,
        headers=headers,
    )

    body = response.get_data(as_text=True)
    requested = path + (f"?{urlencode(call.query)}" if call.query else "")
    if want == LOGIN:
        assert response.status_code == 302, body[:300]
        location = urlsplit(response.headers["Location"])
        assert (location.scheme, location.netloc, location.path) == ("", "", "/login")
        target = parse_qs(location.query).get("next", [""])[0]
        assert target == requested and safe_next(target) == target
    else:
        assert response.status_code == want, body[:300]
    if case.api:
        assert response.is_json, "the API answers JSON, errors included"
        if response.status_code >= 400:
            error = response.get_json()
            assert set(error) == {"error", "message"}, error
            assert isinstance(error["error"], str) and isinstance(error["message"], str)
            if want == 401:
                assert error["error"] == "unauthenticated"
    elif want == LOGIN:
        pass  # checked above
    elif refused:
        assert response.mimetype == "text/html"
    elif response.status_code == 302 and case.endpoint != "auth.logout":
        assert urlsplit(response.headers["Location"]).path != "/login"
    if refused:
        leaked = [s for s in secrets_of(m, case.target) if s in body]
        assert leaked == [], "a refusal shows the project's data"
    if before is not None:
        assert snapshot(m.app) == before, "a refused request changed the database"
