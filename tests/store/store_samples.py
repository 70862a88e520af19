"""Hand-built boundary units near Yancheng (lon 120.2, lat 33.4) for the store tests.

Also imported by the subprocess of the kill test, so it depends on nothing but the libraries.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import text

ORIGIN = (120.2, 33.4)
CRS = "EPSG:4490"


def frame(rows: list[dict[str, Any]], crs: str | None = CRS) -> gpd.GeoDataFrame:
    """A units frame from dicts with code, name, level, parent_code, attrs, geometry."""
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def squares(n: int, *, level: str = "grid", prefix: str = "G", parent: str | None = None,
            size: float = 0.0009, step: float = 0.001, columns: int | None = None,
            origin: tuple[float, float] = ORIGIN) -> gpd.GeoDataFrame:
    """``n`` small squares in a grid, codes ``{prefix}000001``..., built vectorised."""
    columns = columns or max(1, int(np.ceil(np.sqrt(n))))
    i = np.arange(n)
    x = origin[0] + (i % columns) * step
    y = origin[1] + (i // columns) * step
    return gpd.GeoDataFrame(
        {
            "code": [f"{prefix}{k + 1:06d}" for k in i],
            "name": [f"网格{k + 1}" for k in i],
            "level": level,
            "parent_code": parent,
            "attrs": [{"seq": int(k)} for k in i],
        },
        geometry=shapely.box(x, y, x + size, y + size),
        crs=CRS,
    )


def hierarchy() -> gpd.GeoDataFrame:
    """One street, two communities, five grids and two micro-grids, nested by parent_code."""
    x0, y0 = ORIGIN
    rows: list[dict[str, Any]] = [
        _unit("320902001", "先锋街道", "street", None, shapely.box(x0, y0, x0 + 0.02, y0 + 0.01)),
        _unit("320902001002", "二社区", "community", "320902001",
              shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.01)),
        _unit("320902001001", "一社区", "community", "320902001",
              shapely.box(x0, y0, x0 + 0.01, y0 + 0.01)),
    ]
    for c, community in enumerate(["320902001001", "320902001002"]):
        for g in range(3 - c):
            left = x0 + 0.01 * c + 0.003 * g
            rows.append(_unit(f"{community}{g + 1:03d}", f"网格{c + 1}-{g + 1}", "grid",
                              community, shapely.box(left, y0, left + 0.003, y0 + 0.01)))
    for m in range(2):
        bottom = y0 + 0.005 * m
        rows.append(_unit(f"320902001001001{m + 1:02d}", f"微网格{m + 1}", "microgrid",
                          "320902001001001", shapely.box(x0, bottom, x0 + 0.003, bottom + 0.005)))
    return frame(rows)


def _unit(code: str, name: str, level: str, parent: str | None,
          geometry: shapely.Geometry) -> dict[str, Any]:
    return {"code": code, "name": name, "level": level, "parent_code": parent,
            "attrs": {"负责人": "张三", "phone": None}, "geometry": geometry}


def snapshot(store: Any) -> tuple[Any, ...]:
    """Everything the store holds, for "exactly as before" comparisons."""
    with store.engine.connect() as conn:
        units = conn.execute(
            text("SELECT id, release_id, code, level FROM units ORDER BY id")
        ).all()
        rtree = (conn.execute(text("SELECT id, minx, maxx, miny, maxy FROM unit_rtree "
                                   "ORDER BY id")).all()
                 if store.backend == "sqlite" else None)
    return [info.as_dict() for info in store.releases()], units, rtree
