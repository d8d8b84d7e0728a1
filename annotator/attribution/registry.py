"""The sources found so far in one article, and how a speaker phrase resolves to one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import agencies
from .acronyms import AcronymDef
from .model import FoundSource
from .names import classify, guess_kind, name_key
from .speakers import ANONYMITY_RE, DETERMINERS, ROLE_HEADS, ROLE_PREPOSITIONS, Ref

_ROLE_PARTS = re.compile(
    rf"(?:(?P<det>{DETERMINERS})\s+)?(?:(?P<mods>[a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s+)?"
    rf"(?P<head>{ROLE_HEADS})(?:\s+(?P<prep>{ROLE_PREPOSITIONS})\s+(?:the\s+)?(?P<obj>.+))?"
)
_ANON_NAMES = {
    "official": "officials",
    "source": "sources",
    "person": "sources",
    "people": "sources",
    "insider": "sources",
    "diplomat": "diplomats",
    "analyst": "analysts",
    "expert": "experts",
    "observers": "observers",
    "witnesses": "witnesses",
    "residents": "residents",
    "aide": "aides",
    "lawmaker": "lawmakers",
    "spokesman": "officials",
    "spokeswoman": "officials",
    "spokesperson": "officials",
}
# Definite descriptions ("the ministry said") point back at a source of a compatible kind.
_DEFINITE = {
    "agency": ("news_agency", None),
    "news agency": ("news_agency", None),
    "newspaper": ("media_outlet", None),
    "broadcaster": ("media_outlet", None),
    "ministry": ("government", "ministry"),
    "government": ("government", None),
    "embassy": ("government", "embassy"),
    "police": ("government", "police"),
    "military": ("government", None),
    "army": ("government", None),
}
_NOT_NAMES = frozenset(
    "I We This That These Those There Here It He She They Monday Tuesday Wednesday Thursday "
    "Friday Saturday Sunday January February March April May June July August September "
    "October November December Meanwhile However But And Yet Also Still Earlier Later".split()
)


@dataclass(slots=True)
class _Found:
    name: str
    kind: str
    aliases: list[str]
    description: str | None
    first: int
    anon_spans: list[tuple[int, int]] = field(default_factory=list)


class Registry:
    """Sources of one article keyed by normalised spelling, plus recency for pronouns."""

    def __init__(self, acronyms: list[AcronymDef]) -> None:
        self.found: dict[str, _Found] = {}
        self.keys: dict[str, str] = {}
        self.recent: list[str] = []
        self.acronyms: dict[str, AcronymDef] = {}
        for d in acronyms:
            self.acronyms.setdefault(name_key(d.short), d)
            self.acronyms.setdefault(name_key(d.long), d)

    def add(self, src: FoundSource, pos: int) -> str:
        """Register a source (or merge into a known one) and return its canonical name."""
        key = name_key(src.name)
        canonical = self.keys.get(key)
        if canonical is None:
            for alias in src.aliases:
                canonical = self.keys.get(name_key(alias))
                if canonical:
                    break
        if canonical is None:
            canonical = src.name
            self.found[canonical] = _Found(
                src.name, src.kind, list(src.aliases), src.description, pos
            )
        entry = self.found[canonical]
        entry.first = min(entry.first, pos)
        entry.description = entry.description or src.description
        for spelling in (src.name, *src.aliases):
            self.keys.setdefault(name_key(spelling), canonical)
            if spelling != entry.name and spelling not in entry.aliases:
                entry.aliases.append(spelling)
        return canonical

    def add_known(self, spelling: str, pos: int) -> str | None:
        """Register a built-in agency/outlet or a defined acronym by one of its spellings."""
        known = self.keys.get(name_key(spelling))
        if known is not None:
            return known
        entry = agencies.lookup(spelling)
        d = self.acronyms.get(name_key(spelling))
        if entry is not None:
            src = entry.source
            if d is not None and d.long not in src.aliases and d.long != src.name:
                src = FoundSource(src.name, src.kind, (*src.aliases, d.long), src.description)
            return self.add(src, pos)
        if d is not None:
            return self.add(FoundSource(d.short, guess_kind(d.long), (d.long,), None), pos)
        return None

    def sources(self) -> tuple[FoundSource, ...]:
        """Return the found sources in order of first appearance."""
        ordered = sorted(self.found.values(), key=lambda f: f.first)
        return tuple(FoundSource(f.name, f.kind, tuple(f.aliases), f.description) for f in ordered)

    def _touch(self, name: str) -> str:
        if self.recent and self.recent[-1] == name:
            return name
        if name in self.recent:
            self.recent.remove(name)
        self.recent.append(name)
        return name

    def _latest(self, kinds: tuple[str, ...], word: str | None = None) -> str | None:
        for name in reversed(self.recent):
            f = self.found[name]
            if f.kind in kinds and (word is None or word in name.casefold()):
                return name
        return None

    def resolve(self, ref: Ref, text: str, window: tuple[int, int]) -> str | None:
        """Return the canonical source a speaker phrase stands for, registering it if new."""
        if ref.form == "pronoun":
            low = ref.text.casefold()
            if low in ("he", "she"):
                return self._latest(("person",))
            if low == "it":
                return self._latest(("news_agency", "government", "organization", "media_outlet"))
            return self._latest(("anonymous", "government", "organization"))
        if ref.form == "role":
            return self._resolve_role(ref, text, window)
        return self._resolve_name(ref)

    def _resolve_name(self, ref: Ref) -> str | None:
        if ref.paren:
            known = self._known(ref.paren, ref.start)
            if known:
                return self._touch(known)
        name = ref.text
        known = self._known(name, ref.start)
        if known is None and name.startswith(("The ", "A ", "An ")):
            name = name.split(" ", 1)[1]
            known = self._known(name, ref.start)
        if known:
            return self._touch(known)
        if name in _NOT_NAMES or len(name) < 2:
            return None
        name, kind, title = classify(name)
        description = ref.description or title
        if " " not in name:
            # "Koh said" after "Koh Yu-hwan": family names come first in Korean and Chinese.
            for f in reversed(self.recent):
                parts = self.found[f].name.split()
                if self.found[f].kind == "person" and name in (parts[0], parts[-1]):
                    return self._touch(f)
        return self._touch(self.add(FoundSource(name, kind, (), description), ref.start))

    def _known(self, spelling: str, pos: int) -> str | None:
        canonical = self.keys.get(name_key(spelling))
        return canonical or self.add_known(spelling, pos)

    def _resolve_role(self, ref: Ref, text: str, window: tuple[int, int]) -> str | None:
        m = _ROLE_PARTS.fullmatch(ref.text[:1].lower() + ref.text[1:])
        if m is None:
            return None
        head = " ".join(m.group("head").split())
        det = m.group("det")
        obj = m.group("obj")
        if obj and obj[:1].isupper() and m.group("prep") in ("for", "of"):
            if head.startswith("spokes"):
                # "a spokesman for the Foreign Ministry" speaks for the institution.
                return self._resolve_name(Ref("name", obj, ref.end - len(obj), ref.end))
        definite = det in ("the", "its", "his", "her")
        if head in _DEFINITE:
            if not definite:
                return None  # "a ministry said" names nobody we could point at
            kind, word = _DEFINITE[head]
            return self._touch(n) if (n := self._latest((kind,), word)) else None
        stem = head[:-1] if head.endswith("s") and head[:-1] in _ANON_NAMES else head
        plural = _ANON_NAMES.get(stem)
        if plural is None:
            return None
        if definite and not ANONYMITY_RE.search(text, *window):
            # "the spokesman said" after "spokesman Igor Petrov said": the same person.
            for name in reversed(self.recent):
                f = self.found[name]
                if f.kind == "person" and stem in (f.description or "").casefold():
                    return self._touch(name)
        # Unnamed people are one anonymous source per kind of role, so the name is stable.
        canonical = self.add(
            FoundSource(f"anonymous {plural}", "anonymous", (), ref.text), ref.start
        )
        self.found[canonical].anon_spans.append((ref.start, ref.end))
        return self._touch(canonical)

    def mention_spans(self) -> list[tuple[str, int, int]]:
        """Return the spans where anonymous sources were introduced (they have no name)."""
        return [(f.name, s, e) for f in self.found.values() for s, e in f.anon_spans]
