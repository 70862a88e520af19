"""A plausible walking network for the demo district (no OSM extract of a Chinese city is offline).

Built in the district's Gauss–Krüger zone, in a frame turned by a few degrees, then noded
(``shapely.node``) and handed to :meth:`wangge.geo.coverage.network.WalkNetwork.from_lines`:

- **Arterials** (主干道) every 400–600 m (jittered spacing, wavy by ±15 m) over the urban area,
  country roads every 1.2–2.2 km over the whole district;
- **local streets** (支路) every 130–200 m in the urban area, a quarter of their blocks missing
  (superblocks, T-junctions, dead ends);
- **compound paths** (小区内部道路): short dead-end stubs off local streets, a third of them
  closed into small loops;
- a **river** (串场河-like) crossing the district west to east: streets are cut along it except
  at bridges, 1.5–3 km apart along the river;
- everything clipped to the district. The urban area is the union of the urban micro-grids
  (``attrs["area_type"] == "urban"``) of ``units``, or without units a 6 km disc around the
  urban core.

Everything follows from ``seed``. On Tinghu (320902) it makes about 25,000 edges in 1–2 s.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from wangge.demo.district import _LAYOUTS, district_boundary
from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.crs import from_metric, metric_crs_for, to_metric

__all__ = ["build_demo_network"]

ARTERIAL_M = (400.0, 600.0)
COUNTRY_M = (1200.0, 2200.0)
LOCAL_M = (130.0, 200.0)
LOCAL_GAP_SHARE = 0.25
STUBS_PER_KM2 = 25.0
BRIDGE_M = (1500.0, 3000.0)
RIVER_HALF_WIDTH_M = 15.0
URBAN_DISC_M = 6000.0


def build_demo_network(units: gpd.GeoDataFrame | None = None, *, seed: int = 2026,
                       adcode: str = "320902") -> WalkNetwork:
    """The demo walking network (see the module docstring), largest component only."""
    rng = np.random.default_rng([seed, 5_2026])
    district = district_boundary(adcode)
    metric = metric_crs_for(shapely.centroid(district).x)
    area = to_metric(np.array([district], dtype=object), metric)[0]
    urban = _urban_area(units, area, adcode, metric)
    centre = shapely.centroid(area)
    cx, cy = centre.x, centre.y
    theta = np.deg2rad(rng.uniform(4.0, 12.0))

    def turn(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        c, s = np.cos(theta), np.sin(theta)
        return np.column_stack([cx + c * x - s * y, cy + s * x + c * y])

    def local_box(geom: shapely.Geometry) -> tuple[float, float, float, float]:
        pts = shapely.get_coordinates(geom) - (cx, cy)
        c, s = np.cos(theta), np.sin(theta)
        lx, ly = c * pts[:, 0] + s * pts[:, 1], -s * pts[:, 0] + c * pts[:, 1]
        return lx.min(), ly.min(), lx.max(), ly.max()

    lines: list[shapely.Geometry] = []
    country = _grid_lines(local_box(area), COUNTRY_M, 0.0, 40.0, rng, turn)
    lines += list(shapely.intersection(country, area))
    ubox = local_box(urban)
    arterials = _grid_lines(ubox, ARTERIAL_M, 0.0, 15.0, rng, turn)
    locals_ = _grid_lines(ubox, LOCAL_M, LOCAL_GAP_SHARE, 4.0, rng, turn, step=(60.0, 110.0))
    urban_lines = shapely.intersection(np.concatenate([arterials, locals_]), urban)
    lines += list(urban_lines)
    lines += list(_compound_paths(locals_, urban, rng))
    lines = [g for g in lines if not shapely.is_empty(g)]
    lines, river, bridges = _cut_by_river(np.array(lines, dtype=object), area, arterials, country, rng)
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(
        shapely.get_parts(np.array(lines, dtype=object)))))
    noded = shapely.intersection(noded, area)
    noded = shapely.get_parts(noded[~shapely.is_empty(noded)])
    noded = noded[shapely.get_type_id(noded) == 1]
    net = WalkNetwork.from_lines(from_metric(noded, metric), snap_m=0.5, metric=metric)
    degree = np.bincount(np.concatenate([net.u, net.v]), minlength=net.n_nodes)
    overshoot = (net.length_m < 2.0) & ((degree[net.u] == 1) | (degree[net.v] == 1))
    net = net.subset(~overshoot)  # the paths' 0.7 m crossings of their street
    net, dropped = net.largest_component()
    net.attrs.update({"seed": seed, "adcode": adcode, "dropped_components": dropped.components,
                      "dropped_edges": dropped.edges, "river": river, "bridges_along_m": bridges})
    return net


def _urban_area(units: gpd.GeoDataFrame | None, area: shapely.Geometry, adcode: str,
                metric: object) -> shapely.Geometry:
    if units is not None and "attrs" in units:
        micro = units[units["level"].astype(str) == "microgrid"] if "level" in units else units
        urban = np.array([(a or {}).get("area_type") == "urban" for a in micro["attrs"]], dtype=bool)
        if urban.any():
            geoms = to_metric(np.asarray(micro.geometry.to_numpy(), dtype=object)[urban], metric)
            return shapely.make_valid(shapely.union_all(shapely.buffer(geoms, 1.0, quad_segs=1)))
    core = _LAYOUTS.get(adcode)
    lon, lat = core.core if core else tuple(shapely.centroid(area).coords[0])
    p = to_metric(np.array([shapely.Point(lon, lat)], dtype=object), metric)[0] if core else \
        shapely.centroid(area)
    return shapely.intersection(shapely.buffer(p, URBAN_DISC_M), area)


def _positions(lo: float, hi: float, spacing: tuple[float, float],
               rng: np.random.Generator) -> NDArray[np.float64]:
    steps = rng.uniform(*spacing, size=int((hi - lo) / spacing[0]) + 2)
    pos = lo + rng.uniform(0, spacing[0]) + np.r_[0.0, np.cumsum(steps)]
    return pos[pos < hi]


def _grid_lines(box: tuple[float, float, float, float], spacing: tuple[float, float], gap_share: float,
                wiggle_m: float, rng: np.random.Generator, turn: object, *,
                step: tuple[float, float] = (200.0, 400.0)) -> NDArray[np.object_]:
    """Wavy lines in both directions across ``box`` (local frame), some segments left out."""
    x0, y0, x1, y1 = box
    out: list[shapely.Geometry] = []
    for axis in (0, 1):
        lo, hi = (x0, x1) if axis == 0 else (y0, y1)
        a0, a1 = (y0, y1) if axis == 0 else (x0, x1)
        for p in _positions(lo, hi, spacing, rng):
            along = np.r_[a0, a0 + np.cumsum(rng.uniform(*step, size=int((a1 - a0) / step[0]) + 2))]
            along = along[along <= a1 + step[1]]
            across = p + rng.uniform(-wiggle_m, wiggle_m, size=len(along))
            x, y = (across, along) if axis == 0 else (along, across)
            xy = turn(x, y)  # type: ignore[operator]
            keep = rng.random(len(xy) - 1) >= gap_share
            # Runs of kept segments become lines.
            run = np.cumsum(np.r_[0, ~keep[:-1] | ~keep[1:]]) if len(keep) > 1 else np.zeros(1, int)
            for r in np.unique(run[keep]):
                seg = np.flatnonzero(keep & (run == r))
                out.append(shapely.LineString(xy[seg[0]:seg[-1] + 2]))
    return np.array(out, dtype=object)


def _compound_paths(locals_: NDArray[np.object_], urban: shapely.Geometry,
                    rng: np.random.Generator) -> NDArray[np.object_]:
    """Dead-end stubs and small loops off the local streets, inside the urban area."""
    n = int(shapely.area(urban) / 1e6 * STUBS_PER_KM2)
    if n == 0 or not len(locals_):
        return np.empty(0, dtype=object)
    street = rng.integers(len(locals_), size=n)
    frac = rng.uniform(0.1, 0.9, size=n)
    lines = locals_[street]
    d = frac * shapely.length(lines)
    p = shapely.get_coordinates(shapely.line_interpolate_point(lines, d))
    q = shapely.get_coordinates(shapely.line_interpolate_point(lines, d + 1.0))
    t = (q - p) / np.maximum(np.hypot(*(q - p).T), 1e-9)[:, None]
    normal = np.column_stack([-t[:, 1], t[:, 0]]) * rng.choice([-1.0, 1.0], size=n)[:, None]
    depth = rng.uniform(40.0, 90.0, size=n)[:, None]
    width = rng.uniform(30.0, 60.0, size=n)[:, None]
    start = p - normal * 0.7  # cross the street slightly so noding connects the path
    tip = p + normal * depth
    loop = rng.random(n) < 1 / 3
    coords = []
    for i in range(n):
        if loop[i]:
            c = [start[i], tip[i], tip[i] + t[i] * width[i], p[i] + t[i] * width[i] - normal[i] * 0.7]
        else:
            c = [start[i], tip[i]]
        coords.append(shapely.LineString(c))
    paths = np.array(coords, dtype=object)
    return shapely.intersection(paths, urban)


def _cut_by_river(lines: NDArray[np.object_], area: shapely.Geometry, arterials: NDArray[np.object_],
                  country: NDArray[np.object_], rng: np.random.Generator,
                  ) -> tuple[NDArray[np.object_], shapely.Geometry, list[float]]:
    """Cut every street along a river across the district, except at a few bridges.

    Returns the streets, the river (metric LineString) and the bridges' positions along it (m)."""
    x0, y0, x1, y1 = shapely.bounds(area)
    cy = shapely.centroid(area).y
    xs = np.linspace(x0 - 1000, x1 + 1000, 400)
    phase = rng.uniform(0, 2 * np.pi)
    ys = cy - 2500 + 900 * np.sin(xs / 3100.0 + phase) + 400 * np.sin(xs / 1100.0)
    river = shapely.LineString(np.column_stack([xs, ys]))
    crossings = shapely.get_parts(shapely.intersection(river, shapely.union_all(
        np.concatenate([arterials, country]))))
    crossings = crossings[shapely.get_type_id(crossings) == 0]
    along = np.sort(shapely.line_locate_point(river, crossings))
    bridges: list[float] = []
    next_at = -np.inf
    for a in along:
        if a >= next_at:
            bridges.append(float(a))
            next_at = a + rng.uniform(*BRIDGE_M)
    water = shapely.buffer(river, RIVER_HALF_WIDTH_M, cap_style="flat")
    if bridges:
        decks = shapely.buffer(shapely.line_interpolate_point(river, np.array(bridges)), 25.0)
        water = shapely.difference(water, shapely.union_all(decks))
    hit = shapely.intersects(lines, water)
    lines = lines.copy()
    lines[hit] = shapely.difference(lines[hit], water)
    return lines[~shapely.is_empty(lines)], river, bridges
