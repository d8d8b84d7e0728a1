"""The attribution analysis on the seed article (read from shared/, never copied here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from annotator.attribution import Analysis, Suggestion, analyse_article
from annotator.ingest.parsed import ParsedArticle, ParsedUnit

SEED = (
    Path(__file__).parents[1].parent / "shared" / "seed" / "dw-2014-north-korea-envoy-to-russia.txt"
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"”]?\s+(?=[\"“]?[A-Z])")
_DATE = re.compile(r"[A-Z][a-z]+ \d{1,2}, \d{4}")
_CREDITS = re.compile(r"[\w/]+ \(([^()]+)\)")


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """Split a paragraph on sentence-final punctuation followed by a capital (test helper)."""
    spans, start = [], 0
    for m in _SENTENCE_BREAK.finditer(paragraph):
        # A closing quotation mark after the full stop belongs to the sentence it ends.
        end = m.start() + len(m.group()) - len(m.group().lstrip('"”'))
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(paragraph)))
    return spans


def build_article(raw: str) -> ParsedArticle:
    """Turn the seed page into a ParsedArticle the way ingest would (a small stand-in)."""
    text_parts: list[str] = []
    units: list[ParsedUnit] = []
    title = published = None
    credits: list[str] = []
    offset = 0
    for block in (b.strip() for b in re.split(r"\n\s*\n", raw)):
        if not block or re.match(r"(?:\d+\.\s+)?Skip ", block):
            continue
        if (m := _CREDITS.fullmatch(block)) is not None:
            credits = [c.strip() for c in m.group(1).split(",")]
            break  # what follows the credits is page furniture
        if _DATE.fullmatch(block):
            published = block
            continue
        if offset:
            text_parts.append("\n\n")
            offset += 2
        if "Image:" in block:
            units.append(ParsedUnit("caption", offset, offset + len(block)))
        elif block[-1] not in '.!?"”':
            kind = "title" if title is None else "heading"
            title = title or block
            units.append(ParsedUnit(kind, offset, offset + len(block)))
        else:
            units += [
                ParsedUnit("sentence", offset + a, offset + b) for a, b in split_sentences(block)
            ]
        text_parts.append(block)
        offset += len(block)
    return ParsedArticle(
        text="".join(text_parts), units=units, title=title, published=published, credits=credits
    )


@pytest.fixture(scope="module")
def seed() -> tuple[ParsedArticle, Analysis]:
    """The seed article as a ParsedArticle and its analysis."""
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED} (shared/ sits beside the checkout)")
    article = build_article(SEED.read_text(encoding="utf-8"))
    return article, analyse_article(article)


def _suggestion(seed: tuple[ParsedArticle, Analysis], opening: str) -> Suggestion:
    """The suggestion of the one sentence that starts with ``opening``."""
    article, analysis = seed
    found = [
        s
        for u, s in zip(article.units, analysis.suggestions, strict=True)
        if article.text[u.start : u.end].startswith(opening)
    ]
    assert len(found) == 1, f"{len(found)} units start with {opening!r}"
    assert found[0] is not None
    return found[0]


def test_helper_builds_the_expected_units(seed):
    article, _ = seed
    kinds = [u.kind for u in article.units]
    assert kinds.count("title") == 1
    assert kinds.count("caption") == 1
    assert kinds.count("heading") == 1
    assert kinds.count("sentence") == 12
    assert article.credits == ["AFP", "AP"]
    for u in article.units:
        assert article.text[u.start : u.end].strip() == article.text[u.start : u.end]


def test_seed_sources_are_exactly_the_four_cited(seed):
    _, analysis = seed
    by_name = {s.name: s for s in analysis.sources}
    assert set(by_name) == {"KCNA", "AP", "AFP", "Koh Yu-hwan"}
    assert by_name["KCNA"].kind == "news_agency"
    assert "Korean Central News Agency" in by_name["KCNA"].aliases
    assert by_name["AP"].kind == "news_agency"
    assert by_name["AFP"].kind == "news_agency"
    assert by_name["Koh Yu-hwan"].kind == "person"
    assert "Dongguk University" in (by_name["Koh Yu-hwan"].description or "")
    assert "expert" in (by_name["Koh Yu-hwan"].description or "")


@pytest.mark.parametrize("not_a_source", ["Kim Jong Un", "Choe Ryong Hae", "Dongguk University"])
def test_people_the_article_is_about_are_not_sources(seed, not_a_source):
    _, analysis = seed
    names = {s.name for s in analysis.sources} | {a for s in analysis.sources for a in s.aliases}
    assert not_a_source not in names


@pytest.mark.parametrize(
    ("opening", "label", "sources"),
    [
        ("Choe Ryong Hae, a top", "speculation", ()),  # "is set to travel"
        ("The specific purpose", "reported_fact", ()),
        ("Kim Jong Un plans to send", "reported_fact", ("KCNA",)),
        ("KCNA disclosed neither", "reported_fact", ("KCNA",)),
        ("At a time when", "speculation", ()),
        ("During the Soviet period", "reported_fact", ()),
        ("Renewing the degenerated", "speculation", ()),
        ("The North's ties", "reported_fact", ()),
        ("Choe's trip could", "speculation", ()),
        ('"Russia could be looking', "quote", ("Koh Yu-hwan", "AP")),
        ("Friday's announcement", "reported_fact", ()),
        ("The resolution came", "reported_fact", ()),
    ],
)
def test_seed_suggestions(seed, opening, label, sources):
    suggestion = _suggestion(seed, opening)
    assert (suggestion.label, suggestion.sources) == (label, sources)


def test_non_sentences_get_no_suggestion(seed):
    article, analysis = seed
    assert len(analysis.suggestions) == len(article.units)
    for unit, suggestion in zip(article.units, analysis.suggestions, strict=True):
        assert (suggestion is None) == (unit.kind != "sentence")


def test_seed_cues_explain_the_suggestions(seed):
    article, _ = seed
    kcna = _suggestion(seed, "Kim Jong Un plans to send")
    assert {(c.kind, c.text) for c in kcna.cues} == {
        ("reporting_verb", "reported"),
        ("acronym_definition", "Korean Central News Agency (KCNA)"),
    }
    quote = _suggestion(seed, '"Russia could be looking')
    kinds = [c.kind for c in quote.cues]
    assert kinds[0] == "quotation" and quote.cues[0].text.startswith('"Russia could')
    assert quote.cues[0].text.endswith('Ukraine,"')
    assert {"said", "told"} <= {c.text for c in quote.cues if c.kind == "reporting_verb"}
    assert [c.text for c in _suggestion(seed, "At a time when").cues] == ["expected to"]
    for unit_cues in (kcna.cues, quote.cues):
        for cue in unit_cues:
            assert article.text[cue.start : cue.end] == cue.text


def test_seed_mentions_cover_every_occurrence(seed):
    article, analysis = seed
    spans = [(m.source, article.text[m.start : m.end]) for m in analysis.mentions]
    assert spans.count(("KCNA", "KCNA")) == 2
    assert spans.count(("KCNA", "Korean Central News Agency")) == 1
    assert spans.count(("AP", "AP")) == 2  # the photo credit and "the news agency AP"
    assert spans.count(("Koh Yu-hwan", "Koh Yu-hwan")) == 1
    assert [m.start for m in analysis.mentions] == sorted(m.start for m in analysis.mentions)
