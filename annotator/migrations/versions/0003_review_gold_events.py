"""review: unanimous threshold, gold history

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gold_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("gold_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.String(length=16), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("error_category", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('decide', 'accept_unanimous', 'clear', 'import', 'segmentation', 'merge_sources')",
            name=op.f("ck_gold_events_action"),
        ),
        sa.CheckConstraint(
            "provenance IN ('unanimous', 'adjudicated', 'unresolved')",
            name=op.f("ck_gold_events_provenance"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_gold_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_gold_events_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_gold_events_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_events")),
    )
    with op.batch_alter_table("gold_events", schema=None) as batch_op:
        batch_op.create_index("ix_gold_events_unit", ["unit_id", "id"], unique=False)

    # A plain ALTER TABLE ADD COLUMN with a constant default, never a batch
    # table copy: on SQLite (foreign keys on) dropping the old `projects`
    # table would cascade to every article. Alembic copies the table for an
    # expression default such as sa.text("2"), so the default is the string.
    op.add_column(
        "projects",
        sa.Column("unanimous_min_annotators", sa.Integer(), server_default="2", nullable=False),
    )


def downgrade() -> None:
    # Not in batch mode: SQLite (3.35+) drops a column in place, where a batch
    # would recreate `projects` and cascade the DROP to every article.
    op.drop_column("projects", "unanimous_min_annotators")
    with op.batch_alter_table("gold_events", schema=None) as batch_op:
        batch_op.drop_index("ix_gold_events_unit")
    op.drop_table("gold_events")
