"""Tests for annotator.ingest.segment: the news sentence splitter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from annotator.ingest.segment import MAX_UNIT_CHARS, split_sentences

GOLD = Path(__file__).parent / "data" / "ingest" / "split_gold.txt"


def _gold() -> list[list[str]]:
    paragraphs = GOLD.read_text(encoding="utf-8").split("\n\n")
    return [[s for s in p.split("\n") if s.strip()] for p in paragraphs if p.strip()]


def _split(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_gold_set_is_large_enough() -> None:
    assert sum(len(p) for p in _gold()) >= 120


@pytest.mark.parametrize("para", _gold(), ids=lambda p: p[0][:40])
def test_gold_paragraph(para: list[str]) -> None:
    assert _split(" ".join(para)) == para


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"We have never seen this. Safety comes first," she told dpa. Then she left.',
            ['"We have never seen this. Safety comes first," she told dpa.', "Then she left."],
        ),
        (
            "“We have never seen this. Safety comes first,” she told dpa.",
            ["“We have never seen this. Safety comes first,” she told dpa."],
        ),
        (
            '"We have never seen this." Safety comes first, she said.',
            ['"We have never seen this."', "Safety comes first, she said."],
        ),
        (
            "“It is over.” The crowd went home.",
            ["“It is over.”", "The crowd went home."],
        ),
        (
            "He works at Acme Inc. The company is small.",
            ["He works at Acme Inc.", "The company is small."],
        ),
        (
            "They live in the U.S. The move was hard.",
            ["They live in the U.S.", "The move was hard."],
        ),
    ],
)
def test_quote_and_abbreviation_rules(text: str, expected: list[str]) -> None:
    assert _split(text) == expected


def test_offsets_are_code_points() -> None:
    text = "😀 𝔘 first. Second one."
    spans = split_sentences(text)
    # 😀, space, 𝔘, space, "first." = 10 code points (UTF-16 would count 12).
    assert spans == [(0, 10), (11, 22)]
    assert text[spans[1][0] : spans[1][1]] == "Second one."


def test_no_split_before_combining_mark() -> None:
    # A combining mark after the space belongs to that space's cluster.
    text = "One. \u0301Two."
    assert split_sentences(text) == [(0, len(text))]


def test_long_line_is_capped_at_whitespace() -> None:
    text = " ".join(["word"] * 2000)  # 9,999 code points, no punctuation
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= MAX_UNIT_CHARS for s, e in spans)
    assert all(not text[s:e].startswith(" ") and text[s:e].endswith("word") for s, e in spans)


def test_hard_cap_keeps_zwj_sequences() -> None:
    family = "👩\u200d👩\u200d👧"
    text = family * 1000  # no whitespace at all
    spans = split_sentences(text)
    assert all(e - s <= MAX_UNIT_CHARS for s, e in spans)
    for s, _e in spans:
        assert text[s] == "👩" and text[s - 1 : s] != "\u200d"


def test_ten_megabytes_single_line_is_fast() -> None:
    text = "a" * 10_000_000
    t0 = time.perf_counter()
    spans = split_sentences(text)
    assert time.perf_counter() - t0 < 5
    assert len(spans) == 5000
    assert spans[-1][1] == len(text)
