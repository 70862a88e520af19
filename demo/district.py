"""A realistic, deterministic demo district: streets, communities, grids and micro-grids.

Finer boundaries than districts are not published as open data, so wangge generates them inside
a real district boundary (Tinghu District, 亭湖区, adcode 320902, by default), sized with the
figures Tinghu reports: 7 streets, 70 communities, 314 grids and 1,976 micro-grids.

How it is built (in the district's Gauss–Krüger zone, converted to EPSG:4490 at the end):

1. Micro-grid seeds: most around the urban core, some around a few small town centres, the
   rest uniform; two Lloyd steps even them out. Urban micro-grids measure a few hectares,
   rural ones a few square kilometres.
2. Micro-grids: the Voronoi cells of the seeds, noded with the district boundary and
   polygonized, so they cover the district exactly and neighbours share identical vertices.
3. Hierarchy, top-down: the micro-grids are split into contiguous, roughly equal groups
   (k-means, contiguity, balancing; see :func:`wangge.demo.topology.partition`) for streets, each
   street's into communities, each community's into grids. Group counts follow the number of
   micro-grids, so a group holds about as many people wherever it is.
4. Geometry, bottom-up: each parent is the ``coverage_union_all`` of its children, so its
   vertices are exactly theirs; the only transform to lon/lat is pointwise, so shared vertices
   stay identical. Every level covers its parent with no gap and no overlap, in EPSG:4490 and
   in the metric CRS alike. The streets cover the district exactly in EPSG:4490, the CRS its
   straight edges are drawn in (see :func:`_pin_to`).

Everything follows from ``seed``: the same seed gives identical codes, names and coordinates.
The names of streets and communities are synthetic: invented, plausible names, not those of
the real units of the district (any match with a real name is a coincidence).

:func:`build_broken` (in :mod:`wangge.demo.broken`) plants known problems into a demo.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from wangge.demo.broken import PlantedProblem, build_broken
from wangge.demo.topology import (
    allocate,
    dissolve,
    exact_cells,
    outer_vertices,
    partition,
    shared_edges,
    voronoi_cells,
)
from wangge.geo.crs import (
    STORAGE,
    STORAGE_CRS,
    check_plausible_lonlat,
    from_metric,
    metric_crs_for,
    to_metric,
)
from wangge.geo.errors import InputError, NotFound
from wangge.geo.levels import ORDER

__all__ = ["BOUNDARIES_DIR", "PlantedProblem", "build_broken", "build_demo", "district_boundary"]

BOUNDARIES_DIR = Path(__file__).resolve().parents[1] / "data" / "boundaries"


@dataclass(frozen=True)
class _Layout:
    """Where people live: the urban core and town centres (lon, lat), with spreads in metres."""

    core: tuple[float, float]
    towns: tuple[tuple[float, float], ...]
    core_sigma_m: float = 3000.0
    town_sigma_m: float = 1200.0


# Downtown Yancheng lies in the west of Tinghu; the town centres are invented places east of it.
_LAYOUTS = {
    "320902": _Layout(core=(120.175, 33.385),
                      towns=((120.075, 33.455), (120.33, 33.335), (120.52, 33.555))),
}
CORE_SHARE = 0.72    # of the micro-grid seeds around the urban core
TOWN_SHARE = 0.18    # around the town centres, split evenly
LLOYD_STEPS = 2
URBAN_MAX_HA = 20.0  # a micro-grid this small or smaller is urban
BALANCE_TOLERANCE = 0.3  # group sizes within 30 % of the mean number of micro-grids

# Synthetic names: two characters, one from each list, never both the same character.
_NAME_FIRST = "文新枫春秀康安和福锦华青翠明瑞泰兴嘉景海丹金玉丰长永怡惠颐聚乐朝阳悦望清德荷桂"
_NAME_SECOND = "园苑林泽湖河桥庄塘港城里亭湾山源馨晖华光盛欣居庭景安和福宁康"
# Real street and town names of Tinghu, kept out of the synthetic pool.
_REAL_NAMES = frozenset({"五星", "文峰", "先锋", "毓龙", "大洋", "新洋", "东亭", "新兴", "南洋",
                         "盐东", "黄尖", "便仓", "亭湖"})


def district_boundary(adcode: str = "320902") -> shapely.Geometry:
    """The boundary of district ``adcode`` (EPSG:4490) from ``data/boundaries/<adcode>.geojson``."""
    path = BOUNDARIES_DIR / f"{adcode}.geojson"
    if not path.is_file():
        raise NotFound(f"没有区县 {adcode} 的边界文件（{path.name}）。",
                       f"No boundary file for district {adcode} ({path.name}).", adcode=adcode)
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    return shapely.union_all(geoms) if len(geoms) > 1 else geoms[0]


def build_demo(district: shapely.Geometry | None = None, *, adcode: str = "320902",
               seed: int = 2026, n_streets: int = 7, n_communities: int = 70,
               n_grids: int = 314, n_microgrids: int = 1976) -> gpd.GeoDataFrame:
    """Generate the demo hierarchy covering ``district`` exactly (see the module docstring).

    ``district`` is a (Multi)Polygon in EPSG:4490; by default the boundary of ``adcode``.
    Returns one row per unit with columns ``code, name, level, parent_code, attrs, geometry``
    in EPSG:4490, ordered street, community, grid, micro-grid, then by code.

    Codes extend the parent's code by a 3-digit serial (street = adcode + 3 digits, so 9, 12,
    15 and 18 digits). Serials start at 001 in each parent and run north to south in rows, west
    to east within a row (rows are bands of the parent's extent as high as a typical child, and
    each child falls in the band of its centroid). Names: streets "……街道" and communities
    "……社区" (synthetic), grids "<社区名>第N网格", micro-grids "<网格名>第M微网格", where N and M
    are the serials. ``attrs`` is ``{"area_type": "urban" | "rural"}``: a micro-grid is urban
    when it measures at most ``URBAN_MAX_HA`` hectares, a parent when most of its micro-grids are.
    """
    counts = (n_streets, n_communities, n_grids, n_microgrids)
    _check_arguments(adcode, counts)
    if district is None:
        district = district_boundary(adcode)
    if shapely.get_type_id(district) not in (3, 6) or not shapely.is_valid(district):
        raise InputError("区县边界必须是有效的（多）面。",
                         "The district must be a valid Polygon or MultiPolygon.",
                         reason=shapely.is_valid_reason(district))
    check_plausible_lonlat(np.array([district], dtype=object), STORAGE, where="district")
    rng = np.random.default_rng(seed)
    metric = metric_crs_for(shapely.centroid(district).x)
    area = to_metric(np.array([district], dtype=object), metric)[0]
    layout = _layout(adcode, district, area, metric, rng)

    seeds = _lloyd(_sample_seeds(area, n_microgrids, layout, rng), area)
    cells = exact_cells(seeds, area)
    adjacency, _ = shared_edges(cells)
    centres = shapely.get_coordinates(shapely.centroid(cells))

    # Top-down: group ids per micro-grid for streets, communities, grids.
    group = np.zeros(len(cells), dtype=np.intp)
    memberships: list[NDArray[np.intp]] = []
    for total in counts[:-1]:
        sizes = np.bincount(group)
        ks = allocate(total, sizes, minimum=2, per_child=2)
        _check_fanout(ks)
        new = np.empty_like(group)
        offset = 0
        for g, k in enumerate(ks):
            members = np.flatnonzero(group == g)
            labels = partition(centres[members], adjacency[members][:, members], int(k), rng,
                               tolerance=BALANCE_TOLERANCE)
            new[members] = offset + labels
            offset += int(k)
        memberships.append(new)
        group = new
    _check_fanout(np.bincount(group))

    # Bottom-up geometry: each parent is the coverage union of its children.
    street_of_cell, community_of_cell, grid_of_cell = memberships
    grid_geoms = dissolve(cells, grid_of_cell, n_grids)
    community_of_grid = np.empty(n_grids, dtype=np.intp)
    community_of_grid[grid_of_cell] = community_of_cell
    community_geoms = dissolve(grid_geoms, community_of_grid, n_communities)
    street_of_community = np.empty(n_communities, dtype=np.intp)
    street_of_community[community_of_cell] = street_of_cell
    street_geoms = dissolve(community_geoms, street_of_community, n_streets)
    geoms = [street_geoms, community_geoms, grid_geoms, cells]
    parents = [np.zeros(n_streets, dtype=np.intp), street_of_community, community_of_grid,
               grid_of_cell]
    return _assemble(adcode, district, geoms, parents, metric, rng)


def _check_arguments(adcode: str, counts: tuple[int, ...]) -> None:
    problems = []
    if not (isinstance(adcode, str) and len(adcode) == 6 and adcode.isdigit()):
        problems.append(f"adcode must be 6 digits, got {adcode!r}")
    if any(not isinstance(c, int) or c < 1 for c in counts):
        problems.append(f"unit counts must be positive integers, got {list(counts)}")
    elif any(upper < lower for lower, upper in zip(counts, counts[1:], strict=False)):
        problems.append(f"each level needs at least as many units as the one above: {list(counts)}")
    if problems:
        raise InputError("演示数据参数无效：" + "；".join(problems),
                         "Invalid demo parameters: " + "; ".join(problems), counts=list(counts))


def _check_fanout(children_per_parent: NDArray[np.intp]) -> None:
    if children_per_parent.max() > 999:
        raise InputError("一个上级单元下超过 999 个下级单元，三位序号不够用。",
                         "More than 999 children in one parent: 3-digit serials run out.",
                         most_children=int(children_per_parent.max()))


def _layout(adcode: str, district: shapely.Geometry, area: shapely.Geometry,
            metric: pyproj.CRS, rng: np.random.Generator) -> dict[str, NDArray[np.float64]]:
    """Core and town centres in metric coordinates, with their spreads."""
    known = _LAYOUTS.get(adcode)
    if known is not None and shapely.contains_xy(district, *known.core):
        lonlat = np.array([known.core, *known.towns])
        points = to_metric(shapely.points(lonlat), metric)
        centres = shapely.get_coordinates(points)
        sigmas = np.array([known.core_sigma_m, known.town_sigma_m])
    else:
        core = shapely.get_coordinates(shapely.point_on_surface(area))
        towns = _uniform_inside(area, 3, rng)
        centres = np.vstack([core, towns])
        sigmas = np.array([_Layout.core_sigma_m, _Layout.town_sigma_m])
    return {"core": centres[0], "towns": centres[1:], "sigmas": sigmas}


def _inside(area: shapely.Geometry, count: int, rng: np.random.Generator,
            draw: Callable[[int, np.random.Generator], NDArray[np.float64]]
            ) -> NDArray[np.float64]:
    """``count`` points from ``draw(m, rng)`` that fall inside ``area`` (rejection sampling)."""
    kept: list[NDArray[np.float64]] = []
    have = 0
    for _ in range(10_000):
        if have >= count:
            break
        pts = draw(max(2 * (count - have), 16), rng)
        pts = pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])]
        kept.append(pts)
        have += len(pts)
    else:
        raise RuntimeError("could not place demo seeds inside the district")
    return np.vstack(kept)[:count] if kept else np.empty((0, 2))


def _uniform_inside(area: shapely.Geometry, count: int,
                    rng: np.random.Generator) -> NDArray[np.float64]:
    minx, miny, maxx, maxy = area.bounds
    return _inside(area, count, rng,
                   lambda m, r: r.uniform((minx, miny), (maxx, maxy), size=(m, 2)))


def _gaussian_inside(area: shapely.Geometry, count: int, centre: NDArray[np.float64],
                     sigma: float, rng: np.random.Generator) -> NDArray[np.float64]:
    return _inside(area, count, rng, lambda m, r: centre + r.normal(scale=sigma, size=(m, 2)))


def _sample_seeds(area: shapely.Geometry, n: int, layout: dict[str, NDArray[np.float64]],
                  rng: np.random.Generator) -> NDArray[np.float64]:
    """Micro-grid seeds: ``CORE_SHARE`` around the core, ``TOWN_SHARE`` around towns, rest uniform."""
    shapely.prepare(area)
    towns = layout["towns"]
    n_core = round(n * CORE_SHARE)
    n_towns = round(n * TOWN_SHARE) if len(towns) else 0
    per_town = np.full(len(towns), n_towns // max(len(towns), 1))
    per_town[: n_towns - int(per_town.sum())] += 1
    core_sigma, town_sigma = layout["sigmas"]
    parts = [_gaussian_inside(area, n_core, layout["core"], core_sigma, rng)]
    parts += [_gaussian_inside(area, int(c), t, town_sigma, rng)
              for t, c in zip(towns, per_town, strict=True)]
    parts.append(_uniform_inside(area, n - n_core - n_towns, rng))
    return np.vstack(parts)


def _lloyd(points: NDArray[np.float64], area: shapely.Geometry) -> NDArray[np.float64]:
    """``LLOYD_STEPS`` Lloyd steps: move each seed to the centroid of its clipped Voronoi cell."""
    extent = shapely.buffer(shapely.envelope(area), 1000.0)
    for _ in range(LLOYD_STEPS):
        cells = shapely.intersection(voronoi_cells(points, extent), area)
        centroids = shapely.centroid(cells)
        inside = shapely.contains_xy(area, shapely.get_x(centroids), shapely.get_y(centroids))
        points = shapely.get_coordinates(
            np.where(inside, centroids, shapely.point_on_surface(cells)))
    return points


def _serials(parent_of: NDArray[np.intp], children: NDArray[np.object_],
             parents: NDArray[np.object_]) -> NDArray[np.intp]:
    """Serial numbers 1.. inside each parent: north to south in rows, west to east in a row."""
    centre = shapely.get_coordinates(shapely.centroid(children))
    serial = np.empty(len(children), dtype=np.intp)
    order = np.argsort(parent_of, kind="stable")
    bounds = np.searchsorted(parent_of[order], np.arange(len(parents) + 1))
    for p, geom in enumerate(parents):
        idx = order[bounds[p]:bounds[p + 1]]
        band = np.sqrt(shapely.area(geom) / len(idx))
        row = np.floor((shapely.bounds(geom)[3] - centre[idx, 1]) / band)
        serial[idx[np.lexsort((centre[idx, 0], row))]] = np.arange(1, len(idx) + 1)
    return serial


def _name_roots(n_streets: int, n_communities: int,
                rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Distinct synthetic two-character names: streets (with distinct first characters if the
    pool allows), then communities. A demo needing more names than two characters give (one
    many times Tinghu's size) goes on with three-character names (``文园林``) after them."""
    pool = [a + b for a in _NAME_FIRST for b in _NAME_SECOND
            if a != b and a + b not in _REAL_NAMES]
    drawn = [pool[i] for i in rng.permutation(len(pool))]
    if n_streets + n_communities > len(pool):
        more = [a + b + c for a in _NAME_FIRST for b in _NAME_SECOND for c in _NAME_SECOND
                if len({a, b, c}) == 3 and a + b not in _REAL_NAMES and b + c not in _REAL_NAMES]
        if n_streets + n_communities > len(pool) + len(more):
            raise InputError(f"演示数据最多支持 {len(pool) + len(more)} 个街道和社区名称。",
                             f"The demo has names for at most {len(pool) + len(more)} streets "
                             "and communities.")
        drawn += [more[i] for i in rng.permutation(len(more))]
    streets: list[str] = []
    for root in drawn:
        if len(streets) < n_streets and (root[0] not in {s[0] for s in streets}
                                         or n_streets > len(_NAME_FIRST)):
            streets.append(root)
    taken = set(streets)
    return streets, [root for root in drawn if root not in taken][:n_communities]


def _assemble(adcode: str, district: shapely.Geometry, geoms: list[NDArray[np.object_]],
              parents: list[NDArray[np.intp]], metric: pyproj.CRS,
              rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Codes, names and attributes; rows in level then code order, geometry in EPSG:4490."""
    whole = np.array([shapely.coverage_union_all(geoms[0])], dtype=object)
    codes: list[NDArray[np.object_]] = []
    names: list[NDArray[np.object_]] = []
    roots = _name_roots(len(geoms[0]), len(geoms[1]), rng)
    for depth, (level_geoms, parent_of) in enumerate(zip(geoms, parents, strict=True)):
        above = whole if depth == 0 else geoms[depth - 1]
        serial = _serials(parent_of, level_geoms, above)
        prefix = np.array([adcode]) if depth == 0 else codes[depth - 1]
        code = np.array([f"{prefix[p]}{s:03d}" for p, s in zip(parent_of, serial, strict=True)],
                        dtype=object)
        by_code = np.argsort(code)
        name = np.empty(len(code), dtype=object)
        if depth < 2:
            suffix = "街道" if depth == 0 else "社区"
            name[by_code] = [root + suffix for root in roots[depth]]
        else:
            word = "网格" if depth == 2 else "微网格"
            name[:] = [f"{names[depth - 1][p]}第{s}{word}"
                       for p, s in zip(parent_of, serial, strict=True)]
        codes.append(code)
        names.append(name)

    urban = shapely.area(geoms[3]) <= URBAN_MAX_HA * 1e4
    urban_share = [urban.astype(float)]
    micro_to = parents[3]
    for depth in (2, 1, 0):
        urban_share.insert(0, np.bincount(micro_to, weights=urban, minlength=len(geoms[depth]))
                           / np.bincount(micro_to, minlength=len(geoms[depth])))
        micro_to = parents[depth][micro_to]

    frames = []
    for depth, level in enumerate(ORDER):
        order = np.argsort(codes[depth], kind="stable")
        parent_code = (np.full(len(order), adcode, dtype=object) if depth == 0
                       else codes[depth - 1][parents[depth]])
        frames.append({
            "code": codes[depth][order].tolist(),
            "name": names[depth][order].tolist(),
            "level": [level.value] * len(order),
            "parent_code": parent_code[order].tolist(),
            "attrs": [{"area_type": "urban" if share > 0.5 else "rural"}
                      for share in urban_share[depth][order]],
            "geometry": geoms[depth][order],
        })
    columns = {key: [v for f in frames for v in f[key]] for key in frames[0] if key != "geometry"}
    metric_geoms = np.concatenate([f["geometry"] for f in frames])
    lonlat = _pin_to(district, from_metric(metric_geoms, metric), len(geoms[0]), metric)
    return gpd.GeoDataFrame(columns, geometry=lonlat, crs=STORAGE_CRS)


def _pin_to(district: shapely.Geometry, geoms: NDArray[np.object_], n_top: int,
            metric: pyproj.CRS) -> NDArray[np.object_]:
    """Make the outer boundary of the units lie exactly on ``district`` (EPSG:4490).

    ``geoms`` are all units converted back from ``metric``, the first ``n_top`` of them the top
    level. The trip to the metric CRS and back moves coordinates by about 1e-14 degrees, so
    vertices that came from the district get its exact coordinates back. Vertices noded onto
    the district boundary lie on straight metric segments, up to half a metre off the straight
    lon/lat segments of the stored district (its longest segments are kilometres long): they
    move onto their lon/lat segment, and a hair inside if rounding left them outside. The same
    coordinate is replaced everywhere it occurs, so shared vertices stay identical.
    """
    original = shapely.get_coordinates(district)
    back = shapely.get_coordinates(from_metric(to_metric(np.array([district]), metric), metric))
    fix = {tuple(b): tuple(o) for b, o in zip(back, original, strict=True)}
    known = {tuple(o) for o in original}
    outer = [tuple(v) for v in outer_vertices(geoms[:n_top]).tolist()]
    noded = np.array([v for v in outer if v not in fix and v not in known]).reshape(-1, 2)
    shapely.prepare(district)
    rings = shapely.get_rings(shapely.get_parts(district))
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    for x, y in noded:
        t = np.clip(((x - a[:, 0]) * (b[:, 0] - a[:, 0]) + (y - a[:, 1]) * (b[:, 1] - a[:, 1]))
                    / ((b[:, 0] - a[:, 0]) ** 2 + (b[:, 1] - a[:, 1]) ** 2), 0.0, 1.0)
        foot = a + t[:, None] * (b - a)
        s = int(np.argmin(np.hypot(foot[:, 0] - x, foot[:, 1] - y)))
        fix[(x, y)] = _just_inside(district, foot[s], b[s] - a[s])

    def apply(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([fix.get((x, y), (x, y)) for x, y in xy.tolist()], dtype=float)

    return np.asarray(shapely.transform(geoms, apply), dtype=object)


def _just_inside(district: shapely.Geometry, point: NDArray[np.float64],
                 along: NDArray[np.float64]) -> tuple[float, float]:
    """``point`` (on a boundary segment running ``along``), moved inside by a few ulps if needed."""
    normal = np.array([-along[1], along[0]]) / np.hypot(*along)
    if not shapely.intersects_xy(district, *(point + 1e-9 * normal)):
        normal = -normal
    for k in range(64):
        x, y = point + k * 1e-14 * normal
        if shapely.intersects_xy(district, x, y):
            return float(x), float(y)
    raise RuntimeError("could not place a demo vertex on the district boundary")
