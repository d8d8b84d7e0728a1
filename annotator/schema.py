"""Schema migrations (Alembic) and the state check every command runs first.

Alembic is imported only when a migration runs or the database is not current:
it costs a tenth of a second or more at every start of every command and
worker, and the common case (a current database) needs only the newest
revision id, which :func:`shipped_head` reads from the migration files.
"""

from __future__ import annotations

import functools
import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"""^(down_revision|revision)\s*=\s*["']?([\w]+)["']?""", re.MULTILINE)


class SchemaState(Enum):
    EMPTY = "empty"
    CURRENT = "current"
    OUTDATED = "outdated"
    UNKNOWN = "unknown"


class SchemaError(RuntimeError):
    """The database cannot be used as it is; the message says what to do."""


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version of annotator."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@functools.cache
def shipped_head() -> str | None:
    """The newest revision id, read from the migration files without Alembic.

    The revision no other file names as its ``down_revision``; None when the
    files do not form one line (Alembic then decides, in :func:`schema_state`).
    A test checks that this agrees with Alembic's own answer.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((key, value) for key, value in _REVISION.findall(path.read_text("utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            if found.get("down_revision", "None") != "None":
                parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def schema_state(engine: Engine) -> SchemaState:
    """Whether the database is empty, current, behind, or not ours."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        if not tables:
            return SchemaState.EMPTY
        if "alembic_version" not in tables:
            return SchemaState.UNKNOWN
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    current = versions[0][0] if len(versions) == 1 else None
    if current is not None and current == shipped_head():
        return SchemaState.CURRENT
    from alembic.script import ScriptDirectory

    if current == head_revision():
        return SchemaState.CURRENT
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState.OUTDATED if current in known or current is None else SchemaState.UNKNOWN


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_schema(engine: Engine) -> bool:
    """Create the schema on an empty database; refuse an outdated or foreign one.

    Returns True when the schema was created just now.
    """
    state = schema_state(engine)
    if state is SchemaState.CURRENT:
        return False
    if state is SchemaState.EMPTY:
        upgrade(engine)
        return True
    if state is SchemaState.OUTDATED:
        raise SchemaError(
            "the database needs a migration: run `annotator db upgrade` (back it up first)"
        )
    raise SchemaError(
        "the database has tables that annotator did not create, or a newer schema than this "
        "version knows; point ANNOTATOR_DATABASE_URL at an empty or annotator database"
    )
