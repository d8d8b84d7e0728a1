"""Splitting and merging sentences: invariants, kept annotations, gold, history, suggestions."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import Annotation, AnnotationEvent, Article, Gold, Unit, User
from annotator.projects import label_ids
from annotator.segmentation import (
    SegmentationConflict,
    SegmentationError,
    article_units,
    merge_with_next,
    split_unit,
)
from tests.helpers import add_article, add_project, add_user

TEXT = (
    "Harbour bridge closes\n\n"
    "The bridge will close on Monday, the council said. It reopens in May.\n\n"
    "Traffic\n\n"
    "Drivers 😀 should use the ferry. Café owners fear losses; “We will survive,” one said. "
    "Analysts believe prices could rise."
)


def units(session: Session, article_id: int) -> list[Unit]:
    return list(
        session.scalars(select(Unit).where(Unit.article_id == article_id).order_by(Unit.position))
    )


def texts(session: Session, article: Article) -> list[tuple[str, str]]:
    return [(u.kind, u.text) for u in article_units(session, article.id)]


def sentence(session: Session, article: Article, starting: str) -> Unit:
    for unit in article_units(session, article.id):
        if unit.text.startswith(starting):
            found = session.get(Unit, unit.id)
            assert found is not None
            return found
    raise AssertionError(starting)


def annotate(
    session: Session, unit_id: int, user: User, label: str, note: str = "", sources=()
) -> int:
    project_id = session.scalar(
        select(Article.project_id)
        .join(Unit, Unit.article_id == Article.id)
        .where(Unit.id == unit_id)
    )
    assert project_id is not None
    labels = label_ids(session, project_id)
    return upsert_annotation(
        session, unit_id, user.id, labels[label], list(sources), note, user.id, "create"
    ).id


@pytest.fixture
def world(session: Session) -> dict:
    project = add_project(session)
    article = add_article(session, project, TEXT)
    ann1 = add_user(session, "ann1", project=project)
    ann2 = add_user(session, "ann2", project=project)
    boss = add_user(session, "boss", "reviewer", project=project)
    session.commit()
    return {"project": project, "article": article, "ann1": ann1, "ann2": ann2, "boss": boss}


def check_invariants(session: Session, article_id: int, covered: set[int]) -> None:
    """Units tile the text in order, numbered 0..n-1, no whitespace at their edges."""
    text = session.scalar(select(Article.text).where(Article.id == article_id))
    assert text is not None
    rows = units(session, article_id)
    assert [u.position for u in rows] == list(range(len(rows)))
    sentences = [u for u in rows if u.kind == "sentence"]
    assert [u.index for u in sentences] == list(range(len(sentences)))
    assert all(u.index is None for u in rows if u.kind != "sentence")
    for before, after in zip(rows, rows[1:], strict=False):
        assert before.end <= after.start
    for unit in rows:
        piece = text[unit.start : unit.end]
        assert piece and piece == piece.strip()
    now = {i for u in rows for i in range(u.start, u.end) if not text[i].isspace()}
    assert now == covered


def covered_now(session: Session, article_id: int) -> set[int]:
    text = session.scalar(select(Article.text).where(Article.id == article_id))
    assert text is not None
    return {
        i
        for u in units(session, article_id)
        for i in range(u.start, u.end)
        if not text[i].isspace()
    }


def test_split_at_a_space_gives_two_sentences_and_renumbers(session: Session, world: dict) -> None:
    article = world["article"]
    unit = sentence(session, article, "The bridge")
    at = unit.start + len("The bridge will close on Monday,")  # the space before "the council"
    result = split_unit(session, unit.id, at, world["boss"].id)
    assert result.changed_unit_ids[0] == unit.id
    assert texts(session, article)[:5] == [
        ("title", "Harbour bridge closes"),
        ("sentence", "The bridge will close on Monday,"),
        ("sentence", "the council said."),
        ("sentence", "It reopens in May."),
        ("heading", "Traffic"),
    ]
    rows = article_units(session, article.id)
    assert [u.index for u in rows][:4] == [None, 0, 1, 2]
    assert rows[1].id == unit.id  # the first part keeps the unit (and its annotations)
    assert result.units == rows


def test_split_point_moves_out_of_whitespace(session: Session, world: dict) -> None:
    article = world["article"]
    unit = sentence(session, article, "The bridge")
    # Inside the space itself: the space goes between the two parts.
    at = unit.start + len("The bridge will close on Monday, ")
    split_unit(session, unit.id, at, None)
    assert [t for _, t in texts(session, article)][1:3] == [
        "The bridge will close on Monday,",
        "the council said.",
    ]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda u: u.start, "strictly inside"),
        (lambda u: u.end, "strictly inside"),
        (lambda u: u.end + 5, "strictly inside"),
        (lambda u: -1, "strictly inside"),
        (lambda u: 2**64, "strictly inside"),
    ],
)
def test_split_outside_the_sentence_is_refused(
    session: Session, world: dict, where, message: str
) -> None:
    unit = sentence(session, world["article"], "The bridge")
    before = texts(session, world["article"])
    with pytest.raises(SegmentationError, match=message):
        split_unit(session, unit.id, where(unit), None)
    assert texts(session, world["article"]) == before


def test_split_refuses_non_sentences_and_cut_characters(session: Session, world: dict) -> None:
    article = world["article"]
    title = article_units(session, article.id)[0]
    with pytest.raises(SegmentationError, match="only sentences"):
        split_unit(session, title.id, title.start + 3, None)
    drivers = sentence(session, article, "Drivers")
    emoji = article.text.index("😀")
    # Python counts the emoji as one code point, so both sides of it are fine...
    split_unit(session, drivers.id, emoji, None)
    merge_with_next(session, drivers.id, None)
    # No precomposed "x with acute" exists, so the accent stays a separate code point.
    decomposed_text = "Tax\u0301i is open. The 👩\u200d🔬 is late."
    decomposed = add_article(session, world["project"], decomposed_text)
    first = article_units(session, decomposed.id)[0]
    # ...but a combining accent belongs to the letter before it.
    with pytest.raises(SegmentationError, match="character in two"):
        split_unit(session, first.id, decomposed_text.index("\u0301"), None)
    second = article_units(session, decomposed.id)[1]
    with pytest.raises(SegmentationError, match="character in two"):
        split_unit(session, second.id, decomposed_text.index("\u200d") + 1, None)


def test_merge_joins_with_the_next_sentence_and_not_across_a_heading(
    session: Session, world: dict
) -> None:
    article = world["article"]
    first = sentence(session, article, "The bridge")
    merge_with_next(session, first.id, None)
    assert texts(session, article)[1] == (
        "sentence",
        "The bridge will close on Monday, the council said. It reopens in May.",
    )
    assert [u.index for u in article_units(session, article.id)][:3] == [None, 0, None]
    with pytest.raises(SegmentationError, match="next unit is a heading"):
        merge_with_next(session, first.id, None)
    last = article_units(session, article.id)[-1]
    with pytest.raises(SegmentationError, match="last unit"):
        merge_with_next(session, last.id, None)


def test_a_changed_unit_is_refused_when_the_caller_saw_another_version(
    session: Session, world: dict
) -> None:
    unit = sentence(session, world["article"], "The bridge")
    seen = (unit.start, unit.end)
    split_unit(session, unit.id, unit.start + 10, None, expected=seen)
    with pytest.raises(SegmentationConflict):
        merge_with_next(session, unit.id, None, expected=seen)


def test_split_keeps_annotations_flagged_on_the_first_part(session: Session, world: dict) -> None:
    article, ann1, boss = world["article"], world["ann1"], world["boss"]
    unit = sentence(session, article, "The bridge")
    old_text = article.text[unit.start : unit.end]
    ann_id = annotate(session, unit.id, ann1, "reported_fact", "checked")
    other = sentence(session, article, "It reopens")
    untouched = annotate(session, other.id, ann1, "speculation")
    labels = label_ids(session, world["project"].id)
    upsert_gold(session, unit.id, labels["quote"], [], "adjudicated", boss.id, "why")
    session.commit()

    result = split_unit(session, unit.id, unit.start + 33, boss.id)
    session.commit()
    assert result.flagged_annotations == 1 and result.unresolved_gold == 1
    kept = session.get(Annotation, ann_id)
    assert kept is not None
    session.refresh(kept)
    assert (kept.unit_id, kept.flagged, kept.previous_text, kept.version, kept.note) == (
        unit.id,
        True,
        old_text,
        2,
        "checked",
    )
    event = session.scalars(
        select(AnnotationEvent)
        .where(AnnotationEvent.annotation_id == ann_id)
        .order_by(AnnotationEvent.id.desc())
    ).first()
    assert event is not None
    assert (event.action, event.version, event.label, event.actor_id) == (
        "segmentation",
        2,
        "reported_fact",
        boss.id,
    )
    same = session.get(Annotation, untouched)
    assert same is not None and not same.flagged and same.version == 1
    gold = session.scalar(select(Gold).where(Gold.unit_id == unit.id))
    assert gold is not None and gold.provenance == "unresolved"


def test_merge_keeps_every_annotation_and_records_the_superseded_one(
    session: Session, world: dict
) -> None:
    article, ann1, ann2, boss = world["article"], world["ann1"], world["ann2"], world["boss"]
    first = sentence(session, article, "The bridge")
    second = sentence(session, article, "It reopens")
    first_text = article.text[first.start : first.end]
    second_text = article.text[second.start : second.end]
    kept_id = annotate(session, first.id, ann1, "reported_fact")
    dropped_id = annotate(session, second.id, ann1, "speculation", "my second answer")
    moved_id = annotate(session, second.id, ann2, "quote")
    labels = label_ids(session, world["project"].id)
    upsert_gold(session, second.id, labels["quote"], [], "unanimous", None, "")
    session.commit()
    second_id = second.id

    result = merge_with_next(session, first.id, boss.id)
    session.commit()
    session.expire_all()
    assert (result.flagged_annotations, result.superseded_annotations) == (2, 1)
    assert session.get(Unit, second_id) is None
    rows = {
        a.annotator_id: a
        for a in session.scalars(select(Annotation).where(Annotation.unit_id == first.id))
    }
    assert set(rows) == {ann1.id, ann2.id}
    assert rows[ann1.id].id == kept_id and rows[ann1.id].previous_text == first_text
    assert rows[ann2.id].id == moved_id and rows[ann2.id].previous_text == second_text
    assert all(a.flagged and a.version == 2 for a in rows.values())
    superseded = session.scalar(
        select(AnnotationEvent).where(AnnotationEvent.action == "superseded")
    )
    assert superseded is not None
    assert (superseded.annotation_id, superseded.unit_id, superseded.label, superseded.note) == (
        dropped_id,
        first.id,
        "speculation",
        "my second answer",
    )
    # The dropped annotation's earlier history survived the deletion of its unit.
    assert session.scalar(
        select(func.count()).where(
            AnnotationEvent.annotation_id == dropped_id, AnnotationEvent.action == "create"
        )
    )
    gold = session.scalar(select(Gold).where(Gold.unit_id == first.id))
    assert gold is not None and gold.provenance == "unresolved"


def test_suggestions_of_changed_units_are_recomputed(session: Session, world: dict) -> None:
    article = world["article"]
    cafe = sentence(session, article, "Café owners")
    cut = cafe.start + len("Café owners fear losses;")
    split_unit(session, cafe.id, cut, None)
    session.commit()
    session.expire_all()
    quote_part = sentence(session, article, "“We will survive")
    assert quote_part.suggested_label == "quote"
    assert sentence(session, article, "Café owners").suggested_label == "reported_fact"


OPS = st.lists(
    st.tuples(st.sampled_from(["split", "merge"]), st.integers(0, 30), st.integers(0, 200)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_random_edits_keep_the_invariants_and_every_annotation(
    session: Session, world: dict, ops: list[tuple[str, int, int]]
) -> None:
    project, ann1, ann2 = world["project"], world["ann1"], world["ann2"]
    article = add_article(session, project, TEXT + f"\n\nRun {uuid.uuid4().hex}. The end.")
    covered = covered_now(session, article.id)
    made_on: dict[int, str] = {}
    for n, unit in enumerate(article_units(session, article.id)):
        if unit.kind == "sentence":
            for user in (ann1, ann2)[: 1 + n % 2]:
                made_on[annotate(session, unit.id, user, "quote")] = unit.text
    superseded = 0
    for op, pick, offset in ops:
        sentences = [u for u in article_units(session, article.id) if u.kind == "sentence"]
        unit = sentences[pick % len(sentences)]
        try:
            if op == "split":
                result = split_unit(session, unit.id, unit.start + offset % len(unit.text), None)
            else:
                result = merge_with_next(session, unit.id, None)
        except SegmentationError:
            continue
        superseded += result.superseded_annotations
        check_invariants(session, article.id, covered)
    session.flush()
    session.expire_all()
    unit_ids = {u.id for u in units(session, article.id)}
    texts_by_unit = {u.id: u.text for u in article_units(session, article.id)}
    stored = list(session.scalars(select(Annotation).where(Annotation.unit_id.in_(unit_ids))))
    assert len(stored) + superseded == len(made_on)
    for annotation in stored:
        if annotation.flagged:
            assert annotation.previous_text == made_on[annotation.id]
        else:
            assert texts_by_unit[annotation.unit_id] == made_on[annotation.id]
    session.rollback()
