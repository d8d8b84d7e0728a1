"""Recognise article metadata lines: publication date, byline, credit line, dateline."""

from __future__ import annotations

import datetime as dt
import re

# Wire-service codes as DW and others print them, mapped to the names the source
# registry uses; unknown names inside a credit line's parentheses are kept as written.
AGENCIES = {
    "ap": "AP",
    "afp": "AFP",
    "dpa": "dpa",
    "rtr": "Reuters",
    "reuters": "Reuters",
    "kna": "KNA",
    "epd": "epd",
    "efe": "EFE",
    "ansa": "ANSA",
    "sid": "SID",
    "apa": "APA",
    "upi": "UPI",
    "yonhap": "Yonhap",
    "xinhua": "Xinhua",
    "kyodo": "Kyodo",
    "tass": "TASS",
    "ips": "IPS",
    "associated press": "AP",
    "agence france-presse": "AFP",
}

_MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

_PREFIX = r"(?:(?:published|updated|last updated|posted|date|dated)(?: on)?\s*:?\s*)?"
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+)?"
_TIME = (
    r"(?:\s*(?:[,|–—-]|at)?\s*\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
    r"(?:\s*\(?(?:[A-Z]{2,5}|UTC|GMT)(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?\)?)?)?"
)
_DATE_BODY = (
    r"(?:(?P<mon1>[a-z]{3,9})\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\.?\s+(?P<mon2>[a-z]{3,9})\.?,?\s+(?P<y2>\d{4})"
    r"|(?P<d3>\d{1,2})\.\s?(?P<m3>\d{1,2})\.\s?(?P<y3>\d{4})"
    r"|(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)"
)
_DATE_LINE = re.compile(_PREFIX + _WEEKDAY + _DATE_BODY + _TIME, re.IGNORECASE)


def parse_date(text: str) -> str | None:
    """ISO date (YYYY-MM-DD) if the whole string is a date, maybe with weekday and time."""
    text = text.strip()
    if len(text) > 80:
        return None
    m = _DATE_LINE.fullmatch(text)
    if not m:
        return None
    g = m.groupdict()
    try:
        if g["y1"]:
            year, month, day = int(g["y1"]), _MONTHS.get(g["mon1"].lower()), int(g["d1"])
        elif g["y2"]:
            year, month, day = int(g["y2"]), _MONTHS.get(g["mon2"].lower()), int(g["d2"])
        elif g["y3"]:
            year, month, day = int(g["y3"]), int(g["m3"]), int(g["d3"])
        else:
            year, month, day = int(g["y4"]), int(g["m4"]), int(g["d4"])
        if month is None:
            return None
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None  # 31.02.2014 and the like


_INITIALS = r"[a-z]{2,4}(?:/[a-z]{2,4})*"
_CREDIT_PARENS = re.compile(rf"(?:{_INITIALS}\s*)?\(([^()]{{2,80}})\)")
_CREDIT_SLASHES = re.compile(r"[a-z]{2,7}(?:/[a-z]{2,7})+")
_CREDIT_DASH = re.compile(r"(?:—|–|--?)\s*([A-Za-z][\w .&-]{1,30})")
_AGENCY_NAME = re.compile(r"[A-Za-z][\w.&' -]{0,29}")
# Slash pairs of ordinary words are text, not author initials.
_COMMON_WORDS = frozenset("and or he she his her him yes no the on off in out up".split())
_LIST_SEP = re.compile(r"\s*(?:[,;/]|\band\b)\s*")


def agency_name(name: str) -> str:
    """The registry spelling of a wire-service name ('rtr' -> 'Reuters')."""
    name = name.strip()
    return AGENCIES.get(name.lower(), name)


def parse_credit_line(text: str) -> list[str] | None:
    """Credits if the line is an article's credit line ('ksb/mkg (AFP, AP)'), else None.

    Returns an empty list for a line of author initials only ('ksb/mkg'): still a
    credit line to remove, but without agencies.
    """
    text = text.strip()
    if len(text) > 100:
        return None
    m = _CREDIT_PARENS.fullmatch(text)
    if m:
        items = [i for i in _LIST_SEP.split(m.group(1)) if i]
        if items and all(_AGENCY_NAME.fullmatch(i) and i[0].isupper() or i.lower() in AGENCIES
                         for i in items):  # fmt: skip
            return [agency_name(i) for i in items]
        return None
    if _CREDIT_SLASHES.fullmatch(text):
        parts = text.split("/")
        if any(p in _COMMON_WORDS for p in parts):
            return None
        if all(len(p) <= 4 or p in AGENCIES for p in parts):
            return [AGENCIES[p] for p in parts if p in AGENCIES]
        return None
    m = _CREDIT_DASH.fullmatch(text)
    if m and m.group(1).strip().lower() in AGENCIES:
        return [agency_name(m.group(1))]
    if text.lower() in AGENCIES:
        return [agency_name(text)]
    return None


# "WASHINGTON (AP) — ", "BERLIN, Nov 14 (Reuters) - ", "SEOUL, Nov. 14 (Yonhap) -- ",
# "KYIV, Ukraine (AP) — ", "Berlin (dpa) - ". The place is upper case unless an
# agency in parentheses makes the pattern unambiguous.
_DATELINE = re.compile(
    r"(?P<place>[A-Z][A-Z'.-]+(?:[ -][A-Z][A-Z'.-]+){0,3}"
    r"|(?=[^()]{1,40}\()[A-Z][\w'.-]+(?: [A-Z][\w'.-]+){0,3})"
    r"(?:,\s*(?P<extra>[A-Z][\w.]*(?: [\w.]+){0,3}))?"
    r"\s*(?:\((?P<agency>[A-Za-z][\w .&-]{0,30})\))?"
    r"\s*(?P<dash>—|–|--|-|:)\s"
)


def parse_dateline(text: str) -> tuple[str, str | None] | None:
    """(place, agency or None) if a paragraph opens with a dateline, else None."""
    m = _DATELINE.match(text)
    if not m:
        return None
    place, agency = m.group("place"), m.group("agency")
    if not place.isupper() and agency is None:
        return None
    if agency is None and m.group("dash") in ":-":
        return None  # "NOTE: ..." or "UK-US talks -" are not datelines
    if len(place) < 2:
        return None
    return place, agency_name(agency) if agency else None


_BYLINE = re.compile(r"(?:By|BY)\s+(?P<who>[^\s].{1,150})")
_NAME_WORD = re.compile(r"[A-Z][\w'.-]*|and|&|de|da|del|der|van|von|la|le|al|bin|ibn|el")


def parse_byline(text: str) -> tuple[str, list[str]] | None:
    """(names, agencies) for a 'By Jane Doe and John Roe, AP' line, else None."""
    m = _BYLINE.fullmatch(text.strip())
    if not m:
        return None
    who = m.group("who").strip()
    if who[-1] in ".!?:;":
        return None
    parts = [p.strip() for p in who.split(",")]
    agencies: list[str] = []
    while len(parts) > 1 and (parts[-1].lower() in AGENCIES or parts[-1].isupper()):
        agencies.insert(0, agency_name(parts.pop()))
    names = ", ".join(parts)
    words = names.split()
    if not words or len(words) > 12 or not all(_NAME_WORD.fullmatch(w.strip(",")) for w in words):
        return None
    return names, agencies
