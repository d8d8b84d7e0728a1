"""Backups of a SQLite database and their restoration (no Flask).

A backup is taken with SQLite's online backup API from the live database: in
WAL mode it copies one consistent snapshot while the app keeps writing. Both a
backup and a restore write a temporary file next to their target and move it
into place with one rename, so the target path always names a complete
database (the old one or the new one), never a half-written file.

PostgreSQL has its own tools (``pg_dump``/``pg_restore``, see docs/backups.md).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

from annotator.schema import alembic_config, head_revision

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables whose row counts a backup and a restore report, in this order.
COUNTED_TABLES = ("projects", "users", "articles", "units", "annotations", "gold")
# How long a restore waits for another process to let go of the database.
IN_USE_TIMEOUT_S = 0.5
POSTGRES_HINT = (
    "{command} works on SQLite databases only; for PostgreSQL use {tool} "
    "(exact commands in docs/backups.md)"
)


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message is one line for the user."""


@dataclass(slots=True)
class DatabaseSummary:
    """What a database file holds: size, migration revision, row counts, a digest."""

    path: Path
    size: int
    revision: str
    counts: dict[str, int] = field(default_factory=dict)
    annotations_digest: str = ""

    def describe(self) -> str:
        """One line: size, revision and counts."""
        counts = ", ".join(f"{table} {n:,}" for table, n in self.counts.items())
        return (
            f"{self.size:,} bytes, schema revision {self.revision}, {counts}; "
            f"annotations digest {self.annotations_digest[:16]}"
        )


@dataclass(slots=True)
class RestoreResult:
    """A finished restore: what is live now, and where the previous database was kept."""

    restored: DatabaseSummary
    previous: Path | None
    needs_upgrade: bool


def sqlite_file(url: URL, command: str, tool: str) -> Path:
    """The file of a SQLite URL; BackupError for other engines and in-memory databases."""
    if url.get_backend_name() != "sqlite":
        raise BackupError(POSTGRES_HINT.format(command=command, tool=tool))
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{command} needs a SQLite database file, not {database or 'memory'!r}")
    return Path(database).resolve()


def known_revisions() -> set[str]:
    """Every migration revision shipped with this version of annotator."""
    from alembic.script import ScriptDirectory  # only when restoring (start-up cost)

    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def _connect(path: Path, *, timeout: float = 5.0) -> sqlite3.Connection:
    # Autocommit: transactions are begun explicitly where one is needed.
    return sqlite3.connect(path, timeout=timeout, isolation_level=None)


def _read_only(path: Path) -> sqlite3.Connection:
    # A restore never changes the file it restores from.
    uri = path.absolute().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def annotations_digest(connection: sqlite3.Connection) -> str:
    """SHA-256 of every annotation (with its ordered sources), to compare two databases."""
    digest = hashlib.sha256()
    rows = connection.execute(
        "SELECT a.unit_id, a.annotator_id, a.label_id, a.note, a.version, "
        "(SELECT group_concat(source_id, ',') FROM "
        " (SELECT source_id FROM annotation_sources s WHERE s.annotation_id = a.id "
        "  ORDER BY position)) "
        "FROM annotations a ORDER BY a.unit_id, a.annotator_id"
    )
    for row in rows:
        digest.update(repr(row).encode("utf-8"))
    return digest.hexdigest()


def summarise(connection: sqlite3.Connection, path: Path) -> DatabaseSummary:
    """Check a database (integrity, foreign keys, revision) and describe it."""
    try:
        [(verdict,), *rest] = connection.execute("PRAGMA integrity_check").fetchall()
        if verdict != "ok" or rest:
            raise BackupError(f"{path} is damaged: integrity_check says {verdict!r}")
        if connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise BackupError(f"{path} has rows whose foreign keys point nowhere")
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            raise BackupError(f"{path} is a SQLite database but not an annotator database")
        versions = [v for (v,) in connection.execute("SELECT version_num FROM alembic_version")]
        if len(versions) != 1:
            raise BackupError(f"{path} has no single schema revision (found {versions})")
        counts = {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in COUNTED_TABLES
            if table in tables
        }
        digest = annotations_digest(connection)
    except sqlite3.DatabaseError as error:
        # "file is not a database", "database disk image is malformed", …
        raise BackupError(f"{path} cannot be read as a database: {error}") from None
    return DatabaseSummary(path, path.stat().st_size, versions[0], counts, digest)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_next_to(target: Path) -> Path:
    # Same directory as the target: the final rename must not cross file systems.
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


@contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for suffix in ("", "-journal", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                os.unlink(f"{path}{suffix}")
        raise


def _copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Copy ``source`` into the new file ``target`` as one self-contained file."""
    with closing(_connect(target)) as copy:
        # One step (pages=-1) reads one snapshot; in WAL mode writers go on meanwhile.
        source.backup(copy, pages=-1)
        # A rollback-journal file needs no -wal/-shm beside it, so the copy is
        # one file that can be moved, mailed or read from read-only media; the
        # app turns WAL back on when it opens the database.
        copy.execute("PRAGMA journal_mode=DELETE")
    _fsync(target)


def backup_database(live: Path, destination: Path, *, force: bool = False) -> DatabaseSummary:
    """Copy the live database at ``live`` to ``destination`` (checked, renamed into place)."""
    destination = destination.absolute()
    if not live.is_file():
        raise BackupError(f"there is no database at {live} to back up")
    if destination.is_dir():
        raise BackupError(f"{destination} is a directory; name the backup file to write")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist")
    if destination.resolve() == live.resolve():
        raise BackupError("the backup must not overwrite the live database itself")
    if destination.exists() and not force:
        raise BackupError(f"{destination} exists; pass --force to overwrite it")
    temporary = _temporary_next_to(destination)
    with _removed_on_failure(temporary):
        try:
            with closing(_connect(live)) as source:
                _copy_database(source, temporary)
            with closing(_connect(temporary)) as copy:
                summary = summarise(copy, temporary)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"cannot back up {live}: {error}") from None
        except OSError as error:
            raise BackupError(f"cannot write {destination}: {error.strerror or error}") from None
        _place(temporary, destination, force=force)
    summary.path = destination
    return summary


def _place(temporary: Path, destination: Path, *, force: bool) -> None:
    """Move ``temporary`` to ``destination`` in one step; without force, never replace."""
    try:
        if force:
            os.replace(temporary, destination)
        else:
            # link() fails if the name exists, unlike rename(): a file created
            # since the check above is not overwritten.
            os.link(temporary, destination)
            os.unlink(temporary)
    except FileExistsError:
        raise BackupError(f"{destination} exists; pass --force to overwrite it") from None
    except OSError as error:
        raise BackupError(f"cannot write {destination}: {error.strerror or error}") from None
    _fsync(destination.parent)


def check_backup(path: Path) -> DatabaseSummary:
    """Check that ``path`` is a sound annotator database this version can use."""
    if not path.exists():
        raise BackupError(f"{path}: no such file")
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror or error}") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not a SQLite database")
    try:
        with closing(_read_only(path)) as connection:
            summary = summarise(connection, path)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read as a database: {error}") from None
    if summary.revision not in known_revisions():
        raise BackupError(
            f"{path} has schema revision {summary.revision}, which this version of "
            f"annotator does not know (newest: {head_revision()}); upgrade annotator first"
        )
    return summary


def _timestamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


@contextmanager
def _exclusive(live: Path) -> Iterator[sqlite3.Connection | None]:
    """Hold the live database still for a restore; BackupError while others use it.

    Leaving WAL mode needs the only connection to the database (every other one
    holds a lock on the -shm file while open), so this doubles as the check that
    no server or command has it open. It also folds the WAL into the main file,
    so the database kept aside afterwards is complete on its own.
    """
    if not live.exists():
        yield None
        return
    connection = _connect(live, timeout=IN_USE_TIMEOUT_S)
    try:
        try:
            [(mode,)] = connection.execute("PRAGMA journal_mode=DELETE").fetchall()
            if mode != "delete":
                raise sqlite3.OperationalError("database is locked")
            # Rollback-journal mode: an exclusive lock keeps every reader and
            # writer out until the new file is in place.
            connection.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise BackupError(
                    f"the database {live} is in use (is `annotator serve` running?); "
                    "stop the server, then restore"
                ) from None
            raise BackupError(f"cannot open the database {live}: {error}") from None
        except sqlite3.DatabaseError as error:
            # Its locks cannot be trusted either; the person at the keyboard decides.
            raise BackupError(
                f"the current database {live} cannot be read ({error}); stop the server, "
                "move the file aside, then restore"
            ) from None
        yield connection
    finally:
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        connection.close()


def _keep_previous(live: Path, connection: sqlite3.Connection, now: datetime | None) -> Path:
    """A second name for the live database: ``PATH.before-restore-<timestamp>``."""
    stamp = _timestamp(now)
    for attempt in range(100):
        suffix = f".before-restore-{stamp}" + (f"-{attempt}" if attempt else "")
        kept = live.with_name(live.name + suffix)
        try:
            os.link(live, kept)
        except FileExistsError:
            continue
        except OSError:
            # No hard links here (some network file systems): copy instead,
            # still under the exclusive lock, so the copy is complete.
            if kept.exists():
                continue
            with _removed_on_failure(kept):
                _copy_database(connection, kept)
        return kept
    raise BackupError(f"cannot find a free name to keep {live} under")


def restore_database(live: Path, source: Path, *, now: datetime | None = None) -> RestoreResult:
    """Make the backup ``source`` the live database at ``live``, keeping the old one aside."""
    checked = check_backup(source)
    if source.resolve() == live.resolve():
        raise BackupError(f"{source} is the live database itself")
    if not live.parent.is_dir():
        raise BackupError(f"the folder {live.parent} does not exist")
    temporary = _temporary_next_to(live)
    with _removed_on_failure(temporary):
        try:
            with closing(_read_only(source)) as reader:
                _copy_database(reader, temporary)
            with closing(_connect(temporary)) as copy:
                restored = summarise(copy, temporary)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"cannot copy {source}: {error}") from None
        except OSError as error:
            raise BackupError(f"cannot write next to {live}: {error.strerror or error}") from None
        if restored.annotations_digest != checked.annotations_digest:
            raise BackupError(f"the copy of {source} differs from it; nothing was changed")
        with _exclusive(live) as connection:
            for leftover in (f"{live}-journal", f"{live}-wal"):
                # Left by a process that crashed outside our lock: SQLite would
                # replay it into the new file. Let the app open the old database
                # once (it recovers), then restore.
                if os.path.exists(leftover):
                    raise BackupError(f"{leftover} exists; open the database once, then restore")
            previous = _keep_previous(live, connection, now) if connection else None
            try:
                os.replace(temporary, live)
            except OSError as error:
                # The live database is untouched; its second name is not needed.
                if previous is not None:
                    os.unlink(previous)
                raise BackupError(f"cannot replace {live}: {error.strerror or error}") from None
            # A -shm left by the old database must not be paired with the new one.
            with suppress(FileNotFoundError):
                os.unlink(f"{live}-shm")
            _fsync(live.parent)
    restored.path = live
    return RestoreResult(restored, previous, restored.revision != head_revision())
