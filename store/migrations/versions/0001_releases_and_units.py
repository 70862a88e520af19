"""Releases and boundary units, with a spatial index per backend.

Revision ID: 0001
Revises:
Create Date: 2025-11-23

PostGIS: ``units.geom`` is ``geometry(Geometry, 4490)`` with a GiST index.
SQLite: ``units.geom`` is a WKB blob; the built-in R-tree virtual table ``unit_rtree`` holds each
unit's bounding box under the unit's id, and a trigger drops those rows with the unit.
Names and values are written out here (not imported from wangge.store.schema) so this revision stays
what it was when later ones change the schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SRID = 4490


def _code() -> sa.types.TypeEngine[str]:
    # Byte-wise ordering on PostgreSQL too, so unit codes sort as they do on SQLite.
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    if postgis:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("unit_count", sa.Integer, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("warning_count", sa.Integer, nullable=False),
        sa.Column("report", sa.JSON),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.CheckConstraint(
            "NOT is_current OR published_at IS NOT NULL", name=op.f("ck_releases_current_published")
        ),
        sa.CheckConstraint(
            "NOT is_current OR error_count = 0", name=op.f("ck_releases_current_without_errors")
        ),
    )
    # At most one current release.
    op.create_index(
        op.f("uq_releases_is_current"),
        "releases",
        ["is_current"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )

    geom_type = (
        Geometry("GEOMETRY", srid=SRID, spatial_index=False) if postgis else sa.LargeBinary()
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("release_id", sa.Integer, nullable=False),
        sa.Column("code", _code(), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("parent_code", _code()),
        sa.Column("attrs", sa.JSON),
        sa.Column("area_m2", sa.Double),
        sa.Column("geom", geom_type, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], ondelete="CASCADE",
            name=op.f("fk_units_release_id_releases"),
        ),
        sa.UniqueConstraint("release_id", "code", name=op.f("uq_units_release_id_code")),
        sa.CheckConstraint(
            "level IN ('street', 'community', 'grid', 'microgrid')", name=op.f("ck_units_level")
        ),
    )
    op.create_index(op.f("ix_units_release_id_level"), "units", ["release_id", "level"])
    op.create_index(
        op.f("ix_units_release_id_parent_code"), "units", ["release_id", "parent_code"]
    )

    if postgis:
        op.create_index(op.f("ix_units_geom"), "units", ["geom"], postgresql_using="gist")
    else:
        op.execute("CREATE VIRTUAL TABLE unit_rtree USING rtree(id, minx, maxx, miny, maxy)")
        op.execute(
            "CREATE TRIGGER units_drop_rtree AFTER DELETE ON units "
            "BEGIN DELETE FROM unit_rtree WHERE id = old.id; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER units_drop_rtree")
        op.execute("DROP TABLE unit_rtree")
    op.drop_table("units")
    op.drop_table("releases")
