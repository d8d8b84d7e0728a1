"""Catalogue rows 17 (bidi), 56 (paths) and 57 (uploaded HTML/SVG), plus identifiers.

Also the article metadata that must fit its columns (a PostgreSQL 500 before: a
title, URL, dateline or file name longer than the column). Helpers and the ``desk``
world come from ``test_catalogue_uploads.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from annotator.models import Source, Unit
from tests.helpers import app_session
from tests.test_catalogue_uploads import (
    Desk,
    cli_errors,
    field_errors,
    make_desk,
    newest_article,
    snapshot,
)


@pytest.fixture
def desk(app: Flask, tmp_path: Path) -> Desk:
    return make_desk(app, tmp_path)


def api_token(desk: Desk) -> dict[str, str]:
    """The CSRF header for JSON calls of the desk's reviewer."""
    return {"X-CSRFToken": desk.client.get("/api/v1/csrf-token").get_json()["csrf_token"]}


# --- row 17: right-to-left text and bidi controls ---------------------------------------------

RLO, PDF, LRI, RLI, FSI, PDI = "\u202e", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069"
BIDI_TEXT = (
    f"The minister said {RLO}the talks failed, AP reported. "
    f"Officials in {RLI}القاهرة{PDI} agreed {LRI}quickly{PDI}. Ships queued."
)
BIDI_TITLE = f"Talks {RLO}deliaf"


def test_row_17_bidi_text_is_stored_as_is(desk: Desk) -> None:
    assert desk.api({"text": BIDI_TEXT, "title": BIDI_TITLE}).status_code == 201
    article = newest_article(desk.app)
    assert article.text == f"{BIDI_TITLE}\n\n{BIDI_TEXT}"  # data: nothing stripped
    assert article.title == BIDI_TITLE


def test_row_17_every_unit_is_isolated_on_the_annotation_page(desk: Desk) -> None:
    assert desk.api({"text": BIDI_TEXT, "title": BIDI_TITLE}).status_code == 201
    article = newest_article(desk.app)
    html = desk.client.get(f"/articles/{article.id}/annotate").get_data(as_text=True)
    units = html.split('id="units"')[1].split("</ol>")[0]
    items = re.findall(r"<li[^>]*>", units)
    assert len(items) == 3 and all('dir="auto"' in item for item in items)
    # The RLO sits inside its unit's isolated <li>, not beside the panel's buttons.
    assert f'<li dir="auto">The minister said {RLO}the talks failed, AP reported.</li>' in units
    assert f'<h1 dir="auto"><bdi>{BIDI_TITLE}</bdi></h1>' in html


def test_row_17_isolated_on_review_project_and_segmentation_pages(desk: Desk) -> None:
    assert desk.api({"text": BIDI_TEXT, "title": BIDI_TITLE}).status_code == 201
    article = newest_article(desk.app)
    with app_session(desk.app) as session:
        unit_id = session.scalars(
            select(Unit.id).where(Unit.article_id == article.id, Unit.kind == "sentence")
        ).first()
    review = desk.client.get(f"/units/{unit_id}/review").get_data(as_text=True)
    assert f"<bdi>The minister said {RLO}the talks failed, AP reported.</bdi>" in review
    assert f"<bdi>{BIDI_TITLE}</bdi>" in review
    project = desk.client.get(f"/projects/{desk.project}").get_data(as_text=True)
    assert f"<bdi>{BIDI_TITLE}</bdi>" in project
    segments = desk.client.get(f"/articles/{article.id}/segments").get_data(as_text=True)
    assert f"<bdi>The minister said {RLO}the talks failed, AP reported.</bdi>" in segments


def test_row_17_import_message_isolates_the_title(desk: Desk) -> None:
    response = desk.paste(BIDI_TEXT, title=BIDI_TITLE)
    assert response.status_code == 302
    html = desk.client.get(f"/projects/{desk.project}").get_data(as_text=True)
    # FSI … PDI is the plain-text <bdi>: the RLO cannot reverse the rest of the line.
    assert f"Imported “{FSI}{BIDI_TITLE}{PDI}”: 3 sentences" in html


@pytest.mark.parametrize("mark", [RLO, LRI, RLI, FSI, PDI, "\u202a", "\u200f"])
def test_row_17_bidi_controls_in_identifiers_are_refused(desk: Desk, mark: str) -> None:
    before = snapshot(desk.app)
    runner = desk.app.test_cli_runner()
    user = runner.invoke(args=["users", "add", f"adm{mark}in", "--no-password"])
    assert user.exit_code == 1 and "invisible" in user.output
    source = desk.client.post(
        f"/api/v1/projects/{desk.project}/sources",
        json={"name": f"Tass{mark}Wire", "kind": "news_agency"},
        headers=api_token(desk),
    )
    assert source.status_code == 422 and "invisible" in source.get_json()["message"]
    project = runner.invoke(args=["import", "--project", f"wi{mark}re", str(desk.tmp)])
    assert project.exit_code == 1
    assert snapshot(desk.app) == before


# --- rows 14, 16, 17: label names (created only by importing our JSON) -------------------------


def export_with_label(desk: Desk, tmp_path: Path, name: str) -> Path:
    """The project's export with one more label called ``name``, written to a file."""
    result = desk.app.test_cli_runner().invoke(args=["export"])
    document = json.loads(result.stdout)
    document["projects"][0]["labels"].append({"name": name, "key": "9"})
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("quote\u200b", "invisible"),
        ("quote\u202e", "invisible"),
        ("quote\ufeff", "invisible"),
        ("cafe\u0301", "NFC"),
        ("QUOTE", "looks the same as 'quote'"),
    ],
)
def test_label_names_that_look_like_another_are_refused(
    desk: Desk, tmp_path: Path, name: str, message: str
) -> None:
    path = export_with_label(desk, tmp_path, name)
    before = snapshot(desk.app)
    result = desk.app.test_cli_runner().invoke(args=["import-annotations", str(path)])
    assert result.exit_code == 1
    assert any("labels[4].name" in line and message in line for line in cli_errors(result))
    assert snapshot(desk.app) == before


def test_label_name_in_nfc_is_accepted(desk: Desk, tmp_path: Path) -> None:
    path = export_with_label(desk, tmp_path, "caf\u00e9")
    result = desk.app.test_cli_runner().invoke(args=["import-annotations", str(path)])
    assert result.exit_code == 0, result.output
    assert snapshot(desk.app)[0][1] == 5  # Label rows: the four defaults and café


# --- row 56: path traversal -------------------------------------------------------------------

TRAVERSAL_NAMES = {
    "../../etc/passwd.txt": "passwd.txt",
    "/etc/hosts.txt": "hosts.txt",
    "..\\..\\windows\\win.ini.txt": "win.ini.txt",
    "..%2f..%2fsecret.txt": "..%2f..%2fsecret.txt",  # not decoded: it is only a name
    "proj_evil/../proj/story.txt": "story.txt",
}


def files_under(*folders: str | Path) -> set[Path]:
    """Every file below ``folders``."""
    found: set[Path] = set()
    for folder in folders:
        for root, _dirs, names in os.walk(folder):
            found.update(Path(root) / name for name in names)
    return found


def database_files(app: Flask) -> set[Path]:
    """SQLite's own files in the instance folder (its WAL may appear at any write)."""
    return {p for p in files_under(app.instance_path) if ".sqlite3" in p.name}


@pytest.mark.parametrize(("filename", "origin"), list(TRAVERSAL_NAMES.items()))
def test_row_56_upload_filename_is_a_label_never_a_path(
    desk: Desk, filename: str, origin: str
) -> None:
    before = files_under(desk.app.instance_path, desk.tmp)
    text = f"The port reopened on Monday, AP reported. Story {len(filename)} ends."
    response = desk.upload(text.encode(), filename)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    article = newest_article(desk.app)
    assert article.origin == origin
    # Nothing is written to disk for an upload: it is parsed in memory.
    assert files_under(desk.app.instance_path, desk.tmp) - before <= database_files(desk.app)


def test_row_56_filename_without_an_allowed_extension_is_400(desk: Desk) -> None:
    before = snapshot(desk.app)
    response = desk.upload(b"root:x:0:0:root:/root:/bin/sh", "../../etc/passwd")
    assert response.status_code == 400
    assert "Upload a .txt" in field_errors(response, "file")
    assert snapshot(desk.app) == before


def test_row_56_static_files_refuse_traversal_and_sibling_prefixes(
    desk: Desk, tmp_path: Path
) -> None:
    static = tmp_path / "proj"
    static.mkdir()
    (static / "ok.txt").write_text("public")
    evil = tmp_path / "proj_evil"
    evil.mkdir()
    (evil / "secret.txt").write_text("secret")
    desk.app.static_folder = str(static)
    client = desk.app.test_client()
    with client.get("/static/ok.txt") as response:
        assert response.get_data() == b"public"
    for path in (
        "/static/../proj_evil/secret.txt",
        "/static/..%2fproj_evil%2fsecret.txt",
        "/static/%2e%2e/proj_evil/secret.txt",
        "/static/..\\proj_evil\\secret.txt",
        f"/static/{evil / 'secret.txt'}",
        "/static//etc/passwd",
        "/static/../../../../etc/passwd",
    ):
        response = client.get(path, follow_redirects=True)  # "//" redirects to "/"
        assert response.status_code in (400, 404), path
        assert b"secret" not in response.get_data() and b"root:" not in response.get_data()


@pytest.mark.parametrize("fmt", ["..%2fjson", "../json", "%2e%2e", "json/../csv"])
def test_row_56_export_format_parameter(desk: Desk, fmt: str) -> None:
    page = desk.client.get(f"/projects/{desk.project}/export.{fmt}")
    assert page.status_code == 404
    api = desk.client.get(f"/api/v1/projects/{desk.project}/export", query_string={"format": fmt})
    assert api.status_code == 400


# --- row 57: uploaded HTML and SVG are never served -----------------------------------------------

EVIL_HTML = (
    b"<html><head><title>Evil page</title><script>alert(1)</script></head><body>"
    b"<p>The port reopened on Monday, AP reported.</p><svg onload=alert(1)></svg>"
    b"<p>Ships queued <img src=x onerror=alert(2)> outside.</p></body></html>"
)


def test_row_57_uploaded_html_becomes_text_and_is_not_retrievable(desk: Desk) -> None:
    before = files_under(desk.app.instance_path, desk.app.static_folder or "")
    response = desk.upload(EVIL_HTML, "evil.html")
    assert response.status_code == 302
    article = newest_article(desk.app)
    assert "<" not in article.text and "alert" not in article.text
    assert article.text.endswith("Monday, AP reported.\n\nShips queued outside.")
    after = files_under(desk.app.instance_path, desk.app.static_folder or "")
    assert after - before <= database_files(desk.app)
    for path in ("/static/evil.html", "/uploads/evil.html", "/evil.html", "/files/evil.html"):
        assert desk.client.get(path).status_code == 404
    page = desk.client.get(f"/articles/{article.id}/annotate").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "onerror=alert" not in page


@pytest.mark.parametrize("filename", ["evil.svg", "evil.svgz", "evil.xhtml", "evil.htm.svg"])
def test_row_57_svg_and_other_active_types_are_refused(desk: Desk, filename: str) -> None:
    before = snapshot(desk.app)
    response = desk.upload(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", filename)
    assert response.status_code == 400
    assert "Upload a .txt" in field_errors(response, "file")
    assert snapshot(desk.app) == before


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_row_57_downloads_are_attachments_with_a_fixed_type(desk: Desk, fmt: str) -> None:
    assert desk.upload(EVIL_HTML, "evil.html").status_code == 302
    for response in (
        desk.client.get(f"/projects/{desk.project}/export.{fmt}"),
        desk.client.get(f"/api/v1/projects/{desk.project}/export", query_string={"format": fmt}),
    ):
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert (
            response.mimetype
            == {
                "json": "application/json",
                "jsonl": "application/x-ndjson",
                "csv": "text/csv",
            }[fmt]
        )
        response.close()


# --- metadata that must fit its column (a 500 on PostgreSQL before) ------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "T" * 1001, "title must be at most 1,000 characters"),
        ("byline", "B" * 1001, "byline must be at most 1,000 characters"),
        ("url", "https://example.org/" + "u" * 2000, "url must be at most 2,000 characters"),
    ],
)
def test_given_metadata_longer_than_its_column_is_refused(
    desk: Desk, field: str, value: str, message: str
) -> None:
    before = snapshot(desk.app)
    data = json.dumps({"text": "Ships queued. Port open.", field: value}).encode()
    response = desk.upload(data, "long.json")
    assert response.status_code == 400
    assert message in field_errors(response, "file")
    result = desk.cli(data, "long.json")
    assert result.exit_code == 1 and message in result.output
    assert snapshot(desk.app) == before


def test_found_metadata_is_shortened_to_its_column(desk: Desk) -> None:
    page = (
        "<html><head><title>" + "Long title " * 200 + "</title>"
        "<link rel=canonical href='https://example.org/" + "u" * 3000 + "'></head>"
        "<body><p>The port reopened on Monday, AP reported. Ships queued.</p></body></html>"
    )
    response = desk.upload(page.encode(), "a" * 2000 + ".html")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    article = newest_article(desk.app)
    assert len(article.title) <= 1000 and article.title.endswith("…")
    assert article.url is None
    assert article.origin is not None and len(article.origin) <= 255
    assert article.origin.endswith(".html")


def test_found_dateline_is_shortened(desk: Desk) -> None:
    text = "WASHINGTON " + "X" * 300 + " (AP) — Ships queued at the port today. Port open."
    assert desk.api({"text": text}).status_code == 201
    article = newest_article(desk.app)
    assert article.dateline is None or len(article.dateline) <= 200


def test_source_names_found_in_text_never_break_the_import(desk: Desk) -> None:
    # Names cut from the text may hold invisible characters or be long; the import
    # registers a clean name (or none) instead of failing.
    text = (
        '"We will win," said Jo\u200dhn Smi\u200bth, a spokesman. '
        + "According to "
        + "Very Long Agency Name " * 20
        + "(VLAN), ships queued."
    )
    response = desk.api({"text": text, "credits": ["A" * 300, "A\u200bP"]})
    assert response.status_code == 201, response.get_json()
    with app_session(desk.app) as session:
        names = session.scalars(select(Source.name)).all()
    assert all(len(name) <= 200 and "\u200b" not in name for name in names)
