"""Export and import of whole projects (JSON, JSONL, CSV) without Flask.

The names below are loaded on first use (PEP 562): the save path imports
``exchange.apply`` on every app start, and must not pull in the export's JSON
Schema validator and the agreement statistics (numpy) with it.
"""

from __future__ import annotations

import importlib
from typing import Any

# Cheap modules, imported now: ``import_csv`` is also a submodule's name, and the
# function must win over the module for ``from annotator.exchange import import_csv``.
from annotator.exchange.apply import VersionConflict, upsert_annotation
from annotator.exchange.gold import upsert_gold
from annotator.exchange.import_csv import import_csv
from annotator.exchange.summary import ImportProblems, ImportSummary

_HOMES = {
    "export_csv": "export",
    "export_json": "export",
    "export_jsonl": "export",
    "schema": "export",
    "import_export": "import_json",
}

__all__ = [
    "ImportProblems",
    "ImportSummary",
    "VersionConflict",
    "import_csv",
    "upsert_annotation",
    "upsert_gold",
    *sorted(_HOMES),
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
