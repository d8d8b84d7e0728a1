"""The intermediate form both extractors (plain text, HTML) produce: blocks plus metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

BLOCK_KINDS = ("title", "heading", "paragraph")


@dataclass(frozen=True, slots=True)
class Block:
    """One block of reading-order text: a single line, whitespace-collapsed, stripped."""

    kind: str
    text: str


@dataclass(slots=True)
class Extracted:
    """What an extractor found in a page: body blocks and page metadata."""

    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    byline: str | None = None
    dateline: str | None = None
    published: str | None = None
    url: str | None = None
    credits: list[str] = field(default_factory=list)

    def add_credits(self, names: list[str]) -> None:
        """Append credits, keeping the first occurrence of each name."""
        for name in names:
            if name and name not in self.credits:
                self.credits.append(name)
