"""Benchmark: walking catchments of every demo site, wangge against the OSMnx isochrone recipe.

Usage:
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/catchments_vs_osmnx_recipe.py [--seed 2026]
        [--sites 300] [--sample 20] [--buffer 50] [--speed 4.8] [--register]

Builds the demo district, its walking network (:func:`geo.network_demo.build_demo_network`) and
its sites (:func:`geo.sites_demo.build_demo_sites` when that module exists, else ``--sites``
random network nodes), and households: with ``--register`` the demo register's 130,000 true
points, else 130,000 random points near the network. Then times:

(a) wangge :func:`geo.catchment.compute_catchments` for all sites at 5/10/15 minutes, polygons
    included (one multi-source search, pieces cut and buffered in bulk);
(b) the OSMnx recipe, written with networkx and shapely (as in the OSMnx isochrone example: per
    site and threshold ``nx.ego_graph(G, node, radius=cutoff, distance="length")``, then the
    subgraph's nodes and edges buffered and unioned) on ``--sample`` sites; its per-site time is
    extrapolated to all sites, and said so.

Everything runs on one core: shapely (GEOS), scipy's csgraph and networkx are single-threaded;
``OMP_NUM_THREADS=1`` only keeps numpy's BLAS (unused here) from spinning up threads.
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
import shapely

from geo.catchment import compute_catchments, m_per_min
from geo.demo import build_demo
from geo.network import WalkNetwork
from geo.network_demo import build_demo_network

THRESHOLDS = (5.0, 10.0, 15.0)


def _sites(units, network: WalkNetwork, n: int, seed: int, register=None):
    try:
        from geo.sites_demo import build_demo_sites
    except ImportError:
        build_demo_sites = None
    if build_demo_sites is not None:
        sites = build_demo_sites(units, register, seed=seed)
        return (sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy(),
                sites["site_id"].to_numpy(), "geo.sites_demo.build_demo_sites")
    lon, lat = network.node_lonlat()
    pick = np.random.default_rng(seed).choice(network.n_nodes, n, replace=False)
    return lon[pick], lat[pick], np.array([f"N{i}" for i in pick]), f"{n} random network nodes"


def _osmnx_recipe(g: nx.Graph, network: WalkNetwork, node: int, cutoff: float, buffer_m: float):
    """The OSMnx isochrone example's polygon for one site and threshold (node + edge buffers)."""
    sub = nx.ego_graph(g, node, radius=cutoff, distance="length")
    nodes = list(sub.nodes)
    node_buf = shapely.buffer(shapely.points(network.x[nodes], network.y[nodes]), buffer_m)
    edges = np.array([d["edge"] for _, _, d in sub.edges(data=True)], dtype=np.intp)
    edge_buf = shapely.buffer(network.geometry[edges], buffer_m) if len(edges) else []
    return shapely.union_all(np.concatenate([node_buf, np.asarray(edge_buf, dtype=object)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sites", type=int, default=300, help="random sites without geo.sites_demo")
    parser.add_argument("--sample", type=int, default=20, help="sites timed with the OSMnx recipe")
    parser.add_argument("--buffer", type=float, default=50.0, help="metres around reached streets")
    parser.add_argument("--speed", type=float, default=4.8, help="walking speed, km/h")
    parser.add_argument("--register", action="store_true", help="households of the demo register")
    args = parser.parse_args()

    t0 = time.perf_counter()
    units = build_demo(seed=args.seed)
    t = time.perf_counter()
    network = build_demo_network(units, seed=args.seed)
    net_s = time.perf_counter() - t
    register = None
    rng = np.random.default_rng(args.seed)
    if args.register:
        from geo.demo_register import build_register

        register = build_register(units, seed=args.seed)
        ok = np.isfinite(register.truth["lon"].to_numpy())
        hlon, hlat = register.truth["lon"].to_numpy()[ok], register.truth["lat"].to_numpy()[ok]
        households = "demo register (true points)"
    else:
        lon, lat = network.node_lonlat()
        pick = rng.choice(network.n_nodes, 130_000)
        hlon = lon[pick] + rng.normal(0, 0.0004, len(pick))
        hlat = lat[pick] + rng.normal(0, 0.0004, len(pick))
        households = "random points near the network"
    slon, slat, sid, how = _sites(units, network, args.sites, args.seed, register)
    print(f"demo (seed {args.seed}): network {network.n_nodes:,} nodes, {network.n_edges:,} edges, "
          f"{network.length_m.sum() / 1000:,.0f} km, built in {net_s:.2f} s; {len(sid)} sites "
          f"({how}); {len(hlon):,} households ({households}); set-up {time.perf_counter() - t0:.1f} s")

    # (a) wangge, all sites.
    t = time.perf_counter()
    c = compute_catchments(network, slon, slat, sid, hlon, hlat, thresholds_min=THRESHOLDS,
                           speed_kmh=args.speed, buffer_m=args.buffer)
    ours = time.perf_counter() - t
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in c.seconds.items())

    # (b) the OSMnx recipe on a sample, extrapolated.
    g = nx.Graph()
    for e, (a, b, w) in enumerate(zip(network.u.tolist(), network.v.tolist(), network.length_m.tolist(),
                                      strict=True)):
        g.add_edge(a, b, length=w, edge=e)
    sample = rng.choice(len(sid), min(args.sample, len(sid)), replace=False)
    from geo.catchment import _xy, snap_points

    sx, sy = _xy(slon[sample], slat[sample], network.metric)
    snapped = snap_points(network, sx, sy)
    ends = np.where(snapped.offset <= network.length_m[snapped.edge] / 2,
                    network.u[snapped.edge], network.v[snapped.edge])  # the recipe's nearest node
    t = time.perf_counter()
    areas = []
    for node in ends:
        for minutes in THRESHOLDS:
            areas.append(_osmnx_recipe(g, network, int(node), minutes * m_per_min(args.speed),
                                       args.buffer).area)
    recipe = time.perf_counter() - t
    recipe_per_site = recipe / len(sample)
    recipe_all = recipe_per_site * len(sid)

    ours_per_site = ours / len(sid)
    print(f"thresholds {THRESHOLDS} min at {args.speed:g} km/h, buffer {args.buffer:g} m; one core")
    print()
    print(f"{'method':<44} {'sites':>6} {'total s':>9} {'ms/site':>9}")
    print(f"{'wangge compute_catchments (with polygons)':<44} {len(sid):>6} {ours:>9.2f} "
          f"{1000 * ours_per_site:>9.1f}")
    print(f"{'  of which':<44} {parts}")
    print(f"{'OSMnx recipe (networkx ego_graph + union)':<44} {len(sample):>6} {recipe:>9.2f} "
          f"{1000 * recipe_per_site:>9.1f}")
    print(f"{'OSMnx recipe extrapolated to all sites':<44} {len(sid):>6} {recipe_all:>9.2f} "
          f"{1000 * recipe_per_site:>9.1f}")
    print()
    print(f"ratio (recipe / wangge, per site): {recipe_per_site / ours_per_site:.1f}×")
    mine = c.polygons.iloc[np.repeat(sample, len(THRESHOLDS)) * len(THRESHOLDS)
                           + np.tile(np.arange(len(THRESHOLDS)), len(sample))]
    print(f"mean polygon area on the sample: wangge {mine['area_m2'].mean() / 1e6:.3f} km², "
          f"recipe {np.mean(areas) / 1e6:.3f} km² (the recipe keeps whole edges only, from the "
          "nearest node, and adds node discs)")


if __name__ == "__main__":
    main()
