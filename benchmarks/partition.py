"""Benchmark: grids of 300–500 households for every community of the demo, three ways.

Usage:
    .venv/bin/python benchmarks/partition.py [--seed 2026] [--min 300] [--max 500]
        [--no-spopt] [--maxp-construction 10] [--maxp-timeout 10] [--perturb]

Builds the demo district and its register, counts households per micro-grid by assigning the
register's true points (:func:`wangge.geo.partition.proposals.households_per_microgrid`), prints
the households per grid of the plan in force, then partitions all 70 communities with

1. :func:`wangge.geo.partition.proposals.propose_grids` ``method="repair"`` (from the plan in
   force, moving few households),
2. the same with ``method="scratch"`` (ignores the plan: recursive spanning-tree bisection),
3. spopt's ``MaxPHeuristic`` per community (threshold = the minimum only: max-p has no
   maximum; similarity on micro-grid centroids, i.e. compactness; the same adjacency).
   ``--maxp-construction`` construction iterations (spopt's default for the class, 99, takes
   about 7 s per community here, over 8 minutes for the district; 10 takes about 0.7 s).
   spopt 0.7.0's simulated annealing can loop for ever when no area can move (a tight
   community such as 603 households for two regions of at least 300; fixed upstream in
   pysal/spopt PR 506): each community gets ``--maxp-timeout`` seconds, then counts as one
   region (the whole community), and the timeouts are printed.

and prints per method: grids, grids below the minimum and above the maximum, households moved
against the plan in force (best one-to-one matching of proposed to current grids), mean and
least Polsby–Popper compactness, seconds (one core), and ratios to the repair; then the
feasibility verdicts. Targets for the repair: all communities under 5 s, no grid out of bounds
where feasible, households moved at most half of the from-scratch partition's.

``--perturb`` first moves micro-grids between neighbouring grids at random (contiguity kept) to
add imbalance; the demo as generated is already far from balanced, so it is off by default.
"""

from __future__ import annotations

import os

# One thread everywhere: set before NumPy and BLAS load.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

from wangge.demo.district import build_demo  # noqa: E402
from wangge.demo.register import build_register  # noqa: E402
from wangge.geo.crs import metric_crs_of, to_metric  # noqa: E402
from wangge.geo.partition.graph import AtomGraph, atom_graph  # noqa: E402
from wangge.geo.partition.proposals import households_per_microgrid, propose_grids  # noqa: E402
from wangge.geo.partition.report import match_to_current  # noqa: E402
from wangge.geo.partition.search import Parts  # noqa: E402


@dataclass
class Row:
    name: str
    households: np.ndarray  # per proposed grid, all communities
    compactness: np.ndarray
    moved: int
    seconds: float


def distribution(values: np.ndarray, lo: int, hi: int) -> str:
    q = np.percentile(values, [0, 10, 50, 90, 100])
    return (f"{len(values)} grids; min {q[0]:.0f}, p10 {q[1]:.0f}, median {q[2]:.0f}, "
            f"p90 {q[3]:.0f}, max {q[4]:.0f}; {int((values < lo).sum())} under {lo}, "
            f"{int((values > hi).sum())} over {hi}")


def perturb(units: gpd.GeoDataFrame, households: pd.Series, rng: np.random.Generator,
            moves: int) -> gpd.GeoDataFrame:
    """Move ``moves`` boundary micro-grids to a neighbouring grid of the same community, keeping
    both grids contiguous (the grid polygons are not redrawn: only parent codes change)."""
    micro = units[units["level"] == "microgrid"]
    grids = units[units["level"] == "grid"].set_index("code")["parent_code"]
    geoms = np.asarray(micro["geometry"].to_numpy(), dtype=object)
    graph = atom_graph(to_metric(geoms, metric_crs_of(geoms)),
                       households.reindex(micro["code"]).fillna(0).to_numpy())
    names, labels = np.unique(micro["parent_code"].to_numpy(), return_inverse=True)
    community = grids.reindex(names).to_numpy()
    parts = Parts(graph, labels.ravel(), 1, 10**9)
    done = 0
    for _ in range(moves * 20):
        if done == moves:
            break
        a, q = parts.boundary_moves()[int(rng.integers(len(parts.boundary_moves())))]
        if community[q] != community[parts.label[a]] or len(parts.members[parts.label[a]]) < 3:
            continue
        if parts.stays_connected(a):
            parts.move(a, q)
            done += 1
    out = units.copy()
    out.loc[micro.index, "parent_code"] = names[np.asarray(parts.label)]
    return out


class _TimedOut(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _TimedOut


def spopt_maxp(units: gpd.GeoDataFrame, households: pd.Series, lo: int, seed: int,
               construction: int, timeout: int) -> tuple[Row, list[str]]:
    """spopt's max-p heuristic per community, on the partitioner's own adjacency."""
    from libpysal.weights import W
    from spopt.region.maxp import MaxPHeuristic

    np.random.seed(seed)  # spopt draws from NumPy's global generator
    micro = units[units["level"] == "microgrid"].reset_index(drop=True)
    grid_community = units[units["level"] == "grid"].set_index("code")["parent_code"]
    community = grid_community.reindex(micro["parent_code"]).to_numpy()
    geoms = np.asarray(micro["geometry"].to_numpy(), dtype=object)
    metric = to_metric(geoms, metric_crs_of(geoms))
    weight = households.reindex(micro["code"]).fillna(0).to_numpy()
    sizes, pps, moved, seconds, timed_out = [], [], 0, 0.0, []
    signal.signal(signal.SIGALRM, _alarm)
    for c in np.unique(community):
        idx = np.flatnonzero(community == c)
        graph: AtomGraph = atom_graph(metric[idx], weight[idx])
        adj = graph.adjacency
        neighbours = {i: adj.indices[adj.indptr[i]:adj.indptr[i + 1]].tolist()
                      for i in range(graph.n)}
        xy = shapely.get_coordinates(shapely.centroid(metric[idx]))
        frame = gpd.GeoDataFrame({"x": xy[:, 0], "y": xy[:, 1], "households": graph.weight},
                                 geometry=metric[idx])
        t = time.perf_counter()
        signal.alarm(timeout)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = MaxPHeuristic(frame, W(neighbours, silence_warnings=True), ["x", "y"],
                                      "households", lo, top_n=2,
                                      max_iterations_construction=construction)
                model.solve()
            found = np.asarray(model.labels_)
            seconds += time.perf_counter() - t  # only communities it finished
        except _TimedOut:
            timed_out.append(str(c))
            found = np.zeros(graph.n, dtype=int)
        finally:
            signal.alarm(0)
        labels = np.unique(found, return_inverse=True)[1].ravel()
        k = int(labels.max()) + 1
        sizes.append(np.bincount(labels, weights=graph.weight, minlength=k))
        pps.append(graph.compactness(labels, k))
        current = np.unique(micro["parent_code"].to_numpy()[idx], return_inverse=True)[1].ravel()
        moved += match_to_current(labels, current, graph.weight, k)[1]
    return Row(f"spopt MaxPHeuristic ({construction} it.)", np.concatenate(sizes),
               np.concatenate(pps), moved, seconds), timed_out


def ours(units: gpd.GeoDataFrame, households: pd.Series, compounds: pd.Series, lo: int, hi: int,
         method: str, seed: int) -> tuple[Row, list]:
    t = time.perf_counter()
    proposals = propose_grids(units, households, compounds, minimum=lo, maximum=hi,
                              method=method, seed=seed)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t
    name = {"repair": "wangge repair (plan in force)", "scratch": "wangge from scratch"}[method]
    return Row(name, np.concatenate([p.grids["households"].to_numpy() for p in proposals]),
               np.concatenate([p.grids["compactness"].to_numpy() for p in proposals]),
               sum(p.moved for p in proposals), seconds), proposals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--min", type=int, default=300, dest="lo")
    parser.add_argument("--max", type=int, default=500, dest="hi")
    parser.add_argument("--no-spopt", action="store_true")
    parser.add_argument("--maxp-construction", type=int, default=10,
                        help="spopt max-p construction iterations (its default: 99)")
    parser.add_argument("--maxp-timeout", type=int, default=10,
                        help="seconds per community for spopt max-p")
    parser.add_argument("--perturb", action="store_true",
                        help="move micro-grids between neighbouring grids first (more imbalance)")
    args = parser.parse_args()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})

    units = build_demo(seed=args.seed)
    register = build_register(units, seed=args.seed)
    truth = register.truth
    t = time.perf_counter()
    households = households_per_microgrid(units, truth["lon"].to_numpy(), truth["lat"].to_numpy())
    print(f"demo (seed {args.seed}): {int(households.sum()):,} located households assigned to "
          f"{len(households):,} micro-grids in {time.perf_counter() - t:.2f} s")
    if args.perturb:
        units = perturb(units, households, np.random.default_rng(args.seed), moves=300)
        print("perturbed: 300 micro-grids moved to a neighbouring grid of their community")
    compounds = register.compounds.set_index("microgrid_code")["compound_id"]
    micro = units[units["level"] == "microgrid"]
    per_grid = households.groupby(micro.set_index("code")["parent_code"]
                                  .reindex(households.index).to_numpy()).sum()
    print(f"plan in force: {distribution(per_grid.to_numpy(), args.lo, args.hi)}")

    repair, proposals = ours(units, households, compounds, args.lo, args.hi, "repair", args.seed)
    scratch, scratch_proposals = ours(units, households, compounds, args.lo, args.hi, "scratch",
                                      args.seed)
    rows = [repair, scratch]
    timed_out: list[str] = []
    if not args.no_spopt:
        maxp, timed_out = spopt_maxp(units, households, args.lo, args.seed, args.maxp_construction,
                                     args.maxp_timeout)
        rows.append(maxp)
    print(f"repaired:      {distribution(repair.households, args.lo, args.hi)}\n")

    head = (f"{'method':<32} {'grids':>5} {'< min':>6} {'> max':>6} {'moved':>7} {'moved/ours':>10} "
            f"{'PP mean':>7} {'PP min':>6} {'seconds':>8} {'s/ours':>7}")
    print(head)
    print("-" * len(head))
    for row in rows:
        print(f"{row.name:<32} {len(row.households):>5} {int((row.households < args.lo).sum()):>6} "
              f"{int((row.households > args.hi).sum()):>6} {row.moved:>7,} "
              f"{row.moved / max(repair.moved, 1):>10.2f} {np.nanmean(row.compactness):>7.3f} "
              f"{np.nanmin(row.compactness):>6.3f} {row.seconds:>8.2f} "
              f"{row.seconds / repair.seconds:>7.1f}")
    if timed_out:
        print(f"spopt max-p timed out ({args.maxp_timeout} s) in {len(timed_out)} communities, "
              f"counted as one region each and left out of its seconds: {', '.join(timed_out)}")
    print(f"\nrepair moves {repair.moved / max(scratch.moved, 1):.2f} × the households of the "
          f"from-scratch partition (target ≤ 0.50); {len(proposals)} communities in "
          f"{repair.seconds:.2f} s (target < 5 s)")
    for name, props in (("repair", proposals), ("scratch", scratch_proposals)):
        verdicts = pd.Series([p.verdict for p in props]).value_counts().to_dict()
        feasible_out = sum(p.grids["households"].between(args.lo, args.hi).eq(False).sum()
                           for p in props if p.verdict == "feasible")
        print(f"verdicts ({name}): {verdicts}; grids out of bounds where feasible: {feasible_out}")
    reasons = pd.Series([r.code for p in proposals for r in p.reasons]).value_counts().to_dict()
    print(f"reasons (repair): {reasons or 'none'}")
    for p in proposals:
        if p.verdict != "feasible":
            print(f"  {p.community}: {p.verdict}; grids {sorted(p.grids['households'].tolist())}, "
                  f"before {sorted(p.before.tolist())}; {p.reasons[-1].message_en}")
    new = sum(int((~p.grids["existing"]).sum()) for p in proposals)
    removed = sum(len(p.removed) for p in proposals)
    print(f"repair: {new} new grids, {removed} grids removed, "
          f"{len(repair.households) - new} kept (with changes where needed)")


if __name__ == "__main__":
    main()
