"""Build the wheel and check it carries everything the app needs outside Python code."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REQUIRED = (
    "annotator/static/app.css",
    "annotator/templates/base.html",
    "annotator/templates/index.html",
    "annotator/exchange/export_schema.json",
    "annotator/migrations/env.py",
    "annotator/migrations/script.py.mako",
    "annotator/migrations/versions/0001_initial_schema.py",
    "annotator/demo_data/harbour-bridge-closure.txt",
)


def main() -> int:
    """Build into a temporary folder and report missing files; non-zero if any."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, str(root)],
            check=True,
        )
        wheel = next(Path(out).glob("annotator-*.whl"))
        names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in REQUIRED if name not in names]
    for name in missing:
        print(f"wheel is missing {name}", file=sys.stderr)
    if not missing:
        print(f"wheel {wheel.name}: {len(names)} files, all required assets present")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
