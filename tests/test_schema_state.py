"""The schema check: the fast path agrees with Alembic and does not import it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from annotator.schema import SchemaState, head_revision, schema_state, shipped_head


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert shipped_head() is not None
    assert shipped_head() == head_revision()


def test_a_current_database_is_checked_without_importing_alembic(
    engine: Engine, tmp_path: Path
) -> None:
    assert schema_state(engine) is SchemaState.CURRENT
    url = engine.url.render_as_string(hide_password=False)
    script = (
        "import sys\n"
        "from sqlalchemy import create_engine\n"
        "from annotator.schema import schema_state\n"
        f"print(schema_state(create_engine({url!r})).value, 'alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.split() == ["current", "False"]
