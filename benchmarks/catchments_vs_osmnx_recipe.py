"""Benchmark: walking catchments of every demo site, wangge against the OSMnx isochrone recipe.

Usage:
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/catchments_vs_osmnx_recipe.py [--seed 2026]
        [--sites 300] [--sample 20] [--buffer 50] [--speed 4.8] [--register]

Builds the demo district, its walking network (:func:`wangge.demo.network.build_demo_network`) and
its sites (:func:`wangge.demo.sites.build_demo_sites` when that module exists, else ``--sites``
random network nodes), and households: with ``--register`` the demo register's 130,000 true
points, else 130,000 random points near the network. Then times:

(a) wangge :func:`wangge.geo.coverage.catchment.compute_catchments` for all sites at 5/10/15 minutes, polygons
    and households included (one multi-source search, polygons traced on the nearest-street
    raster). Run twice: the first call also builds the network's indexes (nearest-street grids,
    the raster's tiles under the sites), kept for every later call on the same network;
(b) the OSMnx recipe as the OSMnx isochrone example writes it (``make_iso_polys``: per site and
    threshold ``nx.ego_graph(G, node, radius=cutoff, distance="length")``, a GeoDataFrame of the
    subgraph's nodes, each edge's geometry looked up, nodes and edges buffered with geopandas'
    defaults and unioned), buffers ``--buffer`` for both; written here from the published
    algorithm, on ``--sample`` sites, its per-site time extrapolated to all sites (said so);
(c) the same recipe vectorised (shapely arrays instead of per-edge lookups) — a faster peer
    than the example, shown for honesty.

The networkx graphs of (b) and (c) are built before timing, as wangge's network is.

Everything runs on one core: shapely (GEOS), scipy's csgraph and networkx are single-threaded;
``OMP_NUM_THREADS=1`` only keeps numpy's BLAS (unused here) from spinning up threads.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from wangge.demo.district import build_demo
from wangge.demo.network import build_demo_network
from wangge.geo.coverage.catchment import compute_catchments, m_per_min
from wangge.geo.coverage.network import WalkNetwork

THRESHOLDS = (5.0, 10.0, 15.0)


def _sites(units, network: WalkNetwork, n: int, seed: int, register=None):
    try:
        from wangge.demo.sites import build_demo_sites
    except ImportError:
        build_demo_sites = None
    if build_demo_sites is not None:
        sites = build_demo_sites(units, register, seed=seed)
        return (sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy(),
                sites["site_id"].to_numpy(), "wangge.demo.sites.build_demo_sites")
    lon, lat = network.node_lonlat()
    pick = np.random.default_rng(seed).choice(network.n_nodes, n, replace=False)
    return lon[pick], lat[pick], np.array([f"N{i}" for i in pick]), f"{n} random network nodes"


def _osmnx_example(g: nx.MultiGraph, center: int, cutoffs: list[float], buffer_m: float) -> list:
    """The OSMnx isochrone example's ``make_iso_polys`` (buffers as given), one site."""
    polys = []
    for cutoff in sorted(cutoffs, reverse=True):
        sub = nx.ego_graph(g, center, radius=cutoff, distance="length")
        points = [Point((d["x"], d["y"])) for _, d in sub.nodes(data=True)]
        nodes = gpd.GeoDataFrame({"id": list(sub.nodes)}, geometry=points).set_index("id")
        lines = []
        for a, b in sub.edges():
            f, t = nodes.loc[a].geometry, nodes.loc[b].geometry
            lines.append(g.get_edge_data(a, b)[0].get("geometry", LineString([f, t])))
        n = nodes.buffer(buffer_m).geometry
        e = gpd.GeoSeries(lines).buffer(buffer_m).geometry
        polys.append(gpd.GeoSeries(list(n) + list(e)).union_all())
    return polys[::-1]


def _osmnx_recipe(g: nx.Graph, network: WalkNetwork, node: int, cutoff: float, buffer_m: float):
    """The same recipe vectorised: shapely arrays instead of per-node and per-edge lookups."""
    sub = nx.ego_graph(g, node, radius=cutoff, distance="length")
    nodes = list(sub.nodes)
    node_buf = shapely.buffer(shapely.points(network.x[nodes], network.y[nodes]), buffer_m)
    edges = np.array([d["edge"] for _, _, d in sub.edges(data=True)], dtype=np.intp)
    edge_buf = shapely.buffer(network.geometry[edges], buffer_m) if len(edges) else []
    return shapely.union_all(np.concatenate([node_buf, np.asarray(edge_buf, dtype=object)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sites", type=int, default=300, help="random sites without wangge.demo.sites")
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
        from wangge.demo.register import build_register

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

    # (a) wangge, all sites: first call (builds the network's indexes), then again.
    runs, cpu = [], []
    for _ in range(2):
        t, tc = time.perf_counter(), time.process_time()
        c = compute_catchments(network, slon, slat, sid, hlon, hlat, thresholds_min=THRESHOLDS,
                               speed_kmh=args.speed, buffer_m=args.buffer)
        runs.append((time.perf_counter() - t, dict(c.seconds)))
        cpu.append(time.process_time() - tc)

    # (b), (c): the recipe on a sample, graphs built beforehand.
    g = nx.Graph()
    mg = nx.MultiGraph()
    for n in range(network.n_nodes):
        mg.add_node(n, x=float(network.x[n]), y=float(network.y[n]))
    for e, (a, b, w) in enumerate(zip(network.u.tolist(), network.v.tolist(), network.length_m.tolist(),
                                      strict=True)):
        g.add_edge(a, b, length=w, edge=e)
        mg.add_edge(a, b, length=w, geometry=network.geometry[e])
    sample = rng.choice(len(sid), min(args.sample, len(sid)), replace=False)
    from wangge.geo.coverage.catchment import _xy, snap_points

    sx, sy = _xy(slon[sample], slat[sample], network.metric)
    snapped = snap_points(network, sx, sy)
    ends = np.where(snapped.offset <= network.length_m[snapped.edge] / 2,
                    network.u[snapped.edge], network.v[snapped.edge])  # the recipe's nearest node
    cutoffs = [m * m_per_min(args.speed) for m in THRESHOLDS]
    t, tc = time.perf_counter(), time.process_time()
    example_areas = [p.area for node in ends for p in _osmnx_example(mg, int(node), cutoffs, args.buffer)]
    example = (time.perf_counter() - t) / len(sample)
    example_cpu = (time.process_time() - tc) / len(sample)
    t = time.perf_counter()
    for node in ends:
        for cutoff in cutoffs:
            _osmnx_recipe(g, network, int(node), cutoff, args.buffer)
    vectorised = (time.perf_counter() - t) / len(sample)

    n = len(sid)
    print(f"thresholds {THRESHOLDS} min at {args.speed:g} km/h, buffer {args.buffer:g} m; one core")
    print()
    print(f"{'method':<52} {'sites':>6} {'total s':>9} {'ms/site':>9}")
    for label, (total, parts) in zip(("wangge, first call (builds network indexes)", "wangge, again"),
                                     runs, strict=True):
        print(f"{label:<52} {n:>6} {total:>9.2f} {1000 * total / n:>9.1f}")
        print(f"{'  of which':<52} " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    print(f"{'OSMnx example recipe (make_iso_polys), sampled':<52} {len(sample):>6} "
          f"{example * len(sample):>9.2f} {1000 * example:>9.1f}")
    print(f"{'  extrapolated to all sites':<52} {n:>6} {example * n:>9.2f} {1000 * example:>9.1f}")
    print(f"{'same recipe vectorised (shapely arrays), sampled':<52} {len(sample):>6} "
          f"{vectorised * len(sample):>9.2f} {1000 * vectorised:>9.1f}")
    print(f"{'  extrapolated to all sites':<52} {n:>6} {vectorised * n:>9.2f} {1000 * vectorised:>9.1f}")
    print()
    first, again = runs[0][0], runs[1][0]
    print(f"ratio, OSMnx example recipe / wangge: {example * n / again:.1f}× "
          f"({example * n / first:.1f}× counting the first call's index building)")
    print(f"ratio, vectorised recipe / wangge: {vectorised * n / again:.1f}× "
          f"({vectorised * n / first:.1f}× with index building)")
    print(f"CPU time (this process only: a shared host's stolen cycles excluded): wangge {cpu[1]:.2f} s "
          f"({cpu[0]:.2f} s first call), OSMnx example recipe {example_cpu * n:.2f} s extrapolated: "
          f"{example_cpu * n / cpu[1]:.1f}× ({example_cpu * n / cpu[0]:.1f}×)")
    mine = c.polygons.iloc[np.repeat(sample, len(THRESHOLDS)) * len(THRESHOLDS)
                           + np.tile(np.arange(len(THRESHOLDS)), len(sample))]
    print(f"mean polygon area on the sample: wangge {mine['area_m2'].mean() / 1e6:.3f} km², "
          f"recipe {np.mean(example_areas) / 1e6:.3f} km² (the recipe keeps whole edges only, from the "
          "nearest node, and adds node discs; wangge keeps ground whose nearest street is reached)")


if __name__ == "__main__":
    main()
