"""Export downloads for the pages and the API: streamed attachments with safe filenames."""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from flask import Response, current_app

from annotator.db import get_database
from annotator.exchange.export import export_csv, export_json, export_jsonl

EXPORT_FORMATS: dict[str, tuple[Callable[..., None], str]] = {
    "json": (export_json, "application/json"),
    "jsonl": (export_jsonl, "application/x-ndjson"),
    "csv": (export_csv, "text/csv; charset=utf-8"),
}
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_DONE = object()


def export_filename(project_name: str, fmt: str, today: str | None = None) -> str:
    """``<name>-<date>.<fmt>`` with only [A-Za-z0-9._-]: no quotes, slashes or line breaks."""
    stem = _UNSAFE_FILENAME.sub("-", project_name).strip("-.")[:80] or "project"
    return f"{stem}-{today or datetime.now(UTC).date().isoformat()}.{fmt}"


def export_response(project_name: str, fmt: str) -> Response:
    """A streamed attachment of the project's export; the bytes of ``annotator export``."""
    writer, content_type = EXPORT_FORMATS[fmt]
    filename = export_filename(project_name, fmt)
    response = Response(
        _stream(writer, project_name, current_app._get_current_object()),  # type: ignore[attr-defined]
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
    return response


class _Stopped(Exception):
    """The client went away; the export thread stops writing."""


class _QueueWriter:
    """A binary file whose writes go to a bounded queue (so memory stays bounded)."""

    def __init__(self, chunks: queue.Queue[object], stop: threading.Event) -> None:
        self.chunks, self.stop = chunks, stop

    def write(self, data: bytes) -> int:
        _put(self.chunks, self.stop, data)
        return len(data)


def _put(chunks: queue.Queue[object], stop: threading.Event, item: object) -> None:
    while True:
        try:
            chunks.put(item, timeout=0.2)
            return
        except queue.Full:
            if stop.is_set():
                raise _Stopped from None


def _stream(writer: Callable[..., None], project_name: str, app: Any) -> Iterator[bytes]:
    """Run the exporter in a thread and yield its chunks as it writes them.

    The exporters write to a file; a thread with its own session (the
    request's is closed once the view returns) bridges that to a generator,
    and the queue of at most four chunks of about 1 MB keeps memory constant.
    """
    chunks: queue.Queue[object] = queue.Queue(maxsize=4)
    stop = threading.Event()

    def run() -> None:
        try:
            with get_database(app).session() as session:
                out: IO[bytes] = _QueueWriter(chunks, stop)  # type: ignore[assignment]
                writer(session, out, [project_name])
            _put(chunks, stop, _DONE)
        except _Stopped:
            pass
        except Exception as error:  # reported to the generator, which re-raises it
            try:
                _put(chunks, stop, error)
            except _Stopped:
                pass

    thread = threading.Thread(target=run, name="annotator-export", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        thread.join()
