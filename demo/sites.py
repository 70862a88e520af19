"""Demo service sites for the demo district: "one centre, many stations" (一中心多站点).

- **Centres (党群服务中心)**: one per community, at the household nearest the community's
  household median (so it stands where people live, inside the community), named
  ``<社区名>党群服务中心``, id ``C<community code>``.
- **Stations (驿站)**: ``n_stations`` (240 by default, Tinghu reports 215 warm-heart and 22 grid
  stations) shared among the grids in proportion to their households (largest remainders), so
  dense grids get two or three and thin rural grids none; inside a grid they sit at the centres
  of a weighted k-means of its households, snapped to the nearest household. Named
  ``<网格名>驿站`` (``…驿站2`` for the second), id ``S<grid code>-<n>``.
- **Gaps on purpose**: rural outskirts get no station by construction (few households), and
  ``n_gap_grids`` urban grids far from their community's centre get none either (the pockets a
  coverage answer should find). Their codes are in ``attrs["gap_grids"]``.

Household positions come from a demo register (:func:`wangge.demo.register.build_register`: the
true points); without one, each micro-grid counts as one point at its representative point,
weighted 60 households when urban and 8 when rural. Everything follows from ``seed``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from wangge.geo.coverage.sites import sites_frame
from wangge.geo.crs import from_metric, metric_crs_of, to_metric
from wangge.geo.errors import InputError

__all__ = ["build_demo_sites"]

N_STATIONS = 240
N_GAP_GRIDS = 2
GAP_MIN_DISTANCE_M = 900.0  # a gap grid's households are at least this far from the centre
_CENTRE_HOURS = ("周一至周日 8:30-17:30", "周一至周六 8:30-18:00", "周一至周五 8:30-17:30，周末预约")
_STATION_HOURS = ("周一至周五 9:00-17:00", "每天 8:00-20:00", "周一至周六 9:00-18:00", "全天开放")


def build_demo_sites(units: gpd.GeoDataFrame, register: Any = None, *, seed: int = 2026,
                     n_stations: int = N_STATIONS, n_gap_grids: int = N_GAP_GRIDS) -> gpd.GeoDataFrame:
    """Centres and stations for ``units`` (see the module docstring); the site table of
    :mod:`wangge.geo.coverage.sites` in EPSG:4490, centres first, then stations by grid code."""
    missing = [c for c in ("code", "name", "level", "parent_code", "geometry") if c not in units]
    if missing:
        raise InputError(f"单元数据缺少列：{missing}", f"The units lack columns {missing}.")
    rng = np.random.default_rng([seed, 7_2026])
    level = units["level"].astype(str).to_numpy()
    codes = units["code"].astype(str).to_numpy()
    names = dict(zip(codes, units["name"].astype(str), strict=True))
    parent = dict(zip(codes, units["parent_code"], strict=True))
    geoms = np.asarray(units.geometry.to_numpy(), dtype=object)
    metric = metric_crs_of(geoms)
    attrs = units["attrs"] if "attrs" in units else pd.Series([{}] * len(units))
    urban_of = {c: (a or {}).get("area_type") == "urban" for c, a in zip(codes, attrs, strict=True)}

    micro_code, xy, weight = _households(units, register, metric)
    grid_of = np.array([parent.get(c) for c in micro_code], dtype=object)
    comm_of = np.array([parent.get(g) for g in grid_of], dtype=object)

    # Centres: one per community, at the household nearest the households' median.
    communities = codes[level == "community"]
    centre_xy = np.zeros((len(communities), 2))
    comm_pos = pd.Index(communities).get_indexer(comm_of)
    order = np.argsort(comm_pos, kind="stable")
    starts = np.searchsorted(comm_pos[order], np.arange(len(communities) + 1))
    comm_geoms = to_metric(geoms[level == "community"], metric)
    for i in range(len(communities)):
        members = order[starts[i]:starts[i + 1]]
        if len(members):
            pts = xy[members]
            centre_xy[i] = pts[np.argmin(np.hypot(*(pts - np.median(pts, axis=0)).T))]
        else:
            p = shapely.point_on_surface(comm_geoms[i])
            centre_xy[i] = (p.x, p.y)
    centre_at = dict(zip(communities, centre_xy, strict=True))

    # Stations: grids share n_stations by households; gap grids get none.
    grids = codes[level == "grid"]
    grid_pos = pd.Index(grids).get_indexer(grid_of)
    ok = grid_pos >= 0
    households = np.bincount(grid_pos[ok], weights=weight[ok], minlength=len(grids))
    gaps = _gap_grids(grids, grid_pos, xy, weight, parent, centre_at, urban_of, n_gap_grids)
    share = np.where(np.isin(grids, gaps), 0.0, households)
    counts = _largest_remainders(share, n_stations)
    rows: list[dict[str, Any]] = []
    points: list[NDArray[np.float64]] = []
    for i, comm in enumerate(communities):
        rows.append({"site_id": f"C{comm}", "kind": "centre", "name": f"{names[comm]}党群服务中心",
                     "unit_code": comm, "hours": _CENTRE_HOURS[int(rng.integers(len(_CENTRE_HOURS)))]})
        points.append(centre_xy[i])
    g_order = np.argsort(grid_pos, kind="stable")
    g_starts = np.searchsorted(grid_pos[g_order], np.arange(len(grids) + 1))
    for g in np.argsort(grids):
        m = int(counts[g])
        members = g_order[g_starts[g]:g_starts[g + 1]]
        if m == 0 or not len(members):
            continue
        for n, p in enumerate(_kmeans_snap(xy[members], weight[members], m, rng), start=1):
            rows.append({"site_id": f"S{grids[g]}-{n}", "kind": "station",
                         "name": f"{names[grids[g]]}驿站" + (str(n) if n > 1 else ""),
                         "unit_code": str(grids[g]),
                         "hours": _STATION_HOURS[int(rng.integers(len(_STATION_HOURS)))]})
            points.append(p)
    pts = np.asarray(points)
    lonlat = shapely.get_coordinates(from_metric(shapely.points(pts), metric))
    frame = sites_frame(pd.DataFrame(rows), lonlat[:, 0], lonlat[:, 1])
    frame.attrs.update({"gap_grids": list(gaps), "seed": seed})
    return frame


def _households(units: gpd.GeoDataFrame, register: Any,
                metric: Any) -> tuple[NDArray[np.object_], NDArray[np.float64], NDArray[np.float64]]:
    """Micro-grid code, metric x/y and weight of each household (or micro-grid proxy)."""
    if register is not None:
        truth = register.truth
        lon = truth["lon"].to_numpy(dtype=float)
        lat = truth["lat"].to_numpy(dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat) & truth["microgrid_code"].notna().to_numpy()
        pts = to_metric(shapely.points(lon[ok], lat[ok]), metric)
        return (truth["microgrid_code"].to_numpy(dtype=object)[ok], shapely.get_coordinates(pts),
                np.ones(int(ok.sum())))
    micro = units[units["level"].astype(str) == "microgrid"]
    geoms = to_metric(np.asarray(micro.geometry.to_numpy(), dtype=object), metric)
    attrs = micro["attrs"] if "attrs" in micro else pd.Series([{}] * len(micro))
    urban = np.array([(a or {}).get("area_type") == "urban" for a in attrs], dtype=bool)
    return (micro["code"].astype(str).to_numpy(dtype=object),
            shapely.get_coordinates(shapely.point_on_surface(geoms)), np.where(urban, 60.0, 8.0))


def _gap_grids(grids: NDArray[Any], grid_pos: NDArray[np.intp], xy: NDArray[np.float64],
               weight: NDArray[np.float64], parent: dict[str, Any], centre_at: dict[str, Any],
               urban_of: dict[str, bool], n: int) -> list[str]:
    """Up to ``n`` urban grids whose nearest household is far from their community's centre,
    the most populous first, never two in one community."""
    candidates = []
    order = np.argsort(grid_pos, kind="stable")
    starts = np.searchsorted(grid_pos[order], np.arange(len(grids) + 1))
    for g, code in enumerate(grids):
        members = order[starts[g]:starts[g + 1]]
        centre = centre_at.get(str(parent.get(code)))
        if not urban_of.get(code) or not len(members) or centre is None:
            continue
        nearest = float(np.min(np.hypot(*(xy[members] - centre).T)))
        if nearest >= GAP_MIN_DISTANCE_M:
            candidates.append((-float(weight[members].sum()), str(code)))
    chosen: list[str] = []
    used: set[Any] = set()
    for _, code in sorted(candidates):
        if len(chosen) == n:
            break
        if parent.get(code) not in used:
            chosen.append(code)
            used.add(parent.get(code))
    return chosen


def _largest_remainders(weights: NDArray[np.float64], total: int) -> NDArray[np.intp]:
    if weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.intp)
    quota = weights / weights.sum() * total
    counts = np.floor(quota).astype(np.intp)
    rest = total - int(counts.sum())
    order = np.lexsort((np.arange(len(weights)), -(quota - counts)))
    counts[order[:rest]] += 1
    return counts


def _kmeans_snap(pts: NDArray[np.float64], w: NDArray[np.float64], m: int,
                 rng: np.random.Generator, steps: int = 6) -> list[NDArray[np.float64]]:
    """``m`` weighted k-means centres of ``pts``, each snapped to its nearest (distinct) point."""
    unique = np.unique(pts, axis=0)
    m = min(m, len(unique))
    centres = unique[rng.choice(len(unique), size=m, replace=False)]
    for _ in range(steps):
        label = cKDTree(centres).query(pts)[1]
        for j in range(m):
            sel = label == j
            if sel.any():
                centres[j] = np.average(pts[sel], axis=0, weights=w[sel])
    tree = cKDTree(unique)
    out: list[NDArray[np.float64]] = []
    taken: set[int] = set()
    for c in centres:
        _, near = tree.query(c, k=min(len(unique), m + 1))
        pick = next(int(i) for i in np.atleast_1d(near) if int(i) not in taken)
        taken.add(pick)
        out.append(unique[pick])
    return out
