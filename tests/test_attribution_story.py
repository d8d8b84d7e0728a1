"""A whole invented wire story (tests/data/attribution/wire_story.txt) end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.attribution import Analysis, FoundSource, analyse_article
from annotator.ingest.parsed import ParsedArticle, ParsedUnit

STORY = Path(__file__).parent / "data" / "attribution" / "wire_story.txt"
_PREFIXES = {"TITLE: ": "title", "HEADING: ": "heading", "CAPTION: ": "caption"}


def load_story(path: Path) -> ParsedArticle:
    """One unit per line; blank lines separate paragraphs; a prefix marks non-sentences."""
    text, units = "", []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        if text:
            text += "\n\n"
        for n, line in enumerate(block.splitlines()):
            kind = "sentence"
            for prefix, prefix_kind in _PREFIXES.items():
                if line.startswith(prefix):
                    kind, line = prefix_kind, line.removeprefix(prefix)
            if n:
                text += " "
            units.append(ParsedUnit(kind, len(text), len(text) + len(line)))
            text += line
    return ParsedArticle(text=text, units=units, dateline="MOSCOW (AP)", credits=["AP"])


@pytest.fixture(scope="module")
def story() -> tuple[ParsedArticle, Analysis]:
    article = load_story(STORY)
    return article, analyse_article(article)


def test_story_sources(story):
    _, analysis = story
    assert analysis.sources == (
        FoundSource(
            "AP",
            "news_agency",
            ("Associated Press", "The Associated Press"),
            "news agency (United States)",
        ),
        FoundSource(
            "KCNA", "news_agency", ("Korean Central News Agency",), "news agency (North Korea)"
        ),
        FoundSource(
            "dpa", "news_agency", ("Deutsche Presse-Agentur", "DPA"), "news agency (Germany)"
        ),
        FoundSource("Igor Petrov", "person", (), "Deputy Foreign Minister"),
        FoundSource("Interfax", "news_agency", (), "news agency (Russia)"),
        FoundSource(
            "Hanna Lindqvist",
            "person",
            (),
            "a researcher at the Stockholm Institute for Security Studies",
        ),
        FoundSource("a diplomat in Seoul", "anonymous", (), None),
    )


def test_story_suggestions(story):
    article, analysis = story
    got = [
        (s.label, s.sources)
        for u, s in zip(article.units, analysis.suggestions, strict=True)
        if u.kind == "sentence"
    ]
    assert got == [
        ("reported_fact", ("KCNA",)),
        ("speculation", ()),
        ("reported_fact", ("KCNA",)),
        ("quote", ("Igor Petrov", "Interfax")),
        ("quote", ("Igor Petrov", "Interfax")),
        ("speculation", ("Igor Petrov",)),
        ("reported_fact", ()),
        ("quote", ("Hanna Lindqvist",)),
        ("speculation", ("a diplomat in Seoul",)),
        ("unclear", ()),
        ("reported_fact", ()),
    ]


def test_story_cues_point_into_the_text(story):
    article, analysis = story
    for suggestion in analysis.suggestions:
        for cue in suggestion.cues if suggestion else ():
            assert article.text[cue.start : cue.end] == cue.text
    first = analysis.suggestions[1]
    assert [c.kind for c in first.cues] == ["dateline", "acronym_definition", "reporting_verb"]


def test_story_mentions(story):
    article, analysis = story
    got = [(m.source, article.text[m.start : m.end]) for m in analysis.mentions]
    assert got == [
        ("AP", "AP"),
        ("KCNA", "Korean Central News Agency"),
        ("KCNA", "KCNA"),
        ("KCNA", "KCNA"),
        ("dpa", "dpa"),
        ("Igor Petrov", "Igor Petrov"),
        ("Interfax", "Interfax"),
        ("Hanna Lindqvist", "Hanna Lindqvist"),
        ("a diplomat in Seoul", "A diplomat in Seoul"),
    ]
