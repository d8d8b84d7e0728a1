"""normalise_name, the built-in agency registry and acronym definitions."""

from __future__ import annotations

import pytest

from annotator.attribution import BUILTIN_AGENCIES, FoundSource, normalise_name
from annotator.attribution.acronyms import find_acronyms


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("KCNA", "kcna"),
        ("ＫＣＮＡ", "kcna"),  # fullwidth letters (NFKC)
        ("K\u200bCNA", "kcna"),  # zero-width space
        ("\u202aAP\u202c", "ap"),  # bidi embedding
        ("\u2067Reuters\u2069", "reuters"),  # bidi isolate
        ("  Korean   Central\tNews\nAgency ", "korean central news agency"),
        ("Korea\u2019s Unification Ministry", "korea's unification ministry"),
        ("Koh Yu\u2011hwan", "koh yu-hwan"),  # non-breaking hyphen
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("Agence\u00a0France-Presse", "agence france-presse"),  # no-break space
    ],
)
def test_normalise_name(raw, key):
    assert normalise_name(raw) == key


def test_normalise_name_is_idempotent():
    for raw in ("  Ｋorean\u200b Central News Agency ", "Straße", "AFP"):
        assert normalise_name(normalise_name(raw)) == normalise_name(raw)


def test_builtin_agencies_shape():
    by_name = {a.name: a for a in BUILTIN_AGENCIES}
    assert len(by_name) == len(BUILTIN_AGENCIES), "canonical names are unique"
    assert all(isinstance(a, FoundSource) and a.kind == "news_agency" for a in BUILTIN_AGENCIES)
    expected = {
        "AP": "Associated Press",
        "AFP": "Agence France-Presse",
        "dpa": "Deutsche Presse-Agentur",
        "KCNA": "Korean Central News Agency",
        "PTI": "Press Trust of India",
        "Yonhap": "Yonhap News Agency",
        "Xinhua": "Xinhua News Agency",
    }
    for name, alias in expected.items():
        assert alias in by_name[name].aliases
    for name in ("Reuters", "Kyodo", "TASS", "Interfax", "ANSA", "EFE", "Bloomberg", "TT"):
        assert name in by_name


def test_builtin_spellings_do_not_collide():
    keys: dict[str, str] = {}
    for agency in BUILTIN_AGENCIES:
        for spelling in (agency.name, *agency.aliases):
            key = normalise_name(spelling)
            assert keys.setdefault(key, agency.name) == agency.name, spelling


@pytest.mark.parametrize(
    ("text", "short", "long"),
    [
        ("the Korean Central News Agency (KCNA) said", "KCNA", "Korean Central News Agency"),
        (
            "by the International Atomic Energy Agency (IAEA).",
            "IAEA",
            "International Atomic Energy Agency",
        ),
        ("Deutsche Presse-Agentur (dpa) reported", "dpa", "Deutsche Presse-Agentur"),
        (
            "a vote at the United Nations General Assembly (UNGA) on",
            "UNGA",
            "United Nations General Assembly",
        ),
    ],
)
def test_acronym_definitions(text, short, long):
    [found] = find_acronyms(text)
    assert (found.short, found.long) == (short, long)
    assert text[found.start : found.end] == f"{long} ({short})"


@pytest.mark.parametrize(
    "text",
    ["Choe Ryong Hae (pictured) arrived.", "The talks (AFP, AP) ended.", "SEOUL (AP) - A test"],
)
def test_not_acronym_definitions(text):
    assert find_acronyms(text) == []
