"""Agreement loaded from the database: published values survive the round trip, filters
select what they say, ordered sources, gold and suggestions arrive intact (both engines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import Label, Source, Unit
from annotator.project_agreement import agreement_by, load_ratings, project_agreement
from tests.helpers import add_article, add_project, add_user

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "agreement_examples.json"


def _examples() -> dict:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is absent (../shared is not checked out here)")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def _article_with_units(session: Session, project, count: int, title: str = "Report") -> list[int]:
    text = (
        title
        + "\n\n"
        + " ".join(f"Officials counted {i + 1} boats in the bay." for i in range(count))
    )
    article = add_article(session, project, text)
    units = (
        session.query(Unit)
        .filter_by(article_id=article.id, kind="sentence")
        .order_by(Unit.position)
    )
    ids = [u.id for u in units]
    assert len(ids) == count
    return ids


def _labels(session: Session, project, names: list[str]) -> dict[str, int]:
    """The project's labels by name, adding any that the default scheme lacks."""
    existing = {
        label.name: label.id for label in session.query(Label).filter_by(project_id=project.id)
    }
    for i, name in enumerate(names):
        if name not in existing:
            label = Label(
                project_id=project.id,
                name=name,
                key=str(5 + i)[-1],
                description="",
                position=10 + i,
            )
            session.add(label)
            session.flush()
            existing[name] = label.id
    return existing


def test_krippendorff_2011_section_c_through_the_database(session: Session) -> None:
    example = _examples()["krippendorff_2011_C_nominal_missing"]
    project = add_project(session, "reliability")
    value_names = {1: "reported_fact", 2: "quote", 3: "speculation", 4: "unclear", 5: "other"}
    labels = _labels(session, project, list(value_names.values()))
    units = _article_with_units(session, project, len(example["data"][0]))
    for coder, row in zip(example["coders"], example["data"], strict=True):
        user = add_user(session, f"coder{coder}", project=project)
        for unit_id, value in zip(units, row, strict=True):
            if value is not None:
                upsert_annotation(
                    session, unit_id, user.id, labels[value_names[value]], [], "", user.id, "test"
                )
    session.commit()
    summary = project_agreement(session, project.id, bootstrap=200)
    alpha = summary["labels"]["krippendorff_alpha"]
    assert round(alpha["value"], 3) == example["expected_published"]["nominal"]
    # Unit 12 has a single value and is not pairable.
    assert summary["n_units"] == 12 and summary["n_pairable_units"] == 11
    low, high = alpha["ci95"]
    assert low < alpha["value"] < high


def test_fleiss_wikipedia_example_through_the_database(session: Session) -> None:
    example = _examples()["fleiss_wikipedia_10x14x5"]
    table = example["table_subjects_x_categories"]
    project = add_project(session, "fleiss")
    names = ["reported_fact", "quote", "speculation", "unclear", "other"]
    labels = _labels(session, project, names)
    units = _article_with_units(session, project, len(table))
    raters = [add_user(session, f"rater{r:02d}", project=project) for r in range(14)]
    for unit_id, counts in zip(units, table, strict=True):
        given = [name for name, n in zip(names, counts, strict=True) for _ in range(n)]
        for rater, name in zip(raters, given, strict=True):
            upsert_annotation(session, unit_id, rater.id, labels[name], [], "", rater.id, "test")
    session.commit()
    fleiss = project_agreement(session, project.id, bootstrap=0)["labels"]["fleiss_kappa"]
    assert round(fleiss["value"], 3) == example["expected_published"]["kappa"]


@pytest.fixture
def small_project(session: Session) -> dict:
    """Two articles, three annotators, ordered sources, one gold answer, suggestions."""
    project = add_project(session, "small")
    labels = _labels(session, project, [])
    first = _article_with_units(session, project, 3, "First")
    second = _article_with_units(session, project, 2, "Second")
    kcna = Source(project_id=project.id, name="KCNA", name_key="kcna", kind="news_agency")
    ap = Source(project_id=project.id, name="AP", name_key="ap", kind="news_agency")
    session.add_all([kcna, ap])
    session.flush()
    ann = {n: add_user(session, n, project=project) for n in ("ann1", "ann2", "ann3")}
    answers = {
        "ann1": ["quote", "quote", "reported_fact", "speculation", "quote"],
        "ann2": ["quote", "reported_fact", "reported_fact", "speculation", None],
        "ann3": [None, "quote", "reported_fact", "unclear", "quote"],
    }
    sources = {"ann1": [kcna.id, ap.id], "ann2": [ap.id, kcna.id], "ann3": [kcna.id, ap.id]}
    for name, row in answers.items():
        for unit_id, label in zip(first + second, row, strict=True):
            if label is not None:
                source_ids = sources[name] if unit_id == first[0] else []
                upsert_annotation(
                    session,
                    unit_id,
                    ann[name].id,
                    labels[label],
                    source_ids,
                    "",
                    ann[name].id,
                    "test",
                )
    upsert_gold(session, first[1], labels["quote"], [ap.id], "adjudicated", None, "why")
    session.query(Unit).filter(Unit.id == second[0]).update(
        {"suggested_label": "speculation", "suggested_sources": [kcna.id]}
    )
    session.commit()
    return {"project": project, "first": first, "second": second}


def test_ordered_sources_gold_and_suggestions_are_loaded(
    session: Session, small_project: dict
) -> None:
    data = load_ratings(session, small_project["project"].id)
    assert len(data) == 13
    assert data.annotators == ("ann1", "ann2", "ann3")
    unit = small_project["first"][0]
    lists = {
        data.annotators[a]: data.source_lists[s]
        for u, a, s in zip(data.unit, data.annotator, data.source_list, strict=True)
        if u == unit
    }
    assert lists == {"ann1": ("KCNA", "AP"), "ann2": ("AP", "KCNA")}
    assert data.gold == {small_project["first"][1]: ("quote", ("AP",))}
    # The importer's own suggestions stay; the one set by hand arrives with its source.
    assert data.suggestions[small_project["second"][0]] == ("speculation", ("KCNA",))
    assert set(data.suggestions) <= set(data.unit.tolist())


def test_filters_select_articles_annotators_and_labels(
    session: Session, small_project: dict
) -> None:
    project_id = small_project["project"].id
    second = small_project["second"]
    by_article = project_agreement(session, project_id, article_id=None, bootstrap=0)
    assert by_article["n_units"] == 5
    only_second = project_agreement(
        session,
        project_id,
        bootstrap=0,
        data=load_ratings(session, project_id, article_id=_article_of(session, second[0])),
    )
    assert only_second["n_units"] == 2
    # ann2 skipped the last unit: their breakdown covers the four units they labelled,
    # with everyone's answers on them.
    ann2 = project_agreement(session, project_id, annotator="ann2", bootstrap=0)
    assert ann2["n_units"] == 4 and ann2["n_ratings"] == 11
    unclear = project_agreement(session, project_id, label="unclear", bootstrap=0)
    assert unclear["n_units"] == 1 and unclear["n_ratings"] == 3
    assert project_agreement(session, project_id, annotator="nobody", bootstrap=0)["n_units"] == 0


def _article_of(session: Session, unit_id: int) -> int:
    return session.get(Unit, unit_id).article_id


def test_breakdown_tables(session: Session, small_project: dict) -> None:
    project_id = small_project["project"].id
    articles = agreement_by(session, project_id, "article")
    assert [row["title"] for row in articles] == ["First", "Second"]
    assert [row["n_units"] for row in articles] == [3, 2]
    annotators = agreement_by(session, project_id, "annotator")
    assert [row["annotator"] for row in annotators] == ["ann1", "ann2", "ann3"]
    labels = agreement_by(session, project_id, "label")
    assert {row["label"]: row["n_units"] for row in labels} == {
        "reported_fact": 2,
        "quote": 3,
        "speculation": 1,
        "unclear": 1,
    }
    for row in articles + annotators + labels:
        assert (row["krippendorff_alpha"] is None) == (row["reason"] is not None)


def test_an_empty_project_has_undefined_statistics_with_reasons(session: Session) -> None:
    project = add_project(session, "empty")
    summary = project_agreement(session, project.id)
    assert summary["n_units"] == 0
    alpha = summary["labels"]["krippendorff_alpha"]
    assert alpha["value"] is None and alpha["reason"]
    assert summary["labels"]["fleiss_kappa"]["value"] is None
    assert agreement_by(session, project.id, "annotator") == []
