"""Households, their personal data (kept apart), assignments per release and moves.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _code() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("external_id", _code(), nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("given_lon", sa.Double),
        sa.Column("given_lat", sa.Double),
        sa.Column("given_crs", sa.Text),
        sa.Column("building_ref", sa.Text),
        sa.Column("size", sa.Integer),
        sa.Column("lon", sa.Double),
        sa.Column("lat", sa.Double),
        sa.Column("located_by", sa.Text),
        sa.Column("match_level", sa.Text),
        sa.Column("match_score", sa.Double),
        sa.Column("matched_id", sa.Text),
        sa.Column("flags", sa.JSON),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("external_id", name=op.f("uq_households_external_id")),
    )
    op.create_table(
        "household_personal",
        sa.Column("household_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("id_number", sa.Text),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_personal")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_household_personal_household_id_households")),
    )
    op.create_table(
        "assignments",
        sa.Column("release_id", sa.Integer, nullable=False),
        sa.Column("household_id", sa.Integer, nullable=False),
        sa.Column("microgrid", _code()),
        sa.Column("grid", _code()),
        sa.Column("community", _code()),
        sa.Column("street", _code()),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("nearest_code", _code()),
        sa.Column("nearest_m", sa.Double),
        sa.PrimaryKeyConstraint("release_id", "household_id", name=op.f("pk_assignments")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="CASCADE",
                                name=op.f("fk_assignments_release_id_releases")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_assignments_household_id_households")),
        sa.CheckConstraint("status IN ('found', 'outside', 'unlocated')",
                           name=op.f("ck_assignments_status")),
    )
    op.create_index(op.f("ix_assignments_release_id_grid"), "assignments", ["release_id", "grid"])
    op.create_index(op.f("ix_assignments_release_id_status"), "assignments",
                    ["release_id", "status"])
    op.create_table(
        "assignment_moves",
        sa.Column("to_release_id", sa.Integer, nullable=False),
        sa.Column("household_id", sa.Integer, nullable=False),
        sa.Column("from_release_id", sa.Integer, nullable=False),
        sa.Column("from_microgrid", _code()),
        sa.Column("to_microgrid", _code()),
        sa.Column("from_grid", _code()),
        sa.Column("to_grid", _code()),
        sa.PrimaryKeyConstraint("to_release_id", "household_id", name=op.f("pk_assignment_moves")),
        sa.ForeignKeyConstraint(["to_release_id"], ["releases.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_moves_to_release_id_releases")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_moves_household_id_households")),
    )


def downgrade() -> None:
    op.drop_table("assignment_moves")
    op.drop_table("assignments")
    op.drop_table("household_personal")
    op.drop_table("households")
