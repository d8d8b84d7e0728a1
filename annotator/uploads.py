"""The app's request class: every spooled upload is closed, even when parsing stops early.

Werkzeug closes the files of ``request.files`` when the request ends, but a multipart
body that goes over ``MAX_CONTENT_LENGTH`` half-way through a file part (a chunked
upload has no Content-Length to refuse up front) raises 413 before that part reaches
``request.files``: its spooled temporary file was left for the garbage collector.
"""

from __future__ import annotations

from typing import IO

from annotator.web import LimitedRequest


class UploadRequest(LimitedRequest):
    """A request that remembers the upload streams it opens and closes them all."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """A spooled temporary file for one uploaded part, recorded for ``close``."""
        stream = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        self.__dict__.setdefault("_upload_streams", []).append(stream)
        return stream

    def close(self) -> None:
        """Close ``request.files`` and every upload stream, parsed to the end or not."""
        try:
            super().close()
        finally:
            for stream in self.__dict__.pop("_upload_streams", []):
                stream.close()
