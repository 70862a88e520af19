"""Benchmark: where to add k stations in the demo district, lazy greedy against spopt's exact MCLP.

Usage:
    .venv/bin/python benchmarks/mclp_vs_spopt.py [--seed 2026] [--spacing 1000] [--minutes 15]
        [--kmax 5] [--speed 4.8] [--detour 1.3] [--network]

Builds the demo district, its register (households at their true points) and its demo sites,
takes the households outside the ``--minutes`` circle (straight line times ``--detour`` at
``--speed``, the catchment module's fallback), and candidates on a ``--spacing`` lattice over the
district thinned away from existing sites (300 m). For k = 1..kmax it prints the households
newly covered by :func:`wangge.geo.coverage.mclp.suggest_sites` (greedy, lazy evaluation) and
by :func:`wangge.geo.coverage.mclp.optimal_sites` (spopt MCLP + CBC), the gap to the optimum,
both times and their ratio. With ``--network`` (needs :mod:`wangge.geo.coverage.catchment`),
minutes are walking times on the demo network and the candidates its nodes thinned to one per
``--spacing`` square.
spopt builds its model densely (clients × facilities pulp terms), so its time grows with
the candidate count: a finer ``--spacing`` (500) takes minutes per k.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from wangge.demo.district import build_demo
from wangge.demo.register import build_register
from wangge.demo.sites import build_demo_sites
from wangge.geo.coverage.mclp import (
    metric_xy,
    network_candidates,
    optimal_sites,
    suggest_sites,
    thin_candidates,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--spacing", type=float, default=1000.0, help="candidate lattice, metres")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--kmax", type=int, default=5)
    parser.add_argument("--speed", type=float, default=4.8, help="walking speed, km/h")
    parser.add_argument("--detour", type=float, default=1.3)
    parser.add_argument("--network", action="store_true", help="walking times on the demo network")
    args = parser.parse_args()

    t0 = time.perf_counter()
    units = build_demo(seed=args.seed)
    register = build_register(units, seed=args.seed)
    sites = build_demo_sites(units, register, seed=args.seed)
    ok = np.isfinite(register.truth["lon"].to_numpy())
    hx, hy = metric_xy(register.truth["lon"].to_numpy()[ok], register.truth["lat"].to_numpy()[ok])
    sx, sy = metric_xy(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    radius = args.minutes * args.speed * 1000 / 60 / args.detour
    t = time.perf_counter()
    if args.network:  # walking times on the demo network, candidates at its thinned nodes
        from wangge.demo.network import build_demo_network
        from wangge.geo.coverage.catchment import compute_catchments, reach_matrix

        lon, lat = register.truth["lon"].to_numpy()[ok], register.truth["lat"].to_numpy()[ok]
        net = build_demo_network(units, seed=args.seed)
        slon, slat = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
        minutes = compute_catchments(net, slon, slat, sites["site_id"].to_numpy(), lon, lat,
                                     thresholds_min=(args.minutes,), speed_kmh=args.speed,
                                     polygons=False).household_minutes
        covered = minutes <= args.minutes
        clon, clat = network_candidates(net, slon, slat, min_distance_m=300, spacing_m=args.spacing)
        todo = np.flatnonzero(~covered)
        part = reach_matrix(net, clon, clat, lon[todo], lat[todo], minutes=args.minutes,
                            speed_kmh=args.speed).tocoo()
        reach = sp.csr_matrix((np.ones(part.nnz, dtype=bool), (part.row, todo[part.col])),
                              shape=(len(clon), len(lon)))
        where = f"{len(clon):,} thinned network nodes ({args.spacing:g} m squares)"
        circle = f"walking on the demo network ({len(net.x):,} nodes)"
    else:
        covered = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([hx, hy]))[0] <= radius
        gx, gy = np.meshgrid(np.arange(hx.min(), hx.max(), args.spacing),
                             np.arange(hy.min(), hy.max(), args.spacing))
        cx, cy = gx.ravel(), gy.ravel()
        keep = thin_candidates(cx, cy, site_x=sx, site_y=sy, min_distance_m=300, spacing_m=args.spacing)
        cx, cy = cx[keep], cy[keep]
        todo = np.flatnonzero(~covered)
        lists = cKDTree(np.column_stack([hx[todo], hy[todo]])).query_ball_point(
            np.column_stack([cx, cy]), radius)
        rows = np.repeat(np.arange(len(lists)), [len(v) for v in lists])
        cols = todo[np.concatenate([np.asarray(v, dtype=np.intp) for v in lists])]
        reach = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(cx), len(hx)))
        where = f"{len(cx):,} on a {args.spacing:g} m lattice"
        circle = f"straight line × {args.detour:g} = {radius:.0f} m"
    reach_s = time.perf_counter() - t
    print(f"demo (seed {args.seed}): {len(hx):,} households with points, {len(sites)} sites "
          f"({(sites['kind'] == 'centre').sum()} centres); set-up {time.perf_counter() - t0:.1f} s")
    print(f"circle: {args.minutes:g} min at {args.speed:g} km/h, {circle}; covered now "
          f"{covered.sum():,} ({covered.mean():.1%}), outside {len(todo):,}")
    print(f"candidates: {where}, ≥ 300 m from sites; reach matrix {reach.nnz:,} pairs, "
          f"{reach_s:.2f} s with the minutes")
    print()
    print(f"{'k':>2} {'greedy':>8} {'spopt':>8} {'gap %':>7} {'greedy s':>9} {'spopt s':>8} "
          f"{'CBC s':>7} {'ratio':>8}  model (clients × facilities)")
    for k in range(1, args.kmax + 1):
        greedy = suggest_sites(reach, covered, k)
        exact = optimal_sites(reach, covered, k)
        gap = 100.0 * (exact.total - greedy.total) / exact.total if exact.total else 0.0
        print(f"{k:>2} {greedy.total:>8.0f} {exact.total:>8.0f} {gap:>7.2f} {greedy.seconds:>9.4f} "
              f"{exact.seconds:>8.2f} {exact.detail.get('solve_seconds', 0):>7.2f} "
              f"{exact.seconds / max(greedy.seconds, 1e-9):>7.0f}×  "
              f"{exact.detail['clients']:,} × {exact.detail['facilities']:,} ({exact.detail['status']})")
    print(f"\nupper bound (every reachable uncovered household): {greedy.coverable:,.0f}")


if __name__ == "__main__":
    main()
