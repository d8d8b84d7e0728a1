"""Turn a plain-text copy of a news page into title, heading and paragraph blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Block, Extracted
from .boilerplate import (
    is_caption_like,
    is_furniture,
    is_heading_like,
    is_image_credit,
)
from .meta import parse_byline, parse_credit_line, parse_date, parse_dateline

_SPACES = re.compile(r"[ \t]{2,}")
_MD_HEADING = re.compile(r"#{1,6}\s+(.*?)\s*#*")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A block before classification; ``kind`` is set when the markup already says it."""

    text: str
    kind: str | None = None
    lines: int = 1


def clean_line(line: str) -> str:
    """Strip a line and collapse runs of spaces, the way wrapped text is canonicalised."""
    return _SPACES.sub(" ", line.strip())


def text_to_candidates(text: str) -> list[Candidate]:
    """Group non-blank lines into paragraphs, dropping page furniture and photo captions."""
    out: list[Candidate] = []
    group: list[str] = []

    def flush() -> None:
        if group:
            out.append(Candidate(" ".join(group), None, len(group)))
            group.clear()

    for raw in text.split("\n"):
        line = clean_line(raw)
        if not line:
            flush()
        elif is_furniture(line):
            continue
        elif is_image_credit(line):
            # A caption sits alone right above its credit ("Choe Ryong-hae" /
            # "Image: picture-alliance/AP"); a wrapped paragraph line would not be alone.
            if len(group) == 1 and is_caption_like(group[0]):
                group.clear()
        elif m := _MD_HEADING.fullmatch(line):
            flush()
            if m.group(1):
                out.append(Candidate(m.group(1), "heading"))
        else:
            group.append(line)
    flush()
    return out


def _is_title_like(text: str) -> bool:
    return (
        2 <= len(text) <= 250
        and len(text.split()) <= 30
        and text[-1] not in ".,;:"
        and sum(c.isalpha() for c in text) >= 2
    )


def classify(candidates: list[Candidate], *, detect_title: bool = True) -> Extracted:
    """Sort candidates into title, headings, paragraphs and metadata, in reading order."""
    ex = Extracted()
    blocks: list[Block] = []
    seen_paragraph = False
    guessed: set[int] = set()  # headings recognised by shape, not by markup
    for cand in candidates:
        text = cand.text
        if cand.kind != "heading":
            if (iso := parse_date(text)) is not None:
                # A date-only line is metadata; the first one is the publication date.
                ex.published = ex.published or iso
                continue
            if (credits := parse_credit_line(text)) is not None:
                ex.add_credits(credits)
                continue
            if (by := parse_byline(text)) is not None and ex.byline is None:
                ex.byline = by[0]
                ex.add_credits(by[1])
                continue
            if is_furniture(text) or is_image_credit(text):
                continue  # HTML paragraphs reach here without the line pass
        if detect_title and ex.title is None and not blocks and cand.lines == 1:
            if _is_title_like(text):
                ex.title = text
                blocks.append(Block("title", text))
                continue
        kind = cand.kind
        if kind is None:
            kind = "heading" if cand.lines == 1 and is_heading_like(text) else "paragraph"
            if kind == "heading":
                guessed.add(len(blocks))
        if kind == "paragraph" and not seen_paragraph:
            seen_paragraph = True
            if (dl := parse_dateline(text)) is not None:
                ex.dateline = dl[0]
                ex.add_credits([dl[1]] if dl[1] else [])
        blocks.append(Block(kind, text))
    # A heading must introduce a paragraph: short lines after the last one stay text.
    last = max((i for i, b in enumerate(blocks) if b.kind == "paragraph"), default=-1)
    ex.blocks = [
        Block("paragraph", b.text) if i in guessed and i > last else b for i, b in enumerate(blocks)
    ]
    return ex


def extract_plaintext(text: str, *, detect_title: bool = True) -> Extracted:
    """Blocks and metadata from normalised plain text (see ``decode.normalise_text``)."""
    return classify(text_to_candidates(text), detect_title=detect_title)
