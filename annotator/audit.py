"""The audit trail: who changed which annotation or gold decision, when, from what to what.

Reads the two append-only histories, ``annotation_events`` (written by
``exchange.apply``) and ``gold_events`` (written by ``exchange.gold``). Each event
row holds the state *after* the change only; the state before it ("from which
value") is the previous event of the same annotation (same unit, annotator and
annotation id) or of the same gold decision (same unit and gold id), in the
order rows were appended (their id: writes of one annotation or decision are
serialised by its version check or row lock). It is derived at read time rather
than stored, so the schema stays as it is.

A page is one SQL statement whatever its size. Each history is walked by its
primary key (the order rows were appended), from a cursor that holds one
position per history, so a page costs the same on the first and the ten
thousandth page and needs no index beyond the existing ones. The two walks are
merged by time (``at``); imported events, which keep their original time, sit
where they were recorded. Only the page's rows are then joined to their
previous events, units, articles and users.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.access import visible_article_clause
from annotator.audit_events import (
    ACTIONS,
    ANNOTATION_ACTIONS,
    KINDS,
    Change,
    Event,
    Kind,
    State,
    UnitRef,
    describe,
    event_from_row,
    sources_text,
)
from annotator.audit_sql import Shape, page_statement
from annotator.models import GOLD_ACTIONS, Article, Label, Project, Unit, User
from annotator.names import normalise_name

__all__ = [
    "ACTIONS",
    "KINDS",
    "Change",
    "Event",
    "State",
    "UnitRef",
    "describe",
    "sources_text",
]
# Ids are 32-bit integers on PostgreSQL: anything larger cannot exist (and would
# overflow the driver), so it is refused as input before any query.
ID_MAX = 2**31 - 1
PAGE_DEFAULT, PAGE_MAX = 50, 500
# Indexes some filters would use; reported, not created (migrations are not
# ours). Without them those filters scan the history from the cursor on.
MISSING_INDEXES = (
    "annotation_events (annotator_id, id): one annotator's history",
    "annotation_events (at) and gold_events (at): a date range long ago",
    "annotation_events (action) and gold_events (action): a rare action",
)
# A sentence's own history is short; one page normally holds all of it.
UNIT_PAGE = 200
_CURSOR = re.compile(r"a(\d{1,10}|x|)\.g(\d{1,10}|x|)")


class InvalidFilter(ValueError):
    """A filter or cursor that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


# Where a walk stands: not started (None), past this id (exclusive), or done.
Position = int | Literal["done"] | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: a position in each history."""

    annotation: Position = None
    gold: Position = None

    def token(self) -> str:
        """The opaque string a client sends back to get the next page."""
        a, g = ("x" if p == "done" else "" if p is None else str(p) for p in self)
        return f"a{a}.g{g}"

    def __iter__(self) -> Any:
        return iter((self.annotation, self.gold))

    def of(self, kind: Kind) -> Position:
        """The position in one history."""
        return self.annotation if kind == "annotation" else self.gold


def parse_cursor(token: str) -> Cursor:
    """A cursor from its token; ``InvalidFilter`` for anything we did not hand out."""
    found = _CURSOR.fullmatch(token)
    if found is None:
        raise InvalidFilter("cursor", "is not a cursor of this history; start from the first page")
    positions: list[Position] = []
    for part in (found[1], found[2]):
        if part == "x":
            positions.append("done")
        elif part == "":
            positions.append(None)
        elif 1 <= int(part) <= ID_MAX:
            positions.append(int(part))
        else:
            raise InvalidFilter("cursor", "is out of range; start from the first page")
    return Cursor(*positions)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which events of a project to list; every field narrows (None: no restriction)."""

    unit_id: int | None = None
    article_id: int | None = None
    annotator_id: int | None = None
    kind: Kind | None = None
    actions: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """A page of events and the cursor of the next one (None on the last page)."""

    events: list[Event]
    next_cursor: str | None


def project_history(
    session: Session,
    project_id: int,
    f: HistoryFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = PAGE_DEFAULT,
    newest_first: bool = True,
) -> HistoryPage:
    """A page of the project's annotation and gold history, newest first by default.

    Pages are disjoint and together complete: pass ``next_cursor`` back as
    ``cursor`` (None means this was the last page). One SQL statement per page.
    """
    f = f or HistoryFilter()
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidFilter("limit", f"must be from 1 to {PAGE_MAX}")
    after = parse_cursor(cursor) if cursor else Cursor()
    shape = _shape(f, after, newest_first)
    if not shape.kinds:
        return HistoryPage([], None)
    # limit + 1 from each history: the page takes at most ``limit`` of them,
    # so a history that returned fewer than that many is done when consumed.
    rows = session.execute(page_statement(shape), _parameters(project_id, f, after, limit + 1))
    walks: dict[Kind, list[Event]] = {kind: [] for kind in shape.kinds}
    for row in rows:
        event = event_from_row(row)
        walks[event.kind].append(event)
    events = _merge(walks, limit, newest_first)
    positions: dict[Kind, Position] = {"annotation": after.annotation, "gold": after.gold}
    more = False
    for kind, walk in walks.items():
        taken = [e for e in events if e.kind == kind]
        if taken:
            positions[kind] = taken[-1].id
        if len(taken) < len(walk):
            more = True
        elif len(walk) <= limit:
            positions[kind] = "done"
    for kind in KINDS:
        if kind not in walks:
            positions[kind] = "done"
    next_cursor = Cursor(positions["annotation"], positions["gold"]).token() if more else None
    return HistoryPage(events, next_cursor)


def _merge(walks: dict[Kind, list[Event]], limit: int, newest_first: bool) -> list[Event]:
    """The first ``limit`` events of the walks, merged by time, each walk kept in its order.

    Two-way merge of the heads: taking events out of a walk's order would let
    its cursor skip the ones left behind.
    """
    queues = {kind: list(walk) for kind, walk in walks.items()}
    merged: list[Event] = []
    while len(merged) < limit and any(queues.values()):
        heads = [queue[0] for queue in queues.values() if queue]
        if newest_first:
            head = max(heads, key=lambda e: (e.at, e.kind == "gold"))
        else:
            head = min(heads, key=lambda e: (e.at, e.kind == "gold"))
        queues[head.kind].pop(0)
        merged.append(head)
    return merged


def unit_history(
    session: Session,
    unit_id: int,
    *,
    annotator_id: int | None = None,
    cursor: str | None = None,
    limit: int = UNIT_PAGE,
) -> HistoryPage:
    """The history of one unit, oldest first: every annotator's events and the gold's.

    ``annotator_id`` keeps one annotator's events only (no gold, nobody else's).
    The caller has checked that the unit exists and may be seen; an unknown
    unit simply has no history.
    """
    f = HistoryFilter(
        unit_id=unit_id,
        annotator_id=annotator_id,
        kind="annotation" if annotator_id is not None else None,
    )
    # The unit filter stands in for the project's: no project id is needed.
    return project_history(session, 0, f, cursor=cursor, limit=limit, newest_first=False)


@dataclass(frozen=True, slots=True)
class UnitHeader:
    """A unit as its history page shows it, with its project."""

    id: int
    index: int | None
    kind: str
    text: str
    article_id: int
    article_title: str
    project_id: int
    project_name: str
    labels: tuple[str, ...]


def visible_unit(session: Session, unit_id: int, user: User) -> UnitHeader | None:
    """The unit if ``user`` may open its article (``annotator.access`` rules), else None.

    Callers answer 404 for None and then check the role (403): annotators may
    see the sentence, not other people's history. One query plus the labels.
    """
    if not 1 <= unit_id <= ID_MAX:
        return None
    row = session.execute(
        select(
            Unit.id,
            Unit.index,
            Unit.kind,
            # substr counts characters on both engines, like the offsets.
            func.substr(Article.text, Unit.start + 1, Unit.end - Unit.start),
            Article.id,
            Article.title,
            Project.id,
            Project.name,
        )
        .join(Article, Article.id == Unit.article_id)
        .join(Project, Project.id == Article.project_id)
        .where(Unit.id == unit_id, visible_article_clause(user.id, user.role))
    ).one_or_none()
    if row is None:
        return None
    labels = session.scalars(
        select(Label.name).where(Label.project_id == row[6]).order_by(Label.position)
    ).all()
    return UnitHeader(*row, labels=tuple(labels))


# --- filters from a query string (the page and the API share them) -------------------


def parse_filter(
    session: Session, project_id: int, args: Mapping[str, str]
) -> tuple[HistoryFilter, int]:
    """The filter and page size of ``args`` (a query string); ``InvalidFilter`` names the field.

    ``article`` (id of one of the project's articles), ``annotator`` (user name),
    ``kind`` (annotation or gold), ``action`` (one or more, comma-separated),
    ``since`` and ``until`` (dates, YYYY-MM-DD, UTC, both inclusive), ``limit``.
    """
    article_id = _id_arg(args, "article")
    if article_id is not None:
        found = session.scalar(
            select(Article.id).where(Article.id == article_id, Article.project_id == project_id)
        )
        if found is None:
            raise InvalidFilter("article", "is not an article of this project")
    annotator_id = None
    name = (args.get("annotator") or "").strip()
    if name:
        if len(name) > 200:
            raise InvalidFilter("annotator", "is too long")
        annotator_id = session.scalar(select(User.id).where(User.username == normalise_name(name)))
        if annotator_id is None:
            raise InvalidFilter("annotator", f"there is no user called {name!r}")
    kind = args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise InvalidFilter("kind", "must be annotation or gold")
    actions = tuple(a for a in (args.get("action") or "").split(",") if a)
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise InvalidFilter("action", f"unknown action {unknown[0][:40]!r}")
    since, until = _date_arg(args, "since"), _date_arg(args, "until")
    if since is not None and until is not None and until < since:
        raise InvalidFilter("until", "is before since")
    limit = _id_arg(args, "limit") or PAGE_DEFAULT
    if limit > PAGE_MAX:
        raise InvalidFilter("limit", f"must be from 1 to {PAGE_MAX}")
    f = HistoryFilter(
        article_id=article_id,
        annotator_id=annotator_id,
        kind=kind,  # type: ignore[arg-type]
        actions=actions,
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
    )
    return f, limit


def _id_arg(args: Mapping[str, str], name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= ID_MAX:
        raise InvalidFilter(name, "must be a positive whole number")
    return int(raw)


def _date_arg(args: Mapping[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidFilter(name, "must be a date like 2024-05-31") from None
    if value.year < 1900 or value.year > 9000:
        raise InvalidFilter(name, "is out of range")
    return value


# --- the statement --------------------------------------------------------------------


def _shape(f: HistoryFilter, after: Cursor, newest_first: bool) -> Shape:
    kinds = []
    for kind in KINDS:
        wanted = ANNOTATION_ACTIONS if kind == "annotation" else GOLD_ACTIONS
        if f.kind not in (None, kind) or (f.actions and not set(f.actions) & set(wanted)):
            continue
        if kind == "gold" and f.annotator_id is not None:
            continue  # an annotator's history holds their annotations only
        if after.of(kind) == "done":
            continue
        kinds.append(kind)
    return Shape(
        tuple(kinds),
        f.unit_id is not None,
        f.article_id is not None,
        f.annotator_id is not None,
        bool(f.actions),
        f.since is not None,
        f.until is not None,
        tuple(k for k in kinds if isinstance(after.of(k), int)),
        newest_first,
    )


def _parameters(project_id: int, f: HistoryFilter, after: Cursor, limit: int) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "unit_id": f.unit_id,
        "article_id": f.article_id,
        "annotator_id": f.annotator_id,
        "actions": list(f.actions),
        "since": f.since,
        "until": f.until,
        "after_annotation": after.annotation if isinstance(after.annotation, int) else None,
        "after_gold": after.gold if isinstance(after.gold, int) else None,
        "limit": limit,
    }
