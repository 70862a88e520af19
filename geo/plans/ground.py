"""Geometry of edits, in stored lon/lat: pieces, shared edges, dissolving, snapping.

Overlay is done in lon/lat, where the units' straight edges are defined (as in validation);
lengths are measured in metres through the CRS gate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from wangge.geo.crs import length_m, lonlat_to_metric, metric_crs_of, metric_to_lonlat

NOISE_DEG2 = 1e-14   # ~0.0001 m² at these latitudes: overlay residue, not ground


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """The polygonal part of an overlay result (points and lines dropped), maybe empty."""
    if geom is None or shapely.is_empty(geom):
        return shapely.Polygon()
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3
             and shapely.area(p) > NOISE_DEG2]
    if not parts:
        for p in shapely.get_parts(geom):       # collections nest one level at most here
            parts.extend(q for q in shapely.get_parts(p) if shapely.get_type_id(q) == 3
                         and shapely.area(q) > NOISE_DEG2)
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def pieces(geom: shapely.Geometry) -> list[shapely.Geometry]:
    """The polygons of ``geom`` above the noise floor."""
    return [p for p in shapely.get_parts(polygonal(geom)) if has_ground(p)]


def has_ground(geom: shapely.Geometry | None) -> bool:
    return geom is not None and not shapely.is_empty(geom) and shapely.area(geom) > NOISE_DEG2


def dissolve(geoms: Sequence[shapely.Geometry]) -> shapely.Geometry:
    """The union of a clean coverage (its vertices kept); overlay union if it is not clean.

    Pieces cut by different edits can meet with edges that do not share every vertex; the
    coverage union then fails or folds, and the overlay union is exact instead."""
    arr = np.asarray([g for g in geoms if has_ground(g)], dtype=object)
    if len(arr) == 0:
        return shapely.Polygon()
    if len(arr) == 1:
        return arr[0]
    try:
        union = shapely.coverage_union_all(arr)
        if shapely.is_valid(union):
            return polygonal(union)
    except shapely.errors.GEOSException:
        pass  # not a clean coverage: edges that do not match exactly
    return polygonal(shapely.union_all(arr))


def shared_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Length in metres of the boundary ``a`` and ``b`` share."""
    common = shapely.intersection(shapely.boundary(a), shapely.boundary(b))
    if shapely.is_empty(common):
        return 0.0
    return float(length_m(np.array([common], dtype=object))[0])


def longest_edge(piece: shapely.Geometry, candidates: Sequence[tuple[int, shapely.Geometry]]
                 ) -> int | None:
    """Of ``(key, geometry)`` candidates, the key sharing the longest edge with ``piece``."""
    best, best_len = None, 0.0
    near = [(k, g) for k, g in candidates if shapely.intersects(g, piece)]
    for key, geom in near:
        length = shared_m(piece, geom)
        if length > best_len + 1e-9:
            best, best_len = key, length
    return best


def tolerance_deg(at: shapely.Geometry, metres: float) -> float:
    """``metres`` as degrees near ``at``: the smaller of the longitude and latitude spans."""
    centre = shapely.centroid(at)
    lon, lat = shapely.get_x(centre), shapely.get_y(centre)
    metric = metric_crs_of(np.array([centre], dtype=object))
    x, y = lonlat_to_metric([lon], [lat], metric)
    lon2, lat2 = metric_to_lonlat(np.asarray(x) + metres, np.asarray(y) + metres, metric)
    return float(min(abs(lon2[0] - lon), abs(lat2[0] - lat)))


def snapped(outline: shapely.Geometry, reference: Sequence[shapely.Geometry],
            metres: float) -> shapely.Geometry:
    """``outline`` with its vertices and edges moved onto ``reference`` within ``metres``.

    Drawn by hand, an outline misses the neighbours' vertices by a little; snapping makes it
    share them, so the cut leaves no sliver. The result is made valid (snapping can fold it).
    """
    if metres <= 0 or not reference:
        return outline
    tol = tolerance_deg(outline, metres)
    ref = shapely.union_all(np.asarray([shapely.boundary(g) for g in reference], dtype=object))
    result = shapely.snap(outline, ref, tol)
    if not shapely.is_valid(result):
        result = shapely.make_valid(result)
    return polygonal(result)


def polsby_popper(area_m2: float, perimeter_m: float) -> float:
    """4πA/P²: 1 for a disc, near 0 for a long thin shape."""
    return float(4.0 * np.pi * area_m2 / perimeter_m ** 2) if perimeter_m > 0 else 0.0
