"""Catalogue rows 12–16 (article content: controls, line ends, Unicode) as tests.

Helpers and the ``desk`` world come from ``test_catalogue_uploads.py``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from annotator import create_app
from annotator.db import get_database
from annotator.models import Source, Unit, User
from annotator.schema import ensure_schema
from tests.helpers import app_session
from tests.test_catalogue_uploads import (
    Desk,
    field_errors,
    make_desk,
    newest_article,
    snapshot,
    units_of,
)


@pytest.fixture
def desk(app: Flask, tmp_path: Path) -> Desk:
    return make_desk(app, tmp_path)


def unit_texts(app: Flask, article_id: int) -> list[str]:
    """The texts of an article's units, cut from its canonical text by their offsets."""
    article_text = next(a[3] for a in snapshot(app)[1] if a[0] == article_id)
    return [article_text[s:e] for _, s, e in units_of(app, article_id)]


# --- row 12: NUL and other C0/C1 controls ---------------------------------------------------

CONTROLLED = "Port\x00 reopened\x07 on Monday,\x1b AP\x7f reported.\x9f Ships\x01 queued."
CLEANED = "Port reopened on Monday, AP reported. Ships queued."


def test_row_12_controls_are_stripped_the_same_way_everywhere(desk: Desk) -> None:
    api = desk.api({"text": CONTROLLED, "title": "Con\x00trols\x1b"})
    assert api.status_code == 201, api.get_json()
    article = newest_article(desk.app)
    assert article.text == "Controls\n\n" + CLEANED
    assert article.title == "Controls"
    assert unit_texts(desk.app, article.id) == [
        "Controls",
        "Port reopened on Monday, AP reported.",
        "Ships queued.",
    ]
    # The same text pasted, in a JSON file (escaped NUL) and in a .txt file without
    # the NUL is the same canonical text: each is a duplicate, nothing new is stored.
    before = snapshot(desk.app)
    assert desk.paste(CONTROLLED, title="Controls").status_code == 302
    as_json = json.dumps({"text": CONTROLLED, "title": "Controls"}).encode()
    assert desk.upload(as_json, "controls.json").status_code == 302
    result = desk.cli(as_json, "controls.json")
    assert result.exit_code == 0 and "already imported" in result.output
    without_nul = ("Controls\n\n" + CONTROLLED.replace("\x00", "")).encode()
    assert desk.upload(without_nul, "controls.txt").status_code == 302
    assert snapshot(desk.app) == before


def test_row_12_nul_byte_in_a_text_file_is_refused(desk: Desk) -> None:
    before = snapshot(desk.app)
    response = desk.upload(CONTROLLED.encode(), "nul.txt")
    assert response.status_code == 400
    assert "not utf-8 text (binary file?)" in field_errors(response, "file").lower()
    assert snapshot(desk.app) == before


def test_row_12_no_control_character_is_ever_stored(desk: Desk) -> None:
    every = "".join(map(chr, [*range(0x00, 0x20), *range(0x7F, 0xA0)]))
    assert desk.api({"text": f"Ships{every} queued. Port{every} open."}).status_code == 201
    article = newest_article(desk.app)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", article.text)
    assert article.text.replace("\n", " ").split() == ["Ships", "queued.", "Port", "open."]


# --- row 13: line endings -------------------------------------------------------------------

LINES = ["Port news", "", "The port reopened on Monday, AP reported.", "Ships queued.", ""]
LINE_ENDINGS = {
    "lf": "\n".join(LINES),
    "crlf": "\r\n".join(LINES),
    "cr": "\r".join(LINES),
    "mixed": "Port news\r\n\rThe port reopened on Monday, AP reported.\nShips queued.\r",
}


def test_row_13_line_endings_give_one_canonical_text(desk: Desk) -> None:
    assert desk.upload(LINE_ENDINGS["lf"].encode(), "lf.txt").status_code == 302
    article = newest_article(desk.app)
    assert article.text == "Port news\n\nThe port reopened on Monday, AP reported. Ships queued."
    expected_units = unit_texts(desk.app, article.id)
    before = snapshot(desk.app)
    assert desk.upload(LINE_ENDINGS["crlf"].encode(), "crlf.txt").status_code == 302
    assert desk.paste(LINE_ENDINGS["cr"]).status_code == 302
    api = desk.api({"text": LINE_ENDINGS["mixed"]})
    assert api.status_code == 200 and api.get_json()["duplicate_of"] == article.id
    for name in ("crlf", "cr", "mixed"):
        result = desk.cli(LINE_ENDINGS[name].encode(), f"{name}.txt")
        assert result.exit_code == 0 and f"already imported as article {article.id}" in (
            result.output
        )
    assert snapshot(desk.app) == before
    assert unit_texts(desk.app, article.id) == expected_units
    export = desk.client.get(f"/api/v1/projects/{desk.project}/export")
    assert b"\r" not in export.get_data() and b"\\r" not in export.get_data()


# --- row 14: Unicode normalisation ----------------------------------------------------------

COMPOSED = "The caf\u00e9 reopened on Monday, AP reported. Ships queued."
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def test_row_14_article_text_is_nfc_once_before_offsets(desk: Desk) -> None:
    assert COMPOSED != DECOMPOSED
    assert desk.upload(DECOMPOSED.encode(), "nfd.txt").status_code == 302
    article = newest_article(desk.app)
    assert article.text == COMPOSED
    assert unit_texts(desk.app, article.id)[0] == "The caf\u00e9 reopened on Monday, AP reported."
    before = snapshot(desk.app)
    assert desk.paste(COMPOSED).status_code == 302
    assert desk.api({"text": DECOMPOSED}).get_json()["duplicate_of"] == article.id
    assert desk.cli(COMPOSED.encode(), "nfc.txt").exit_code == 0
    assert snapshot(desk.app) == before


@pytest.mark.parametrize(
    "cluster",
    [
        "x\u0301",  # a letter and a combining accent with no precomposed form
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # a ZWJ family emoji
        "\U0001f1e9\U0001f1ea",  # a flag: two regional indicators
        "\U0001f44d\U0001f3fd",  # an emoji with a skin-tone modifier
    ],
)
def test_row_14_units_never_split_a_grapheme_cluster(desk: Desk, cluster: str) -> None:
    # A run with no space longer than a unit may be must be cut hard: never inside
    # a cluster. The run is the same cluster repeated, so every cut must fall on a
    # multiple of the cluster's length.
    run = cluster * (4500 // len(cluster))
    text = f"It began here. {run} It ended."
    response = desk.api({"text": text})
    assert response.status_code == 201
    article = newest_article(desk.app)
    start = article.text.index(run)
    for _, s, e in units_of(desk.app, article.id):
        for cut in (s, e):
            if start < cut < start + len(run):
                assert (cut - start) % len(cluster) == 0, (cluster, cut - start)


def test_row_14_identifiers_are_one_name_however_composed(desk: Desk) -> None:
    runner = desk.app.test_cli_runner()
    assert runner.invoke(args=["users", "add", "Zo\u00eb", "--no-password"]).exit_code == 0
    again = runner.invoke(args=["users", "add", "Zoe\u0308", "--no-password"])
    assert again.exit_code == 1 and "already exists" in again.output
    url = f"/api/v1/projects/{desk.project}/sources"
    headers = {"X-CSRFToken": desk.client.get("/api/v1/csrf-token").get_json()["csrf_token"]}
    created = desk.client.post(
        url, json={"name": "Caf\u00e9 Press", "kind": "media_outlet"}, headers=headers
    )
    assert created.status_code == 201
    same = desk.client.post(
        url, json={"name": "Cafe\u0301 Press", "kind": "media_outlet"}, headers=headers
    )
    assert same.status_code == 200
    assert same.get_json()["source"]["id"] == created.get_json()["source"]["id"]
    with app_session(desk.app) as session:
        names = session.scalars(select(Source.name).where(Source.name.like("Caf%"))).all()
        users = session.scalars(select(User.username).where(User.username.like("zo%"))).all()
    assert names == ["Caf\u00e9 Press"] and users == ["zo\u00eb"]


# --- row 15: astral characters and offsets ----------------------------------------------------

ASTRAL = "\U0001f600 \U0001d518 The port reopened on Monday, AP reported. Ships queued."


def exported_article(desk: Desk, title: str) -> dict[str, Any]:
    """One article of the project's JSON export, by title."""
    export = json.loads(desk.client.get(f"/api/v1/projects/{desk.project}/export").get_data())
    return next(a for p in export["projects"] for a in p["articles"] if a["title"] == title)


def test_row_15_export_offsets_count_code_points(desk: Desk) -> None:
    response = desk.api({"text": ASTRAL, "title": "\U0001d518 Astral"})
    assert response.status_code == 201
    article = exported_article(desk, "\U0001d518 Astral")
    text = article["text"]
    sentence = next(u for u in article["units"] if u["kind"] == "sentence")
    # Python slices by code point: the offsets are neither UTF-16 units nor bytes.
    assert text[sentence["start"] : sentence["end"]] == sentence["text"]
    assert sentence["text"].startswith("\U0001f600 \U0001d518 The port")
    mention = next(m for m in article["mentions"] if m["source"] == "AP")
    assert text[mention["start"] : mention["end"]] == "AP"
    assert mention["start"] == text.index("AP")
    utf16_start = len(text[: mention["start"]].encode("utf-16-le")) // 2
    assert utf16_start != mention["start"]  # a UTF-16 offset would be caught


def export_text(app: Flask) -> str:
    """``annotator export`` of every project."""
    result = app.test_cli_runner().invoke(args=["export"])
    assert result.exit_code == 0, result.output
    return result.stdout


def export_document(app: Flask) -> dict[str, Any]:
    """The export as data, without its timestamp."""
    document = json.loads(export_text(app))
    document.pop("exported_at", None)
    return document


def test_row_15_round_trip_through_export_and_import_is_identical(
    desk: Desk, tmp_path: Path
) -> None:
    assert desk.api({"text": ASTRAL, "title": "\U0001d518 Astral"}).status_code == 201
    article = newest_article(desk.app)
    with app_session(desk.app) as session:
        first_unit = session.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).first()
    saved = desk.client.put(
        f"/api/v1/units/{first_unit}/annotation",
        json={
            "label": "reported_fact",
            "sources": [],
            "note": "\U0001f600 noted",
            "expected_version": 0,
        },
        headers={"X-CSRFToken": desk.client.get("/api/v1/csrf-token").get_json()["csrf_token"]},
    )
    assert saved.status_code in (200, 201), saved.get_json()
    first = export_document(desk.app)
    path = tmp_path / "export.json"
    path.write_text(export_text(desk.app), encoding="utf-8")
    # Importing the export again into the same database changes nothing ...
    before = snapshot(desk.app)
    runner = desk.app.test_cli_runner()
    result = runner.invoke(args=["import-annotations", str(path)])
    assert result.exit_code == 0, result.output
    assert snapshot(desk.app) == before
    assert export_document(desk.app) == first
    # ... and into an empty database it restores the same document.
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}",
            "SECRET_KEY": "other",
            "SQLITE_SYNCHRONOUS": "OFF",
        }
    )
    ensure_schema(get_database(other).engine)
    result = other.test_cli_runner().invoke(args=["import-annotations", str(path)])
    assert result.exit_code == 0, result.output
    assert export_document(other) == first
    get_database(other).engine.dispose()


# --- row 16: zero-width characters ----------------------------------------------------------

ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"


def test_row_16_zero_width_in_article_text_is_preserved(desk: Desk) -> None:
    text = "The port\u200b reopened on Mon\u200cday, AP re\u200dported. Ships\ufeff queued."
    assert desk.api({"text": text}).status_code == 201
    article = newest_article(desk.app)
    assert article.text == text
    assert [t for t in unit_texts(desk.app, article.id) if any(c in t for c in ZERO_WIDTH)]


@pytest.mark.parametrize("mark", list(ZERO_WIDTH) + ["\u00ad", "\u2060"])
def test_row_16_zero_width_inside_a_source_name_in_the_text(desk: Desk, mark: str) -> None:
    # The text is kept as it is, but the source found in it is registered without the
    # invisible character (it used to raise RegistryError: a 500), and a later
    # article naming the same person finds that one entry.
    text = f"Talks will resume, Ko{mark}h Yu-hwan told reporters. Ships queued."
    response = desk.api({"text": text})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["sources"] == ["Koh Yu-hwan"]
    assert mark in newest_article(desk.app).text
    again = desk.api({"text": "Talks stalled, Koh Yu-hwan told reporters. Ships left."})
    assert again.get_json()["sources"] == ["Koh Yu-hwan"]
    with app_session(desk.app) as session:
        names = session.scalars(select(Source.name)).all()
    assert not any(mark in name for name in names)
    assert [n for n in names if n.startswith("Ko")] == ["Koh Yu-hwan"]


@pytest.mark.parametrize("mark", list(ZERO_WIDTH))
def test_row_16_zero_width_in_identifiers_is_refused(desk: Desk, mark: str) -> None:
    runner = desk.app.test_cli_runner()
    result = runner.invoke(args=["users", "add", f"ann{mark}", "--no-password"])
    assert result.exit_code == 1 and "invisible" in result.output
    headers = {"X-CSRFToken": desk.client.get("/api/v1/csrf-token").get_json()["csrf_token"]}
    response = desk.client.post(
        f"/api/v1/projects/{desk.project}/sources",
        json={"name": f"Tass{mark}Wire", "kind": "news_agency"},
        headers=headers,
    )
    assert response.status_code == 422 and "invisible" in response.get_json()["message"]
    with app_session(desk.app) as session:
        assert session.scalar(select(Source.id).where(Source.name.like("Tass%"))) is None
