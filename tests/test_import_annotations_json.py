"""Import of our JSON export: round trip, idempotence, updates, refusals without writes."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from exchange_factories import (
    BACKENDS,
    build_small,
    make_annotation,
    make_article,
    make_gold,
    make_mention,
    make_source,
    make_user,
    open_session,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.exchange import ImportProblems, export_json, import_export
from annotator.models import (
    Annotation,
    AnnotationEvent,
    Article,
    Label,
    Project,
    Source,
    Unit,
    User,
)

# Astral emoji with a skin-tone modifier, a flag (two regional indicators),
# combining accents, mathematical Fraktur letters and Arabic (RTL) text: every
# offset below counts code points, which UTF-16 or bytes would get wrong.
UNICODE_TEXT = (
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👍🏽 news\n"
    "Re\u0301sume\u0301 says 🇰🇷 talks resume. "
    "قال المتحدث إن المحادثات ستستمر. "
    '"Maybe 😀," said Zoë.'
)
VOLATILE = {"id", "exported_at", "created_at", "updated_at", "decided_at"}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def session(backend: str, tmp_path: Path) -> Iterator[Session]:
    with open_session(backend, tmp_path) as session:
        yield session


def _export(session: Session) -> dict[str, Any]:
    out = io.BytesIO()
    export_json(session, out)
    return orjson.loads(out.getvalue())


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _build_rich(session: Session) -> None:
    """The small dataset plus a custom project with a Unicode article."""
    build_small(session)
    project = Project(name="Ünïcode", description="custom labels", suggestion_mode="prefill")
    project.labels = [
        Label(name="claim", key="1", description="a claim", position=0),
        Label(name="other", key="2", description="", position=1),
    ]
    session.add(project)
    session.flush()
    zoe = make_source(session, project, "Zoë", "person", ["Zoe"])
    spokes = make_source(session, project, "المتحدث", "government")
    t = UNICODE_TEXT
    s1, s2, s3 = t.index("Re\u0301"), t.index("قال"), t.index('"Maybe')
    spans = [("title", 0, s1 - 1), ("sentence", s1, s2 - 1)]
    spans += [("sentence", s2, s3 - 1), ("sentence", s3, len(t))]
    article, units = make_article(session, project, t, spans, title="𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👍🏽 news")
    make_mention(session, article, zoe, t.index("Zoë"), t.index("Zoë") + 3)
    make_mention(session, article, spokes, t.index("المتحدث"), t.index("المتحدث") + 7)
    units[3].suggested_label = "claim"
    units[3].suggested_sources = [zoe]
    cue = t.index("said")
    units[3].suggestion_cues = [{"kind": "verb", "text": "said", "start": cue, "end": cue + 4}]
    ann = make_user(session, "Zoë Annotator")
    rev = make_user(session, "rev", role="reviewer")
    make_annotation(session, units[1], ann, "claim", note="🇰🇷 é")
    make_annotation(session, units[2], ann, "other", [spokes], version=3)
    make_annotation(session, units[3], rev, "claim", [zoe], seconds=1.25)
    make_gold(session, units[3], "claim", [zoe], reviewer=rev, rationale="quote → claim")
    make_gold(session, units[2], None, provenance="unresolved")
    session.commit()


def _counts(session: Session) -> dict[str, int]:
    tables = {
        "projects": Project,
        "labels": Label,
        "sources": Source,
        "users": User,
        "articles": Article,
        "units": Unit,
        "annotations": Annotation,
        "events": AnnotationEvent,
    }
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in tables.items()
    }


def test_round_trip_into_an_empty_database(session: Session, backend: str, tmp_path: Path) -> None:
    _build_rich(session)
    first = _export(session)
    unicode_article = first["projects"][1]["articles"][0]
    for unit in unicode_article["units"]:
        assert UNICODE_TEXT[unit["start"] : unit["end"]] == unit["text"]
    (tmp_path / "copy").mkdir()
    with open_session(backend, tmp_path / "copy") as target:
        summary = import_export(target, orjson.dumps(first))
        target.commit()
        assert summary.articles_created == 2
        assert summary.annotations_created == 7
        assert summary.gold_created == 3
        second = _export(target)
        assert _strip(second) == _strip(first)
        # Exported timestamps are restored, not replaced by the import time.
        ann = second["projects"][0]["articles"][0]["units"][1]["annotations"][0]
        assert ann["created_at"] == "2024-05-01T12:00:00.000000Z"
        roles = dict(target.execute(select(User.username, User.role)).all())
        assert roles == {
            "ann1": "annotator",
            "ann2": "annotator",
            "boss": "reviewer",
            "zoë annotator": "annotator",
            "rev": "reviewer",
        }
        assert (
            target.scalar(
                select(func.count()).select_from(User).where(User.password_hash.is_not(None))
            )
            == 0
        )


def test_import_is_idempotent(session: Session, backend: str, tmp_path: Path) -> None:
    _build_rich(session)
    document = _export(session)
    (tmp_path / "copy").mkdir()
    with open_session(backend, tmp_path / "copy") as target:
        import_export(target, document)
        target.commit()
        before = _counts(target)
        versions = _strip(_export(target))
        summary = import_export(target, document)
        target.commit()
        assert not summary.changed
        assert summary.annotations_unchanged == 7
        assert summary.gold_unchanged == 3
        assert _counts(target) == before
        assert _strip(_export(target)) == versions


def test_import_into_the_source_database_changes_nothing(session: Session) -> None:
    _build_rich(session)
    before = _counts(session)
    summary = import_export(session, _export(session))
    assert not summary.changed
    assert summary.articles_matched == 2
    assert _counts(session) == before


def test_a_changed_annotation_is_updated_with_a_new_version(session: Session) -> None:
    build_small(session)
    session.commit()
    document = _export(session)
    annotation = document["projects"][0]["articles"][0]["units"][1]["annotations"][0]
    annotation["label"] = "unclear"
    annotation["sources"] = ["Korean Central News Agency", "AP"]  # an alias resolves
    events = _counts(session)["events"]
    summary = import_export(session, document)
    session.commit()
    assert (summary.annotations_updated, summary.annotations_unchanged) == (1, 3)
    after = _export(session)["projects"][0]["articles"][0]["units"][1]["annotations"][0]
    assert (after["label"], after["sources"], after["version"]) == ("unclear", ["KCNA", "AP"], 2)
    assert _counts(session)["events"] == events + 1
    event = session.scalars(select(AnnotationEvent)).one()
    assert (event.action, event.version, event.label, event.sources) == (
        "import",
        2,
        "unclear",
        ["KCNA", "AP"],
    )


def _tamper(document: dict[str, Any], how: str) -> str:
    article = document["projects"][0]["articles"][0]
    unit = article["units"][1]
    if how == "schema":
        unit["start"] = "ten"
        return "projects[0].articles[0].units[1].start: 'ten' is not of type 'integer'"
    if how == "text":
        unit["text"] = "KCNA said the launch failed."
        return (
            "projects[0].articles[0].units[1].text: does not equal the article text from 10 to 41"
        )
    if how == "overlap":
        unit["start"] = 5
        unit["text"] = article["text"][5:41]
        return (
            "projects[0].articles[0].units[1]: overlaps the previous unit (starts at 5, before 9)"
        )
    if how == "label":
        unit["annotations"][0]["label"] = "factish"
        return "projects[0].articles[0].units[1].annotations[0].label: unknown label 'factish'"
    if how == "hash":
        article["text"] = article["text"].replace("Talks", "Tanks")
        return (
            "projects[0].articles[0].content_hash: does not match the SHA-256 of the article text"
        )
    if how == "format":
        document["format"] = "something-else"
        return "format: 'annotator-export' was expected"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["schema", "text", "overlap", "label", "hash", "format"])
def test_a_tampered_document_is_refused_without_writing(session: Session, how: str) -> None:
    build_small(session)
    session.commit()
    document = _export(session)
    document["projects"][0]["name"] = "elsewhere"  # would create a project if written
    expected = _tamper(document, how)
    before = _counts(session)
    with pytest.raises(ImportProblems) as caught:
        import_export(session, copy.deepcopy(document))
    assert expected in caught.value.problems
    assert str(caught.value).startswith("nothing was imported")
    session.rollback()
    assert _counts(session) == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "the file is not valid UTF-8 JSON"),
        (b"\xff\xfe{}", "the file is not valid UTF-8 JSON"),
        (b"[]", "document: [] is not of type 'object'"),
    ],
)
def test_unreadable_documents_are_refused(session: Session, content: bytes, problem: str) -> None:
    with pytest.raises(ImportProblems) as caught:
        import_export(session, io.BytesIO(content))
    assert caught.value.problems[0].startswith(problem)


def test_a_failure_while_writing_rolls_back_everything(session: Session) -> None:
    small = build_small(session)
    project = small["project"]
    assert isinstance(project, Project)
    session.add(Label(project_id=project.id, name="gossip", key="5", position=4))
    session.commit()
    document = _export(session)
    first = copy.deepcopy(document["projects"][0])
    first["name"] = "fresh"
    # The file's "news" gives key 5 to another label than the database's
    # "news" does; that is only found while writing, after "fresh" was created.
    second = document["projects"][0]
    second["labels"][4] = {"name": "rumour", "key": "5", "description": ""}
    document["projects"] = [first, second]
    before = _counts(session)
    with pytest.raises(ImportProblems) as caught:
        import_export(session, document)
    assert caught.value.problems == [
        "project 'news': label 'rumour' has key '5', which the project already uses for 'gossip'"
    ]
    session.commit()
    assert _counts(session) == before
