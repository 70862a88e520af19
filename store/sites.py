"""Service sites in the store, with history: import, add, move, retire, and the sites in
service at any moment. A mixin of :class:`wangge.store.store.Store`.

Each change closes the site's open row (``valid_to``) and, for an add, move or edit, opens a new
one with the same ``site_id``, in one transaction; nothing is ever deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from wangge.geo.crs import STORAGE_CRS
from wangge.geo.errors import Conflict, InputError, NotFound
from wangge.store.frames import rows_frame
from wangge.store.households import _chunks
from wangge.store.revisions import SITES, bump_revision
from wangge.store.schema import sites as site_table

_FIELDS = ("site_id", "kind", "name", "unit_code", "hours")


def _rows(sites: gpd.GeoDataFrame, source: str, now: datetime) -> list[dict[str, Any]]:
    missing = [c for c in (*_FIELDS[:3], "geometry") if c not in sites.columns]
    if missing:
        raise InputError(f"站点表缺少字段：{'、'.join(missing)}。", f"The sites lack columns {missing}.")
    if sites.crs is None or not STORAGE_CRS.equals(sites.crs):
        raise InputError("站点须为 EPSG:4490。", "Sites must be in EPSG:4490.")
    pts = np.asarray(sites.geometry.values, dtype=object)
    if len(pts) and not (shapely.get_type_id(pts) == 0).all():
        raise InputError("站点须为点。", "Sites must be points.")
    rows = []
    for record, x, y in zip(sites.to_dict("records"), shapely.get_x(pts), shapely.get_y(pts),
                            strict=True):
        row = {f: (None if record.get(f) is None or pd.isna(record.get(f)) else str(record[f]))
               for f in _FIELDS}
        rows.append({**row, "lon": float(x), "lat": float(y), "source": source,
                     "valid_from": now, "valid_to": None})
    return rows


class SitesMixin:
    """Site methods of the store; ``_read``/``_write`` come from the Store."""

    _read: Any
    _write: Any

    def import_sites(self, sites: gpd.GeoDataFrame, *, source: str, replace: bool = True) -> int:
        """Store a checked site list. ``replace``: sites not in the list are retired (the list is
        the source); else only the listed ones are added or updated. Returns rows written."""
        now = datetime.now(UTC)
        rows = _rows(sites, source, now)
        ids = [r["site_id"] for r in rows]
        if len(set(ids)) != len(ids):
            raise InputError("站点编号重复。", "Site ids repeat.")
        c = site_table.c
        with self._write() as conn:
            open_rows = c.valid_to.is_(None)
            closing = open_rows if replace else open_rows & c.site_id.in_(ids)
            if not replace and len(ids) > 30_000:  # keep the IN list bounded
                raise InputError("单次更新的站点过多。", "Too many sites to update at once.")
            conn.execute(sa.update(site_table).where(closing).values(valid_to=now))
            for chunk in _chunks(rows):
                conn.execute(sa.insert(site_table), chunk)
            bump_revision(conn, SITES)
        return len(rows)

    def add_site(self, site: dict[str, Any], *, source: str) -> None:
        frame = gpd.GeoDataFrame([site], geometry="geometry", crs=STORAGE_CRS)
        rows = _rows(frame, source, datetime.now(UTC))
        with self._write() as conn:
            taken = conn.execute(sa.select(site_table.c.id).where(
                site_table.c.site_id == rows[0]["site_id"], site_table.c.valid_to.is_(None))).first()
            if taken is not None:
                raise Conflict(f"站点 {rows[0]['site_id']} 已存在。",
                               f"Site {rows[0]['site_id']} exists already.")
            conn.execute(sa.insert(site_table), rows)
            bump_revision(conn, SITES)

    def change_site(self, site_id: str, *, source: str, retire: bool = False,
                    **changes: Any) -> None:
        """Move or edit (``lon``, ``lat``, ``name``, ``hours``, ``unit_code``, ``kind``) or retire
        a site in service; NotFound if there is none with this id."""
        now = datetime.now(UTC)
        c = site_table.c
        with self._write() as conn:
            row = conn.execute(sa.select(site_table).where(
                c.site_id == site_id, c.valid_to.is_(None))).mappings().first()
            if row is None:
                raise NotFound(f"没有在用的站点 {site_id}。", f"No site {site_id} in service.",
                               site_id=site_id)
            conn.execute(sa.update(site_table).where(c.id == row["id"]).values(valid_to=now))
            bump_revision(conn, SITES)
            if retire:
                return
            new = {str(k): v for k, v in row.items() if str(k) != "id"}
            new.update({k: v for k, v in changes.items() if v is not None})
            new.update(source=source, valid_from=now, valid_to=None)
            frame = gpd.GeoDataFrame([{**{f: new[f] for f in _FIELDS},
                                       "geometry": shapely.Point(new["lon"], new["lat"])}],
                                     geometry="geometry", crs=STORAGE_CRS)
            conn.execute(sa.insert(site_table), _rows(frame, source, now))

    def sites(self, at: datetime | None = None) -> gpd.GeoDataFrame:
        """Sites in service now (or at ``at``): site_id, kind, name, unit_code, hours, geometry."""
        c = site_table.c
        if at is None:
            where = c.valid_to.is_(None)
        else:
            where = (c.valid_from <= at) & (c.valid_to.is_(None) | (c.valid_to > at))
        query = sa.select(c.site_id, c.kind, c.name, c.unit_code, c.hours, c.lon, c.lat) \
            .where(where).order_by(c.site_id)
        with self._read() as conn:
            frame = rows_frame(conn.execute(query).all(), [*_FIELDS, "lon", "lat"])
        geometry = shapely.points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)) \
            if len(frame) else []
        return gpd.GeoDataFrame(frame[list(_FIELDS)], geometry=geometry, crs=STORAGE_CRS)

    def site_history(self, site_id: str) -> pd.DataFrame:
        c = site_table.c
        query = sa.select(c.site_id, c.kind, c.name, c.unit_code, c.hours, c.lon, c.lat, c.source,
                          c.valid_from, c.valid_to).where(c.site_id == site_id).order_by(c.valid_from)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        if not rows:
            raise NotFound(f"站点 {site_id} 不存在。", f"Site {site_id} does not exist.")
        return pd.DataFrame([{str(k): v for k, v in r.items()} for r in rows])
