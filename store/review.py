"""The review queue as a worklist, and the decisions people make on it.

A mixin of :class:`wangge.store.store.Store`: the same engine, transactions and error translation.
The queue of a release is every household that is not located, lies outside every unit, or
carries a flag (see :mod:`wangge.review` for the reasons and what they mean). Filters combine
in SQL, so a page is one query whatever the size of the register:

- ``reasons``: a status (``unlocated``, ``outside``) or a flag code; any of them;
- ``unit``: households assigned to a unit (any level), and those outside every unit whose
  nearest micro-grid lies under it (``nearest_codes``, worked out by the caller);
- ``source``: the import (file name) the household came from;
- ``min_score`` / ``max_score``: the address match's score (households without one drop out).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import shapely
import sqlalchemy as sa

from wangge.geo.errors import NotFound
from wangge.geo.levels import Level
from wangge.store.frames import rows_frame
from wangge.store.revisions import HOUSEHOLDS, bump_revision
from wangge.store.schema import assignments as assignment_table
from wangge.store.schema import buildings as building_table
from wangge.store.schema import compounds as compound_table
from wangge.store.schema import gazetteers as gazetteer_table
from wangge.store.schema import household_personal as personal_table
from wangge.store.schema import households as household_table
from wangge.store.schema import review_decisions as decision_table
from wangge.store.schema import units as unit_table

STATUS_REASONS = ("unlocated", "outside")   # reasons that are assignment statuses, not flags

REVIEW_COLUMNS = ["household_id", "external_id", "address", "status", "flags", "match_level",
                  "match_score", "matched_id", "source", "microgrid", "grid", "community",
                  "street", "nearest_code", "nearest_m", "lon", "lat"]
_IN_BATCH = 5_000


@dataclass(frozen=True)
class ReviewFilter:
    """What a person asked the worklist for; empty means no restriction."""

    reasons: tuple[str, ...] = ()
    unit_code: str | None = None
    unit_level: Level | None = None
    nearest_codes: tuple[str, ...] = ()     # micro-grids under the unit (for "outside" rows)
    source: str | None = None
    min_score: float | None = None
    max_score: float | None = None


def _flag_like(code: str) -> sa.ColumnElement[bool]:
    """The JSON list of flags contains ``code`` (same text on SQLite and PostgreSQL ``json``)."""
    h = household_table.c
    return sa.cast(h.flags, sa.Text).like(f'%"{code}"%')


class ReviewMixin:
    """Review methods of the store; ``_read``/``_write`` come from :class:`wangge.store.store.Store`."""

    _read: Any
    _write: Any
    _geom_column: Any
    units: Any

    # ---- the worklist ---------------------------------------------------------------------
    @staticmethod
    def _review_where(release_id: int, f: ReviewFilter, *,
                      with_reasons: bool = True) -> list[sa.ColumnElement[bool]]:
        a, h = assignment_table.c, household_table.c
        where: list[sa.ColumnElement[bool]] = [
            a.release_id == release_id, sa.or_(a.status != "found", h.flags.is_not(None))]
        if with_reasons and f.reasons:
            either = [a.status == r if r in STATUS_REASONS else _flag_like(r) for r in f.reasons]
            where.append(sa.or_(*either))
        if f.unit_code is not None and f.unit_level is not None:
            inside = a[f.unit_level.value] == f.unit_code
            if f.nearest_codes:
                near = sa.and_(a.status == "outside", a.nearest_code.in_(f.nearest_codes))
                inside = sa.or_(inside, near)
            where.append(inside)
        if f.source is not None:
            where.append(h.source == f.source)
        if f.min_score is not None:
            where.append(h.match_score >= f.min_score)
        if f.max_score is not None:
            where.append(h.match_score <= f.max_score)
        return where

    @staticmethod
    def _review_source() -> sa.FromClause:
        a, h = assignment_table.c, household_table.c
        return assignment_table.join(household_table, h.id == a.household_id)

    def review_page(self, release_id: int, f: ReviewFilter, *, limit: int | None = 100,
                    offset: int = 0) -> pd.DataFrame:
        """One page of the worklist (columns :data:`REVIEW_COLUMNS`), the unlocated first, then
        those outside, then the flagged; by external id within each."""
        a, h = assignment_table.c, household_table.c
        order = sa.case((a.status == "unlocated", 0), (a.status == "outside", 1), else_=2)
        query = (sa.select(h.id, h.external_id, h.address, a.status, h.flags, h.match_level,
                           h.match_score, h.matched_id, h.source, a.microgrid, a.grid,
                           a.community, a.street, a.nearest_code, a.nearest_m, h.lon, h.lat)
                 .select_from(self._review_source())
                 .where(*self._review_where(release_id, f))
                 .order_by(order, h.external_id).limit(limit).offset(offset))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return rows_frame(rows, REVIEW_COLUMNS, dtype=object)

    def review_tally(self, release_id: int, f: ReviewFilter) -> dict[str, Any]:
        """``total`` (with every filter) and ``by_reason`` and ``by_source`` (with every filter
        but the reasons, so that a person sees what the other reasons would give)."""
        a, h = assignment_table.c, household_table.c
        with self._read() as conn:
            rows = conn.execute(sa.select(a.status, h.flags, h.source)
                                .select_from(self._review_source())
                                .where(*self._review_where(release_id, f, with_reasons=False))
                                ).all()
        wanted = set(f.reasons)
        by_reason: dict[str, int] = {}
        by_source: dict[str, int] = {}
        total = 0
        for status, flags, source in rows:
            reasons = ([status] if status != "found" else []) + list(flags or [])
            for r in reasons:
                by_reason[r] = by_reason.get(r, 0) + 1
            if not wanted or wanted.intersection(reasons):
                total += 1
                by_source[source] = by_source.get(source, 0) + 1
        return {"total": total, "by_reason": by_reason, "by_source": by_source}

    def unit_tree(self, release_id: int) -> pd.DataFrame:
        """Every unit's ``code, level, parent_code`` (no geometry)."""
        u = unit_table.c
        with self._read() as conn:
            rows = conn.execute(sa.select(u.code, u.level, u.parent_code)
                                .where(u.release_id == release_id)).all()
        return rows_frame(rows, ["code", "level", "parent_code"], dtype=object)

    def review_personal(self, household_ids: Sequence[int]) -> pd.DataFrame:
        """Personal fields of the given households, for an entitled local export only."""
        p = personal_table.c
        frames = []
        with self._read() as conn:
            for i in range(0, len(household_ids), _IN_BATCH):
                rows = conn.execute(sa.select(p.household_id, p.name, p.phone, p.id_number)
                                    .where(p.household_id.in_(
                                        list(household_ids[i:i + _IN_BATCH])))).all()
                frames.append(rows_frame(rows, ["household_id", "name", "phone", "id_number"],
                                         dtype=object))
        if not frames:
            return pd.DataFrame(columns=["household_id", "name", "phone", "id_number"])
        return pd.concat(frames, ignore_index=True)

    # ---- one household --------------------------------------------------------------------
    def household_record(self, external_id: str) -> dict[str, Any]:
        """A household's location data by its external id (no personal fields); else NotFound."""
        h = household_table.c
        with self._read() as conn:
            row = conn.execute(sa.select(h.id, h.external_id, h.address, h.lon, h.lat,
                                         h.located_by, h.match_level, h.match_score,
                                         h.matched_id, h.flags, h.source)
                               .where(h.external_id == external_id)).mappings().first()
        if row is None:
            raise NotFound(f"没有住户编号为 {external_id} 的住户。",
                           f"No household has the id {external_id}.", external_id=external_id)
        return dict(row)

    def gazetteer_points(self, entry_ids: Collection[str]) -> pd.DataFrame:
        """Entries of the current gazetteer by id, buildings before compounds with the same id:
        ``entry_id, kind ("building"|"compound"), compound_id, name, number, lon, lat`` (a
        compound's point is a point on its surface). Ids not in the gazetteer are left out."""
        ids = sorted({str(e) for e in entry_ids})
        out = pd.DataFrame(columns=["entry_id", "kind", "compound_id", "name", "number", "lon",
                                    "lat"])
        if not ids:
            return out
        g, b, c = gazetteer_table.c, building_table.c, compound_table.c
        with self._read() as conn:
            gid = conn.execute(sa.select(g.id).where(g.is_current)).scalar_one_or_none()
            if gid is None:
                return out
            brows, crows = [], []
            for i in range(0, len(ids), _IN_BATCH):
                chunk = ids[i:i + _IN_BATCH]
                brows += conn.execute(
                    sa.select(b.building_id, b.compound_id, c.name, b.number, b.lon, b.lat)
                    .select_from(building_table.join(compound_table, sa.and_(
                        c.gazetteer_id == b.gazetteer_id, c.compound_id == b.compound_id)))
                    .where(b.gazetteer_id == gid, b.building_id.in_(chunk))).all()
                crows += conn.execute(
                    sa.select(c.compound_id, c.name, self._geom_column(c.geom))
                    .where(c.gazetteer_id == gid, c.compound_id.in_(chunk))).all()
        rows = [(bid, "building", cid, name, number, lon, lat)
                for bid, cid, name, number, lon, lat in brows]
        seen = {r[0] for r in rows}
        crows = [r for r in crows if r[0] not in seen]
        if crows:
            geoms = shapely.from_wkb([bytes(r[2]) for r in crows])
            points = shapely.point_on_surface(geoms)
            rows += [(cid, "compound", cid, name, None, float(shapely.get_x(p)),
                      float(shapely.get_y(p)))
                     for (cid, name, _), p in zip(crows, points, strict=True)]
        return pd.DataFrame(rows, columns=list(out.columns))

    def units_near(self, release_id: int, lon: float, lat: float,
                   margin_deg: float = 1e-6) -> Any:
        """The units of every level whose geometry touches a tiny box around a point, and all
        their parents (the chain of codes needs them, even where a parent's outline stops a
        hair short of its child's)."""
        frames = [self.units(release_id, bbox=(lon - margin_deg, lat - margin_deg,
                                               lon + margin_deg, lat + margin_deg))]
        have = set(frames[0]["code"])
        wanted = {p for p in frames[0]["parent_code"] if isinstance(p, str)} - have
        while wanted:
            parents = self.units(release_id, codes=sorted(wanted))
            if parents.empty:
                break
            frames.append(parents)
            have |= set(parents["code"])
            wanted = {p for p in parents["parent_code"] if isinstance(p, str)} - have
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    # ---- decisions ------------------------------------------------------------------------
    def save_review_decision(self, household_id: int, decision: dict[str, Any],
                             release_id: int, assignment: dict[str, Any]) -> int:
        """Keep a decision and apply it, in one transaction: the household's new location (its
        flags cleared, ``located_by = "review"``) and its assignment in ``release_id``."""
        h, a = household_table.c, assignment_table.c
        now = datetime.now(UTC)
        with self._write() as conn:
            did = conn.execute(decision_table.insert().values(decided_at=now, **decision)
                               .returning(decision_table.c.id)).scalar_one()
            conn.execute(household_table.update().where(h.id == household_id).values(
                lon=decision["lon"], lat=decision["lat"], located_by="review",
                matched_id=decision.get("entry_id"), flags=None, updated_at=now))
            conn.execute(assignment_table.delete().where(
                a.release_id == release_id, a.household_id == household_id))
            conn.execute(assignment_table.insert().values(
                release_id=release_id, household_id=household_id, **assignment))
            bump_revision(conn, HOUSEHOLDS)
        return int(did)

    def review_decisions(self, external_ids: Collection[str] | None = None) -> pd.DataFrame:
        """Decisions, oldest first (the last for a household and address is the one in force):
        ``id, external_id, address_sha256, decision, entry_id, lon, lat, given_lon, given_lat,
        given_crs, decided_by, role, decided_at``; only those of ``external_ids`` if given."""
        d = decision_table.c
        cols = [d.id, d.external_id, d.address_sha256, d.decision, d.entry_id, d.lon, d.lat,
                d.given_lon, d.given_lat, d.given_crs, d.decided_by, d.role, d.decided_at]
        names = [c.name for c in cols]
        rows: list[Any] = []
        with self._read() as conn:
            if external_ids is None:
                rows = conn.execute(sa.select(*cols).order_by(d.id)).all()
            else:
                wanted = sorted({str(e) for e in external_ids})
                for i in range(0, len(wanted), _IN_BATCH):
                    rows += conn.execute(sa.select(*cols).where(
                        d.external_id.in_(wanted[i:i + _IN_BATCH])).order_by(d.id)).all()
        frame = rows_frame(rows, names, dtype=object)
        return frame.sort_values("id", kind="stable").reset_index(drop=True)

    def has_review_decisions(self) -> bool:
        """Whether anyone has decided anything yet (an import skips the look-up otherwise)."""
        with self._read() as conn:
            return conn.execute(sa.select(decision_table.c.id).limit(1)).first() is not None
