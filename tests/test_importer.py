"""Storing parsed articles: units, registry merge, mentions, suggestions, duplicates."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.importer import import_paths, store_articles
from annotator.ingest import parse_text
from annotator.models import Article, Mention, Source, SourceAlias, Unit
from annotator.projects import get_or_create_project
from tests.conftest import seed_path


def _project(session: Session, name: str = "p") -> int:
    project, _ = get_or_create_project(session, name)
    session.commit()
    return project.id


def test_seed_article_is_stored_with_its_sources(session: Session) -> None:
    project, _ = get_or_create_project(session, "dw")
    session.commit()
    results, failures = import_paths(session, project, [seed_path()])
    assert failures == []
    assert results[0].sentences == 12

    sources = {s.name: s for s in session.scalars(select(Source))}
    assert set(sources) == {"KCNA", "AP", "AFP", "Koh Yu-hwan"}
    assert sources["KCNA"].kind == "news_agency"
    assert sources["Koh Yu-hwan"].kind == "person"
    kcna_aliases = session.scalars(
        select(SourceAlias.alias).where(SourceAlias.source_id == sources["KCNA"].id)
    ).all()
    assert "Korean Central News Agency" in kcna_aliases

    article = session.scalars(select(Article)).one()
    assert article.credits == ["AFP", "AP"]
    assert article.published == "2014-11-14"
    units = session.scalars(select(Unit).order_by(Unit.position)).all()
    assert [u.kind for u in units][:2] == ["title", "sentence"]
    assert [u.index for u in units if u.kind == "sentence"] == list(range(12))
    assert all(u.index is None for u in units if u.kind != "sentence")
    for unit in units:
        text = article.text[unit.start : unit.end]
        assert text == text.strip() and text

    quote = next(u for u in units if article.text[u.start :].startswith('"Russia could'))
    assert quote.suggested_label == "quote"
    assert quote.suggested_sources == [sources["Koh Yu-hwan"].id, sources["AP"].id]
    assert any(cue["kind"] == "quotation" for cue in quote.suggestion_cues)
    for cue in quote.suggestion_cues:
        assert article.text[cue["start"] : cue["end"]] == cue["text"]

    mentions = session.execute(select(Mention.source_id, Mention.start, Mention.end)).all()
    kcna_mentions = [m for m in mentions if m.source_id == sources["KCNA"].id]
    assert len(kcna_mentions) == 3  # "Korean Central News Agency", "(KCNA)", "KCNA disclosed"
    for _, start, end in mentions:
        assert article.text[start:end] in {
            "KCNA",
            "Korean Central News Agency",
            "AP",
            "Koh Yu-hwan",
            "AFP",
        }


def test_people_the_article_is_about_are_not_sources(session: Session) -> None:
    project_id = _project(session)
    store_articles(session, project_id, [(parse_text(seed_path().read_text()), None)])
    names = set(session.scalars(select(Source.name)))
    assert not names & {"Kim Jong Un", "Choe Ryong Hae", "Dongguk University"}


def test_aliases_merge_across_articles(session: Session) -> None:
    project_id = _project(session)
    first = parse_text(
        "Storm hits coast\n\nThe storm destroyed 40 homes, the Associated Press reported."
    )
    second = parse_text("Clean-up begins\n\nVolunteers arrived on Sunday, AP reported.")
    store_articles(session, project_id, [(first, "a.txt"), (second, "b.txt")])
    session.commit()
    assert session.scalars(select(Source.name)).all() == ["AP"]
    mentions = session.scalar(select(func.count()).select_from(Mention))
    assert mentions == 2


def test_duplicates_in_one_batch_and_across_runs(session: Session, tmp_path: Path) -> None:
    project, _ = get_or_create_project(session, "p")
    session.commit()
    text = "Talks resume\n\nNegotiators met in Geneva on Tuesday, Reuters reported.\n"
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(text, encoding="utf-8")
    results, _ = import_paths(session, project, sorted(tmp_path.iterdir()))
    assert results[0].article_id is not None and results[0].duplicate_of is None
    assert results[1].duplicate_of == results[0].article_id
    again, _ = import_paths(session, project, [tmp_path / "a.txt"])
    assert again[0].duplicate_of == results[0].article_id
    assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_same_text_in_two_projects_is_two_articles(session: Session) -> None:
    parsed = parse_text("Officials said the port reopened on Monday.")
    for name in ("one", "two"):
        store_articles(session, _project(session, name), [(parsed, None)])
    session.commit()
    assert session.scalar(select(func.count()).select_from(Article)) == 2


def test_batches_commit_separately(session: Session, tmp_path: Path) -> None:
    project, _ = get_or_create_project(session, "p")
    session.commit()
    for n in range(5):
        (tmp_path / f"{n}.txt").write_text(
            f"Story {n}\n\nThe council voted {n} times on Monday, officials said.\n",
            encoding="utf-8",
        )
    seen: list[int | None] = []
    results, _ = import_paths(
        session,
        project,
        sorted(tmp_path.iterdir()),
        batch_units=2,
        on_result=lambda _path, result: seen.append(result.article_id),
    )
    assert len(results) == 5 and seen == [r.article_id for r in results]
    assert session.scalar(select(func.count()).select_from(Article)) == 5
