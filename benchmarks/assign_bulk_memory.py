"""Benchmark: the Dask bulk path for 1,000,000 households — wall time, points/s, peak memory.

Usage:
    .venv/bin/python benchmarks/assign_bulk_memory.py [--points N] [--seed S] [--no-processes]

Households are generated deterministically from ``--seed`` by the generator of
``benchmarks/assign_vs_sjoin_postgis.py`` (buildings in the micro-grids, households a few metres
around them, 2 % outside the district, shuffled). Each path then runs in a fresh Python process
that loads the points and the units from files, so that nothing of the generator or of the
other path counts:

- bulk: ``assign_bulk(units, lon, lat)`` with no scheduler, as the service calls it: it builds
  the index, starts its own ``LocalCluster`` (one worker, threads in that process), assigns,
  gathers and closes the cluster — all of it timed;
- in-process: ``HierarchyIndex.build(units).assign(lon, lat)``, in a process that does not
  import Dask;
- bulk on two worker processes (comparison, skipped with ``--no-processes``): the same call on
  a ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` passed as ``client``;
  the cluster's start is timed separately.

Memory, for each path: the peak resident set of the whole process tree. A thread in the probe
process sums the RSS of the process and all its descendants (psutil) every 5 ms and keeps the
maximum; the probe process's own ``VmHWM`` (kernel high-water mark, exact) is read too, and for
the worker processes their ``VmHWM`` just before the cluster closes. The sum of the ``VmHWM``
values bounds the tree's peak from above (the processes need not peak together), the sampled
figure from below (RSS counts shared library pages once per process in both). Interpreter,
libraries and the loaded input (16 MB of coordinates) are included: the figures are what the
machine must have free. The two paths' answers are compared by a hash of the whole frame.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MIB = 500.0


# --- measuring, in the probe process -----------------------------------------------------

def _status_kib(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of this process and its descendants.

    RSS is read every 5 ms; the list of descendants is refreshed every 100 ms (listing walks
    all of /proc, too slow to do at every sample on a 2-core machine without disturbing the
    timings).
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        import psutil

        self._me = psutil.Process()
        self._error = psutil.Error
        self.peak = 0
        self.most_processes = 1
        self._stop_event = threading.Event()

    def descendants(self) -> list:
        return self._me.children(recursive=True)

    def run(self) -> None:
        procs, listed = [self._me], 0.0
        while not self._stop_event.is_set():
            now = time.monotonic()
            if now - listed > 0.1:
                procs, listed = [self._me, *self.descendants()], now
                self.most_processes = max(self.most_processes, len(procs))
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except self._error:  # it ended since it was listed
                    pass
            self.peak = max(self.peak, total)
            self._stop_event.wait(0.005)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak / 2**20


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.args: list[tuple] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple):
            self.args.append(record.args)


def _digest(frame) -> str:
    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
                          ).hexdigest()[:16]


def probe(mode: str, folder: Path) -> dict:
    """Run one path on the saved input; return its figures."""
    if mode == "inprocess":
        from wangge.geo.index.hierarchy import HierarchyIndex
    else:
        from distributed import Client, LocalCluster

        from wangge.bulk import assign_bulk
    lon = np.load(folder / "lon.npy")
    lat = np.load(folder / "lat.npy")
    with open(folder / "units.pickle", "rb") as fh:  # written by this benchmark's parent
        units = pickle.load(fh)
    out: dict = {"mode": mode, "before_mib": _status_kib("VmHWM") / 1024}
    sampler = TreeSampler()
    sampler.start()
    if mode == "inprocess":
        t0 = time.perf_counter()
        index = HierarchyIndex.build(units)
        out["build_s"] = time.perf_counter() - t0
        frame = index.assign(lon, lat)
        out["seconds"] = time.perf_counter() - t0
    elif mode == "bulk":
        records = _Records()
        logging.getLogger("wangge.bulk").addHandler(records)
        logging.getLogger("wangge.bulk").setLevel(logging.INFO)
        t0 = time.perf_counter()
        frame = assign_bulk(units, lon, lat)
        out["seconds"] = time.perf_counter() - t0
        _, out["partitions"], out["threads"], out["dask_s"] = records.args[-1]
    else:  # processes
        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address="127.0.0.1:0") as cluster, \
                Client(cluster, set_as_default=False) as client:
            out["cluster_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            frame = assign_bulk(units, lon, lat, client=client)
            out["seconds"] = time.perf_counter() - t0
            workers = set(client.run(os.getpid).values())
            # Every descendant's high-water mark before the cluster closes: workers and helpers.
            out["child_hwm_mib"] = [
                ("worker" if proc.pid in workers else "helper", _status_kib("VmHWM", proc.pid) / 1024)
                for proc in sampler.descendants()]
    out["tree_peak_mib"] = sampler.stop()
    out["processes"] = sampler.most_processes
    out["hwm_mib"] = _status_kib("VmHWM") / 1024
    out["rows"] = len(frame)
    out["status"] = {str(k): int(v) for k, v in frame["status"].value_counts().items()}
    out["digest"] = _digest(frame)
    return out


# --- driving, in the parent --------------------------------------------------------------

def run_probe(mode: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--probe", mode, str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the {mode} probe failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-processes", action="store_true",
                        help="skip the comparison on two worker processes")
    parser.add_argument("--probe", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe[0], Path(args.probe[1]))))
        return

    import dask
    import dask_geopandas
    import distributed
    import geopandas as gpd
    import shapely
    from assign_vs_sjoin_postgis import households

    from wangge.demo.district import build_demo

    started = time.perf_counter()
    units = build_demo()
    n_micro = int((units["level"] == "microgrid").sum())
    t0 = time.perf_counter()
    lon, lat = households(units, args.points, args.seed)
    print(f"{len(lon):,} households (seed {args.seed}) over {n_micro:,} micro-grids, generated "
          f"in {time.perf_counter() - t0:.1f} s; {len(os.sched_getaffinity(0))} CPUs; dask "
          f"{dask.__version__}, distributed {distributed.__version__}, dask-geopandas "
          f"{dask_geopandas.__version__}, geopandas {gpd.__version__}, shapely "
          f"{shapely.__version__}")
    modes = ["bulk", "inprocess"] + ([] if args.no_processes else ["processes"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "lon.npy", lon)
        np.save(folder / "lat.npy", lat)
        with open(folder / "units.pickle", "wb") as fh:
            pickle.dump(units, fh)
        results = {mode: run_probe(mode, folder) for mode in modes}

    n = len(lon)
    bulk, ours = results["bulk"], results["inprocess"]
    print("each path in a fresh process; memory = peak resident set of the whole process tree, "
          "interpreter, libraries and the loaded input included")
    print(f"bulk path, assign_bulk(units, lon, lat) with its own LocalCluster (1 worker, "
          f"{bulk['threads']} threads, in process; {bulk['partitions']} partitions):")
    print(f"  wall time {bulk['seconds']:.2f} s = {n / bulk['seconds'] / 1e6:.2f} M points/s "
          f"(index build, cluster start and stop included); of it the partitions on the "
          f"cluster {bulk['dask_s']:.2f} s = {n / bulk['dask_s'] / 1e6:.2f} M points/s")
    print(f"  peak memory {bulk['hwm_mib']:.0f} MiB (VmHWM; {bulk['processes']} process in the "
          f"tree, sampled tree peak {bulk['tree_peak_mib']:.0f} MiB); {bulk['before_mib']:.0f} "
          f"MiB before the call; target < {TARGET_MIB:.0f} MiB: "
          f"{'met' if max(bulk['hwm_mib'], bulk['tree_peak_mib']) < TARGET_MIB else 'NOT met'}")
    print("in-process path, HierarchyIndex.build(units).assign(lon, lat), no Dask imported:")
    assign_s = ours["seconds"] - ours["build_s"]
    print(f"  wall time {ours['seconds']:.2f} s = {n / ours['seconds'] / 1e6:.2f} M points/s "
          f"(index build {ours['build_s']:.2f} s included); assign alone {assign_s:.2f} s = "
          f"{n / assign_s / 1e6:.2f} M points/s")
    print(f"  peak memory {ours['hwm_mib']:.0f} MiB (VmHWM); {ours['before_mib']:.0f} MiB before")
    if "processes" in results:
        proc = results["processes"]
        upper = proc["hwm_mib"] + sum(mib for _, mib in proc["child_hwm_mib"])
        print("comparison, the bulk path on LocalCluster(n_workers=2, threads_per_worker=1, "
              "processes=True):")
        print(f"  wall time {proc['seconds']:.2f} s = {n / proc['seconds'] / 1e6:.2f} M points/s "
              f"(first call on fresh workers; cluster start {proc['cluster_s']:.1f} s not "
              f"included)")
        print(f"  peak memory of the tree ({proc['processes']} processes): sampled "
              f"{proc['tree_peak_mib']:.0f} MiB; sum of VmHWM {upper:.0f} MiB (client, "
              f"scheduler and nannies {proc['hwm_mib']:.0f}; "
              f"{', '.join(f'{what} {mib:.0f}' for what, mib in proc['child_hwm_mib'])})")
    same = {r["digest"] for r in results.values()}
    print(f"answers: {ours['status']}; "
          f"{'identical on every path' if len(same) == 1 else 'DIFFERENT: ' + str(same)}")
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
