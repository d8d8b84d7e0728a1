"""The labelled development set (tests/data/devset/) as evaluation cases.

Each article is parsed and analysed exactly as an import would; every gold
sentence is matched to the unit with the same text. Suggested source names
are mapped to the gold's canonical names through the gold registry's aliases
(the analysis names a source the way the article first does, e.g. "Kim"),
the way a project's registry resolves them. Gold sentences that the splitter
joined with a neighbour (a quotation kept together with its "he said") have
no unit of their own and are reported apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from annotator.attribution import analyse_article
from annotator.ingest import parse_document
from annotator.names import normalise_name
from annotator.suggestion_eval import Case


@dataclass
class DevArticle:
    """One article's cases, the sentences without a unit, and names it must not propose."""

    file: str
    cases: list[Case] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    about_proposed: list[str] = field(default_factory=list)


def load_devset(folder: Path) -> list[DevArticle]:
    """Parse, analyse and match every article of the development set in ``folder``."""
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    return [_article(folder, entry) for entry in gold["articles"]]


def _article(folder: Path, entry: dict) -> DevArticle:
    path = folder / entry["file"]
    [parsed] = parse_document(path.read_bytes(), path.name)
    analysis = analyse_article(parsed)
    canonical: dict[str, str] = {}
    for source in entry["sources"]:
        for name in (source["name"], *source.get("aliases", ())):
            canonical[normalise_name(name)] = source["name"]
    about = {normalise_name(name) for name in entry.get("not_sources", ())}
    by_text = {}
    for unit, suggestion in zip(parsed.units, analysis.suggestions, strict=True):
        if unit.kind == "sentence":
            by_text.setdefault(parsed.text[unit.start : unit.end], suggestion)
    result = DevArticle(entry["file"])
    for number, expected in enumerate(entry["units"]):
        if expected["text"] not in by_text:
            result.unmatched.append(expected["text"])
            continue
        suggestion = by_text[expected["text"]]
        names = suggestion.sources if suggestion else ()
        result.about_proposed += [n for n in names if normalise_name(n) in about]
        result.cases.append(
            Case(
                unit=number,
                suggested_label=suggestion.label if suggestion else None,
                suggested_sources=tuple(canonical.get(normalise_name(n), n) for n in names),
                gold_label=expected["label"],
                gold_sources=tuple(expected["sources"]),
                text=expected["text"],
            )
        )
    return result
