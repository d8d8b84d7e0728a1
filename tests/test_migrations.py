"""The migrations build exactly the schema the models describe, and keep data on the way."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from annotator.db import make_engine
from annotator.models import Base
from annotator.schema import alembic_config, upgrade


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url, synchronous="OFF")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0003_keeps_projects_and_articles(database_url: str) -> None:
    # SQLite runs with foreign keys on: a migration that copied `projects` to
    # alter it would cascade the DROP of the old table to every article.
    engine = make_engine(database_url, synchronous="OFF")
    try:
        upgrade(engine, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO projects (name, description, suggestion_mode, created_at) "
                    "VALUES ('p', '', 'hint', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO articles (project_id, title, text, content_hash, credits, "
                    "created_at) SELECT id, 't', 'x', 'h', '[]', CURRENT_TIMESTAMP FROM projects"
                )
            )
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT unanimous_min_annotators FROM projects")
            ).scalars().all() == [2]
            assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 1
            assert connection.execute(text("SELECT count(*) FROM gold_events")).scalar() == 0
        _downgrade(engine, "0002")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 1
        upgrade(engine)
    finally:
        engine.dispose()
