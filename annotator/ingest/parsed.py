"""Plain data that ingest produces before anything touches the database.

Every offset counts Unicode code points into ``ParsedArticle.text`` (the
canonical text), so ``text[unit.start:unit.end]`` is the unit's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNIT_KINDS = ("sentence", "title", "heading", "caption")


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    """One span of the canonical text; only ``sentence`` units are annotatable."""

    kind: str
    start: int
    end: int


@dataclass(slots=True)
class ParsedArticle:
    """An article as ingest understood it: canonical text, metadata and units."""

    text: str
    units: list[ParsedUnit]
    title: str | None = None
    byline: str | None = None
    dateline: str | None = None
    published: str | None = None  # ISO 8601 date (YYYY-MM-DD) when detected
    url: str | None = None
    credits: list[str] = field(default_factory=list)


class IngestError(ValueError):
    """Input that cannot become an article; the message is shown to the user as is."""
