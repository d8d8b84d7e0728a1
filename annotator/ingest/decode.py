"""Bytes to text: strict UTF-8 decoding and the one normalisation pass before any offsets."""

from __future__ import annotations

import re
import unicodedata

from .parsed import IngestError

# File signatures of formats people rename to .txt by mistake.
_BINARY_MAGIC = (
    b"\x89PNG",
    b"\x7fELF",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"%PDF",
    b"GIF8",
    b"\xff\xd8\xff",  # JPEG
    b"\x1f\x8b",  # gzip
    b"\xd0\xcf\x11\xe0",  # old MS Office
)
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# C0 and C1 controls and DEL, except \t and \n (handled separately).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Line-like controls become newlines rather than vanish, so words stay apart.
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\x85": "\n", "\u2028": "\n"})
# Invisible format characters (zero-width, bidi controls, soft hyphen): kept as
# data, but a text made of nothing else is as empty as one of spaces.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Lone surrogates decode from JSON escapes ("\\ud800") but are not storable text:
# UTF-8 (SQLite, PostgreSQL, every export) cannot encode them.
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_bytes(data: bytes, *, max_bytes: int | None = None) -> str:
    """Decode an uploaded file as strict UTF-8 (a BOM is dropped), or raise IngestError."""
    if not data:
        raise IngestError("empty file")
    if max_bytes is not None and len(data) > max_bytes:
        raise IngestError(f"file too large: {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    head = data[:4]
    if head.startswith(_UTF32_BOMS):
        raise IngestError("looks like UTF-32; save it as UTF-8")
    if head.startswith(_UTF16_BOMS):
        raise IngestError("looks like UTF-16; save it as UTF-8")
    if data.startswith(_BINARY_MAGIC):
        raise IngestError("not UTF-8 text (binary file?)")
    if b"\x00" in data:
        # BOM-less UTF-16 puts a NUL beside every ASCII character; anything else
        # with NULs is a binary file. Sample the start so the check stays cheap.
        sample = data[:4096]
        if sample.count(b"\x00") * 3 >= len(sample):
            raise IngestError("looks like UTF-16; save it as UTF-8")
        raise IngestError("not UTF-8 text (binary file?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # utf-8-sig offsets count from after the BOM.
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise IngestError(
            f"not UTF-8 text: invalid byte 0x{data[offset]:02x} at byte offset {offset}"
        ) from None


def normalise_text(text: str, *, allow_empty: bool = False) -> str:
    """Canonicalise line ends, drop control characters, apply NFC; refuse empty text.

    ``allow_empty`` is for optional metadata (a title), where nothing left is fine.
    """
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise IngestError(
            f"not valid Unicode text: a lone surrogate U+{ord(surrogate.group()):04X} "
            f"at character {surrogate.start()}"
        )
    # Line ends first: every later step (and every offset) sees only \n.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM pasted along with the text; inner U+FEFF stays (it is data)
    text = text.translate(_LINE_BREAKS).replace("\u2029", "\n\n").replace("\t", " ")
    # NUL cannot be stored by PostgreSQL and other controls are invisible noise;
    # zero-width, bidi and emoji characters are kept: they are part of the text.
    text = _CONTROLS.sub("", text)
    # Policy: NFC once, here, before any offset exists, so composed and decomposed
    # input ("café") give the same canonical text and the same offsets.
    text = unicodedata.normalize("NFC", text)
    if not allow_empty and not _INVISIBLE.sub("", text).strip():
        raise IngestError("article is empty")
    return text
