"""Households in the store: the register (locations apart from personal data), assignments per
release, the moves between releases, counts per unit and the review queue.

Counts per unit are kept per store, keyed by the "households" revision: every write here that
changes which households are in which unit, or their sizes, bumps it in its own transaction, so
a count kept by any process is reused only while it is exact.

A mixin of :class:`wangge.store.store.Store`: the same engine, transactions and error translation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from wangge.geo.levels import ORDER, Level
from wangge.store.frames import rows_frame
from wangge.store.revisions import HOUSEHOLDS, bump_revision, read_revision
from wangge.store.schema import assignment_moves as moves_table
from wangge.store.schema import assignments as assignment_table
from wangge.store.schema import household_personal as personal_table
from wangge.store.schema import households as household_table

_HOUSEHOLD_FIELDS = ["address", "given_lon", "given_lat", "given_crs", "building_ref", "size",
                     "lon", "lat", "located_by", "match_level", "match_score", "matched_id", "flags"]
ASSIGNMENT_FIELDS = ["microgrid", "grid", "community", "street", "status", "nearest_code",
                     "nearest_m"]
_BATCH = 5_000
_IN_BATCH = 900  # ids per ``IN (…)`` list: under SQLite's 999 bound parameters
_COUNT_COLUMNS = ["level", "code", "households", "residents"]


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts with plain Python values (NaN and NA become None)."""
    out = frame[columns].astype(object).where(frame[columns].notna(), None)
    rows = out.to_dict("records")
    for row in rows:
        for k, v in row.items():
            if isinstance(v, np.generic):
                row[k] = v.item()
    return rows


def _chunks(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), _BATCH):
        yield rows[i:i + _BATCH]


class UnitCountsMemo:
    """Counts per unit already computed, by ``(release_id, households revision)``; the newest
    few are kept (one per release). Thread-safe; ``computing`` lets one thread compute a count
    while the others that need it wait for it instead of scanning too."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.computing = threading.Lock()
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, int], pd.DataFrame] = OrderedDict()

    def get(self, key: tuple[int, int]) -> pd.DataFrame | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[int, int], frame: pd.DataFrame) -> None:
        """Keep ``frame`` for ``key``, dropping the release's older revisions and the oldest."""
        with self._lock:
            for old in [k for k in self._entries if k[0] == key[0]]:
                del self._entries[old]
            self._entries[key] = frame
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def _count_units(conn: Connection, release_id: int) -> pd.DataFrame:
    """Households and residents per unit code at every level, from one scan of the release's
    assignments grouped by all four levels and rolled up per level. A household whose code at
    a level is NULL counts at none of that level's units; a NULL size adds no residents."""
    a, h = assignment_table.c, household_table.c
    levels = [level.value for level in ORDER]
    rows = conn.execute(
        sa.select(*(a[name] for name in levels), sa.func.count(),
                  sa.func.coalesce(sa.func.sum(h.size), 0))
        .select_from(assignment_table.join(household_table, h.id == a.household_id))
        .where(a.release_id == release_id)
        .group_by(*(a[name] for name in levels))).all()
    groups = rows_frame(rows, [*levels, "households", "residents"])
    groups[["households", "residents"]] = groups[["households", "residents"]].astype("int64")
    frames = []
    for name in levels:
        per = groups.groupby(name, sort=True)[["households", "residents"]].sum().reset_index()
        frames.append(per.rename(columns={name: "code"}).assign(level=name)[_COUNT_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    return out.astype({"level": object, "code": object, "households": "int64",
                       "residents": "int64"})


def _move_rows(before: pd.DataFrame, table: pd.DataFrame, release_id: int,
               compare_to: int) -> list[dict[str, Any]]:
    """Rows of ``assignment_moves``: households whose micro-grid or grid differs between
    ``before`` (their assignment in ``compare_to``) and ``table`` (in ``release_id``)."""
    after = table[["household_id", "microgrid", "grid"]]
    both = before.merge(after, on="household_id", suffixes=("_from", "_to"))
    changed = both[(both["microgrid_from"].fillna("") != both["microgrid_to"].fillna(""))
                   | (both["grid_from"].fillna("") != both["grid_to"].fillna(""))]
    return [{"to_release_id": release_id, "from_release_id": compare_to,
             "household_id": r["household_id"],
             "from_microgrid": r["microgrid_from"], "to_microgrid": r["microgrid_to"],
             "from_grid": r["grid_from"], "to_grid": r["grid_to"]}
            for r in _records(changed, list(changed.columns))]


class HouseholdsMixin:
    """Household methods of the store; ``_read``/``_write`` come from :class:`wangge.store.store.Store`."""

    _read: Any
    _write: Any
    _unit_counts_memo: UnitCountsMemo

    # ---- the register ---------------------------------------------------------------------
    def upsert_households(self, located: pd.DataFrame, personal: pd.DataFrame, *,
                          source: str) -> dict[str, int]:
        """Insert new households and update known ones (by ``external_id``), in one transaction.

        ``located`` has ``external_id`` and the household columns; ``personal`` has
        ``external_id, name, phone, id_number`` for the rows that carry any. A re-import
        replaces the personal data of the households it names: the register is the source.
        """
        now = datetime.now(UTC)
        rows = _records(located, ["external_id", *_HOUSEHOLD_FIELDS])
        for row in rows:
            row.update(source=source, updated_at=now)
        named = [r["external_id"] for r in rows]
        with self._write() as conn:
            ids = self._household_ids(conn, named)
            new = [r for r in rows if r["external_id"] not in ids]
            old = [{**r, "hid": ids[r["external_id"]]} for r in rows if r["external_id"] in ids]
            for chunk in _chunks(new):
                conn.execute(household_table.insert(), chunk)
            update = household_table.update().where(household_table.c.id == sa.bindparam("hid"))
            for chunk in _chunks(old):
                conn.execute(update.values({c: sa.bindparam(c) for c in
                                            [*_HOUSEHOLD_FIELDS, "source", "updated_at"]}), chunk)
            ids = self._household_ids(conn, named)
            touched = [ids[r["external_id"]] for r in rows]
            for i in range(0, len(touched), _BATCH):
                conn.execute(personal_table.delete().where(
                    personal_table.c.household_id.in_(touched[i:i + _BATCH])))
            people = _records(personal, ["external_id", "name", "phone", "id_number"])
            people = [{"household_id": ids[p.pop("external_id")], **p} for p in people
                      if p["external_id"] in ids]
            for chunk in _chunks(people):
                conn.execute(personal_table.insert(), chunk)
            bump_revision(conn, HOUSEHOLDS)
        return {"inserted": len(new), "updated": len(old)}

    @staticmethod
    def _household_ids(conn: Connection, external_ids: list[str] | None = None) -> dict[str, int]:
        """External id -> household id, for ``external_ids`` (all households when None)."""
        h = household_table.c
        if external_ids is None:
            return {ext: hid for ext, hid in conn.execute(sa.select(h.external_id, h.id))}
        out: dict[str, int] = {}
        for i in range(0, len(external_ids), _IN_BATCH):
            part = external_ids[i:i + _IN_BATCH]
            out.update(conn.execute(sa.select(h.external_id, h.id)
                                    .where(h.external_id.in_(part))).all())
        return out

    def household_ids(self, external_ids: list[str]) -> dict[str, int]:
        """External id -> household id for those of ``external_ids`` that are stored."""
        with self._read() as conn:
            return self._household_ids(conn, list(external_ids))

    def stored_households(self, external_ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The stored rows of the named households (those that exist), as ``upsert_households``
        takes them: location columns (``id, external_id`` and the household fields) and
        personal fields (``external_id, name, phone, id_number``, a row per household that has
        any). For comparing a re-import with what is stored; the personal frame stays in memory
        and is never logged."""
        h, p = household_table.c, personal_table.c
        cols = [h.id, h.external_id, *(h[c] for c in _HOUSEHOLD_FIELDS)]
        located: list[Any] = []
        people: list[Any] = []
        ids = list(dict.fromkeys(external_ids))
        with self._read() as conn:
            for i in range(0, len(ids), _IN_BATCH):
                part = ids[i:i + _IN_BATCH]
                located += conn.execute(sa.select(*cols).where(h.external_id.in_(part))).all()
                people += conn.execute(
                    sa.select(h.external_id, p.name, p.phone, p.id_number)
                    .select_from(personal_table.join(household_table, h.id == p.household_id))
                    .where(h.external_id.in_(part))).all()
        return (rows_frame(located, ["id", "external_id", *_HOUSEHOLD_FIELDS]),
                rows_frame(people, ["external_id", "name", "phone", "id_number"], dtype=object))

    def households(self) -> pd.DataFrame:
        """Every household's location data (no personal fields)."""
        cols = [household_table.c.id, household_table.c.external_id,
                *(household_table.c[c] for c in _HOUSEHOLD_FIELDS)]
        with self._read() as conn:
            rows = conn.execute(sa.select(*cols).order_by(household_table.c.id)).all()
        return rows_frame(rows, ["id", "external_id", *_HOUSEHOLD_FIELDS])

    def household_count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(household_table))
                       .scalar_one())

    # ---- assignments ----------------------------------------------------------------------
    def save_assignments(self, release_id: int, table: pd.DataFrame, *,
                         compare_to: int | None = None) -> dict[str, int]:
        """Replace the release's assignments; with ``compare_to``, store who moved, atomically.

        ``table``: ``household_id`` and :data:`ASSIGNMENT_FIELDS`.
        """
        rows = _records(table, ["household_id", *ASSIGNMENT_FIELDS])
        for row in rows:
            row["release_id"] = release_id
        with self._write() as conn:
            conn.execute(assignment_table.delete().where(
                assignment_table.c.release_id == release_id))
            conn.execute(moves_table.delete().where(moves_table.c.to_release_id == release_id))
            for chunk in _chunks(rows):
                conn.execute(assignment_table.insert(), chunk)
            moved = 0
            if compare_to is not None:
                before = self._assignment_frame(conn, compare_to)
                move_rows = _move_rows(before, table, release_id, compare_to)
                for chunk in _chunks(move_rows):
                    conn.execute(moves_table.insert(), chunk)
                moved = len(move_rows)
            bump_revision(conn, HOUSEHOLDS)
        return {"assigned": len(rows), "moved": moved}

    def save_assignments_of(self, release_id: int, table: pd.DataFrame, *,
                            compare_to: int | None = None) -> dict[str, int]:
        """Replace the assignments of the households in ``table`` only (the rest of the
        release's assignments stay as they are); with ``compare_to``, their moves against that
        release are stored again, as :meth:`save_assignments` stores everyone's. Atomic.

        ``table``: ``household_id`` and :data:`ASSIGNMENT_FIELDS`.
        """
        rows = _records(table, ["household_id", *ASSIGNMENT_FIELDS])
        for row in rows:
            row["release_id"] = release_id
        hids = [int(h) for h in table["household_id"]]
        a, m = assignment_table.c, moves_table.c
        moved = 0
        with self._write() as conn:
            for i in range(0, len(hids), _IN_BATCH):
                part = hids[i:i + _IN_BATCH]
                conn.execute(assignment_table.delete().where(a.release_id == release_id,
                                                             a.household_id.in_(part)))
                conn.execute(moves_table.delete().where(m.to_release_id == release_id,
                                                        m.household_id.in_(part)))
            for chunk in _chunks(rows):
                conn.execute(assignment_table.insert(), chunk)
            if compare_to is not None:
                before = self._assignment_frame(conn, compare_to, hids)
                move_rows = _move_rows(before, table, release_id, compare_to)
                for chunk in _chunks(move_rows):
                    conn.execute(moves_table.insert(), chunk)
                moved = len(move_rows)
            bump_revision(conn, HOUSEHOLDS)
        return {"assigned": len(rows), "moved": moved}

    def has_assignments(self, release_id: int) -> bool:
        """Whether households have been assigned to the release."""
        a = assignment_table.c
        with self._read() as conn:
            return conn.execute(sa.select(a.household_id).where(a.release_id == release_id)
                                .limit(1)).first() is not None

    @staticmethod
    def _assignment_frame(conn: Connection, release_id: int,
                          household_ids: list[int] | None = None) -> pd.DataFrame:
        """Micro-grid and grid of the households (all when ``household_ids`` is None)."""
        a = assignment_table.c
        query = sa.select(a.household_id, a.microgrid, a.grid).where(a.release_id == release_id)
        if household_ids is None:
            rows = conn.execute(query).all()
        else:
            rows = []
            for i in range(0, len(household_ids), _IN_BATCH):
                rows += conn.execute(query.where(
                    a.household_id.in_(household_ids[i:i + _IN_BATCH]))).all()
        return rows_frame(rows, ["household_id", "microgrid", "grid"])

    def located_households(self, release_id: int) -> pd.DataFrame:
        """Households with a location and their units in a release (for coverage): columns
        ``household_id, external_id, size, lon, lat, microgrid, grid, community, street``."""
        h, a = household_table.c, assignment_table.c
        query = (sa.select(h.id, h.external_id, h.size, h.lon, h.lat, a.microgrid, a.grid,
                           a.community, a.street)
                 .select_from(household_table.outerjoin(
                     assignment_table, (a.household_id == h.id) & (a.release_id == release_id)))
                 .where(h.lon.is_not(None), h.lat.is_not(None)).order_by(h.id))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return rows_frame(rows, ["household_id", "external_id", "size", "lon", "lat",
                                 "microgrid", "grid", "community", "street"])

    def household_points(self) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                        NDArray[np.float64]]:
        """Lon, lat and size (NaN when not known) of the households with a location, in the
        order of :meth:`located_households`: what a plan needs, without their units."""
        h = household_table.c
        with self._read() as conn:
            rows = conn.execute(sa.select(h.lon, h.lat, h.size)
                                .where(h.lon.is_not(None), h.lat.is_not(None))
                                .order_by(h.id)).all()
        if not rows:
            return np.empty(0), np.empty(0), np.empty(0)
        lon, lat, size = zip(*rows, strict=True)
        return (np.asarray(lon, dtype=float), np.asarray(lat, dtype=float),
                np.asarray([np.nan if s is None else s for s in size], dtype=float))

    def assigned_releases(self) -> list[int]:
        with self._read() as conn:
            return [r for (r,) in conn.execute(
                sa.select(assignment_table.c.release_id).distinct()
                .order_by(assignment_table.c.release_id))]

    def unit_counts(self, release_id: int) -> pd.DataFrame:
        """Households and residents per unit code at every level (found households only):
        columns ``level, code, households, residents``, levels in order, codes sorted.

        Computed once per release and households revision, then reused while no write (from
        this process or another) has changed the households or their assignments. The caller
        gets its own copy.
        """
        memo = self._unit_counts_memo
        with self._read() as conn:
            found = memo.get((release_id, read_revision(conn, HOUSEHOLDS)))
        if found is None:
            with memo.computing, self._read() as conn:
                # Read first: the scan below then sees this revision's writes or later ones.
                key = (release_id, read_revision(conn, HOUSEHOLDS))
                found = memo.get(key)
                if found is None:
                    found = _count_units(conn, release_id)
                    memo.put(key, found)
        return found.copy()

    def households_of(self, release_id: int, code: str, level: Level, *, personal: bool = False,
                      limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """Households assigned to a unit; personal fields only when ``personal`` (entitled)."""
        a, h, p = assignment_table.c, household_table.c, personal_table.c
        cols: list[Any] = [h.external_id, h.address, h.size, h.lon, h.lat, h.located_by,
                           h.match_level, h.match_score, a.microgrid, a.grid]
        source = assignment_table.join(household_table, h.id == a.household_id)
        if personal:
            cols += [p.name, p.phone, p.id_number]
            source = source.outerjoin(personal_table, p.household_id == h.id)
        query = (sa.select(*cols).select_from(source)
                 .where(a.release_id == release_id, a[level.value] == code)
                 .order_by(h.external_id).limit(limit).offset(offset))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return rows_frame(rows, [c.name for c in cols], dtype=object)

    def moves(self, release_id: int) -> pd.DataFrame:
        """Households whose micro-grid or grid changed when ``release_id`` was assigned."""
        m, h = moves_table.c, household_table.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(h.external_id, m.from_release_id, m.from_microgrid, m.to_microgrid,
                          m.from_grid, m.to_grid)
                .select_from(moves_table.join(household_table, h.id == m.household_id))
                .where(m.to_release_id == release_id).order_by(h.external_id)).all()
        return rows_frame(rows, ["external_id", "from_release_id", "from_microgrid",
                                 "to_microgrid", "from_grid", "to_grid"], dtype=object)
