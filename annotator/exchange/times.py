"""Timestamps in exports: ISO 8601, UTC, always with microseconds and a ``Z``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, func, literal, type_coerce
from sqlalchemy.sql.elements import ColumnElement

_PG_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def iso_utc(value: datetime) -> str:
    """``value`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; a naive value is taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive input is taken as UTC)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _sqlite_iso(column: Any) -> ColumnElement[Any]:
    # SQLAlchemy writes SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' in
    # UTC wall time (no offset), so swapping the space for 'T' and appending
    # 'Z' in SQL is exact and nearly free; a datetime per row in Python cost
    # seconds at a million rows.
    return func.replace(type_coerce(column, String), " ", "T") + literal("Z")


def _postgresql_iso(column: Any) -> ColumnElement[Any]:
    return func.to_char(func.timezone("UTC", column), _PG_FORMAT)


def timestamp_reader(dialect_name: str) -> tuple[Callable[[Any], Any], Callable[[Any], str] | None]:
    """(column wrapper, Python formatter or None when the SQL already yields ISO text)."""
    if dialect_name == "sqlite":
        return _sqlite_iso, None
    if dialect_name == "postgresql":
        return _postgresql_iso, None
    return (lambda column: column), _format_value


def _format_value(value: Any) -> str:
    if isinstance(value, str):
        return iso_utc(datetime.fromisoformat(value))
    return iso_utc(value)
