"""The union of all sites' catchments at each threshold, traced on the catchments' raster.

Unioning hundreds of overlapping catchment polygons with GEOS costs seconds (5 s for the demo's
310 fifteen-minute catchments, then 10 s to cut the units out of the result). The union needs
no per-site work at all: a street point is reached by some site within ``c`` when its walk from
the *nearest* site is, so the union's field is the one of :mod:`wangge.geo.coverage.polygons` with
``d`` = the multi-source distances to the nearest site (and every site's own edge). Its rules
hold for the union as for one site: it contains every street point some site reaches and no
point farther than ``buffer_m`` from one.

It is traced tile by tile (the raster's 128-pixel tiles under the reached streets); each tile's
window reaches one pixel into its right and upper neighbours, so the pieces of two tiles meet on
a common line of pixel centres and the pieces tile the union. They are returned as pieces (one
row per tile and threshold): cutting a unit out of the union needs only the pieces nearby
(:func:`wangge.geo.coverage.stats.uncovered_areas`).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from wangge.geo.coverage.contours import assemble
from wangge.geo.coverage.polygons import field_z, traced_window
from wangge.geo.coverage.street_raster import TILE, StreetRaster, own_edges
from wangge.geo.crs import STORAGE_CRS

__all__ = ["union_pieces"]


def union_pieces(raster: StreetRaster, node_d: NDArray[np.float64],
                 sites: tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]],
                 thresholds: Sequence[float], cutoffs: Sequence[float]) -> gpd.GeoDataFrame:
    """``minutes, area_m2, geometry`` (EPSG:4490): pieces of the union of the catchments.

    ``node_d``: metres from each node to its nearest site; ``sites``: (edge, offset, access) of
    the snapped sites (edge ≥ 0)."""
    d = np.append(node_d, np.inf)
    smp = raster.samples(0, 0, raster.nx, raster.ny)
    s_tau = np.minimum(d[smp.u] + smp.pos, d[smp.v] + smp.rest)
    own_edges(s_tau, smp.edge, smp.pos, sites)
    grow = int(np.ceil(raster.inner / raster.pixel + raster.spacing / raster.pixel)) + 3
    traced, minutes = [], []
    forced, tiles = [], set()
    for c in cutoffs:
        hit = np.flatnonzero(s_tau <= c + raster.spacing)
        ix, iy = smp.ix[hit], smp.iy[hit]
        mask = np.zeros((raster.ny + 2, raster.nx + 2), dtype=bool)  # pages committed where set
        mask[iy, ix] = mask[iy + 1, ix] = mask[iy, ix + 1] = mask[iy + 1, ix + 1] = True
        forced.append(mask)
        if c == max(cutoffs) and len(hit):
            tiles.update(_tiles_near(ix, iy, grow, raster))
    for tx, ty in sorted(tiles):
        i0, j0 = tx * TILE, ty * TILE
        i1, j1 = min(i0 + TILE + 1, raster.nx), min(j0 + TILE + 1, raster.ny)
        tau, near = raster.field(d, i0, j0, i1, j1, sites)
        for minute, c, mask in zip(thresholds, cutoffs, forced, strict=True):
            z = field_z(tau, near, c)
            z[mask[j0:j1, i0:i1]] = 0.0
            piece = traced_window(raster, z, i0, j0, len(traced))
            if piece is None:
                continue
            traced.append(piece)
            minutes.append(minute)
    polys = np.full(len(traced), shapely.Polygon(), dtype=object)
    areas = np.zeros(len(traced))
    assemble(traced, raster.network.metric, polys, areas)
    return gpd.GeoDataFrame({"minutes": np.asarray(minutes, dtype=float), "area_m2": areas},
                            geometry=polys, crs=STORAGE_CRS)


def _tiles_near(ix: NDArray[np.int32], iy: NDArray[np.int32], grow: int,
                raster: StreetRaster) -> list[tuple[int, int]]:
    """Tiles within ``grow`` pixels (less than a tile) of a set square: an in pixel lies that
    close to one."""
    tx, ty = ix // TILE, iy // TILE
    lx, ly = ix % TILE, iy % TILE
    nty = -(-raster.ny // TILE)
    keys = []
    for dx in (-1, 0, 1):
        near_x = (lx < grow) if dx < 0 else (lx >= TILE - grow - 1) if dx > 0 else np.ones(len(ix), bool)
        for dy in (-1, 0, 1):
            near_y = (ly < grow) if dy < 0 else (ly >= TILE - grow - 1) if dy > 0 else np.ones(len(iy), bool)
            sel = near_x & near_y
            kx, ky = tx[sel].astype(np.int64) + dx, ty[sel].astype(np.int64) + dy
            ok = (kx >= 0) & (kx < raster.ntx) & (ky >= 0) & (ky < nty)
            keys.append(ky[ok] * raster.ntx + kx[ok])
    return [(int(k % raster.ntx), int(k // raster.ntx)) for k in np.unique(np.concatenate(keys))]
