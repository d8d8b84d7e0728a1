"""Streaming exporters: JSON (one document), JSONL and CSV, with bounded memory.

Layouts:

* JSON: the document described by ``export_schema.json``.
* JSONL: one JSON object per line, each with a ``record`` field. Line 1 is the
  header (``record: "header"``: format, version, exported_at, offsets,
  counts); then, per project, one ``record: "project"`` line (name,
  description, suggestion_mode, labels, sources) followed by its articles, one
  ``record: "article"`` line each, carrying ``project`` and exactly the fields
  of an article in the JSON export. Labels and sources sit on the project line
  so article lines stay small and a reader can stream them.
* CSV: one row per annotation. The first six columns are exactly the input of
  ``import-annotations`` (``article`` is the article id, ``unit`` the sentence
  index, ``sources`` canonical names joined with ``;``); more columns follow.

Timestamps are ISO 8601 UTC with microseconds and a ``Z`` suffix.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import IO, Any

import orjson
from sqlalchemy.orm import Session

from annotator.agreement import one_unit_agreement
from annotator.exchange.export_history import HistoryStream, attach
from annotator.exchange.snapshot import (
    ArticleStream,
    ProjectMeta,
    begin_snapshot,
    count_totals,
    json_fragment,
    json_list,
    load_projects,
    load_usernames,
)
from annotator.exchange.times import iso_utc
from annotator.project_agreement import project_agreement

FORMAT = "annotator-export"
VERSION = 1
CSV_COLUMNS = (
    "article",
    "unit",
    "annotator",
    "label",
    "sources",
    "note",
    "project",
    "article_title",
    "unit_text",
    "version",
    "seconds_spent",
    "created_at",
    "updated_at",
    "gold_label",
    "gold_sources",
)
SOURCE_SEPARATOR = ";"
_FLUSH_BYTES = 1 << 20
_EMPTY = frozenset({None, "", "[]", "null"})


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the export document, as shipped in the package."""
    text = resources.files("annotator.exchange").joinpath("export_schema.json").read_text("utf-8")
    return json.loads(text)


class _Sink:
    """Collects encoded pieces and writes them in large chunks to a binary or text file."""

    def __init__(self, out: IO[Any]) -> None:
        self.out = out
        self.text = isinstance(out, io.TextIOBase) or getattr(out, "encoding", None) is not None
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        chunk = b"".join(self.parts)
        self.out.write(chunk.decode("utf-8") if self.text else chunk)
        self.parts.clear()
        self.size = 0


class _Snapshot:
    """The read transaction and the data every format needs before the articles."""

    def __init__(
        self,
        session: Session,
        project_names: Sequence[str] | None,
        *,
        agreement: bool = False,
        gold_only: bool = False,
        history: bool = False,
    ) -> None:
        self.session = session
        self.agreement = agreement
        self.gold_only = gold_only
        self.history = history
        self.started = begin_snapshot(session)
        self.exported_at = iso_utc(datetime.now(UTC))
        self.projects = load_projects(session, project_names)
        self.users = load_usernames(session)

    def header(self) -> dict[str, Any]:
        counts = count_totals(self.session, [project.id for project in self.projects])
        return {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": self.exported_at,
            "offsets": "unicode_code_points",
            "counts": counts,
        }

    def project_header(self, project: ProjectMeta) -> dict[str, Any]:
        """The project's object without articles; with its agreement summary if asked.

        The summary is computed inside the export's read transaction, so it
        describes exactly the annotations exported.
        """
        header = project.header()
        if self.agreement:
            summary = project_agreement(self.session, project.id)
            header["agreement"] = {k: v for k, v in summary.items() if k != "project"}
        return header

    def close(self) -> None:
        # Only end the transaction we opened: a long-lived read transaction
        # would keep SQLite from checkpointing its WAL.
        if self.started:
            self.session.rollback()


def _articles(snapshot: _Snapshot, project: ProjectMeta) -> Iterator[dict[str, Any]]:
    """Yield each article of ``project`` as the dict of the JSON export."""
    stream = ArticleStream(snapshot.session, project)
    labels, sources, users = project.label_names, project.source_names, snapshot.users
    fmt = stream.timestamp
    with_agreement = snapshot.agreement
    # Rows come ordered by annotator id; when ids and names sort alike (the
    # usual case) the per-unit sort by name can be skipped.
    by_id = sorted(users)
    names_follow_ids = by_id == sorted(users, key=users.__getitem__)
    history = HistoryStream(snapshot.session, project, users) if snapshot.history else None
    user_ids = {name: user_id for user_id, name in users.items()}
    for article, mention_rows, unit_rows, annotation_rows in stream:
        text = article[7]
        # Taken for every article, in order, even one the gold-only export skips.
        events = history.article(article[0]) if history is not None else None
        by_unit: dict[int, list[dict[str, Any]]] = {}
        annotation: dict[str, Any] = {}
        current_id = None
        # This loop runs once per annotation (a million times in the
        # benchmark): plain indexing and no helper calls on purpose.
        for (
            _,
            unit_id,
            ann_id,
            annotator,
            label,
            note,
            version,
            spent,
            created,
            updated,
            source,
        ) in annotation_rows:
            if ann_id != current_id:
                current_id = ann_id
                if fmt is not None:
                    created, updated = fmt(created), fmt(updated)
                annotation = {
                    "annotator": users[annotator],
                    "label": labels[label],
                    "sources": [],
                    "note": note,
                    "version": version,
                    "seconds_spent": spent,
                    "created_at": created,
                    "updated_at": updated,
                }
                found = by_unit.get(unit_id)
                if found is None:
                    by_unit[unit_id] = [annotation]
                else:
                    found.append(annotation)
            if source is not None:
                annotation["sources"].append(sources[source])
        units: list[dict[str, Any]] = []
        unit: dict[str, Any] = {}
        for row in unit_rows:
            if unit.get("id") != row[1]:
                unit = _unit(row, text, sources)
                annotations = by_unit.get(row[1])
                if annotations is None:
                    annotations = []
                elif not names_follow_ids and len(annotations) > 1:
                    # By name, so the order survives an import into another
                    # database, where user ids differ.
                    annotations.sort(key=_by_annotator)
                unit["annotations"] = annotations
                unit["gold"] = None if row[9] is None else _gold(row, labels, users, fmt)
                if with_agreement and unit["kind"] == "sentence":
                    unit["agreement"] = one_unit_agreement([a["label"] for a in annotations])
                units.append(unit)
            if row[16] is not None:
                unit["gold"]["sources"].append(sources[row[16]])
        if events is not None:
            attach(units, events, users, user_ids)
        if snapshot.gold_only:
            # The clean dataset: decided sentences with their gold answer only.
            units = [_gold_unit(u) for u in units if u["gold"] and u["gold"]["label"] is not None]
            if not units:
                continue
        mentions = sorted(
            ({"source": sources[row[1]], "start": row[2], "end": row[3]} for row in mention_rows),
            key=_mention_order,
        )
        yield {
            "id": article[0],
            "title": article[1],
            "byline": article[2],
            "dateline": article[3],
            "published": article[4],
            "url": article[5],
            "credits": json_list(article[6]),
            "text": text,
            "content_hash": article[8],
            "mentions": mentions,
            "units": units,
        }


def _gold_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """A unit of the gold-only export: where it is, its text and its gold answer."""
    kept = {k: unit[k] for k in ("id", "index", "kind", "start", "end", "text", "gold")}
    for extra in ("agreement", "gold_history"):
        if extra in unit:
            kept[extra] = unit[extra]
    return kept


def _by_annotator(annotation: dict[str, Any]) -> str:
    return annotation["annotator"]


def _mention_order(mention: dict[str, Any]) -> tuple[int, int, str]:
    return mention["start"], mention["end"], mention["source"]


def _unit(row: Any, text: str, sources: dict[int, str]) -> dict[str, Any]:
    label, suggested, cues = row[6], row[7], row[8]
    suggestion = None
    if label is not None or suggested not in _EMPTY or cues not in _EMPTY:
        suggestion = {
            "label": label,
            # A source deleted since the suggestion was made is dropped, not
            # exported as a dangling id.
            "sources": [sources[s] for s in json_list(suggested) if s in sources],
            # Cues are passed through as the stored JSON text, unparsed.
            "cues": json_fragment(cues),
        }
    start, end = row[4], row[5]
    return {
        "id": row[1],
        "index": row[2],
        "kind": row[3],
        "start": start,
        "end": end,
        "text": text[start:end],
        "suggestion": suggestion,
    }


def _gold(row: Any, labels: dict[int, str], users: dict[int, str], fmt: Any) -> dict[str, Any]:
    return {
        "label": labels.get(row[10]) if row[10] is not None else None,
        "sources": [],
        "provenance": row[11],
        "reviewer": users.get(row[12]) if row[12] is not None else None,
        "rationale": row[13],
        "error_category": row[14],
        "decided_at": row[15] if fmt is None else fmt(row[15]),
    }


def export_json(
    session: Session,
    out: IO[Any],
    project_names: Sequence[str] | None = None,
    *,
    agreement: bool = False,
    gold_only: bool = False,
    history: bool = False,
) -> None:
    """Write the JSON export document of all (or the named) projects to ``out``.

    ``agreement`` adds each project's agreement summary and every sentence's
    agreement; ``gold_only`` keeps only decided sentences, without annotations;
    ``history`` adds every annotation's and every sentence's gold history.
    """
    snapshot = _Snapshot(
        session, project_names, agreement=agreement, gold_only=gold_only, history=history
    )
    sink = _Sink(out)
    try:
        # Each object is encoded whole by orjson, then its closing brace is
        # cut off so the next list can be streamed into it.
        sink.write(orjson.dumps(snapshot.header())[:-1] + b',"projects":[')
        for p, project in enumerate(snapshot.projects):
            prefix = b"," if p else b""
            header = snapshot.project_header(project)
            sink.write(prefix + orjson.dumps(header)[:-1] + b',"articles":[')
            for a, article in enumerate(_articles(snapshot, project)):
                sink.write(b"," + orjson.dumps(article) if a else orjson.dumps(article))
            sink.write(b"]}")
        sink.write(b"]}\n")
        sink.flush()
    finally:
        snapshot.close()


def export_jsonl(
    session: Session,
    out: IO[Any],
    project_names: Sequence[str] | None = None,
    *,
    agreement: bool = False,
    gold_only: bool = False,
    history: bool = False,
) -> None:
    """Write the export as JSON lines: a header, then per project its line and its articles
    (``agreement``, ``gold_only`` and ``history`` as for ``export_json``)."""
    snapshot = _Snapshot(
        session, project_names, agreement=agreement, gold_only=gold_only, history=history
    )
    sink = _Sink(out)
    try:
        sink.write(orjson.dumps({"record": "header", **snapshot.header()}) + b"\n")
        for project in snapshot.projects:
            line = {"record": "project", **snapshot.project_header(project)}
            sink.write(orjson.dumps(line) + b"\n")
            for article in _articles(snapshot, project):
                record = {"record": "article", "project": project.name, **article}
                sink.write(orjson.dumps(record) + b"\n")
        sink.flush()
    finally:
        snapshot.close()


def export_csv(session: Session, out: IO[Any], project_names: Sequence[str] | None = None) -> None:
    """Write one CSV row per annotation; the first six columns re-import as they are."""
    snapshot = _Snapshot(session, project_names)
    sink = _Sink(out)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    try:
        writer.writerow(CSV_COLUMNS)
        for project in snapshot.projects:
            for article in _articles(snapshot, project):
                for unit in article["units"]:
                    gold = unit["gold"]
                    gold_label = gold["label"] if gold else ""
                    gold_sources = SOURCE_SEPARATOR.join(gold["sources"]) if gold else ""
                    for annotation in unit["annotations"]:
                        writer.writerow(
                            (
                                article["id"],
                                "" if unit["index"] is None else unit["index"],
                                annotation["annotator"],
                                annotation["label"],
                                SOURCE_SEPARATOR.join(annotation["sources"]),
                                annotation["note"],
                                project.name,
                                article["title"],
                                unit["text"],
                                annotation["version"],
                                annotation["seconds_spent"],
                                annotation["created_at"],
                                annotation["updated_at"],
                                gold_label or "",
                                gold_sources,
                            )
                        )
                if buffer.tell() >= _FLUSH_BYTES:
                    sink.write(buffer.getvalue().encode("utf-8"))
                    buffer.seek(0)
                    buffer.truncate()
        sink.write(buffer.getvalue().encode("utf-8"))
        sink.flush()
    finally:
        snapshot.close()
