"""Compare sentence splitters (and HTML extractors) on gold data we wrote ourselves.

Run from the repository root: ``python bench/split.py`` (``--runs N`` for more runs,
``--html`` to add the HTML extractor comparison).
The gold set (tests/data/ingest/split_gold.txt) has one sentence per line and a
blank line between paragraphs; each paragraph is joined with single spaces and
handed to every candidate, and a gold sentence counts as correct when a
candidate returns exactly that span.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from annotator.ingest.segment import split_sentences  # noqa: E402

GOLD = ROOT / "tests" / "data" / "ingest" / "split_gold.txt"
Splitter = Callable[[str], list[str]]


def load_gold(path: Path = GOLD) -> list[list[str]]:
    """Paragraphs of gold sentences from the gold file."""
    paragraphs = path.read_text(encoding="utf-8").split("\n\n")
    return [[s for s in p.split("\n") if s.strip()] for p in paragraphs if p.strip()]


def _ours(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def _candidates() -> dict[str, Splitter]:
    """Every splitter that can be imported here, by name."""
    out: dict[str, Splitter] = {"ours (regex + news rules)": _ours}
    try:
        import pysbd

        seg = pysbd.Segmenter(language="en", clean=False)
        out["pysbd 0.3"] = lambda t: [s.strip() for s in seg.segment(t)]
    except ImportError:
        pass
    try:
        from syntok import segmenter

        def _syntok(t: str) -> list[str]:
            res = []
            for para in segmenter.analyze(t):
                for sent in para:
                    start = sent[0].offset
                    end = sent[-1].offset + len(sent[-1].value)
                    res.append(t[start:end])
            return res

        out["syntok 1.4"] = _syntok
    except ImportError:
        pass
    try:
        import sentencex

        out["sentencex 1.0"] = lambda t: [s.strip() for s in sentencex.segment("en", t)]
    except ImportError:
        pass
    try:
        # blingfire imports numpy at module level but its sentence functions do
        # not use it; numpy is not installed here, so a stub lets us measure it.
        if "numpy" not in sys.modules:
            try:
                import numpy  # noqa: F401
            except ImportError:
                sys.modules["numpy"] = types.ModuleType("numpy")
        import blingfire

        out["blingfire 0.1"] = lambda t: [
            s.strip() for s in blingfire.text_to_sentences(t).split("\n")
        ]
    except (ImportError, OSError):
        pass
    try:
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        plain = PunktSentenceTokenizer()
        out["nltk punkt (untrained)"] = lambda t: [t[s:e] for s, e in plain.span_tokenize(t)]
        params = PunktParameters()
        # Our own abbreviation list, the way Punkt is taught without a corpus.
        params.abbrev_types = {
            "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "st",
            "no", "inc", "corp", "ltd", "co", "vs", "e.g", "i.e", "etc", "a.m", "p.m", "u.s",
            "u.k", "u.n", "jan", "feb", "aug", "sept", "oct", "nov", "dec", "jr",
        }  # fmt: skip
        taught = PunktSentenceTokenizer(params)
        out["nltk punkt (+ our abbrevs)"] = lambda t: [t[s:e] for s, e in taught.span_tokenize(t)]
    except ImportError:
        pass
    return out


def accuracy(split: Splitter, gold: list[list[str]]) -> tuple[int, int]:
    """(correct gold sentences, total gold sentences) for one splitter."""
    correct = total = 0
    for para in gold:
        got = set(split(" ".join(para)))
        total += len(para)
        correct += sum(1 for s in para if s in got)
    return correct, total


def speed(split: Splitter, gold: list[list[str]], runs: int, repeat: int) -> float:
    """Median sentences per second over ``runs`` passes of the gold set x ``repeat``."""
    texts = [" ".join(p) for p in gold] * repeat
    n = sum(len(p) for p in gold) * repeat
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for t in texts:
            split(t)
        times.append(time.perf_counter() - t0)
    return n / statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    """Print the comparison table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--html", action="store_true", help="also compare HTML extractors")
    args = ap.parse_args(argv)
    gold = load_gold()
    n = sum(len(p) for p in gold)
    print(f"gold set: {n} sentences in {len(gold)} paragraphs; median of {args.runs} runs")
    print(f"{'splitter':30} {'accuracy':>16} {'sentences/s':>12}")
    for name, split in _candidates().items():
        ok, total = accuracy(split, gold)
        # Fast candidates get ~10,000 sentences per run, slow ones fewer.
        sps = speed(split, gold, args.runs, repeat=1)
        if sps > 5000:
            sps = speed(split, gold, args.runs, repeat=max(1, 10_000 // n))
        print(f"{name:30} {ok:>4}/{total} {100 * ok / total:6.1f} % {sps:>12,.0f}")
    if args.html:
        html_table(args.runs)


HTML_DIR = ROOT / "tests" / "data" / "ingest" / "html"


def _html_candidates() -> dict[str, Callable[[str], list[tuple[str, str]]]]:
    """HTML extractors as functions page -> [(kind, text)] body blocks in order."""
    import re

    from lxml import etree
    from lxml import html as lxml_html

    from annotator.ingest.html import extract_html

    ws = re.compile(r"\s+")

    def norm(t: str | None) -> str:
        return ws.sub(" ", t or "").strip()

    def ours(page: str) -> list[tuple[str, str]]:
        return [(b.kind, b.text) for b in extract_html(page).blocks if b.kind != "title"]

    out: dict[str, Callable[[str], list[tuple[str, str]]]] = {"selectolax + our rules": ours}
    try:
        import trafilatura

        def traf(page: str) -> list[tuple[str, str]]:
            xml = trafilatura.extract(
                page, output_format="xml", include_comments=False, include_tables=False,
                include_images=False, include_formatting=False, deduplicate=False,
            )  # fmt: skip
            if not xml:
                return []
            root = etree.fromstring(xml.encode())
            res = []
            for el in root.iter("head", "p", "item", "quote"):
                if el.tag == "quote" and len(el):
                    continue
                kind = "heading" if el.tag == "head" else "paragraph"
                res.append((kind, norm("".join(el.itertext()))))
            return res

        out["trafilatura 2.3"] = traf
    except ImportError:
        pass
    try:
        from readability import Document

        def readab(page: str) -> list[tuple[str, str]]:
            frag = lxml_html.fromstring(Document(page).summary(html_partial=True))
            tags = ("p", "h2", "h3", "h4", "li")
            return [
                ("heading" if el.tag.startswith("h") else "paragraph", norm(el.text_content()))
                for el in frag.iter(*tags)
            ]

        out["readability-lxml 0.9"] = readab
    except ImportError:
        pass
    try:
        import justext

        stop = justext.get_stoplist("English")

        def jt(page: str, **kw: float) -> list[tuple[str, str]]:
            return [
                ("heading" if p.is_heading else "paragraph", norm(p.text))
                for p in justext.justext(page.encode(), stop, **kw)
                if not p.is_boilerplate
            ]

        out["jusText 3.0 (defaults)"] = jt
        # Its defaults expect long pages; thresholds lowered for short news items.
        out["jusText 3.0 (tuned)"] = lambda page: jt(
            page, length_low=30, length_high=90, stopwords_low=0.15, stopwords_high=0.25
        )
    except ImportError:
        pass
    return out


def html_scores(blocks: list[tuple[str, str]], expected: dict) -> tuple[float, float, float]:
    """(paragraphs kept, boilerplate removed, headings kept in order) as fractions."""
    from annotator.ingest.plaintext import Candidate, classify

    # Every extractor's output goes through the same metadata rules (date,
    # byline and credit lines) that the pipeline applies after extraction.
    cands = [Candidate(t, k if k == "heading" else "paragraph") for k, t in blocks if t]
    got = classify(cands, detect_title=False).blocks
    paras = {b.text for b in got if b.kind == "paragraph"}
    kept = sum(p in paras for p in expected["paragraphs"]) / len(expected["paragraphs"])
    joined = "\n".join(b.text for b in got)
    junk = expected["boilerplate"]
    clean = sum(j not in joined for j in junk) / len(junk)
    heads = [b.text for b in got if b.kind == "heading"]
    it = iter(heads)
    in_order = sum(h in it for h in expected["headings"]) / len(expected["headings"])
    return kept, clean, in_order


def html_table(runs: int) -> None:
    """Print accuracy and ms/page for each HTML extractor over the fixture pages."""
    import json

    pages = []
    for path in sorted(HTML_DIR.glob("*.html")):
        exp = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
        pages.append((path.read_text("utf-8"), exp))
    print(f"\nHTML extractors on {len(pages)} pages (mean of per-page fractions)")
    print(f"{'extractor':26} {'kept':>6} {'clean':>6} {'heads':>6} {'score':>6} {'ms/page':>8}")
    for name, fn in _html_candidates().items():
        totals = [0.0, 0.0, 0.0]
        for page, exp in pages:
            for i, v in enumerate(html_scores(fn(page), exp)):
                totals[i] += v / len(pages)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            for page, _exp in pages:
                fn(page)
            times.append((time.perf_counter() - t0) / len(pages))
        ms = 1000 * statistics.median(times)
        score = sum(totals) / 3
        print(
            f"{name:26} {totals[0]:6.2f} {totals[1]:6.2f} {totals[2]:6.2f} {score:6.2f} {ms:8.2f}"
        )


if __name__ == "__main__":
    main()
