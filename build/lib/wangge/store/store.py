"""The boundary store: releases of boundary units, one class over SQLite and PostGIS.

Subclasses in ``store/backends.py`` override only what differs per backend: how the engine is
made, how geometries are bound and read, the bounding-box filter and its spatial index, and how
writers are serialised.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from types import TracebackType
from typing import Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, Row

from wangge.geo.errors import Conflict, InputError, NotFound
from wangge.geo.levels import parse_level
from wangge.store.access import AccessMixin
from wangge.store.errors import translate_errors
from wangge.store.gazetteer import GazetteerMixin
from wangge.store.geometry_io import check_units_frame, unit_rows, units_frame
from wangge.store.households import HouseholdsMixin
from wangge.store.migrate import upgrade
from wangge.store.networks import NetworksMixin
from wangge.store.release_info import ReleaseInfo
from wangge.store.schema import LEVEL_DEPTH
from wangge.store.schema import releases as release_table
from wangge.store.schema import units as unit_table
from wangge.store.sites import SitesMixin
from wangge.store.workers import WorkersMixin

BBox = tuple[float, float, float, float]

# Boundary versions take effect on Chinese calendar days (UTC+8, no daylight saving).
CHINA_TIME = timezone(timedelta(hours=8), "CST")

_INFO_COLUMNS = [column for column in release_table.c if column.name != "report"]
_UNIT_COLUMNS = [unit_table.c.code, unit_table.c.name, unit_table.c.level, unit_table.c.parent_code,
                 unit_table.c.attrs, unit_table.c.area_m2]


class Store(HouseholdsMixin, GazetteerMixin, AccessMixin, WorkersMixin, SitesMixin,
            NetworksMixin):
    """Releases of boundary units, and households, in one database. Thread-safe; open with ``open_store``.

    ``url`` is the database URL with any password masked; ``engine`` the one SQLAlchemy engine.
    """

    backend: ClassVar[Literal["sqlite", "postgis"]]
    # Whether ``_bbox_clause`` is exact; if not, candidates are tested with shapely afterwards.
    exact_bbox_in_sql: ClassVar[bool]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Same pool; transactions begun through it are marked as writes (see SQLite backend).
        self._write_engine = engine.execution_options(wangge_write=True)
        self.url = engine.url.render_as_string(hide_password=True)

    # ---- per-backend overrides ---------------------------------------------------------

    @classmethod
    def create_engine(cls, url: URL) -> Engine:
        """The engine for ``url``, configured for this backend."""
        raise NotImplementedError

    def _geom_param(self) -> sa.ColumnElement[Any]:
        """SQL expression turning the ``wkb`` bind parameter into the stored geometry."""
        raise NotImplementedError

    def _geom_column(self, column: sa.ColumnElement[Any] = unit_table.c.geom
                     ) -> sa.ColumnElement[bytes]:
        """SQL expression reading a geometry column (``units.geom`` by default) as WKB bytes."""
        raise NotImplementedError

    def _bbox_clause(self, release_id: int, bbox: BBox) -> sa.ColumnElement[bool]:
        """Units of the release meeting ``bbox``, found through the spatial index.

        Exact (geometry intersects) or, when ``exact_bbox_in_sql`` is false, by bounding box.
        """
        raise NotImplementedError

    def _insert_units(self, conn: Connection, rows: list[dict[str, Any]],
                      geoms: np.ndarray) -> None:
        """Insert the unit rows in bulk (executemany) and index them."""
        conn.execute(sa.insert(unit_table).values(geom=self._geom_param()), rows)

    def _lock(self, conn: Connection) -> None:
        """Serialise writers that read before they write (migrations, making a release current)."""

    # ---- lifecycle ---------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest migration (run by ``open_store``)."""
        with self._write() as conn:
            self._lock(conn)
            upgrade(conn)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with translate_errors(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with translate_errors(), self._write_engine.begin() as conn:
            yield conn

    # ---- releases ----------------------------------------------------------------------

    def create_release(
        self,
        units: gpd.GeoDataFrame,
        *,
        source: str,
        effective_date: date | None = None,
        report: dict[str, Any] | None = None,
        error_count: int = 0,
        warning_count: int = 0,
        make_current: bool = False,
        note: str | None = None,
    ) -> ReleaseInfo:
        """Store ``units`` as a new release, atomically: all of it or, on any error, nothing.

        ``units`` has columns code, name, level, geometry (EPSG:4490) and optionally
        parent_code, attrs (dict or None) and area_m2. ``effective_date`` defaults to today in
        China. ``make_current`` publishes the release in the same transaction; it is refused
        when ``error_count`` > 0.
        """
        check_units_frame(units)
        if not isinstance(source, str) or not source.strip():
            raise InputError("必须说明数据来源。", "A source must be given.")
        if error_count < 0 or warning_count < 0:
            raise InputError("错误和警告数不能为负。", "Error and warning counts cannot be negative.")
        if make_current and error_count > 0:
            raise _has_errors(None, error_count)
        now = datetime.now(UTC)
        values = {
            "source": source, "note": note, "created_at": now,
            "effective_date": effective_date or now.astimezone(CHINA_TIME).date(),
            "published_at": None, "is_current": False, "unit_count": len(units),
            "error_count": error_count, "warning_count": warning_count, "report": report,
        }
        with self._write() as conn:
            insert = sa.insert(release_table).values(values).returning(release_table.c.id)
            release_id = conn.execute(insert).scalar_one()
            rows, geoms = unit_rows(units, release_id)
            if rows:
                self._insert_units(conn, rows, geoms)
            if make_current:
                self._make_current(conn, release_id, now)
            return self._info(conn, release_id)

    def releases(self) -> list[ReleaseInfo]:
        """Every release, newest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(*_INFO_COLUMNS).order_by(release_table.c.id.desc())).all()
            counts = self._level_counts(conn)
        return [ReleaseInfo.from_row(row, counts[row.id]) for row in rows]

    def release(self, release_id: int) -> ReleaseInfo:
        """One release; NotFound if there is none with this id."""
        with self._read() as conn:
            return self._info(conn, release_id)

    def current_release_id(self) -> int | None:
        """The id of the current release: one cheap query, polled by every service worker."""
        with self._read() as conn:
            query = sa.select(release_table.c.id).where(release_table.c.is_current)
            return conn.execute(query).scalar()

    def current_release(self) -> ReleaseInfo | None:
        """The release in force now, if one has been made current."""
        return self._first(release_table.c.is_current)

    def release_or_current(self, release_id: int | None = None) -> ReleaseInfo:
        """The given release, or the current one; NotFound if there is none."""
        if release_id is not None:
            return self.release(release_id)
        current = self.current_release()
        if current is None:
            raise NotFound("还没有当前版本，请先导入边界或指定版本号。",
                           "There is no current release yet: import boundaries or give a release.")
        return current

    def release_on(self, day: date) -> ReleaseInfo | None:
        """The published release in force on ``day``: greatest effective date not after it.

        Ties go to the one published last. Drafts (never made current) are not considered.
        """
        return self._first(
            release_table.c.published_at.is_not(None),
            release_table.c.effective_date <= day,
            order_by=(release_table.c.effective_date.desc(), release_table.c.published_at.desc(),
                      release_table.c.id.desc()),
        )

    def make_current(self, release_id: int) -> ReleaseInfo:
        """Make a release the current one (publishing it if it was a draft), atomically.

        Refused with Conflict when the release has validation errors.
        """
        with self._write() as conn:
            self._make_current(conn, release_id, datetime.now(UTC))
            return self._info(conn, release_id)

    def report(self, release_id: int) -> dict[str, Any] | None:
        """The validation report stored with the release, as it was given."""
        with self._read() as conn:
            self._release_row(conn, release_id)
            query = sa.select(release_table.c.report).where(release_table.c.id == release_id)
            return conn.execute(query).scalar_one()

    def _make_current(self, conn: Connection, release_id: int, now: datetime) -> None:
        self._lock(conn)
        row = self._release_row(conn, release_id)
        if row.error_count > 0:
            raise _has_errors(release_id, row.error_count)
        others = release_table.c.is_current & (release_table.c.id != release_id)
        conn.execute(sa.update(release_table).where(others).values(is_current=False))
        conn.execute(
            sa.update(release_table)
            .where(release_table.c.id == release_id)
            .values(is_current=True, published_at=row.published_at or now)
        )

    def _first(self, *where: sa.ColumnElement[bool],
               order_by: Sequence[Any] = ()) -> ReleaseInfo | None:
        with self._read() as conn:
            query = sa.select(*_INFO_COLUMNS).where(*where).order_by(*order_by).limit(1)
            row = conn.execute(query).first()
            if row is None:
                return None
            return ReleaseInfo.from_row(row, self._level_counts(conn, row.id)[row.id])

    def _info(self, conn: Connection, release_id: int) -> ReleaseInfo:
        row = self._release_row(conn, release_id)
        return ReleaseInfo.from_row(row, self._level_counts(conn, release_id)[release_id])

    def _release_row(self, conn: Connection, release_id: int) -> Row[Any]:
        missing = NotFound(f"版本 {release_id} 不存在。", f"Release {release_id} does not exist.",
                           release_id=release_id)
        with translate_errors(not_found=missing):
            query = sa.select(*_INFO_COLUMNS).where(release_table.c.id == release_id)
            return conn.execute(query).one()

    def _level_counts(self, conn: Connection,
                      release_id: int | None = None) -> defaultdict[int, dict[str, int]]:
        """{release id: {level: units}} for one release, or all if ``release_id`` is None."""
        query = sa.select(unit_table.c.release_id, unit_table.c.level, sa.func.count()).group_by(
            unit_table.c.release_id, unit_table.c.level
        )
        if release_id is not None:
            query = query.where(unit_table.c.release_id == release_id)
        counts: defaultdict[int, dict[str, int]] = defaultdict(dict)
        for rid, level, count in conn.execute(query):
            counts[rid][level] = count
        return counts

    # ---- units -------------------------------------------------------------------------

    def units(
        self,
        release_id: int,
        *,
        level: str | None = None,
        parent_code: str | None = None,
        bbox: BBox | None = None,
        codes: list[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> gpd.GeoDataFrame:
        """Units of a release (EPSG:4490), streets first, then by code.

        Filters combine: ``level``, ``parent_code``, ``codes`` and ``bbox`` (minx, miny, maxx,
        maxy; units whose geometry intersects it). ``limit``/``offset`` page the result.
        """
        if (limit is not None and limit < 0) or offset < 0:
            raise InputError("limit 和 offset 不能为负。", "limit and offset cannot be negative.")
        bbox = None if bbox is None else _check_bbox(bbox)
        where = self._unit_filters(release_id, level, parent_code, bbox, codes)
        query = sa.select(*_UNIT_COLUMNS, self._geom_column()).where(*where)
        query = query.order_by(LEVEL_DEPTH, unit_table.c.code)
        # Without an exact test in SQL, candidates are tested here and paged afterwards.
        test_here = None if self.exact_bbox_in_sql else bbox
        if test_here is None:
            query = query.limit(limit).offset(offset)
        with self._read() as conn:
            self._release_row(conn, release_id)
            rows = conn.execute(query).all()
        frame = units_frame(rows)
        if test_here is not None:
            hits = np.flatnonzero(_intersects(frame.geometry.values, test_here))
            end = None if limit is None else offset + limit
            frame = frame.iloc[hits[offset:end]].reset_index(drop=True)
        return frame

    def count_units(
        self,
        release_id: int,
        *,
        level: str | None = None,
        parent_code: str | None = None,
        bbox: BBox | None = None,
    ) -> int:
        """How many units ``units`` returns with these filters and no paging."""
        bbox = None if bbox is None else _check_bbox(bbox)
        where = self._unit_filters(release_id, level, parent_code, bbox, None)
        with self._read() as conn:
            self._release_row(conn, release_id)
            if bbox is None or self.exact_bbox_in_sql:
                query = sa.select(sa.func.count()).select_from(unit_table).where(*where)
                return int(conn.execute(query).scalar_one())
            blobs = conn.execute(sa.select(self._geom_column()).where(*where)).scalars().all()
        geoms = shapely.from_wkb(np.array(blobs, dtype=object))
        return int(np.count_nonzero(_intersects(geoms, bbox)))

    def unit(self, release_id: int, code: str) -> gpd.GeoDataFrame:
        """The one unit with ``code`` in the release, as a one-row GeoDataFrame; else NotFound."""
        frame = self.units(release_id, codes=[code])
        if frame.empty:
            raise NotFound(f"版本 {release_id} 中没有编码为 {code} 的单元。",
                           f"Release {release_id} has no unit with code {code}.",
                           release_id=release_id, code=code)
        return frame

    def _unit_filters(self, release_id: int, level: str | None, parent_code: str | None,
                      bbox: BBox | None, codes: list[str] | None) -> list[sa.ColumnElement[bool]]:
        if bbox is None:
            where = [unit_table.c.release_id == release_id]
        else:
            where = [self._bbox_clause(release_id, bbox)]
        if level is not None:
            parsed = parse_level(level)
            if parsed is None:
                raise InputError(f"未知的层级：{level}。", f"Unknown level: {level}.", level=level)
            where.append(unit_table.c.level == parsed.value)
        if parent_code is not None:
            where.append(unit_table.c.parent_code == parent_code)
        if codes is not None:
            where.append(unit_table.c.code.in_(codes))
        return where


def _check_bbox(bbox: BBox) -> BBox:
    try:
        minx, miny, maxx, maxy = (float(value) for value in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError("bbox 必须是四个数：minx, miny, maxx, maxy。",
                         "bbox must be four numbers: minx, miny, maxx, maxy.") from exc
    if not (minx <= maxx and miny <= maxy and math.isfinite(minx + miny + maxx + maxy)):
        raise InputError("bbox 须为有限数，且最小值不大于最大值。",
                         "bbox values must be finite, each minimum not above its maximum.",
                         bbox=[minx, miny, maxx, maxy])
    return minx, miny, maxx, maxy


def bbox_geometry(bbox: BBox) -> shapely.Geometry:
    """The shape a bbox query tests against: a box, or a line or point if it is degenerate.

    Both backends test against this one shape (PostGIS mishandles a zero-area envelope polygon
    against polygons with holes).
    """
    minx, miny, maxx, maxy = bbox
    if minx == maxx and miny == maxy:
        return shapely.Point(minx, miny)
    if minx == maxx or miny == maxy:
        return shapely.LineString([(minx, miny), (maxx, maxy)])
    return shapely.box(minx, miny, maxx, maxy)


def _intersects(geoms: np.ndarray, bbox: BBox) -> np.ndarray:
    return shapely.intersects(geoms, bbox_geometry(bbox))


def _has_errors(release_id: int | None, error_count: int) -> Conflict:
    which = "该版本" if release_id is None else f"版本 {release_id}"
    which_en = "The release" if release_id is None else f"Release {release_id}"
    return Conflict(
        f"{which}有 {error_count} 个错误，不能设为当前版本；请先修正错误。",
        f"{which_en} has {error_count} error(s) and cannot be made current; fix them first.",
        release_id=release_id, error_count=error_count,
    )
