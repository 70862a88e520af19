"""Filled contours of raster fields into shapely polygons (contourpy's marching squares).

:func:`marching_squares` traces ``z ≤ 1`` of a C-contiguous float64 field in pixel coordinates;
callers cap ``z`` at :data:`CAP`. :func:`assemble` turns many traced windows (already in metric
coordinates) into storage-CRS polygons and their areas in a few vectorised calls.
"""

from __future__ import annotations

from functools import lru_cache

import contourpy
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from wangge.geo.crs import metric_to_lonlat

__all__ = ["CAP", "assemble", "marching_squares"]

CAP = 2.0  # z is capped here: a corner set to 0 fills at least half of each side next to it


@lru_cache(maxsize=16)
def _pixel_grid(shape: tuple[int, int]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rows, cols = np.indices(shape, dtype=np.float64)
    return cols, rows


def marching_squares(z: NDArray[np.float64]) -> tuple:
    """contourpy's serial filled contour of ``z ≤ 1`` (C-contiguous) in pixel coordinates
    (column, row).

    Calls the generator class directly: the wrapper's masked-array check and coordinate grids
    cost more than the contouring on these small windows; grids are kept per window shape."""
    x, y = _pixel_grid(z.shape)
    gen = contourpy.SerialContourGenerator(
        x, y, z, None, corner_mask=False,  # type: ignore[arg-type]
        line_type=contourpy.LineType.SeparateCode, fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
        quad_as_tri=False, z_interp=contourpy.ZInterp.Linear)
    return gen.filled(-1.0, 1.0)


def assemble(traced: list[tuple], metric: pyproj.CRS, polys: NDArray[np.object_],
              areas: NDArray[np.float64]) -> None:
    """Storage-CRS (multi)polygons and their areas (m²) from traced windows ``(slot, metric
    points, ring offsets, outer offsets)``, written to ``polys[slot]`` / ``areas[slot]``.

    Vertices in the middle of a straight run (cross product 0 up to rounding) are dropped
    first: the shape is unchanged and about a quarter of the vertices go."""
    if not traced:
        return
    coords = np.concatenate([t[1] for t in traced])
    ring_sizes = np.concatenate([np.diff(t[2].astype(np.int64)) for t in traced])
    ring_of = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
    ends = np.cumsum(ring_sizes)
    inner = np.ones(len(coords), dtype=bool)
    inner[ends - 1] = inner[ends - ring_sizes] = False
    i = np.flatnonzero(inner)
    d0, d1 = coords[i] - coords[i - 1], coords[i + 1] - coords[i]
    cross = d0[:, 0] * d1[:, 1] - d0[:, 1] * d1[:, 0]
    keep = np.ones(len(coords), dtype=bool)
    straight = (np.abs(cross) <= 1e-9 * (np.hypot(*d0.T) * np.hypot(*d1.T))) & ((d0 * d1).sum(axis=1) > 0)
    keep[i] = ~straight
    coords, ring_of = coords[keep], ring_of[keep]
    x, y = coords[:, 0], coords[:, 1]
    nxt = np.r_[1:len(x), 0]
    term = x * y[nxt] - x[nxt] * y
    term[np.r_[np.flatnonzero(np.diff(ring_of)), len(x) - 1]] = 0.0  # rings are closed: no wrap term
    shoelace = np.bincount(ring_of, weights=term, minlength=len(ring_sizes))
    rings_per_poly = np.concatenate([np.diff(t[3].astype(np.int64)) for t in traced])
    poly_of_ring = np.repeat(np.arange(len(rings_per_poly)), rings_per_poly)
    per_slot = np.array([len(t[3]) - 1 for t in traced])
    slot_of_poly = np.repeat(np.array([t[0] for t in traced]), per_slot)
    np.add.at(areas, slot_of_poly[poly_of_ring], np.abs(shoelace) / 2 * np.where(
        _is_outer(rings_per_poly, len(ring_sizes)), 1.0, -1.0))
    # pyproj for every vertex: a fitted polynomial was faster but its last-digit noise made a few
    # rings with nearly touching vertices self-intersect.
    lon, lat = metric_to_lonlat(x, y, metric)
    rings = shapely.linearrings(lon, lat, indices=ring_of)
    polygons = shapely.polygons(rings, indices=poly_of_ring)
    bounds = np.r_[0, np.cumsum(per_slot)]
    for k, t in enumerate(traced):
        parts = polygons[bounds[k]:bounds[k + 1]]
        polys[t[0]] = parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def _is_outer(rings_per_poly: NDArray[np.int64], n_rings: int) -> NDArray[np.bool_]:
    outer = np.zeros(n_rings, dtype=bool)
    outer[np.r_[0, np.cumsum(rings_per_poly)[:-1]]] = True
    return outer
