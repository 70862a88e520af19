"""Benchmark: the membership API under load, against one PostGIS query per request.

Usage:
    .venv/bin/python benchmarks/membership_vs_postgis.py [--postgis URL] [--duration S]
                                                         [--connections C] [--workers W]

Needs ``wrk`` (Debian package ``wrk``; ``scripts/setup-bench`` installs it) and a PostGIS
server (default: the test database of ``scripts/test``). In one run:

1. A fresh schema gets the demo district (2,367 units) as release 1, current, and the same
   units with every name marked "·二版" as release 2 (a draft), plus an integrator key.
2. Both services are started as a user would, each with ``uvicorn --workers W`` (W = cores):
   wangge (``wangge.api.app:create_app``, in-memory index) and the peer
   (``benchmarks/membership/postgis_app.py``: one PostGIS query per request), on loopback.
3. ``wrk`` (a second process) drives ``GET /v1/membership`` with 20,000 points (98 % inside
   the district, 2 % anywhere in its bounding box), for ``--duration`` seconds with
   ``--connections`` connections, against each service in turn, and against wangge again with 4
   connections (a load still above twice the peer's best): requests/second, p50 and p99 latency.
4. Batch: ``POST /v1/membership`` with 100,000 points (JSON), 10 requests one after the other
   and 2 at a time, in the default layout (pairs in, one object per point out) and the
   columnar one (lon and lat arrays in, ``layout=columns`` out): points/second end to end
   (request built beforehand; sending, parsing, lookup, serialising and receiving counted).
5. Refresh under load: wrk again on wangge for twice as long, checking every answer, while
   release 2 is made current a sixth of the way in; prints errors, answers per release, and
   answers mixing the two releases (release 1 with a marked name, or 2 with an unmarked one).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serving import DEFAULT_POSTGIS_URL as DEFAULT_URL  # noqa: E402
from benchmarks.serving import scratch_schema as _schema  # noqa: E402
from benchmarks.serving import serve  # noqa: E402
from wangge.demo.district import build_demo  # noqa: E402
from wangge.geo.index.hierarchy import HierarchyIndex  # noqa: E402
from wangge.store import open_store  # noqa: E402

MARK = "·二版"


def _wrk(base: str, points_file: Path, duration: float, connections: int, key: str,
         check: bool = False) -> dict[str, float]:
    env = {**os.environ, "POINTS_FILE": str(points_file), "WANGGE_KEY": key,
           "CHECK_RELEASES": "1" if check else "0"}
    script = ROOT / "benchmarks" / "membership" / "points.lua"
    run = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{int(duration)}s",
                          "-s", str(script), "--timeout", "5s", base], env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"wrk failed: {run.stdout}\n{run.stderr}")
    out = run.stdout
    values = dict(re.findall(r"(\w+)=([\d.]+)", " ".join(
        line for line in out.splitlines() if line.startswith("RESULT"))))
    return {k: float(v) for k, v in values.items()}


def _batch(base: str, key: str, xy: np.ndarray, requests: int, parallel: int,
           columns: bool) -> float:
    """Points per second of ``requests`` batch requests, ``parallel`` at a time. ``columns``:
    the columnar forms ({"lon": [...], "lat": [...]} in, ``layout=columns`` out), else the
    default ({"points": [[lon, lat], ...]} in, one object per point out)."""
    if columns:
        doc = {"lon": xy[:, 0].tolist(), "lat": xy[:, 1].tolist(), "crs": "EPSG:4490"}
        url = f"{base}/v1/membership?layout=columns"
    else:
        doc = {"points": xy.tolist(), "crs": "EPSG:4490"}
        url = f"{base}/v1/membership"
    body = orjson.dumps(doc)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}

    def one(client: httpx.Client) -> bytes:
        r = client.post(url, content=body, headers=headers, timeout=120)
        r.raise_for_status()
        return r.content

    with httpx.Client() as warm:  # checked once; the timed requests only read the answer
        answer = orjson.loads(one(warm))
        got = answer["columns"]["status"] if columns else answer["results"]
        assert len(got) == len(xy) == answer["count"]
    started = time.perf_counter()
    per_thread = requests // parallel

    def run() -> None:
        with httpx.Client() as client:
            for _ in range(per_thread):
                one(client)

    threads = [threading.Thread(target=run) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per_thread * parallel * len(xy) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgis", default=os.environ.get("WANGGE_TEST_POSTGIS_URL", DEFAULT_URL))
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: sudo apt-get install wrk (or scripts/setup-bench)")

    units = build_demo()
    pts = _queries(units, 20_000, seed=7)
    batch = _queries(units, 100_000, seed=8)
    marked = units.copy()
    marked["name"] = marked["name"] + MARK

    with _schema(args.postgis) as url, tempfile.TemporaryDirectory() as tmp:
        with open_store(url) as store:
            store.create_release(units, source="bench v1", make_current=True)
            second = store.create_release(marked, source="bench v2")
            _, key = store.create_key("benchmark", "integrator")
        points_file = Path(tmp) / "points.csv"
        points_file.write_text("".join(f"{x!r},{y!r}\n" for x, y in pts.tolist()))
        headers = {"X-API-Key": key}
        probe = f"/v1/membership?lon={pts[0, 0]}&lat={pts[0, 1]}&crs=EPSG:4490"
        wangge_env = {"WANGGE_DATABASE_URL": url, "WANGGE_WORKERS": str(args.workers),
                      "WANGGE_RATE_LIMIT_PER_S": "0"}
        print(f"demo units {len(units):,}; {args.workers} uvicorn workers each; wrk "
              f"{args.connections} connections, {args.duration:.0f} s per run; "
              f"{os.cpu_count()} cores shared by server and load generator\n")

        with serve("benchmarks.membership.postgis_app:create_app", {"PEER_DATABASE_URL": url},
                   workers=args.workers, ready_path=probe, headers=headers) as served:
            base = served.base
            peer = _wrk(base, points_file, args.duration, args.connections, key)
        with serve("wangge.api.app:create_app", wangge_env, workers=args.workers, ready_path=probe,
                   headers=headers) as served:
            base = served.base
            ours = _wrk(base, points_file, args.duration, args.connections, key)
            light = _wrk(base, points_file, args.duration, 4, key)
            batches = {(layout, parallel): _batch(base, key, batch, 10, parallel, layout == "columns")
                       for layout in ("records", "columns") for parallel in (1, 2)}

            flip = threading.Timer(args.duration / 3, _make_current, (url, second.id))
            flip.start()
            swap = _wrk(base, points_file, 2 * args.duration, args.connections, key, check=True)
            flip.join()

    print(f"{'single-point GET':<40}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    rows = ((f"PostGIS query per request, {args.connections} conn.", peer),
            (f"wangge in-memory index, {args.connections} conn.", ours),
            ("wangge in-memory index, 4 conn.", light))
    for name, r in rows:
        errs = int(r["errors"] + r["socket_errors"])
        print(f"{name:<40}{r['rps']:>10,.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{errs:>8}")
    print(f"ratio (wangge / PostGIS): {ours['rps'] / peer['rps']:.1f}x at saturation; with 4 "
          f"connections {light['rps'] / peer['rps']:.1f}x the peer's best at p99 "
          f"{light['p99_ms']:.2f} ms (target: >= 2x with p99 < 10 ms)\n")
    print("batch POST /v1/membership, 100,000 points per request, points/second end to end:")
    print(f"  {'':<44}{'1 at a time':>14}{'2 at a time':>14}")
    for layout, text in (("records", "records ({\"points\": [[lon, lat]…]}, rows out)"),
                         ("columns", "columns ({\"lon\": […], \"lat\": […]}, columns out)")):
        print(f"  {text:<44}{batches[layout, 1]:>14,.0f}{batches[layout, 2]:>14,.0f}")
    print("  (target >= 1,000,000 points/s)\n")
    print("refresh under load (release 2 made current a sixth of the way through the run):")
    print(f"  answers {int(swap['v1'] + swap['v2']):,} (release 1: {int(swap['v1']):,}, "
          f"release 2: {int(swap['v2']):,}), errors {int(swap['errors'] + swap['socket_errors'])}, "
          f"mixed releases {int(swap['mixed'])}, {swap['rps']:,.0f} req/s, "
          f"p99 {swap['p99_ms']:.2f} ms")


def _queries(units, n: int, seed: int) -> np.ndarray:
    """Points as callers send them: 98 % inside the district (uniform), 2 % anywhere in its
    bounding box, most of those outside (mistyped or far-off locations), shuffled."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = units.total_bounds
    index = HierarchyIndex.build(units[units["level"] == "street"])
    inside, anywhere = [], []
    while sum(map(len, inside)) < n:
        xy = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
        found = index.assign_arrays(xy[:, 0], xy[:, 1])["status"] == 0
        inside.append(xy[found])
        anywhere.append(xy)
    n_out = n // 50
    xy = np.concatenate([np.concatenate(inside)[: n - n_out], np.concatenate(anywhere)[:n_out]])
    return xy[rng.permutation(n)]


def _make_current(url: str, release_id: int) -> None:
    with open_store(url) as store:
        store.make_current(release_id)


if __name__ == "__main__":
    main()
