"""Find who speaks in a sentence: the noun phrases around reporting verbs, in either order."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A capitalised name token; inside a name "." only joins letters ("U.S."), so "AP." at a
# sentence end does not swallow the full stop.
_NAME = r"[A-Z](?:[\w'’-]|\.(?=\w))*"
_CONN = r"of|for|the|de|da|del|der|van|von|bin|al|la|le|du|y"
_SEQ = rf"{_NAME}(?:\s+(?:(?:{_CONN})\s+)*{_NAME})*"
ROLE_HEADS = (
    r"officials?|spokes(?:man|woman|person)|ministry|agency|news\s+agency|sources?|"
    r"diplomats?|analysts?|experts?|observers|witnesses|residents|aides?|lawmakers?|people|"
    r"person|insiders?|statement|report|newspaper|broadcaster|government|police|military|"
    r"army|embassy|official\s+media|state\s+media"
)
DETERMINERS = r"the|a|an|one|two|three|several|some|other|many|senior|unnamed|anonymous|its|his|her"
ROLE_PREPOSITIONS = r"for|of|at|in|from|with|close\s+to|familiar\s+with|briefed\s+on|involved\s+in"
_DAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_ROLE = (
    rf"(?:(?:{DETERMINERS})\s+)?(?:[a-z][\w-]*\s+){{0,2}}(?:{ROLE_HEADS})\b"
    rf"(?:\s+(?:{ROLE_PREPOSITIONS})\s+(?:the\s+)?(?:{_SEQ}|[a-z][\w-]*(?:\s+[a-z][\w-]*)?))?"
)
# "the news agency AP", "the state newspaper Rodong Sinmun": a descriptor before the name.
_MEDIA_PREFIX = (
    r"(?:(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:news\s+agency|agency|newspaper|broadcaster|daily|"
    r"outlet|channel|website|magazine|wire\s+service)\s+)"
)

_AFTER = re.compile(
    rf"\s*(?:(?P<pro>he|she|it|they)\b"
    rf"|{_MEDIA_PREFIX}?(?:the\s+)?(?P<name>{_SEQ})(?:\s*\((?P<paren>[^()]{{1,40}})\))?"
    rf"|(?P<role>{_ROLE}))"
    rf"(?:\s*,\s*(?P<app>(?:a|an|the|who|whose|one|[a-z]+\s+of)\b[^,.;:\"“”]*))?"
)

_PASSIVE = re.compile(r"(?:was|were|is|are|been|being)\s*\Z")
_AS_SAYING = re.compile(r"\s+as\s+(?:saying|telling|writing)")
ANONYMITY_RE = re.compile(
    r"condition\s+of\s+anonymity|declined\s+to\s+be\s+(?:named|identified)|"
    r"asked\s+not\s+to\s+be\s+(?:named|identified)|speaking\s+anonymously|"
    r"not\s+authori[sz]ed\s+to\s+(?:speak|discuss|comment)|familiar\s+with\s+the|"
    r"with\s+knowledge\s+of|close\s+to\s+the|unnamed|anonymous"
)


@dataclass(slots=True)
class Ref:
    """A phrase that names or points at a speaker, with offsets into the canonical text."""

    form: str  # "name", "pronoun" or "role"
    text: str
    start: int
    end: int
    paren: str | None = None
    description: str | None = None


@dataclass(slots=True)
class Attribution:
    """One reporting cue in a sentence and the speaker(s) it points at."""

    role: str  # "speaker", "original" (cited by the speaker) or "relay"
    ref: Ref
    cue_kind: str
    cue_start: int
    cue_end: int


def _ref(m: re.Match[str]) -> Ref:
    """Turn a match of ``_AFTER`` into a Ref (exactly one of its phrase groups matched)."""
    if m.group("name"):
        form, kind = "name", "name"
    elif m.group("pro"):
        form, kind = "pro", "pronoun"
    else:
        form, kind = "role", "role"
    return Ref(kind, m.group(form), m.start(form), m.end(form), m.group("paren"), m.group("app"))


_SKIP_WORDS = frozenset(
    "has have had also later earlier previously again then further was were is are did does "
    "do not never once first separately only on".split()
)
_SKIP_ALL = _SKIP_WORDS | frozenset(_DAYS.split("|"))
_PRONOUNS = frozenset("he she it they He She It They".split())
_CONN_WORDS = frozenset(_CONN.split("|"))
_HEAD_WORDS = frozenset(
    "official officials spokesman spokeswoman spokesperson ministry agency source sources "
    "diplomat diplomats analyst analysts expert experts observers witnesses residents aide aides "
    "lawmaker lawmakers people person insider insiders statement report newspaper broadcaster "
    "government police military army embassy media".split()
)
_DET_WORDS = frozenset(DETERMINERS.split("|"))
_MEDIA_HEADS = frozenset(("agency", "newspaper", "broadcaster"))
_PREP_FIRST = frozenset("for of at in from with close familiar briefed involved".split())
_NOT_NAME_END = frozenset(',;:"”’»')
_NOT_NAME_START = frozenset(
    "But And Yet So However Meanwhile Still Also Earlier Later Instead Separately Now Then "
    "Last This That On In At For After Before When While Since As If Asked Speaking".split()
)


def _is_name(word: str) -> bool:
    return word[:1].isupper() and word[-1] not in _NOT_NAME_END


def subject_before(text: str, lo: int, pos: int) -> Ref | None:
    """Return the phrase that ends right before ``pos`` (the verb), within the sentence."""
    base = max(lo, pos - 130)
    prefix = text[base:pos]
    orig = prefix.split()[-12:]
    m = len(orig)
    # "X has also said", "X on Friday said", "X repeatedly said".
    while m and (
        orig[m - 1] in _SKIP_ALL
        or (orig[m - 1].endswith("ly") and orig[m - 1].islower() and len(orig[m - 1]) > 4)
    ):
        m -= 1
    desc: tuple[int, int] | None = None
    words = orig[:m]
    if m and words[-1].endswith(","):
        # "Koh Yu-hwan, a North Korea expert at Dongguk University, said".
        for k in range(m - 2, 0, -1):
            if words[k - 1].endswith(","):
                if not words[k][:1].islower():
                    return None
                desc = (k, m)
                words = words[:k]
                words[-1] = words[-1][:-1]
                break
        else:
            return None
    if not words:
        return None
    last = words[-1]
    if last in _PRONOUNS:
        return Ref("pronoun", last, *_span(prefix, orig, len(words) - 1, len(words), base))
    paren = None
    if last.endswith(")") and "(" in last:
        paren = last[last.index("(") + 1 : -1]
        if last.startswith("("):
            words.pop()
        else:
            words[-1] = last[: last.index("(")]
        if not words:
            return None
    n = len(words)
    k = n
    # Walk back over capitalised words (inlined _is_name: this loop is the hot path).
    while k > 0 and words[k - 1][:1].isupper() and words[k - 1][-1] not in _NOT_NAME_END:
        k -= 1
        while k > 1 and words[k - 1] in _CONN_WORDS and _is_name(words[k - 2]):
            k -= 2
    while k < n - 1 and words[k] in _NOT_NAME_START:
        k += 1  # "But Lavrov said": a capitalised first word is not part of the name
    if k == n - 1 and words[k].casefold() in _HEAD_WORDS:
        k = n  # "Officials said", "Diplomats said": a capitalised role, not a name
    role = _role_start(words, k)
    if role is None and k == n:
        return None
    description = None
    if desc is not None:
        a, b = _span(prefix, orig, desc[0], desc[1], base)
        description = text[a : b - 1]
    if role is not None:
        if role > 0 and _is_name(words[role - 1]) and words[-1] in _MEDIA_HEADS:
            # "Yonhap news agency said": the name before the description is the speaker.
            k = role - 1
            while k > 0 and _is_name(words[k - 1]):
                k -= 1
            a, b = _span(prefix, orig, k, role, base)
            return Ref("name", text[a:b], a, b)
        k, form = role, "role"
    else:
        form = "name"
    a, b = _span(prefix, orig, k, n, base)
    b = a + (b - a) - (len(orig[n - 1]) - len(words[-1]))  # drop a trimmed "," or "(…)"
    return Ref(form, text[a:b], a, b, paren, description)


def _span(prefix: str, orig: list[str], first: int, stop: int, base: int) -> tuple[int, int]:
    """Text offsets of orig[first:stop], the split words of ``prefix``, found from the right."""
    end = len(prefix)
    start = stop_end = end
    for j in range(len(orig) - 1, first - 1, -1):
        start = prefix.rfind(orig[j], 0, end)
        if j == stop - 1:
            stop_end = start + len(orig[j])
        end = start
    return base + start, base + stop_end


def _role_start(words: list[str], k: int) -> int | None:
    """Index where a role phrase starts that ends the words; words[k:] is a trailing name.

    "officials familiar with the matter", "a senior official", "a spokesman for the Ministry".
    """
    n = len(words)
    if k < n:
        j = k - 1
        if j >= 0 and words[j] in ("the", "The"):
            j -= 1
        if j < 1 or words[j] not in _PREP_FIRST or words[j - 1].casefold() not in _HEAD_WORDS:
            return None
        head = j - 1
    else:
        for j in range(n - 1, max(-1, n - 7), -1):
            if words[j].casefold() in _HEAD_WORDS and (j == n - 1 or words[j + 1] in _PREP_FIRST):
                head = j
                break
            if not words[j].islower() or not words[j][-1].isalpha():
                return None  # walked out of the lowercase phrase
        else:
            return None
    first = head
    for back in range(head - 1, max(-1, head - 4), -1):
        word = words[back]
        if not word[-1:].isalpha() or not (word.islower() or word.casefold() in _DET_WORDS):
            break
        first = back
        if word.casefold() in _DET_WORDS and word.casefold() != "senior":
            break
    return first


def phrase_after(text: str, pos: int, hi: int) -> Ref | None:
    """Return the phrase that starts right after ``pos`` (the verb), within the sentence."""
    m = _AFTER.match(text, pos, min(hi, pos + 300))
    return _ref(m) if m else None


Hit = tuple[int, int, str, str]  # start, end, word, subkind (see scan.REPORT_CUES)


def attributions(text: str, lo: int, hi: int, hits: list[Hit]) -> list[Attribution]:
    """Turn the reporting cues of one sentence into attributions (speaker/original/relay)."""
    out: list[Attribution] = []
    for s, e, word, kind in hits:
        if kind == "relay":
            ref = phrase_after(text, e, hi)
            if ref:
                out.append(Attribution("relay", ref, "reporting_verb", s, e))
            if word == "quoted by" and _PASSIVE.search(text, max(lo, s - 12), s):
                # "Z was quoted by X as saying": Z spoke, X passed it on.
                subject = subject_before(text, lo, s)
                if subject:
                    out.append(Attribution("original", subject, "reporting_verb", s, e))
        elif kind == "acc":
            ref = phrase_after(text, e, hi)
            if ref:
                out.append(Attribution("speaker", ref, "according_to", s, e))
        elif kind == "cit":
            ref = phrase_after(text, e, hi)
            if ref:
                out.append(Attribution("original", ref, "reporting_verb", s, e))
        elif kind == "quo":
            _quoted(text, lo, hi, s, e, out)
        else:
            _verb(text, lo, hi, s, e, word, out)
    return out


def _quoted(text: str, lo: int, hi: int, s: int, e: int, out: list[Attribution]) -> None:
    """'X quoted Z as saying' gives Z then X; 'Z was quoted by X as saying' gives Z then X."""
    if _PASSIVE.search(text, max(lo, s - 12), s):
        ref = subject_before(text, lo, s)
        if ref:
            out.append(Attribution("original", ref, "reporting_verb", s, e))
        return
    subject = subject_before(text, lo, s)
    obj = phrase_after(text, e, hi)
    if obj and _AS_SAYING.match(text, obj.end, hi):
        out.append(Attribution("original", obj, "reporting_verb", s, e))
        if subject:
            out.append(Attribution("relay", subject, "reporting_verb", s, e))
    elif subject:
        out.append(Attribution("speaker", subject, "reporting_verb", s, e))


def _verb(text: str, lo: int, hi: int, s: int, e: int, verb: str, out: list[Attribution]) -> None:
    """'X said', '…," said X', 'X told Y' (Y a possible relay)."""
    j = s - 1
    while j >= lo and text[j].isspace():
        j -= 1
    before = text[j] if j >= lo else ""
    if not before or before in '"”’:':
        # '…," said X': the speaker follows the verb.
        ref = phrase_after(text, e, hi) or subject_before(text, lo, s)
    else:
        # 'X, an expert, said' (apposition) before ', said X' (inversion without quotes).
        ref = subject_before(text, lo, s)
        if ref is None and before == ",":
            ref = phrase_after(text, e, hi)
    if ref is not None:
        out.append(Attribution("speaker", ref, "reporting_verb", s, e))
    if verb in ("told", "tells"):
        obj = phrase_after(text, e, hi)
        if obj and obj.form == "name":
            # Only agencies and outlets survive as relays; the caller checks the registry.
            out.append(Attribution("relay?", obj, "reporting_verb", s, e))
