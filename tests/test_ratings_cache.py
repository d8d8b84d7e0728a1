"""The ratings column cache: brought up to date from the history, or reloaded when it can't be."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from annotator import ratings_cache
from annotator.exchange.apply import delete_annotation, load_current_annotation, upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import Annotation, Label, Source, Unit
from annotator.project_agreement import load_ratings, project_agreement
from annotator.ratings_cache import load_ratings_cached
from tests.helpers import add_article, add_project, add_user

TEXT = " ".join(f"Officials said on day {i} that talks would resume soon." for i in range(12))


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """A project with two articles, four annotators, three sources; some answers, one gold."""
    project = add_project(session, "cache")
    units: list[int] = []
    for title in ("First", "Second"):
        article = add_article(session, project, TEXT, title=title)
        units += session.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).all()
    sources = []
    for name in ("KCNA", "AP", "Koh Yu-hwan"):
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            source = Source(project_id=project.id, name=name, name_key=name.lower(), kind="person")
            session.add(source)
            session.flush()
        sources.append(source.id)
    labels = dict(
        session.execute(select(Label.name, Label.id).where(Label.project_id == project.id)).all()
    )
    users = [add_user(session, f"ann{i}", project=project).id for i in range(4)]
    world = {"project": project.id, "units": units, "sources": sources, "labels": labels}
    world["users"] = users
    rng = random.Random(7)
    for _ in range(40):
        _random_save(session, world, rng, users[:3])
    session.commit()
    return world


def _random_save(session: Session, world: dict, rng: random.Random, users: list[int]) -> None:
    unit, user = rng.choice(world["units"]), rng.choice(users)
    label = rng.choice(list(world["labels"].values()))
    sources = rng.sample(world["sources"], rng.randint(0, 2))
    current = load_current_annotation(session, unit, user)
    action = "create" if current is None else "update"
    upsert_annotation(session, unit, user, label, sources, "", user, action)


def _answers(data: Any) -> set[tuple[int, str, str, tuple[str, ...]]]:
    return {
        (int(u), data.annotators[a], data.labels[lab], data.source_lists[s])
        for u, a, lab, s in zip(
            data.unit, data.annotator, data.label, data.source_list, strict=True
        )
    }


def _assert_same_as_a_fresh_load(session: Session, world: dict, cached: Any) -> None:
    fresh = load_ratings(session, world["project"])
    assert _answers(cached) == _answers(fresh)
    assert cached.gold == fresh.gold
    rated = set(fresh.unit.tolist())
    assert {u: v for u, v in cached.suggestions.items() if u in rated} == fresh.suggestions
    assert sorted(cached.article.tolist()) == sorted(fresh.article.tolist())
    summary = project_agreement(session, world["project"], data=cached, bootstrap=50)
    assert summary == project_agreement(session, world["project"], bootstrap=50)


@pytest.fixture
def full_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the cache's full loads."""
    calls: list[int] = []
    original = ratings_cache.load_ratings

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(ratings_cache, "load_ratings", counting)
    return calls


def test_saves_deletes_and_gold_are_applied_without_a_full_load(
    session: Session, world: dict, tmp_path: Path, full_loads: list[int]
) -> None:
    rng = random.Random(11)
    cached = load_ratings_cached(session, world["project"], tmp_path)
    assert len(full_loads) == 1
    _assert_same_as_a_fresh_load(session, world, cached)
    for round_ in range(6):
        for _ in range(rng.randint(1, 8)):
            _random_save(session, world, rng, world["users"][:3])
        for unit, user in rng.sample(
            [(u, a) for u in world["units"] for a in world["users"][:3]], 3
        ):
            current = load_current_annotation(session, unit, user)
            if current is not None:
                delete_annotation(session, unit, user, user, current.version)
        if round_ % 2:
            label = rng.choice(list(world["labels"].values()))
            unit = rng.choice(world["units"])
            upsert_gold(session, unit, label, [world["sources"][0]], "adjudicated", None, "r")
        session.commit()
        cached = load_ratings_cached(session, world["project"], tmp_path)
        _assert_same_as_a_fresh_load(session, world, cached)
    assert len(full_loads) == 1, "small changes must not reload everything"


def test_a_new_annotator_a_renamed_source_or_an_unknown_action_reload_in_full(
    session: Session, world: dict, tmp_path: Path, full_loads: list[int]
) -> None:
    load_ratings_cached(session, world["project"], tmp_path)
    rng = random.Random(3)
    _random_save(session, world, rng, [world["users"][3]])  # nobody had seen ann3
    session.commit()
    _assert_same_as_a_fresh_load(
        session, world, load_ratings_cached(session, world["project"], tmp_path)
    )
    assert len(full_loads) == 2
    session.execute(update(Source).where(Source.id == world["sources"][0]).values(name="K.C.N.A."))
    session.commit()
    _assert_same_as_a_fresh_load(
        session, world, load_ratings_cached(session, world["project"], tmp_path)
    )
    assert len(full_loads) == 3
    unit, user = world["units"][0], world["users"][0]
    upsert_annotation(session, unit, user, world["labels"]["unclear"], [], "x", user, "merge")
    session.commit()
    _assert_same_as_a_fresh_load(
        session, world, load_ratings_cached(session, world["project"], tmp_path)
    )
    assert len(full_loads) == 4


def test_an_annotation_written_without_history_is_caught(
    session: Session, world: dict, tmp_path: Path, full_loads: list[int]
) -> None:
    load_ratings_cached(session, world["project"], tmp_path)
    taken = set(session.execute(select(Annotation.unit_id, Annotation.annotator_id)).all())
    unit = next(u for u in world["units"] if (u, world["users"][0]) not in taken)
    _random_save(session, world, random.Random(1), world["users"][:1])  # one logged save
    session.execute(
        insert(Annotation).values(
            unit_id=unit,
            annotator_id=world["users"][0],
            label_id=world["labels"]["quote"],
            note="",
            version=1,
        )
    )
    session.commit()
    _assert_same_as_a_fresh_load(
        session, world, load_ratings_cached(session, world["project"], tmp_path)
    )
    assert len(full_loads) == 2


def test_damaged_cache_files_are_ignored(session: Session, world: dict, tmp_path: Path) -> None:
    load_ratings_cached(session, world["project"], tmp_path)
    (tmp_path / f"ratings-{world['project']}.npz").write_bytes(b"not numpy")
    _assert_same_as_a_fresh_load(
        session, world, load_ratings_cached(session, world["project"], tmp_path)
    )
    (tmp_path / f"ratings-{world['project']}.json").write_bytes(b"{")
    _assert_same_as_a_fresh_load(
        session, world, load_ratings_cached(session, world["project"], tmp_path)
    )
