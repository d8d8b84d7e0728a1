"""Tests for annotator.ingest.pipeline: dispatch, JSON input, bad input and invariants."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.ingest import IngestError, ParsedArticle, parse_document, parse_text
from annotator.ingest.segment import MAX_UNIT_CHARS


def _unit_texts(art: ParsedArticle) -> list[str]:
    return [art.text[u.start : u.end] for u in art.units]


def assert_tiles(art: ParsedArticle) -> None:
    """Units are ordered, disjoint, trimmed and cover every non-whitespace character."""
    covered = [False] * len(art.text)
    last = 0
    for u in art.units:
        piece = art.text[u.start : u.end]
        assert piece and piece == piece.strip()
        assert u.start >= last
        last = u.end
        for i in range(u.start, u.end):
            covered[i] = True
        assert u.end - u.start <= MAX_UNIT_CHARS
    for ch, cov in zip(art.text, covered, strict=True):
        assert cov or ch.isspace()
    assert "\r" not in art.text


# --- dispatch and JSON -------------------------------------------------------


def test_unknown_extension() -> None:
    with pytest.raises(IngestError) as info:
        parse_document(b"x", "notes.xyz")
    assert str(info.value) == "unsupported file type .xyz; use .txt, .html, .json or .jsonl"


def test_json_object_and_list() -> None:
    one = {"text": "First sentence. Second one.", "title": "A title", "credits": ["AP"]}
    art = parse_document(json.dumps(one).encode(), "a.json")[0]
    assert art.title == "A title"
    assert art.credits == ["AP"]
    assert _unit_texts(art) == ["A title", "First sentence.", "Second one."]
    arts = parse_document(json.dumps([one, {"text": "Other."}]).encode(), "b.json")
    assert [a.title for a in arts] == ["A title", None]


def test_json_metadata_fields() -> None:
    item = {
        "text": "Body text here.",
        "url": "https://example.org/a",
        "published": "2014-11-14T10:03:00Z",
        "byline": "Jane Doe",
    }
    art = parse_document(json.dumps(item).encode(), "a.json")[0]
    assert (art.url, art.published, art.byline) == (
        "https://example.org/a",
        "2014-11-14",
        "Jane Doe",
    )


def test_jsonl_one_per_line() -> None:
    data = b'{"text": "One."}\n\n{"text": "Two.", "title": "T"}\n'
    arts = parse_document(data, "x.jsonl")
    assert [a.text for a in arts] == ["One.", "T\n\nTwo."]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b'{"text": "ok."}\n{"text": ', "x.jsonl", "line 2: invalid JSON"),
        (b"[1, 2", "x.json", "invalid JSON"),
        (b'[{"text": "ok."}, 5]', "x.json", "item 2: expected an object"),
        (b'[{"title": "no text"}]', "x.json", "item 1: 'text' must be a non-empty string"),
        (b'{"text": "   "}', "x.json", "item 1: 'text' must be a non-empty string"),
        (b'{"text": 5}', "x.json", "item 1: 'text' must be a non-empty string"),
        (b'{"text": "a.", "title": 3}', "x.json", "item 1: 'title' must be a string"),
        (b'{"text": "a.", "credits": "AP"}', "x.json", "item 1: 'credits' must be a list"),
        (b'{"text": "a.", "url": "javascript:alert(1)"}', "x.json", "item 1: url must start"),
        (b'{"text": "a.", "published": "soon"}', "x.json", "item 1: published must be a date"),
        (b'{"text": "ok."}\n[]', "x.jsonl", "line 2: expected an object"),
        (b"[]", "x.json", "holds no articles"),
    ],
)
def test_bad_json(data: bytes, name: str, message: str) -> None:
    with pytest.raises(IngestError) as info:
        parse_document(data, name)
    assert message in str(info.value)


# --- bad input rows (reference/bad_input_and_attacks.md) ---------------------


@pytest.mark.parametrize(
    ("row", "data", "message"),
    [
        (1, b"", "empty file"),
        (2, b"   \n\n\t\r\n  ", "article is empty"),
        (8, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8 text (binary file?)"),
        (8, b"\x7fELF\x02\x01\x01\x00\x00\x00", "not UTF-8 text (binary file?)"),
        (8, b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "not UTF-8 text (binary file?)"),
        (9, b"\xff\xfe", "looks like UTF-16"),
        (9, b"abc \xc0\xaf def", "byte offset 4"),
        (9, b"abc \xed\xa0\x80 def", "byte offset 4"),
        (9, b"abc def \xe2\x82", "byte offset 8"),
        (11, "Some article text.".encode("utf-16"), "looks like UTF-16; save it as UTF-8"),
        (11, "Some article text.".encode("utf-16-be"), "looks like UTF-16; save it as UTF-8"),
        (12, b"Text with a NUL \x00 byte.", "not UTF-8 text (binary file?)"),
    ],
)
def test_bad_input_refused(row: int, data: bytes, message: str) -> None:
    with pytest.raises(IngestError) as info:
        parse_document(data, "article.txt")
    assert message in str(info.value), f"row {row}"


def test_row5_6_ten_megabyte_line() -> None:
    data = ("word " * 2_000_000).encode()  # 10 MB, one line, no punctuation
    t0 = time.perf_counter()
    art = parse_document(data, "big.txt")[0]
    assert time.perf_counter() - t0 < 10
    assert len(art.units) > 4000
    assert max(u.end - u.start for u in art.units) <= MAX_UNIT_CHARS
    assert art.text[art.units[-1].start : art.units[-1].end].endswith("word")


def test_row10_bom_stripped() -> None:
    art = parse_document(b"\xef\xbb\xbfFirst one. Second one.", "a.txt")[0]
    assert art.text == "First one. Second one."
    assert (art.units[0].start, art.units[0].end) == (0, 10)


def test_row12_controls_stripped_in_pasted_text() -> None:
    art = parse_text("Tab\there\x00 and\x07 bell\x1b. Next\x85one.")
    # NUL, BEL and ESC vanish; the tab is a space; NEL is a line break, joined as a wrap.
    assert art.text == "Tab here and bell. Next one."
    assert "\x00" not in art.text and "\x07" not in art.text


def test_row13_line_endings_identical() -> None:
    base = "A title\n\nFirst line\nwrapped here. Second.\n\nThird one."
    lf = parse_document(base.encode(), "a.txt")
    crlf = parse_document(base.replace("\n", "\r\n").encode(), "a.txt")
    cr = parse_document(base.replace("\n", "\r").encode(), "a.txt")
    mixed = parse_document(
        b"A title\r\n\rFirst line\rwrapped here. Second.\n\r\nThird one.", "a.txt"
    )
    assert lf == crlf == cr == mixed
    assert lf[0].text == "A title\n\nFirst line wrapped here. Second.\n\nThird one."


def test_row14_nfc_once() -> None:
    composed = parse_document("Le café est ouvert. Il pleut.".encode(), "a.txt")[0]
    decomposed = parse_document("Le cafe\u0301 est ouvert. Il pleut.".encode(), "a.txt")[0]
    assert composed == decomposed
    assert _unit_texts(composed) == ["Le café est ouvert.", "Il pleut."]


def test_row15_astral_offsets() -> None:
    art = parse_document("😀𝔘 Kim said so. KCNA reported it.".encode(), "a.txt")[0]
    assert [(u.start, u.end) for u in art.units] == [(0, 15), (16, 33)]
    assert art.text[16:20] == "KCNA"


def test_row16_zero_width_preserved() -> None:
    text = "Zero\u200bwidth\u200c join\u200d here.\ufeff Next one."
    art = parse_text(text)
    assert art.text == text
    assert _unit_texts(art) == ["Zero\u200bwidth\u200c join\u200d here.\ufeff", "Next one."]


def test_row17_bidi_preserved() -> None:
    text = "\u202eHe said \u2066שלום\u2069 today. مرحبا بالعالم."
    art = parse_text(text)
    assert art.text == text
    assert len(art.units) == 2


# --- properties ----------------------------------------------------------------

_ALPHABET = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(
        list("\n\r .!?\"“”'")
        + ["\r\n", "\u0301", "\u200b", "\u200c", "\u200d", "\ufeff", "\u202e", "\u2066", "\u2069"]
        + ["😀", "👩\u200d👩\u200d👧", "🇩🇪", "𝔘", "שלום", "مرحبا", "Mr.", "U.S.", "e\u0301"]
    ),
)
_TEXT = st.lists(_ALPHABET, max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_parse_text_never_crashes_and_tiles(text: str) -> None:
    try:
        art = parse_text(text)
    except IngestError:
        return
    assert_tiles(art)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30).map(lambda s: s.replace("\r", "")), max_size=6))
def test_line_ending_variants_are_identical(lines: list[str]) -> None:
    text = "\n".join(lines)
    results = []
    for sep in ("\n", "\r\n", "\r"):
        try:
            results.append(parse_text(text.replace("\n", sep)))
        except IngestError as exc:
            results.append(str(exc))
    assert results[0] == results[1] == results[2]
