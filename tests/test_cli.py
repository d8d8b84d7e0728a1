"""The command line: database commands, users, import and export wiring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text

from annotator.db import get_database
from annotator.models import Article, Unit, User
from tests.conftest import seed_path


def count(app: Flask, model: type) -> int:
    with get_database(app).session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_db_upgrade_then_status(bare_app: Flask) -> None:
    runner = bare_app.test_cli_runner()
    assert runner.invoke(args=["db", "status"]).output.strip() == "empty"
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["db", "status"]).output.strip() == "current"


def test_commands_refuse_an_outdated_database(app: Flask, runner: FlaskCliRunner) -> None:
    with get_database(app).engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 1
    assert "annotator db upgrade" in result.output


def test_users_add_with_password_on_stdin(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "add", "Alice", "--role", "reviewer", "--password-stdin"],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    with get_database(app).session() as session:
        user = session.scalars(select(User)).one()
    assert (user.username, user.role) == ("alice", "reviewer")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["users", "add", "bob", "--role", "king", "--password-stdin"],
            "longenough\n",
            "Invalid value for '--role'",
        ),
        (["users", "add", "bob", "--password-stdin"], "short\n", "at least 8 characters"),
        (["users", "add", "bo\u200bb", "--password-stdin"], "longenough\n", "invisible"),
        (
            ["users", "add", "a\r\nSet-Cookie: x=1", "--password-stdin"],
            "longenough\n",
            "control characters",
        ),
    ],
)
def test_users_add_refuses_bad_input(
    app: Flask, runner: FlaskCliRunner, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert count(app, User) == 0


def test_users_add_refuses_a_duplicate_in_another_case(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["users", "add", "Dana", "--no-password"]).exit_code == 0
    result = runner.invoke(args=["users", "add", "DANA", "--no-password"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert count(app, User) == 1


def test_import_seed_prints_one_line_per_article(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["import", str(seed_path()), "--project", "dw"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("article "))
    assert "'North Korea envoy to Russia'" in line
    assert "12 sentences" in line
    for source in ("KCNA", "AP", "AFP", "Koh Yu-hwan"):
        assert source in line
    assert count(app, Article) == 1


def test_repeated_import_is_reported_and_skipped(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["import", str(seed_path())])
    units_before = count(app, Unit)
    result = runner.invoke(args=["import", str(seed_path())])
    assert result.exit_code == 0
    assert "skipped 'North Korea envoy to Russia': already imported as article 1" in result.output
    assert count(app, Article) == 1
    assert count(app, Unit) == units_before


def test_import_reports_each_failed_file_and_exits_non_zero(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Officials said the bridge would reopen on Monday. Traffic resumed.\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "broken.json").write_text('{"text": ')
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3
    assert any("empty.txt" in e and "empty" in e for e in errors)
    assert any("binary.txt" in e and "UTF-8" in e for e in errors)
    assert any("broken.json" in e for e in errors)
    assert count(app, Article) == 1


def test_import_of_a_missing_path_fails_readably(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["import", "/nonexistent/article.txt"])
    assert result.exit_code == 1
    assert "error: /nonexistent/article.txt: no such file" in result.output


def test_first_command_creates_the_database(bare_app: Flask) -> None:
    result = bare_app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    assert "created the database" in result.output
    assert bare_app.test_client().get("/login").status_code == 200


@pytest.mark.expect_5xx
def test_pages_explain_an_empty_database(bare_app: Flask) -> None:
    response = bare_app.test_client().get("/")
    assert response.status_code == 503
    assert "annotator db upgrade" in response.get_data(as_text=True)


def test_export_schema_is_json(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["export", "--schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["properties"]["format"]["const"] == "annotator-export"


def test_export_of_an_unknown_project_fails(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["export", "--project", "nope"])
    assert result.exit_code == 1
    assert "no such project: nope" in result.output


def test_export_to_a_file_after_import(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    runner.invoke(args=["import", str(seed_path()), "--project", "dw"])
    out = tmp_path / "export.json"
    result = runner.invoke(args=["export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    article = document["projects"][0]["articles"][0]
    sentences = [u for u in article["units"] if u["kind"] == "sentence"]
    assert [u["index"] for u in sentences] == list(range(12))
    assert all(article["text"][u["start"] : u["end"]] == u["text"] for u in article["units"])
    assert not (tmp_path / "export.json.partial").exists()


def test_import_annotations_csv_round_trip_and_refusal(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    runner.invoke(args=["import", str(seed_path()), "--project", "dw"])
    rows = tmp_path / "labels.csv"
    rows.write_text(
        "article,unit,annotator,label,sources,note\n"
        "North Korea envoy to Russia,2,carol,reported_fact,Korean Central News Agency,\n"
        "1,9,carol,quote,Koh Yu-hwan;AP,relay via AP\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import-annotations", str(rows)])
    assert result.exit_code == 0, result.output
    assert "2 annotations created" in result.output
    again = runner.invoke(args=["import-annotations", str(rows)])
    assert "2 annotations unchanged" in again.output

    out = tmp_path / "export.csv"
    runner.invoke(args=["export", "--format", "csv", "-o", str(out)])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("article,unit,annotator,label,sources,note,")
    assert lines[1].startswith("1,2,carol,reported_fact,KCNA,,")
    assert lines[2].startswith("1,9,carol,quote,Koh Yu-hwan;AP,relay via AP,")

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "article,unit,annotator,label,sources,note\n1,0,carol,factish,,\n1,99,carol,quote,,\n",
        encoding="utf-8",
    )
    refused = runner.invoke(args=["import-annotations", str(bad)])
    assert refused.exit_code == 1
    problems = [line for line in refused.output.splitlines() if line.startswith("error: ")]
    assert len(problems) == 2
    assert "row 2: unknown label 'factish'" in problems[0]
    assert "row 3: unit 99 out of range" in problems[1]


BAD_FILES = [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b" \n\r\n\t \n", "empty"),
    ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not UTF-8 text"),
    ("program.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "not UTF-8 text"),
    ("latin1.txt", "caf\u00e9 au lait.".encode("latin-1"), "UTF-8"),
    ("overlong.txt", b"Officials said \xc0\xaf it was over.", "UTF-8"),
    ("surrogate.txt", b"Officials said \xed\xa0\x80 it was over.", "UTF-8"),
    ("truncated.txt", b"Officials said it was over \xe2\x82", "UTF-8"),
    ("utf16.txt", "Officials said it was over.".encode("utf-16"), "UTF-16"),
    ("notes.docx", b"PK\x03\x04", "unsupported file type .docx"),
    ("list.json", b"[]", "no articles"),
    ("object.json", b'{"title": "no text"}', "'text' must be a non-empty string"),
    ("lines.jsonl", b'{"text": "One sentence here."}\n{"text": ', "line 2"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_without_writing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert str(path) in errors[0] and message in errors[0]
    assert count(app, Article) == 0
    assert count(app, Unit) == 0


def test_oversize_file_is_refused(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    app.config["IMPORT_MAX_BYTES"] = 1000
    path = tmp_path / "big.txt"
    path.write_text("The council met on Monday. " * 38, encoding="utf-8")  # 1,026 bytes
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "the limit is 1,000" in result.output
    assert count(app, Article) == 0


def test_line_endings_give_the_same_article(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    body = "Bridge closes\n\nOfficials said the bridge would close. Traffic will be diverted.\n"
    for ending, name in (("\r\n", "crlf.txt"), ("\r", "cr.txt"), ("\n", "lf.txt")):
        (tmp_path / name).write_bytes(body.replace("\n", ending).encode("utf-8"))
    result = runner.invoke(args=["import", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.count("already imported as article 1") == 2
    with get_database(app).session() as session:
        text_ = session.scalar(select(Article.text))
    body = "Officials said the bridge would close. Traffic will be diverted."
    assert text_ == "Bridge closes\n\n" + body


def test_bom_is_stripped(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfPolice said the road was closed. It reopened later.\n")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    with get_database(app).session() as session:
        article = session.scalars(select(Article)).one()
    assert not article.text.startswith("\ufeff")
    assert article.text.startswith("Police said")
