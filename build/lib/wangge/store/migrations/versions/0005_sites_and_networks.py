"""Service sites with their history, and walking networks stored with a release.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _code() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("site_id", _code(), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit_code", _code()),
        sa.Column("hours", sa.Text),
        sa.Column("lon", sa.Double, nullable=False),
        sa.Column("lat", sa.Double, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("valid_from", _time(), nullable=False),
        sa.Column("valid_to", _time()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.CheckConstraint("kind IN ('centre', 'station')", name=op.f("ck_sites_kind")),
    )
    op.create_index(op.f("uq_sites_site_id"), "sites", ["site_id"], unique=True,
                    sqlite_where=sa.text("valid_to IS NULL"),
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.create_index(op.f("ix_sites_site_id_valid_from"), "sites", ["site_id", "valid_from"])
    op.create_table(
        "networks",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("release_id", sa.Integer),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("edge_count", sa.Integer, nullable=False),
        sa.Column("length_m", sa.Double, nullable=False),
        sa.Column("dropped", sa.JSON),
        sa.Column("metric_epsg", sa.Integer),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="CASCADE",
                                name=op.f("fk_networks_release_id_releases")),
    )
    op.create_index(op.f("ix_networks_release_id"), "networks", ["release_id"])
    geom_type = Geometry("GEOMETRY", srid=4490, spatial_index=False) if postgis \
        else sa.LargeBinary()
    op.create_table(
        "network_edges",
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("edge", sa.Integer, nullable=False),
        sa.Column("u", sa.Integer, nullable=False),
        sa.Column("v", sa.Integer, nullable=False),
        sa.Column("length_m", sa.Double, nullable=False),
        sa.Column("geom", geom_type, nullable=False),
        sa.PrimaryKeyConstraint("network_id", "edge", name=op.f("pk_network_edges")),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"], ondelete="CASCADE",
                                name=op.f("fk_network_edges_network_id_networks")),
    )


def downgrade() -> None:
    op.drop_table("network_edges")
    op.drop_table("networks")
    op.drop_table("sites")
