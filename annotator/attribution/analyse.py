"""analyse_article: sources, mentions and a suggestion for every sentence of an article."""

from __future__ import annotations

import re
from bisect import bisect_left

from annotator.ingest.parsed import ParsedArticle

from . import agencies
from .acronyms import find_acronyms
from .agencies import AGENCY_RE
from .labels import QuoteState, hedge_cues, inside, is_real_quote, quote_spans, unclear_cue
from .model import Analysis, Cue, FoundSource, Mention, Suggestion
from .names import name_key
from .registry import Registry
from .scan import agency_entry, scan
from .speakers import ANONYMITY_RE, Attribution, Hit, attributions, trailing_clause

_CREDIT_PAREN = re.compile(r"\(\s*[\w-]+(?:\s*[,/]\s*[\w-]+)*\s*\)(?P<dash>\s*[—–-])?")
_RELAY_KINDS = ("news_agency", "media_outlet")
_PLAIN_FACT = Suggestion("reported_fact", (), ())
# "He quoted her": two different person pronouns in one sentence are two people.
_NOBODY: frozenset[str] = frozenset()
_GENDER = {"he": "m", "him": "m", "she": "f", "her": "f"}
_TRAILING_MARKS = ' .,;:!?\n"“”„«»‘’)'
# Hedges that also name who holds the view: "Some investors have speculated that …".
_HEDGE_REPORTS = frozenset(("speculated", "speculate", "speculates"))
_HEDGE_HOLDERS = frozenset(("analysts", "experts", "observers"))


def analyse_article(article: ParsedArticle) -> Analysis:
    """Find an article's sources and mentions and suggest a label and sources per sentence."""
    text = article.text
    units = article.units
    order = sorted(range(len(units)), key=lambda i: units[i].start)
    hits = scan(text, [0, *(unit.start for unit in units)])
    registry = Registry(find_acronyms(text))
    for start, end, word, _ in hits.agencies:
        entry = agencies.lookup(word)
        if (
            entry
            and entry.source.kind == "news_agency"
            and (not entry.needs_context or agencies.in_agency_context(text, start, end))
        ):
            registry.add_known(word, start)
    credit_sources(article, registry)

    marks_at = hits.marks
    report_at = [h[0] for h in hits.reports]
    hedge_at = [h[0] for h in hits.hedges]
    agency_at = [h[0] for h in hits.agencies]
    any_at = sorted([*marks_at, *report_at, *hedge_at, *agency_at])
    x1 = m1 = r1 = h1 = a1 = 0  # units are visited in text order, so each search starts here
    suggestions: list[Suggestion | None] = [None] * len(units)
    state = QuoteState()
    run: list[int] = []  # units of the quotation still open, to share its speakers
    run_prev: Suggestion | None = None  # the sentence before a free-standing quotation
    prev: Suggestion | None = None  # the previous sentence's suggestion
    for i in order:
        unit = units[i]
        if unit.kind != "sentence":
            state, run, run_prev, prev = QuoteState(), [], None, None
            continue
        lo, hi = unit.start, min(unit.end, len(text))
        x0, x1 = bisect_left(any_at, lo, x1), bisect_left(any_at, hi, x1)
        if x0 == x1 and state.closer is None:
            # Most sentences carry no cue at all: keep their path short.
            unclear = unclear_cue(text, lo, hi)
            suggestions[i] = Suggestion("unclear", (), (unclear,)) if unclear else _PLAIN_FACT
            prev = suggestions[i]
            continue
        m0, m1 = bisect_left(marks_at, lo, m1), bisect_left(marks_at, hi, m1)
        r0, r1 = bisect_left(report_at, lo, r1), bisect_left(report_at, hi, r1)
        h0, h1 = bisect_left(hedge_at, lo, h1), bisect_left(hedge_at, hi, h1)
        a0, a1 = bisect_left(agency_at, lo, a1), bisect_left(agency_at, hi, a1)
        marks = marks_at[m0:m1]
        reports = hits.reports[r0:r1]
        hedges = hits.hedges[h0:h1]
        if hedges:
            reports = _hedges_that_report(reports, hedges)
        agency_hits = hits.agencies[a0:a1]
        spans = quote_spans(text, lo, hi, marks, state) if marks or state.closer else []
        quotes = [(a, b) for a, b, _ in spans]
        quote_cues = [
            Cue("continuing_quote" if cont else "quotation", text[a:b], a, b)
            for a, b, cont in spans
            if is_real_quote(text, a, b, cont, b == hi) or _reported_words(text, lo, a, reports)
        ]
        if quotes:
            # Words inside a quotation are the speaker's, not attribution ("I told them").
            reports = [h for h in reports if not inside(h[0], quotes)]
        sources, cues = _sources(registry, text, lo, hi, reports) if reports else ((), [])
        cues += _label_cues(text, lo, hi, quote_cues, hedges, quotes)
        if agency_hits:
            cues += _credit_cues(text, lo, hi, agency_hits)
        if len(cues) > 1:
            cues.sort(key=lambda c: (c.start, c.end))
        suggestions[i] = Suggestion(_label(cues), sources, tuple(cues))
        if spans:
            # Share speakers across the sentences of one multi-sentence quotation.
            if spans[0][2] and spans[0][0] == lo:
                run.append(i)
                _share_sources(suggestions, run)
            else:
                run = [i]
                free = spans[0][0] == _first_char(text, lo, hi) and bool(quote_cues)
                run_prev = prev if free else None
            if state.closer is None:
                if run_prev is not None and not text[spans[-1][1] : hi].strip(_TRAILING_MARKS):
                    _continue_speaker(suggestions, run, run_prev)
                run, run_prev = [], None
        prev = suggestions[i]

    mentions = _mentions(text, registry, hits.agencies)
    return Analysis(registry.sources(), mentions, tuple(suggestions))


def _share_sources(suggestions: list[Suggestion | None], run: list[int]) -> None:
    """Give every sentence of a quotation the first speakers found anywhere in it."""
    shared: tuple[str, ...] = ()
    for i in run:
        s = suggestions[i]
        if s is not None and s.sources:
            shared = s.sources
            break
    if not shared:
        return
    for i in run:
        s = suggestions[i]
        if s is not None and not s.sources:
            suggestions[i] = Suggestion(s.label, shared, s.cues)


def _label_cues(
    text: str,
    lo: int,
    hi: int,
    quote_cues: list[Cue],
    hedges: list[Hit],
    quotes: list[tuple[int, int]],
) -> list[Cue]:
    """Collect the cues of the label that wins: quote > question/fragment > hedge."""
    if quote_cues:
        return list(quote_cues)
    # A question asserts nothing, so a hedge inside it does not make it speculation.
    unclear = unclear_cue(text, lo, hi)
    if unclear:
        return [unclear]
    return hedge_cues(text, lo, hedges, quotes)


def _label(cues: list[Cue]) -> str:
    kinds = {c.kind for c in cues}
    if kinds & {"quotation", "continuing_quote"}:
        return "quote"
    if kinds & {"question", "fragment"}:
        return "unclear"
    if "hedge" in kinds:
        return "speculation"
    return "reported_fact"


def _sources(
    registry: Registry, text: str, lo: int, hi: int, reports: list[Hit]
) -> tuple[tuple[str, ...], list[Cue]]:
    """Resolve a sentence's attributions to ordered sources: who made the claim, then relays.

    A reporting clause in front of the content nests: in "A told AP that B had said …" B is
    the innermost speaker, so leading clauses are read from the last to the first. A
    clause after the content ("…, KCNA reported") passes on everything before it. Whoever a
    speaker cites ("citing Z", "quoted Z as saying") comes right before that speaker.
    """
    if not reports:
        return (), []
    found = attributions(text, lo, hi, reports)
    has_verb_speaker = any(a.role == "speaker" and a.cue_kind != "according_to" for a in found)
    resolved: list[tuple[Attribution, str]] = []
    cues: list[Cue] = []
    seen_cues: set[tuple[int, int]] = set()
    pronouns: dict[str, str] = {}  # "he"/"she" -> whom it was resolved to in this sentence
    for a in found:
        # Anonymity markers are looked for near the phrase, not in a sentence of any length.
        window = (max(lo, a.ref.start - 200), min(hi, a.ref.end + 200))
        gender = _GENDER.get(a.ref.text.casefold()) if a.ref.form == "pronoun" else None
        others = _NOBODY
        if gender and pronouns:
            others = frozenset(n for g, n in pronouns.items() if g != gender)
        create = not a.negated and a.role != "relay?"  # "told Kim": Kim is no new source
        name = registry.resolve(a.ref, text, window, create, lo, others)
        if name is None:
            continue
        if gender:
            pronouns.setdefault(gender, name)
        kind = registry.found[name].kind
        if a.role in ("relay?", "relay") and kind not in _RELAY_KINDS:
            continue
        resolved.append((a, name))
        _add_cues(text, a, kind, cues, seen_cues, window)
        if a.ref.form != "name" and name.casefold() != a.ref.text.casefold():
            # "he", "the company", "one of them": say that the phrase points back at someone.
            span = (a.ref.start, a.ref.end)
            if span not in seen_cues:
                seen_cues.add(span)
                cues.append(Cue("refers_back", text[span[0] : span[1]], *span))
    if len(resolved) == 1:
        return (resolved[0][1],), cues  # the common case: one speaker, nothing to order
    several = sum(a.role == "speaker" for a, _ in resolved) > 1
    leading: list[list[str]] = []
    trailing: list[list[str]] = []
    relays: list[str] = []
    pending: list[str] = []  # cited before the speaker who cites them is known
    last: list[str] | None = None
    for n, (a, name) in enumerate(resolved):
        if a.role in ("relay?", "relay") or (a.cue_kind == "according_to" and has_verb_speaker):
            relays.append(name)  # "X said, according to KCNA": KCNA passed it on
        elif a.role == "original":
            follows = resolved[n + 1][0] if n + 1 < len(resolved) else None
            same_cue = follows is not None and follows.cue_start == a.cue_start
            if last is not None and not (same_cue and follows.role == "speaker"):
                last.insert(len(last) - 1, name)  # "Yonhap said, citing KCNA"
            else:
                pending.append(name)  # "KCNA quoted Z as saying": Z before KCNA
        else:
            last = [*pending, name]
            pending = []
            after = a.trailing or (several and trailing_clause(text, a.cue_end, hi))
            (trailing if after else leading).append(last)
    ordered: list[str] = []
    for name in [
        *pending,
        *(x for group in reversed(leading) for x in group),
        *(x for group in trailing for x in group),
        *relays,
    ]:
        if name not in ordered:
            ordered.append(name)
    return tuple(ordered), cues


def _add_cues(
    text: str,
    a: Attribution,
    kind: str,
    cues: list[Cue],
    seen: set[tuple[int, int]],
    window: tuple[int, int],
) -> None:
    if (a.cue_start, a.cue_end) not in seen:
        seen.add((a.cue_start, a.cue_end))
        cues.append(Cue(a.cue_kind, text[a.cue_start : a.cue_end], a.cue_start, a.cue_end))
    if a.ref.paren and a.ref.form == "name" and kind != "person":
        end = text.find(")", a.ref.end) + 1
        cues.append(Cue("acronym_definition", text[a.ref.start : end], a.ref.start, end))
    if kind == "anonymous":
        m = ANONYMITY_RE.search(text, *window)
        if m and m.span() not in seen:
            seen.add(m.span())
            cues.append(Cue("anonymity", m.group(), m.start(), m.end()))


def _credit_cues(text: str, lo: int, hi: int, hits: list[Hit]) -> list[Cue]:
    """Mark "(AFP, AP)" credits and "SEOUL (AP) —" datelines that ingest left in a sentence."""
    cues: list[Cue] = []
    for start, _, word, _ in hits:
        if agency_entry(word).source.kind != "news_agency" or text[start - 1 : start] not in "(/, ":
            continue
        p = _CREDIT_PAREN.search(text, max(lo, start - 40), min(hi, start + 80))
        if p is None or not p.start() < start < p.end() or (cues and cues[-1].start == p.start()):
            continue
        if p.group("dash"):
            cues.append(Cue("dateline", text[p.start() : p.end()], p.start(), p.end()))
        elif hi - p.end() <= 4 and not text[p.end() : hi].strip(" .\n"):
            # Only at the end of a unit is a parenthesised agency a credit line; elsewhere
            # it is usually an acronym ("the Korean Central News Agency (KCNA)").
            cues.append(Cue("credit", text[p.start() : p.end()], p.start(), p.end()))
    return cues


def _mentions(text: str, registry: Registry, agency_hits: list[Hit]) -> tuple[Mention, ...]:
    """Find every word-bounded occurrence of every found source's name or alias."""
    found = [(s, -e, n) for n, s, e in registry.mention_spans()]
    keys = registry.keys
    # Agencies were found by the scan already; look up the others with str.find, which is
    # far faster than a regex over the whole text for a handful of names.
    for start, end, word, _ in agency_hits:
        name = keys.get(name_key(word))
        if name is not None:
            found.append((start, -end, name))
    for f in registry.found.values():
        if f.kind == "anonymous" or f.described or agencies.lookup(f.name) is not None:
            continue
        for spelling in {f.name, *f.aliases}:
            at = text.find(spelling)
            while at >= 0:
                end = at + len(spelling)
                if not _word_char(text, at - 1) and not _word_char(text, end):
                    found.append((at, -end, f.name))
                at = text.find(spelling, at + 1)
    found.sort()
    out: list[Mention] = []
    for start, neg_end, name in found:
        if out and start < out[-1].end:
            continue  # inside a longer spelling already taken ("News Agency" in a full name)
        out.append(Mention(name, start, -neg_end))
    return tuple(out)


def _word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_-")


def credit_sources(article: ParsedArticle, registry: Registry) -> None:
    """Register the article's credits and dateline agencies (after everything in the text)."""
    base = len(article.text)
    for n, credit in enumerate(article.credits):
        if registry.add_known(credit.strip(), base + n) is None and credit.strip():
            registry.add(FoundSource(credit.strip(), "media_outlet", (), None), base + n)
    if article.dateline:
        for m in AGENCY_RE.finditer(article.dateline):
            registry.add_known(m.group(), base + len(article.credits))


def _hedges_that_report(reports: list[Hit], hedges: list[Hit]) -> list[Hit]:
    """Add the verbs of hedges that name their holder ("Analysts expect", "X speculated")."""
    extra: list[Hit] = []
    for s, e, word, _ in hedges:
        if word in _HEDGE_REPORTS:
            extra.append((s, e, word, "verb"))
        elif " " in word:
            holder, _, verb = word.partition(" ")
            if holder.casefold() in _HEDGE_HOLDERS:
                extra.append((e - len(verb), e, verb, "verb"))
    return sorted([*reports, *extra]) if extra else reports


def _reported_words(text: str, lo: int, start: int, reports: list[Hit]) -> bool:
    """A short quotation after a reporting verb gives someone's words ('called it "baseless"');
    without one it is a scare quote or a title ('the so-called "peace plan"')."""
    if text[max(lo, start - 10) : start].rstrip().endswith("so-called"):
        return False
    return any(lo <= s < start for s, _, _, kind in reports if kind != "relay")


def _first_char(text: str, lo: int, hi: int) -> int:
    """Offset of the first non-space character of text[lo:hi]."""
    while lo < hi and text[lo].isspace():
        lo += 1
    return lo


def _continue_speaker(
    suggestions: list[Suggestion | None], run: list[int], prev: Suggestion
) -> None:
    """A quotation standing on its own continues the previous sentence's speaker."""
    if not prev.sources or any(
        s is not None and s.sources for s in map(suggestions.__getitem__, run)
    ):
        return
    reason = next((c for c in prev.cues if c.kind in _SPEAKER_CUES), None)
    for i in run:
        s = suggestions[i]
        if s is not None:
            cues = s.cues
            if reason is not None:
                cue = Cue("previous_speaker", reason.text, reason.start, reason.end)
                cues = tuple(sorted((*cues, cue), key=lambda c: (c.start, c.end)))
            suggestions[i] = Suggestion(s.label, prev.sources, cues)


_SPEAKER_CUES = frozenset(("reporting_verb", "according_to", "previous_speaker"))
