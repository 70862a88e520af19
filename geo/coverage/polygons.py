"""Catchment polygons: the ground near the reached streets of each site — not a hull of nodes.

A walk reaches a point of an edge (``u``–``v``, length ``L``) at ``pos`` metres from ``u`` in
``τ = min(d[u] + pos, d[v] + L − pos)`` metres (on the site's own edge also ``access + |pos −
offset|``); the reached street is every point with ``τ ≤ cutoff``, partial edges cut where ``τ``
reaches it. The polygon of a site and cutoff is traced on a raster of the nearest street point
(:mod:`wangge.geo.coverage.street_raster`, pixel ``p = min(10 m, buffer_m / 5)``, street samples every 0.7 p):

- a pixel centre is in when the street point nearest to it is reached and lies within
  ``b' = buffer_m − (√5/2) p``: field ``z = max(τ / cutoff, dist / b')``, in where ``z ≤ 1``;
- the four pixel centres around every street sample reached within ``cutoff + 0.7 p`` are set
  in (``z = 0``);
- ``z`` is capped at 2 and its ``z = 1`` contour traced by contourpy's marching squares (linear
  interpolation), in a window around the reached samples; rings become lon/lat shapely
  polygons in one vectorised pass (:func:`wangge.geo.coverage.contours.assemble`, straight runs thinned).

Guarantees (tested on Helsinki's streets):

- **every reached street point is inside.** A reached point ``x`` is within 0.35 p of a sample
  of its segment, reached within ``cutoff + 0.35 p``, whose square is wholly in. If ``x`` lies
  in a square sharing a side with it, the two shared corners are 0 and the others at most 2, so
  the half of that square along the side is in (``x`` is within 0.35 p of the side); if the
  squares share only a corner, ``x`` is within 0.35 p of that corner and the triangle of legs
  p / 2 there is in (0.35 · √2 < 0.5).
- **no point is farther than** ``buffer_m`` **from a reached street point.** A point of a filled
  square is within (√5/2) p of an in corner; an in corner by the field has its own reached
  street point within ``b'``, and a set corner lies within 0.71 p of a sample that is within
  0.7 p (along the street) of a reached point: 1.12 p + 0.71 p + 0.7 p < 5 p ≤ buffer_m.

Between those bounds the rule is "the nearest street is reached": ground nearer an unreached
street than a reached one is left out, the rule households are snapped by. The cost follows the
pixels under the reached streets (about 60,000 per site for 5/10/15 minutes), not the number of
streets; unioning hundreds of buffers per site, which this replaces, cost several times more.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray

from wangge.geo.coverage.contours import CAP, assemble, marching_squares
from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.coverage.street_raster import StreetRaster, own_edges, street_raster
from wangge.geo.crs import STORAGE_CRS, from_metric

__all__ = ["circle_polygons", "field_z", "network_polygons", "raster_for", "traced_window"]


def network_polygons(network: WalkNetwork, sites: object, site_ids: NDArray[np.object_],
                     thresholds: Sequence[float], cutoffs: Sequence[float],
                     chunks: Sequence[tuple[NDArray[np.intp], NDArray[np.float64]]],
                     reach: Sequence[sp.csr_matrix], buffer_m: float) -> gpd.GeoDataFrame:
    """One polygon per site and threshold from the dijkstra rows in ``chunks`` (see module doc)."""
    n_s, n_t = len(site_ids), len(thresholds)
    polys = np.full(n_s * n_t, shapely.MultiPolygon(), dtype=object)
    areas = np.zeros(n_s * n_t)
    if buffer_m > 0 and n_s:
        raster = raster_for(network, buffer_m)
        traced: list[tuple[int, NDArray[np.float64], NDArray[np.uint32], NDArray[np.uint32]]] = []
        for rows, dist in chunks:
            for k, row in enumerate(rows):
                traced += _site_contours(raster, sites, int(row), dist[k], cutoffs, buffer_m,
                                         [int(row) * n_t + t for t in range(n_t)])
        assemble(traced, network.metric, polys, areas)
    return _polygon_frame(site_ids, thresholds, polys, areas, reach)


def _site_contours(raster: StreetRaster, sites: object, row: int, dist: NDArray[np.float64],
                   cutoffs: Sequence[float], buffer_m: float, slots: list[int]) -> list[tuple]:
    """Contours (slot, points, ring offsets, outer offsets) of one site at every cutoff."""
    s_edge, s_off, s_acc = (int(sites.edge[row]), float(sites.offset[row]),  # type: ignore[attr-defined]
                            float(sites.access[row]))  # type: ignore[attr-defined]
    if s_edge < 0:
        return []
    p = raster.pixel
    sx, sy = _site_xy(raster.network, s_edge, s_off)
    top = max(cutoffs)
    w0, v0, w1, v1 = raster.clip(sx, sy, top + buffer_m + 2 * p)
    d = np.append(dist, np.inf)
    smp = raster.samples(w0, v0, w1, v1)
    s_tau = np.minimum(d[smp.u] + smp.pos, d[smp.v] + smp.rest)
    own = (np.array([s_edge]), np.array([s_off]), np.array([s_acc]))
    own_edges(s_tau, smp.edge, smp.pos, own)
    reached = np.flatnonzero(s_tau <= top + raster.spacing)
    if not len(reached):
        return []
    s_tau, s_ix, s_iy = s_tau[reached], smp.ix[reached], smp.iy[reached]
    # A sample reached within c lies within c of the site, inside the square clipped above; an
    # in pixel lies within buffer_m + spacing of one: each cutoff's window is the box of its
    # reached samples grown by that much.
    if min(s_ix.min() - w0, s_iy.min() - v0, w1 - 2 - s_ix.max(), v1 - 2 - s_iy.max()) < 0:
        raise AssertionError("a reached street sample outside its catchment window")
    grow = int(np.ceil((buffer_m + raster.spacing) / p)) + 1
    hits, boxes = [], []
    for c in cutoffs:
        hit = np.flatnonzero(s_tau <= c + raster.spacing)
        hits.append(hit)
        boxes.append(None if not len(hit) else (
            max(int(s_ix[hit].min()) - grow, w0), max(int(s_iy[hit].min()) - grow, v0),
            min(int(s_ix[hit].max()) + 2 + grow, w1), min(int(s_iy[hit].max()) + 2 + grow, v1)))
    i0, j0, i1, j1 = boxes[-1]  # the largest cutoff's box holds the others
    tau, near = raster.field(d, i0, j0, i1, j1, own)
    out = []
    for slot, c, hit, box in zip(slots, cutoffs, hits, boxes, strict=True):
        if box is None:
            continue
        a0, b0, a1, b1 = box
        sub = (slice(b0 - j0, b1 - j0), slice(a0 - i0, a1 - i0))
        z = field_z(tau[sub], near[sub], c)
        ix, iy = s_ix[hit] - a0, s_iy[hit] - b0
        z[iy, ix] = z[iy + 1, ix] = z[iy, ix + 1] = z[iy + 1, ix + 1] = 0.0
        piece = traced_window(raster, z, a0, b0, slot)
        if piece is not None:
            out.append(piece)
    return out


def field_z(tau: NDArray[np.float64], near: NDArray[np.float32], cutoff: float) -> NDArray[np.float64]:
    """``z = min(max(τ / cutoff, near), CAP)``, C-contiguous: in where ``z ≤ 1``."""
    z = np.multiply(tau, 1.0 / cutoff, out=np.empty(tau.shape))
    np.maximum(z, near, out=z)
    np.minimum(z, CAP, out=z)
    return z


def traced_window(raster: StreetRaster, z: NDArray[np.float64], i0: int, j0: int,
                  slot: int) -> tuple | None:
    """``(slot, metric points, ring offsets, outer offsets)`` of ``z ≤ 1`` over the window at
    column ``i0``, row ``j0``; None when nothing is in."""
    (pts,), (offsets,), (outer,) = marching_squares(z)
    if pts is None:
        return None
    xy = np.empty_like(pts)
    xy[:, 0] = raster.x0 + (i0 + pts[:, 0] + 0.5) * raster.pixel
    xy[:, 1] = raster.y0 + (j0 + pts[:, 1] + 0.5) * raster.pixel
    return slot, xy, offsets, outer


_CORNER = np.sqrt(5) / 2  # farthest a point of a filled square lies from its nearest in corner, in pixels


def raster_for(network: WalkNetwork, buffer_m: float) -> StreetRaster:
    """The network's raster for polygons of this buffer (pixel min(10 m, buffer / 5))."""
    pixel = min(10.0, buffer_m / 5)
    return street_raster(network, pixel, buffer_m, buffer_m - _CORNER * pixel)


def _site_xy(network: WalkNetwork, edge: int, offset: float) -> tuple[float, float]:
    pt = shapely.line_interpolate_point(network.geometry[edge],
                                        offset / max(network.length_m[edge], 1e-9), normalized=True)
    return float(shapely.get_x(pt)), float(shapely.get_y(pt))


def circle_polygons(sx: NDArray[np.float64], sy: NDArray[np.float64], site_ids: NDArray[np.object_],
                    thresholds: Sequence[float], radii: Sequence[float], reach: Sequence[sp.csr_matrix],
                    metric: pyproj.CRS, *, quad_segs: int = 16) -> gpd.GeoDataFrame:
    """Straight-line fallback: circles of radius speed × t / detour around each site."""
    n_s, n_t = len(site_ids), len(thresholds)
    centres = shapely.points(np.repeat(sx, n_t), np.repeat(sy, n_t))
    polys = shapely.buffer(centres, np.tile(np.asarray(radii, dtype=float), n_s), quad_segs=quad_segs)
    return _polygon_frame(site_ids, thresholds, from_metric(polys, metric), shapely.area(polys), reach)


def _polygon_frame(site_ids: NDArray[np.object_], thresholds: Sequence[float],
                   polys: NDArray[np.object_], areas: NDArray[np.float64],
                   reach: Sequence[sp.csr_matrix]) -> gpd.GeoDataFrame:
    n_s, n_t = len(site_ids), len(thresholds)
    households = np.column_stack([np.diff(r.indptr) for r in reach]).ravel() if n_s else np.empty(0)
    return gpd.GeoDataFrame({
        "site_id": np.repeat(site_ids, n_t),
        "minutes": np.tile(np.asarray(thresholds, dtype=float), n_s),
        "households": households.astype(np.int64),
        "area_m2": areas,
    }, geometry=polys, crs=STORAGE_CRS)
