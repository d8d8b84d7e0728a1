"""Curating the registry: names and aliases stay unique, merges carry everything over."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.exchange.apply import upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.models import (
    Annotation,
    AnnotationEvent,
    AnnotationSource,
    GoldSource,
    Mention,
    Source,
    SourceAlias,
    Unit,
)
from annotator.projects import label_ids
from annotator.registry import SourceIndex
from annotator.source_edits import (
    SourceEditError,
    add_alias,
    merge_sources,
    remove_alias,
    rename_source,
    update_source,
)
from annotator.source_usage import like_pattern, registry_page, source_citations, usage_counts
from tests.helpers import add_article, add_project, add_user

TEXT = (
    "Talks resume\n\n"
    "Koh Yu-hwan said the talks would resume, AP reported. "
    "KCNA, the Korean Central News Agency, denied it. Nothing else happened."
)


@pytest.fixture
def world(session: Session) -> dict:
    project = add_project(session)
    article = add_article(session, project, TEXT)
    registry = SourceIndex(session, project.id)
    ids = {
        name: registry.ensure(name, kind)
        for name, kind in [
            ("NW", "news_agency"),
            ("Nordwire", "news_agency"),
            ("Port Office", "organization"),
            ("Ola Berg", "person"),
        ]
    }
    session.flush()
    sources = {name: session.get(Source, sid) for name, sid in ids.items()}
    ann = add_user(session, "ann1", project=project)
    ann2 = add_user(session, "ann2", project=project)
    boss = add_user(session, "boss", "reviewer", project=project)
    session.commit()
    return {
        "project": project,
        "article": article,
        "sources": sources,
        "ann": ann,
        "ann2": ann2,
        "boss": boss,
    }


def aliases(session: Session, source_id: int) -> list[str]:
    return sorted(
        session.scalars(select(SourceAlias.alias).where(SourceAlias.source_id == source_id))
    )


def test_rename_keeps_the_old_name_as_an_alias(session: Session, world: dict) -> None:
    nw = world["sources"]["NW"]
    rename_source(session, nw, "  The  Nordic Wire ")
    assert nw.name == "The Nordic Wire"
    assert nw.name_key == "the nordic wire"
    assert aliases(session, nw.id) == ["NW"]


def test_rename_to_one_of_its_own_aliases_swaps_them(session: Session, world: dict) -> None:
    office = world["sources"]["Port Office"]
    add_alias(session, office, "Harbour Authority")
    rename_source(session, office, "harbour authority")
    assert office.name == "harbour authority"
    assert aliases(session, office.id) == ["Port Office"]


def test_only_the_spelling_changes_when_the_key_is_equal(session: Session, world: dict) -> None:
    ola = world["sources"]["Ola Berg"]
    rename_source(session, ola, "OLA BERG")
    assert ola.name == "OLA BERG" and aliases(session, ola.id) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nordwire", "already names another source: “Nordwire”"),
        ("Ｐｏｒｔ Ｏｆｆｉｃｅ", "already names another source: “Port Office”"),  # NFKC-equal
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("A\u202eB", "invisible"),
        ("a\r\nSet-Cookie: x=1", "control characters"),
        ("x" * 201, "at most 200"),
    ],
)
def test_rename_refuses_taken_and_bad_names(
    session: Session, world: dict, name: str, message: str
) -> None:
    nw = world["sources"]["NW"]
    with pytest.raises(SourceEditError, match=message):
        rename_source(session, nw, name)
    session.rollback()
    assert session.get(Source, nw.id).name == "NW"  # type: ignore[union-attr]


def test_a_name_used_as_another_sources_alias_is_refused(session: Session, world: dict) -> None:
    sources = world["sources"]
    add_alias(session, sources["Port Office"], "Harbour Authority")
    with pytest.raises(SourceEditError, match="already names another source: “Port Office”") as e:
        rename_source(session, sources["NW"], "harbour authority")
    assert e.value.code == "name_taken"
    with pytest.raises(SourceEditError, match="already names another source"):
        add_alias(session, sources["NW"], "port office")
    with pytest.raises(SourceEditError, match="already this source's name"):
        add_alias(session, sources["NW"], "nw")
    with pytest.raises(SourceEditError, match="already an alias of this source"):
        add_alias(session, sources["Port Office"], "HARBOUR AUTHORITY")


def test_update_and_remove_alias(session: Session, world: dict) -> None:
    ola = world["sources"]["Ola Berg"]
    update_source(session, ola, kind="government", description="  Envoy  ")
    assert (ola.kind, ola.description) == ("government", "Envoy")
    with pytest.raises(SourceEditError, match="kind must be one of"):
        update_source(session, ola, kind="<script>")
    row = add_alias(session, ola, "Berg")
    other = add_alias(session, world["sources"]["NW"], "N.W.")
    with pytest.raises(LookupError):
        remove_alias(session, ola, other.id)
    remove_alias(session, ola, row.id)
    assert aliases(session, ola.id) == []
    assert aliases(session, world["sources"]["NW"].id) == ["N.W."]


def _annotate(session: Session, world: dict, unit_id: int, user, names: list[str]) -> int:
    labels = label_ids(session, world["project"].id)
    ids = [world["sources"][n].id for n in names]
    return upsert_annotation(
        session, unit_id, user.id, labels["quote"], ids, "n", user.id, "create"
    ).id


def test_merge_rewrites_everything_and_deletes_the_source(session: Session, world: dict) -> None:
    sources, article = world["sources"], world["article"]
    ap, press, koh = sources["NW"], sources["Nordwire"], sources["Ola Berg"]
    add_alias(session, ap, "N.W.")
    unit_ids = list(
        session.scalars(
            select(Unit.id)
            .where(Unit.article_id == article.id, Unit.kind == "sentence")
            .order_by(Unit.position)
        )
    )
    # Both sources in one list: the target keeps the first position, no duplicate.
    both = _annotate(session, world, unit_ids[0], world["ann"], ["Ola Berg", "NW", "Nordwire"])
    target_first = _annotate(session, world, unit_ids[0], world["ann2"], ["Nordwire", "NW"])
    only_ap = _annotate(session, world, unit_ids[1], world["ann"], ["NW", "Ola Berg"])
    untouched = _annotate(session, world, unit_ids[2], world["ann"], ["Port Office"])
    session.execute(
        Annotation.__table__.update()
        .where(Annotation.id == only_ap)
        .values(flagged=True, previous_text="old")
    )
    labels = label_ids(session, world["project"].id)
    upsert_gold(session, unit_ids[0], labels["quote"], [ap.id, press.id], "adjudicated", None, "")
    session.add(Mention(article_id=article.id, source_id=ap.id, start=0, end=2))
    session.add(Mention(article_id=article.id, source_id=press.id, start=0, end=2))
    session.add(Mention(article_id=article.id, source_id=ap.id, start=5, end=7))
    session.execute(
        Unit.__table__.update()
        .where(Unit.id == unit_ids[1])
        .values(suggested_sources=[koh.id, ap.id, press.id])
    )
    session.commit()
    ap_id = ap.id

    result = merge_sources(session, ap, press, world["boss"].id)
    session.commit()
    session.expire_all()

    assert (result.annotations, result.gold, result.suggestions) == (3, 1, 1)
    assert session.get(Source, ap_id) is None

    def listed(annotation_id: int) -> list[int]:
        return list(
            session.scalars(
                select(AnnotationSource.source_id)
                .where(AnnotationSource.annotation_id == annotation_id)
                .order_by(AnnotationSource.position)
            )
        )

    assert listed(both) == [koh.id, press.id]
    assert listed(target_first) == [press.id]
    assert listed(only_ap) == [press.id, koh.id]
    versions = {a.id: a for a in session.scalars(select(Annotation))}
    assert (versions[both].version, versions[only_ap].version, versions[untouched].version) == (
        2,
        2,
        1,
    )
    # A registry merge is not the annotator looking again: the flag stays.
    assert versions[only_ap].flagged and versions[only_ap].previous_text == "old"
    events = session.scalars(
        select(AnnotationEvent).where(AnnotationEvent.action == "merge_sources")
    ).all()
    assert sorted((e.annotation_id, e.version, tuple(e.sources)) for e in events) == sorted(
        [
            (both, 2, ("Ola Berg", "Nordwire")),
            (target_first, 2, ("Nordwire",)),
            (only_ap, 2, ("Nordwire", "Ola Berg")),
        ]
    )
    assert all(e.actor_id == world["boss"].id for e in events)
    gold_list = session.scalars(select(GoldSource.source_id).order_by(GoldSource.position)).all()
    assert gold_list == [press.id]
    spans = sorted(session.execute(select(Mention.source_id, Mention.start)).all())
    assert (press.id, 0) in spans and (press.id, 5) in spans
    assert sum(1 for s in spans if s == (press.id, 0)) == 1
    suggested = session.scalar(select(Unit.suggested_sources).where(Unit.id == unit_ids[1]))
    assert suggested == [koh.id, press.id]
    assert aliases(session, press.id) == ["N.W.", "NW"]
    assert SourceIndex(session, world["project"].id).resolve("nw") == press.id


def test_merge_refuses_itself_and_other_projects(session: Session, world: dict) -> None:
    ap = world["sources"]["NW"]
    with pytest.raises(SourceEditError, match="into itself"):
        merge_sources(session, ap, ap, None)
    other = add_project(session, "elsewhere")
    foreign = session.get(Source, SourceIndex(session, other.id).ensure("Reuters", "news_agency"))
    assert foreign is not None
    with pytest.raises(SourceEditError, match="same project"):
        merge_sources(session, ap, foreign, None)
    assert session.get(Source, ap.id) is not None


def test_registry_page_filters_with_escaped_wildcards_and_counts(
    session: Session, world: dict
) -> None:
    project = world["project"]
    registry = SourceIndex(session, project.id)
    registry.ensure("100% Radio", "media_outlet")
    registry.ensure("Under_score", "media_outlet")
    registry.ensure("Undercover", "media_outlet", aliases=["Cover 100"])
    session.flush()
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"

    def names(query: str) -> list[str]:
        return [r.name for r in registry_page(session, project.id, query=query)[0]]

    assert names("%") == ["100% Radio"]
    assert names("_") == ["Under_score"]
    assert names("UNDER") == ["Under_score", "Undercover"]
    assert names("cover 1") == ["Undercover"]  # matched through the alias
    assert names("' OR 1=1 --") == []
    everything = session.scalars(
        select(Source.name).where(Source.project_id == project.id).order_by(Source.name_key)
    ).all()
    rows, total = registry_page(session, project.id, per_page=2, page=2)
    assert total == len(everything) >= 7
    assert [r.name for r in rows] == list(everything[2:4])
    by_annotations = registry_page(session, project.id, sort="annotations")[0]
    assert all(r.annotations == 0 for r in by_annotations)


def test_citations_list_the_sentences_that_use_a_source(session: Session, world: dict) -> None:
    sources, article = world["sources"], world["article"]
    koh = sources["Ola Berg"]
    unit_ids = list(
        session.scalars(
            select(Unit.id)
            .where(Unit.article_id == article.id, Unit.kind == "sentence")
            .order_by(Unit.position)
        )
    )
    _annotate(session, world, unit_ids[2], world["ann"], ["Ola Berg"])
    session.add(Mention(article_id=article.id, source_id=koh.id, start=14, end=25))
    session.flush()
    articles, total = source_citations(session, koh)
    assert total >= 2
    [cited] = articles
    texts = {u.text: u for u in cited.units}
    assert texts["Nothing else happened."].annotations == 1
    first = texts["Koh Yu-hwan said the talks would resume, AP reported."]
    assert first.mentions >= 1
    assert usage_counts(session, koh.id)[1] == 1
    assert source_citations(session, world["sources"]["Nordwire"]) == ([], 0)
