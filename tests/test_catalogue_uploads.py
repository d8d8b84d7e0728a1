"""Catalogue rows 1–4 (empty and blank articles, bodies over the limit) as tests.

Each row is driven through every way an article gets in: the web import form
(pasted text and file upload), the JSON API (``POST /api/v1/projects/<id>/articles``)
and the ``annotator import`` command. "No write" means the counts of every table an
import touches, and the stored articles, are unchanged (``Snapshot``). The helpers
here are shared with the other catalogue files of uploads and content:
``test_catalogue_content_large.py`` (rows 5–7), ``test_catalogue_content_encoding.py``
(rows 8–11), ``test_catalogue_content.py`` (rows 12–16) and
``test_catalogue_content_files.py`` (rows 17, 56, 57).
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import werkzeug.formparser
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from annotator.models import Article, Label, Mention, Project, Source, SourceAlias, Unit
from tests.helpers import add_article, add_project, add_user, app_session
from tests.test_projects_pages import client_for, csrf

EXISTING = "The harbour stayed closed on Sunday, Reuters reported. Crews checked the cranes."
STORY = "The port reopened on Monday, AP reported. Ships queued outside the harbour."


@dataclass
class Desk:
    """A project with one article already stored, a reviewer who imports, a CLI runner."""

    app: Flask
    project: int
    client: FlaskClient
    tmp: Path

    def paste(self, text: str, title: str = "") -> TestResponse:
        """Submit the import form with pasted text."""
        data = {"csrf_token": csrf(self.client), "text": text, "title": title}
        return self.client.post(
            f"/projects/{self.project}/import", data=data, content_type="multipart/form-data"
        )

    def upload(self, data: bytes, filename: str, token: str | None = None) -> TestResponse:
        """Submit the import form with one file (``token``: a CSRF token fetched before)."""
        token = token or csrf(self.client)
        body, content_type = multipart({"csrf_token": token.encode(), "file": (filename, data)})
        return self.client.post(
            f"/projects/{self.project}/import", data=body, content_type=content_type
        )

    def api(self, body: object) -> TestResponse:
        """Import through the JSON API."""
        return self.client.post(
            f"/api/v1/projects/{self.project}/articles",
            json=body,
            headers={"X-CSRFToken": csrf(self.client)},
        )

    def api_raw(self, data: bytes) -> TestResponse:
        """Send raw bytes as an application/json body to the API import."""
        return self.client.post(
            f"/api/v1/projects/{self.project}/articles",
            data=data,
            content_type="application/json",
            headers={"X-CSRFToken": csrf(self.client)},
        )

    def cli(self, data: bytes, filename: str) -> Any:
        """Write ``data`` to a file and run ``annotator import`` on it."""
        path = self.tmp / filename
        path.write_bytes(data)
        return self.app.test_cli_runner().invoke(args=["import", str(path), "--project", "wire"])


@pytest.fixture
def desk(app: Flask, tmp_path: Path) -> Desk:
    return make_desk(app, tmp_path)


def make_desk(app: Flask, tmp_path: Path) -> Desk:
    """The ``wire`` project with one article, reviewer ``rev`` and annotator ``ann``."""
    with app_session(app) as session:
        project = add_project(session, "wire")
        add_article(session, project, EXISTING, title="Existing")
        add_user(session, "rev", "reviewer", project=project)
        add_user(session, "ann", project=project)
        session.commit()
        project_id = project.id
    folder = tmp_path / "files"
    folder.mkdir()
    return Desk(app, project_id, client_for(app, "rev"), folder)


Snapshot = tuple[tuple[int, ...], tuple[tuple[Any, ...], ...]]


def snapshot(app: Flask) -> Snapshot:
    """Row counts of every table an import writes, and the stored articles."""
    with app_session(app) as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Project, Label, Article, Unit, Source, SourceAlias, Mention)
        )
        articles = tuple(
            tuple(row)
            for row in session.execute(
                select(Article.id, Article.content_hash, Article.title, Article.text).order_by(
                    Article.id
                )
            )
        )
    return counts, articles


def multipart(
    fields: dict[str, bytes | tuple[str, bytes]], boundary: str = "catalogue"
) -> tuple[bytes, str]:
    """A multipart/form-data body built by hand, and its content type; a tuple value
    is a file (name, bytes). The test client would spool big bodies to a temporary
    file that it never closes."""
    parts = []
    for name, value in fields.items():
        disposition = f'form-data; name="{name}"'
        if isinstance(value, tuple):
            quoted = value[0].replace("\\", "\\\\").replace('"', '\\"')
            disposition += f'; filename="{quoted}"'
            value = value[1]
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
        parts.append(head.encode() + value + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def field_errors(response: TestResponse, field: str) -> str:
    """The error list the import form shows under ``field`` (text or file)."""
    html = response.get_data(as_text=True)
    assert f'id="{field}-errors"' in html, html[:2000]
    return html.split(f'id="{field}-errors"')[1].split("</ul>")[0]


def cli_errors(result: Any) -> list[str]:
    """The ``error:`` lines of an ``annotator import`` run."""
    return [line for line in result.output.splitlines() if line.startswith("error: ")]


def newest_article(app: Flask) -> Article:
    """The article stored last (detached, units loaded separately)."""
    with app_session(app) as session:
        article = session.scalars(select(Article).order_by(Article.id.desc()).limit(1)).one()
        session.expunge(article)
        return article


def units_of(app: Flask, article_id: int) -> list[tuple[str, int, int]]:
    """(kind, start, end) of an article's units in reading order."""
    with app_session(app) as session:
        rows = session.execute(
            select(Unit.kind, Unit.start, Unit.end)
            .where(Unit.article_id == article_id)
            .order_by(Unit.position)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


class ViewSpy:
    """Counts the calls of one view function (replaced in ``app.view_functions``)."""

    def __init__(self, app: Flask, endpoint: str) -> None:
        self.calls = 0
        original = app.view_functions[endpoint]

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        app.view_functions[endpoint] = spy


def assert_refused_everywhere(
    desk: Desk,
    data: bytes,
    filename: str,
    message: str,
    *,
    api_status: int = 422,
) -> None:
    """The same bytes as an upload, pasted (when they are text), via the API and the CLI:
    each refused with ``message`` (upload, CLI) and nothing written."""
    before = snapshot(desk.app)
    uploaded = desk.upload(data, filename)
    assert uploaded.status_code == 400
    assert message.lower() in field_errors(uploaded, "file").lower()
    result = desk.cli(data, filename)
    assert result.exit_code == 1, result.output
    [line] = cli_errors(result)
    assert filename in line and message.lower() in line.lower()
    assert "0 imported" in result.output
    assert snapshot(desk.app) == before


# --- row 1: empty file ------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["empty.txt", "empty.html", "empty.json", "empty.jsonl"])
def test_row_01_empty_file_is_400_empty_file(desk: Desk, filename: str) -> None:
    assert_refused_everywhere(desk, b"", filename, "empty file")


def test_row_01_empty_paste_and_api_body(desk: Desk) -> None:
    before = snapshot(desk.app)
    pasted = desk.paste("")
    assert pasted.status_code == 400
    assert "Paste an article or choose a file." in field_errors(pasted, "text")
    # The API has no file upload; an empty body and an empty text are its empty file.
    empty_body = desk.api_raw(b"")
    assert empty_body.status_code == 400 and empty_body.get_json()["error"] == "bad_json"
    empty_text = desk.api({"text": ""})
    assert empty_text.status_code == 422 and empty_text.get_json()["field"] == "text"
    assert snapshot(desk.app) == before


# --- row 2: empty or blank article ------------------------------------------------------

BLANK = [
    " ",
    "\n\n\n",
    " \r\n\t \r\n",
    "\u00a0\u3000\u2029",  # no-break, ideographic space, paragraph separator
    "\u200b\u200c\ufeff\u2066\u2069",  # nothing visible: invisible format characters only
    "\x00\x01\x1f\x7f",  # controls only (stripped, then nothing is left)
]


@pytest.mark.parametrize("text", BLANK)
def test_row_02_blank_article_is_refused(desk: Desk, text: str) -> None:
    before = snapshot(desk.app)
    pasted = desk.paste(text)
    assert pasted.status_code == 400
    assert "empty" in field_errors(pasted, "text").lower()
    api = desk.api({"text": text, "title": "Blank"})
    assert api.status_code == 422, api.get_json()
    assert "empty" in api.get_json()["message"]
    if "\x00" not in text:  # a NUL makes a file binary (row 8), not blank
        assert_refused_everywhere(desk, text.encode(), "blank.txt", "article is empty")
    assert snapshot(desk.app) == before


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b'{"text": "  \\n "}', "blank.json", "must be a non-empty string"),
        (b'{"text": "\\u200b"}\n', "blank.jsonl", "line 1: article is empty"),
        (b"\n\n  \n", "blank.jsonl", "article is empty"),
        (b"<html><body><p> </p><nav>Home</nav></body></html>", "blank.html", "no article text"),
    ],
)
def test_row_02_blank_article_in_structured_files(
    desk: Desk, data: bytes, filename: str, message: str
) -> None:
    assert_refused_everywhere(desk, data, filename, message)


# --- rows 3 and 4: bodies over MAX_CONTENT_LENGTH -----------------------------------------

LIMIT = 64 * 1024


@dataclass
class Spool:
    """Where uploads are spooled during a test, and every spool file Werkzeug opened."""

    folder: Path
    opened: list[tempfile.SpooledTemporaryFile[bytes]]

    def left_behind(self) -> list[object]:
        """Spool files still open, or files still on disk, after the request ended."""
        return [f for f in self.opened if not f.closed] + list(self.folder.iterdir())


@pytest.fixture
def small_limit(desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Spool:
    """A 64 kB request limit, and a record of the temporary files uploads open."""
    desk.app.config["MAX_CONTENT_LENGTH"] = LIMIT
    spool = Spool(tmp_path / "spool", [])
    spool.folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool.folder))

    class Recorded(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Roll over to a real file early, so a leak would also show on disk.
            super().__init__(*args, **{**kwargs, "max_size": 1024})
            spool.opened.append(self)

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", Recorded)
    return spool


def test_row_03_upload_over_the_limit_is_413_before_the_view(
    desk: Desk, small_limit: Spool
) -> None:
    import_view = ViewSpy(desk.app, "projects.import_articles")
    api_view = ViewSpy(desk.app, "api.import_article")
    before = snapshot(desk.app)
    body = b"Word. " * (LIMIT // 6 + 1)
    response = desk.upload(body, "big.txt")
    assert response.status_code == 413
    assert "larger than the server accepts (64 kB per request)" in response.get_data(as_text=True)
    pasted = desk.paste("Word. " * (LIMIT // 6 + 1))
    assert pasted.status_code == 413
    assert import_view.calls == 0  # refused while the CSRF check parsed the form
    # The API's CSRF check looks for a form token, which checks the length first.
    api = desk.api({"text": "Word. " * (LIMIT // 6)})
    assert api.status_code == 413 and api.get_json()["error"]
    assert api_view.calls == 0
    assert small_limit.left_behind() == []  # no spooled upload left behind
    assert snapshot(desk.app) == before


def test_row_03_cli_file_over_the_import_limit(desk: Desk) -> None:
    desk.app.config["IMPORT_MAX_BYTES"] = 1000
    before = snapshot(desk.app)
    result = desk.cli(b"Word. " * 200, "big.txt")
    assert result.exit_code == 1
    [line] = cli_errors(result)
    assert "big.txt: file is 1,200 bytes; the limit is 1,000" in line
    assert snapshot(desk.app) == before


class Endless(io.RawIOBase):
    """A request body made on demand (``head``, then ``size`` bytes of ``chunk``),
    counting the bytes of ``chunk`` the server read.

    ``tell`` and ``seek`` pretend the stream is empty, so the test client sends it with
    ``Content-Length: 0``, which ``Transfer-Encoding: chunked`` makes Werkzeug ignore:
    the server sees a body of unknown length, as from a chunked request.
    """

    def __init__(self, size: int, chunk: bytes, head: bytes = b"") -> None:
        self.head, self.left, self.chunk, self.read_bytes = head, size, chunk, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        n = min(len(buffer), self.left)
        buffer[:n] = (self.chunk * (n // len(self.chunk) + 1))[:n]
        self.left -= n
        self.read_bytes += n
        return n


def chunked(desk: Desk, url: str, stream: Endless, content_type: str, terminated: bool) -> Any:
    """POST ``stream`` without a usable Content-Length (Transfer-Encoding: chunked).

    ``terminated`` says the WSGI server de-chunks and ends the stream itself
    (``wsgi.input_terminated``), as gunicorn and the dev server do.
    """
    return desk.client.post(
        url,
        input_stream=stream,
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked", "X-CSRFToken": csrf(desk.client)},
        environ_overrides={"wsgi.input_terminated": True} if terminated else {},
    )


def chunked_upload(desk: Desk, stream_size: int, *, terminated: bool) -> tuple[Any, Endless]:
    """A multipart upload of ``stream_size`` bytes of text, sent chunked."""
    head, content_type = multipart({"csrf_token": csrf(desk.client).encode()}, "row4")
    head = head.removesuffix(b"--row4--\r\n") + (
        b'--row4\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
    )
    stream = Endless(stream_size, b"Word. ", head)
    url = f"/projects/{desk.project}/import"
    return chunked(desk, url, stream, content_type, terminated), stream


def test_row_04_chunked_upload_over_the_limit_is_413_with_bounded_reads(
    desk: Desk, small_limit: Spool
) -> None:
    view = ViewSpy(desk.app, "projects.import_articles")
    before = snapshot(desk.app)
    response, stream = chunked_upload(desk, 20 * LIMIT, terminated=True)
    assert response.status_code == 413
    assert "larger than the server accepts" in response.get_data(as_text=True)
    assert view.calls == 0
    # The server stopped reading near the limit instead of taking all 1.3 MB.
    assert stream.read_bytes <= LIMIT + 64 * 1024
    # The file part was being spooled when the limit hit; its spool file is closed.
    assert small_limit.opened and small_limit.left_behind() == []
    assert snapshot(desk.app) == before


def test_row_04_chunked_body_from_a_server_that_does_not_terminate_it(
    desk: Desk, small_limit: Spool
) -> None:
    # Without wsgi.input_terminated Werkzeug reads no body of unknown length at all:
    # the form arrives empty and the CSRF check refuses it.
    before = snapshot(desk.app)
    response, stream = chunked_upload(desk, 20 * LIMIT, terminated=False)
    assert response.status_code == 400
    assert stream.read_bytes == 0
    assert snapshot(desk.app) == before


def test_row_04_chunked_json_over_the_limit_is_413_json(desk: Desk, small_limit: Spool) -> None:
    before = snapshot(desk.app)
    stream = Endless(20 * LIMIT, b"Word. ", b'{"text": "')
    url = f"/api/v1/projects/{desk.project}/articles"
    response = chunked(desk, url, stream, "application/json", terminated=True)
    assert response.status_code == 413
    assert response.get_json()["error"]
    assert stream.read_bytes <= LIMIT + 64 * 1024
    assert snapshot(desk.app) == before
