"""Tests for annotator.ingest.decode: strict UTF-8 and text normalisation."""

from __future__ import annotations

import pytest

from annotator.ingest.decode import decode_bytes, normalise_text
from annotator.ingest.parsed import IngestError


def test_bom_is_stripped() -> None:
    assert decode_bytes(b"\xef\xbb\xbfHello.") == "Hello."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        ("Hi there.".encode("utf-16"), "looks like UTF-16; save it as UTF-8"),
        ("Hi there.".encode("utf-16-le"), "looks like UTF-16; save it as UTF-8"),
        ("Hi".encode("utf-32"), "looks like UTF-32; save it as UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text (binary file?)"),
        (b"\x7fELF\x02\x01\x01\x00", "not UTF-8 text (binary file?)"),
        (b"PK\x03\x04\x14\x00", "not UTF-8 text (binary file?)"),
        (b"%PDF-1.7\n", "not UTF-8 text (binary file?)"),
        (b"some text\x00with a NUL in a long line of ordinary text", "(binary file?)"),
    ],
)
def test_refusals(data: bytes, message: str) -> None:
    with pytest.raises(IngestError) as info:
        decode_bytes(data)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"ab\xc0\xafcd", 2),
        (b"abc\xed\xa0\x80", 3),
        (b"abcd\xe2\x82", 4),
        (b"\xef\xbb\xbfa\xff", 4),
    ],
)
def test_invalid_utf8_names_offset(data: bytes, offset: int) -> None:
    with pytest.raises(IngestError, match=f"byte offset {offset}$"):
        decode_bytes(data)


def test_max_bytes() -> None:
    with pytest.raises(IngestError, match="limit is 10 bytes"):
        decode_bytes(b"x" * 11, max_bytes=10)
    assert decode_bytes(b"x" * 10, max_bytes=10) == "x" * 10


def test_line_endings_and_controls() -> None:
    assert normalise_text("a\r\nb\rc\n") == "a\nb\nc\n"
    assert normalise_text("a\x00b\x07c\x1bd\x9fe\tf") == "abcde f"
    # \r\r\n is two line ends, not one.
    assert normalise_text("a\r\r\nb") == "a\n\nb"


def test_nfc_applied_once() -> None:
    assert normalise_text("cafe\u0301") == "caf\u00e9"
    assert normalise_text("caf\u00e9") == "caf\u00e9"


def test_data_characters_kept() -> None:
    text = "a\u200bb\u200cc\u200dd\u202eé\u2066x\u2069 😀 𝔘 \ufeffz"
    assert normalise_text(text) == text


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n\t", "\x00\x01"])
def test_empty_article(text: str) -> None:
    with pytest.raises(IngestError, match="^article is empty$"):
        normalise_text(text)
