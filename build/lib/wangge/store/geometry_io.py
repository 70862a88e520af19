"""Moving units between GeoDataFrames and table rows: input checks, WKB in and out.

Geometries are stored as 2D WKB (float64), so they round-trip exactly on both backends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.geo.crs import STORAGE_CRS
from wangge.geo.errors import CRSError, FieldMappingError, InputError
from wangge.store.schema import SRID

REQUIRED_COLUMNS = ("code", "name", "level")  # and geometry; parent_code, attrs, area_m2 optional
OUTPUT_COLUMNS = ("code", "name", "level", "parent_code", "attrs", "area_m2")
_MAX_LISTED = 20  # row numbers quoted in one error message


def check_units_frame(frame: object) -> None:
    """Refuse a units frame the store cannot take.

    Checked in turn: the type, the CRS (EPSG:4490 only), the columns (every missing one named),
    the geometries (every missing one counted). Codes, levels and parents are left to the
    database constraints, which make the whole import fail as one.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError("单元数据必须是 GeoDataFrame。", "Units must be given as a GeoDataFrame.")
    if frame.crs is None or not (frame.crs.equals(STORAGE_CRS) or frame.crs.to_epsg() == SRID):
        found = "none" if frame.crs is None else frame.crs.name
        raise CRSError(
            f"坐标系必须是 EPSG:{SRID}（CGCS2000），实际为：{found}。",
            f"The CRS must be EPSG:{SRID} (CGCS2000); got: {found}.",
            expected=f"EPSG:{SRID}", found=found,
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise FieldMappingError(
            f"缺少字段：{'、'.join(missing)}。", f"Missing columns: {', '.join(missing)}.",
            missing=missing,
        )
    no_geometry = np.flatnonzero(shapely.is_missing(frame.geometry.values)).tolist()
    if no_geometry:
        shown = no_geometry[:_MAX_LISTED]
        raise InputError(
            f"{len(no_geometry)} 个单元没有几何图形（行 {shown}）。",
            f"{len(no_geometry)} units have no geometry (rows {shown}).",
            rows=shown,
        )


def unit_rows(frame: gpd.GeoDataFrame, release_id: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Rows for the ``units`` table (geometry as ``wkb`` bytes) and the geometry array."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    wkb = shapely.to_wkb(geoms, output_dimension=2)
    n = len(frame)

    def column(name: str) -> Sequence[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * n

    rows = [
        {
            "release_id": release_id,
            "code": _text(code),
            "name": _text(name),
            "level": _text(level),
            "parent_code": _text(parent),
            "attrs": None if _missing(attrs) else attrs,
            "area_m2": None if _missing(area) else float(area),
            "wkb": blob,
        }
        for code, name, level, parent, attrs, area, blob in zip(
            column("code"), column("name"), column("level"), column("parent_code"),
            column("attrs"), column("area_m2"), wkb, strict=True,
        )
    ]
    return rows, geoms


def units_frame(rows: Sequence[Any]) -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4490) from rows holding the output columns and then WKB.

    Text columns get pandas' own dtype (missing parent codes are NA, as in frames read from
    files), ``attrs`` holds dicts or None, ``area_m2`` is float with NaN where unknown.
    """
    columns = list(zip(*rows, strict=True)) if rows else [()] * (len(OUTPUT_COLUMNS) + 1)
    data = {name: pd.Series(columns[i], dtype=None if rows else object)
            for i, name in enumerate(OUTPUT_COLUMNS)}
    data["attrs"] = pd.Series(columns[4], dtype=object)
    data["area_m2"] = pd.Series(columns[5], dtype="float64")
    geometry = shapely.from_wkb(np.array(columns[6], dtype=object))
    return gpd.GeoDataFrame(data, geometry=geometry, crs=f"EPSG:{SRID}")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)
