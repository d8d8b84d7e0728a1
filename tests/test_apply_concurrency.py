"""Concurrent saves: no lost update, no duplicate, no "database is locked", a usable session."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from annotator.annotating import AnnotationConflict, SaveRequest, save_annotation
from annotator.exchange.apply import (
    VersionConflict,
    delete_annotation,
    load_current_annotation,
    upsert_annotation,
)
from annotator.models import Annotation, AnnotationEvent, Label, User
from tests.helpers import app_session
from tests.test_annotating import World, build_world
from tests.test_api_annotations import Api

ROUNDS = 4


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


def test_concurrent_http_saves(app: Flask, world: World) -> None:
    tab_a, tab_b, other = Api(app, "ann"), Api(app, "ann"), Api(app, "ann2")
    unit = world.sentences[0]
    statuses = run_together(
        lambda: tab_a.put(unit, {"label": "quote", "expected_version": 0}).status_code,
        lambda: tab_b.put(unit, {"label": "unclear", "expected_version": 0}).status_code,
        lambda: other.put(unit, {"label": "quote", "expected_version": 0}).status_code,
    )
    assert sorted(statuses[:2]) == [200, 409] and statuses[2] == 200
    assert len(rows(app, unit)) == 2


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
