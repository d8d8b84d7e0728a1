"""``annotator import``, ``export`` and ``import-annotations``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext
from tqdm import tqdm

from annotator.cli.common import fail, session_scope
from annotator.importer import ArticleResult, FileFailure, expand_paths, import_paths
from annotator.projects import DEFAULT_PROJECT, ProjectError, get_or_create_project


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--project",
    "project_name",
    default=DEFAULT_PROJECT,
    show_default=True,
    help="Project to import into (created if missing).",
)
@with_appcontext
def import_command(paths: tuple[Path, ...], project_name: str) -> None:
    """Import articles from .txt, .html, .json and .jsonl files or folders of them."""
    files = list(expand_paths(paths))
    if not files:
        fail("no importable files found (.txt, .html, .json, .jsonl)")
    with session_scope() as session:
        try:
            project, _ = get_or_create_project(session, project_name)
        except ProjectError as error:
            fail(str(error))
        session.commit()
        bar = tqdm(
            files,
            unit="file",
            file=sys.stderr,
            leave=False,
            disable=len(files) < 2 or not sys.stderr.isatty(),
        )

        def report(path: Path, result: ArticleResult) -> None:
            if result.duplicate_of is not None:
                line = (
                    f"skipped {result.title!r}: already imported as article {result.duplicate_of}"
                )
            else:
                sources = ", ".join(result.sources) or "none"
                line = (
                    f"article {result.article_id}: {result.title!r}: {result.units} units, "
                    f"{result.sentences} sentences, sources: {sources}"
                )
            bar.write(line, file=sys.stdout)

        def report_failure(failure: FileFailure) -> None:
            bar.write(f"error: {failure.path}: {failure.message}", file=sys.stderr)

        results, failures = import_paths(
            session,
            project,
            bar,
            max_bytes=int(current_app.config["IMPORT_MAX_BYTES"]),
            on_result=report,
            on_failure=report_failure,
        )
        bar.close()
    stored = sum(1 for r in results if r.duplicate_of is None)
    skipped = len(results) - stored
    click.echo(
        f"{stored} imported, {skipped} skipped as duplicates, {len(failures)} failed "
        f"(project {project.name!r})",
        err=True,
    )
    if failures:
        sys.exit(1)


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "csv"]),
    default="json",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option(
    "--project",
    "project_names",
    multiple=True,
    help="Only this project (repeatable; default: all).",
)
@click.option(
    "--agreement",
    is_flag=True,
    help="Add each project's agreement summary and each sentence's agreement (JSON, JSONL).",
)
@click.option(
    "--gold-only",
    is_flag=True,
    help="The clean dataset: decided sentences with their gold answer only (JSON, JSONL).",
)
@click.option(
    "--history",
    is_flag=True,
    help="Add every annotation's history and every sentence's gold history (JSON, JSONL).",
)
@click.option("--schema", is_flag=True, help="Print the export's JSON Schema and exit.")
@with_appcontext
def export_command(
    fmt: str,
    output: Path | None,
    project_names: tuple[str, ...],
    agreement: bool,
    gold_only: bool,
    history: bool,
    schema: bool,
) -> None:
    """Export projects, articles, units, annotations and gold."""
    from functools import partial

    from annotator.exchange import export

    if schema:
        import orjson

        click.echo(orjson.dumps(export.schema(), option=orjson.OPT_INDENT_2).decode())
        return
    if fmt == "csv" and (agreement or gold_only or history):
        fail("--agreement, --gold-only and --history work with --format json or jsonl, not csv")
    options = {"agreement": agreement, "gold_only": gold_only, "history": history}
    writers = {
        "json": partial(export.export_json, **options),
        "jsonl": partial(export.export_jsonl, **options),
        "csv": export.export_csv,
    }
    with session_scope() as session:
        if project_names:
            from annotator.projects import get_project_by_name

            missing = [n for n in project_names if get_project_by_name(session, n) is None]
            if missing:
                fail(f"no such project: {', '.join(missing)}")
        target: IO[bytes]
        if output is None:
            target = sys.stdout.buffer
            writers[fmt](session, target, project_names=list(project_names) or None)
            target.flush()
            return
        # Write next to the target and rename, so a failed export never
        # leaves a truncated file where a good one was.
        partial = output.with_name(output.name + ".partial")
        try:
            with open(partial, "wb") as target:
                writers[fmt](session, target, project_names=list(project_names) or None)
            partial.replace(output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            fail(f"cannot write {output}: {error.strerror or error}")
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    click.echo(f"wrote {output}", err=True)


@click.command("import-annotations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--project",
    "project_name",
    default=None,
    help="Project of the articles (CSV only; default: the only project).",
)
@with_appcontext
def import_annotations_command(file: Path, project_name: str | None) -> None:
    """Import annotations from our JSON export or a CSV file."""
    from annotator.exchange import ImportProblems, import_csv, import_export

    with session_scope() as session:
        suffix = file.suffix.lower()
        try:
            if suffix == ".json":
                with open(file, "rb") as handle:
                    summary = import_export(session, handle)
            elif suffix == ".csv":
                with open(file, "rb") as handle:
                    summary = import_csv(session, handle, project_name=project_name)
            else:
                fail(f"{file}: unsupported file type {suffix or '(none)'}; use .json or .csv")
        except ImportProblems as problems:
            session.rollback()
            for problem in problems.problems:
                click.echo(f"error: {file}: {problem}", err=True)
            sys.exit(1)
        session.commit()
    click.echo(f"{file}: {summary}")
