"""Table definitions shared by both backends.

The tables are created by the Alembic migrations in ``store/migrations``, not by
``metadata.create_all``; this module describes them for queries and for the test that checks
the migrations and these definitions agree. Constraint names follow ``NAMING_CONVENTION``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from wangge.geo.crs import STORAGE_EPSG
from wangge.geo.levels import ORDER

SRID = STORAGE_EPSG  # CGCS2000 longitude/latitude, the CRS of every stored geometry

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

LEVELS = tuple(level.value for level in ORDER)
LEVEL_CHECK = "level IN (" + ", ".join(f"'{level}'" for level in LEVELS) + ")"


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC ``datetime``.

    PostgreSQL keeps the zone (timestamptz); SQLite stores text without one, so values are
    converted to UTC before writing and marked UTC when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class GeometryWKB(sa.TypeDecorator[bytes]):
    """The unit geometry: a WKB blob on SQLite, ``geometry(Geometry, 4490)`` on PostGIS.

    Only the column's DDL type differs per dialect; the store always binds and reads WKB bytes
    (wrapping them in ``ST_GeomFromWKB`` / ``ST_AsBinary`` on PostGIS).
    """

    impl = sa.LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Geometry("GEOMETRY", srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(sa.LargeBinary())


def code_type() -> TypeEngine[str]:
    """Text compared byte by byte on both backends, so unit codes sort the same everywhere."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("effective_date", sa.Date, nullable=False),
    sa.Column("published_at", UTCDateTime),
    sa.Column("is_current", sa.Boolean, nullable=False, default=False),
    sa.Column("unit_count", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("warning_count", sa.Integer, nullable=False),
    sa.Column("report", sa.JSON(none_as_null=True)),
    sa.CheckConstraint("NOT is_current OR published_at IS NOT NULL", name="current_published"),
    sa.CheckConstraint("NOT is_current OR error_count = 0", name="current_without_errors"),
    # At most one current release; named like the convention's unique constraints because
    # SQLite reports a violation by column ("releases.is_current"), see store/errors.py.
    sa.Index(
        "uq_releases_is_current",
        "is_current",
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    ),
)

units = sa.Table(
    "units",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "release_id",
        sa.Integer,
        sa.ForeignKey("releases.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("code", code_type(), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("parent_code", code_type()),
    sa.Column("attrs", sa.JSON(none_as_null=True)),
    sa.Column("area_m2", sa.Double),
    sa.Column("geom", GeometryWKB, nullable=False),
    sa.UniqueConstraint("release_id", "code"),
    sa.CheckConstraint(LEVEL_CHECK, name="level"),
    sa.Index(None, "release_id", "level"),
    sa.Index(None, "release_id", "parent_code"),
    # GiST index on PostGIS only; SQLite uses the unit_rtree virtual table instead.
    sa.Index("ix_units_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
)

# SQLite only: the R-tree over unit bounding boxes, id = units.id. A lightweight table clause,
# not part of ``metadata``: it is a virtual table the migration creates with raw DDL.
unit_rtree = sa.table(
    "unit_rtree",
    sa.column("id", sa.Integer),
    sa.column("minx", sa.Double),
    sa.column("maxx", sa.Double),
    sa.column("miny", sa.Double),
    sa.column("maxy", sa.Double),
)

# ORDER BY expression putting streets first and micro-grids last.
LEVEL_DEPTH = sa.case({level.value: level.depth for level in ORDER}, value=units.c.level)

# ---- households -----------------------------------------------------------------
ASSIGNMENT_STATUSES = ("found", "outside", "unlocated")
STATUS_CHECK = "status IN (" + ", ".join(f"'{s}'" for s in ASSIGNMENT_STATUSES) + ")"

households = sa.Table(
    "households",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("external_id", code_type(), nullable=False),
    sa.Column("address", sa.Text),
    sa.Column("given_lon", sa.Double),       # as written in the register, in given_crs
    sa.Column("given_lat", sa.Double),
    sa.Column("given_crs", sa.Text),
    sa.Column("building_ref", sa.Text),      # building id given by the register, if any
    sa.Column("size", sa.Integer),
    sa.Column("lon", sa.Double),             # where wangge put it, CGCS2000 lon/lat
    sa.Column("lat", sa.Double),
    sa.Column("located_by", sa.Text),        # "address", "coordinates" or NULL (not located)
    sa.Column("match_level", sa.Text),
    sa.Column("match_score", sa.Double),
    sa.Column("matched_id", sa.Text),
    sa.Column("flags", sa.JSON(none_as_null=True)),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("external_id"),
)

# Personal data lives apart from locations; only entitled roles read it (see store/households.py).
household_personal = sa.Table(
    "household_personal",
    metadata,
    sa.Column("household_id", sa.Integer,
              sa.ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("id_number", sa.Text),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("microgrid", code_type()),
    sa.Column("grid", code_type()),
    sa.Column("community", code_type()),
    sa.Column("street", code_type()),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("nearest_code", code_type()),
    sa.Column("nearest_m", sa.Double),
    sa.CheckConstraint(STATUS_CHECK, name="status"),
    sa.Index(None, "release_id", "grid"),
    sa.Index(None, "release_id", "status"),
)

# Who moved where when a release's assignment was computed against the one before it.
assignment_moves = sa.Table(
    "assignment_moves",
    metadata,
    sa.Column("to_release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("household_id", sa.Integer, sa.ForeignKey("households.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("from_release_id", sa.Integer, nullable=False),
    sa.Column("from_microgrid", code_type()),
    sa.Column("to_microgrid", code_type()),
    sa.Column("from_grid", code_type()),
    sa.Column("to_grid", code_type()),
)

# Counters bumped in the same transaction as the writes they stand for, so any process can tell
# whether what it derived from those tables is still exact. "households": the households (their
# sizes) and their assignments to units.
revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# ---- the gazetteer: compounds (小区/村组) and buildings, versioned like boundaries ---------------
gazetteers = sa.Table(
    "gazetteers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("is_current", sa.Boolean, nullable=False, default=False),
    sa.Column("compound_count", sa.Integer, nullable=False),
    sa.Column("building_count", sa.Integer, nullable=False),
    sa.Index("uq_gazetteers_is_current", "is_current", unique=True,
             sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current")),
)

compounds = sa.Table(
    "compounds",
    metadata,
    sa.Column("gazetteer_id", sa.Integer, sa.ForeignKey("gazetteers.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("compound_id", code_type(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("attrs", sa.JSON(none_as_null=True)),  # road, road_number, category, village…
    sa.Column("geom", GeometryWKB, nullable=False),   # Polygon or Point
)

buildings = sa.Table(
    "buildings",
    metadata,
    sa.Column("gazetteer_id", sa.Integer, sa.ForeignKey("gazetteers.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("building_id", code_type(), primary_key=True),
    sa.Column("compound_id", code_type(), nullable=False),
    sa.Column("number", sa.Text),
    sa.Column("attrs", sa.JSON(none_as_null=True)),  # units, floors, label…
    sa.Column("lon", sa.Double, nullable=False),
    sa.Column("lat", sa.Double, nullable=False),
)

# ---- access control and audit -------------------------------------------------------------
ROLES = ("viewer", "integrator", "planner", "admin")
ROLE_CHECK = "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")"

# API keys: only a SHA-256 of the secret is kept (keys are 32 random bytes, so a slow hash adds
# nothing); ``prefix`` (the first characters of the key) lets people tell keys apart.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.UniqueConstraint("key_hash"),
    sa.CheckConstraint(ROLE_CHECK, name="role"),
)

# Every write and every read of personal data. ``detail`` never holds personal data itself.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("key_id", sa.Integer),          # None: anonymous or the command line
    sa.Column("role", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("status", sa.Integer),
    sa.Column("detail", sa.JSON(none_as_null=True)),
    sa.Index(None, "at"),
)

# ---- grid workers ---------------------------------------------------------------------------
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("worker_id", code_type(), nullable=False),
    sa.Column("grid_code", code_type(), nullable=False),
    sa.Column("full_time", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("worker_id"),
    sa.Index(None, "grid_code"),
)

# Contacts of workers are personal data, apart like household_personal.
worker_personal = sa.Table(
    "worker_personal",
    metadata,
    sa.Column("worker_id", sa.Integer, sa.ForeignKey("workers.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("phone", sa.Text),
)

# ---- coverage: service sites and walking networks ------------------------------
SITE_KINDS = ("centre", "station")

# One row per version of a site: moving or editing a site closes its row (valid_to) and opens a
# new one with the same site_id; retiring closes it. The open rows are the sites in service.
sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site_id", code_type(), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("unit_code", code_type()),
    sa.Column("hours", sa.Text),
    sa.Column("lon", sa.Double, nullable=False),
    sa.Column("lat", sa.Double, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("valid_from", UTCDateTime, nullable=False),
    sa.Column("valid_to", UTCDateTime),
    sa.CheckConstraint("kind IN ('centre', 'station')", name="kind"),
    sa.Index("uq_sites_site_id", "site_id", unique=True, sqlite_where=sa.text("valid_to IS NULL"),
             postgresql_where=sa.text("valid_to IS NULL")),
    sa.Index(None, "site_id", "valid_from"),
)

# A walking network, stored with the release it was loaded for.
networks = sa.Table(
    "networks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("release_id", sa.Integer, sa.ForeignKey("releases.id", ondelete="CASCADE")),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("edge_count", sa.Integer, nullable=False),
    sa.Column("length_m", sa.Double, nullable=False),
    sa.Column("dropped", sa.JSON(none_as_null=True)),
    sa.Column("metric_epsg", sa.Integer),           # the metric CRS it was measured in
    sa.Index(None, "release_id"),
)

network_edges = sa.Table(
    "network_edges",
    metadata,
    sa.Column("network_id", sa.Integer, sa.ForeignKey("networks.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("edge", sa.Integer, primary_key=True),
    sa.Column("u", sa.Integer, nullable=False),     # node numbers: the graph as it was built
    sa.Column("v", sa.Integer, nullable=False),
    sa.Column("length_m", sa.Double, nullable=False),
    sa.Column("geom", GeometryWKB, nullable=False),
)

# ---- plans: planners' drafts of new boundaries, as a log of edits over a base release -------
PLAN_STATUSES = ("draft", "submitted", "published", "abandoned")

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text),                 # the key's name (no personal data)
    sa.Column("base_release_id", sa.Integer, sa.ForeignKey("releases.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("published_release_id", sa.Integer, sa.ForeignKey("releases.id")),
    # Bumped by every change of the plan or its log: a service holding an older version in
    # memory reloads before it writes (several service processes may edit the same plan).
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in PLAN_STATUSES) + ")",
                       name="status"),
)

# The edits of a plan in order. Undone edits stay (for redo) until a new edit replaces them.
plan_edits = sa.Table(
    "plan_edits",
    metadata,
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("op", sa.JSON, nullable=False),
    sa.Column("admin", sa.Boolean, nullable=False),   # made with an administrator's rights
    sa.Column("undone", sa.Boolean, nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("at", UTCDateTime, nullable=False),
)

# ---- review: how a person resolved a household of the review queue --------------------------
# One row per decision (the history stays; the newest for a household and address wins). The
# address is kept as the SHA-256 of its text as imported: enough to know the register still says
# the same, without another copy of a resident's address. A decision is reused when the same
# household comes again with the same address text (see wangge/review.py).
REVIEW_DECISIONS = ("candidate", "point")

review_decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("external_id", code_type(), nullable=False),
    sa.Column("address_sha256", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("entry_id", sa.Text),               # the gazetteer building or compound chosen
    sa.Column("lon", sa.Double, nullable=False),  # the decided location, CGCS2000 lon/lat
    sa.Column("lat", sa.Double, nullable=False),
    sa.Column("given_lon", sa.Double),            # a placed point as given, in given_crs
    sa.Column("given_lat", sa.Double),
    sa.Column("given_crs", sa.Text),
    sa.Column("decided_by", sa.Text, nullable=False),   # the key's name, or "cli" (no personal data)
    sa.Column("key_id", sa.Integer),
    sa.Column("role", sa.Text),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("decision IN (" + ", ".join(f"'{d}'" for d in REVIEW_DECISIONS) + ")",
                       name="decision"),
    sa.CheckConstraint("decision = 'point' OR entry_id IS NOT NULL", name="candidate_entry"),
    sa.Index(None, "external_id", "address_sha256"),
)

# ---- accounts for people with a browser: users, their sessions, failed logins ----------------
# A password is kept only as its scrypt hash with its own salt and parameters
# ("scrypt$n$r$p$salt$hash", see store/users.py); a session only as the SHA-256 of its token (32
# random bytes in the browser's cookie). ``login_failures`` throttles guessing per account
# ("user:NAME", known or not) and per client address ("ip:ADDRESS").
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("password_changed_at", UTCDateTime, nullable=False),
    sa.Column("last_login_at", UTCDateTime),
    sa.Column("disabled_at", UTCDateTime),
    sa.UniqueConstraint("name"),
    sa.CheckConstraint(ROLE_CHECK, name="role"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.Text, nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("token_hash"),
    sa.Index(None, "user_id"),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
    sa.Column("blocked_until", UTCDateTime),
)
