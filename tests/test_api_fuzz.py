"""Schemathesis fuzzes every operation of /api/v1/openapi.json against the app itself.

The app's own OpenAPI document runs through the app's WSGI interface (no network) on
SQLite and PostgreSQL, against a small project built once per engine (articles,
units, sources with aliases, annotations, gold). The admin, authenticated by an API
token, calls everything (schemathesis's coverage cases plus ``MAX_EXAMPLES`` fuzzed
examples per operation); an annotator and an anonymous caller run a few examples each,
so the 401 and 403 answers are checked too. Every response must be no 5xx, carry a
documented status code, content type and headers, and match the documented schema
(the JSON error body included). Path ids are drawn half from the real objects, half
from whatever schemathesis generates, so both found and not-found branches run.

The examples run per engine are printed at the end of each engine's run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from annotator import create_app
from annotator.api.openapi import document
from annotator.auth import create_api_token
from annotator.db import get_database
from annotator.exchange.gold import upsert_gold
from annotator.models import SourceAlias
from annotator.schema import ensure_schema
from annotator.users import get_user_by_name
from tests import review_world
from tests.conftest import fresh_database_url
from tests.helpers import app_session

# Per operation, on top of schemathesis's coverage cases; ANNOTATOR_FUZZ_EXAMPLES raises
# it for a deeper run by hand (CI keeps the default: a few minutes for both engines).
MAX_EXAMPLES = int(os.environ.get("ANNOTATOR_FUZZ_EXAMPLES", "50"))
OTHER_CALLER_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# The ids of the current engine's data set, for the path-parameter hook below: the
# schema (and its hooks) are made at import, the data set by a fixture, once per engine.
REAL_IDS: dict[str, list[int]] = {}


class FuzzWorld:
    """The app, its data set, API tokens by user name and the examples run so far."""

    def __init__(self, app: Flask, tokens: dict[str, str], ids: dict[str, list[int]]) -> None:
        self.app = app
        self.tokens = tokens
        self.ids = ids
        self.calls: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()


def _build(app: Flask) -> FuzzWorld:
    with app_session(app) as session:
        world = review_world.build(session)
        labels, units, sources = world["labels"], world["units"], world["sources"]
        reviewer = world["users"]["rev"]
        upsert_gold(
            session,
            units[0],
            labels["quote"],
            [sources["Koh"], sources["AP"]],
            "adjudicated",
            reviewer,
            "quotation marks",
        )
        upsert_gold(session, units[3], None, [], "unresolved", reviewer, "")
        tokens = {}
        for name in ("boss", "ann1"):  # the admin; an annotator of the project
            user = get_user_by_name(session, name)
            assert user is not None
            tokens[name] = create_api_token(session, user, "fuzz")
        aliases = list(session.scalars(select(SourceAlias.id)))
        session.commit()
    ids = {
        "project_id": [world["project"], world["other_project"]],
        "article_id": [world["article"], world["second"], world["foreign"]],
        "unit_id": [*world["units"], *world["second_units"], world["foreign_unit"]],
        "source_id": list(world["sources"].values()),
        "alias_id": aliases,
    }
    return FuzzWorld(app, tokens, ids)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzWorld]:
    """An app on a fresh database of each engine with the data set, built once per engine;
    prints the examples run when the engine's operations are done."""
    with (
        fresh_database_url(request.param, tmp_path_factory.mktemp("fuzz")) as url,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "SECRET_KEY": "fuzz-" + uuid.uuid4().hex,
                "SQLITE_SYNCHRONOUS": "OFF",
            }
        )
        ensure_schema(get_database(app).engine)
        world = _build(app)
        REAL_IDS.update(world.ids)
        started = time.monotonic()
        yield world
        elapsed = time.monotonic() - started
        REAL_IDS.clear()
        get_database(app).engine.dispose()
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    lines = [
        f"schemathesis on {request.param}: {sum(world.calls.values())} examples over "
        f"{len(world.calls)} operations in {elapsed:.1f} s; "
        f"statuses {dict(sorted(world.statuses.items()))}",
        *(f"  {count:5d}  {label}" for label, count in sorted(world.calls.items())),
    ]
    if reporter is None or capture is None:
        return
    # Shown even when the tests pass (teardown output is captured otherwise), for the record.
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


# The document the app serves at /api/v1/openapi.json (a test below checks they are the
# same), loaded at import so that schemathesis makes one test per operation.
schema = schemathesis.openapi.from_dict(document())


def test_the_served_document_is_the_one_fuzzed(fuzz_world: FuzzWorld) -> None:
    served = fuzz_world.app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.get_json() == document()


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Half of the fuzzed path ids name real objects of the data set, the rest stay as
    generated, so both the found and the not-found branches run."""
    choices = {
        name: st.sampled_from(REAL_IDS[name]) | st.just(value)
        for name, value in (path_parameters or {}).items()
        if REAL_IDS.get(name)
    }
    if not choices:
        return st.just(path_parameters)
    return st.fixed_dictionaries(choices).map(lambda found: {**path_parameters, **found})


SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


def _call(case: Any, world: FuzzWorld, caller: str | None) -> None:
    world.calls[case.operation.label] += 1
    headers = {"Authorization": f"Bearer {world.tokens[caller]}"} if caller else {}
    response = case.call_and_validate(app=world.app, headers=headers, checks=CHECKS)
    world.statuses[response.status_code] += 1


@schema.parametrize()
@settings(SETTINGS, max_examples=MAX_EXAMPLES)
def test_api_conforms_to_its_openapi_document(case: Any, fuzz_world: FuzzWorld) -> None:
    """As the admin (who may call everything): no 5xx, and status, content type,
    headers and body as the document says."""
    _call(case, fuzz_world, "boss")


# Other callers see the 401/403/404 answers; their coverage phase would only repeat
# the admin's, so they run fuzzed examples alone.
light_schema = schemathesis.openapi.from_dict(
    document(), config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
)
light_schema.hook(flatmap_path_parameters)


@light_schema.parametrize()
@pytest.mark.parametrize("caller", ["ann1", None], ids=["annotator", "anonymous"])
@settings(SETTINGS, max_examples=OTHER_CALLER_EXAMPLES)
def test_refusals_conform_to_the_openapi_document(
    case: Any, caller: str | None, fuzz_world: FuzzWorld
) -> None:
    """As an annotator (403 for reviewers' and admins' operations) and anonymous (401):
    the refusals are documented, with the JSON error body."""
    _call(case, fuzz_world, caller)
