"""The project-wide source registry: canonical names, kinds and aliases."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from annotator.models import NAME_MAX, SOURCE_KINDS, Source, SourceAlias
from annotator.names import clean_name, name_problem, normalise_name


class RegistryError(ValueError):
    """A source name, alias or kind that cannot be registered."""


class SourceIndex:
    """An in-memory view of one project's registry: key (name or alias) -> source id.

    Bulk operations (import of many articles, CSV annotations) resolve
    thousands of names; one query up front beats one per name.
    """

    def __init__(self, session: Session, project_id: int) -> None:
        self.session = session
        self.project_id = project_id
        self.by_key: dict[str, int] = {}
        self.names: dict[int, str] = {}
        for source_id, name, key in session.execute(
            select(Source.id, Source.name, Source.name_key).where(Source.project_id == project_id)
        ):
            self.by_key[key] = source_id
            self.names[source_id] = name
        for source_id, key in session.execute(
            select(SourceAlias.source_id, SourceAlias.alias_key).where(
                SourceAlias.project_id == project_id
            )
        ):
            self.by_key.setdefault(key, source_id)

    def resolve(self, name: str) -> int | None:
        """The id of the source called ``name`` or known by it as an alias."""
        return self.by_key.get(normalise_name(name))

    def ensure(
        self,
        name: str,
        kind: str,
        aliases: Iterable[str] = (),
        description: str | None = None,
    ) -> int:
        """The id of ``name`` (or of a source one of ``aliases`` names), creating or
        extending the entry: new aliases are added, nothing is renamed."""
        _check(name, kind)
        candidates = [name, *aliases]
        source_id = next((sid for sid in map(self.resolve, candidates) if sid is not None), None)
        if source_id is None:
            key = normalise_name(name)
            values = {
                "project_id": self.project_id,
                "name": clean_name(name),
                "name_key": key,
                "kind": kind,
                "description": description,
            }
            source_id = self._insert_or_existing(Source, values, "name_key", Source.id)
            self.by_key[key] = source_id
            self.names[source_id] = self.session.scalar(
                select(Source.name).where(Source.id == source_id)
            )
        for alias in candidates:
            self.add_alias(source_id, alias)
        return source_id

    def add_alias(self, source_id: int, alias: str) -> bool:
        """Record ``alias`` for the source unless some source already owns the key."""
        if name_problem(alias, max_length=NAME_MAX):
            return False
        key = normalise_name(alias)
        if key in self.by_key:
            return False
        values = {
            "project_id": self.project_id,
            "source_id": source_id,
            "alias": clean_name(alias),
            "alias_key": key,
        }
        owner = self._insert_or_existing(SourceAlias, values, "alias_key", SourceAlias.source_id)
        self.by_key[key] = owner
        return owner == source_id

    def _insert_or_existing(self, model: Any, values: dict[str, Any], key: str, column: Any) -> int:
        """Insert a registry row unless one with the same key exists; ``column`` of the row.

        This index was read when the import began; on PostgreSQL another import
        may have registered the same name since. ``ON CONFLICT DO NOTHING`` waits
        for that transaction and skips the row instead of failing the import.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["project_id", key])
            .returning(column)
        )
        found = self.session.scalar(statement)
        if found is None:
            found = self.session.scalar(
                select(column).where(
                    model.project_id == self.project_id, getattr(model, key) == values[key]
                )
            )
        return int(found)


def _check(name: str, kind: str) -> None:
    problem = name_problem(name, max_length=NAME_MAX)
    if problem:
        raise RegistryError(f"source name {problem}")
    if kind not in SOURCE_KINDS:
        raise RegistryError(f"source kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
