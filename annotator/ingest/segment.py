"""Sentence splitting for news prose, with exact code-point offsets.

The splitter is our own rule set over one regular expression pass; bench/split.py
measured it against pysbd, syntok, sentencex, blingfire and NLTK Punkt (see
docs/ingest.md): the libraries were either too slow for the ingest budget
(about 30,000 sentences/s) or wrong on news abbreviations such as "Sen.", "Gov."
and "Lt. Col.", and none keeps a multi-sentence quote with its attribution
together, which the annotation scheme needs.
"""

from __future__ import annotations

import re
import unicodedata

# No unit may be longer than this many code points; longer runs (a 10 MB line
# without punctuation) are cut at whitespace, or hard, so the UI stays usable
# and every step stays linear.
MAX_UNIT_CHARS = 2000

# Terminal punctuation, then any closing quotes/brackets, then whitespace. Invisible
# format characters (zero-width, bidi controls) there are transparent: they are data
# and stay in the sentence they follow.
_CANDIDATE = re.compile(
    r"(?:\.\.\.|[.!?…])+[\"'”’»)\]\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]*(?=\s)"
)
_SPACE_RUN = re.compile(r"\s+")
_QUOTE = re.compile(r"[\"“”]")

# Titles and similar words that are always followed by a name or number, so a
# period after them never ends a sentence ("Lt. Col. Sarah Pike", "No. 10").
_NEVER_FINAL = frozenset(
    """Mr Mrs Ms Mx Dr Prof Sen Sens Rep Reps Gov Gen Lt Col Capt Cpt Sgt Cpl Pvt Maj
    Adm Cmdr Cdr Brig Gens Rev Hon Pres Supt Insp Det Atty Mt Ft St Ste No Nos Nr vs v
    Vol Fig Art approx ca cf eg ie e.g i.e Messrs Mme Mlle""".split()
)
# Abbreviations that end a sentence only when the next word is capitalised
# ("Acme Inc. reported" vs "works at Acme Inc. The company ..."), and months
# that never end one before a number ("Oct. 2019", "Dec. 31").
_FINAL_IF_CAPITAL = frozenset(
    """Inc Corp Ltd Co Bros Jr Sr Plc plc LLC etc a.m p.m am pm Jan Feb Mar Apr Jun Jul
    Aug Sep Sept Oct Nov Dec Ave Blvd Rd""".split()
)
# Dotted acronyms ("U.S.") and single initials ("John F. Kennedy") are usually
# followed by a capitalised name, so they end a sentence only before a word
# that typically starts one.
_SENTENCE_STARTERS = frozenset(
    """The A An He She It They We I You His Her Its Their Our My This That These Those
    There Here But And Or So Yet In On At As For From With After Before When While
    Since If Although Though However Meanwhile Still Some Many Most Several All Both
    No Not One Two Three Officials Police Authorities""".split()
)
_OPENERS = "\"'“‘«([¿¡"


def _is_extend(ch: str) -> bool:
    """Whether ``ch`` continues the previous grapheme cluster (mark, ZWJ, modifier)."""
    o = ord(ch)
    if o < 0x300:
        return False
    if o == 0x200D or 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F:
        return True
    if 0x1160 <= o <= 0x11FF:  # Hangul medial vowels and final consonants
        return True
    return unicodedata.category(ch) in ("Mn", "Me", "Mc")


def is_grapheme_boundary(text: str, i: int) -> bool:
    """Approximate UAX #29: whether a cut before ``text[i]`` keeps clusters whole."""
    if i <= 0 or i >= len(text):
        return True
    if _is_extend(text[i]) or text[i - 1] == "\u200d":
        return False
    if _is_regional(text[i]) and _is_regional(text[i - 1]):
        # Flags are pairs of regional indicators: count the run to find parity.
        n, j = 0, i - 1
        while j >= 0 and _is_regional(text[j]) and n < 64:
            n, j = n + 1, j - 1
        return n % 2 == 0
    return True


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _attributed_quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans of quotations that end in an attribution ('…,” she said').

    Sentences inside such a quotation stay together as one unit: the claim and
    its source belong to one annotation.
    """
    spans: list[tuple[int, int]] = []
    open_at = -1
    for m in _QUOTE.finditer(text):
        q, i = m.group(), m.start()
        if q == "“" or (q == '"' and (i == 0 or text[i - 1].isspace() or text[i - 1] in "([—–")):
            open_at = i
            continue
        if open_at < 0:
            continue
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1 : i + 3].lstrip()[:1]
        # '…," she said' or '…?" asked one protester': the quote runs into its attribution.
        if before in ",—–" or (before in "?!" and after.islower()):
            spans.append((open_at, i))
        open_at = -1
    return spans


def _ends_sentence(text: str, p: int, nxt: int) -> bool:
    """Decide whether the punctuation at ``p`` ends a sentence before ``text[nxt]``."""
    first = text[nxt]
    if first.islower():
        # News sentences do not start in lower case; '"Stop!" shouted a police officer'.
        return False
    if not is_grapheme_boundary(text, nxt):
        return False
    if text[p] != ".":
        return True
    ws = text.rfind(" ", max(0, p - 40), p)
    token = text[ws + 1 : p].lstrip(_OPENERS)
    if not token or text[p + 1 : p + 3] == "..":
        return True  # an ellipsis, or a period after punctuation
    if token in _NEVER_FINAL:
        return False
    word = _next_word(text, nxt)
    if token in _FINAL_IF_CAPITAL:
        return not (first.isdigit() or word[:1].islower())
    if "." in token or (len(token) == 1 and token.isupper()):
        # "U.S. Senate", "John F. Kennedy" vs "... in the U.S. The next day".
        return word in _SENTENCE_STARTERS
    return True


def _next_word(text: str, i: int) -> str:
    end = i
    limit = min(len(text), i + 30)
    while end < limit and (text[end].isalnum() or text[end] in "'’-"):
        end += 1
    return text[i:end]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split one paragraph into sentence spans (start, end) without outer whitespace."""
    spans: list[tuple[int, int]] = []
    quotes = _attributed_quote_spans(text) if '"' in text or "“" in text else []
    qi = 0
    start = 0
    n = len(text)
    for m in _CANDIDATE.finditer(text):
        end = m.end()
        ws = _SPACE_RUN.match(text, end)
        nxt = ws.end() if ws else end
        if nxt >= n:
            break
        while qi < len(quotes) and quotes[qi][1] < m.start():
            qi += 1
        if qi < len(quotes) and quotes[qi][0] < m.start() < quotes[qi][1]:
            continue
        if _ends_sentence(text, m.start(), nxt):
            spans.append((start, end))
            start = nxt
    spans.append((start, n))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        s, e = _strip_span(text, s, e)
        if s < e:
            out.extend(cap_span(text, s, e))
    return out


def _strip_span(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def cap_span(text: str, s: int, e: int, limit: int = MAX_UNIT_CHARS) -> list[tuple[int, int]]:
    """Cut a span longer than ``limit`` into pieces at whitespace (or hard) in linear time."""
    out: list[tuple[int, int]] = []
    while e - s > limit:
        cut = _find_cut(text, s, s + limit)
        a, b = _strip_span(text, s, cut)
        if a < b:
            out.append((a, b))
        s, e = _strip_span(text, cut, e)
    if s < e:
        out.append((s, e))
    return out


def _find_cut(text: str, lo: int, hi: int) -> int:
    """A cut position in (lo, hi]: after the last whitespace if any, else a cluster boundary."""
    floor = lo + (hi - lo) // 2  # never produce a tiny piece: keeps the loop linear
    j = hi
    for _ in range(8):
        j = text.rfind(" ", floor, j)
        if j <= floor:
            break
        k = j + 1
        while k < hi and text[k].isspace():
            k += 1
        if is_grapheme_boundary(text, k):
            return k
    cut = hi
    # Walk back a little to avoid cutting a cluster; give up on absurd clusters.
    while cut > hi - 32 and not is_grapheme_boundary(text, cut):
        cut -= 1
    return cut if is_grapheme_boundary(text, cut) else hi
