"""Export and import of whole projects (JSON, JSONL, CSV) without Flask."""

from annotator.exchange.apply import VersionConflict, upsert_annotation
from annotator.exchange.export import export_csv, export_json, export_jsonl, schema
from annotator.exchange.gold import upsert_gold
from annotator.exchange.import_csv import import_csv
from annotator.exchange.import_json import import_export
from annotator.exchange.summary import ImportProblems, ImportSummary

__all__ = [
    "ImportProblems",
    "ImportSummary",
    "VersionConflict",
    "export_csv",
    "export_json",
    "export_jsonl",
    "import_csv",
    "import_export",
    "schema",
    "upsert_annotation",
    "upsert_gold",
]
