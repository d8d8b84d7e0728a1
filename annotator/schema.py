"""Schema migrations (Alembic) and the state check every command runs first."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaState(Enum):
    EMPTY = "empty"
    CURRENT = "current"
    OUTDATED = "outdated"
    UNKNOWN = "unknown"


class SchemaError(RuntimeError):
    """The database cannot be used as it is; the message says what to do."""


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this version of annotator."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_state(engine: Engine) -> SchemaState:
    """Whether the database is empty, current, behind, or not ours."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        if not tables:
            return SchemaState.EMPTY
        if "alembic_version" not in tables:
            return SchemaState.UNKNOWN
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head_revision():
        return SchemaState.CURRENT
    script = ScriptDirectory.from_config(alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState.OUTDATED if current in known or current is None else SchemaState.UNKNOWN


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction."""
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
