"""Acronym definitions such as "the Korean Central News Agency (KCNA)"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAREN_RE = re.compile(r"\(([A-Z][A-Za-z0-9&.-]{1,11}|[a-z]{2,5})\)")
_CUT = re.compile(r"[,;:()\n\"“”]")


@dataclass(frozen=True, slots=True)
class AcronymDef:
    """``long (short)`` at text[start:end]."""

    short: str
    long: str
    start: int
    end: int


def _long_form(short: str, candidate: str) -> int | None:
    """Schwartz & Hearst (2003): index in ``candidate`` where the long form starts, or None."""
    s, i = len(short) - 1, len(candidate) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (
            candidate[i].lower() != c or (s == 0 and i > 0 and candidate[i - 1].isalnum())
        ):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    return candidate.rfind(" ", 0, i + 1) + 1


def find_acronyms(text: str) -> list[AcronymDef]:
    """Return every "Long Form (ABBR)" in the text whose letters spell the abbreviation."""
    found = []
    for m in _PAREN_RE.finditer(text):
        short = m.group(1)
        letters = sum(ch.isalpha() for ch in short)
        window = text[max(0, m.start() - 120) : m.start()].rstrip()
        cut = max((c.end() for c in _CUT.finditer(window)), default=0)
        words = window[cut:].split()[-min(letters + 5, letters * 2) :]
        candidate = " ".join(words)
        at = _long_form(short, candidate)
        if at is None:
            continue
        long = candidate[at:]
        # A long form is a name: capitalised, longer than the abbreviation, more than a word.
        if len(long) <= len(short) or " " not in long and "-" not in long or not long[0].isupper():
            continue
        long_start = window.rfind(long) + max(0, m.start() - 120)
        found.append(AcronymDef(short, long, long_start, m.end()))
    return found
