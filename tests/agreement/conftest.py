"""Fixtures for the agreement tests: the published worked examples in ../shared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = (
    Path(__file__).resolve().parents[2] / "../shared/reference/agreement_examples.json"
).resolve()


@pytest.fixture(scope="session")
def examples() -> dict[str, Any]:
    """The published examples, or skip when ../shared is not there (a newcomer's clone)."""
    if not EXAMPLES.is_file():
        pytest.skip(f"reference examples not found at {EXAMPLES} (../shared is absent)")
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))
