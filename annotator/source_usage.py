"""Read-only views of the source registry: the paginated listing, usage counts, citations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Gold,
    GoldSource,
    Mention,
    Source,
    SourceAlias,
    Unit,
)
from annotator.names import normalise_name
from annotator.source_edits import suggestion_candidates


@dataclass(frozen=True, slots=True)
class RegistryRow:
    """One line of the registry listing."""

    id: int
    name: str
    kind: str
    description: str | None
    aliases: list[tuple[int, str]]
    mentions: int
    annotations: int
    gold: int


SORTS = ("name", "kind", "mentions", "annotations", "gold")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards escaped (escape char ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def registry_page(
    session: Session,
    project_id: int,
    *,
    query: str = "",
    sort: str = "name",
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[RegistryRow], int]:
    """One page of the project's sources (matching ``query`` in a name or alias) and the total."""
    mentions = select(func.count()).where(Mention.source_id == Source.id).scalar_subquery()
    annotations = (
        select(func.count()).where(AnnotationSource.source_id == Source.id).scalar_subquery()
    )
    gold = select(func.count()).where(GoldSource.source_id == Source.id).scalar_subquery()
    where = [Source.project_id == project_id]
    key = normalise_name(query) if query else ""
    if key:
        pattern = like_pattern(key)
        where.append(
            Source.name_key.like(pattern, escape="\\")
            | exists().where(
                SourceAlias.source_id == Source.id,
                SourceAlias.alias_key.like(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(Source).where(*where)) or 0
    order = {
        "name": [Source.name_key],
        "kind": [Source.kind, Source.name_key],
        "mentions": [mentions.desc(), Source.name_key],
        "annotations": [annotations.desc(), Source.name_key],
        "gold": [gold.desc(), Source.name_key],
    }[sort if sort in SORTS else "name"]
    rows = session.execute(
        select(Source.id, Source.name, Source.kind, Source.description, mentions, annotations, gold)
        .where(*where)
        .order_by(*order, Source.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    aliases: dict[int, list[tuple[int, str]]] = {}
    if rows:
        for alias_id, source_id, alias in session.execute(
            select(SourceAlias.id, SourceAlias.source_id, SourceAlias.alias)
            .where(SourceAlias.source_id.in_([r.id for r in rows]))
            .order_by(SourceAlias.alias)
        ):
            aliases.setdefault(source_id, []).append((alias_id, alias))
    return [
        RegistryRow(r[0], r[1], r[2], r[3], aliases.get(r[0], []), r[4], r[5], r[6]) for r in rows
    ], total


def usage_counts(session: Session, source_id: int) -> tuple[int, int, int]:
    """How many mentions, annotations and gold decisions cite the source."""
    return (
        session.scalar(select(func.count()).where(Mention.source_id == source_id)) or 0,
        session.scalar(select(func.count()).where(AnnotationSource.source_id == source_id)) or 0,
        session.scalar(select(func.count()).where(GoldSource.source_id == source_id)) or 0,
    )


@dataclass(slots=True)
class CitedUnit:
    """A unit that mentions the source or whose annotations, gold or suggestion use it."""

    id: int
    index: int | None
    kind: str
    text: str
    mentions: int = 0
    annotations: int = 0
    gold: bool = False
    suggested: bool = False


@dataclass(slots=True)
class CitingArticle:
    """An article citing the source, with the units that do."""

    id: int
    title: str
    units: list[CitedUnit]


def source_citations(
    session: Session, source: Source, *, limit: int = 200
) -> tuple[list[CitingArticle], int]:
    """Where the source is cited (at most ``limit`` units, in article and text order) and
    how many units cite it in all."""
    sid = source.id
    mentioned = (
        select(Unit.id, func.count().label("n"))
        .join(
            Mention,
            (Mention.article_id == Unit.article_id)
            & (Mention.start >= Unit.start)
            & (Mention.start < Unit.end),
        )
        .where(Mention.source_id == sid)
        .group_by(Unit.id)
    )
    annotated = (
        select(Annotation.unit_id, func.count().label("n"))
        .join(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
        .where(AnnotationSource.source_id == sid)
        .group_by(Annotation.unit_id)
    )
    decided = select(Gold.unit_id).join(GoldSource, GoldSource.gold_id == Gold.id)
    decided = decided.where(GoldSource.source_id == sid)
    mentions: dict[int, int] = dict(session.execute(mentioned).all())
    annotations: dict[int, int] = dict(session.execute(annotated).all())
    gold = set(session.scalars(decided).all())
    suggested = {
        unit_id
        for unit_id, _, ids in session.execute(suggestion_candidates(source.project_id, sid))
        if isinstance(ids, list) and sid in ids
    }
    total = len(set(mentions) | set(annotations) | gold | suggested)
    if not total:
        return [], 0
    # The candidate sets are re-expressed as subqueries: a project-wide source can be
    # cited by more units than an engine accepts as bound parameters.
    citing = (
        Unit.id.in_(mentioned.with_only_columns(Unit.id))
        | Unit.id.in_(annotated.with_only_columns(Annotation.unit_id))
        | Unit.id.in_(decided)
        | Unit.id.in_(sorted(suggested)[:limit])
    )
    rows = session.execute(
        select(
            Unit.id,
            Unit.index,
            Unit.kind,
            Article.id,
            Article.title,
            # Only the unit's text, not whole articles (SQL substr is 1-based on both engines).
            func.substr(Article.text, Unit.start + 1, Unit.end - Unit.start),
        )
        .join(Article, Article.id == Unit.article_id)
        .where(citing)
        .order_by(Article.id, Unit.position)
        .limit(limit)
    ).all()
    articles: dict[int, CitingArticle] = {}
    for unit_id, index, kind, article_id, title, text in rows:
        article = articles.setdefault(article_id, CitingArticle(article_id, title, []))
        article.units.append(
            CitedUnit(
                unit_id,
                index,
                kind,
                text,
                mentions.get(unit_id, 0),
                annotations.get(unit_id, 0),
                unit_id in gold,
                unit_id in suggested,
            )
        )
    return list(articles.values()), total
