"""Machine-readable figures from each benchmark, for bench/suite.py's table.

Every benchmark prints its own table for a person; with ``--report FILE`` it also
appends its headline figures as JSON lines so the suite can collect them without
parsing text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_report_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--report FILE`` to a benchmark's arguments."""
    parser.add_argument(
        "--report", type=Path, default=None, help="append headline figures as JSON lines"
    )


def write_report(path: Path, bench: str, rows: list[dict]) -> None:
    """Append ``rows`` ({name, value, unit, target[, higher_is_better]}) to ``path``."""
    with path.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"bench": bench, **row}) + "\n")
