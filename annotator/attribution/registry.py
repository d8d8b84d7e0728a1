"""The sources found so far in one article, and how a speaker phrase resolves to one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import agencies
from .acronyms import AcronymDef
from .model import FoundSource
from .names import classify, guess_kind, name_key
from .roles import (
    BARE_INSTITUTIONS,
    COMPATIBLE,
    INSTITUTION_HEADS,
    NEEDS_ANTECEDENT,
    PERSON_HEADS,
    head_stem,
)
from .speakers import ANONYMITY_RE, DETERMINERS, ROLE_HEADS, ROLE_PREPOSITIONS, Ref

_ROLE_PARTS = re.compile(
    rf"(?:(?P<det>{DETERMINERS})\s+)?(?:(?P<mods>.+?)\s+)??(?P<head>{ROLE_HEADS})"
    rf"(?:\s+(?P<prep>{ROLE_PREPOSITIONS})\s+(?P<obj>[^,]+?))?(?:\s+who\s+.+)?",
    re.S,
)
_BACK_REFERENCE = re.compile(r"(?:the|that|this)\s+([a-z-]+)")
# Head nouns with rules of their own; other nouns only point back ("the coach").
_ROLE_WORDS = frozenset({*INSTITUTION_HEADS, *PERSON_HEADS, *PERSON_HEADS.values()})
_DEFINITE_DETS = frozenset("the its his her their that this these those".split())
_SPOKES = frozenset(("spokesman", "spokeswoman", "spokesperson"))
_POSSESSIVE = re.compile(r"['’]s\b")
# Heads whose kind alone is too vague to point back with ("the police" is not any government).
_GENERIC_HEADS = frozenset(
    """company firm group operator maker carmaker manufacturer organisation organization
    authority authorities government military army navy agency newspaper broadcaster magazine
    outlet daily study report survey authors document statement""".split()
)
# Heads that say no more than a kind: "the company" is the latest organisation mentioned.
_KIND_WORDS = frozenset(
    """company firm group government military army authorities agency newspaper broadcaster
    magazine study report survey authors""".split()
)
# "Battery maker Norrvik Energy Systems", "the aid group Bread Across Borders".
_DESCRIPTOR_CLASSES = {
    "organization": "company|firm|group|maker|carmaker|manufacturer|operator|association|union|"
    "organi[sz]ation|charity|retailer|lender|airline|bank",
    "media_outlet": "magazine|newspaper|broadcaster|channel|daily|website",
    "news_agency": "agency",
}
_NAME_TOKEN = r"[A-Z](?:[\w'’&-]|\.(?=\w))*"
_ANTECEDENT = {
    kind: re.compile(rf"\b(?:{nouns})\s+(?:the\s+)?(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN})*)")
    for kind, nouns in _DESCRIPTOR_CLASSES.items()
}
_DOCUMENT_NOUN = re.compile(
    r"\b(?:[Aa]n?|[Tt]he)\s+(?P<name>(?:[a-z-]+\s+){0,2}(?:note|letter|sign|message|banner|"
    r"placard|notice|memo|poster|inscription))\b"
)
_PERSON_LOOKBACK = 1500  # characters searched back for the last mention of a person
_NOT_NAMES = frozenset(
    "I We This That These Those There Here It He She They Monday Tuesday Wednesday Thursday "
    "Friday Saturday Sunday January February March April May June July August September "
    "October November December Meanwhile However But And Yet Also Still Earlier Later On In "
    "At After Before When While Since As If Asked The A An".split()
)


@dataclass(slots=True)
class _Found:
    name: str
    kind: str
    aliases: list[str]
    description: str | None
    first: int
    anon_spans: list[tuple[int, int]] = field(default_factory=list)
    described: bool = False  # named by a description ("the company"), not by a name


class Registry:
    """Sources of one article keyed by normalised spelling, plus recency for pronouns."""

    def __init__(self, acronyms: list[AcronymDef]) -> None:
        self.found: dict[str, _Found] = {}
        self.keys: dict[str, str] = {}
        self.recent: list[str] = []
        # The source each head noun last introduced: "the officials", "the magazine", "the
        # spokesperson" point back at it.
        self.heads: dict[str, str] = {}
        self._memo: dict[str, tuple[str, tuple[str, ...]]] = {}
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

    def resolve(
        self,
        ref: Ref,
        text: str,
        window: tuple[int, int],
        create: bool = True,
        sentence_start: int | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> str | None:
        """Return the canonical source a speaker phrase stands for, registering it if new.

        ``create`` false (a negated verb: "X did not say") only points back at known sources.
        A person pronoun goes to the person mentioned last before the sentence, other than
        those in ``exclude`` ("He quoted her": not the same person).
        """
        if ref.form == "pronoun":
            low = ref.text.casefold()
            if low in ("he", "she", "him", "her"):
                start = ref.start if sentence_start is None else sentence_start
                return self._latest_person(text, start, exclude)
            if low == "it" and ref.description == "document":
                return self._document(text, ref.start, create)
            if low == "it":
                return self._latest(
                    ("news_agency", "government", "organization", "media_outlet", "document")
                )
            return self._latest(("anonymous", "government", "organization"))
        if ref.form == "role":
            return self._resolve_role(ref, text, window, create)
        return self._resolve_name(ref, text, create)

    def _document(self, text: str, pos: int, create: bool) -> str | None:
        """'It read: …': the latest document, or the note or sign the text just mentioned."""
        latest = self._latest(("document",))
        if latest or not create:
            return latest
        found = None
        for m in _DOCUMENT_NOUN.finditer(text, max(0, pos - 300), pos):
            found = m
        if found is None:
            return None
        name = found.group("name")
        return self._described(name, "document", name.rsplit(None, 1)[-1], found.start(), name)

    def _latest_person(self, text: str, pos: int, exclude: frozenset[str]) -> str | None:
        """The person mentioned last before ``pos`` among the recent person sources.

        "Asked about those remarks, Kim smiled. '…,' he said": a mention counts, not only a
        quotation, but only people already known as sources are candidates.
        """
        people = [
            n for n in reversed(self.recent) if self.found[n].kind == "person" and n not in exclude
        ][:8]
        if len(people) < 2:
            return self._touch(people[0]) if people else None
        lo = max(0, pos - _PERSON_LOOKBACK)
        best, best_at = people[0], -1
        for name in people:
            f = self.found[name]
            parts = f.name.split()
            for spelling in {f.name, *f.aliases, parts[0], parts[-1]}:
                at = _last_word(text, spelling, lo, pos)
                while at >= 0 and _quoted_at(text, at):
                    at = _last_word(text, spelling, lo, at)  # "Lucien has our confidence"
                if at > best_at:
                    best, best_at = name, at
        return self._touch(best)

    def _resolve_name(self, ref: Ref, text: str = "", create: bool = True) -> str | None:
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
        if name in _NOT_NAMES or len(name) < 2 or not create:
            return None
        aliases: tuple[str, ...] = ()
        owner = None
        parts = _POSSESSIVE.split(name, maxsplit=1)
        if len(parts) == 2 and parts[1].strip()[:1].isupper():
            # "South Korea's Joint Chiefs of Staff": the institution, the country an alias.
            owner, name = parts[0], parts[1].strip()
            known = self._known(name, ref.start)
            if known:
                return self._touch(known)
        name, kind, title = classify(name)
        if owner is not None and kind != "person":
            aliases = (ref.text.removeprefix("The ").removeprefix("the "),)
        description = ref.description or title or owner
        head = _head_word(ref.description)
        if head in INSTITUTION_HEADS and title is None:
            kind = INSTITUTION_HEADS[head]  # "the Berlin-based magazine Weltblick"
        elif head and " " not in name and title is None and kind == "organization":
            kind = "person"  # "veteran diplomat Kim"
        if title and (title_head := _head_word(title)):
            head = head or title_head  # "Foreign Ministry Spokesman Igor Petrov"
        if " " not in name and kind == "organization" and not ref.description:
            # "Koh said" after "Koh Yu-hwan": family names come first in Korean and Chinese.
            for f in reversed(self.recent):
                parts = self.found[f].name.split()
                if self.found[f].kind == "person" and name in (parts[0], parts[-1]):
                    return self._touch(f)
            full = _full_name(text, name, ref.start)
            if full is not None:
                name, kind, title = classify(full)
                description = description or title
                known = self._known(name, ref.start)
                if known:
                    return self._touch(known)
        canonical = self.add(FoundSource(name, kind, aliases, description), ref.start)
        if head:
            self.heads[head_stem(head)] = canonical
        return self._touch(canonical)

    def _known(self, spelling: str, pos: int) -> str | None:
        canonical = self.keys.get(name_key(spelling))
        return canonical or self.add_known(spelling, pos)

    def _resolve_role(
        self, ref: Ref, text: str, window: tuple[int, int], create: bool
    ) -> str | None:
        memo = self._memo.get(ref.text)
        if memo is not None:
            # An indefinite description always names the same source: skip the parsing.
            canonical, heads = memo
            for head in heads:
                self.heads[head] = canonical
            self.found[canonical].anon_spans.append((ref.start, ref.end))
            return self._touch(canonical)
        first = ref.text.split(" ", 1)[0].casefold()
        lowered = first in self._lowercase_starts or first in INSTITUTION_HEADS
        phrase = ref.text[:1].lower() + ref.text[1:] if lowered else ref.text
        back = _BACK_REFERENCE.fullmatch(phrase)
        if back and back.group(1) in self.heads and back.group(1) not in _ROLE_WORDS:
            return self._touch(self.heads[back.group(1)])  # "the coach" after "coach X"
        m = _ROLE_PARTS.fullmatch(phrase)
        if m is None:
            return None
        head = " ".join(m.group("head").split())
        det = m.group("det")
        mods = m.group("mods") or ""
        obj = m.group("obj")
        stem = head_stem(head)
        possessive = bool(_POSSESSIVE.search(mods))
        if stem in _SPOKES:
            # "a spokesman for the Foreign Ministry", "a State Department spokesperson" speak
            # for the institution.
            org = obj if obj and m.group("prep") in ("for", "of") else _capitalised(mods)
            if org:
                canonical = self._resolve_org(org, ref.start + phrase.rfind(org), text, create)
                if canonical:
                    self.heads[stem] = canonical
                    return self._touch(canonical)
        definite = det in _DEFINITE_DETS or possessive
        if head in INSTITUTION_HEADS:
            return self._resolve_institution(ref, head, det, mods, definite, text, create)
        if stem not in PERSON_HEADS:
            return None
        if definite:
            # "the officials", "that person", "the diplomat": the one introduced before, by
            # the same word if possible (the plural "officials" before "a senior official").
            back = self.heads.get(head) or self.heads.get(stem)
            if back:
                return self._touch(back)
            if not ANONYMITY_RE.search(text, *window):
                # "the spokesman said" after "spokesman Igor Petrov said": the same person.
                for name in reversed(self.recent):
                    f = self.found[name]
                    if f.kind == "person" and stem in (f.description or "").casefold():
                        return self._touch(name)
        if not create:
            return None
        # Unnamed people are named by their description: "officials familiar with the matter".
        name = phrase
        canonical = self.add(FoundSource(name, "anonymous", (), None), ref.start)
        self.found[canonical].anon_spans.append((ref.start, ref.end))
        self.heads[stem] = self.heads[head] = canonical
        if not definite:
            self._memo[ref.text] = (canonical, (stem, head))
        return self._touch(canonical)

    _lowercase_starts = frozenset(
        {*DETERMINERS.split("|"), *PERSON_HEADS, *PERSON_HEADS.values(), "people", "persons"}
    )

    def _resolve_org(self, phrase: str, start: int, text: str, create: bool) -> str | None:
        """The institution a spokesperson speaks for: a name or a possessive description."""
        if phrase[:1].isupper() and not _POSSESSIVE.search(phrase):
            return self._resolve_name(Ref("name", phrase, start, start + len(phrase)), text)
        words = phrase.split()
        head = words[-1].casefold() if words else ""
        if head not in INSTITUTION_HEADS or not create:
            return self.keys.get(name_key(phrase))
        return self._described(phrase, INSTITUTION_HEADS[head], head, start, phrase)

    def _resolve_institution(
        self,
        ref: Ref,
        head: str,
        det: str | None,
        mods: str,
        definite: bool,
        text: str,
        create: bool,
    ) -> str | None:
        """'the company', 'police', 'South Korea's military', 'Valdavian television'."""
        kind = INSTITUTION_HEADS[head]
        phrase = ref.text
        if not definite and (det or phrase.split(" ", 1)[0].casefold() == head):
            phrase = phrase[:1].lower() + phrase[1:]  # "Police said" -> "police"
        named = _capitalised(mods) if not det else None
        if _POSSESSIVE.search(mods) or named or not definite:
            known = self.keys.get(name_key(phrase))
            if known:
                return self._touch(known)
        if _POSSESSIVE.search(mods) or named:
            # "South Korea's military", "Valdavian television": an institution of its own.
            return self._described(phrase, kind, head, ref.start, ref.text) if create else None
        if not definite and head not in BARE_INSTITUTIONS:
            return None  # "a ministry said" names nobody we could point at
        # The most recent of: what this head noun introduced ("the magazine Weltblick"), and
        # a source with the word in its name ("the authority": the Harbour Authority).
        candidate = self.heads.get(head)
        for name in reversed(self.recent):
            if name == candidate:
                break
            f = self.found[name]
            spellings = " ".join((f.name, *f.aliases)).casefold().split()
            if head in spellings or head.rstrip("s") in spellings:
                candidate = name
                break
        if candidate:
            return self._touch(candidate)
        if head in _GENERIC_HEADS:
            latest = self._latest(COMPATIBLE[kind]) if head in _KIND_WORDS else None
            if latest:
                return self._touch(latest)
            found = _antecedent(text, kind, ref.start)
            if found is not None:
                name, at = found
                canonical = self.add(FoundSource(name, guess_kind_as(name, kind), (), None), at)
                self.heads[head] = canonical
                return self._touch(canonical)
        if not create or head in NEEDS_ANTECEDENT:
            return None
        phrase = phrase[:1].lower() + phrase[1:]
        return self._described(phrase, kind, head, ref.start, ref.text)

    def _described(self, name: str, kind: str, head: str, start: int, spelled: str) -> str:
        """Register an institution the article names only by a description ("the rail operator")."""
        aliases = (spelled,) if spelled != name else ()
        canonical = self.add(FoundSource(name, kind, aliases, None), start)
        f = self.found[canonical]
        if f.name == name:
            f.described = True
            f.anon_spans.append((start, start + len(spelled)))
        self.heads[head] = canonical
        return self._touch(canonical)

    def mention_spans(self) -> list[tuple[str, int, int]]:
        """Return the spans where anonymous sources were introduced (they have no name)."""
        return [(f.name, s, e) for f in self.found.values() for s, e in f.anon_spans]


def _last_word(text: str, word: str, lo: int, hi: int) -> int:
    """Offset of the last whole-word occurrence of ``word`` in text[lo:hi], or -1."""
    at = text.rfind(word, lo, hi)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not text[at - 1].isalnum()) and (
            end >= len(text) or not text[end].isalnum()
        ):
            return at
        at = text.rfind(word, lo, at)
    return -1


_HEAD_STOPS = frozenset("at of for in with who which whose from on since and".split())


def _quoted_at(text: str, pos: int) -> bool:
    """Tell whether ``pos`` is inside a quotation opened earlier in its paragraph."""
    para = max(text.rfind("\n", 0, pos) + 1, pos - _PERSON_LOOKBACK)
    if text.rfind("“", para, pos) > text.rfind("”", para, pos):
        return True
    return text.count('"', para, pos) % 2 == 1


def _head_word(description: str | None) -> str | None:
    """The head noun of a description: "an economist at Lund University" -> "economist"."""
    if not description:
        return None
    words = description.replace(",", " , ").split()
    for n, word in enumerate(words[1:], 1):
        if word in _HEAD_STOPS or word == ",":
            words = words[:n]
            break
    for word in reversed(words):
        if word.casefold() in INSTITUTION_HEADS or word.casefold() in PERSON_HEADS:
            return word.casefold()  # "a study published" -> "study"
    last = words[-1].strip(".;:").casefold() if words else ""
    return last if last.replace("-", "").isalpha() else None


def _capitalised(mods: str) -> str | None:
    """The capitalised words of a modifier ("State Department" in "a State Department …")."""
    words = mods.split()
    if words and all(w[:1].isupper() for w in words):
        return mods
    return None


def _full_name(text: str, word: str, pos: int) -> str | None:
    """The full name a lone surname or family name stands for, from earlier in the text.

    "Kim told AP" after "veteran diplomat Kim Jae-sung"; "Nwosu said" after "Dr. Amara Nwosu".
    """
    if not word.isalpha() or not word[:1].isupper():
        return None
    lo = max(0, pos - 5000)
    at = _last_word(text, word, lo, pos)
    while at >= 0:
        # Widen the occurrence over the capitalised words on either side of it.
        left = text[max(lo, at - 60) : at].split()
        right = text[at + len(word) : at + len(word) + 40].split()
        tokens = [word]
        for token in reversed(left[-3:]):
            if not _is_name_token(token):
                break
            tokens.insert(0, token)
        for token in right[:2]:
            if not _is_name_token(token):
                break
            tokens.append(token)
        tokens = [t for t in tokens if t not in _NOT_NAMES]
        if len(tokens) > 1:
            return " ".join(tokens)
        at = _last_word(text, word, lo, at)
    return None


def _is_name_token(token: str) -> bool:
    """A capitalised word that can be part of a name ("Jae-sung", "Dr.", not "Tokyo,")."""
    return token[:1].isupper() and token[-1].isalpha() or token in ("Dr.", "Mr.", "Ms.", "Mrs.")


def _antecedent(text: str, kind: str, pos: int) -> tuple[str, int] | None:
    """The last "<descriptor> <Name>" of a kind before ``pos`` ("Battery maker Norrvik …")."""
    pattern = _ANTECEDENT.get(kind)
    if pattern is None:
        return None
    found = None
    for m in pattern.finditer(text, max(0, pos - 600), pos):
        if m.group("name") not in _NOT_NAMES:
            found = (m.group("name"), m.start("name"))
    return found


def guess_kind_as(name: str, kind: str) -> str:
    """The kind of a name introduced by a descriptor of ``kind`` (a maker is an organisation)."""
    guessed = guess_kind(name)
    return kind if guessed in ("person", "organization") else guessed
