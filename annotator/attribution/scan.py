"""One scan of the whole text for every cue word: agencies, reporting verbs, hedges, quotes.

Python's regex engine tries every alternative at every position, so a pattern like
``\\b(?:said|says|…)`` costs ~50 ns per character.  Anchoring a trie-shaped alternation on
a literal space lets the engine skip to spaces; the few other word starts (after a quote
mark, a parenthesis, a slash, a line break, or at a sentence start) get a second, cheap scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .agencies import BY_SPELLING, Entry, trie_alternation

REPORT_CUES: dict[str, str] = {
    **dict.fromkeys(
        """said says say told tells reported reports wrote writes warned warns added adds stated
        announced announces confirmed confirms claimed claims insisted insists noted notes
        explained explains disclosed discloses denied denies argued argues tweeted tweets posted
        asked asks replied acknowledged admitted alleged stressed emphasised emphasized urged
        revealed reiterated declared commented remarked concluded testified indicated conceded
        countered responded observed recalled informed called accused cautioned expects expect
        predicted predicts estimates believes""".split(),
        "verb",
    ),
    # Stance verbs report speech only with a claim as object ("rejected that claim").
    **dict.fromkeys(["rejected", "dismissed", "disputed"], "claimobj"),
    # "It read: …" gives the wording of a note or sign.
    "read": "colon",
    "according to": "acc",
    "According to": "acc",
    "citing": "cit",
    "Citing": "cit",
    "quoted": "quo",
    "cited": "quo",
    **dict.fromkeys(
        [
            "interview with",
            "speaking to",
            "quoted by",
            "carried by",
            "published by",
            "reported by",
            "broadcast by",
            "statement to",
            "comments to",
            "remarks to",
        ],
        "relay",
    ),
}
# "plans to" / "intends to" are deliberately absent: a reported plan is a present fact about
# someone's intention, while "is expected to" / "is set to" predict the event itself.
HEDGE_CUES: dict[str, str] = {
    "would": "weak",
    **dict.fromkeys(["is to", "are to", "was to", "were to"], "isto"),
    **dict.fromkeys(["could", "might", "may"], "modal"),
    **dict.fromkeys(
        """likely unlikely probably possibly potentially perhaps reportedly allegedly apparently
        presumably supposedly purportedly seemingly speculation speculated speculate speculates
        speculative suspected""".split(),
        "strong",
    ),
    **dict.fromkeys(
        [
            f"{verb} to"
            for verb in """appears appear appeared seems seem seemed believed thought rumoured
            rumored tipped expected set poised forecast projected slated""".split()
        ]
        + [
            f"{who} {verb}"
            for who in ("analysts", "Analysts", "experts", "Experts", "observers", "Observers")
            for verb in ("believe", "suspect", "predict", "expect", "think", "fear", "speculate")
        ]
        + ["is said to", "are said to", "was said to", "Perhaps", "Possibly", "Probably"],
        "strong",
    ),
}


_ALL = {**{w: ("report", k) for w, k in REPORT_CUES.items()}}
_ALL.update({w: ("hedge", k) for w, k in HEDGE_CUES.items()})
_ALL.update({w: ("agency", "") for w in BY_SPELLING})
_TRIE = trie_alternation(_ALL)
# The trie is greedy, so "quoted by" wins over "quoted"; (?![\w-]) ends the word.
_AFTER_SPACE = re.compile(rf" ({_TRIE})(?![\w-])")
_AT_START = re.compile(rf"({_TRIE})(?![\w-])")
_TABLE = {w: ({"agency": 0, "report": 1, "hedge": 2}[c], sub) for w, (c, sub) in _ALL.items()}
_MARK_CHARS = frozenset('\n"“”„«»‘’(/')
QUOTE_MARKS = frozenset('"“”„«»‘’')


@dataclass(slots=True)
class Hits:
    """Cue words found in the text, each as (start, end, word, subkind), in text order."""

    agencies: list[tuple[int, int, str, str]] = field(default_factory=list)
    reports: list[tuple[int, int, str, str]] = field(default_factory=list)
    hedges: list[tuple[int, int, str, str]] = field(default_factory=list)
    marks: list[int] = field(default_factory=list)


def scan(text: str, starts: Iterable[int]) -> Hits:
    """Find every cue word and quotation mark in ``text``; ``starts`` are unit starts."""
    hits = Hits()
    lists = (hits.agencies, hits.reports, hits.hedges)
    table = _TABLE
    for m in _AFTER_SPACE.finditer(text):
        word = m.group(1)
        slot, sub = table[word]
        lists[slot].append((m.start(1), m.end(1), word, sub))
    # The other word starts are rare characters: str.find skips to them at memchr speed.
    marks = hits.marks
    match = _AT_START.match
    find = text.find
    for ch in _MARK_CHARS:
        at = find(ch)
        while at >= 0:
            if ch in QUOTE_MARKS:
                marks.append(at)
            m = match(text, at + 1)
            if m:
                word = m.group(1)
                slot, sub = table[word]
                lists[slot].append((at + 1, m.end(1), word, sub))
            at = find(ch, at + 1)
    marks.sort()
    for lo in sorted(set(starts)):
        if lo and (text[lo - 1] == " " or text[lo - 1] in _MARK_CHARS):
            continue  # the passes above saw this word already
        m = _AT_START.match(text, lo)
        if m:
            word = m.group(1)
            slot, sub = table[word]
            lists[slot].append((lo, m.end(1), word, sub))
    # Three passes appended out of order; timsort is quick on nearly sorted runs.
    for found in lists:
        found.sort()
    return hits


def agency_entry(word: str) -> Entry:
    """Return the registry entry for an agency spelling found by ``scan``."""
    return BY_SPELLING[word]
