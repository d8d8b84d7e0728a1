"""Reading and checking an export document before anything is written."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from functools import cache
from typing import IO, Any

import orjson
from jsonschema import Draft202012Validator

from annotator.exchange.export import schema
from annotator.names import clean_name, name_problem, normalise_name

_MESSAGE_MAX = 200


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def read_document(data_or_file: Any) -> Any:
    """The parsed document from a dict, bytes/str content, a path or a file object."""
    if isinstance(data_or_file, dict | list):
        return data_or_file
    if isinstance(data_or_file, os.PathLike):
        with open(data_or_file, "rb") as handle:
            raw: Any = handle.read()
    elif isinstance(data_or_file, bytes | bytearray | str):
        raw = data_or_file
    else:
        raw = _read(data_or_file)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return _Unreadable(f"the file is not valid UTF-8 JSON: {error}")


def _read(handle: IO[Any]) -> Any:
    return handle.read()


class _Unreadable:
    """A document that could not be parsed, with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def path_text(path: Any) -> str:
    """A JSON path like ``projects[0].articles[2].units[5].text`` (``document`` for the root)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


def _short(message: str) -> str:
    # jsonschema repeats the offending value, which may be a whole article.
    return message if len(message) <= _MESSAGE_MAX else message[: _MESSAGE_MAX - 1] + "…"


def check_document(document: Any) -> list[str]:
    """Every problem with the document: schema first, then offsets, names and references."""
    if isinstance(document, _Unreadable):
        return [document.reason]
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        return [f"{path_text(e.path)}: {_short(e.message)}" for e in errors]
    return list(_semantic_problems(document))


def _semantic_problems(document: dict[str, Any]) -> Iterator[str]:
    seen_projects: set[str] = set()
    for p, project in enumerate(document["projects"]):
        where = f"projects[{p}]"
        key = normalise_name(project["name"])
        if key in seen_projects:
            yield f"{where}.name: project {project['name']!r} appears twice"
        seen_projects.add(key)
        if problem := name_problem(project["name"], max_length=200):
            yield f"{where}.name: project name {problem}"
        labels = {label["name"] for label in project["labels"]}
        yield from _duplicates(project["labels"], "name", f"{where}.labels", "label name")
        yield from _duplicates(project["labels"], "key", f"{where}.labels", "label key")
        yield from _label_name_problems(project["labels"], f"{where}.labels")
        # Names and aliases: a hand-edited file may use either, as the CSV can.
        sources = {
            normalise_name(name)
            for source in project["sources"]
            for name in [source["name"], *source.get("aliases", [])]
        }
        yield from _source_problems(project["sources"], f"{where}.sources")
        for a, article in enumerate(project["articles"]):
            yield from _article_problems(article, f"{where}.articles[{a}]", labels, sources)


def _duplicates(items: list[dict[str, Any]], field: str, where: str, what: str) -> Iterator[str]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item[field] in seen:
            yield f"{where}[{i}].{field}: {what} {item[field]!r} appears twice"
        seen.add(item[field])


def _label_name_problems(labels: list[dict[str, Any]], where: str) -> Iterator[str]:
    """Label names are identifiers: visible characters only, NFC, no two look alike.

    Labels are matched by their exact name on import, so a decomposed "café" or a
    name with a zero-width or bidi character would become a second, look-alike label.
    """
    seen: dict[str, str] = {}
    for n, label in enumerate(labels):
        name, path = label["name"], f"{where}[{n}].name"
        if problem := name_problem(name, max_length=64):
            yield f"{path}: label name {problem}"
        elif name != clean_name(name):
            yield f"{path}: label name {name!r} must be NFC-normalised, without extra spaces"
        elif seen.setdefault(normalise_name(name), name) != name:
            yield f"{path}: label name {name!r} looks the same as {seen[normalise_name(name)]!r}"


def _source_problems(sources: list[dict[str, Any]], where: str) -> Iterator[str]:
    owner: dict[str, str] = {}
    for s, source in enumerate(sources):
        for n, name in enumerate([source["name"], *source.get("aliases", [])]):
            path = f"{where}[{s}].name" if n == 0 else f"{where}[{s}].aliases[{n - 1}]"
            if problem := name_problem(name, max_length=200):
                yield f"{path}: {problem}"
                continue
            key = normalise_name(name)
            if owner.get(key, source["name"]) != source["name"]:
                yield f"{path}: {name!r} already names source {owner[key]!r}"
            owner.setdefault(key, source["name"])


def _article_problems(
    article: dict[str, Any], where: str, labels: set[str], sources: set[str]
) -> Iterator[str]:
    text = article["text"]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if "content_hash" in article and article["content_hash"] != digest:
        yield f"{where}.content_hash: does not match the SHA-256 of the article text"
    for m, mention in enumerate(article.get("mentions", [])):
        if not mention["start"] < mention["end"] <= len(text):
            span = f"{mention['start']}–{mention['end']}"
            yield f"{where}.mentions[{m}]: offsets {span} are not a span of the text"
        if normalise_name(mention["source"]) not in sources:
            yield f"{where}.mentions[{m}].source: unknown source {mention['source']!r}"
    previous_end, expected_index = 0, 0
    for u, unit in enumerate(article["units"]):
        path = f"{where}.units[{u}]"
        start, end = unit["start"], unit["end"]
        if not start < end <= len(text):
            size = f"{len(text)} code points"
            yield f"{path}: offsets {start}–{end} are not a span of the text ({size})"
        elif text[start:end] != unit["text"]:
            yield f"{path}.text: does not equal the article text from {start} to {end}"
        if start < previous_end:
            yield f"{path}: overlaps the previous unit (starts at {start}, before {previous_end})"
        previous_end = max(previous_end, end)
        if (unit["kind"] == "sentence") != (unit["index"] is not None):
            yield f"{path}.index: must be a number for sentences and null for other kinds"
        elif unit["index"] is not None:
            if unit["index"] != expected_index:
                yield f"{path}.index: expected {expected_index} (sentences count from 0 in order)"
            expected_index = unit["index"] + 1
        yield from _unit_problems(unit, path, labels, sources)


def _unit_problems(
    unit: dict[str, Any], where: str, labels: set[str], sources: set[str]
) -> Iterator[str]:
    suggestion = unit.get("suggestion")
    if suggestion:
        yield from _unknown_sources(suggestion["sources"], f"{where}.suggestion", sources)
    annotators: set[str] = set()
    for i, annotation in enumerate(unit.get("annotations", [])):
        path = f"{where}.annotations[{i}]"
        if problem := name_problem(annotation["annotator"], max_length=200):
            yield f"{path}.annotator: user name {problem}"
        key = normalise_name(annotation["annotator"])
        if key in annotators:
            yield f"{path}.annotator: {annotation['annotator']!r} annotates this unit twice"
        annotators.add(key)
        if unit["kind"] != "sentence":
            yield f"{path}: only sentence units can be annotated, this is a {unit['kind']}"
        if annotation["label"] not in labels:
            yield f"{path}.label: unknown label {annotation['label']!r}"
        yield from _unknown_sources(annotation["sources"], path, sources)
    gold = unit.get("gold")
    if gold:
        if gold["label"] is not None and gold["label"] not in labels:
            yield f"{where}.gold.label: unknown label {gold['label']!r}"
        if gold.get("reviewer") and (problem := name_problem(gold["reviewer"], max_length=200)):
            yield f"{where}.gold.reviewer: user name {problem}"
        yield from _unknown_sources(gold["sources"], f"{where}.gold", sources)


def _unknown_sources(names: list[str], where: str, sources: set[str]) -> Iterator[str]:
    keys = [normalise_name(name) for name in names]
    for i, (name, key) in enumerate(zip(names, keys, strict=True)):
        if key not in sources:
            yield f"{where}.sources[{i}]: unknown source {name!r} (not in the project's sources)"
        elif key in keys[:i]:
            yield f"{where}.sources[{i}]: source {name!r} is listed twice"
