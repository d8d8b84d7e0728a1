"""The review domain: queue order and filters, one unit's answers, decisions, unanimous
acceptance and the gold history."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.exchange.export import export_json
from annotator.exchange.gold import insert_gold_many, upsert_gold
from annotator.exchange.import_json import import_export
from annotator.models import Gold, GoldEvent, GoldSource, Project, Source, Unit, User
from annotator.project_agreement import project_agreement
from annotator.registry import SourceIndex
from annotator.review import (
    AnswerChanged,
    InvalidDecision,
    InvalidFilter,
    QueueFilter,
    UnitNotFound,
    load_project_ratings,
    neighbour,
    open_counts,
    parse_pair,
    queue_annotators,
    review_queue,
)
from annotator.review_decisions import (
    accept_answer,
    accept_unanimous,
    clear,
    decide,
    resolve_source_names,
    set_unanimous_threshold,
    unanimous_candidates,
)
from annotator.review_unit import unit_for_review
from annotator.segmentation import split_unit
from annotator.source_edits import merge_sources
from tests import review_world


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    return review_world.build(session)


def indexes(world: dict[str, Any], unit_ids: list[int]) -> list[Any]:
    """Sentence indexes of the main article; units of the second article as ("b", i)."""
    named = {u: i for i, u in enumerate(world["units"])}
    named |= {u: ("b", i) for i, u in enumerate(world["second_units"])}
    return [named[u] for u in unit_ids]


def queue(session: Session, world: dict[str, Any], **filters: Any) -> list[Any]:
    result = review_queue(session, world["project"], limit=100, **filters)
    assert result.total == len(result.items)
    return indexes(world, [item.unit_id for item in result.items])


def user(session: Session, world: dict[str, Any], name: str) -> User:
    found = session.get(User, world["users"][name])
    assert found is not None
    return found


def gold_rows(session: Session) -> dict[int, tuple]:
    rows = session.execute(
        select(Gold.unit_id, Gold.label_id, Gold.provenance, Gold.reviewer_id, Gold.rationale)
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def events(session: Session, unit_id: int) -> list[tuple]:
    return [
        tuple(row)
        for row in session.execute(
            select(
                GoldEvent.action,
                GoldEvent.label,
                GoldEvent.sources,
                GoldEvent.provenance,
                GoldEvent.actor_id,
                GoldEvent.rationale,
            )
            .where(GoldEvent.unit_id == unit_id)
            .order_by(GoldEvent.id)
        )
    ]


# --- order and filters ---------------------------------------------------------------


def test_open_queue_is_least_agreed_first(session: Session, world: dict) -> None:
    # Sentence 3 and the other article's sentence share no label (agreement 0; the
    # unit id breaks the tie), then 1 (1/3), 2 (labels agree, sources do not),
    # then the unanimous 0 and 5. Sentence 4 has one rating: not open.
    assert queue(session, world) == [3, ("b", 0), 1, 2, 0, 5]


def test_all_puts_single_ratings_last(session: Session, world: dict) -> None:
    assert queue(session, world, status="all") == [3, ("b", 0), 1, 2, 0, 5, 4]


def test_items_carry_text_labels_and_figures(session: Session, world: dict) -> None:
    [first, *_] = review_queue(session, world["project"], limit=1).items
    assert first.text == "Prices rose by 4 percent."
    assert first.article_title == "Talks resume"
    assert (first.index, first.n_ratings) == (3, 2)
    assert first.labels == (("speculation", 1), ("unclear", 1))
    assert first.majority is None and first.majority_share == 0.5
    assert first.pairwise_agreement == 0.0 and first.sources_pairwise_agreement == 1.0
    assert first.gold_provenance is None
    one = review_queue(session, world["project"], status="all", limit=1, offset=6).items[0]
    assert one.pairwise_agreement is None and one.sources_pairwise_agreement is None


def test_preloaded_ratings_give_the_same_queue(session: Session, world: dict) -> None:
    data = load_project_ratings(session, world["project"])
    for filters in ({}, {"article_id": world["second"]}, {"pair": ("quote", "quote")}):
        loaded = review_queue(session, world["project"], **filters)
        shared = review_queue(session, world["project"], data=data, **filters)
        assert shared == loaded
    assert unanimous_candidates(session, world["project"], data=data) == unanimous_candidates(
        session, world["project"]
    )


def test_paging_counts_the_whole_queue(session: Session, world: dict) -> None:
    page = review_queue(session, world["project"], limit=2, offset=2)
    assert page.total == 6 and (page.offset, page.limit) == (2, 2)
    assert indexes(world, [i.unit_id for i in page.items]) == [1, 2]
    assert review_queue(session, world["project"], limit=2, offset=50).items == []


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        # One annotator gave a, another b: the off-diagonal confusion cell, either order.
        (("reported_fact", "speculation"), [1]),
        (("speculation", "reported_fact"), [1]),
        (("speculation", "unclear"), [3]),
        (("quote", "speculation"), [("b", 0)]),
        (("quote", "unclear"), []),
        # The diagonal: at least two annotators gave the label.
        (("quote", "quote"), [2, 0, 5]),
        (("reported_fact", "reported_fact"), [1]),
        (("speculation", "speculation"), []),
    ],
)
def test_pair_filter_is_the_confusion_cell(
    session: Session, world: dict, pair: tuple[str, str], expected: list
) -> None:
    assert queue(session, world, pair=pair, status="all") == expected


def test_pair_filter_matches_the_dashboards_confusion_matrix(session: Session, world: dict) -> None:
    # Every cell's count is made of exactly the units its queue lists: one
    # annotator's a against another's b on each of them (counts_a · counts_b
    # ordered pairs, counts_a · (counts_a − 1) on the diagonal).
    confusion = project_agreement(session, world["project"], bootstrap=0)["labels"]["confusion"]
    names = confusion["labels"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            items = review_queue(session, world["project"], pair=(a, b), status="all").items
            given = [dict(item.labels) for item in items]
            pairs = sum(g.get(a, 0) * (g.get(b, 0) - (1 if a == b else 0)) for g in given)
            assert pairs == confusion["matrix"][i][j], (a, b)
            assert all(pairs_of(g, a, b) for g in given), (a, b)


def pairs_of(given: dict[str, int], a: str, b: str) -> bool:
    """Whether a unit with these label counts has a pair of ratings (a, b)."""
    return given.get(a, 0) >= 2 if a == b else given.get(a, 0) > 0 and given.get(b, 0) > 0


def test_sources_disagree(session: Session, world: dict) -> None:
    assert queue(session, world, sources_disagree=True) == [2]


def test_annotator_filter_keeps_every_rating_of_their_units(session: Session, world: dict) -> None:
    assert queue(session, world, annotator="ann3") == [1, 0]
    assert queue(session, world, annotator="ANN3") == [1, 0]  # names compare normalised
    assert queue(session, world, annotator="nobody") == []
    [item] = review_queue(session, world["project"], annotator="ann3", limit=1).items
    assert item.n_ratings == 3


def test_article_filter(session: Session, world: dict) -> None:
    assert queue(session, world, article_id=world["second"]) == [("b", 0)]
    assert queue(session, world, article_id=world["foreign"]) == []


def test_filters_combine(session: Session, world: dict) -> None:
    assert queue(session, world, pair=("quote", "quote"), annotator="ann3") == [0]
    assert queue(session, world, pair=("quote", "quote"), sources_disagree=True) == [2]


def test_status_follows_gold(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    units = world["units"]
    decide(session, units[1], rev, "reported_fact", [], "majority is right")
    decide(session, units[3], rev, None, [], "cannot tell", provenance="unresolved")
    session.commit()
    assert queue(session, world) == [3, ("b", 0), 2, 0, 5]  # unresolved stays open
    assert queue(session, world, status="decided") == [1]
    [decided] = review_queue(session, world["project"], status="decided").items
    assert decided.gold_provenance == "adjudicated"


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"pair": ("quote", "nonsense")}, "pair"),
        ({"status": "closed"}, "status"),
        ({"article_id": 0}, "article"),
    ],
)
def test_bad_filters_are_refused(session: Session, world: dict, filters: dict, field: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        review_queue(session, world["project"], **filters)
    assert raised.value.field == field


@pytest.mark.parametrize("value", ["quote", "quote,", ",quote", "a,b,c", ""])
def test_parse_pair_needs_two_names(value: str) -> None:
    with pytest.raises(InvalidFilter):
        parse_pair(value)


def test_parse_pair() -> None:
    assert parse_pair("quote, speculation") == ("quote", "speculation")


def test_neighbours_stay_in_the_filtered_queue(session: Session, world: dict) -> None:
    units = world["units"]
    f = QueueFilter(pair=("quote", "quote"))
    assert neighbour(session, world["project"], units[2], f) == units[0]
    assert neighbour(session, world["project"], units[0], f, step=-1) == units[2]
    assert neighbour(session, world["project"], units[5], f) is None
    assert neighbour(session, world["project"], units[2], f, step=-1) is None
    # A unit that left the queue (just decided) keeps its place in the order.
    rev = user(session, world, "rev")
    decide(session, units[2], rev, "quote", [world["sources"]["Koh"]])
    assert neighbour(session, world["project"], units[2], QueueFilter()) == units[0]
    # A single rating sorts last; an unrated unit has no place: next is the first.
    assert neighbour(session, world["project"], units[4], QueueFilter()) is None
    assert neighbour(session, world["project"], units[6], QueueFilter()) == units[3]


def test_queue_annotators_and_open_counts(session: Session, world: dict) -> None:
    assert queue_annotators(session, world["project"]) == ["ann1", "ann2", "ann3"]
    assert open_counts(session, [world["project"], world["other_project"]]) == {world["project"]: 6}


# --- one unit ------------------------------------------------------------------------


def test_unit_for_review(session: Session, world: dict) -> None:
    units = world["units"]
    review = unit_for_review(session, units[2])
    assert review.text == '"We are ready," Koh said.'
    assert [c.text for c in review.before] == [
        "Officials met on Monday.",
        "The talks could resume in May.",
    ]
    assert [c.index for c in review.after] == [3, 4]
    answers = [(a.annotator, a.label) for a in review.answers]
    assert answers == [("ann1", "quote"), ("ann2", "quote")]
    names = world["source_names"]
    assert [s.name for s in review.answers[1].sources] == [names["Koh"], names["AP"]]
    assert review.answers[0].seconds_spent == 14.0 and review.answers[0].version == 1
    assert review.gold is None
    assert [name for name, _key, _text in review.labels][:2] == ["reported_fact", "quote"]
    # The title and the first sentence: context stops at the article's start.
    first = unit_for_review(session, units[0])
    assert [c.kind for c in first.before] == ["title"]


def test_unit_for_review_shows_gold(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit = world["units"][2]
    decide(session, unit, rev, "quote", [world["sources"]["Koh"]], "only Koh", "annotator_error")
    gold = unit_for_review(session, unit).gold
    assert gold is not None
    assert (gold.label, gold.provenance, gold.reviewer) == ("quote", "adjudicated", "rev")
    assert [s.name for s in gold.sources] == [world["source_names"]["Koh"]]
    assert (gold.rationale, gold.error_category) == ("only Koh", "annotator_error")


@pytest.mark.parametrize("unit", [0, -1, 2**40])
def test_unknown_units(session: Session, world: dict, unit: int) -> None:
    with pytest.raises(UnitNotFound):
        unit_for_review(session, unit)


def test_titles_are_not_reviewed(session: Session, world: dict) -> None:
    title = unit_for_review(session, world["units"][0]).before[0].id
    with pytest.raises(UnitNotFound):
        unit_for_review(session, title)
    with pytest.raises(UnitNotFound):
        decide(session, title, user(session, world, "rev"), "quote", [])


# --- decisions -----------------------------------------------------------------------


def test_decide_writes_gold_and_history(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit, koh, ap = world["units"][2], world["sources"]["Koh"], world["sources"]["AP"]
    result = decide(session, unit, rev, "quote", [koh, ap], "  relay via AP  ", "guideline_gap")
    assert result.outcome == "created"
    session.commit()
    assert gold_rows(session)[unit] == (
        world["labels"]["quote"],
        "adjudicated",
        rev.id,
        "relay via AP",
    )
    assert session.scalars(select(GoldSource.source_id).order_by(GoldSource.position)).all() == [
        koh,
        ap,
    ]
    names = world["source_names"]
    assert events(session, unit) == [
        ("decide", "quote", [names["Koh"], names["AP"]], "adjudicated", rev.id, "relay via AP")
    ]
    # The same decision again changes nothing and records nothing.
    again = decide(session, unit, rev, "quote", [koh, ap], "relay via AP", "guideline_gap")
    assert again.outcome == "unchanged"
    assert len(events(session, unit)) == 1
    # A different one replaces it; the history keeps both.
    boss = user(session, world, "boss")
    assert decide(session, unit, boss, "quote", [koh], "speaker only").outcome == "updated"
    session.commit()
    assert gold_rows(session)[unit][2] == boss.id
    assert [e[0] for e in events(session, unit)] == ["decide", "decide"]
    assert events(session, unit)[-1][2] == [names["Koh"]]


def test_unresolved_may_have_no_label_but_needs_a_rationale(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit = world["units"][3]
    with pytest.raises(InvalidDecision) as raised:
        decide(session, unit, rev, None, [], "", provenance="unresolved")
    assert raised.value.field == "rationale"
    decide(session, unit, rev, None, [], "guidelines say nothing", "guideline_gap", "unresolved")
    assert gold_rows(session)[unit] == (None, "unresolved", rev.id, "guidelines say nothing")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"label": None}, "label"),
        ({"label": "opinion"}, "label"),
        ({"label": 3}, "label"),
        ({"source_ids": [999_999]}, "sources"),
        ({"source_ids": "1,2"}, "sources"),
        ({"source_ids": [True]}, "sources"),
        ({"source_ids": [-1]}, "sources"),
        ({"source_ids": list(range(1, 30))}, "sources"),
        ({"rationale": "x" * 5001}, "rationale"),
        ({"rationale": "bell\x07"}, "rationale"),
        ({"rationale": "\ud800"}, "rationale"),
        ({"rationale": ["a"]}, "rationale"),
        ({"error_category": "typo"}, "error_category"),
        ({"error_category": 1}, "error_category"),
        ({"provenance": "unanimous"}, "provenance"),
        ({"provenance": "gold"}, "provenance"),
    ],
)
def test_decide_validation(session: Session, world: dict, kwargs: dict, field: str) -> None:
    values: dict[str, Any] = {
        "label": "quote",
        "source_ids": [],
        "rationale": "",
        "error_category": None,
        "provenance": "adjudicated",
    }
    values.update(kwargs)
    with pytest.raises(InvalidDecision) as raised:
        decide(session, world["units"][2], user(session, world, "rev"), **values)
    assert raised.value.field == field
    assert gold_rows(session) == {}
    assert session.scalar(select(func.count()).select_from(GoldEvent)) == 0


def test_duplicate_and_foreign_sources_are_refused(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    koh = world["sources"]["Koh"]
    with pytest.raises(InvalidDecision, match="twice"):
        decide(session, world["units"][2], rev, "quote", [koh, koh])
    # A source of another project is not in this project's registry.
    foreign = SourceIndex(session, world["other_project"]).ensure("Reuters", "news_agency")
    with pytest.raises(InvalidDecision, match="registry"):
        decide(session, world["units"][2], rev, "quote", [foreign])


def test_only_reviewers_decide(session: Session, world: dict) -> None:
    with pytest.raises(PermissionError):
        decide(session, world["units"][2], user(session, world, "ann1"), "quote", [])
    with pytest.raises(PermissionError):
        accept_unanimous(session, world["project"], user(session, world, "ann1"))


def test_resolve_source_names(session: Session, world: dict) -> None:
    ids = resolve_source_names(session, world["project"], ["koh yu-hwan", "Associated Press"])
    assert ids == [world["sources"]["Koh"], world["sources"]["AP"]]
    with pytest.raises(InvalidDecision, match="Nobody"):
        resolve_source_names(session, world["project"], ["AP", "Nobody"])
    with pytest.raises(InvalidDecision, match="already"):
        resolve_source_names(session, world["project"], ["AP", "Associated Press"])


def test_accept_answer_copies_it(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit = world["units"][2]
    ann2 = world["users"]["ann2"]
    accept_answer(session, unit, rev, ann2, 1, "relay matters", None)
    gold = unit_for_review(session, unit).gold
    assert gold is not None and gold.label == "quote"
    assert [s.id for s in gold.sources] == [world["sources"]["Koh"], world["sources"]["AP"]]
    assert gold.provenance == "adjudicated" and gold.rationale == "relay matters"


def test_accept_answer_refuses_a_changed_answer(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit, ann2 = world["units"][2], world["users"]["ann2"]
    upsert_annotation(session, unit, ann2, world["labels"]["speculation"], [], "", ann2, "update")
    with pytest.raises(AnswerChanged):
        accept_answer(session, unit, rev, ann2, 1)
    with pytest.raises(AnswerChanged):
        accept_answer(session, unit, rev, world["users"]["ann3"], 1)  # never answered
    assert gold_rows(session) == {}


def test_clear_removes_gold_and_keeps_history(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit = world["units"][1]
    decide(session, unit, rev, "reported_fact", [])
    assert clear(session, unit, rev, "wrong unit") is True
    assert clear(session, unit, rev) is False
    assert gold_rows(session) == {}
    assert [(e[0], e[1], e[3], e[5]) for e in events(session, unit)] == [
        ("decide", "reported_fact", "adjudicated", ""),
        ("clear", None, None, "wrong unit"),
    ]


# --- unanimous acceptance ------------------------------------------------------------


def test_unanimous_respects_the_threshold(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    units = world["units"]
    assert [c.unit_id for c in unanimous_candidates(session, world["project"])] == [
        units[0],
        units[5],
    ]
    set_unanimous_threshold(session, world["project"], 3)
    assert [c.unit_id for c in unanimous_candidates(session, world["project"])] == [units[0]]
    assert accept_unanimous(session, world["project"], rev) == 1
    session.commit()
    assert gold_rows(session) == {
        units[0]: (world["labels"]["quote"], "unanimous", rev.id, ""),
    }
    names = world["source_names"]
    assert events(session, units[0]) == [
        ("accept_unanimous", "quote", [names["Koh"], names["AP"]], "unanimous", rev.id, "")
    ]
    assert session.scalars(select(GoldSource.source_id).order_by(GoldSource.position)).all() == [
        world["sources"]["Koh"],
        world["sources"]["AP"],
    ]
    # Nothing left at this threshold; accepting again does nothing.
    assert accept_unanimous(session, world["project"], rev) == 0


def test_unanimous_never_overwrites_gold(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    units = world["units"]
    decide(session, units[0], rev, "reported_fact", [], "the quote is paraphrased")
    decide(session, units[5], rev, None, [], "unsure", provenance="unresolved")
    session.commit()
    assert unanimous_candidates(session, world["project"]) == []
    assert accept_unanimous(session, world["project"], rev) == 0
    assert gold_rows(session)[units[0]] == (
        world["labels"]["reported_fact"],
        "adjudicated",
        rev.id,
        "the quote is paraphrased",
    )


def test_unanimous_skips_units_decided_meanwhile(session: Session, world: dict) -> None:
    # Candidates were listed, then someone decided one of them: it is skipped.
    rev = user(session, world, "rev")
    candidates = unanimous_candidates(session, world["project"])
    decide(session, candidates[0].unit_id, rev, "reported_fact", [])
    created = insert_gold_many(
        session,
        candidates,
        provenance="unanimous",
        reviewer_id=rev.id,
        actor_id=rev.id,
        action="accept_unanimous",
    )
    assert created == [candidates[1].unit_id]
    assert gold_rows(session)[candidates[0].unit_id][1] == "adjudicated"


def test_unanimous_waits_for_flagged_annotations(session: Session, world: dict) -> None:
    units = world["units"]
    start = session.scalar(select(Unit.start).where(Unit.id == units[5]))
    assert start is not None
    # Split the sentence: its annotations stay on the first part, flagged, and the
    # unit needs a reviewer's look before anyone's agreement counts.
    split_unit(session, units[5], start + len("The agency "), None)
    assert [c.unit_id for c in unanimous_candidates(session, world["project"])] == [units[0]]


@pytest.mark.parametrize("value", [1, 0, 101, "3", 2.5, None, True])
def test_threshold_range(session: Session, world: dict, value: Any) -> None:
    with pytest.raises(InvalidDecision):
        set_unanimous_threshold(session, world["project"], value)
    project = session.get(Project, world["project"])
    assert project is not None and project.unanimous_min_annotators == 2


# --- every writer records gold history -----------------------------------------------


def test_upsert_gold_defaults_record_a_decision(session: Session, world: dict) -> None:
    rev = world["users"]["rev"]
    unit = world["units"][1]
    upsert_gold(session, unit, world["labels"]["quote"], [], "adjudicated", rev, "why")
    assert events(session, unit) == [("decide", "quote", [], "adjudicated", rev, "why")]


def test_upsert_gold_replaces_a_decision_made_meanwhile(session: Session, world: dict) -> None:
    # Two reviewers both saw no gold; the second insert finds the first one's row
    # (ON CONFLICT DO NOTHING) and replaces it instead of failing.
    rev, boss = world["users"]["rev"], world["users"]["boss"]
    unit, labels = world["units"][1], world["labels"]
    upsert_gold(session, unit, labels["quote"], [], "adjudicated", rev, "first", current=None)
    result = upsert_gold(
        session, unit, labels["speculation"], [], "adjudicated", boss, "second", current=None
    )
    assert result.outcome == "updated"
    assert gold_rows(session)[unit] == (labels["speculation"], "adjudicated", boss, "second")
    assert [e[1] for e in events(session, unit)] == ["quote", "speculation"]


def test_import_records_import_events(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    unit = world["units"][2]
    decide(session, unit, rev, "quote", [world["sources"]["Koh"]], "imported later")
    session.commit()
    out = io.StringIO()
    export_json(session, out)
    document = json.loads(out.getvalue())
    # Clear it, then restore it from the export: the import writes history too.
    clear(session, unit, rev)
    session.commit()
    import_export(session, document)
    session.commit()
    assert [e[0] for e in events(session, unit)] == ["decide", "clear", "import"]
    assert events(session, unit)[-1][4] is None  # no actor for an import
    assert gold_rows(session)[unit][2] == rev.id  # the reviewer is kept


def test_segmentation_and_source_merges_record_events(session: Session, world: dict) -> None:
    rev = user(session, world, "rev")
    units, sources = world["units"], world["sources"]
    decide(session, units[2], rev, "quote", [sources["AP"]])
    decide(session, units[3], rev, "speculation", [sources["AFP"]])
    ap, afp = session.get(Source, sources["AP"]), session.get(Source, sources["AFP"])
    assert ap is not None and afp is not None
    merge_sources(session, afp, ap, rev.id)
    merged = events(session, units[3])[-1]
    assert merged[:4] == ("merge_sources", "speculation", ["AP"], "adjudicated")
    cut = unit_for_review(session, units[2]).text.index("Koh")
    start = session.scalar(select(Unit.start).where(Unit.id == units[2]))
    assert start is not None
    split_unit(session, units[2], start + cut, rev.id)
    last = events(session, units[2])[-1]
    assert last[0] == "segmentation" and last[3] == "unresolved" and last[4] == rev.id
