"""Import annotations from CSV: ``article,unit,annotator,label,sources,note``.

``article`` is an article id or its exact title, ``unit`` the index of the
annotatable sentence within the article counting from 0, ``sources`` names or
aliases separated by ``;``. Rows are numbered as a spreadsheet shows them (the
header is row 1). Every row is checked before anything is written; one bad row
refuses the whole file with one readable line per problem.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotator.exchange.apply import load_current_annotations, upsert_annotation
from annotator.exchange.summary import ImportProblems, ImportSummary
from annotator.exchange.users import ensure_users
from annotator.models import NAME_MAX, NOTE_MAX, Article, Label, Project, Unit
from annotator.names import name_problem
from annotator.registry import SourceIndex
from annotator.users import username_key

HEADER = ("article", "unit", "annotator", "label", "sources", "note")
SOURCE_SEPARATOR = ";"


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    unit_id: int
    annotator: str
    label_id: int
    label: str
    source_ids: tuple[int, ...]
    source_names: tuple[str, ...]
    note: str


def _decode(file: Any) -> tuple[str | None, str | None]:
    """(text, None) or (None, problem) for bytes, a path or a binary/text file object."""
    if isinstance(file, os.PathLike):
        with open(file, "rb") as handle:
            raw: Any = handle.read()
    elif isinstance(file, bytes | bytearray | str):
        raw = file
    else:
        try:
            raw = file.read()
        except UnicodeDecodeError as error:
            return None, f"the file is not UTF-8 text ({error.reason})"
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff"), None
    try:
        return bytes(raw).decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start]
        return None, (
            f"the file is not UTF-8 text: byte 0x{byte:02x} at offset {error.start} "
            f"(line {line}); save it as UTF-8 and retry"
        )


def import_csv(
    session: Session,
    file: IO[bytes] | IO[str] | bytes | os.PathLike[str],
    project_name: str | None = None,
) -> ImportSummary:
    """Import CSV annotations; refuse the whole file with ``ImportProblems`` if any row is bad.

    Without ``project_name`` articles are looked up in every project. Runs in a
    savepoint; the caller commits.
    """
    text, problem = _decode(file)
    if problem:
        raise ImportProblems([problem])
    assert text is not None
    records = list(csv.reader(io.StringIO(text, newline="")))
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()  # trailing blank lines are not rows
    if not records:
        raise ImportProblems([f"the file is empty; expected the header {','.join(HEADER)}"])
    header = tuple(cell.strip().lower() for cell in records[0][: len(HEADER)])
    if header != HEADER:
        raise ImportProblems(
            [f"row 1: the header must start with {','.join(HEADER)}; found {','.join(records[0])}"]
        )
    rows, problems = _check_rows(session, records[1:], project_name)
    if problems:
        raise ImportProblems(problems)
    return _write(session, rows)


def _check_rows(
    session: Session, records: list[list[str]], project_name: str | None
) -> tuple[list[_Row], list[str]]:
    scope = select(Article.id, Article.project_id, Article.title)
    if project_name is not None:
        project_id = session.scalar(select(Project.id).where(Project.name == project_name))
        if project_id is None:
            return [], [f"unknown project {project_name!r}"]
        scope = scope.where(Article.project_id == project_id)
    articles = _Articles(session.execute(scope).all())
    wanted = {articles.find(r[0].strip())[0] for r in records if r}
    sentences = _sentences(session, [a for a in wanted if a is not None])
    labels: dict[int, dict[str, int]] = {}
    registries: dict[int, SourceIndex] = {}
    rows: list[_Row] = []
    problems: list[str] = []
    seen: dict[tuple[int, str], int] = {}
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(HEADER):
            problems.append(
                f"row {number}: expected at least {len(HEADER)} columns, found {len(record)}"
            )
            continue
        article_ref, unit_ref, annotator, label, sources = (c.strip() for c in record[:5])
        note = record[5]
        row_problems: list[str] = []
        article_id, project_id, why = articles.find(article_ref)
        unit_id = None
        if article_id is None:
            row_problems.append(why)
        else:
            unit_id, why = _unit(sentences.get(article_id, {}), unit_ref, article_id)
            if unit_id is None:
                row_problems.append(why)
        if not annotator:
            row_problems.append("annotator is empty")
        elif problem := name_problem(annotator, max_length=NAME_MAX):
            row_problems.append(f"annotator name {problem}")
        if len(note) > NOTE_MAX:
            row_problems.append(f"note is longer than {NOTE_MAX} characters")
        label_id = source_ids = None
        if project_id is not None:
            project_labels = labels.get(project_id) or labels.setdefault(
                project_id, _labels(session, project_id)
            )
            label_id = project_labels.get(label)
            if label_id is None:
                names = ", ".join(project_labels)
                row_problems.append(f"unknown label {label!r}; expected one of {names}")
            registry = registries.get(project_id) or registries.setdefault(
                project_id, SourceIndex(session, project_id)
            )
            source_ids, why = _sources(registry, sources)
            if why:
                row_problems.append(why)
        if unit_id is not None and annotator and not row_problems:
            key = (unit_id, username_key(annotator))
            if key in seen:
                row_problems.append(f"same article, unit and annotator as row {seen[key]}")
            seen.setdefault(key, number)
        if row_problems:
            problems.extend(f"row {number}: {p}" for p in row_problems)
            continue
        assert unit_id is not None and label_id is not None and source_ids is not None
        names = tuple(registries[project_id].names[s] for s in source_ids)  # type: ignore[index]
        rows.append(_Row(number, unit_id, annotator, label_id, label, source_ids, names, note))
    return rows, problems


class _Articles:
    """Article look-up by id or exact title within the import's scope."""

    def __init__(self, rows: Iterable[tuple[int, int, str]]) -> None:
        self.by_id: dict[int, int] = {}
        self.by_title: dict[str, list[tuple[int, int]]] = {}
        for article_id, project_id, title in rows:
            self.by_id[article_id] = project_id
            self.by_title.setdefault(title, []).append((article_id, project_id))

    def find(self, ref: str) -> tuple[int | None, int | None, str]:
        """(article id, project id, '') or (None, None, why) for an id or exact title."""
        if ref.isdigit() and int(ref) in self.by_id:
            return int(ref), self.by_id[int(ref)], ""
        matches = self.by_title.get(ref, [])
        if len(matches) == 1:
            return matches[0][0], matches[0][1], ""
        if len(matches) > 1:
            ids = ", ".join(str(m[0]) for m in matches)
            return None, None, f"title {ref!r} names several articles ({ids}); use the id"
        if not ref:
            return None, None, "article is empty"
        return None, None, f"unknown article {ref!r} (neither an article id nor an exact title)"


def _labels(session: Session, project_id: int) -> dict[str, int]:
    # In the project's order, so the "expected one of" list reads like the UI.
    query = select(Label.name, Label.id).where(Label.project_id == project_id)
    return dict(session.execute(query.order_by(Label.position)).all())


def _sentences(session: Session, article_ids: list[int]) -> dict[int, dict[int, int]]:
    found: dict[int, dict[int, int]] = {}
    for i in range(0, len(article_ids), 500):
        for article_id, index, unit_id in session.execute(
            select(Unit.article_id, Unit.index, Unit.id).where(
                Unit.article_id.in_(article_ids[i : i + 500]), Unit.index.is_not(None)
            )
        ):
            found.setdefault(article_id, {})[index] = unit_id
    return found


def _unit(sentences: dict[int, int], ref: str, article_id: int) -> tuple[int | None, str]:
    if not ref.isdigit():
        return None, f"unit must be a sentence index counting from 0, not {ref!r}"
    if int(ref) not in sentences:
        last = len(sentences) - 1
        have = f"sentences 0–{last}" if sentences else "no sentences"
        return None, f"unit {ref} out of range; article {article_id} has {have}"
    return sentences[int(ref)], ""


def _sources(registry: SourceIndex, cell: str) -> tuple[tuple[int, ...] | None, str]:
    names = [name.strip() for name in cell.split(SOURCE_SEPARATOR) if name.strip()]
    ids: list[int] = []
    for name in names:
        source_id = registry.resolve(name)
        if source_id is None:
            return None, f"unknown source {name!r}; use a name or alias from the project's sources"
        if source_id in ids:
            return None, f"source {name!r} is listed twice"
        ids.append(source_id)
    return tuple(ids), ""


def _write(session: Session, rows: list[_Row]) -> ImportSummary:
    summary = ImportSummary()
    try:
        with session.begin_nested():
            users, summary.users_created = ensure_users(
                session, {"annotator": [row.annotator for row in rows]}
            )
            current = load_current_annotations(session, [row.unit_id for row in rows])
            for row in rows:
                annotator_id = users[username_key(row.annotator)]
                result = upsert_annotation(
                    session,
                    row.unit_id,
                    annotator_id,
                    row.label_id,
                    row.source_ids,
                    row.note,
                    None,
                    "import",
                    current=current.get((row.unit_id, annotator_id)),
                    label_name=row.label,
                    source_names=row.source_names,
                )
                name = f"annotations_{result.outcome}"
                setattr(summary, name, getattr(summary, name) + 1)
    except IntegrityError as error:
        raise ImportProblems([f"the database refused the import: {error.orig}"]) from error
    return summary
