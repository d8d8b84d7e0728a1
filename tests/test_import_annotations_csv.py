"""CSV import of annotations: happy path, idempotence, every bad-row kind refused whole."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from exchange_factories import BACKENDS, build_small, open_session
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.exchange import ImportProblems, export_csv, import_csv
from annotator.models import Annotation, AnnotationEvent, User

HEADER = "article,unit,annotator,label,sources,note\n"
LABELS = "reported_fact, quote, speculation, unclear"


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    with open_session(request.param, tmp_path) as session:
        build_small(session)
        session.commit()
        yield session


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Annotation)) or 0,
        session.scalar(select(func.count()).select_from(AnnotationEvent)) or 0,
        session.scalar(select(func.count()).select_from(User)) or 0,
    )


def _answers(session: Session) -> list[tuple[str, str, list[str], str, int]]:
    out = io.StringIO()
    export_csv(session, out)
    rows = [line.split(",") for line in out.getvalue().splitlines()[1:]]
    return [(r[1], r[2], r[3], r[4], r[9]) for r in rows]  # type: ignore[misc]


def test_happy_path(session: Session) -> None:
    data = HEADER + (
        "1,2,carol,speculation,Korean Central News Agency;AP,could be\n"  # alias resolves
        "Koh warns,0,ann1,quote,Koh Yu-hwan,\n"  # exact title; changes ann1's answer
        "1,1,ann1,quote,Koh Yu-hwan;AP,\n"  # identical to what is stored
    )
    summary = import_csv(session, io.BytesIO(data.encode()))
    session.commit()
    assert (summary.annotations_created, summary.annotations_updated) == (1, 1)
    assert (summary.annotations_unchanged, summary.users_created) == (1, 1)
    carol = session.scalars(select(User).where(User.username == "carol")).one()
    assert (carol.role, carol.password_hash) == ("annotator", None)
    assert ("0", "ann1", "quote", "Koh Yu-hwan", "2") in _answers(session)
    assert ("2", "carol", "speculation", "KCNA;AP", "1") in _answers(session)
    note = session.scalar(select(Annotation.note).where(Annotation.annotator_id == carol.id))
    assert note == "could be"
    events = session.scalars(select(AnnotationEvent).order_by(AnnotationEvent.id)).all()
    assert [(e.action, e.label, e.sources, e.version) for e in events] == [
        ("import", "speculation", ["KCNA", "AP"], 1),
        ("import", "quote", ["Koh Yu-hwan"], 2),
    ]


def test_import_is_idempotent(session: Session) -> None:
    data = HEADER + "1,2,carol,unclear,,\n1,0,ann2,quote,AP,changed\n"
    import_csv(session, io.BytesIO(data.encode()))
    session.commit()
    before, answers = _counts(session), _answers(session)
    summary = import_csv(session, io.BytesIO(data.encode()))
    session.commit()
    assert not summary.changed
    assert summary.annotations_unchanged == 2
    assert _counts(session) == before
    assert _answers(session) == answers


def test_our_csv_export_imports_back_unchanged(session: Session) -> None:
    out = io.StringIO()
    export_csv(session, out)
    before = _counts(session)
    summary = import_csv(session, io.StringIO(out.getvalue()))
    assert summary.annotations_unchanged == 4
    assert not summary.changed
    assert _counts(session) == before


def test_text_with_bom_and_project_name(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(("\ufeff" + HEADER + "1,2,dave,unclear,,\n").encode())
    assert import_csv(session, path, project_name="news").annotations_created == 1
    with pytest.raises(ImportProblems) as caught:
        import_csv(session, path, project_name="nope")
    assert caught.value.problems == ["unknown project 'nope'"]


BAD_ROWS = {
    "unknown article": (
        "999,0,ann1,quote,,",
        "row 2: unknown article '999' (neither an article id nor an exact title)",
    ),
    "unit out of range": (
        "1,7,ann1,quote,,",
        "row 2: unit 7 out of range; article 1 has sentences 0–2",
    ),
    "unit not a number": (
        "1,first,ann1,quote,,",
        "row 2: unit must be a sentence index counting from 0, not 'first'",
    ),
    "unknown label": (
        "1,0,ann1,factish,,",
        f"row 2: unknown label 'factish'; expected one of {LABELS}",
    ),
    "unknown source": (
        "1,0,ann1,quote,AP;Reuterz,",
        "row 2: unknown source 'Reuterz'; use a name or alias from the project's sources",
    ),
    "repeated source": (
        "1,0,ann1,quote,AP;Associated Press,",
        "row 2: source 'Associated Press' is listed twice",
    ),
    "empty annotator": ("1,0,,quote,,", "row 2: annotator is empty"),
    "too few columns": ("1,0,ann1", "row 2: expected at least 6 columns, found 3"),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_each_bad_row_kind_is_refused_without_writing(session: Session, kind: str) -> None:
    row, problem = BAD_ROWS[kind]
    # The bad row is row 2; the good row 3 after it must not be written either.
    data = HEADER + row + "\n" + "1,2,carol,unclear,,\n"
    before = _counts(session)
    with pytest.raises(ImportProblems) as caught:
        import_csv(session, io.BytesIO(data.encode()))
    assert caught.value.problems == [problem]
    session.rollback()
    assert _counts(session) == before


def test_all_problems_are_reported_at_once(session: Session) -> None:
    data = HEADER + "1,0,ann1,factish,,\n1,1,ann1,quote,,\n1,9,,quote,Reuterz,\n1,1,ann1,quote,,\n"
    with pytest.raises(ImportProblems) as caught:
        import_csv(session, io.BytesIO(data.encode()))
    assert caught.value.problems == [
        f"row 2: unknown label 'factish'; expected one of {LABELS}",
        "row 4: unit 9 out of range; article 1 has sentences 0–2",
        "row 4: annotator is empty",
        "row 4: unknown source 'Reuterz'; use a name or alias from the project's sources",
        "row 5: same article, unit and annotator as row 3",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty; expected the header article,unit,annotator,label,sources,note"),
        (
            b"\n\n",
            "the file is empty; expected the header article,unit,annotator,label,sources,note",
        ),
        (
            b"article,unit,user,label\n1,0,ann1,quote\n",
            "row 1: the header must start with article,unit,annotator,label,sources,note; "
            "found article,unit,user,label",
        ),
        (
            HEADER.encode() + b"1,2,Jos\xe9,quote,,\n",
            "the file is not UTF-8 text: byte 0xe9 at offset 49 (line 2); "
            "save it as UTF-8 and retry",
        ),
    ],
    ids=["empty", "blank lines", "bad header", "not utf-8"],
)
def test_unreadable_files_are_refused_without_writing(
    session: Session, content: bytes, problem: str
) -> None:
    before = _counts(session)
    with pytest.raises(ImportProblems) as caught:
        import_csv(session, io.BytesIO(content))
    assert caught.value.problems == [problem]
    assert _counts(session) == before


def test_ambiguous_title_asks_for_the_id(session: Session) -> None:
    from exchange_factories import make_article, make_project

    make_article(
        session, make_project(session), "Another text.", [("sentence", 0, 13)], title="Koh warns"
    )
    with pytest.raises(ImportProblems) as caught:
        import_csv(session, io.BytesIO((HEADER + "Koh warns,0,ann1,quote,,\n").encode()))
    assert caught.value.problems == [
        "row 2: title 'Koh warns' names several articles (1, 2); use the id"
    ]
