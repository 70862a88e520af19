"""The boundary store: releases of boundary units, one class over SQLite and PostGIS.

Subclasses in ``store/backends.py`` override only what differs per backend: how the engine is
made, how geometries are bound and read, the bounding-box filter and its spatial index, and how
writers are serialised.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
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
from wangge.store.households import HouseholdsMixin, UnitCountsMemo
from wangge.store.migrate import upgrade
from wangge.store.networks import NetworksMixin
from wangge.store.plans import PlansMixin
from wangge.store.release_info import ReleaseInfo, china_date
from wangge.store.review import ReviewMixin
from wangge.store.revisions import RevisionsMixin
from wangge.store.schema import LEVEL_DEPTH
from wangge.store.schema import releases as release_table
from wangge.store.schema import units as unit_table
from wangge.store.sites import SitesMixin
from wangge.store.users import UsersMixin
from wangge.store.workers import WorkersMixin

BBox = tuple[float, float, float, float]

def _utc_now() -> datetime:
    return datetime.now(UTC)


_INFO_COLUMNS = [column for column in release_table.c if column.name != "report"]
_UNIT_COLUMNS = [unit_table.c.code, unit_table.c.name, unit_table.c.level, unit_table.c.parent_code,
                 unit_table.c.attrs, unit_table.c.area_m2]


class KeptReleases:
    """The units of the last few whole releases read, by id (a release's units are only ever
    inserted with it, so what was read stays true); thread-safe."""

    def __init__(self, size: int = 3) -> None:
        self.size = size
        self._frames: OrderedDict[int, gpd.GeoDataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, release_id: int) -> gpd.GeoDataFrame | None:
        with self._lock:
            frame = self._frames.get(release_id)
            if frame is not None:
                self._frames.move_to_end(release_id)
            return frame

    def put(self, release_id: int, frame: gpd.GeoDataFrame) -> None:
        with self._lock:
            self._frames[release_id] = frame
            while len(self._frames) > self.size:
                self._frames.popitem(last=False)


class Store(HouseholdsMixin, GazetteerMixin, AccessMixin, WorkersMixin, SitesMixin,
            NetworksMixin, PlansMixin, ReviewMixin, RevisionsMixin, UsersMixin):
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
        # The clock releases come into force by (aware datetimes); tests set their own.
        self.clock: Callable[[], datetime] = _utc_now
        # Counts per unit by release and households revision (see ``unit_counts``).
        self._unit_counts_memo = UnitCountsMemo()
        self._whole_releases = KeptReleases()

    def today(self) -> date:
        """Today in China by the store's clock: the day the release in force is chosen for."""
        return china_date(self.clock())

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
    #
    # A release is a draft until it is published (``published_at`` set). Publishing gives it an
    # effective date, a China calendar day: on or before today it is in force at once; after
    # today it is *scheduled* and comes into force when that day begins in China (00:00 UTC+8),
    # with no restart and no operator action.
    #
    # ``is_current`` marks the release in force today. A publication sets it; the arrival of a
    # scheduled release's day switches it lazily: whatever reads the current release
    # (``current_release_id``, polled by every service worker, ``release``, ``releases``, …)
    # first checks whether a release has come due since the current one came into force and, if
    # so, switches ``is_current`` under the writer lock, once, whichever process sees it first.
    # The check is one small query; the write happens once per scheduled release.
    #
    # Which release is in force on a day (``_in_force``): the current release came into force on
    # ``since`` = the later of its effective date and the China day it was last published. From
    # ``since`` on it stays in force until a release dated after ``since`` reaches its date (the
    # latest such: greatest effective date, then last published). Before ``since`` the planned
    # timeline answers: the published release with the greatest effective date not after the
    # day, ties to the one published last. Publishing again a release that has been in force
    # (a roll back) thus puts it in force from today without moving any effective date, so past
    # days keep their answers; only its ``published_at`` becomes now (the last publication). One
    # row per release cannot remember a roll back once another release replaces it: days within
    # it then answer with the planned release.

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
        China. ``make_current`` publishes the release in the same transaction (see
        :meth:`make_current`: in force now, or scheduled if its date is after today); it is
        refused when ``error_count`` > 0.
        """
        check_units_frame(units)
        if not isinstance(source, str) or not source.strip():
            raise InputError("必须说明数据来源。", "A source must be given.")
        if error_count < 0 or warning_count < 0:
            raise InputError("错误和警告数不能为负。", "Error and warning counts cannot be negative.")
        if make_current and error_count > 0:
            raise _has_errors(None, error_count)
        now = self.clock()
        values = {
            "source": source, "note": note, "created_at": now,
            "effective_date": effective_date or china_date(now),
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
            return self._info(conn, release_id, china_date(now))

    def releases(self) -> list[ReleaseInfo]:
        """Every release, newest first."""
        today = self.today()
        self._settle(today)
        with self._read() as conn:
            rows = conn.execute(sa.select(*_INFO_COLUMNS).order_by(release_table.c.id.desc())).all()
            counts = self._level_counts(conn)
        return [ReleaseInfo.from_row(row, counts[row.id], today) for row in rows]

    def release(self, release_id: int) -> ReleaseInfo:
        """One release; NotFound if there is none with this id."""
        today = self.today()
        self._settle(today)
        with self._read() as conn:
            return self._info(conn, release_id, today)

    def current_release_id(self) -> int | None:
        """The id of the release in force today: one small query, polled by every service worker.

        When a scheduled release has come due it also switches ``is_current`` (once).
        """
        return self._settle(self.today())

    def current_release(self) -> ReleaseInfo | None:
        """The release in force now, if one has been published and its day has come."""
        today = self.today()
        release_id = self._settle(today)
        if release_id is None:
            return None
        with self._read() as conn:
            return self._info(conn, release_id, today)

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
        """The release in force on ``day`` (a China date: past, today or future), or None.

        A future day answers with the release scheduled by then. Drafts are never in force.
        """
        today = self.today()
        self._settle(today)
        with self._read() as conn:
            found = _in_force(self._published(conn), day)
            return None if found is None else self._info(conn, found.id, today)

    def release_in_force(self, day: date, **detail: Any) -> ReleaseInfo:
        """:meth:`release_on`, or NotFound saying why there is none on ``day``.

        Nothing is published yet, or ``day`` is before the earliest effective date (named).
        ``detail`` is added to the error's detail (the parameter as the caller received it).
        """
        found = self.release_on(day)
        if found is not None:
            return found
        with self._read() as conn:
            query = sa.select(sa.func.min(release_table.c.effective_date)).where(
                release_table.c.published_at.is_not(None))
            first = conn.execute(query).scalar()
        if first is None:
            raise NotFound(f"还没有发布任何版本，{day.isoformat()} 没有生效的版本。",
                           f"No release has been published yet: none is in force on "
                           f"{day.isoformat()}.", day=day.isoformat(), **detail)
        raise NotFound(f"{day.isoformat()} 时没有生效的版本：最早发布的版本自 {first.isoformat()} 起生效。",
                       f"No release is in force on {day.isoformat()}: the earliest published one "
                       f"takes effect on {first.isoformat()}.",
                       day=day.isoformat(), first_effective_date=first.isoformat(), **detail)

    def make_current(self, release_id: int, effective_date: date | None = None) -> ReleaseInfo:
        """Publish a release, atomically: in force now, or scheduled for its effective date.

        ``effective_date`` is a China date and defaults to the release's own. A draft or a
        scheduled release takes the date given: on or before today it becomes the current release
        at once; after today it is scheduled (published, not in force) and comes into force when
        that day begins, the current release staying in force until then. A release that has
        already been in force keeps its date, so history does not move: published again without
        a date (or with its own or today's) it is back in force from today, a roll back; any
        other date is refused with Conflict. Publishing the release in force changes nothing.
        Refused with Conflict while the release has validation errors.
        """
        with self._write() as conn:
            now = self.clock()
            self._make_current(conn, release_id, now, effective_date)
            return self._info(conn, release_id, china_date(now))

    def report(self, release_id: int) -> dict[str, Any] | None:
        """The validation report stored with the release, as it was given."""
        with self._read() as conn:
            self._release_row(conn, release_id)
            query = sa.select(release_table.c.report).where(release_table.c.id == release_id)
            return conn.execute(query).scalar_one()

    def _make_current(self, conn: Connection, release_id: int, now: datetime,
                      effective_date: date | None = None) -> None:
        self._lock(conn)
        row = self._release_row(conn, release_id)
        if row.error_count > 0:
            raise _has_errors(release_id, row.error_count)
        today = china_date(now)
        if row.published_at is not None and row.effective_date <= today:  # has been in force
            if effective_date not in (None, row.effective_date, today):
                raise _was_in_force(release_id, row.effective_date, effective_date)
            day = row.effective_date
        else:
            day = effective_date or row.effective_date
        in_force = _current(self._published(conn, today), today)
        if in_force is not None and in_force.id == release_id:
            self._set_current(conn, release_id)  # keeps the time it was published
        elif day <= today:
            self._set_current(conn, release_id, effective_date=day, published_at=now)
        else:
            conn.execute(sa.update(release_table).where(release_table.c.id == release_id)
                         .values(effective_date=day, published_at=now))

    def _set_current(self, conn: Connection, release_id: int, **values: Any) -> None:
        others = release_table.c.is_current & (release_table.c.id != release_id)
        conn.execute(sa.update(release_table).where(others).values(is_current=False))
        conn.execute(sa.update(release_table).where(release_table.c.id == release_id)
                     .values(is_current=True, **values))

    def _settle(self, today: date) -> int | None:
        """The id of the release in force ``today``, switching ``is_current`` to it if its day
        has come since the last check (under the writer lock, re-checked there)."""
        with self._read() as conn:
            rows = self._published(conn, today)
        in_force = _current(rows, today)
        marked = next((row.id for row in rows if row.is_current), None)
        if in_force is None or in_force.id == marked:
            return marked
        with self._write() as conn:
            self._lock(conn)
            in_force = _current(self._published(conn, today), today)
            if in_force is not None:
                self._set_current(conn, in_force.id)
        return None if in_force is None else in_force.id

    def _published(self, conn: Connection, today: date | None = None) -> list[Row[Any]]:
        """Published releases as (id, effective_date, published_at, is_current) rows.

        With ``today``, only those that can be in force today: the current one, and those dated
        after it and not after today (usually none).
        """
        r = release_table.c
        query = sa.select(r.id, r.effective_date, r.published_at, r.is_current).where(
            r.published_at.is_not(None))
        if today is not None:
            current = release_table.alias("current_release")
            current_date = sa.select(current.c.effective_date).where(
                current.c.is_current).scalar_subquery()
            query = query.where(r.is_current | (
                (r.effective_date <= today)
                & (current_date.is_(None) | (r.effective_date > current_date))))
        return list(conn.execute(query))

    def _info(self, conn: Connection, release_id: int, today: date) -> ReleaseInfo:
        row = self._release_row(conn, release_id)
        return ReleaseInfo.from_row(row, self._level_counts(conn, release_id)[release_id], today)

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
        name: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> gpd.GeoDataFrame:
        """Units of a release (EPSG:4490), streets first, then by code.

        Filters combine: ``level``, ``parent_code``, ``codes``, ``name`` (equal) and ``bbox``
        (minx, miny, maxx, maxy; units whose geometry intersects it). ``limit``/``offset`` page
        the result.
        """
        if (limit is not None and limit < 0) or offset < 0:
            raise InputError("limit 和 offset 不能为负。", "limit and offset cannot be negative.")
        whole = (level, parent_code, bbox, codes, name, limit, offset) == (None,) * 6 + (0,)
        if whole:  # a release never changes once stored: its units are read once per process
            kept = self._whole_releases.get(release_id)
            if kept is not None:
                return kept.copy()
        bbox = None if bbox is None else _check_bbox(bbox)
        where = self._unit_filters(release_id, level, parent_code, bbox, codes, name)
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
        if whole:
            self._whole_releases.put(release_id, frame.copy())
        return frame

    def count_units(
        self,
        release_id: int,
        *,
        level: str | None = None,
        parent_code: str | None = None,
        bbox: BBox | None = None,
        codes: list[str] | None = None,
        name: str | None = None,
    ) -> int:
        """How many units ``units`` returns with these filters and no paging."""
        bbox = None if bbox is None else _check_bbox(bbox)
        where = self._unit_filters(release_id, level, parent_code, bbox, codes, name)
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
                      bbox: BBox | None, codes: list[str] | None,
                      name: str | None = None) -> list[sa.ColumnElement[bool]]:
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
        if name is not None:
            where.append(unit_table.c.name == name)
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
        f"{which}有 {error_count} 个错误，不能发布（设为当前版本或定时生效）；请先修正错误。",
        f"{which_en} has {error_count} error(s) and cannot be published (made current or "
        "scheduled); fix them first.",
        release_id=release_id, error_count=error_count,
    )


def _was_in_force(release_id: int, effective: date, asked: date) -> Conflict:
    return Conflict(
        f"版本 {release_id} 自 {effective.isoformat()} 起生效过，生效日期不能改为 {asked.isoformat()}；"
        "不带日期发布即可让它从今天起重新生效。",
        f"Release {release_id} has been in force from {effective.isoformat()}; its effective date "
        f"cannot become {asked.isoformat()}. Publish it without a date to put it back in force "
        "from today.",
        release_id=release_id, effective_date=effective.isoformat(), asked=asked.isoformat(),
    )


def _since(current: Row[Any]) -> date:
    """The China day the current release came into force: its effective date, or the day it was
    last published if that is later (a roll back, a back-dated publication)."""
    return max(current.effective_date, china_date(current.published_at))


def _latest(rows: Iterable[Row[Any]]) -> Row[Any] | None:
    return max(rows, key=lambda row: (row.effective_date, row.published_at, row.id), default=None)


def _in_force(rows: list[Row[Any]], day: date) -> Row[Any] | None:
    """Of published ``rows`` (see ``Store._published``), the one in force on ``day``; the rule is
    described at the head of the releases section of :class:`Store`."""
    current = next((row for row in rows if row.is_current), None)
    if current is not None and day >= (since := _since(current)):
        later = _latest(row for row in rows if since < row.effective_date <= day)
        return current if later is None else later
    return _latest(row for row in rows if row.effective_date <= day)


def _current(rows: list[Row[Any]], today: date) -> Row[Any] | None:
    """The one in force today. A clock behind the current release's day (set back) keeps it."""
    current = next((row for row in rows if row.is_current), None)
    return _in_force(rows, today if current is None else max(today, _since(current)))
