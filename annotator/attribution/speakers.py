"""Find who speaks in a sentence: the noun phrases around reporting verbs, in either order."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .agencies import trie_alternation
from .roles import INSTITUTION_HEADS, PERSON_HEADS

# A capitalised name token; inside a name "." only joins letters ("U.S."), so "AP." at a
# sentence end does not swallow the full stop.
_NAME = r"[A-Z](?:[\w'’-]|\.(?=\w))*"
_CONN = r"of|for|the|de|da|del|der|van|von|bin|al|la|le|du|y"
_SEQ = rf"{_NAME}(?:\s+(?:(?:{_CONN})\s+)*{_NAME})*"
_HEAD_LIST = sorted({*PERSON_HEADS, *PERSON_HEADS.values(), *INSTITUTION_HEADS})
# A trie-shaped alternation: the engine branches on the first letter instead of trying
# every head noun in turn at every position.
ROLE_HEADS = trie_alternation(_HEAD_LIST)
DETERMINERS = (
    r"the|a|an|one|two|three|several|some|other|many|senior|unnamed|anonymous|its|his|her|"
    r"their|that|this|these|those"
)
ROLE_PREPOSITIONS = r"for|of|at|in|from|with|close\s+to|familiar\s+with|briefed\s+on|involved\s+in"
_DAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_ROLE_TAIL = (
    rf"(?:{ROLE_HEADS})\b"
    rf"(?:\s+(?:{ROLE_PREPOSITIONS})\s+(?:the\s+)?(?:{_SEQ}|[a-z][\w-]*(?:\s+[a-z][\w-]*)?))?"
    rf"(?:\s+who\s+[a-z][^,.;:\"“”]*)?"
)
# With a determiner, capitalised modifiers belong to the phrase ("a senior Western diplomat").
_ROLE_DET = rf"(?:{DETERMINERS})\s+(?:[A-Za-z][\w'’-]*\s+){{0,3}}{_ROLE_TAIL}"
_ROLE_BARE = rf"(?:[a-z][\w-]*\s+){{0,2}}{_ROLE_TAIL}"
# "the news agency AP", "the state newspaper Rodong Sinmun": a descriptor before the name.
_MEDIA_PREFIX = (
    r"(?:(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:news\s+agency|agency|newspaper|broadcaster|daily|"
    r"outlet|channel|website|magazine|wire\s+service)\s+)"
)

_AFTER = re.compile(
    rf"\s*(?:(?P<pro>he|she|it|they|(?:him|her|them)(?=\s+as\b))\b"
    rf"|(?P<drole>{_ROLE_DET})"
    rf"|{_MEDIA_PREFIX}?(?:the\s+)?(?P<name>{_SEQ})(?:\s*\((?P<paren>[^()]{{1,40}})\))?"
    rf"|(?P<role>{_ROLE_BARE}))"
    rf"(?:\s*,\s*(?P<app>(?:a|an|the|who|whose|one|[a-z]+\s+of|\d[\w-]*)\b[^,.;:\"“”]*))?"
)
# A name in apposition after a role: "a space official, Ri Chol-jun, as saying".
_APP_NAME = re.compile(rf"\s*,\s*(?P<name>{_SEQ})\s*(?=,)")
# A name at the end of an apposition: "one of them, 62-year-old Werner Pohl".
_TAIL_NAME = re.compile(rf"(?:^|\s)(?P<name>{_SEQ})\s*$")
# What may follow a speaker named after its verb: the end of the clause.
_CLAUSE_END = re.compile(r"\s*(?:[,.;:!?\"”’)]|\Z)")

_PASSIVE = re.compile(r"\b(?:was|were|is|are|been|being|be)\s*\Z")
_NEGATED = re.compile(r"(?:\bnot|\bnever|n['’]t)\s+(?:\w+ly\s+)?(?:\w+\s+)?\Z")
_AS_SAYING = re.compile(r"\s*,?\s+as\s+[a-z]+ing\b")
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

    role: str  # "speaker", "original" (cited by the speaker), "relay" or "relay?"
    ref: Ref
    cue_kind: str
    cue_start: int
    cue_end: int
    trailing: bool = False  # "…, KCNA reported.": a reporting clause after the content
    negated: bool = False  # "X did not say": may point back, but introduces nobody new


def _ref(m: re.Match[str]) -> Ref:
    """Turn a match of ``_AFTER`` into a Ref (exactly one of its phrase groups matched)."""
    if m.group("name"):
        form, kind = "name", "name"
    elif m.group("pro"):
        form, kind = "pro", "pronoun"
    elif m.group("drole"):
        form, kind = "drole", "role"
    else:
        form, kind = "role", "role"
    return Ref(kind, m.group(form), m.start(form), m.end(form), m.group("paren"), m.group("app"))


_SKIP_WORDS = frozenset(
    "has have had also later earlier previously again then further was were is are did does "
    "do not never once first separately only on yet would will could can may might must should "
    "himself herself itself themselves".split()
)
_SKIP_ALL = _SKIP_WORDS | frozenset(_DAYS.split("|"))
_PRONOUNS = frozenset("he she it they them He She It They".split())
_CONN_WORDS = frozenset(_CONN.split("|"))
_HEAD_WORDS = frozenset({*_HEAD_LIST, "media"})
_PERSON_HEAD_WORDS = frozenset({*PERSON_HEADS, *PERSON_HEADS.values()})
_DET_WORDS = frozenset(DETERMINERS.split("|"))
_MEDIA_HEADS = frozenset(("agency", "newspaper", "broadcaster"))
_PREP_FIRST = frozenset("for of at in from with close familiar briefed involved".split())
_NOT_NAME_END = frozenset(',;:"”’»')
_NOT_NAME_START = frozenset(
    "But And Yet So However Meanwhile Still Also Earlier Later Instead Separately Now Then "
    "Last This That On In At For After Before When While Since As If Asked Speaking".split()
)
_NOT_NAMES = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April "
    "May June July August September October November December".split()
)
_NAME_MEDIA = re.compile(
    rf"(?:the\s+)?(?P<name>{_SEQ})\s+(?:news\s+agency|agency|newspaper|broadcaster|daily|"
    r"channel|website|magazine|wire\s+service)"
)
_NAME_NEXT = re.compile(rf"\s+(?P<name>{_SEQ})")
_DESC_NAME = re.compile(
    rf"\s*(?P<desc>(?:(?:the|a|an)\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*){{0,2}})\s+(?P<name>{_SEQ})"
)
_ONE_OF = re.compile(
    r"\s*(?:one|some|two|several|many|most|each)\s+of\s+(?P<rest>them|(?:the|those)\s+[a-z]+)\b"
)
_STUDY = re.compile(
    r"\s*(?:a|an|the)\s+(?:new\s+|recent\s+|[a-z]+\s+)?(?P<head>study|report|survey|paper)\b"
    r"[^,;:\"“”]{0,60}?\b(?:in|by)\s+(?:the\s+)?(?:journal\s+|magazine\s+)?"
    rf"(?P<name>{_NAME}(?:\s*(?:&|and|of|for)?\s+{_NAME})*)"
)
# A reporting clause that follows the content: nothing but a time or place before the end.
_TRAILING = re.compile(
    r"(?:\s+(?:on|in|at|late|early|during|last|this|earlier|later|via|from)\b[^,;:\"“”]{0,60}?)?"
    r"\s*(?:[.!?][\"”’]?\s*\Z|,\s*(?:citing|according\s+to|quoting)\b)"
)


_NOT_DESCRIPTORS = frozenset(
    "and or but that which as when while after before because if by to with from than said "
    "says told of for at in on".split()
)


def _descriptor_word(word: str) -> bool:
    """A lowercase word that may describe the name after it ("clerk", "battery maker")."""
    return word.isalpha() and word.islower() and word not in _NOT_DESCRIPTORS


def _is_name(word: str) -> bool:
    return word[:1].isupper() and word[-1] not in _NOT_NAME_END


def subject_before(text: str, lo: int, pos: int) -> Ref | None:
    """Return the phrase that ends right before ``pos`` (the verb), within the sentence."""
    base = max(lo, pos - 160)
    prefix = text[base:pos]
    orig = prefix.split()[-20:]
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
        for k in range(m - 1, 0, -1):
            if words[k - 1].endswith(","):
                if not (words[k][:1].islower() or words[k][:1].isdigit()):
                    # "Japan's chief cabinet secretary, Hiroshi Tanabe, said".
                    return _apposed_name(text, prefix, orig, base, k, m)
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
        while k > 1 and words[k - 1] in _CONN_WORDS:
            if _is_name(words[k - 2]):
                k -= 2
            elif k > 2 and words[k - 2] in _CONN_WORDS and _is_name(words[k - 3]):
                k -= 3  # "Ilse Brandt of the University of Marrach"
            else:
                break
    while k < n - 1 and words[k] in _NOT_NAME_START:
        k += 1  # "But Lavrov said": a capitalised first word is not part of the name
    if k == n - 1 and words[k].casefold() in _HEAD_WORDS:
        k = n  # "Officials said", "Diplomats said": a capitalised role, not a name
    role = _role_start(words, k)
    description = None
    if desc is not None:
        a, b = _span(prefix, orig, desc[0], desc[1], base)
        description = text[a : b - 1]
    if role is None and k == n:
        if n >= 2 and words[-2] in ("the", "The") and words[-1].isalpha() and words[-1].islower():
            # "The coach himself would only say": a description that may point back.
            a, b = _span(prefix, orig, n - 2, n, base)
            return Ref("role", text[a:b], a, b, None, description)
        if desc is not None:
            # "Castell's employer, the Berlin-based magazine Weltblick, said": the name is in
            # the apposition.
            return _tail_name(text, description, a)
        return None
    if role is not None:
        r = role + 1 if words[role].casefold() in _DET_WORDS else role
        if r < n - 1 and _is_name(words[r]) and words[-1] in _MEDIA_HEADS:
            # "Yonhap news agency reported": the name before the description speaks.
            role, k = r, r + 1
            while k < n and _is_name(words[k]):
                k += 1
            a, b = _span(prefix, orig, role, k, base)
            return Ref("name", text[a:b], a, b)
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
        if description is None and k > 0 and _descriptor_word(words[k - 1]):
            # "town clerk Beverly Ashdown", "Battery maker Norrvik": the words before the name.
            d = k - 1
            while d > 0 and k - d < 3 and _descriptor_word(words[d - 1]):
                d -= 1
            if d > 0 and words[d - 1].casefold() in _DET_WORDS:
                d -= 1
            a, b = _span(prefix, orig, d, k, base)
            description = text[a:b]
    a, b = _span(prefix, orig, k, n, base)
    b = a + (b - a) - (len(orig[n - 1]) - len(words[-1]))  # drop a trimmed "," or "(…)"
    return Ref(form, text[a:b], a, b, paren, description)


def _apposed_name(text: str, prefix: str, orig: list[str], base: int, k: int, m: int) -> Ref | None:
    """'description, Name, said': the name between the commas, the description before it."""
    names = orig[k:m]
    names[-1] = names[-1][:-1]
    if len(names) > 6 or not all(_is_name(w) or w in _CONN_WORDS for w in names):
        return None
    if not _is_name(names[-1]) or names[0] in _NOT_NAMES:
        return None
    head = orig[k - 1][:-1]
    if not head or not head[-1:].isalpha() or not head.islower():
        return None  # "In Seoul, South Korea, officials said": a place, not a description
    first = k - 1
    while first > 0 and not orig[first - 1].endswith((",", ":", ";")) and k - first < 8:
        first -= 1
    a, b = _span(prefix, orig, k, m, base)
    b -= 1  # the comma after the name
    d0, d1 = _span(prefix, orig, first, k, base)
    return Ref("name", text[a:b], a, b, None, text[d0 : d1 - 1])


def _tail_name(text: str, apposition: str | None, start: int) -> Ref | None:
    """The name that ends an apposition ("the Berlin-based magazine Weltblick")."""
    if not apposition:
        return None
    t = _TAIL_NAME.search(apposition)
    if t is None or t.group("name") in _NOT_NAMES:
        return None
    a = start + t.start("name")
    described = apposition[: t.start("name")].strip() or None
    return Ref("name", t.group("name"), a, a + len(t.group("name")), None, described)


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

    "officials familiar with the matter", "a senior official", "a spokesman for the Ministry",
    "South Korea's military", "a State Department spokesperson".
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
        for j in range(n - 1, max(-1, n - 11), -1):
            if words[j].casefold() in _HEAD_WORDS and (
                j == n - 1 or words[j + 1] in _PREP_FIRST or words[j + 1] == "who"
            ):
                head = j
                break
            if not words[j][-1:].isalpha() and not words[j].endswith(("'s", "’s")):
                return None  # walked out of the phrase
            if not words[j].islower() and j < n - 1 and words[j + 1] not in _CONN_WORDS:
                if words[j + 1].islower():
                    return None  # a capital inside the lowercase tail: not a role phrase
        else:
            return None
        # "a spokesperson for the North's foreign ministry": the person speaks for it.
        for j in range(head - 1, max(-1, head - 6), -1):
            if words[j] in _PREP_FIRST and j > 0 and words[j - 1].casefold() in _PERSON_HEAD_WORDS:
                head = j - 1
                break
    first = head
    capitals = None
    for back in range(head - 1, max(-1, head - 5), -1):
        word = words[back]
        low = word.casefold()
        if (word in _NOT_NAME_START and low not in _DET_WORDS) or word[-1:] in _NOT_NAME_END:
            break
        if not word[-1:].isalpha() and not word.endswith(("'s", "’s")):
            break
        if not word.islower() and low not in _DET_WORDS:
            capitals = capitals if capitals is not None else first
        first = back
        if low in _DET_WORDS and low != "senior":
            capitals = None  # "a senior Western diplomat": the determiner closes the phrase
            break
    if capitals is not None and not _possessive_or_adjectival(words, first, head):
        first = capitals
    return first


def _possessive_or_adjectival(words: list[str], first: int, head: int) -> bool:
    """Capitalised words before a head belong to it when they form a name or a possessive:
    "South Korea's military", "Valdavian television", "State Department spokesperson"."""
    return all(w[:1].isupper() or w.islower() for w in words[first:head])


def phrase_after(text: str, pos: int, hi: int) -> Ref | None:
    """Return the phrase that starts right after ``pos`` (the verb), within the sentence."""
    end = min(hi, pos + 300)
    one = _ONE_OF.match(text, pos, end)
    if one:
        # "one of them", "one of the officials": the group, then maybe a name in apposition.
        rest = one.group("rest")
        form = "pronoun" if rest == "them" else "role"
        ref = Ref(form, rest, one.start("rest"), one.end("rest"))
        app = re.match(r"\s*,\s*([^,.;:\"“”]{1,80})", text[one.end() : end])
        named = _tail_name(text, app.group(1), one.end() + app.start(1)) if app else None
        return named or ref
    study = _STUDY.match(text, pos, end)
    if study:
        # "a study published in the journal Microbe & Host" is that journal's study.
        name = f"{study.group('name')} {study.group('head')}"
        return Ref("name", name, study.start("name"), study.end("name"), None, study.group())
    m = _AFTER.match(text, pos, end)
    if m is None:
        d = _DESC_NAME.match(text, pos, end)
        if (
            d is None
            or d.group("name") in _NOT_NAMES
            or not _descriptor_word(d.group("desc").rsplit(None, 1)[-1])
        ):
            return None  # "told reporters in Tokyo": Tokyo is where, not who
        # "said town clerk Beverly Ashdown".
        return Ref("name", d.group("name"), d.start("name"), d.end("name"), None, d.group("desc"))
    ref = _ref(m)
    if ref.form == "role" and (named := _NAME_MEDIA.fullmatch(ref.text)):
        # "the Interfax news agency": the agency's name, not a description.
        at = ref.start + named.start("name")
        return Ref("name", named.group("name"), at, at + len(named.group("name")))
    if ref.form == "role":
        # "the carmaker Veltro", "a space official, Ri Chol-jun, as saying": the name.
        n = _NAME_NEXT.match(text, ref.end, end) or _APP_NAME.match(text, ref.end, end)
        if n and n.group("name") not in _NOT_NAMES and ref.text[:1].islower():
            return Ref("name", n.group("name"), n.start("name"), n.end("name"), None, ref.text)
    if ref.description and ref.form != "name":
        # "said one of them, 62-year-old Werner Pohl".
        named = _tail_name(text, ref.description, m.start("app"))
        if named:
            return named
    return ref


def trailing_clause(text: str, verb_end: int, hi: int) -> bool:
    """Tell whether a reporting verb ends its sentence ("…, KCNA reported on Friday.")."""
    return bool(_TRAILING.match(text, verb_end, hi))


def clause_ends_after(text: str, ref: Ref, hi: int) -> bool:
    """Tell whether a speaker named after its verb ends the clause ('…," said X, a …').

    '"…," said Maria Keller.' names the speaker; 'X said Tokyo had …' does not."""
    end = ref.end
    if ref.description:
        at = text.find(ref.description, end, min(hi, end + 400))
        if at >= 0:
            end = at + len(ref.description)
    if ref.paren:
        close = text.find(")", end, hi)
        end = close + 1 if close >= 0 else end
    return bool(_CLAUSE_END.match(text, end, hi))


Hit = tuple[int, int, str, str]  # start, end, word, subkind (see scan.REPORT_CUES)


def attributions(text: str, lo: int, hi: int, hits: list[Hit]) -> list[Attribution]:
    """Turn the reporting cues of one sentence into attributions (speaker/original/relay)."""
    out: list[Attribution] = []
    verbs = 0
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
            back = text[max(lo, s - 40) : s]
            negated = ("not" in back or "n't" in back or "n’t" in back or "never" in back) and bool(
                _NEGATED.search(back)
            )
            if negated and verbs:
                continue  # "X said Tokyo had not confirmed …": part of what X said
            if _condition_fails(text, e, hi, word, kind) or _PASSIVE.search(
                text, max(lo, s - 12), s
            ):
                continue
            verbs += 1
            _verb(text, lo, hi, s, e, word, out, negated)
    return out


# "rejected that claim": a verb of stance reports speech only with a claim as its object.
_CLAIM_OBJECT = re.compile(
    r"\s+(?:(?:the|that|this|these|those|such|his|her|their|its|any|all|a)\s+)?"
    r"(?:[a-z-]+\s+)?(?:claims?|accusations?|allegations?|criticism|reports?|suggestions?|"
    r"charges?|idea|notion|assertions?|account|findings?|proposal|offer)\b"
)
# "It read: …": the wording of a note, sign or statement.
_READ_OBJECT = re.compile(r"\s*[:\"“]")


def _condition_fails(text: str, e: int, hi: int, word: str, kind: str) -> bool:
    """Verbs that report speech only in a certain construction (see scan.REPORT_CUES)."""
    if kind == "claimobj":
        return not _CLAIM_OBJECT.match(text, e, hi)
    if kind == "colon":
        return not _READ_OBJECT.match(text, e, hi)
    return False


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
            # The one who quotes passes the words on, whatever kind of source it is.
            out.append(Attribution("speaker", subject, "reporting_verb", s, e))
    elif subject:
        out.append(Attribution("speaker", subject, "reporting_verb", s, e))


def _verb(
    text: str,
    lo: int,
    hi: int,
    s: int,
    e: int,
    verb: str,
    out: list[Attribution],
    negated: bool,
) -> None:
    """'X said', '…," said X', 'X told Y' (Y a possible relay)."""
    j = s - 1
    while j >= lo and text[j].isspace():
        j -= 1
    before = text[j] if j >= lo else ""
    trailing = False  # known here only when the speaker follows the verb; else see below
    if not before or before in '"”’:':
        # '…," said X': the speaker follows the verb.
        ref = phrase_after(text, e, hi)
        if ref is not None and clause_ends_after(text, ref, hi):
            trailing = True
        else:
            ref = subject_before(text, lo, s)
    else:
        # 'X, an expert, said' (apposition) before ', said X' (inversion without quotes).
        ref = subject_before(text, lo, s)
        if ref is None and before == ",":
            ref = phrase_after(text, e, hi)
            if ref is not None and not clause_ends_after(text, ref, hi):
                ref = None
            trailing = ref is not None
    if ref is not None:
        if verb == "read" and ref.form == "pronoun":
            ref.description = "document"  # "It read: …" is the wording of a note or sign
        out.append(Attribution("speaker", ref, "reporting_verb", s, e, trailing, negated))
    if verb in ("told", "tells"):
        obj = phrase_after(text, e, hi)
        if obj and obj.form == "name":
            # Only agencies and outlets survive as relays; the caller checks the registry.
            out.append(Attribution("relay?", obj, "reporting_verb", s, e))
    elif verb in ("said", "says") and (on := _ON_OUTLET.match(text, e, hi)):
        # '… Colin said on the Sport 24 channel': the outlet passed it on.
        ref = Ref("name", on.group("name"), on.start("name"), on.end("name"), None, on.group())
        out.append(Attribution("relay", ref, "reporting_verb", s, e))


_ON_OUTLET = re.compile(
    rf"\s+(?:on|in\s+an\s+interview\s+with)\s+(?:the\s+)?(?P<name>{_NAME}(?:\s+(?:{_NAME}|\d+))*)\s+"
    r"(?:channel|radio|television|TV|programme|program|show|podcast|website|broadcaster)\b"
)
