"""A broken demo: known problems planted into a demo district, for tests and the README.

:func:`build_broken` copies a demo from :func:`wangge.demo.district.build_demo` and plants six problems,
each among the micro-grids of a different grid, the grids at least ``SPACING_M`` apart (closer
only in a demo too small for that) so that the problems do not interact:

=================  ========  ==============  =================================================
rule               severity  codes           what was done
=================  ========  ==============  =================================================
overlap            error     (A, B)          micro-grid A grows into its sibling B by a lens
                                             of about 350 m² on the edge they share
overlap            warning   (A2, B2)        the same with a lens of about 0.4 m², below the
                                             1 m² tolerance
gap                error     (grid,)         micro-grid C gives up a lens of about 350 m² on
                                             the edge it shares with its sibling D: a hole in
                                             the grid between C and D
invalid_geometry   error     (E,)            two consecutive vertices of E's exterior ring
                                             swapped: a bow-tie that crosses itself
outside_parent     error     (F,)            F grows by a lens of about 350 m² across its
                                             grid's edge into K, a micro-grid of a
                                             neighbouring grid
duplicate_code     error     (code,)         micro-grid G takes the code of a sibling
=================  ========  ==============  =================================================

A lens is a circular segment: the shared edge (one straight segment, whose midpoint is more
than ``CLEARANCE_M`` from every other unit) is replaced, in one unit's ring only, by an arc
through the same two end vertices, bulging into the neighbour (or into the unit itself, for
the gap). Reusing the end vertices matters: a vertex inserted in the middle of a shared edge
(as cutting with a disc would) lies on the straight lon/lat edge but off the straight metric
one, or the other way round, and would leave a second, unplanted sliver of about 0.1 m²
between the two units in one of the CRSs. So the lenses touch nothing but the two units, and
untouched vertices keep their exact coordinates.

Parent geometries are not changed, and every other row is identical to the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from wangge.geo.crs import STORAGE_CRS, from_metric, metric_crs_of, to_metric
from wangge.geo.errors import InputError
from wangge.geo.levels import Level

CLEARANCE_M = 40.0  # the lens's centre is farther than this from every other unit
SPACING_M = 1500.0  # between the centroids of the grids that receive problems
LENS_M2 = 350.0
SMALL_LENS_M2 = 0.4
EDGE_M = (50.0, 250.0)  # length of the shared edge that carries a lens
BOW_TIE_MIN_M2 = 10.0
BOW_TIE_MAX_M2 = 1500.0  # area changing side in the bow-tie (or 1 % of the smallest sibling)


@dataclass(frozen=True)
class PlantedProblem:
    """A problem planted on purpose: the rule that should find it and the codes it names."""

    rule: str
    codes: tuple[str, ...]
    severity: str  # "error" | "warning"
    note: str


# A planted problem: the grids it touches, its record, and new geometry (or code) per row.
_Plan: TypeAlias = tuple[list[str], PlantedProblem, dict[int, shapely.Geometry | str]]


@dataclass
class _Context:
    units: gpd.GeoDataFrame
    metric: pyproj.CRS
    micro: NDArray[np.intp]          # row positions of the micro-grids
    micro_m: NDArray[np.object_]     # their metric geometries
    tree: shapely.STRtree
    grid_of: NDArray[np.object_]     # parent (grid) code of each micro-grid
    grid_m: dict[str, shapely.Geometry]


def build_broken(units: gpd.GeoDataFrame, *,
                 seed: int = 7) -> tuple[gpd.GeoDataFrame, list[PlantedProblem]]:
    """Copy ``units`` (a demo) and plant six known problems, each in a different grid.

    In order: ``overlap`` (error, codes A and B: A grows about 350 m² into its sibling B),
    ``overlap`` (warning, about 0.4 m², below the 1 m² tolerance), ``gap`` (error, the grid's
    code: a micro-grid gives up about 350 m² next to a sibling), ``invalid_geometry`` (error:
    a bow-tie ring), ``outside_parent`` (error: a micro-grid grows about 350 m² into a
    micro-grid of a neighbouring grid) and ``duplicate_code`` (error: a micro-grid takes a
    sibling's code). See the module docstring for how each is made.

    Returns the broken copy (same rows in the same order; only the six edited micro-grids
    differ) and one :class:`PlantedProblem` per problem. The grids that receive problems are
    drawn with ``seed`` among urban grids.
    """
    ctx = _context(units)
    out = units.copy()
    geometry = np.asarray(out.geometry.values, dtype=object).copy()
    codes = out["code"].to_numpy(dtype=object).copy()
    rng = np.random.default_rng(seed)
    grids = units[units["level"] == Level.GRID.value]
    urban = grids[[a.get("area_type") == "urban" for a in grids["attrs"]]]
    order = (urban if len(urban) >= 6 else grids)["code"].to_numpy(dtype=object)
    order = order[rng.permutation(len(order))]
    used: dict[str, shapely.Point] = {}  # grids already touched, with their centroids
    problems: list[PlantedProblem] = []

    def far(grids: list[str], spacing: float) -> bool:
        return all(g not in used and all(ctx.grid_m[g].centroid.distance(c) >= spacing
                                         for c in used.values()) for g in grids)

    def plant(find: Callable[[_Context, str], _Plan | None]) -> None:
        for spacing in (SPACING_M, SPACING_M / 4, 0.0):
            for grid in order:
                if not far([grid], spacing):
                    continue
                found = find(ctx, grid)
                if found is None or not far(found[0], spacing):
                    continue
                touched, problem, edits = found
                used.update({g: ctx.grid_m[g].centroid for g in touched})
                problems.append(problem)
                for row, edit in edits.items():
                    if isinstance(edit, str):
                        codes[row] = edit
                    else:
                        geometry[row] = edit
                return
        raise InputError("演示数据太小，放不下全部预设问题。",
                         "The demo is too small to plant every problem.", rule=find.__name__)

    plant(_overlap)
    plant(_small_overlap)
    plant(_gap)
    plant(_bow_tie)
    plant(_outside_parent)
    plant(_duplicate_code)
    out["code"] = codes
    out = out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=units.crs))
    return out, problems


def _context(units: gpd.GeoDataFrame) -> _Context:
    missing = [c for c in ("code", "level", "parent_code", "attrs") if c not in units.columns]
    if missing or units.crs is None or not units.crs.equals(STORAGE_CRS):
        raise InputError("需要 build_demo 生成的 EPSG:4490 单元数据。",
                         "Expected units from build_demo in EPSG:4490.", missing=missing)
    geoms = np.asarray(units.geometry.values, dtype=object)
    metric = metric_crs_of(geoms)
    micro = np.flatnonzero((units["level"] == Level.MICROGRID.value).to_numpy())
    micro_m = to_metric(geoms[micro], metric)
    grid_rows = np.flatnonzero((units["level"] == Level.GRID.value).to_numpy())
    grid_m = dict(zip(units["code"].to_numpy()[grid_rows],
                      to_metric(geoms[grid_rows], metric), strict=True))
    return _Context(units, metric, micro, micro_m, shapely.STRtree(micro_m),
                    units["parent_code"].to_numpy(dtype=object)[micro], grid_m)


def _children(ctx: _Context, grid: str) -> NDArray[np.intp]:
    """Indexes (into ``ctx.micro``) of the micro-grids of ``grid``, in code order."""
    return np.flatnonzero(ctx.grid_of == grid)


def _code(ctx: _Context, i: int) -> str:
    return str(ctx.units["code"].iat[ctx.micro[i]])


def _shared_edge(ctx: _Context, i: int, j: int, interior: str | None = None) -> int | None:
    """Position in ``i``'s exterior ring of the longest segment it shares with ``j``.

    The segment must measure ``EDGE_M`` and its midpoint lie farther than ``CLEARANCE_M`` from
    every unit other than ``i`` and ``j`` (and from the edge of grid ``interior`` if given).
    """
    ring = shapely.get_coordinates(_geom(ctx, i).exterior)
    other = {tuple(p) for p in shapely.get_coordinates(_geom(ctx, j).exterior).tolist()}
    ring_m = shapely.get_coordinates(ctx.micro_m[i].exterior)
    length = np.hypot(*np.diff(ring_m, axis=0).T)
    for k in np.argsort(-length, kind="stable"):
        if not EDGE_M[0] <= length[k] <= EDGE_M[1]:
            continue
        if tuple(ring[k]) not in other or tuple(ring[k + 1]) not in other:
            continue
        mid = shapely.Point((ring_m[k] + ring_m[k + 1]) / 2)
        near = set(ctx.tree.query(mid, predicate="dwithin", distance=CLEARANCE_M).tolist())
        if near - {i, j}:
            continue
        if interior is not None and mid.distance(ctx.grid_m[interior].boundary) <= CLEARANCE_M:
            continue
        return int(k)
    return None


def _with_lens(ctx: _Context, i: int, k: int, into: int, area: float
               ) -> tuple[shapely.Polygon, shapely.Polygon] | None:
    """Unit ``i`` with its ring segment ``k`` bent into unit ``into`` by a lens of ``area`` m².

    Returns the new polygon (EPSG:4490) and the lens (metric), or None if the lens would not
    fit inside ``into`` or the result would be invalid.
    """
    ring_m = shapely.get_coordinates(ctx.micro_m[i].exterior)
    q1, q2 = ring_m[k], ring_m[k + 1]
    arc = _arc(q1, q2, shapely.get_coordinates(ctx.micro_m[into].point_on_surface())[0], area)
    lens = shapely.Polygon(np.vstack([q1, arc, q2]))
    if not lens.is_valid or shapely.difference(lens, ctx.micro_m[into]).area > 1e-6 * area:
        return None
    geom = _geom(ctx, i)
    ring = shapely.get_coordinates(geom.exterior)
    arc_lonlat = shapely.get_coordinates(
        from_metric(np.array([shapely.LineString(arc)], dtype=object), ctx.metric)[0])
    bent = shapely.Polygon(np.vstack([ring[:k + 1], arc_lonlat, ring[k + 1:]]),
                           [r.coords for r in geom.interiors])
    return (bent, lens) if bent.is_valid else None


def _arc(q1: NDArray[np.float64], q2: NDArray[np.float64], toward: NDArray[np.float64],
         area: float, steps: int = 24) -> NDArray[np.float64]:
    """Inner points of the circular arc from ``q1`` to ``q2`` that bulges toward ``toward``
    and encloses ``area`` with the chord."""
    chord = q2 - q1
    length = float(np.hypot(*chord))
    normal = np.array([-chord[1], chord[0]]) / length
    if np.dot(toward - (q1 + q2) / 2, normal) < 0:
        normal = -normal
    lo, hi = 0.0, length / 2  # sagitta; a half disc at most
    for _ in range(60):
        h = (lo + hi) / 2
        radius = (length**2 / 4 + h**2) / (2 * h)
        half = np.arcsin(min(1.0, length / (2 * radius)))
        segment = radius**2 * (half - np.sin(half) * np.cos(half))
        lo, hi = (h, hi) if segment < area else (lo, h)
    centre = (q1 + q2) / 2 - normal * (radius - h)
    start = np.arctan2(*(q1 - centre)[::-1])
    turn = np.arctan2(*(q2 - centre)[::-1]) - start
    turn = (turn + np.pi) % (2 * np.pi) - np.pi  # the minor arc
    angles = start + turn * np.linspace(0, 1, steps + 1)[1:-1]
    return centre + radius * np.column_stack([np.cos(angles), np.sin(angles)])


def _geom(ctx: _Context, i: int) -> shapely.Geometry:
    return ctx.units.geometry.iat[ctx.micro[i]]


def _grow(ctx: _Context, grid: str, area: float, severity: str) -> _Plan | None:
    kids = _children(ctx, grid)
    for a in kids:
        for b in kids:
            if a == b or not shapely.touches(ctx.micro_m[a], ctx.micro_m[b]):
                continue
            k = _shared_edge(ctx, int(a), int(b), interior=grid)
            bent = None if k is None else _with_lens(ctx, int(a), k, int(b), area)
            if bent is None:
                continue
            grown, lens = bent
            note = (f"micro-grid {_code(ctx, int(a))} grows into its sibling "
                    f"{_code(ctx, int(b))} by a lens of {lens.area:.2f} m² on their shared edge")
            return [grid], PlantedProblem("overlap", (_code(ctx, int(a)), _code(ctx, int(b))),
                                          severity, note), {int(ctx.micro[a]): grown}
    return None


def _overlap(ctx: _Context, grid: str) -> _Plan | None:
    return _grow(ctx, grid, LENS_M2, "error")


def _small_overlap(ctx: _Context, grid: str) -> _Plan | None:
    return _grow(ctx, grid, SMALL_LENS_M2, "warning")


def _gap(ctx: _Context, grid: str) -> _Plan | None:
    kids = _children(ctx, grid)
    for c in kids:
        for d in kids:
            if c == d or not shapely.touches(ctx.micro_m[c], ctx.micro_m[d]):
                continue
            k = _shared_edge(ctx, int(c), int(d), interior=grid)
            bent = None if k is None else _with_lens(ctx, int(c), k, int(c), LENS_M2)
            if bent is None:
                continue
            shrunk, lens = bent
            note = (f"micro-grid {_code(ctx, int(c))} gives up a lens of {lens.area:.0f} m² on "
                    f"the edge it shares with its sibling {_code(ctx, int(d))}: a hole in grid "
                    f"{grid}")
            return [grid], PlantedProblem("gap", (grid,), "error", note), \
                {int(ctx.micro[c]): shrunk}
    return None


def _bow_tie(ctx: _Context, grid: str) -> _Plan | None:
    """Swap the two consecutive vertices whose swap crosses the ring and disturbs least area.

    The two triangles that change side must each measure at least ``BOW_TIE_MIN_M2`` (a
    visible crossing, not a fold along a straight edge) and together at most
    ``BOW_TIE_MAX_M2`` or 1 % of the smallest micro-grid of the grid, and stay off the grid's
    edge.
    """
    edge = shapely.boundary(ctx.grid_m[grid])
    kids = _children(ctx, grid)
    limit = max(BOW_TIE_MAX_M2, 0.01 * float(shapely.area(ctx.micro_m[kids]).min()))
    candidates: list[tuple[float, int, int]] = []
    for e in kids:
        ring_m = shapely.get_coordinates(ctx.micro_m[e].exterior)
        for i in range(1, len(ring_m) - 3):
            p = ring_m[i - 1:i + 3]
            sides = (_triangle_area(p[0], p[1], p[2]), _triangle_area(p[1], p[2], p[3]))
            if min(sides) >= BOW_TIE_MIN_M2 and sum(sides) <= limit:
                candidates.append((sum(sides), int(e), i))
    for _, e, i in sorted(candidates):
        ring_m = shapely.get_coordinates(ctx.micro_m[e].exterior)
        if shapely.distance(shapely.multipoints(ring_m[i - 1:i + 3]).convex_hull, edge) < 1.0:
            continue
        geom = _geom(ctx, e)
        ring = shapely.get_coordinates(geom.exterior)
        ring[[i, i + 1]] = ring[[i + 1, i]]
        broken = shapely.Polygon(ring, [r.coords for r in geom.interiors])
        if not shapely.is_valid_reason(broken).startswith("Self-intersection"):
            continue
        lobes = shapely.make_valid(to_metric(np.array([broken], dtype=object), ctx.metric)[0])
        moved = shapely.area(shapely.symmetric_difference(ctx.micro_m[e], lobes))
        note = (f"micro-grid {_code(ctx, e)}: two consecutive vertices of its exterior ring "
                "swapped, so the ring crosses itself; its edges there no longer match its "
                f"neighbours' (about {moved:.0f} m²)")
        return [grid], PlantedProblem("invalid_geometry", (_code(ctx, e),), "error", note), \
            {int(ctx.micro[e]): broken}
    return None


def _triangle_area(a: NDArray[np.float64], b: NDArray[np.float64],
                   c: NDArray[np.float64]) -> float:
    return float(abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])) / 2)


def _outside_parent(ctx: _Context, grid: str) -> _Plan | None:
    for f in _children(ctx, grid):
        for k in ctx.tree.query(ctx.micro_m[f], predicate="touches"):
            other = str(ctx.grid_of[k])
            if other == grid:
                continue
            seg = _shared_edge(ctx, int(f), int(k))
            bent = None if seg is None else _with_lens(ctx, int(f), seg, int(k), LENS_M2)
            if bent is None:
                continue
            grown, lens = bent
            note = (f"micro-grid {_code(ctx, int(f))} of grid {grid} grows by a lens of "
                    f"{lens.area:.0f} m² across the grid's edge into {_code(ctx, int(k))} of "
                    f"grid {other} (so it also overlaps that micro-grid)")
            return [grid, other], PlantedProblem(
                "outside_parent", (_code(ctx, int(f)),), "error", note), \
                {int(ctx.micro[f]): grown}
    return None


def _duplicate_code(ctx: _Context, grid: str) -> _Plan | None:
    kids = _children(ctx, grid)
    if len(kids) < 2:
        return None
    first, second = int(kids[0]), int(kids[1])
    code = _code(ctx, first)
    note = (f"micro-grid {ctx.units['name'].iat[ctx.micro[second]]} (was {_code(ctx, second)}) "
            f"takes the code of its sibling {ctx.units['name'].iat[ctx.micro[first]]}")
    return [grid], PlantedProblem("duplicate_code", (code,), "error", note), \
        {int(ctx.micro[second]): code}
