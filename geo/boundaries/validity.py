"""One unit's geometry: what is wrong with it, the ground its rings draw, a valid geometry that keeps it.

The ground a polygon draws
--------------------------
OGC simple features define a polygon as the inside of its exterior ring minus the insides of its
holes, for valid polygons only. For an invalid one, "the area enclosed by the exterior ring minus
the holes" needs a reading that holds for any arrangement of rings. wangge uses the even-odd rule:

- a ring encloses the points that a ray to infinity crosses it an odd number of times, so a
  bow-tie encloses both lobes and a ring that loops back around an "inverted hole" leaves it out;
- a point is in a polygon part when an odd number of the part's rings enclose it: a hole inside
  a hole is an island, a shell drawn inside its own "hole" (rings swapped) is the hole ring minus
  the shell ring, a hole identical to its shell leaves nothing;
- a point is in the unit when it is in any of its parts: overlapping parts overlap, they do not
  cancel each other.

This is the fill that map renderers using the even-odd rule show (SVG and canvas ``evenodd``,
Qt's default fill rule), so it is the ground the planner saw when drawing. It is computed by
overlaying valid pieces (one region per ring, symmetric differences, a union), never by summing
signed ring areas, so self-intersecting rings do not cancel themselves out. Ring orientation
plays no part: Shapefile writes exteriors clockwise and GeoJSON (RFC 7946) counter-clockwise,
and files from the field follow neither reliably. Repaired geometries are written in the RFC 7946
orientation, so that readers relying on it draw the same ground.

A geometry with a NaN or infinite coordinate, or with coordinates beyond ±180°/±90°, draws no
ground that can be inferred: it is reported and never repaired.

Choosing a repair
-----------------
:func:`best_fix` builds the usual constructions of a valid geometry (GEOS ``make_valid`` with the
``structure`` and ``linework`` methods, the exterior rings alone, the rings re-nested with the
ring that encloses most as the shell, ``buffer(0)``), measures each against the drawn ground by
the area of their symmetric difference (the ground it would move) and keeps the one that moves
least; ties go to the earlier construction in that list. The drawn ground itself is not a
candidate: kept apart, it checks the constructions instead of approving itself. Whether the
change is acceptable is the caller's policy (see :mod:`wangge.geo.boundaries.repair`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

NON_FINITE = "non-finite coordinate"
NOT_LONLAT = "coordinate beyond ±180°/±90°"

# GEOS's reasons (IsValidOp) in Chinese, for the Chinese half of a finding.
REASONS_ZH: dict[str, str] = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Hole lies outside shell": "内环位于外环之外",
    "Holes are nested": "内环嵌套",
    "Nested shells": "多个部分相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Too few points in geometry component": "环的点数过少（已塌缩）",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
    "Duplicate Rings": "环重复",
    NON_FINITE: "坐标不是有限的数（NaN 或无穷）",
    NOT_LONLAT: "坐标超出经纬度范围（经度 ±180°，纬度 ±90°）",
}
_REASON = re.compile(r"^(.*?)\s*\[\s*([-\w.+]+)\s+([-\w.+]+)\s*\]\s*$")

Measure = Callable[[NDArray[np.object_]], NDArray[np.float64]]
"""Areas in m² of lon/lat geometries (the caller projects them into its metric CRS)."""


@dataclass(frozen=True)
class Problem:
    """Why a geometry is invalid, in English (GEOS's words or wangge's) and Chinese, and where."""

    reason: str
    reason_zh: str
    where: tuple[float, float] | None
    measurable: bool  # False: a non-finite or non-lon/lat coordinate, no ground can be inferred


@dataclass(frozen=True)
class Fix:
    """The best valid geometry for one invalid unit, measured against the ground it draws.

    ``geometry`` is None when no construction gives a valid non-empty polygon. Areas are m²;
    ``moved_m2`` is the area of the symmetric difference between the fix and the drawn ground.
    """

    geometry: shapely.Geometry | None
    method: str | None
    drawn_m2: float
    area_m2: float
    moved_m2: float

    @property
    def change_pct(self) -> float:
        """Relative change of area in % (infinite when nothing was drawn but something is kept)."""
        return _pct(self.area_m2 - self.drawn_m2, self.drawn_m2)

    @property
    def moved_pct(self) -> float:
        return _pct(self.moved_m2, self.drawn_m2)


def _pct(delta: float, base: float) -> float:
    if base > 0:
        return 100.0 * delta / base
    return 0.0 if delta == 0 else float("inf") if delta > 0 else float("-inf")


def lonlat_ok(geoms: NDArray[np.object_], valid: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which geometries have only finite longitude/latitude coordinates (missing/empty: False).

    ``valid`` is ``shapely.is_valid(geoms)``. Bounds skip NaN coordinates, but a NaN makes a
    geometry invalid, so only the invalid ones are looked at vertex by vertex.
    """
    b = shapely.bounds(geoms).reshape(-1, 4)
    ok = (b[:, 0] >= -180.0) & (b[:, 2] <= 180.0) & (b[:, 1] >= -90.0) & (b[:, 3] <= 90.0)
    for i in np.flatnonzero(ok & ~valid):
        ok[i] = bool(np.isfinite(shapely.get_coordinates(geoms[i])).all())
    return ok


def problem(geom: shapely.Geometry) -> Problem:
    """Why ``geom`` (polygonal, not empty, invalid or not lon/lat) cannot be used as it is."""
    coords = shapely.get_coordinates(geom)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        k = int(np.argmin(finite))
        near = coords[finite]
        where = _point(*coords[k - 1]) if k > 0 and finite[k - 1] else \
            (_point(*near[0]) if len(near) else None)
        return Problem(f"{NON_FINITE} at vertex {k + 1}", f"{REASONS_ZH[NON_FINITE]}（第 {k + 1} 个顶点）",
                       where, measurable=False)
    if not ((np.abs(coords[:, 0]) <= 180.0) & (np.abs(coords[:, 1]) <= 90.0)).all():
        bad = coords[(np.abs(coords[:, 0]) > 180.0) | (np.abs(coords[:, 1]) > 90.0)][0]
        return Problem(f"{NOT_LONLAT}, e.g. ({bad[0]:.6g}, {bad[1]:.6g})",
                       f"{REASONS_ZH[NOT_LONLAT]}，如 ({bad[0]:.6g}, {bad[1]:.6g})", None,
                       measurable=False)
    reason = shapely.is_valid_reason(geom)
    m = _REASON.match(reason)
    text, where = (m.group(1), _point(float(m.group(2)), float(m.group(3)))) if m else (reason, None)
    return Problem(text, REASONS_ZH.get(text, text), where, measurable=True)


def _point(x: float, y: float) -> tuple[float, float] | None:
    if not (np.isfinite(x) and np.isfinite(y)):
        return None
    return (round(float(x), 7), round(float(y), 7))


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """The polygonal parts of a geometry as a Polygon or MultiPolygon (an empty Polygon if none)."""
    if geom is None:
        return shapely.Polygon()
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(geom)
    parts = shapely.get_parts(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
    parts = parts[~shapely.is_empty(parts)]
    if len(parts) == 0:
        return shapely.Polygon()
    return shapely.multipolygons(parts) if len(parts) > 1 else parts[0]


def _ring_region(ring: shapely.Geometry) -> shapely.Geometry:
    """The points a ring encloses by the even-odd rule (empty for a collapsed ring)."""
    coords = shapely.get_coordinates(ring)
    if len(coords) < 4:
        return shapely.Polygon()
    return polygonal(shapely.make_valid(shapely.polygons(coords), method="linework"))


def drawn_ground(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The ground a polygonal geometry draws (module docstring); None if it cannot be computed."""
    try:
        regions = []
        for part in shapely.get_parts(geom):
            rings = shapely.get_rings(part)
            acc = _ring_region(rings[0])
            for ring in rings[1:]:
                acc = shapely.symmetric_difference(acc, _ring_region(ring))
            regions.append(polygonal(acc))
        if len(regions) < 2:
            return regions[0] if regions else shapely.Polygon()
        return polygonal(shapely.union_all(regions))
    except shapely.errors.GEOSException:
        return None


def _renested(part: shapely.Geometry) -> shapely.Geometry:
    """A polygon part rebuilt with the ring that encloses most as its shell, the others as holes."""
    rings = shapely.get_rings(part)
    if len(rings) < 2:
        return part
    k = int(np.argmax(shapely.area([_ring_region(r) for r in rings])))
    holes = [r for j, r in enumerate(rings) if j != k]
    return shapely.make_valid(shapely.polygons(rings[k], holes=holes), method="structure",
                              keep_collapsed=False)


_CONSTRUCTIONS: tuple[tuple[str, Callable[[shapely.Geometry], shapely.Geometry]], ...] = (
    ("make_valid/structure",
     lambda g: shapely.make_valid(g, method="structure", keep_collapsed=False)),
    ("make_valid/linework", lambda g: shapely.make_valid(g, method="linework")),
    ("exterior rings only", lambda g: shapely.union_all([
        shapely.make_valid(shapely.polygons(shapely.get_exterior_ring(p)), method="structure",
                           keep_collapsed=False) for p in shapely.get_parts(g)])),
    ("rings re-nested", lambda g: shapely.union_all([_renested(p) for p in shapely.get_parts(g)])),
    ("buffer(0)", lambda g: shapely.buffer(g, 0.0)),
)


def candidates(geom: shapely.Geometry) -> list[tuple[str, shapely.Geometry]]:
    """Valid, non-empty polygonal constructions from ``geom``, named, in order of preference."""
    out = []
    for name, build in _CONSTRUCTIONS:
        try:
            g = polygonal(build(geom))
        except shapely.errors.GEOSException:
            continue
        if not shapely.is_empty(g) and shapely.is_valid(g):
            out.append((name, g))
    return out


def best_fix(geom: shapely.Geometry, measure: Measure, noise_m2: float = 1e-4) -> Fix | None:
    """The construction that keeps the drawn ground best; None if that ground cannot be inferred.

    Call only for measurable geometries (:func:`problem`); the returned fix may still change the
    area a lot or keep nothing (``geometry`` None): the caller decides whether to accept it.
    """
    drawn = drawn_ground(geom)
    if drawn is None:
        return None
    built = candidates(geom)
    moved = []
    for _, g in built:
        try:
            moved.append(shapely.symmetric_difference(g, drawn))
        except shapely.errors.GEOSException:
            moved.append(None)
    to_measure = [drawn] + [g for _, g in built] + [m for m in moved if m is not None]
    areas = measure(np.asarray(to_measure, dtype=object))
    drawn_m2 = float(areas[0])
    if not built:
        return Fix(None, None, drawn_m2, 0.0, drawn_m2)
    sizes = areas[1:1 + len(built)]
    moved_iter = iter(areas[1 + len(built):])
    moved_m2 = np.array([float(next(moved_iter)) if m is not None else np.inf for m in moved])
    tie = max(noise_m2, 1e-9 * drawn_m2)
    k = int(np.flatnonzero(moved_m2 <= moved_m2.min() + tie)[0])
    name, g = built[k]
    return Fix(shapely.orient_polygons(g), name, drawn_m2, float(sizes[k]), float(moved_m2[k]))
