"""Plans: planners' drafts as a log of edits over a base release.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("base_release_id", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("published_release_id", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.ForeignKeyConstraint(["base_release_id"], ["releases.id"],
                                name=op.f("fk_plans_base_release_id_releases")),
        sa.ForeignKeyConstraint(["published_release_id"], ["releases.id"],
                                name=op.f("fk_plans_published_release_id_releases")),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'published', 'abandoned')",
                           name=op.f("ck_plans_status")),
    )
    op.create_table(
        "plan_edits",
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("op", sa.JSON, nullable=False),
        sa.Column("admin", sa.Boolean, nullable=False),
        sa.Column("undone", sa.Boolean, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "seq", name=op.f("pk_plan_edits")),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE",
                                name=op.f("fk_plan_edits_plan_id_plans")),
    )


def downgrade() -> None:
    op.drop_table("plan_edits")
    op.drop_table("plans")
