"""articles indexed by (project_id, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "The next unfinished article after this one" walks a project's articles
    # in id order and stops at the first hit. SQLite's index on project_id
    # already lists equal keys in rowid order; PostgreSQL's does not, so it
    # checked every article of the project and sorted them (1.5 ms per page
    # load at 50 articles, growing with the project). The composite index
    # serves every look-up the old one did.
    op.create_index("ix_articles_project_id_id", "articles", ["project_id", "id"], unique=False)
    op.drop_index("ix_articles_project_id", table_name="articles")


def downgrade() -> None:
    op.create_index("ix_articles_project_id", "articles", ["project_id"], unique=False)
    op.drop_index("ix_articles_project_id_id", table_name="articles")
