"""Identifier normalisation shared by users, labels and the source registry."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi formatting characters: invisible, so two names that
# differ only by them would look identical in every list.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean_name(name: str) -> str:
    """The display form of a name: NFC, no invisible characters, single spaces."""
    name = _INVISIBLE.sub("", unicodedata.normalize("NFC", name))
    return _SPACES.sub(" ", name).strip()


# Typographic variants that NFKC leaves alone but people type interchangeably.
_VARIANTS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-"})


def normalise_name(name: str) -> str:
    """The matching key of a name: NFKC, no invisible characters, one space, case-folded."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", name)).translate(_VARIANTS)
    # Case-folding can leave a string that NFKC would still change, so normalise
    # once more to make the key a fixed point.
    return unicodedata.normalize("NFKC", _SPACES.sub(" ", text).strip().casefold())


def name_problem(name: str, *, max_length: int) -> str | None:
    """Why ``name`` is not acceptable as an identifier, or None when it is."""
    if _CONTROL.search(name):
        return "must not contain control characters or line breaks"
    if _INVISIBLE.search(name):
        return "must not contain invisible (zero-width or bidi) characters"
    cleaned = clean_name(name)
    if not cleaned:
        return "must not be empty"
    if len(cleaned) > max_length:
        return f"must be at most {max_length} characters"
    return None
