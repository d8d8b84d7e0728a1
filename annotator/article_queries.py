"""The statements behind ``article_view``: built once per dialect and kind of user.

Bound parameters throughout: building a select of this size costs SQLAlchemy
more than the database needs to run it, and the page runs them on every load.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from annotator.access import visible_article_clause
from annotator.annotating import ANSWER_COLUMNS
from annotator.models import (
    Annotation,
    AnnotationSource,
    Article,
    Label,
    Mention,
    Project,
    Source,
    SourceAlias,
    Unit,
)
from annotator.progress import next_article_subquery


@functools.cache
def head_query(
    dialect: str, viewer_role: str, annotator_is_reviewer: bool, with_times: bool = True
) -> Select[Any]:
    """The article, the viewer's right to open it, its project, labels and next article.

    Built once per dialect and kind of user: it runs on every page load.
    """
    columns = (Label.position, Label.id, Label.name, Label.key, Label.description)
    if dialect == "postgresql":
        label_rows = func.json_agg(func.json_build_array(*columns))
    else:
        label_rows = func.json_group_array(func.json_array(*columns))
    labels = select(label_rows).where(Label.project_id == Article.project_id).scalar_subquery()
    annotator_id = bindparam("annotator_id", type_=Integer)
    following = next_article_subquery(
        annotator_is_reviewer, annotator_id, Article.project_id, Article.id
    )
    first = next_article_subquery(annotator_is_reviewer, annotator_id, Article.project_id, 0)
    # Wrapping around: the first unfinished article when none follows this one
    # (COALESCE runs the second look-up only then).
    next_id = func.coalesce(following, first)
    # PostgreSQL sends the units, mentions and suggested sources along as JSON
    # aggregates: one round trip instead of three (see the module docstring).
    aggregates = postgres_aggregates(with_times) if dialect == "postgresql" else ()
    return (
        select(
            Article.id,
            Article.project_id,
            Article.title,
            Article.byline,
            Article.dateline,
            Article.published,
            Article.url,
            Article.credits,
            Article.text,
            Project.name,
            Project.suggestion_mode,
            labels,
            next_id,
            *aggregates,
        )
        .join(Project, Project.id == Article.project_id)
        .where(
            Article.id == bindparam("article_id", type_=Integer),
            visible_article_clause(bindparam("viewer_id", type_=Integer), viewer_role),
        )
    )


UNIT_COLUMNS = (
    Unit.id,
    Unit.index,
    Unit.kind,
    Unit.start,
    Unit.end,
    Unit.suggested_label,
    Unit.suggested_sources,
    Unit.suggestion_cues,
    *ANSWER_COLUMNS,
)
UNITS = (
    select(*UNIT_COLUMNS)
    .outerjoin(
        Annotation,
        (Annotation.unit_id == Unit.id)
        & (Annotation.annotator_id == bindparam("annotator_id", type_=Integer)),
    )
    .outerjoin(Label, Label.id == Annotation.label_id)
    .outerjoin(AnnotationSource, AnnotationSource.annotation_id == Annotation.id)
    .outerjoin(Source, Source.id == AnnotationSource.source_id)
    .where(Unit.article_id == bindparam("article_id", type_=Integer))
    .order_by(Unit.position, AnnotationSource.position)
)


def postgres_aggregates(with_times: bool) -> tuple[Any, ...]:
    """The units (with the annotator's answers), the mentions and the suggested
    sources of the article as three JSON arrays of rows (PostgreSQL)."""
    # Without times (the page shows none) the server need not format them as JSON text.
    columns = [
        null() if column is Annotation.updated_at and not with_times else column
        for column in UNIT_COLUMNS
    ]
    units = (
        UNITS.with_only_columns(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(*columns), Unit.position, AnnotationSource.position
                )
            )
        )
        .order_by(None)
        .scalar_subquery()
    )
    mentions = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(
                        Mention.source_id, Source.name, Mention.start, Mention.end
                    ),
                    Mention.start,
                    Mention.end,
                )
            )
        )
        .join(Source, Source.id == Mention.source_id)
        .where(Mention.article_id == Article.id)
        .scalar_subquery()
    )
    # The distinct ids first, then one primary-key look-up each: as an IN, the
    # planner could expand every unit's list once per source of the project.
    suggested_ids = (
        select(func.json_array_elements_text(Unit.suggested_sources).cast(Integer).label("id"))
        .where(
            Unit.article_id == bindparam("article_id", type_=Integer),
            func.json_typeof(Unit.suggested_sources) == "array",
        )
        .distinct()
        .subquery()
    )
    # The project is checked in Python (``_from_aggregates``): as a condition
    # here it tempted the planner into walking the project's sources.
    suggested = (
        select(
            func.json_agg(
                func.json_build_array(Source.id, Source.name, Source.kind, Source.project_id)
            )
        )
        .select_from(suggested_ids)
        .join(Source, Source.id == suggested_ids.c.id)
        .scalar_subquery()
    )
    return units, mentions, suggested


@functools.cache
def sources_query(dialect: str) -> Select[Any]:
    """The article's mentions and the suggested sources as one UNION ALL.

    ``what`` tells the rows apart: ``m`` a mention (with its offsets), ``s`` a
    suggested source. The suggested ids are bound as one value, an array on
    PostgreSQL and a JSON text on SQLite, read as a table: SQLAlchemy's
    "expanding" IN recompiles the statement on every execution (that cost
    more than running it) and varies its text, defeating prepared statements.
    """
    project_id = bindparam("project_id", type_=Integer)
    no_int = null().cast(Integer)
    mentions = (
        select(
            literal_column("'m'").label("what"),
            Mention.source_id,
            Source.name,
            Source.kind,
            Mention.start,
            Mention.end,
        )
        .join(Source, Source.id == Mention.source_id)
        .where(Mention.article_id == bindparam("article_id", type_=Integer))
    )
    if dialect == "postgresql":
        listed = Source.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    else:
        values = func.json_each(bindparam("ids", type_=String)).table_valued("value")
        listed = Source.id.in_(select(values.c.value))
    suggested = select(
        literal_column("'s'"), Source.id, Source.name, Source.kind, no_int, no_int
    ).where(
        listed,
        # "+ 0": not a use for the (project_id, name_key) index, or SQLite
        # walks the project's sources instead of looking the ids up.
        Source.project_id + 0 == project_id,
    )
    return union_all(mentions, suggested)


CREDITED = union_all(
    select(literal_column("0"), Source.id, Source.name, Source.kind, Source.name_key).where(
        Source.project_id == bindparam("project_id", type_=Integer),
        Source.name_key.in_(bindparam("keys", expanding=True)),
    ),
    select(literal_column("1"), Source.id, Source.name, Source.kind, SourceAlias.alias_key)
    .join(Source, Source.id == SourceAlias.source_id)
    .where(
        SourceAlias.project_id == bindparam("project_id", type_=Integer),
        SourceAlias.alias_key.in_(bindparam("keys", expanding=True)),
    ),
)
