"""Turn uploaded files and pasted text into articles with sentence units (no Flask, no DB)."""

from .parsed import IngestError, ParsedArticle, ParsedUnit
from .pipeline import parse_document, parse_text

__all__ = ["IngestError", "ParsedArticle", "ParsedUnit", "parse_document", "parse_text"]
