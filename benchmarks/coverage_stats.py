"""Benchmark: service-circle coverage for every unit of the demo district.

Usage:
    .venv/bin/python benchmarks/coverage_stats.py [--seed 2026] [--repeat 5] [--speed 4.8]
        [--detour 1.3] [--network]

Builds the demo district (2,367 units), its register (130,000 households at their true points),
its demo sites and one full-time worker per grid but a few; assigns the households to every
level (:class:`wangge.geo.index.hierarchy.HierarchyIndex`) and gives each its minutes to the nearest site
(straight line × ``--detour`` at ``--speed``; with ``--network`` and :mod:`wangge.geo.coverage.catchment`
present, walking time on the demo network instead). Then times, median of ``--repeat`` runs:

- :func:`wangge.geo.coverage.stats.coverage_stats` for all units (target: under 1 s);
- :func:`wangge.geo.coverage.stats.uncovered_areas` (unit minus the 15-minute catchments) per level;
- :func:`wangge.geo.coverage.stats.gap_polygons` of a validation report of the broken demo.

and prints the district's coverage at 5/10/15 minutes and the least covered communities.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from wangge.demo.district import build_broken, build_demo
from wangge.demo.register import build_register
from wangge.demo.sites import build_demo_sites
from wangge.geo.boundaries.validate import validate
from wangge.geo.coverage.mclp import metric_xy
from wangge.geo.coverage.stats import coverage_stats, gap_polygons, uncovered_areas
from wangge.geo.crs import from_metric, metric_crs_for, to_metric
from wangge.geo.index.hierarchy import HierarchyIndex

THRESHOLDS = (5, 10, 15)


def _median_seconds(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _straight_line(sites: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, speed: float,
                   detour: float) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Minutes to the nearest site and circle polygons per threshold (metric buffers)."""
    hx, hy = metric_xy(lon, lat)
    sx, sy = metric_xy(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    dist = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([hx, hy]))[0]
    minutes = dist * detour / (speed * 1000 / 60)
    metric = metric_crs_for(float(np.mean(sites.geometry.x)))
    pts = to_metric(sites.geometry.to_numpy(), metric)
    frames = []
    for t in THRESHOLDS:
        discs = from_metric(shapely.buffer(pts, t * speed * 1000 / 60 / detour, quad_segs=16), metric)
        frames.append(gpd.GeoDataFrame({"site_id": sites["site_id"].to_numpy(), "minutes": t},
                                       geometry=list(discs), crs=4490))
    return minutes, pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--speed", type=float, default=4.8, help="walking speed, km/h")
    parser.add_argument("--detour", type=float, default=1.3)
    parser.add_argument("--network", action="store_true", help="walking times on the demo network")
    args = parser.parse_args()

    t0 = time.perf_counter()
    units = build_demo(seed=args.seed)
    register = build_register(units, seed=args.seed)
    sites = build_demo_sites(units, register, seed=args.seed)
    truth = register.truth[np.isfinite(register.truth["lon"].to_numpy())].reset_index(drop=True)
    lon, lat = truth["lon"].to_numpy(), truth["lat"].to_numpy()
    set_up = time.perf_counter() - t0
    t = time.perf_counter()
    households = HierarchyIndex.build(units).assign(lon, lat)
    assign_s = time.perf_counter() - t
    t = time.perf_counter()
    method = "straight_line"
    if args.network:
        from wangge.demo.network import build_demo_network
        from wangge.geo.coverage.catchment import compute_catchments

        catchments = compute_catchments(build_demo_network(units), sites.geometry.x.to_numpy(),
                                        sites.geometry.y.to_numpy(), sites["site_id"].to_numpy(),
                                        lon, lat, thresholds_min=THRESHOLDS, speed_kmh=args.speed,
                                        detour_factor=args.detour)
        minutes, polygons, method = catchments.household_minutes, catchments.polygons, catchments.method
    else:
        minutes, polygons = _straight_line(sites, lon, lat, args.speed, args.detour)
    catch_s = time.perf_counter() - t
    grids = units.loc[units["level"] == "grid", "code"].to_numpy()
    rng = np.random.default_rng(args.seed)
    vacant = rng.choice(len(grids), size=12, replace=False)
    workers = pd.DataFrame({"worker_id": [f"W{i:04d}" for i in range(len(grids))], "grid_code": grids,
                            "full_time": ~np.isin(np.arange(len(grids)), vacant)})
    settings = {"method": method, "speed_kmh": args.speed, "detour_factor": args.detour}

    print(f"demo (seed {args.seed}): {len(units):,} units, {len(truth):,} households with points, "
          f"{len(sites)} sites; set-up {set_up:.1f} s, assignment {assign_s:.2f} s, "
          f"minutes to nearest site ({method}) {catch_s:.2f} s")
    stats_s, stats = _median_seconds(
        lambda: coverage_stats(units, households, minutes, thresholds_min=THRESHOLDS,
                               workers=workers, settings=settings), args.repeat)
    table = stats.table
    street = table[table["level"] == "street"]
    total = street["households"].sum()
    print(f"\n{'step':<48} {'units':>6} {'seconds':>8} {'per unit':>10}")
    print(f"{'coverage_stats, all levels (+ workers)':<48} {len(table):>6} {stats_s:>8.3f} "
          f"{stats_s / len(table) * 1e6:>8.0f} µs")
    if args.network:  # the union of the catchments, traced once on their raster, in pieces
        t = time.perf_counter()
        polygons = catchments.covered()
        print(f"{'union of the catchments (Catchments.covered)':<48} {len(polygons):>6} "
              f"{time.perf_counter() - t:>8.3f}")
    area_s, areas = _median_seconds(lambda: uncovered_areas(units, polygons, minutes=15),
                                    max(1, args.repeat // 2))
    print(f"{'uncovered_areas, 15 min, all levels':<48} {len(units):>6} {area_s:>8.3f} "
          f"{area_s / len(units) * 1e3:>8.2f} ms")
    for level in ("street", "community", "grid", "microgrid"):
        part = areas[areas["level"] == level]
        print(f"  {level:<10} {len(part):>5} with an uncovered part, {part['area_m2'].sum() / 1e6:8,.1f} km²")
    broken, _ = build_broken(units, seed=args.seed)
    report = validate(broken)
    gap_s, gaps = _median_seconds(lambda: gap_polygons(report), args.repeat)
    print(f"{'gap_polygons of the broken demo report':<48} {len(gaps):>6} {gap_s:>8.4f}")
    print(f"\ncoverage of the district ({method}, {args.speed:g} km/h, detour {args.detour:g}):")
    for t in THRESHOLDS:
        within = street[f"within_{t}"].sum()
        print(f"  within {t:>2} min: {within:>9,} of {total:,} households = {within / total:6.1%}")
    print(f"  grids without a full-time worker: {len(stats.grids_without_full_time_worker())}; "
          f"households per full-time worker (district) "
          f"{table.loc[table['level'] == 'street', 'households'].sum() / workers['full_time'].sum():.0f}")
    comm = table[table["level"] == "community"].sort_values("share_15").head(5)
    print("\nleast covered communities (15 min):")
    print(comm[["code", "name", "households", "within_5", "within_15", "share_15", "uncovered"]]
          .to_string(index=False, float_format=lambda v: f"{v:.1%}"))


if __name__ == "__main__":
    main()
