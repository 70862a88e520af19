"""Benchmark: assign 1,000,000 households to the demo micro-grids — wangge, geopandas.sjoin, PostGIS.

Usage:
    .venv/bin/python benchmarks/assign_vs_sjoin_postgis.py [--points N] [--postgis URL]
                                                          [--no-postgis] [--seed S]

Households are generated deterministically from ``--seed``: buildings placed inside the
micro-grids (about 60 households per building in urban micro-grids, 8 in rural ones; urban
micro-grids get about four times the households of rural ones, so ~90 % of households are
urban), households a few metres around their building, 2 % of the points outside the district
(addresses geocoded wrongly), all shuffled as a register is.

In one run, on one core (this process is pinned to one CPU, thread pools limited to one
thread, PostgreSQL without parallel workers):

- wangge: ``UnitIndex.build`` once (build time printed), then ``UnitIndex.locate``, best of 3;
- ``geopandas.sjoin(points, microgrids, predicate="within")``, best of 3 (the points'
  GeoDataFrame is made beforehand and not timed; the micro-grids' spatial index is warm);
- PostGIS: points and micro-grids in scratch tables with GiST indexes, then
  ``CREATE TEMP TABLE … AS SELECT p.id, m.code FROM pts p JOIN mg m ON ST_Covers(m.geom, p.geom)``
  (and the same with ``ST_Contains``), best of 3 each, with the points in register order
  (plan 1) and with the points table clustered on its GiST index (plan 2, the CLUSTER itself
  not counted). The best of the four is compared.

The three answers are compared point by point (lowest code where a point is in several units;
``within`` and ``ST_Contains`` leave points on a boundary out), and differences are checked
against the units' boundaries. Peak memory of the wangge path is measured in a fresh
subprocess: ``tracemalloc`` peak (NumPy and Python allocations; GEOS's own are not traced) and
the process's peak resident set (``VmHWM``, interpreter, libraries and input included).
"""

from __future__ import annotations

import os

# One thread everywhere: set before NumPy and BLAS load (NumPy's element-wise loops are
# single-threaded anyway; this keeps any OpenMP/BLAS pool from starting threads).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wangge.demo.district import build_demo  # noqa: E402
from wangge.geo.index.hierarchy import HierarchyIndex, UnitIndex  # noqa: E402

DEFAULT_URL = os.environ.get("WANGGE_TEST_POSTGIS_URL",
                             "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge_test")
OUTSIDE_SHARE = 0.02
URBAN_WEIGHT = 4.0
HOUSEHOLDS_PER_BUILDING = {"urban": 60, "rural": 8}
SPREAD_M = {"urban": 4.0, "rural": 15.0}
M_PER_DEG = (111_320.0 * np.cos(np.radians(33.4)), 110_574.0)


def households(units: gpd.GeoDataFrame, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` household points (lon, lat), deterministic; see the module docstring."""
    rng = np.random.default_rng(seed)
    micro = units[units["level"] == "microgrid"]
    geoms = micro.geometry.to_numpy()
    kind = np.array([a["area_type"] for a in micro["attrs"]])
    urban = kind == "urban"
    weight = np.where(urban, URBAN_WEIGHT, 1.0) * rng.lognormal(0.0, 0.4, len(geoms))
    n_out = round(n * OUTSIDE_SHARE)
    per_unit = rng.multinomial(n - n_out, weight / weight.sum())
    per_building = np.where(urban, HOUSEHOLDS_PER_BUILDING["urban"],
                            HOUSEHOLDS_PER_BUILDING["rural"])
    n_buildings = np.maximum(1, np.round(per_unit / per_building)).astype(int)
    owner = np.repeat(np.arange(len(geoms)), n_buildings)
    bx, by = _inside(geoms, owner, rng)
    # Each household goes to one building of its micro-grid, a few metres around it.
    start = np.cumsum(n_buildings) - n_buildings
    unit_of = np.repeat(np.arange(len(geoms)), per_unit)
    building = start[unit_of] + (rng.random(len(unit_of)) * n_buildings[unit_of]).astype(int)
    spread = np.where(urban[unit_of], SPREAD_M["urban"], SPREAD_M["rural"])
    hx = bx[building] + rng.normal(size=len(building)) * spread / M_PER_DEG[0]
    hy = by[building] + rng.normal(size=len(building)) * spread / M_PER_DEG[1]
    # Outside: within 3 km of the district, not in it.
    district = shapely.coverage_union_all(units[units["level"] == "street"].geometry.to_numpy())
    shapely.prepare(district)
    minx, miny, maxx, maxy = district.bounds
    ox, oy = np.zeros(0), np.zeros(0)
    while len(ox) < n_out:
        x = rng.uniform(minx - 0.03, maxx + 0.03, 4 * n_out)
        y = rng.uniform(miny - 0.03, maxy + 0.03, 4 * n_out)
        keep = ~shapely.contains_xy(district, x, y) & shapely.dwithin(
            district, shapely.points(x, y), 0.03)
        ox, oy = np.append(ox, x[keep]), np.append(oy, y[keep])
    lon = np.concatenate([hx, ox[:n_out]])
    lat = np.concatenate([hy, oy[:n_out]])
    order = rng.permutation(len(lon))
    return lon[order], lat[order]


def _inside(geoms: np.ndarray, owner: np.ndarray, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """A uniform random point inside ``geoms[owner[i]]`` for each i (rejection sampling)."""
    bounds = shapely.bounds(geoms)
    x, y = np.empty(len(owner)), np.empty(len(owner))
    todo = np.arange(len(owner))
    while len(todo):
        b = bounds[owner[todo]]
        tx = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        ty = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        ok = shapely.contains_xy(geoms[owner[todo]], tx, ty)
        x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
        todo = todo[~ok]
    return x, y


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def threads() -> int:
    return _status("Threads")


def peak_rss_mib() -> float:
    """High-water mark of this process's resident set since exec (VmHWM).

    Not ``ru_maxrss``: on Linux that survives ``exec`` and would report the parent's size.
    """
    return _status("VmHWM") / 1024


# --- PostGIS -----------------------------------------------------------------------------

def postgis(url: str, micro: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, repeat: int
            ) -> tuple[dict[str, float], dict[str, str], np.ndarray | None, str]:
    """Times of the PostGIS plans, their plan shapes, and the answer per point (lowest code)."""
    suffix = f"{os.getpid()}"
    pts, mg = f"bench_assign_pts_{suffix}", f"bench_assign_mg_{suffix}"
    engine = create_engine(url)
    times: dict[str, float] = {}
    plans: dict[str, str] = {}
    try:
        with engine.connect() as con:
            con.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            con.commit()
            t0 = time.perf_counter()
            _load(con, pts, mg, micro, lon, lat)
            load_s = time.perf_counter() - t0
            con.execute(text("SET max_parallel_workers_per_gather = 0"))
            con.execute(text("SET work_mem = '256MB'"))
            join = "SELECT p.id, m.code FROM {pts} p JOIN {mg} m ON {pred}(m.geom, p.geom)"
            cases = [("ST_Covers, register order", "ST_Covers", False),
                     ("ST_Contains, register order", "ST_Contains", False),
                     ("ST_Covers, clustered on GiST", "ST_Covers", True),
                     ("ST_Contains, clustered on GiST", "ST_Contains", True)]
            clustered = False
            for label, pred, want_cluster in cases:
                if want_cluster and not clustered:
                    t0 = time.perf_counter()
                    con.execute(text(f"CLUSTER {pts} USING {pts}_geom_idx"))
                    con.execute(text(f"ANALYZE {pts}"))
                    con.commit()
                    print(f"  PostGIS: CLUSTER of the points on their GiST index "
                          f"{time.perf_counter() - t0:.1f} s (not counted)")
                    clustered = True
                sql = join.format(pts=pts, mg=mg, pred=pred)
                plan = con.execute(text(f"EXPLAIN {sql}")).scalars().all()
                plans[label] = " / ".join(line.strip().split("  (")[0] for line in plan[:3])
                best = float("inf")
                for _ in range(repeat):
                    con.execute(text("DROP TABLE IF EXISTS res"))
                    t0 = time.perf_counter()
                    con.execute(text(f"CREATE TEMP TABLE res AS {sql}"))
                    best = min(best, time.perf_counter() - t0)
                times[label] = best
                if label == "ST_Covers, clustered on GiST":
                    con.execute(text("DROP TABLE IF EXISTS res_covers"))
                    con.execute(text("ALTER TABLE res RENAME TO res_covers"))
            rows = con.execute(text(
                "SELECT id, min(code COLLATE \"C\") FROM res_covers GROUP BY id")).all()
            answer = np.full(len(lon), None, dtype=object)
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            answer[ids] = [r[1] for r in rows]
            con.rollback()
        note = f"load {load_s:.1f} s (COPY, GiST indexes, ANALYZE)"
        return times, plans, answer, note
    finally:
        with engine.begin() as con:
            con.execute(text(f"DROP TABLE IF EXISTS {pts}"))
            con.execute(text(f"DROP TABLE IF EXISTS {mg}"))
        engine.dispose()


def _load(con, pts: str, mg: str, micro: gpd.GeoDataFrame, lon: np.ndarray,
          lat: np.ndarray) -> None:
    con.execute(text(f"DROP TABLE IF EXISTS {pts}"))
    con.execute(text(f"DROP TABLE IF EXISTS {mg}"))
    con.execute(text(f"CREATE TABLE {mg} (code text PRIMARY KEY, geom geometry(Polygon, 4490))"))
    wkb = shapely.to_wkb(micro.geometry.to_numpy(), hex=True)
    con.execute(text(f"INSERT INTO {mg} VALUES (:code, ST_GeomFromWKB(decode(:wkb, 'hex'), 4490))"),
                [{"code": c, "wkb": w} for c, w in zip(micro["code"], wkb, strict=True)])
    con.execute(text(f"CREATE TABLE {pts} (id bigint, lon float8, lat float8)"))
    buf = io.StringIO()
    # %.17g round-trips every double exactly, so PostGIS sees the very same points.
    np.savetxt(buf, np.column_stack([np.arange(len(lon)), lon, lat]), fmt=["%d", "%.17g", "%.17g"],
               delimiter="\t")
    raw = con.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {pts} (id, lon, lat) FROM STDIN") as copy:
        copy.write(buf.getvalue())
    con.execute(text(f"ALTER TABLE {pts} ADD COLUMN geom geometry(Point, 4490)"))
    con.execute(text(f"UPDATE {pts} SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4490)"))
    con.execute(text(f"CREATE INDEX {pts}_geom_idx ON {pts} USING gist (geom)"))
    con.execute(text(f"CREATE INDEX {mg}_geom_idx ON {mg} USING gist (geom)"))
    con.commit()
    con.execute(text(f"ANALYZE {pts}"))
    con.execute(text(f"ANALYZE {mg}"))
    con.commit()


# --- agreement ---------------------------------------------------------------------------

def compare(name: str, ours: np.ndarray, theirs: np.ndarray, micro: gpd.GeoDataFrame,
            lon: np.ndarray, lat: np.ndarray) -> None:
    differ = np.flatnonzero(ours != theirs)
    if not len(differ):
        print(f"  wangge vs {name}: all {len(ours):,} points agree")
        return
    edges = shapely.boundary(micro.geometry.to_numpy())
    tree = shapely.STRtree(edges)
    on_edge = np.zeros(len(differ), dtype=bool)
    pi, _ = tree.query(shapely.points(lon[differ], lat[differ]), predicate="dwithin",
                       distance=1e-9)
    on_edge[pi] = True
    print(f"  wangge vs {name}: {len(differ):,} of {len(ours):,} differ, {on_edge.sum():,} of "
          f"them within 1e-9° of a micro-grid boundary (where the predicates differ)")


# --- memory ------------------------------------------------------------------------------

def memory_probe(folder: Path) -> None:
    """Run in a fresh process: build and locate, report peaks as JSON on stdout."""
    lon = np.load(folder / "lon.npy")
    lat = np.load(folder / "lat.npy")
    units_json = json.loads((folder / "units.json").read_text(encoding="utf-8"))
    geoms = shapely.from_wkb(np.array(units_json["wkb"], dtype=object))
    units = gpd.GeoDataFrame({k: units_json[k] for k in ("code", "level", "parent_code")},
                             geometry=geoms, crs="EPSG:4490")
    micro = units[units["level"] == "microgrid"]
    rss0 = peak_rss_mib()
    tracemalloc.start()
    index = UnitIndex.build(micro["code"].tolist(), micro.geometry.to_numpy())
    found = index.locate(lon, lat)
    _, peak_locate = tracemalloc.get_traced_memory()
    rss_locate = peak_rss_mib()
    del found
    tracemalloc.reset_peak()
    frame = HierarchyIndex.build(units).assign(lon, lat)
    _, peak_assign = tracemalloc.get_traced_memory()
    rss_assign = peak_rss_mib()
    print(json.dumps({"rss_before": rss0, "trace_locate": peak_locate / 2**20,
                      "rss_locate": rss_locate, "trace_assign": peak_assign / 2**20,
                      "rss_assign": rss_assign, "rows": len(frame)}))


def measure_memory(units: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "lon.npy", lon)
        np.save(folder / "lat.npy", lat)
        wkb = shapely.to_wkb(units.geometry.to_numpy(), hex=True).tolist()
        (folder / "units.json").write_text(json.dumps({
            "code": units["code"].tolist(), "level": units["level"].tolist(),
            "parent_code": units["parent_code"].tolist(), "wkb": wkb}), encoding="utf-8")
        out = subprocess.run([sys.executable, __file__, "--memory-probe", str(folder)],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgis", default=DEFAULT_URL)
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--memory-probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    started = time.perf_counter()
    units = build_demo()
    micro = units[units["level"] == "microgrid"].reset_index(drop=True)
    t0 = time.perf_counter()
    lon, lat = households(units, args.points, args.seed)
    print(f"{len(lon):,} households generated in {time.perf_counter() - t0:.1f} s over "
          f"{len(micro):,} micro-grids; pinned to CPU {cpu}, "
          f"numpy {np.__version__}, shapely {shapely.__version__} (GEOS "
          f"{'.'.join(map(str, shapely.geos_version))}), geopandas {gpd.__version__}")

    # wangge
    index = UnitIndex.build(micro["code"].tolist(), micro.geometry.to_numpy())
    grid = index.grid
    assert grid is not None
    t_ours, found = best_of(lambda: index.locate(lon, lat))
    ours = np.where(found >= 0, index.codes.astype(object)[found], None)
    print(f"wangge UnitIndex.build: {index.build_seconds:.2f} s; lookup grid {grid.nx}x{grid.ny} "
          f"level-0 cells of ~{grid.cell_m:.0f} m, {grid.depth} finer levels, "
          f"{index.nbytes / 2**20:.1f} MiB")
    print(f"wangge UnitIndex.locate: best of 3 {t_ours * 1000:.1f} ms = "
          f"{len(lon) / t_ours / 1e6:.2f} M points/s ({threads()} thread(s) in the process); "
          f"{(found >= 0).sum():,} found, {(found < 0).sum():,} outside")

    hier = HierarchyIndex.build(units)
    t_hier, frame = best_of(lambda: hier.assign(lon, lat))
    print(f"wangge HierarchyIndex.assign (codes of all four levels, status, nearest micro-grid "
          f"for the {int((frame['status'] == 'outside').sum()):,} outside): best of 3 "
          f"{t_hier:.3f} s = {len(lon) / t_hier / 1e6:.2f} M points/s")
    del frame

    # geopandas
    t0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=micro.crs)
    make_points = time.perf_counter() - t0
    right = micro[["code", "geometry"]]
    _ = right.sindex
    t_gpd, joined = best_of(lambda: gpd.sjoin(points, right, predicate="within"))
    theirs_gpd = np.full(len(lon), None, dtype=object)
    lowest = joined.sort_values("code").groupby(level=0)["code"].first()
    theirs_gpd[lowest.index.to_numpy()] = lowest.to_numpy()
    print(f"geopandas.sjoin(predicate='within'): best of 3 {t_gpd:.3f} s = "
          f"{len(lon) / t_gpd / 1e6:.2f} M points/s (making the points' GeoDataFrame took "
          f"{make_points:.2f} s more)")

    # PostGIS
    t_pg = None
    theirs_pg = None
    if not args.no_postgis:
        try:
            times, plans, theirs_pg, note = postgis(args.postgis, micro, lon, lat, 3)
        except OperationalError as exc:
            print(f"PostGIS: skipped, cannot connect ({exc.orig})")
        else:
            print(f"PostGIS ({note}), one core (max_parallel_workers_per_gather = 0):")
            for label, seconds in times.items():
                print(f"  {label:<32} {seconds:7.2f} s = {len(lon) / seconds / 1e6:.3f} M points/s"
                      f"   plan: {plans[label]}")
            t_pg = min(times.values())

    print("ratios (points/s of wangge over the other):")
    print(f"  wangge / geopandas.sjoin = {t_gpd / t_ours:.1f}x   (target >= 10x)")
    if t_pg is not None:
        print(f"  wangge / PostGIS best plan = {t_pg / t_ours:.1f}x   (target >= 25x)")
    print("agreement (lowest code where a point is in several units):")
    compare("geopandas.sjoin", ours, theirs_gpd, micro, lon, lat)
    if theirs_pg is not None:
        compare("PostGIS ST_Covers", ours, theirs_pg, micro, lon, lat)

    mem = measure_memory(units, lon, lat)
    print(f"memory of the wangge path, fresh subprocess, {len(lon):,} points already loaded:")
    print(f"  UnitIndex.build + locate: tracemalloc peak {mem['trace_locate']:.0f} MiB; "
          f"process peak RSS {mem['rss_locate']:.0f} MiB (after imports and input: "
          f"{mem['rss_before']:.0f} MiB)")
    print(f"  HierarchyIndex.build + assign (DataFrame of {mem['rows']:,} rows): tracemalloc peak "
          f"{mem['trace_assign']:.0f} MiB; process peak RSS {mem['rss_assign']:.0f} MiB")
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
