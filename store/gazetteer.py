"""The gazetteer in the store: versions of compounds and buildings, one of them current.

A mixin of :class:`wangge.store.store.Store`. Compounds keep their geometry (Polygon or Point) through
the backend's geometry column; buildings are points kept as lon/lat. Columns beyond the
required ones travel in ``attrs`` and come back as columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray

from wangge.geo.crs import STORAGE_CRS
from wangge.geo.errors import InputError
from wangge.store.households import _chunks, _records
from wangge.store.schema import buildings as building_table
from wangge.store.schema import compounds as compound_table
from wangge.store.schema import gazetteers as gazetteer_table

_COMPOUND_KEYS = ("compound_id", "name", "geometry")
_BUILDING_KEYS = ("building_id", "compound_id", "number", "geometry")


@dataclass(frozen=True)
class GazetteerInfo:
    id: int
    source: str
    created_at: datetime
    is_current: bool
    compound_count: int
    building_count: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "created_at": self.created_at.isoformat(),
                "is_current": self.is_current, "compound_count": self.compound_count,
                "building_count": self.building_count}


def _attrs(frame: pd.DataFrame, keys: tuple[str, ...]) -> list[dict[str, Any] | None]:
    extra = [c for c in frame.columns if c not in keys]
    if not extra:
        return [None] * len(frame)
    rows = _records(frame, extra)
    return [{k: v for k, v in r.items() if v is not None} or None for r in rows]


def _check(frame: gpd.GeoDataFrame, keys: tuple[str, ...], what: str) -> None:
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise InputError(f"{what}缺少字段：{'、'.join(missing)}。", f"{what} lacks columns {missing}.")
    if frame.crs is None or not STORAGE_CRS.equals(frame.crs):
        raise InputError(f"{what}须为 EPSG:4490。", f"{what} must be in EPSG:4490.")


class GazetteerMixin:
    """Gazetteer methods of the store; ``_read``/``_write``/geometry helpers come from Store."""

    _read: Any
    _write: Any
    _geom_param: Any
    _geom_column: Any

    def create_gazetteer(self, compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, *,
                         source: str, make_current: bool = True) -> GazetteerInfo:
        """Store a whole gazetteer version (atomically) and by default make it current."""
        _check(compounds, _COMPOUND_KEYS, "小区表 / compounds ")
        _check(buildings, _BUILDING_KEYS, "楼栋表 / buildings ")
        now = datetime.now(UTC)
        with self._write() as conn:
            if make_current:
                conn.execute(gazetteer_table.update().where(gazetteer_table.c.is_current)
                             .values(is_current=False))
            gid = conn.execute(gazetteer_table.insert().values(
                source=source, created_at=now, is_current=make_current,
                compound_count=len(compounds), building_count=len(buildings))
                .returning(gazetteer_table.c.id)).scalar_one()
            wkb = shapely.to_wkb(np.asarray(compounds.geometry.values, dtype=object),
                                 output_dimension=2)
            rows = [{"gazetteer_id": gid, "compound_id": str(c), "name": str(n), "attrs": a,
                     "wkb": w} for c, n, a, w in zip(compounds["compound_id"], compounds["name"],
                                                     _attrs(compounds, _COMPOUND_KEYS), wkb,
                                                     strict=True)]
            for chunk in _chunks(rows):
                conn.execute(sa.insert(compound_table).values(geom=self._geom_param()), chunk)
            pts = np.asarray(buildings.geometry.values, dtype=object)
            brows = [{"gazetteer_id": gid, "building_id": str(b), "compound_id": str(c),
                      "number": None if n is None or pd.isna(n) else str(n), "attrs": a,
                      "lon": float(x), "lat": float(y)}
                     for b, c, n, a, x, y in zip(
                         buildings["building_id"], buildings["compound_id"], buildings["number"],
                         _attrs(buildings, _BUILDING_KEYS), shapely.get_x(pts),
                         shapely.get_y(pts), strict=True)]
            for chunk in _chunks(brows):
                conn.execute(building_table.insert(), chunk)
        return self.gazetteer_info(gid)

    def gazetteers(self) -> list[GazetteerInfo]:
        """Every gazetteer version, oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(gazetteer_table).order_by(gazetteer_table.c.id)).all()
        return [GazetteerInfo(*row) for row in rows]

    def gazetteer_info(self, gazetteer_id: int | None = None) -> GazetteerInfo:
        """The given gazetteer version, or the current one."""
        g = gazetteer_table.c
        where = g.id == gazetteer_id if gazetteer_id is not None else g.is_current
        with self._read() as conn:
            row = conn.execute(sa.select(gazetteer_table).where(where)).first()
        if row is None:
            from wangge.geo.errors import NotFound

            raise NotFound("还没有地名地址库（小区和楼栋），请先导入。",
                           "No gazetteer (compounds and buildings) yet: import one first.")
        return GazetteerInfo(*row)

    def gazetteer(self, gazetteer_id: int | None = None
                  ) -> tuple[GazetteerInfo, gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """A gazetteer version (default: current) as compounds and buildings tables."""
        info = self.gazetteer_info(gazetteer_id)
        c, b = compound_table.c, building_table.c
        with self._read() as conn:
            crow = conn.execute(sa.select(c.compound_id, c.name, c.attrs,
                                          self._geom_column(c.geom))
                                .where(c.gazetteer_id == info.id).order_by(c.compound_id)).all()
            brow = conn.execute(sa.select(b.building_id, b.compound_id, b.number, b.attrs, b.lon,
                                          b.lat)
                                .where(b.gazetteer_id == info.id).order_by(b.building_id)).all()
        comp = pd.DataFrame([{"compound_id": r[0], "name": r[1], **_loads(r[2])} for r in crow])
        compounds = gpd.GeoDataFrame(
            comp, geometry=list(shapely.from_wkb([bytes(r[3]) for r in crow])), crs=STORAGE_CRS)
        bld = pd.DataFrame([{"building_id": r[0], "compound_id": r[1], "number": r[2],
                             **_loads(r[3])} for r in brow])
        buildings = gpd.GeoDataFrame(
            bld, geometry=list(shapely.points([r[4] for r in brow], [r[5] for r in brow])),
            crs=STORAGE_CRS)
        return info, compounds, buildings

    def building_points(self) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                       NDArray[np.object_]]:
        """Lon, lat and compound id of every building in the current gazetteer (empty arrays
        when there is none): what grouping micro-grids by compound needs, without the rest of
        :meth:`gazetteer`."""
        b = building_table.c
        with self._read() as conn:
            current = conn.execute(sa.select(gazetteer_table.c.id)
                                   .where(gazetteer_table.c.is_current)).scalar_one_or_none()
            rows = [] if current is None else conn.execute(
                sa.select(b.lon, b.lat, b.compound_id).where(b.gazetteer_id == current)
                .order_by(b.building_id)).all()
        if not rows:
            return np.empty(0), np.empty(0), np.empty(0, dtype=object)
        lon, lat, compound = zip(*rows, strict=True)
        return (np.asarray(lon, dtype=float), np.asarray(lat, dtype=float),
                np.asarray([str(c) for c in compound], dtype=object))


def _loads(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)
