"""Label cues: quotations (across sentences), hedges, questions and fragments.

Precedence, as in DESIGN.md: a direct quotation wins (``quote`` even when its content is
speculative); then a question or fragment (``unclear``: a question asserts nothing, so a
hedge inside it does not make a hedged claim); then a hedge (``speculation``); otherwise
``reported_fact``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Cue

_OPENERS = {"“": "”", "„": "“", "«": "»", "‘": "’"}
_REOPENERS = frozenset('"“„«‘')
_MAX_RUN = 6
_BIG = 1 << 62
_WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")

# "The aim is to …" states a goal, not a prediction.
_NOT_PREDICTION = frozenset(
    "aim goal plan purpose idea task objective priority job challenge intention hope "
    "mission point target focus answer solution step".split()
)
# "could not be reached for comment" reports a fact about the reporter's attempt.
_NOT_HEDGED = re.compile(
    r"\s+not\s+(?:immediately\s+|independently\s+)?(?:be\s+)?(?:immediately\s+|independently\s+)?"
    r"(?:reached|verif\w+|confirm\w+)"
)
# "would" after a reporting verb or in an indirect question is the past of "will" in
# reported speech ("disclosed neither when he would travel"), not a hedge.
_BACKSHIFT = re.compile(
    r"\b(?:said|says|say|told|tell|tells|announced|disclosed|disclose|confirmed|confirm|added|"
    r"stated|insisted|promised|pledged|vowed|reported|revealed|reveal|indicated|warned|"
    r"explained|when|whether|if|how|where|what|why|who|whom|which)\b"
)
VERBISH_RE = re.compile(
    r"\b(?:is|are|was|were|be|been|being|am|has|have|had|do|does|did|will|would|can|could|"
    r"may|might|must|shall|should|said|says|told|went|came|made|took|gave|met|saw|left|"
    r"became|held|got|began|won|lost|fell|rose|put|set|let|kept|brought|thought|found|ran|led|"
    r"hit|cut|sent|spent|built|bought|fought|caught|meant|paid|sold|stood|struck|wrote|drove|"
    r"chose|broke|spoke|grew|knew|threw|flew|drew|sank|shut|quit|laid|read|fed|fled|hid|"
    r"spread|hurt|cost|beat|dealt|felt|sought|heard|sat|saw|wins|runs|hits|cuts|withdrew|"
    r"forgot|swore|tore|wore|bore|rode|shook|stole|woke|froze|slid|swept|wept|bent|lent|"
    r"[a-z]{2,}(?:ed|ing)|[a-z]{3,}[^s\W]s)\b"
)
_CLOSERS = '"”’»)]'
_ENDINGS = frozenset('.!?"”’»)')


@dataclass(slots=True)
class QuoteState:
    """The quotation left open at the end of the previous sentence, if any."""

    closer: str | None = None  # the mark that will close it
    sentences: int = 0  # how many sentences it has run so far


def quote_spans(
    text: str, lo: int, hi: int, marks: Sequence[int], state: QuoteState
) -> list[tuple[int, int, bool]]:
    """Return quoted spans (start, end, continued) in text[lo:hi]; updates ``state``."""
    spans: list[tuple[int, int, bool]] = []
    open_at: int | None = None
    if state.closer is not None:
        state.sentences += 1
        # A quotation runs on across sentences, but not forever, and not into a new
        # paragraph that does not reopen it (the English convention for long quotes).
        reopened = text[lo : lo + 1] in _REOPENERS
        if state.sentences > _MAX_RUN or ("\n" in text[max(0, lo - 3) : lo] and not reopened):
            state.closer = None
        else:
            open_at = lo
    continued = open_at is not None
    for pos in marks:
        ch = text[pos]
        if open_at is None:
            if ch == '"' or (ch in _OPENERS and _opens(text, pos)):
                open_at, continued = pos, False
                state.closer, state.sentences = _OPENERS.get(ch, '"'), 0
            elif ch in "”»" and pos > lo:
                # A closing mark whose opening we missed: quote from the sentence start.
                spans.append((lo, pos + 1, True))
        elif pos == lo and continued:
            continue  # the mark that reopens a quotation at a new paragraph
        elif _closes(text, pos, ch, state.closer):
            spans.append((open_at, pos + 1, continued))
            open_at, state.closer, continued = None, None, False
    if open_at is not None:
        spans.append((open_at, hi, continued))
    return spans


def _closes(text: str, pos: int, ch: str, closer: str | None) -> bool:
    if closer in ('"', "”"):
        return ch in '"”'  # typography is often mixed within one article
    if closer == "’":
        return ch == "’" and not _inside_word(text, pos)  # else an apostrophe ("don’t")
    return ch == closer


def _opens(text: str, pos: int) -> bool:
    return text[pos] != "‘" or pos == 0 or not text[pos - 1].isalnum()


def _inside_word(text: str, pos: int) -> bool:
    return pos + 1 < len(text) and text[pos + 1].isalpha()


def is_real_quote(text: str, start: int, end: int, continued: bool, open_end: bool) -> bool:
    """Tell a quotation from a scare-quoted word or title (1-3 words without , ! or ?)."""
    if continued or open_end:
        return True
    inner = text[start + 1 : end - 1].rstrip()
    if len(_WORD_RE.findall(inner)) >= 4:
        return True
    return bool(inner) and inner[-1] in ",!?"


def inside(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Tell whether ``pos`` falls in one of the sorted, disjoint ``spans``."""
    k = bisect_right(spans, (pos, _BIG)) - 1
    return k >= 0 and spans[k][0] <= pos < spans[k][1]


def hedge_cues(
    text: str,
    lo: int,
    hits: Sequence[tuple[int, int, str, str]],
    quoted: Sequence[tuple[int, int]],
) -> list[Cue]:
    """Keep the hedges outside quotations that really hedge (see ``_BACKSHIFT``)."""
    cues: list[Cue] = []
    for s, e, word, sub in hits:
        if quoted and inside(s, quoted):
            continue
        # Windows bound the look-back so a pathological 10 MB "sentence" stays linear.
        if sub == "weak" and _BACKSHIFT.search(text, max(lo, s - 200), s):
            continue
        if sub == "modal" and _NOT_HEDGED.match(text, e):
            continue
        if sub == "isto":
            before = text[max(lo, s - 20) : s].split()
            if not before or before[-1].casefold() in _NOT_PREDICTION:
                continue
        cues.append(Cue("hedge", word, s, e))
    return cues


def unclear_cue(text: str, lo: int, hi: int) -> Cue | None:
    """Return a "question" or "fragment" cue when the sentence asserts nothing decidable."""
    end = hi
    while end > lo and text[end - 1].isspace():
        end -= 1
    last = end - 1
    while last > lo and text[last] in _CLOSERS:
        last -= 1
    if last >= lo and text[last] == "?":
        return Cue("question", text[lo:end], lo, end)
    words = text.count(" ", lo, end) + 1
    if words > 12:
        return None  # long verbless "sentences" are rare; spare the search
    # A fragment: a caption, byline or label ("Photo: archive") lacks the final stop and
    # often a verb; with a stop, only a very short verbless string is one ("Sanctions.").
    # The verb test is a word list, so it must not overrule a real full sentence.
    if end > lo and text[end - 1] in _ENDINGS:
        fragment = words <= 3 and not VERBISH_RE.search(text, lo, end)
    else:
        fragment = words < 3 or not VERBISH_RE.search(text, lo, end)
    return Cue("fragment", text[lo:end], lo, end) if fragment else None
