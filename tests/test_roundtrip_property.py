"""Property: any article text → import → annotate → export → import into an empty
database → export gives the same document.

The article text is drawn from every Unicode category (astral characters, combining
marks, unassigned and private-use code points) salted with what breaks importers:
bidi and zero-width characters, CRLF/CR, straight and curly quotes, NUL and other C0
controls, page furniture and metadata lines. It goes through the real importer
(``parse_document`` on a ``.txt`` file, or a ``.json`` one when a title is given, then
``store_articles``). What the importer does with such text: CRLF and CR become LF,
C0/C1 controls other than tab and LF are dropped (a NUL in a ``.txt`` file makes it
"binary" and refused), NFC is applied, bidi and zero-width characters are kept as
data. It refuses a text with nothing left (empty, invisible characters only, page
furniture only) with ``IngestError`` and a one-line message; any other exception is a
failure. Accepted articles are annotated through the domain functions the API and the
pages use (project settings, sources with aliases and descriptions, annotations with
random labels, sources and notes, gold decisions), exported, imported into an empty
database and exported again.

The two documents must be equal except for ``exported_at`` (the time of each export)
and the ``id`` of articles and units, which the export schema documents as "the id
in the exporting database; informative only": the import never promises them.
Timestamps, versions, seconds spent, notes and the order of every list must survive.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, delete, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from annotator.access import add_member
from annotator.annotating import SaveRequest, save_annotation
from annotator.db import make_engine
from annotator.exchange import export_json, import_export
from annotator.exchange.document import check_document
from annotator.importer import store_articles
from annotator.ingest import IngestError, parse_document
from annotator.models import (
    ERROR_CATEGORIES,
    NAME_MAX,
    SOURCE_KINDS,
    SUGGESTION_MODES,
    Annotation,
    Article,
    Base,
    Label,
    Source,
    Unit,
    User,
)
from annotator.names import name_problem
from annotator.project_settings import create_project, update_settings
from annotator.review import DECISIONS
from annotator.review_decisions import InvalidDecision, decide
from annotator.schema import ensure_schema
from annotator.source_edits import SourceEditError, add_alias, update_source
from annotator.source_lookup import create_source
from annotator.users import create_user, username_key
from tests.conftest import PG_URL

# ANNOTATOR_PROPERTY_EXAMPLES raises it for a deeper run by hand; CI keeps the default.
MAX_EXAMPLES = int(os.environ.get("ANNOTATOR_PROPERTY_EXAMPLES", "50"))
# Documented to differ between the two exports (see the module docstring).
VOLATILE = {"exported_at", "id"}

# What importers trip over, mixed into text from the whole code space.
BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
C0 = "".join(chr(c) for c in range(32)) + "\x7f\x85\u2028\u2029"
QUOTES = "\"'“”‘’«»„‹›「」"
ASTRAL = "😀👍🏽🇰🇷𝔘𝔫𝕏𠀀𐍈\U000e0041\U0010fffd"
COMBINING = "\u0301\u0308\u0327\u20dd\u0e31"
SPECIALS = BIDI + ZERO_WIDTH + C0 + QUOTES + ASTRAL + COMBINING
# Never in a stored text: \r and every C0/C1 control but \t and \n.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

any_char = st.characters(codec="utf-8")  # every category but surrogates (Cs)
letter = st.sampled_from("aeiou nrstAEIOU")
# Specials in one draw out of five: often enough in every text, rare enough that most
# texts carry no NUL (which makes a .txt file "binary" and refused).
char = st.one_of(any_char, letter, letter, letter, st.sampled_from(SPECIALS))
word = st.text(char, min_size=1, max_size=10)
sentence = st.builds(
    lambda opening, words, end, closing: opening + " ".join(words) + end + closing,
    st.sampled_from(["", "", '"', "“", "«", "'"]),
    st.lists(word, min_size=1, max_size=8),
    st.sampled_from([".", "!", "?", "…", "", ".\u200b", "。"]),
    st.sampled_from(["", "", '"', "”", "»"]),
)
separator = st.sampled_from([" ", " ", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\r\r", "\t"])
# Lines the importer reads as metadata or strips as page furniture, before and after.
HEAD_LINES = [
    "Skip to content",
    "November 14, 2014",
    "Published 2014-11-14T08:30:00Z",
    "By Kim Lee and Zoë Ortiz",
    "https://example.org/news/1?x=é",
    "## A heading “here”",
    "Image: picture-alliance/AP",
    "Share on Facebook",
]
TAIL_LINES = ["ksb/mkg (AFP, AP)", "— Reuters", "Related topics", "© 2014 DW"]
DATELINES = ["", "", "SEOUL (AP) — ", "BERLIN, Nov 14 (Reuters) - ", "Kyiv (dpa) - "]
line_end = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])
article_text = st.builds(
    lambda head, dateline, parts, tail: (
        "".join(line + end for line, end in head)
        + dateline
        + "".join(s + sep for s, sep in parts)
        + "".join(end + line for line, end in tail)
    ),
    st.lists(
        st.tuples(st.sampled_from(HEAD_LINES) | st.text(char, max_size=30), line_end), max_size=4
    ),
    st.sampled_from(DATELINES),
    st.lists(st.tuples(sentence, separator), min_size=1, max_size=8),
    st.lists(st.tuples(st.sampled_from(TAIL_LINES), line_end), max_size=2),
)
title = st.none() | st.text(char, max_size=40)
# Identifiers the registry and the accounts accept (name_problem is the shared rule).
name = st.text(st.one_of(any_char, st.sampled_from("abc ’-")), min_size=1, max_size=20).filter(
    lambda n: name_problem(n, max_length=NAME_MAX) is None
)
# A note as the annotation API accepts it: no C0 control but tab and line ends; often
# with white space at either end, which must survive as it is.
pad = st.sampled_from(["", "", " ", "\t", "\n", "\r\n", "\u3000", "\u200b"])
note_text = st.builds(
    lambda before, body, after: before + body + after,
    pad,
    st.text(
        st.one_of(any_char, st.sampled_from("\t\n\r" + BIDI + ZERO_WIDTH + QUOTES + ASTRAL)),
        max_size=60,
    ).filter(lambda n: not any(ord(c) < 32 and c not in "\t\n\r" for c in n)),
    pad,
)
# A rationale as review_decisions.clean_rationale accepts it (the same rule as notes).
rationale = note_text.map(lambda r: r[:40])


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """A project with one or two articles, the people and sources around them, and what
    they do to them."""
    names = draw(st.lists(name, min_size=1, max_size=3, unique_by=username_key))
    return {
        "project": (
            draw(name),
            draw(note_text),
            draw(st.sampled_from(SUGGESTION_MODES)),
        ),
        "articles": draw(st.lists(st.tuples(article_text, title), min_size=1, max_size=2)),
        "annotators": names,
        "reviewer": draw(name.filter(lambda n: username_key(n) not in map(username_key, names))),
        "sources": draw(
            st.lists(
                st.tuples(
                    name,
                    st.sampled_from(SOURCE_KINDS),
                    st.lists(name, max_size=2),
                    note_text,  # description
                ),
                max_size=4,
            )
        ),
        # Indexes are taken modulo what exists once the article is stored.
        "annotations": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 99),  # unit
                    st.integers(0, 2),  # annotator
                    st.integers(0, 3),  # label
                    st.lists(st.integers(0, 99), max_size=3),  # sources
                    note_text,
                    st.floats(0, 3600, allow_nan=False) | st.none(),
                ),
                min_size=1,
                max_size=12,
            )
        ),
        "gold": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 99),
                    st.sampled_from(DECISIONS),
                    st.integers(0, 4),  # label; 4 = none
                    st.lists(st.integers(0, 99), max_size=2),
                    rationale,
                    st.none() | st.sampled_from(ERROR_CATEGORIES),
                ),
                max_size=4,
            )
        ),
    }


@contextmanager
def _database(backend: str, path: Path) -> Iterator[Engine]:
    # The pattern of conftest.database_url: an SQLite file, or a PostgreSQL schema.
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{path}", synchronous="OFF")
        ensure_schema(engine)
        yield engine
        engine.dispose()
        return
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        ensure_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _wipe(engine: Engine) -> None:
    """Empty every table, so each example starts from an empty database (a fresh schema
    per example would cost a migration run each)."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def _export(session: Session) -> dict[str, Any]:
    out = io.BytesIO()
    export_json(session, out)
    document = orjson.loads(out.getvalue())
    assert check_document(document) == []
    return document


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _import_articles(session: Session, plan: dict[str, Any]) -> int | None:
    """Run the importer on the texts into a new project; its id, or None when the
    importer refused a text (the property is over accepted inputs)."""
    parsed = []
    for number, (text_, title_) in enumerate(plan["articles"]):
        if title_ is None:
            data, filename = text_.encode("utf-8"), f"{number}.txt"
        else:
            data, filename = orjson.dumps({"text": text_, "title": title_}), f"{number}.json"
        try:
            [article] = parse_document(data, filename)
        except IngestError as error:
            message = str(error)
            assert message.strip() and "\n" not in message, repr(message)
            event(f"refused: {message.split(':')[0][:40]}")
            return None
        # What the importer normalises: line ends to \n, C0/C1 controls dropped, NFC.
        assert not CONTROLS.search(article.text), ascii(article.text)
        assert unicodedata.is_normalized("NFC", article.text)
        parsed.append((article, filename))
    project_name, description, mode = plan["project"]
    project = create_project(session, project_name, description)
    update_settings(
        session, project, suggestion_mode=mode, annotators_per_article=None, description=description
    )
    results = store_articles(session, project.id, parsed)
    session.commit()
    # The same text twice is stored once (the second is reported as a duplicate).
    assert all((r.article_id is None) == (r.duplicate_of is not None) for r in results)
    return project.id


def _annotate(session: Session, project_id: int, plan: dict[str, Any]) -> None:
    """Sources, annotations and gold through the domain functions the API and pages use."""
    for source_name, kind, aliases, description in plan["sources"]:
        found, _ = create_source(session, project_id, source_name, kind)
        source = session.get(Source, found["id"])
        assert source is not None
        update_source(session, source, description=description)
        for alias in aliases:
            try:
                add_alias(session, source, alias)
            except SourceEditError:
                pass  # already a name or alias: refused, as the page would
        session.commit()
    users = [create_user(session, n) for n in plan["annotators"]]
    reviewer = create_user(session, plan["reviewer"], role="reviewer")
    for member in (*users, reviewer):
        add_member(session, project_id, member.id)
    session.commit()
    sentences = list(
        session.scalars(
            select(Unit.id)
            .join(Article, Article.id == Unit.article_id)
            .where(Article.project_id == project_id, Unit.kind == "sentence")
            .order_by(Unit.id)
        )
    )
    labels = list(
        session.scalars(select(Label.name).where(Label.project_id == project_id).order_by(Label.id))
    )
    sources = list(session.scalars(select(Source.id).where(Source.project_id == project_id)))
    for unit, who, label, picked, note_, seconds in plan["annotations"]:
        unit_id = sentences[unit % len(sentences)]
        chosen = list(dict.fromkeys(sources[s % len(sources)] for s in picked)) if sources else []
        user = users[who % len(users)]
        current = session.scalar(
            select(Annotation.version).where(
                Annotation.unit_id == unit_id, Annotation.annotator_id == user.id
            )
        )
        save_annotation(
            session,
            unit_id,
            user,
            SaveRequest(labels[label % len(labels)], tuple(chosen), note_, current or 0, seconds),
        )
    for unit, provenance, label, picked, why, category in plan["gold"]:
        chosen = list(dict.fromkeys(sources[s % len(sources)] for s in picked)) if sources else []
        try:
            decide(
                session,
                sentences[unit % len(sentences)],
                reviewer,
                labels[label] if label < len(labels) else None,
                chosen,
                why,
                category,
                provenance,
            )
        except InvalidDecision as refused:
            # An adjudication without a label, an unresolved one without a reason.
            assert refused.field in {"label", "rationale"}, refused
            session.rollback()
            continue
        session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two databases of one engine, made once per test and emptied for every example."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL tests need ANNOTATOR_TEST_DATABASE_URL (set by .ci/run)")
    with (
        _database(request.param, tmp_path / "source.sqlite3") as source,
        _database(request.param, tmp_path / "target.sqlite3") as target,
    ):
        yield source, target


def test_export_import_export_is_the_identity(
    databases: tuple[Engine, Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    source_engine, target_engine = databases
    runs = dict.fromkeys(
        ("accepted", "refused", "articles", "units", "annotations", "gold", "sources"), 0
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(plan=plans())
    def property_(plan: dict[str, Any]) -> None:
        _wipe(source_engine)
        _wipe(target_engine)
        with Session(source_engine, expire_on_commit=False) as session:
            project_id = _import_articles(session, plan)
            if project_id is None:
                runs["refused"] += 1
                return
            runs["accepted"] += 1
            _annotate(session, project_id, plan)
            first = _export(session)
        note(repr(first))
        with Session(target_engine, expire_on_commit=False) as target:
            assert target.scalar(select(User.id).limit(1)) is None  # an empty database
            import_export(target, orjson.dumps(first))
            target.commit()
            second = _export(target)
        assert _strip(second) == _strip(first)
        [project] = first["projects"]
        runs["articles"] += len(project["articles"])
        units = [u for a in project["articles"] for u in a["units"]]
        runs["units"] += len(units)
        runs["annotations"] += sum(len(u["annotations"]) for u in units)
        runs["gold"] += sum(u["gold"] is not None for u in units)
        runs["sources"] += len(project["sources"])

    property_()
    with capsys.disabled():  # shown even when the test passes, for the record
        print(f"\nround trip: {runs}")
    # The property must be about imported articles, not only about refusals.
    assert runs["accepted"] >= MAX_EXAMPLES // 2, runs
