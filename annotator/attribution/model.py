"""The plain, immutable results of attribution analysis."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FoundSource:
    """A source the article cites: canonical name, kind, aliases, optional description."""

    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """An occurrence of a source's name or alias; code-point offsets into the canonical text."""

    source: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Cue:
    """A piece of text that justified a suggestion (offsets into the canonical text)."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested label and ordered sources (speaker first, then relays) for one sentence."""

    label: str
    sources: tuple[str, ...]
    cues: tuple[Cue, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    """Sources, mentions and per-unit suggestions (``None`` for non-sentence units)."""

    sources: tuple[FoundSource, ...]
    mentions: tuple[Mention, ...]
    suggestions: tuple[Suggestion | None, ...]
