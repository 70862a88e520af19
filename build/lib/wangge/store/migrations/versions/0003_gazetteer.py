"""The gazetteer: versions, compounds and buildings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _code() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "gazetteers",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("compound_count", sa.Integer, nullable=False),
        sa.Column("building_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazetteers")),
    )
    op.create_index(op.f("uq_gazetteers_is_current"), "gazetteers", ["is_current"], unique=True,
                    sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"))
    geom_type = Geometry("GEOMETRY", srid=4490, spatial_index=False) if postgis \
        else sa.LargeBinary()
    op.create_table(
        "compounds",
        sa.Column("gazetteer_id", sa.Integer, nullable=False),
        sa.Column("compound_id", _code(), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("attrs", sa.JSON),
        sa.Column("geom", geom_type, nullable=False),
        sa.PrimaryKeyConstraint("gazetteer_id", "compound_id", name=op.f("pk_compounds")),
        sa.ForeignKeyConstraint(["gazetteer_id"], ["gazetteers.id"], ondelete="CASCADE",
                                name=op.f("fk_compounds_gazetteer_id_gazetteers")),
    )
    op.create_table(
        "buildings",
        sa.Column("gazetteer_id", sa.Integer, nullable=False),
        sa.Column("building_id", _code(), nullable=False),
        sa.Column("compound_id", _code(), nullable=False),
        sa.Column("number", sa.Text),
        sa.Column("attrs", sa.JSON),
        sa.Column("lon", sa.Double, nullable=False),
        sa.Column("lat", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("gazetteer_id", "building_id", name=op.f("pk_buildings")),
        sa.ForeignKeyConstraint(["gazetteer_id"], ["gazetteers.id"], ondelete="CASCADE",
                                name=op.f("fk_buildings_gazetteer_id_gazetteers")),
    )


def downgrade() -> None:
    op.drop_table("buildings")
    op.drop_table("compounds")
    op.drop_table("gazetteers")
