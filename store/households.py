"""Households in the store: the register (locations apart from personal data), assignments per
release, the moves between releases, counts per unit and the review queue.

A mixin of :class:`wangge.store.store.Store`: the same engine, transactions and error translation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wangge.geo.levels import ORDER, Level
from wangge.store.schema import assignment_moves as moves_table
from wangge.store.schema import assignments as assignment_table
from wangge.store.schema import household_personal as personal_table
from wangge.store.schema import households as household_table

_HOUSEHOLD_FIELDS = ["address", "given_lon", "given_lat", "given_crs", "building_ref", "size",
                     "lon", "lat", "located_by", "match_level", "match_score", "matched_id", "flags"]
ASSIGNMENT_FIELDS = ["microgrid", "grid", "community", "street", "status", "nearest_code",
                     "nearest_m"]
_BATCH = 5_000


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


class HouseholdsMixin:
    """Household methods of the store; ``_read``/``_write`` come from :class:`wangge.store.store.Store`."""

    _read: Any
    _write: Any

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
        with self._write() as conn:
            ids = self._household_ids(conn)
            new = [r for r in rows if r["external_id"] not in ids]
            old = [{**r, "hid": ids[r["external_id"]]} for r in rows if r["external_id"] in ids]
            for chunk in _chunks(new):
                conn.execute(household_table.insert(), chunk)
            update = household_table.update().where(household_table.c.id == sa.bindparam("hid"))
            for chunk in _chunks(old):
                conn.execute(update.values({c: sa.bindparam(c) for c in
                                            [*_HOUSEHOLD_FIELDS, "source", "updated_at"]}), chunk)
            ids = self._household_ids(conn)
            touched = [ids[r["external_id"]] for r in rows]
            for i in range(0, len(touched), _BATCH):
                conn.execute(personal_table.delete().where(
                    personal_table.c.household_id.in_(touched[i:i + _BATCH])))
            people = _records(personal, ["external_id", "name", "phone", "id_number"])
            people = [{"household_id": ids[p.pop("external_id")], **p} for p in people
                      if p["external_id"] in ids]
            for chunk in _chunks(people):
                conn.execute(personal_table.insert(), chunk)
        return {"inserted": len(new), "updated": len(old)}

    @staticmethod
    def _household_ids(conn: Connection) -> dict[str, int]:
        rows = conn.execute(sa.select(household_table.c.external_id, household_table.c.id))
        return {ext: hid for ext, hid in rows}

    def households(self) -> pd.DataFrame:
        """Every household's location data (no personal fields)."""
        cols = [household_table.c.id, household_table.c.external_id,
                *(household_table.c[c] for c in _HOUSEHOLD_FIELDS)]
        with self._read() as conn:
            rows = conn.execute(sa.select(*cols).order_by(household_table.c.id)).all()
        return pd.DataFrame(rows, columns=["id", "external_id", *_HOUSEHOLD_FIELDS])

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
                after = table[["household_id", "microgrid", "grid"]]
                both = before.merge(after, on="household_id", suffixes=("_from", "_to"))
                changed = both[(both["microgrid_from"].fillna("") != both["microgrid_to"].fillna(""))
                               | (both["grid_from"].fillna("") != both["grid_to"].fillna(""))]
                move_rows = [{"to_release_id": release_id, "from_release_id": compare_to,
                              "household_id": r["household_id"],
                              "from_microgrid": r["microgrid_from"], "to_microgrid": r["microgrid_to"],
                              "from_grid": r["grid_from"], "to_grid": r["grid_to"]}
                             for r in _records(changed, list(changed.columns))]
                for chunk in _chunks(move_rows):
                    conn.execute(moves_table.insert(), chunk)
                moved = len(move_rows)
        return {"assigned": len(rows), "moved": moved}

    @staticmethod
    def _assignment_frame(conn: Connection, release_id: int) -> pd.DataFrame:
        a = assignment_table.c
        rows = conn.execute(sa.select(a.household_id, a.microgrid, a.grid)
                            .where(a.release_id == release_id)).all()
        return pd.DataFrame(rows, columns=["household_id", "microgrid", "grid"])

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
        return pd.DataFrame(rows, columns=["household_id", "external_id", "size", "lon", "lat",
                                           "microgrid", "grid", "community", "street"])

    def assigned_releases(self) -> list[int]:
        with self._read() as conn:
            return [r for (r,) in conn.execute(
                sa.select(assignment_table.c.release_id).distinct()
                .order_by(assignment_table.c.release_id))]

    def unit_counts(self, release_id: int) -> pd.DataFrame:
        """Households and residents per unit code at every level (found households only)."""
        a, h = assignment_table.c, household_table.c
        frames = []
        with self._read() as conn:
            for level in ORDER:
                col = a[level.value]
                rows = conn.execute(
                    sa.select(col, sa.func.count(), sa.func.coalesce(sa.func.sum(h.size), 0))
                    .select_from(assignment_table.join(household_table, h.id == a.household_id))
                    .where(a.release_id == release_id, col.is_not(None))
                    .group_by(col)).all()
                frames.append(pd.DataFrame(
                    [(level.value, code, n, int(people)) for code, n, people in rows],
                    columns=["level", "code", "households", "residents"]))
        return pd.concat(frames, ignore_index=True)

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
        return pd.DataFrame(rows, columns=[c.name for c in cols], dtype=object)

    def review_queue(self, release_id: int, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """Households that need a person: not located, outside every unit, or flagged."""
        a, h = assignment_table.c, household_table.c
        query = (sa.select(h.external_id, h.address, a.status, h.flags, h.match_level,
                           h.match_score, a.nearest_code, a.nearest_m, h.lon, h.lat)
                 .select_from(assignment_table.join(household_table, h.id == a.household_id))
                 .where(a.release_id == release_id,
                        sa.or_(a.status != "found", h.flags.is_not(None)))
                 .order_by(a.status, h.external_id).limit(limit).offset(offset))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(rows, columns=["external_id", "address", "status", "flags",
                                           "match_level", "match_score", "nearest_code",
                                           "nearest_m", "lon", "lat"], dtype=object)

    def moves(self, release_id: int) -> pd.DataFrame:
        """Households whose micro-grid or grid changed when ``release_id`` was assigned."""
        m, h = moves_table.c, household_table.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(h.external_id, m.from_release_id, m.from_microgrid, m.to_microgrid,
                          m.from_grid, m.to_grid)
                .select_from(moves_table.join(household_table, h.id == m.household_id))
                .where(m.to_release_id == release_id).order_by(h.external_id)).all()
        return pd.DataFrame(rows, columns=["external_id", "from_release_id", "from_microgrid",
                                           "to_microgrid", "from_grid", "to_grid"], dtype=object)
