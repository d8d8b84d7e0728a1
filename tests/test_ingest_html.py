"""Tests for annotator.ingest.html against the hand-written news pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.ingest import IngestError, parse_document

PAGES = sorted((Path(__file__).parent / "data" / "ingest" / "html").glob("*.html"))


def _expected(page: Path) -> dict:
    return json.loads(page.with_name(page.stem + ".expected.json").read_text(encoding="utf-8"))


def test_there_are_five_pages() -> None:
    assert len(PAGES) >= 5


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_blocks_and_metadata(page: Path) -> None:
    exp = _expected(page)
    art = parse_document(page.read_bytes(), page.name)[0]
    blocks = art.text.split("\n\n")
    assert blocks[0] == exp["title"]
    body = [b for b in blocks[1:] if b not in exp["headings"]]
    assert body == exp["paragraphs"]
    headings = [art.text[u.start : u.end] for u in art.units if u.kind == "heading"]
    assert headings == exp["headings"]
    for junk in exp["boilerplate"]:
        assert junk not in art.text
    for key in ("title", "published", "url", "byline", "dateline", "credits"):
        assert getattr(art, key) == exp[key], key


@pytest.mark.parametrize(
    "html",
    [
        "<p>Only one paragraph of text in a fragment.</p>",
        "<html><body><div><p>Unclosed <b>bold <i>and italic</div> text. Second one.",
        "<<<>>><p>Angle soup &amp;&#0;&#xD800;&#99999999; text here.</p>",
        "<html><head><script type='application/ld+json'>{not json</script></head>"
        "<body><p>Body text after broken JSON-LD.</p></body></html>",
    ],
)
def test_malformed_html_parses(html: str) -> None:
    art = parse_document(html.encode(), "x.html")[0]
    assert any(u.kind == "sentence" for u in art.units)


@pytest.mark.parametrize(
    "html",
    ["<html></html>", "<script>var a = 1;</script>", "<nav><a>Home</a></nav>", "<p></p>" * 50],
)
def test_html_without_text_is_refused(html: str) -> None:
    with pytest.raises(IngestError, match="no article text"):
        parse_document(html.encode(), "x.htm")
