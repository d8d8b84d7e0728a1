"""Catalogue rows 8–11 (binary files, invalid UTF-8, BOM, UTF-16) as tests.

Helpers and the ``desk`` world come from ``test_catalogue_uploads.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.test_catalogue_uploads import (
    STORY,
    Desk,
    assert_refused_everywhere,
    field_errors,
    make_desk,
    multipart,
    newest_article,
    snapshot,
    units_of,
)
from tests.test_projects_pages import csrf


@pytest.fixture
def desk(app: Flask, tmp_path: Path) -> Desk:
    return make_desk(app, tmp_path)


# --- row 8: binary files renamed .txt -----------------------------------------------------

BINARIES = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
    "elf": b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)),
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(200)),
    "gzip": b"\x1f\x8b\x08\x00" + bytes(range(100)),
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "nul": b"A text with one NUL \x00 byte in the middle of an otherwise fine line.",
}


@pytest.mark.parametrize(
    ("kind", "ext"),
    [(kind, "txt") for kind in sorted(BINARIES)] + [("png", "html"), ("elf", "json")],
)
def test_row_08_binary_renamed_txt_is_not_utf8_text(desk: Desk, kind: str, ext: str) -> None:
    assert_refused_everywhere(desk, BINARIES[kind], f"{kind}.{ext}", "not UTF-8 text")


def test_row_08_binary_body_to_the_api(desk: Desk) -> None:
    before = snapshot(desk.app)
    for data in BINARIES.values():
        response = desk.api_raw(data)
        assert response.status_code == 400
        assert response.get_json()["error"] == "bad_json"
    assert snapshot(desk.app) == before


# --- row 9: invalid UTF-8 -----------------------------------------------------------------

INVALID_UTF8 = [
    (b"Prices rose \xff\xfe sharply. Ships queued.", 12),
    (b"An overlong slash \xc0\xaf here. Ships queued.", 18),
    (b"A surrogate \xed\xa0\x80 encoded. Ships queued.", 12),
    (b"Ships queued at the port\xe2\x82", 24),  # truncated multibyte at EOF
]


@pytest.mark.parametrize(("data", "offset"), INVALID_UTF8)
def test_row_09_invalid_utf8_file_is_400(desk: Desk, data: bytes, offset: int) -> None:
    assert_refused_everywhere(desk, data, "bad.txt", "not UTF-8 text: invalid byte")
    response = desk.upload(data, "bad.txt")
    assert f"at byte offset {offset}" in field_errors(response, "file")


@pytest.mark.parametrize(("data", "offset"), INVALID_UTF8)
def test_row_09_invalid_utf8_in_json_and_jsonl_files(desk: Desk, data: bytes, offset: int) -> None:
    payload = b'{"text": "' + data + b'"}'
    assert_refused_everywhere(desk, payload, "bad.json", "not UTF-8 text")
    assert_refused_everywhere(desk, payload + b"\n", "bad.jsonl", "not UTF-8 text")


@pytest.mark.parametrize(("data", "offset"), INVALID_UTF8)
def test_row_09_invalid_utf8_api_body_is_400(desk: Desk, data: bytes, offset: int) -> None:
    before = snapshot(desk.app)
    response = desk.api_raw(b'{"text": "' + data + b'"}')
    # Python's json decodes bytes with "surrogatepass": an encoded surrogate becomes a
    # lone surrogate in the string, which ingest refuses (422) instead of storing it.
    expected = (422, "invalid") if b"\xed\xa0" in data else (400, "bad_json")
    assert (response.status_code, response.get_json()["error"]) == expected
    assert snapshot(desk.app) == before


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\ud83dy"])
def test_row_09_lone_surrogate_escapes_are_refused_not_a_500(desk: Desk, escape: str) -> None:
    # Valid JSON may spell a lone surrogate as an escape; it is not storable text.
    before = snapshot(desk.app)
    body = f'{{"text": "Prices rose {escape} sharply. Ships queued.", "title": "T{escape}"}}'
    response = desk.api_raw(body.encode())
    assert response.status_code == 422, response.get_json()
    assert "surrogate" in response.get_json()["message"]
    assert_refused_everywhere(desk, body.encode(), "surrogate.json", "surrogate")
    assert snapshot(desk.app) == before


def test_row_09_pasted_text_garbled_by_the_form_decoder_is_refused(desk: Desk) -> None:
    # A form field with invalid UTF-8 reaches the view with U+FFFD in place of the
    # bad bytes (Werkzeug decodes fields with errors="replace"): refused, never stored.
    before = snapshot(desk.app)
    body, content_type = multipart(
        {
            "csrf_token": csrf(desk.client).encode(),
            "text": b"Prices rose \xed\xa0\x80 sharply. Ships queued.",
        }
    )
    response = desk.client.post(
        f"/projects/{desk.project}/import", data=body, content_type=content_type
    )
    assert response.status_code == 400
    assert "U+FFFD" in field_errors(response, "text")
    assert snapshot(desk.app) == before


# --- row 10: UTF-8 with a BOM --------------------------------------------------------------


def test_row_10_bom_is_stripped_and_offsets_unaffected(desk: Desk) -> None:
    plain = desk.upload(STORY.encode(), "plain.txt")
    assert plain.status_code == 302
    article = newest_article(desk.app)
    units = units_of(desk.app, article.id)
    assert not article.text.startswith("\ufeff")
    assert article.text[units[0][1] : units[0][2]] == "The port reopened on Monday, AP reported."
    # The same story with a BOM, from every entry point, is the same text: a duplicate.
    before = snapshot(desk.app)
    bom = b"\xef\xbb\xbf" + STORY.encode()
    with_bom = desk.upload(bom, "bom.txt")
    assert with_bom.status_code == 302
    assert "is already in the project" in desk.client.get(f"/projects/{desk.project}").get_data(
        as_text=True
    )
    assert desk.paste("\ufeff" + STORY).status_code == 302
    api = desk.api({"text": "\ufeff" + STORY})
    assert api.status_code == 200 and api.get_json()["duplicate_of"] == article.id
    result = desk.cli(bom, "bom.txt")
    assert result.exit_code == 0 and "already imported as article" in result.output
    json_bom = desk.cli(b'\xef\xbb\xbf{"text": "' + STORY.encode() + b'"}', "bom.json")
    assert json_bom.exit_code == 0 and "already imported as article" in json_bom.output
    assert snapshot(desk.app) == before


def test_row_10_bom_file_alone(desk: Desk) -> None:
    response = desk.upload(b"\xef\xbb\xbf" + STORY.encode(), "bom.txt")
    assert response.status_code == 302
    article = newest_article(desk.app)
    assert article.text == STORY
    first = units_of(desk.app, article.id)[0]
    assert first[1] == 0 and not article.text[first[1] : first[2]].startswith("\ufeff")


# --- row 11: UTF-16 and UTF-32 --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_row_11_utf16_file_is_refused(desk: Desk, encoding: str) -> None:
    data = STORY.encode(encoding)
    assert_refused_everywhere(desk, data, "wide.txt", "looks like UTF-16; save it as UTF-8")
    assert_refused_everywhere(desk, data, "wide.json", "looks like UTF-16")


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le"])
def test_row_11_utf32_file_is_refused(desk: Desk, encoding: str) -> None:
    message = "UTF-32" if encoding == "utf-32" else "UTF-16"  # no BOM: NULs say "wide"
    assert_refused_everywhere(desk, STORY.encode(encoding), "wide.txt", message)


def test_row_11_no_nul_riddled_text_is_ever_stored(desk: Desk) -> None:
    # The API's JSON may carry NULs as escapes: they are stripped, never stored.
    response = desk.api({"text": "\x00".join("Port open. Ships queued.")})
    assert response.status_code == 201
    article = newest_article(desk.app)
    assert article.text == "Port open. Ships queued."
    assert "\x00" not in article.text
