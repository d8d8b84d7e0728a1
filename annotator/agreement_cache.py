"""A file cache of agreement summaries, valid until the project's answers change.

A million annotations take seconds to load and summarise; the dashboard is
viewed far more often than the data changes. Every write of an annotation or
a gold answer appends a history row (``annotation_events``, ``gold_events``),
so the newest id and the row count of those two tables plus the project's
labels name the state a summary was computed from. A cached
summary is used only while that state is unchanged, so it is never stale.

The cache lives in files under the instance folder rather than in process
memory, so every worker process on the host shares it; the web request that
reads it writes nothing to the database. Files are replaced atomically.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import AnnotationEvent, GoldEvent, Label


def data_version(session: Session, project_id: int) -> str:
    """A string that changes whenever anything the project's agreement depends on does."""
    # Both tables are append-only. The newest id alone is not enough on
    # PostgreSQL, where ids are handed out before commit: a transaction holding
    # a lower id may commit later. The row count catches that.
    events = session.execute(select(func.max(AnnotationEvent.id), func.count())).one()
    golds = session.execute(select(func.max(GoldEvent.id), func.count())).one()
    labels = session.execute(
        select(Label.id, Label.name).where(Label.project_id == project_id).order_by(Label.position)
    ).all()
    label_key = hashlib.sha256(repr(labels).encode()).hexdigest()[:16]
    return f"{events[0] or 0}.{events[1]}:{golds[0] or 0}.{golds[1]}:{label_key}"


def cached_summary(
    session: Session,
    project_id: int,
    filters: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
    cache_dir: Path | None,
) -> tuple[dict[str, Any], bool]:
    """The summary for these filters from the cache when current, else computed and stored.

    Returns (summary, whether it came from the cache). Without ``cache_dir``
    it always computes. A cache file that cannot be read or written is
    ignored: the cache only ever saves time.
    """
    if cache_dir is None:
        return compute(), False
    version = data_version(session, project_id)
    name = hashlib.sha256(orjson.dumps(filters, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
    path = cache_dir / f"agreement-{project_id}-{name}.json"
    try:
        stored = orjson.loads(path.read_bytes())
        if stored.get("version") == version and stored.get("filters") == filters:
            return stored["summary"], True
    except (OSError, orjson.JSONDecodeError, AttributeError):
        pass
    summary = compute()
    _write_atomically(path, {"version": version, "filters": filters, "summary": summary})
    return summary, False


def _write_atomically(path: Path, content: dict[str, Any]) -> None:
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".agreement-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(content))
        os.replace(temporary, path)
    except OSError:
        # A full disk or a read-only instance folder costs speed, not correctness.
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
