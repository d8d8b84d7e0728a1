"""Curating a project's source registry: rename, kind, description, aliases, merge.

A name or alias identifies one source per project through its normalised key
(``annotator.names.normalise_name``), across names *and* aliases: the database
enforces uniqueness within each table, this module across both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import String, cast, delete, exists, insert, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from annotator.exchange.apply import append_event, load_current_annotations
from annotator.exchange.gold import record_gold_state
from annotator.models import (
    NAME_MAX,
    NOTE_MAX,
    SOURCE_KINDS,
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    GoldSource,
    Label,
    Mention,
    Source,
    SourceAlias,
    Unit,
    utcnow,
)
from annotator.names import clean_name, name_problem, normalise_name

MERGE_ACTION = "merge_sources"
DESCRIPTION_MAX = NOTE_MAX


class SourceEditError(ValueError):
    """An edit the registry refuses; ``code`` is machine-readable, the message is for people."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What a merge rewrote, for the confirmation message."""

    into_id: int
    annotations: int
    gold: int
    mentions: int
    suggestions: int
    aliases: int


def key_owner(session: Session, project_id: int, key: str) -> int | None:
    """The id of the project's source whose name or alias has normalised key ``key``."""
    by_name = session.scalar(
        select(Source.id).where(Source.project_id == project_id, Source.name_key == key)
    )
    if by_name is not None:
        return by_name
    return session.scalar(
        select(SourceAlias.source_id).where(
            SourceAlias.project_id == project_id, SourceAlias.alias_key == key
        )
    )


def _checked(value: str, what: str) -> tuple[str, str]:
    problem = name_problem(value, max_length=NAME_MAX)
    if problem:
        raise SourceEditError(f"the {what} {problem}")
    return clean_name(value), normalise_name(value)


def _taken(session: Session, source: Source, key: str, shown: str) -> None:
    owner = key_owner(session, source.project_id, key)
    if owner is not None and owner != source.id:
        other = session.scalar(select(Source.name).where(Source.id == owner))
        raise SourceEditError(f"“{shown}” already names another source: “{other}”", "name_taken")


def rename_source(session: Session, source: Source, new_name: str) -> None:
    """Give the source a new name; the old one becomes an alias."""
    name, key = _checked(new_name, "name")
    if key == source.name_key:
        source.name = name  # only the spelling changes (case, spaces)
        session.flush()
        return
    _taken(session, source, key, name)
    # The new name may be one of the source's aliases: it is the name now.
    session.execute(
        delete(SourceAlias).where(
            SourceAlias.project_id == source.project_id, SourceAlias.alias_key == key
        )
    )
    old_name, old_key = source.name, source.name_key
    source.name, source.name_key = name, key
    session.flush()
    _add_alias_row(session, source.project_id, source.id, old_name, old_key)
    session.expire(source, ["aliases"])


def update_source(
    session: Session,
    source: Source,
    *,
    name: str | None = None,
    kind: str | None = None,
    description: str | None = None,
) -> None:
    """Change any of name, kind and description (None leaves a field alone)."""
    if kind is not None and kind not in SOURCE_KINDS:
        raise SourceEditError(f"the kind must be one of {', '.join(SOURCE_KINDS)}")
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise SourceEditError(f"the description must be at most {DESCRIPTION_MAX} characters")
    if name is not None:
        rename_source(session, source, name)
    if kind is not None:
        source.kind = kind
    if description is not None:
        source.description = description.strip() or None
    session.flush()


def add_alias(session: Session, source: Source, alias: str) -> SourceAlias:
    """Record another name the source is known by."""
    shown, key = _checked(alias, "alias")
    if key == source.name_key:
        raise SourceEditError(f"“{shown}” is already this source's name", "name_taken")
    _taken(session, source, key, shown)
    if key_owner(session, source.project_id, key) == source.id:
        raise SourceEditError(f"“{shown}” is already an alias of this source", "name_taken")
    row = SourceAlias(project_id=source.project_id, source_id=source.id, alias=shown, alias_key=key)
    session.add(row)
    session.flush()
    session.expire(source, ["aliases"])
    return row


def remove_alias(session: Session, source: Source, alias_id: int) -> None:
    """Forget one alias of the source; LookupError when it is not one of its aliases."""
    row = session.get(SourceAlias, alias_id)
    if row is None or row.source_id != source.id:
        raise LookupError(f"no alias {alias_id} on this source")
    session.delete(row)
    session.flush()
    session.expire(source, ["aliases"])


def _add_alias_row(session: Session, project_id: int, source_id: int, alias: str, key: str) -> int:
    if key_owner(session, project_id, key) is not None:
        return 0
    session.execute(
        insert(SourceAlias).values(
            project_id=project_id, source_id=source_id, alias=alias, alias_key=key
        )
    )
    return 1


def _replace(ids: Sequence[int], old: int, new: int) -> list[int]:
    """``ids`` with ``old`` replaced by ``new``, keeping each id's first position."""
    result: list[int] = []
    for value in ids:
        value = new if value == old else value
        if value not in result:
            result.append(value)
    return result


def merge_sources(
    session: Session, source: Source, into: Source, actor_id: int | None
) -> MergeResult:
    """Merge ``source`` into ``into``: everything citing it follows, then it is deleted."""
    if source.project_id != into.project_id:
        raise SourceEditError("both sources must belong to the same project", "unknown_source")
    if source.id == into.id:
        raise SourceEditError("a source cannot be merged into itself")
    old, new = source.id, into.id
    annotations = _merge_annotations(session, source.project_id, old, new, actor_id)
    gold = _merge_gold(session, old, new, actor_id)
    mentions = _merge_mentions(session, old, new)
    suggestions = _merge_suggestions(session, source.project_id, old, new)
    moved = session.execute(
        update(SourceAlias).where(SourceAlias.source_id == old).values(source_id=new),
        execution_options={"synchronize_session": False},
    )
    aliases = int(getattr(moved, "rowcount", 0) or 0)
    name, name_key, description = source.name, source.name_key, source.description
    session.expunge(source)
    session.execute(delete(Source).where(Source.id == old))
    # Only now is the merged name free to become an alias of the target.
    aliases += _add_alias_row(session, into.project_id, new, name, name_key)
    if not into.description and description:
        into.description = description
    session.flush()
    session.expire(into, ["aliases"])
    return MergeResult(new, annotations, gold, mentions, suggestions, aliases)


def _merge_annotations(
    session: Session, project_id: int, old: int, new: int, actor_id: int | None
) -> int:
    citing = select(AnnotationSource.annotation_id).where(AnnotationSource.source_id == old)
    unit_ids = session.scalars(select(Annotation.unit_id).where(Annotation.id.in_(citing))).all()
    current = load_current_annotations(session, unit_ids)
    labels = dict(
        session.execute(select(Label.id, Label.name).where(Label.project_id == project_id)).all()
    )
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.project_id == project_id)).all()
    )
    now = utcnow()
    changed = 0
    for (unit_id, annotator_id), ann in current.items():
        if old not in ann.source_ids:
            continue
        ids = _replace(ann.source_ids, old, new)
        # Not upsert_annotation: that one records the annotator answering again
        # (it clears a segmentation flag); here only the registry changed. The
        # version still moves on, so an editor holding the old list gets a conflict.
        bumped = session.execute(
            update(Annotation)
            .where(Annotation.id == ann.id, Annotation.version == ann.version)
            .values(version=ann.version + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(bumped, "rowcount", 1) != 1:
            raise SourceEditError("an annotation changed during the merge; try again", "conflict")
        session.execute(delete(AnnotationSource).where(AnnotationSource.annotation_id == ann.id))
        session.execute(
            insert(AnnotationSource),
            [{"annotation_id": ann.id, "position": i, "source_id": s} for i, s in enumerate(ids)],
        )
        append_event(
            session,
            annotation_id=ann.id,
            unit_id=unit_id,
            annotator_id=annotator_id,
            actor_id=actor_id,
            action=MERGE_ACTION,
            version=ann.version + 1,
            label=labels.get(ann.label_id),
            sources=[names[s] for s in ids],
            note=ann.note,
            at=now,
        )
        changed += 1
    return changed


def _merge_gold(session: Session, old: int, new: int, actor_id: int | None) -> int:
    gold_ids = session.scalars(
        select(GoldSource.gold_id).where(GoldSource.source_id == old).distinct()
    ).all()
    for gold_id in gold_ids:
        ids = session.scalars(
            select(GoldSource.source_id)
            .where(GoldSource.gold_id == gold_id)
            .order_by(GoldSource.position)
        ).all()
        session.execute(delete(GoldSource).where(GoldSource.gold_id == gold_id))
        session.execute(
            insert(GoldSource),
            [
                {"gold_id": gold_id, "position": i, "source_id": s}
                for i, s in enumerate(_replace(ids, old, new))
            ],
        )
    if gold_ids:
        units = session.scalars(select(Gold.unit_id).where(Gold.id.in_(gold_ids))).all()
        record_gold_state(session, units, actor_id=actor_id, action=MERGE_ACTION)
    return len(gold_ids)


def _merge_mentions(session: Session, old: int, new: int) -> int:
    other = aliased(Mention)
    # A span already highlighted for the target would otherwise show twice.
    session.execute(
        delete(Mention).where(
            Mention.source_id == old,
            exists().where(
                other.source_id == new,
                other.article_id == Mention.article_id,
                other.start == Mention.start,
                other.end == Mention.end,
            ),
        ),
        execution_options={"synchronize_session": False},
    )
    moved = session.execute(
        update(Mention).where(Mention.source_id == old).values(source_id=new),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(moved, "rowcount", 0) or 0)


def suggestion_candidates(project_id: int, source_id: int) -> Select[tuple[int, int, list[int]]]:
    """Units of the project whose suggestion JSON may cite ``source_id`` (check each in Python).

    JSON containment is spelled differently by each engine; the id's digits
    always appear in the serialised list, so a LIKE narrows the rows portably.
    """
    return (
        select(Unit.id, Unit.article_id, Unit.suggested_sources)
        .join(Article, Article.id == Unit.article_id)
        .where(
            Article.project_id == project_id,
            cast(Unit.suggested_sources, String).like(f"%{int(source_id)}%"),
        )
    )


def _merge_suggestions(session: Session, project_id: int, old: int, new: int) -> int:
    changed = 0
    for unit_id, _, ids in session.execute(suggestion_candidates(project_id, old)).all():
        if not isinstance(ids, list) or old not in ids:
            continue
        session.execute(
            update(Unit).where(Unit.id == unit_id).values(suggested_sources=_replace(ids, old, new))
        )
        changed += 1
    return changed
