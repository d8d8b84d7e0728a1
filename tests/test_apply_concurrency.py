"""Concurrent saves: no lost update, no duplicate, no "database is locked", a usable session."""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from annotator.access import add_member
from annotator.annotating import AnnotationConflict, SaveRequest, save_annotation
from annotator.db import get_database
from annotator.exchange.apply import (
    VersionConflict,
    delete_annotation,
    load_current_annotation,
    upsert_annotation,
)
from annotator.models import Annotation, AnnotationEvent, Article, Label, Unit, User
from annotator.users import create_user
from tests.helpers import app_session
from tests.test_annotating import World, build_world
from tests.test_api_annotations import Api

ROUNDS = 4
LABELS = ("reported_fact", "quote", "speculation", "unclear")


@pytest.fixture
def world(app: Flask) -> World:
    with app_session(app) as session:
        return build_world(session)


def run_together(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released at the same instant; results or raised exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as error:  # collected and asserted on by the test
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def saver(app: Flask, username: str, unit: int, label: str, note: str) -> Callable[[], str]:
    def job() -> str:
        with app_session(app) as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            request = SaveRequest(label, (), note, 0)
            try:
                save_annotation(session, unit, user, request)
            except AnnotationConflict:
                session.rollback()
                return "conflict"
            session.commit()
            return "saved"

    return job


def body(label: str, version: int, **extra: Any) -> dict[str, Any]:
    """A save's JSON body."""
    return {"label": label, "sources": [], "note": "", "expected_version": version, **extra}


def more_annotators(app: Flask, world: World, n: int) -> list[str]:
    """``n`` more annotators in the world's project; their names."""
    names = [f"crowd{i}" for i in range(n)]
    with app_session(app) as session:
        for name in names:
            user = create_user(session, name)
            session.flush()
            add_member(session, world.project, user.id)
        session.commit()
    return names


def stored(app: Flask) -> dict[tuple[int, str], tuple[str, str, int]]:
    """(unit, annotator name) -> (label, note, version) of every stored annotation."""
    with app_session(app) as session:
        return {
            (unit, name): (label, note, version)
            for unit, name, label, note, version in session.execute(
                select(
                    Annotation.unit_id,
                    User.username,
                    Label.name,
                    Annotation.note,
                    Annotation.version,
                )
                .join(User, User.id == Annotation.annotator_id)
                .join(Label, Label.id == Annotation.label_id)
            )
        }


def history(app: Flask) -> dict[tuple[int, str], list[tuple[int, str | None, str]]]:
    """(unit, annotator name) -> [(version, label, note)] of the history, oldest first."""
    found: dict[tuple[int, str], list[tuple[int, str | None, str]]] = {}
    with app_session(app) as session:
        for unit, name, version, label, note in session.execute(
            select(
                AnnotationEvent.unit_id,
                User.username,
                AnnotationEvent.version,
                AnnotationEvent.label,
                AnnotationEvent.note,
            )
            .join(User, User.id == AnnotationEvent.annotator_id)
            .order_by(AnnotationEvent.id)
        ):
            found.setdefault((unit, name), []).append((version, label, note))
    return found


def rows(app: Flask, unit: int) -> list[tuple[int, str]]:
    with app_session(app) as session:
        return [
            (annotator, note)
            for annotator, note in session.execute(
                select(Annotation.annotator_id, Annotation.note).where(Annotation.unit_id == unit)
            )
        ]


def test_two_tabs_of_one_annotator_one_wins(app: Flask, world: World) -> None:
    for unit in world.sentences[:ROUNDS]:
        results = run_together(
            saver(app, "ann", unit, "quote", "tab A"),
            saver(app, "ann", unit, "speculation", "tab B"),
        )
        assert sorted(map(str, results)) == ["conflict", "saved"], results
        stored = rows(app, unit)
        assert len(stored) == 1
        winner = "tab A" if results[0] == "saved" else "tab B"
        assert stored == [(world.users["ann"], winner)]
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(AnnotationEvent)) == ROUNDS


def test_two_annotators_at_once_are_both_stored(app: Flask, world: World) -> None:
    for unit in world.sentences[:ROUNDS]:
        results = run_together(
            saver(app, "ann", unit, "quote", "ann's"),
            saver(app, "ann2", unit, "speculation", "ann2's"),
        )
        assert results == ["saved", "saved"]
        assert sorted(rows(app, unit)) == [
            (world.users["ann"], "ann's"),
            (world.users["ann2"], "ann2's"),
        ]


def test_two_tabs_race_over_http_one_wins_the_other_gets_the_winner(
    app: Flask, world: World
) -> None:
    """One annotator, two tabs, the same expected version: one 200, one 409 with the
    winner's answer as the current state; another annotator is never in the way."""
    tab_a, tab_b, other = Api(app, "ann"), Api(app, "ann"), Api(app, "ann2")
    unit = world.sentences[0]
    version = other_version = 0
    for round_ in range(ROUNDS):
        replies = run_together(
            functools.partial(tab_a.put, unit, body("quote", version, note=f"A {round_}")),
            functools.partial(tab_b.put, unit, body("unclear", version, note=f"B {round_}")),
            functools.partial(other.put, unit, body("quote", other_version, note=f"{round_}")),
        )
        assert sorted(reply.status_code for reply in replies[:2]) == [200, 409]
        winner, loser = sorted(replies[:2], key=lambda reply: reply.status_code)
        saved = winner.get_json()["annotation"]
        assert saved["version"] == version + 1
        assert loser.get_json()["error"] == "conflict"
        assert loser.get_json()["current"] == saved
        version = saved["version"]
        assert replies[2].status_code == 200
        other_version = replies[2].get_json()["annotation"]["version"]
        assert stored(app)[unit, "ann"] == (saved["label"], saved["note"], version)
    assert len(rows(app, unit)) == 2
    assert [v for v, *_ in history(app)[unit, "ann"]] == list(range(1, ROUNDS + 1))


def test_many_annotators_save_on_one_article_at_once(app: Flask, world: World) -> None:
    """Every 200 is stored, nothing else is, versions count the acknowledged saves, no 5xx."""
    names = ["ann", "ann2", "rev", "boss", *more_annotators(app, world, 4)]
    apis = [Api(app, name) for name in names]

    def annotate(api: Api, offset: int) -> Callable[[], list[tuple[int, int, Any]]]:
        def job() -> list[tuple[int, int, Any]]:
            acknowledged = []
            versions = dict.fromkeys(world.sentences, 0)
            for round_ in range(ROUNDS):
                for unit in world.sentences:
                    label = LABELS[(offset + round_) % len(LABELS)]
                    note = f"{api.username} {round_}"
                    reply = api.put(unit, body(label, versions[unit], note=note))
                    acknowledged.append((unit, reply.status_code, reply.get_json()))
                    if reply.status_code == 200:
                        versions[unit] = reply.get_json()["annotation"]["version"]
            return acknowledged

        return job

    results = run_together(*(annotate(api, i) for i, api in enumerate(apis)))
    state, events = stored(app), history(app)
    for name, acknowledged in zip(names, results, strict=True):
        assert not isinstance(acknowledged, Exception), acknowledged
        assert [status for _, status, _ in acknowledged] == [200] * len(acknowledged), [
            reply for _, status, reply in acknowledged if status != 200
        ]
        for unit in world.sentences:
            mine = [reply["annotation"] for u, _, reply in acknowledged if u == unit]
            assert [a["version"] for a in mine] == list(range(1, ROUNDS + 1))
            assert state[unit, name] == (mine[-1]["label"], mine[-1]["note"], ROUNDS)
            assert events[unit, name] == [(a["version"], a["label"], a["note"]) for a in mine]
    assert set(state) == {(unit, name) for unit in world.sentences for name in names}


def test_a_retry_racing_its_original_is_answered_once(app: Flask, world: World) -> None:
    """The same PUT sent several times at once (a client retrying a slow request) answers
    200 every time with one new version, for a first save and for an update alike."""
    tabs = [Api(app, "ann") for _ in range(4)]
    unit, source = world.sentences[1], world.sources["AP"]
    for version, label in enumerate(("quote", "speculation", "unclear")):
        request = body(label, version, sources=[source], note="the same each time")
        replies = run_together(*(functools.partial(tab.put, unit, request) for tab in tabs))
        assert [reply.status_code for reply in replies] == [200] * len(tabs), [
            reply.get_json() for reply in replies
        ]
        answers = {str(reply.get_json()["annotation"]) for reply in replies}
        assert len(answers) == 1
        assert replies[0].get_json()["annotation"]["version"] == version + 1
        # And replayed once more after the fact.
        again = tabs[0].put(unit, request)
        assert again.status_code == 200 and again.get_json()["annotation"]["version"] == version + 1
    assert [v for v, *_ in history(app)[unit, "ann"]] == [1, 2, 3]


def test_a_stale_first_save_becomes_a_conflict_and_the_session_survives(
    app: Flask, world: World
) -> None:
    unit, ann = world.sentences[0], world.users["ann"]
    with app_session(app) as first, app_session(app) as second:
        label = first.scalar(select(Label.id).where(Label.name == "quote"))
        assert label is not None
        # Both "read" no annotation; the first insert wins on the unique constraint.
        upsert_annotation(first, unit, ann, label, [], "one", ann, "create", current=None)
        first.commit()
        with pytest.raises(VersionConflict) as caught:
            upsert_annotation(
                second, unit, ann, label, [], "two", ann, "create", current=None, expected_version=0
            )
        assert (caught.value.expected, caught.value.actual) == (0, 1)
        # The SAVEPOINT kept the transaction usable.
        assert second.execute(text("SELECT 1")).scalar() == 1
        second.commit()
    assert rows(app, unit) == [(ann, "one")]


def test_a_stale_update_changes_nothing(app: Flask, world: World) -> None:
    unit, ann = world.sentences[0], world.users["ann"]
    with app_session(app) as session:
        label = session.scalar(select(Label.id).where(Label.name == "quote"))
        assert label is not None
        upsert_annotation(session, unit, ann, label, [], "v1", ann, "create")
        session.commit()
        stale = load_current_annotation(session, unit, ann)
        upsert_annotation(session, unit, ann, label, [], "v2", ann, "update")
        session.commit()
        # Without expected_version the caller's read is the guard: still no lost update.
        with pytest.raises(VersionConflict) as caught:
            upsert_annotation(session, unit, ann, label, [], "v3", ann, "update", current=stale)
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        session.rollback()
        with pytest.raises(VersionConflict):
            delete_annotation(session, unit, ann, ann, 1)
        session.rollback()
    assert rows(app, unit) == [(ann, "v2")]


def keep_saving(api: Api, units: list[int], until: threading.Event) -> Callable[[], list[int]]:
    """A job saving ``units`` over and over (at least twice each) until ``until`` is set."""
    versions = dict.fromkeys(units, 0)
    for (unit, name), (*_, version) in stored(api.app).items():
        if name == api.username and unit in versions:
            versions[unit] = version

    def job() -> list[int]:
        statuses, round_ = [], 0
        while round_ < 2 or not until.is_set():
            for unit in units:
                label = LABELS[round_ % len(LABELS)]
                reply = api.put(unit, body(label, versions[unit], note=f"{round_}"))
                statuses.append(reply.status_code)
                if reply.status_code == 200:
                    versions[unit] = reply.get_json()["annotation"]["version"]
            round_ += 1
        return statuses

    return job


def imported_articles(app: Flask, project: int, prefix: str) -> tuple[int, int]:
    """(articles, units) of the project whose title starts with ``prefix``, in one statement."""
    ours = select(Article.id).where(Article.project_id == project, Article.title.startswith(prefix))
    with app_session(app) as session:
        articles, units = session.execute(
            select(
                select(func.count()).select_from(ours.subquery()).scalar_subquery(),
                select(func.count())
                .select_from(Unit)
                .where(Unit.article_id.in_(ours))
                .scalar_subquery(),
            )
        ).one()
    return articles, units


def test_import_while_annotating(app: Flask, world: World) -> None:
    """An upload of many articles while annotators save: both succeed, and at no moment
    does anyone see part of the import (one transaction)."""
    reviewer = Api(app, "rev")
    savers = [Api(app, name) for name in ("ann", "ann2", "boss")]
    lines = [
        orjson.dumps(
            {
                "title": f"Imported {n}",
                "text": " ".join(
                    f'"Port {n}-{i} reopens," a minister told Reuters. Prices {n}-{i} may rise.'
                    for i in range(15)
                ),
            }
        )
        for n in range(12)
    ]
    upload = b"\n".join(lines) + b"\n"
    done = threading.Event()
    seen: set[tuple[int, int]] = set()

    def import_file(content: bytes, name: str) -> Callable[[], Any]:
        def job() -> Any:
            try:
                return reviewer.client.post(
                    f"/projects/{world.project}/import",
                    data={"file": (io.BytesIO(content), name)},
                    headers=reviewer.headers,
                    content_type="multipart/form-data",
                )
            finally:
                done.set()

        return job

    def watch() -> None:
        while not done.is_set():
            seen.add(imported_articles(app, world.project, "Imported"))

    results = run_together(
        import_file(upload, "batch.jsonl"),
        watch,
        *(keep_saving(api, world.sentences, done) for api in savers),
    )
    reply = results[0]
    assert not isinstance(reply, Exception), reply
    assert reply.status_code == 302, reply.get_data(as_text=True)
    for statuses in results[2:]:
        assert set(statuses) == {200}, statuses
    after = imported_articles(app, world.project, "Imported")
    assert after[0] == len(lines) and after[1] >= 30 * len(lines)
    # Only "nothing yet" or "everything" was ever visible.
    assert seen <= {(0, 0), after}, seen

    # A file that fails is refused whole while the saves go on.
    broken = upload.replace(b"Imported", b"Broken") + b'{"title": "no text"}\n'
    done.clear()
    results = run_together(
        import_file(broken, "broken.jsonl"),
        *(keep_saving(api, world.sentences[:2], done) for api in savers[:2]),
    )
    assert results[0].status_code == 400
    assert imported_articles(app, world.project, "Broken") == (0, 0)
    for statuses in results[1:]:
        assert set(statuses) == {200}, statuses


def test_export_while_annotating_is_one_snapshot(app: Flask, world: World) -> None:
    """Saves committed while the export streams are not in it: its header counts what
    its body holds, and every exported annotation is a version its history recorded."""
    for name in ("ann", "ann2"):
        api = Api(app, name)
        for unit in world.sentences:
            assert api.put(unit, body("quote", 0, note=f"{name} first")).status_code == 200
    reviewer, ann, late = Api(app, "rev"), Api(app, "ann"), Api(app, "boss")
    inside, written, done = threading.Event(), threading.Event(), threading.Event()
    engine = get_database(app).engine
    first, second = world.sentences[:2]

    def hold_the_export(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The export thread, after its header and before its annotations: let
        # others commit, then go on reading.
        if threading.current_thread().name != "annotator-export":
            return
        if "annotations.seconds_spent" in statement and not inside.is_set():
            inside.set()
            written.wait(timeout=30)

    def export() -> Any:
        try:
            return reviewer.client.get(
                f"/api/v1/projects/{world.project}/export", query_string={"format": "jsonl"}
            ).get_data()
        finally:
            done.set()

    def write_meanwhile() -> list[int]:
        try:
            assert inside.wait(timeout=30), "the export never reached its annotations"
            return [
                late.put(first, body("unclear", 0, note="late")).status_code,
                ann.put(first, body("speculation", 1, note="ann second")).status_code,
            ]
        finally:
            written.set()

    event.listen(engine, "before_cursor_execute", hold_the_export)
    try:
        results = run_together(
            export,
            write_meanwhile,
            keep_saving(Api(app, "ann2"), [second], done),
        )
    finally:
        event.remove(engine, "before_cursor_execute", hold_the_export)
    for result in results:
        assert not isinstance(result, Exception), result
    assert results[1] == [200, 200]
    assert set(results[2]) == {200}
    lines = [orjson.loads(line) for line in results[0].splitlines()]
    header, articles = lines[0], [line for line in lines if line["record"] == "article"]
    units = [unit for article in articles for unit in article["units"]]
    exported = {
        (unit["id"], a["annotator"]): a for unit in units for a in unit.get("annotations", [])
    }
    assert header["counts"]["articles"] == len(articles)
    assert header["counts"]["units"] == len(units)
    assert header["counts"]["annotations"] == len(exported)
    # The saves made while it streamed are not in it, half or whole ...
    assert (first, "boss") not in exported
    assert exported[first, "ann"]["version"] == 1
    assert exported[first, "ann"]["label"] == "quote"
    # ... but they are stored, and everything exported is a version the history holds.
    assert stored(app)[first, "boss"] == ("unclear", "late", 1)
    events = history(app)
    for (unit, name), annotation in exported.items():
        recorded = {version: (label, note) for version, label, note in events[unit, name]}
        assert recorded[annotation["version"]] == (annotation["label"], annotation["note"])
