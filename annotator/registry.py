"""The project-wide source registry: canonical names, kinds and aliases."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
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
            source = Source(
                project_id=self.project_id,
                name=clean_name(name),
                name_key=normalise_name(name),
                kind=kind,
                description=description,
            )
            self.session.add(source)
            self.session.flush()
            source_id = source.id
            self.by_key[source.name_key] = source_id
            self.names[source_id] = source.name
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
        self.session.add(
            SourceAlias(
                project_id=self.project_id,
                source_id=source_id,
                alias=clean_name(alias),
                alias_key=key,
            )
        )
        self.by_key[key] = source_id
        return True


def _check(name: str, kind: str) -> None:
    problem = name_problem(name, max_length=NAME_MAX)
    if problem:
        raise RegistryError(f"source name {problem}")
    if kind not in SOURCE_KINDS:
        raise RegistryError(f"source kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
