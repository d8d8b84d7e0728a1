"""Properties that hold for any text: offsets stay inside it, nothing crashes."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.attribution import analyse_article, normalise_name
from annotator.ingest.parsed import ParsedArticle, ParsedUnit

# Pieces that exercise the rules, mixed with arbitrary text (quotes, bidi, astral planes).
PIECES = st.sampled_from(
    [
        '"',
        "“",
        "”",
        "„",
        "‘",
        "’",
        "(",
        ")",
        "AP",
        "(AFP, TT)",
        "KCNA",
        " said ",
        " told ",
        "according to ",
        "citing ",
        " quoted ",
        " as saying ",
        "Koh Yu-hwan",
        ", a professor, ",
        "could ",
        "would ",
        "?",
        ".",
        ", ",
        "the Korean Central News Agency (KCNA)",
        " he ",
        "officials familiar with the matter",
        " is to ",
        "\n",
        "\u202e",
        "🙂",
        "Ｋ",
    ]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join)


def split_units(text: str, cuts: list[int], kinds: list[str]) -> list[ParsedUnit]:
    """Cut the text at sorted positions into consecutive, non-overlapping units."""
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [
        ParsedUnit(kinds[n % len(kinds)], a, b)
        for n, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
        if a < b
    ]


@settings(max_examples=300, deadline=None)
@given(
    TEXT,
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
    st.lists(st.sampled_from(["sentence", "sentence", "title", "caption"]), min_size=1),
    st.lists(st.sampled_from(["AFP", "AP", "dpa", "Local Desk", ""]), max_size=3),
)
def test_analysis_is_well_formed(text, cuts, kinds, credits):
    article = ParsedArticle(text=text, units=split_units(text, cuts, kinds), credits=credits)
    analysis = analyse_article(article)
    assert len(analysis.suggestions) == len(article.units)
    names = {s.name for s in analysis.sources}
    spellings = {s.name: {s.name, *s.aliases} for s in analysis.sources}
    for unit, suggestion in zip(article.units, analysis.suggestions, strict=True):
        assert (suggestion is None) == (unit.kind != "sentence")
        if suggestion is None:
            continue
        assert suggestion.label in ("reported_fact", "quote", "speculation", "unclear")
        assert set(suggestion.sources) <= names
        assert len(set(suggestion.sources)) == len(suggestion.sources)
        for cue in suggestion.cues:
            assert 0 <= cue.start <= cue.end <= len(text)
            assert text[cue.start : cue.end] == cue.text
    for mention in analysis.mentions:
        assert mention.source in names
        assert 0 <= mention.start < mention.end <= len(text)
        found = spellings[mention.source]
        kind = next(s.kind for s in analysis.sources if s.name == mention.source)
        if kind != "anonymous":
            assert text[mention.start : mention.end] in found
    starts = [m.start for m in analysis.mentions]
    assert starts == sorted(starts)


@given(st.text())
def test_normalise_name_is_idempotent_and_trimmed(raw):
    key = normalise_name(raw)
    assert normalise_name(key) == key
    assert key == key.strip()
    assert "  " not in key


def test_a_huge_single_sentence_stays_linear():
    """A 10 MB one-line paste may reach us as one unit; every look-back must be bounded."""
    piece = (
        'Koh Yu-hwan said "the deal would collapse," the ministry reported, citing officials '
        "who spoke on condition of anonymity (AFP), and analysts believe it could fail "
    )
    text = piece * 12_000  # about 2 MB, one "sentence", thousands of cues
    article = ParsedArticle(text=text, units=[ParsedUnit("sentence", 0, len(text))])
    started = time.perf_counter()
    analysis = analyse_article(article)
    # Quadratic look-backs would take hours here; linear work takes about a second.
    assert time.perf_counter() - started < 20
    assert analysis.suggestions[0].label == "quote"
    assert "Koh Yu-hwan" in analysis.suggestions[0].sources
