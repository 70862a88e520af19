"""A small, exact hand-built hierarchy for rule tests: 1 street, 2 communities, 4 grids, 8 micro-grids.

Micro-grids are 0.003° squares in a row near Yancheng; every parent is the coverage union of
its children, as real data built by GIS editing is.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

X0, Y0, D = 120.20, 33.40, 0.003
STREET = "320902001"


def cell(i: int, j: int = 0) -> shapely.Polygon:
    return shapely.box(X0 + i * D, Y0 + j * D, X0 + (i + 1) * D, Y0 + (j + 1) * D)


def hierarchy() -> gpd.GeoDataFrame:
    rows = []
    micro: dict[str, list] = {}
    for i in range(8):
        community = f"{STREET}{i // 4 + 1:03d}"
        grid = f"{community}{(i // 2) % 2 + 1:03d}"
        code = f"{grid}{i % 2 + 1:03d}"
        micro.setdefault(grid, []).append(cell(i))
        rows.append((code, f"微网格{i}", "microgrid", grid, cell(i)))
    grids = {g: shapely.coverage_union_all(c) for g, c in micro.items()}
    for g, geom in grids.items():
        rows.append((g, f"网格{g[-3:]}", "grid", g[:12], geom))
    communities = {}
    for g, geom in grids.items():
        communities.setdefault(g[:12], []).append(geom)
    for c, geoms in communities.items():
        rows.append((c, f"社区{c[-3:]}", "community", STREET, shapely.coverage_union_all(geoms)))
    rows.append((STREET, "测试街道", "street", "320902",
                 shapely.coverage_union_all([cell(i) for i in range(8)])))
    df = gpd.GeoDataFrame(rows, columns=["code", "name", "level", "parent_code", "geometry"],
                          crs="EPSG:4490")
    df["attrs"] = [{} for _ in range(len(df))]
    return df


def set_geom(df: gpd.GeoDataFrame, code: str, geom: shapely.Geometry) -> gpd.GeoDataFrame:
    out = df.copy()
    out.loc[out["code"] == code, "geometry"] = geom
    return out


M1, M2, M3 = "320902001001001001", "320902001001001002", "320902001001002001"
G1, G2 = "320902001001001", "320902001001002"
C1 = "320902001001"
