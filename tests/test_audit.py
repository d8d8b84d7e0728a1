"""The audit trail (annotator.audit): who, what, when, from which value, on both engines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from annotator.annotating import SaveRequest, remove_annotation, save_annotation
from annotator.audit import (
    PAGE_MAX,
    Event,
    HistoryFilter,
    InvalidFilter,
    State,
    parse_cursor,
    parse_filter,
    project_history,
    unit_history,
)
from annotator.exchange.apply import upsert_annotation
from annotator.models import Annotation, AnnotationEvent, GoldEvent, User
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from annotator.review_decisions import clear, decide
from annotator.segmentation import merge_with_next
from tests.helpers import add_article, add_project, add_user
from tests.review_world import sentence_ids

TEXT = "Talks could resume in May. Prices rose sharply. The agency reported a launch."


@dataclass
class World:
    project: int
    other_project: int
    article: int
    foreign_article: int
    units: list[int]
    other_unit: int
    users: dict[str, User]
    sources: dict[str, int]


@pytest.fixture
def world(session: Session) -> World:
    """Project "wire" (one article, three sentences) with ann1, ann2, rev and boss;
    project "elsewhere" with one sentence labelled by its own annotator."""
    project = add_project(session, "wire")
    other = add_project(session, "elsewhere")
    article = add_article(session, project, TEXT, title="Talks")
    foreign = add_article(session, other, "Nobody knows when.", title="Foreign")
    users = {name: add_user(session, name, project=project) for name in ("ann1", "ann2")}
    users["rev"] = add_user(session, "rev", "reviewer", project=project)
    users["boss"] = add_user(session, "boss", "admin")
    users["outsider"] = add_user(session, "outsider", project=other)
    registry = SourceIndex(session, project.id)
    sources = {
        "KCNA": registry.ensure("KCNA", "news_agency"),
        "AP": registry.ensure("AP", "news_agency"),
    }
    other_unit = sentence_ids(session, foreign.id)[0]
    upsert_annotation(
        session,
        other_unit,
        users["outsider"].id,
        label_ids(session, other.id)["quote"],
        [],
        "elsewhere",
        users["outsider"].id,
        "create",
    )
    session.commit()
    return World(
        project.id,
        other.id,
        article.id,
        foreign.id,
        sentence_ids(session, article.id),
        other_unit,
        users,
        sources,
    )


def _save(
    session: Session, w: World, name: str, unit: int, label: str, sources: list[str], note: str = ""
) -> int:
    """Save through the annotation page's path; returns the new version."""
    user = w.users[name]
    expected = session.scalar(
        select(Annotation.version).where(
            Annotation.unit_id == unit, Annotation.annotator_id == user.id
        )
    )
    result = save_annotation(
        session,
        unit,
        user,
        SaveRequest(label, tuple(w.sources[s] for s in sources), note, expected or 0),
    )
    return result["annotation"]["version"]


def _brief(event: Event) -> tuple:
    return (event.kind, event.action, event.actor, event.annotator, event.before, event.after)


def test_every_change_appears_with_its_values_actor_and_order(
    session: Session, world: World
) -> None:
    w, unit = world, world.units[1]
    _save(session, w, "ann1", unit, "speculation", ["KCNA"])
    _save(session, w, "ann2", unit, "reported_fact", [])
    _save(session, w, "ann1", unit, "quote", ["KCNA", "AP"], "checked the quote")
    remove_annotation(session, unit, w.users["ann1"], 2)
    decide(session, unit, w.users["rev"], "quote", [w.sources["KCNA"]], "clear quote")
    session.commit()
    decide(session, unit, w.users["rev"], "quote", [w.sources["KCNA"], w.sources["AP"]], "relay")
    session.commit()
    clear(session, unit, w.users["boss"], "start over")
    session.commit()

    page = unit_history(session, unit)
    assert page.next_cursor is None
    spec = State("speculation", ("KCNA",))
    quote = State("quote", ("KCNA", "AP"), "checked the quote")
    gold1 = State(
        "quote", ("KCNA",), provenance="adjudicated", rationale="clear quote", reviewer="rev"
    )
    gold2 = State(
        "quote", ("KCNA", "AP"), provenance="adjudicated", rationale="relay", reviewer="rev"
    )
    assert [_brief(e) for e in page.events] == [
        ("annotation", "create", "ann1", "ann1", None, spec),
        ("annotation", "create", "ann2", "ann2", None, State("reported_fact", ())),
        ("annotation", "update", "ann1", "ann1", spec, quote),
        ("annotation", "delete", "ann1", "ann1", quote, None),
        ("gold", "decide", "rev", None, None, gold1),
        ("gold", "decide", "rev", None, gold1, gold2),
        ("gold", "clear", "boss", None, gold2, None),
    ]
    assert [e.version for e in page.events[:4]] == [1, 1, 2, 2]
    update_event = page.events[2]
    assert update_event.summary == "updated"
    assert [(c.field, c.before, c.after) for c in update_event.changes] == [
        ("label", "speculation", "quote"),
        ("sources", ("KCNA",), ("KCNA", "AP")),
        ("note", "", "checked the quote"),
    ]
    assert [(c.field, c.before, c.after) for c in page.events[5].changes] == [
        ("sources", ("KCNA",), ("KCNA", "AP")),
        ("rationale", "clear quote", "relay"),
    ]
    assert [e.summary for e in page.events[4:]] == ["gold set", "gold changed", "gold cleared"]
    times = [e.at for e in page.events]
    assert times == sorted(times)
    assert all(e.unit.id == unit and e.unit.index == 1 for e in page.events)
    assert page.events[0].unit.article_title == "Talks"
    # The same events, newest first, in the project's history.
    project_page = project_history(session, w.project)
    assert [(e.kind, e.id) for e in project_page.events] == [
        (e.kind, e.id) for e in reversed(page.events)
    ]


def test_a_new_answer_after_a_delete_starts_from_nothing(session: Session, world: World) -> None:
    w, unit = world, world.units[0]
    _save(session, w, "ann1", unit, "quote", [])
    remove_annotation(session, unit, w.users["ann1"], 1)
    _save(session, w, "ann1", unit, "unclear", ["AP"])
    events = unit_history(session, unit).events
    assert [(e.action, e.before, e.after) for e in events] == [
        ("create", None, State("quote", ())),
        ("delete", State("quote", ()), None),
        ("create", None, State("unclear", ("AP",))),
    ]


def test_previous_value_follows_the_annotation_through_a_merge(
    session: Session, world: World
) -> None:
    """Merging two sentences both labelled by ann1 interleaves two annotations' events
    on one unit; each event's "from" value is still its own annotation's."""
    w = world
    first, second = w.units[0], w.units[1]
    _save(session, w, "ann1", first, "quote", ["KCNA"])
    _save(session, w, "ann1", second, "speculation", ["AP"])
    _save(session, w, "ann1", second, "unclear", ["AP"])
    merge_with_next(session, first, w.users["rev"].id)
    session.commit()
    events = unit_history(session, first).events
    by_action = {e.action: e for e in events}
    assert by_action["superseded"].before == State("unclear", ("AP",))
    assert by_action["superseded"].after is None
    assert by_action["superseded"].actor == "rev"
    # The kept annotation is flagged; its previous state is its own quote, not
    # the superseded one's unclear.
    assert by_action["segmentation"].before == State("quote", ("KCNA",))
    assert by_action["segmentation"].after == State("quote", ("KCNA",))
    assert len(events) == 5


def _churn(session: Session, w: World) -> None:
    """About sixty events: three users answering and changing three sentences, gold too."""
    labels = ["quote", "speculation", "reported_fact", "unclear"]
    for round_ in range(4):
        for i, unit in enumerate(w.units):
            for j, name in enumerate(("ann1", "ann2", "rev")):
                label = labels[(round_ + i + j) % 4]
                _save(session, w, name, unit, label, ["KCNA"] if round_ % 2 else [])
        decide(session, w.units[round_ % 3], w.users["rev"], labels[round_], [], f"r{round_}")
        session.commit()


def _all_ids(session: Session, w: World, annotator: str | None = None) -> set[tuple[str, int]]:
    query = select(AnnotationEvent.id).where(AnnotationEvent.unit_id.in_(w.units))
    if annotator is not None:
        query = query.where(AnnotationEvent.annotator_id == w.users[annotator].id)
    found = {("annotation", i) for i in session.scalars(query)}
    if annotator is None:
        gold = select(GoldEvent.id).where(GoldEvent.unit_id.in_(w.units))
        found |= {("gold", i) for i in session.scalars(gold)}
    return found


def _walk(session: Session, w: World, f: HistoryFilter | None, limit: int) -> list[Event]:
    events: list[Event] = []
    cursor = None
    for _ in range(100):
        page = project_history(session, w.project, f, cursor=cursor, limit=limit)
        assert len(page.events) <= limit
        events.extend(page.events)
        if page.next_cursor is None:
            return events
        assert page.events, "a page with a next cursor is never empty"
        cursor = page.next_cursor
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_pages_are_complete_and_do_not_overlap(session: Session, world: World, limit: int) -> None:
    _churn(session, world)
    events = _walk(session, world, None, limit)
    keys = [(e.kind, e.id) for e in events]
    assert len(keys) == len(set(keys))
    assert set(keys) == _all_ids(session, world)
    assert len(keys) >= 30  # enough to span many pages
    times = [e.at for e in events]
    assert times == sorted(times, reverse=True)


def test_unit_history_pages_oldest_first(session: Session, world: World) -> None:
    _churn(session, world)
    unit = world.units[0]
    events: list[Event] = []
    cursor = None
    while True:
        page = unit_history(session, unit, cursor=cursor, limit=4)
        events.extend(page.events)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = session.scalar(
        select(func.count()).select_from(AnnotationEvent).where(AnnotationEvent.unit_id == unit)
    ) + session.scalar(select(func.count()).select_from(GoldEvent).where(GoldEvent.unit_id == unit))
    assert len({(e.kind, e.id) for e in events}) == len(events) == expected
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_an_annotators_history_holds_nothing_of_others(session: Session, world: World) -> None:
    _churn(session, world)
    ann1 = world.users["ann1"].id
    events = _walk(session, world, HistoryFilter(annotator_id=ann1), 5)
    assert events
    assert {e.kind for e in events} == {"annotation"}
    assert {e.annotator for e in events} == {"ann1"}
    assert {(e.kind, e.id) for e in events} == _all_ids(session, world, "ann1")
    own = unit_history(session, world.units[0], annotator_id=ann1).events
    assert (
        own and {e.annotator for e in own} == {"ann1"} and {e.kind for e in own} == {"annotation"}
    )
    # Nor does the project's history show another project's events.
    every = _walk(session, world, None, 50)
    assert "outsider" not in {e.actor for e in every}
    assert world.other_unit not in {e.unit.id for e in every}


def test_filters_by_article_kind_action_and_date(session: Session, world: World) -> None:
    _churn(session, world)
    w = world
    assert {e.kind for e in _walk(session, w, HistoryFilter(kind="gold"), 50)} == {"gold"}
    updates = _walk(session, w, HistoryFilter(actions=("update",)), 50)
    assert updates and {e.action for e in updates} == {"update"}
    assert _walk(session, w, HistoryFilter(article_id=w.article), 50)
    # Date range: move the first three events a year back; only they match.
    old = datetime(2020, 3, 1, 12, tzinfo=UTC)
    first = session.scalars(
        select(AnnotationEvent.id)
        .where(AnnotationEvent.unit_id.in_(w.units))
        .order_by(AnnotationEvent.id)
        .limit(3)
    ).all()
    session.execute(update(AnnotationEvent).where(AnnotationEvent.id.in_(first)).values(at=old))
    session.commit()
    f, _ = parse_filter(session, w.project, {"since": "2020-03-01", "until": "2020-03-01"})
    found = _walk(session, w, f, 2)
    assert sorted(e.id for e in found) == sorted(first)
    assert all(e.at == old for e in found)
    f, _ = parse_filter(session, w.project, {"until": "2020-02-29"})
    assert f.until == datetime(2020, 3, 1, tzinfo=UTC)  # the whole day, exclusive end
    assert _walk(session, w, f, 50) == []


def test_parse_filter_reads_the_query_string(session: Session, world: World) -> None:
    f, limit = parse_filter(
        session,
        world.project,
        {
            "article": str(world.article),
            "annotator": " ANN1 ",
            "kind": "annotation",
            "action": "create,update",
            "limit": "20",
        },
    )
    assert f.article_id == world.article and f.annotator_id == world.users["ann1"].id
    assert f.kind == "annotation" and f.actions == ("create", "update") and limit == 20


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"article": "-1"}, "article"),
        ({"article": "1 OR 1=1"}, "article"),
        ({"article": str(2**40)}, "article"),
        ({"annotator": "nobody"}, "annotator"),
        ({"annotator": "x" * 201}, "annotator"),
        ({"kind": "both"}, "kind"),
        ({"action": "create,drop table"}, "action"),
        ({"since": "2024-13-01"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, "until"),
        ({"limit": "0"}, "limit"),
        ({"limit": str(PAGE_MAX + 1)}, "limit"),
    ],
)
def test_bad_filters_name_their_field(
    session: Session, world: World, args: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_filter(session, world.project, args)
    assert raised.value.field == field


def test_an_article_of_another_project_is_refused(session: Session, world: World) -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_filter(session, world.project, {"article": str(world.foreign_article)})
    assert raised.value.field == "article"


@pytest.mark.parametrize(
    "token", ["", "garbage", "a1.g2;DROP", "a-1.g", f"a{2**31}.g", "a1.g1.a1", "ax.gx "]
)
def test_foreign_cursors_are_refused(session: Session, world: World, token: str) -> None:
    if token == "":
        assert project_history(session, world.project, cursor=token).next_cursor is None
        return
    with pytest.raises(InvalidFilter) as raised:
        parse_cursor(token)
    assert raised.value.field == "cursor"
    with pytest.raises(InvalidFilter):
        project_history(session, world.project, cursor=token)


def test_a_history_of_nothing_is_an_empty_last_page(session: Session, world: World) -> None:
    page = project_history(session, world.project)
    assert page.events == [] and page.next_cursor is None
    assert unit_history(session, world.units[2]).events == []
    assert project_history(session, world.project, cursor="ax.gx").events == []
