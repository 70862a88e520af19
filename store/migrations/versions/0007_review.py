"""Review decisions: how a person resolved a household of the review queue, reused next import.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _code() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("external_id", _code(), nullable=False),
        sa.Column("address_sha256", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("entry_id", sa.Text),
        sa.Column("lon", sa.Double, nullable=False),
        sa.Column("lat", sa.Double, nullable=False),
        sa.Column("given_lon", sa.Double),
        sa.Column("given_lat", sa.Double),
        sa.Column("given_crs", sa.Text),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("key_id", sa.Integer),
        sa.Column("role", sa.Text),
        sa.Column("decided_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
        sa.CheckConstraint("decision IN ('candidate', 'point')",
                           name=op.f("ck_review_decisions_decision")),
        sa.CheckConstraint("decision = 'point' OR entry_id IS NOT NULL",
                           name=op.f("ck_review_decisions_candidate_entry")),
    )
    op.create_index(op.f("ix_review_decisions_external_id_address_sha256"), "review_decisions",
                    ["external_id", "address_sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_decisions_external_id_address_sha256"),
                  table_name="review_decisions")
    op.drop_table("review_decisions")
