"""The two backends of the store and ``open_store``, which picks one from the URL.

SQLite (embedded default): geometry as a WKB blob, bounding boxes in the built-in R-tree
``unit_rtree``. PostGIS: ``geometry(Geometry, 4490)`` with a GiST index, spatial tests in SQL.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from wangge.geo.errors import InputError
from wangge.store.errors import StoreUnavailable
from wangge.store.schema import SRID, unit_rtree, units
from wangge.store.store import BBox, Store, bbox_geometry

# Any fixed number: the PostgreSQL advisory lock that serialises the store's writers.
_ADVISORY_LOCK = 0x77616E67  # "wang"
# While PostgreSQL is unreachable, a request waits at most this long for a connection before it
# is answered 503 (libpq waits forever by default). A ``connect_timeout`` in the URL wins.
CONNECT_TIMEOUT_S = 3
# Pooled connections are replaced after this long, before a firewall or proxy silently drops
# them; connections the server ended are caught by the pre-ping on checkout.
POOL_RECYCLE_S = 1800


class SQLiteStore(Store):
    """SQLite file database; needs nothing beyond the Python standard library."""

    backend = "sqlite"
    exact_bbox_in_sql = False  # the R-tree gives candidates; shapely does the exact test

    @classmethod
    def create_engine(cls, url: URL) -> Engine:
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            folder = Path(url.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"无法创建数据库目录 {folder}：{exc.strerror}",
                                       f"Cannot create the database folder {folder}: {exc.strerror}"
                                       ) from exc
        engine = sa.create_engine(url, json_serializer=dumps_json)
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine

    def _geom_param(self) -> sa.ColumnElement[Any]:
        return sa.bindparam("wkb", type_=sa.LargeBinary)

    def _geom_column(self, column: sa.ColumnElement[Any] = units.c.geom) -> sa.ColumnElement[bytes]:
        return column

    def _bbox_clause(self, release_id: int, bbox: BBox) -> sa.ColumnElement[bool]:
        minx, miny, maxx, maxy = bbox
        r = unit_rtree.c
        boxes = sa.select(r.id).where(r.maxx >= minx, r.minx <= maxx, r.maxy >= miny,
                                      r.miny <= maxy)
        # "release_id + 0" keeps SQLite from scanning the release's whole index and probing the
        # R-tree result per row; this way the R-tree drives (0.1 ms instead of 10 ms at 100k).
        return sa.and_(units.c.id.in_(boxes), (units.c.release_id + 0) == release_id)

    def _insert_units(self, conn: Connection, rows: list[dict[str, Any]],
                      geoms: np.ndarray) -> None:
        # Ids are given explicitly so the R-tree rows can use them without a RETURNING round
        # trip per row; safe because a write transaction holds SQLite's write lock throughout.
        first = conn.execute(sa.select(sa.func.coalesce(sa.func.max(units.c.id), 0))).scalar_one()
        ids = range(first + 1, first + 1 + len(rows))
        for unit_id, row in zip(ids, rows, strict=True):
            row["id"] = unit_id
        conn.execute(sa.insert(units).values(geom=self._geom_param()), rows)
        bounds = shapely.bounds(geoms).tolist()  # minx, miny, maxx, maxy
        conn.execute(
            sa.insert(unit_rtree),
            [{"id": unit_id, "minx": b[0], "maxx": b[2], "miny": b[1], "maxy": b[3]}
             for unit_id, b in zip(ids, bounds, strict=True)],
        )


def _sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # SQLAlchemy emits BEGIN itself (_sqlite_begin), so reads and DDL are transactional too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # WAL rather than the rollback journal: the API keeps reading the current release while an
    # import writes a new one. Crash safety is the same: a killed writer's frames are never
    # committed and are ignored when the database is next opened.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front, so one that reads first cannot deadlock another.
    immediate = conn.get_execution_options().get("wangge_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class PostGISStore(Store):
    """PostgreSQL with PostGIS (``postgresql+psycopg://...``)."""

    backend = "postgis"
    exact_bbox_in_sql = True

    @classmethod
    def create_engine(cls, url: URL) -> Engine:
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
        # pre-ping: a connection whose server session was ended (restart, failover, terminated
        # backend) is found on checkout and replaced, with every connection pooled before it.
        return sa.create_engine(url, json_serializer=dumps_json, pool_pre_ping=True,
                                pool_recycle=POOL_RECYCLE_S, connect_args=connect_args)

    def _geom_param(self) -> sa.ColumnElement[Any]:
        return sa.func.ST_GeomFromWKB(sa.bindparam("wkb", type_=sa.LargeBinary), SRID)

    def _geom_column(self, column: sa.ColumnElement[Any] = units.c.geom) -> sa.ColumnElement[bytes]:
        return sa.func.ST_AsBinary(column, type_=sa.LargeBinary)

    def _bbox_clause(self, release_id: int, bbox: BBox) -> sa.ColumnElement[bool]:
        # ST_Intersects first filters with the GiST index (&&), then tests exactly.
        wkb = sa.bindparam("bbox_wkb", shapely.to_wkb(bbox_geometry(bbox)), sa.LargeBinary)
        shape = sa.func.ST_GeomFromWKB(wkb, SRID)
        return sa.and_(units.c.release_id == release_id,
                       sa.func.ST_Intersects(units.c.geom, shape, type_=sa.Boolean))

    def _lock(self, conn: Connection) -> None:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK)))


BACKENDS: dict[str, type[Store]] = {"sqlite": SQLiteStore, "postgresql": PostGISStore}


def open_store(url: str) -> Store:
    """Open the store at ``url`` (``sqlite:///path/wangge.db`` or ``postgresql+psycopg://...``).

    Creates the SQLite file's folder if needed and migrates the schema to the newest version.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        # The URL is not repeated: it may hold a password.
        raise InputError("无法解析数据库地址。", "Cannot parse the database URL.") from exc
    cls = BACKENDS.get(parsed.get_backend_name())
    if cls is None:
        raise InputError(
            f"不支持的数据库：{parsed.get_backend_name()}（支持 sqlite、postgresql）。",
            f"Unsupported database: {parsed.get_backend_name()} (use sqlite or postgresql).",
        )
    store = cls(cls.create_engine(parsed))
    try:
        store.migrate()
    except StoreUnavailable as exc:  # say which database (the password masked)
        store.close()
        where = parsed.render_as_string(hide_password=True)
        raise StoreUnavailable(f"无法连接或打开数据库 {where}，请检查地址和服务是否运行。",
                               f"Cannot connect to or open the database {where}; check the URL "
                               "and that the server is running.") from exc
    except BaseException:
        store.close()
        raise
    return store


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# JSON for the attrs and report columns: Chinese kept readable, numpy values and dates accepted.
# One encoder, built once: json.dumps with options would build one per unit.
dumps_json = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode
