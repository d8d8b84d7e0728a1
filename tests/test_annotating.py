"""The annotation page's domain: the article view, saving and deleting one unit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from annotator.access import add_member, can_see_article, visible_article_clause
from annotator.annotating import (
    AnnotationConflict,
    InvalidAnnotation,
    SaveRequest,
    UnitNotFound,
    remove_annotation,
    save_annotation,
)
from annotator.article_view import article_view
from annotator.models import (
    Annotation,
    AnnotationEvent,
    AnnotationSource,
    Article,
    Assignment,
    Project,
    Source,
    Unit,
    User,
)
from annotator.users import create_user
from tests.helpers import add_article, add_project, add_user

TEXT = (
    'North Korea says talks will resume, KCNA reported. "We are ready," Koh Yu-hwan told AP. '
    "Prices may rise next year.\n\nThe bridge is closed."
)


@dataclass
class World:
    """Ids of a small two-project setup shared by the annotation tests."""

    project: int
    other_project: int
    article: int
    second_article: int
    other_article: int
    sentences: list[int]
    title_unit: int
    sources: dict[str, int]
    other_source: int
    users: dict[str, int]


def build_world(session: Session) -> World:
    """Projects "wire" and "other", articles, and one user per role."""
    wire = add_project(session, "wire")
    other = add_project(session, "other")
    # Only "ann" gets a password (hashing one is slow on purpose); the others
    # are logged in by creating a login session directly.
    users = {"ann": add_user(session, "ann", project=wire)}
    for name, role, project in [
        ("ann2", "annotator", wire),
        ("outsider", "annotator", other),
        ("rev", "reviewer", wire),
        ("boss", "admin", None),
    ]:
        users[name] = create_user(session, name, role=role)
        if project is not None:
            add_member(session, project.id, users[name].id)
    session.flush()
    article = add_article(session, wire, TEXT, title="Talks resume")
    second = add_article(session, wire, "The port reopened on Monday. Ships queued.", title="Port")
    foreign = add_article(session, other, "Grain exports rose, Reuters said.", title="Grain")
    units = session.execute(
        select(Unit.id, Unit.kind).where(Unit.article_id == article.id).order_by(Unit.position)
    ).all()
    sources = {
        name: sid
        for name, sid in session.execute(
            select(Source.name, Source.id).where(Source.project_id == wire.id)
        )
    }
    other_source = session.scalar(select(Source.id).where(Source.project_id == other.id))
    assert other_source is not None
    session.commit()
    return World(
        project=wire.id,
        other_project=other.id,
        article=article.id,
        second_article=second.id,
        other_article=foreign.id,
        sentences=[uid for uid, kind in units if kind == "sentence"],
        title_unit=next(uid for uid, kind in units if kind == "title"),
        sources=sources,
        other_source=other_source,
        users={name: user.id for name, user in users.items()},
    )


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def user(session: Session, world: World, name: str) -> User:
    found = session.get(User, world.users[name])
    assert found is not None
    return found


def save(
    session: Session, world: World, name: str, unit: int, label: str = "quote", **kw: object
) -> dict:
    request = SaveRequest(
        label=label,
        sources=tuple(kw.get("sources", ())),  # type: ignore[arg-type]
        note=str(kw.get("note", "")),
        expected_version=int(kw.get("expected_version", 0)),  # type: ignore[call-overload]
        seconds_spent=kw.get("seconds_spent"),  # type: ignore[arg-type]
    )
    result = save_annotation(session, unit, user(session, world, name), request)
    session.commit()
    return result


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def view(session: Session, world: World, annotator: str, viewer: str | None = None) -> dict:
    found = article_view(
        session,
        world.article,
        user(session, world, annotator),
        user(session, world, viewer or annotator),
    )
    assert found is not None
    return found


# --- the article view -------------------------------------------------------------------


def test_view_has_the_contract_shape(session: Session, world: World) -> None:
    data = view(session, world, "ann")
    assert data["article"]["title"] == "Talks resume"
    assert data["article"]["project_id"] == world.project
    assert data["project"]["suggestion_mode"] == "hint"
    assert [label["key"] for label in data["project"]["labels"]] == ["1", "2", "3", "4"]
    assert data["annotator"] == {"id": world.users["ann"], "username": "ann"}
    assert data["read_only"] is False
    kinds = [unit["kind"] for unit in data["units"]]
    assert kinds[0] == "title" and kinds.count("sentence") == 4
    sentences = [unit for unit in data["units"] if unit["kind"] == "sentence"]
    assert [unit["index"] for unit in sentences] == [0, 1, 2, 3]
    assert data["units"][0]["index"] is None and data["units"][0]["suggestion"] is None
    article = session.get(Article, world.article)
    assert article is not None
    for unit in data["units"]:
        assert article.text[unit["start"] : unit["end"]] == unit["text"]
    quote = sentences[1]
    assert quote["text"] == '"We are ready," Koh Yu-hwan told AP.'
    assert quote["suggestion"]["label"] == "quote"
    assert [s["name"] for s in quote["suggestion"]["sources"]] == ["Koh Yu-hwan", "AP"]
    assert quote["suggestion"]["cues"][0]["kind"] == "quotation"
    assert {m["name"] for m in data["mentions"]} >= {"KCNA", "AP", "Koh Yu-hwan"}
    for mention in data["mentions"]:
        assert article.text[mention["start"] : mention["end"]] == mention["name"]
    assert data["progress"] == {"done": 0, "total": 4}
    assert data["next_article_id"] == world.second_article


def test_hidden_suggestion_mode_hides_every_suggestion(session: Session, world: World) -> None:
    session.execute(update(Project).values(suggestion_mode="hidden"))
    session.commit()
    data = view(session, world, "ann")
    assert all(unit["suggestion"] is None for unit in data["units"])


def test_view_shows_only_the_annotators_own_answers(session: Session, world: World) -> None:
    kcna, ap = world.sources["KCNA"], world.sources["AP"]
    save(session, world, "ann2", world.sentences[0], "speculation", note="secret <b>note</b>")
    save(session, world, "ann", world.sentences[1], "quote", sources=[ap, kcna], note="mine")
    data = view(session, world, "ann")
    answered = {u["id"]: u["annotation"] for u in data["units"] if u["annotation"]}
    assert list(answered) == [world.sentences[1]]
    mine = answered[world.sentences[1]]
    assert mine["label"] == "quote" and mine["note"] == "mine" and mine["version"] == 1
    assert [s["name"] for s in mine["sources"]] == ["AP", "KCNA"]
    assert mine["flagged"] is False and mine["previous_text"] is None
    assert mine["updated_at"].endswith("Z")
    assert data["progress"] == {"done": 1, "total": 4}
    assert "secret" not in str(data)


def test_reviewer_sees_someone_elses_answers_read_only(session: Session, world: World) -> None:
    save(session, world, "ann2", world.sentences[0], "speculation")
    data = view(session, world, "ann2", viewer="rev")
    assert data["read_only"] is True
    assert data["annotator"]["username"] == "ann2"
    assert data["units"][1]["annotation"]["label"] == "speculation"


def test_annotator_may_not_build_someone_elses_view(session: Session, world: World) -> None:
    with pytest.raises(PermissionError):
        view(session, world, "ann2", viewer="ann")


def test_next_article_skips_finished_ones(session: Session, world: World) -> None:
    second = session.scalars(select(Unit.id).where(Unit.article_id == world.second_article))
    for unit_id in second:
        if session.get(Unit, unit_id).kind == "sentence":  # type: ignore[union-attr]
            save(session, world, "ann", unit_id, "reported_fact")
    assert view(session, world, "ann")["next_article_id"] is None
    assert view(session, world, "ann2")["next_article_id"] == world.second_article


# --- saving -----------------------------------------------------------------------------


def test_save_creates_updates_and_keeps_history(session: Session, world: World) -> None:
    unit = world.sentences[1]
    koh, ap = world.sources["Koh Yu-hwan"], world.sources["AP"]
    first = save(session, world, "ann", unit, "quote", sources=[koh, ap], seconds_spent=4)
    assert first["annotation"]["version"] == 1
    assert [s["id"] for s in first["annotation"]["sources"]] == [koh, ap]
    assert first["progress"] == {"done": 1, "total": 4}
    second = save(session, world, "ann", unit, "reported_fact", sources=[ap], expected_version=1)
    assert second["annotation"]["version"] == 2
    assert second["annotation"]["label"] == "reported_fact"
    stored = session.scalars(select(Annotation)).one()
    session.refresh(stored)
    assert (stored.version, stored.seconds_spent) == (2, 4.0)
    assert session.scalars(select(AnnotationSource.source_id)).all() == [ap]
    events = session.execute(
        select(AnnotationEvent.action, AnnotationEvent.version, AnnotationEvent.label).order_by(
            AnnotationEvent.id
        )
    ).all()
    assert [tuple(e) for e in events] == [("create", 1, "quote"), ("update", 2, "reported_fact")]


def test_the_same_save_twice_is_idempotent(session: Session, world: World) -> None:
    unit = world.sentences[0]
    first = save(session, world, "ann", unit, "reported_fact", note="n")
    again = save(session, world, "ann", unit, "reported_fact", note="n")  # replayed, version 0
    assert again["annotation"]["version"] == first["annotation"]["version"] == 1
    assert again["annotation"]["updated_at"] == first["annotation"]["updated_at"]
    assert count(session, AnnotationEvent) == 1


def test_a_stale_save_conflicts_and_writes_nothing(session: Session, world: World) -> None:
    unit = world.sentences[0]
    save(session, world, "ann", unit, "reported_fact")
    save(session, world, "ann", unit, "quote", expected_version=1)
    with pytest.raises(AnnotationConflict) as caught:
        save(session, world, "ann", unit, "speculation", expected_version=1)
    session.rollback()
    assert caught.value.current is not None
    assert (caught.value.current["label"], caught.value.current["version"]) == ("quote", 2)
    with pytest.raises(AnnotationConflict) as fresh:
        save(session, world, "ann", unit, "speculation", expected_version=0)
    assert fresh.value.current["version"] == 2  # type: ignore[index]
    session.rollback()
    assert count(session, AnnotationEvent) == 2


def test_saving_clears_the_segmentation_flag(session: Session, world: World) -> None:
    unit = world.sentences[0]
    save(session, world, "ann", unit, "reported_fact")
    session.execute(update(Annotation).values(flagged=True, previous_text="old text"))
    session.commit()
    assert view(session, world, "ann")["units"][1]["annotation"]["flagged"] is True
    # The same answer again is not "unchanged": it says the annotator looked again.
    result = save(session, world, "ann", unit, "reported_fact", expected_version=1)
    assert result["annotation"]["version"] == 2
    assert result["annotation"]["flagged"] is False
    stored = session.scalars(select(Annotation)).one()
    session.refresh(stored)
    assert (stored.flagged, stored.previous_text) == (False, None)


@pytest.mark.parametrize(
    ("label", "sources", "field"),
    [
        ("nonsense", [], "label"),
        ("Quote", [], "label"),
        ("quote", ["other"], "sources"),
        # Beyond PostgreSQL's 32-bit integer: refused, not an overflow (found by the fuzzer).
        ("quote", [2**31], "sources"),
    ],
)
def test_labels_and_sources_must_be_the_projects(
    session: Session, world: World, label: str, sources: list[str], field: str
) -> None:
    ids = [world.other_source if s == "other" else s for s in sources]
    with pytest.raises(InvalidAnnotation) as caught:
        save(session, world, "ann", world.sentences[0], label, sources=ids)
    assert caught.value.field == field
    session.rollback()
    assert count(session, Annotation) == 0


@pytest.mark.parametrize("who", ["outsider", "ann"])
def test_invisible_or_unannotatable_units_are_not_found(
    session: Session, world: World, who: str
) -> None:
    foreign_unit = session.scalar(select(Unit.id).where(Unit.article_id == world.other_article))
    target = foreign_unit if who == "ann" else world.sentences[0]
    for unit in (target, world.title_unit, 10**6, 2**31, 2**70):
        with pytest.raises(UnitNotFound):
            save(session, world, who, unit, "quote")
        session.rollback()
    assert count(session, Annotation) == 0


def test_assignments_limit_what_an_annotator_may_save(session: Session, world: World) -> None:
    session.add(Assignment(article_id=world.second_article, user_id=world.users["ann2"]))
    session.commit()
    with pytest.raises(UnitNotFound):
        save(session, world, "ann", world.sentences[0], "quote")
    session.rollback()
    # Reviewers and admins are not bound by assignments.
    assert save(session, world, "rev", world.sentences[0], "quote")["annotation"]["version"] == 1
    assert save(session, world, "boss", world.sentences[0], "quote")["annotation"]["version"] == 1


def test_visibility_clause_agrees_with_access_rules(session: Session, world: World) -> None:
    session.add(Assignment(article_id=world.second_article, user_id=world.users["ann2"]))
    session.commit()
    for name in world.users:
        person = user(session, world, name)
        by_clause = set(
            session.scalars(
                select(Article.id).where(visible_article_clause(person.id, person.role))
            )
        )
        by_access = {
            aid
            for aid in (world.article, world.second_article, world.other_article)
            if can_see_article(session, person, aid) is not None
        }
        assert by_clause == by_access, name


def test_delete_checks_the_version_and_keeps_history(session: Session, world: World) -> None:
    unit = world.sentences[2]
    ann = user(session, world, "ann")
    save(session, world, "ann", unit, "speculation", sources=[world.sources["AP"]])
    with pytest.raises(AnnotationConflict):
        remove_annotation(session, unit, ann, 3)
    session.rollback()
    result = remove_annotation(session, unit, ann, 1)
    session.commit()
    assert result == {"annotation": None, "progress": {"done": 0, "total": 4}}
    assert count(session, Annotation) == 0 and count(session, AnnotationSource) == 0
    actions = session.scalars(select(AnnotationEvent.action).order_by(AnnotationEvent.id)).all()
    assert actions == ["create", "delete"]
    # Deleting what is already gone, expecting nothing, is fine; expecting a version is not.
    assert remove_annotation(session, unit, ann, 0)["annotation"] is None
    with pytest.raises(AnnotationConflict) as caught:
        remove_annotation(session, unit, ann, 1)
    assert caught.value.current is None


# --- a fixed number of queries ----------------------------------------------------------


def _long_text(sentences: int) -> str:
    return " ".join(
        f'Minister {i} said the port {i} would reopen, Reuters reported. "Soon," AP quoted.'
        if i % 2
        else f"Prices {i} may rise."
        for i in range(sentences)
    )


class Counter:
    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self.hear)

    def hear(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.statements.append(statement)


def _measure(app: Flask, sentences: int) -> tuple[int, int]:
    from annotator.db import get_database
    from tests.helpers import app_session, login

    with app_session(app) as session:
        project = add_project(session, f"p{sentences}")
        add_user(session, f"ann{sentences}", project=project)
        article = add_article(session, project, _long_text(sentences), title="Long")
        units = session.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).all()
        ap = session.scalar(select(Source.id).where(Source.project_id == project.id))
        article_id = article.id
        session.commit()
    client = app.test_client()
    login(client, f"ann{sentences}")
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    for unit in units[:3]:
        body = {"label": "quote", "sources": [ap], "expected_version": 0}
        assert (
            client.put(f"/api/v1/units/{unit}/annotation", json=body, headers=headers).status_code
            == 200
        )
    counter = Counter(get_database(app).engine)
    response = client.get(f"/api/v1/articles/{article_id}")
    assert response.status_code == 200
    assert len(response.get_json()["units"]) > sentences
    view_count = len(counter.statements)
    counter.statements.clear()
    body = {"label": "speculation", "sources": [ap], "expected_version": 1, "note": "x"}
    response = client.put(f"/api/v1/units/{units[1]}/annotation", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return view_count, len(counter.statements)


def test_view_and_save_query_counts_do_not_grow_with_the_article(app: Flask) -> None:
    short_view, short_save = _measure(app, 5)
    long_view, long_save = _measure(app, 200)
    assert (short_view, short_save) == (long_view, long_save)
    # A save stays a handful of statements (BEGIN, lock, reads, writes, event, progress).
    assert long_save <= 14
