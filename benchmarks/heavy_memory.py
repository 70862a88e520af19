"""Benchmark: a served worker's memory before, during and after big uploads.

Usage:
    .venv/bin/python benchmarks/heavy_memory.py [--modes none,trim,child,child_notrim] [--vertices N]
                                                [--micro-cols C --micro-rows R] [--keep DIR]

The demo district is loaded once (``wangge demo --no-serve``, 130,000 households, network and
sites) into a SQLite file in a temporary directory. For each mode a copy of that file is served
by real uvicorn (one process, as ``wangge serve`` runs it) and gets, in this order:

1. ``big_polygon.geojson``: one street of 1,000,000 vertices (a wavy circle of 2 km radius
   around lon 120.16, lat 33.35, EPSG:4490), to ``POST /v1/validate`` then ``POST /v1/releases``
   (draft);
2. ``many.geojson``: 100,000 micro-grids of about 19 m × 20 m on a lattice around the same
   point, with their 1,000 grids, 40 communities and one street (codes by the prefix rule),
   to the same two endpoints.

Modes: ``none`` — the work in the serving process and nothing given back afterwards (the heap
trim of ``wangge.api.heavy`` replaced by a no-op); ``trim`` —
the work in the serving process, then ``gc.collect()`` + ``malloc_trim(0)`` after the response
(``WANGGE_ISOLATE_ABOVE_MB`` huge); ``child`` — reading and validation in a child process,
storing in the serving process, then the trim (``WANGGE_ISOLATE_ABOVE_MB=0``); ``child_notrim``
— the same without the trim (what storing alone leaves behind in the serving process).

Memory: ``VmRSS`` from ``/proc/<pid>/status`` of the server, and of the server plus all its
descendants (the fork server, the working child, the resource tracker), sampled every 20 ms
during a request for the peak; "after" is read 3 s after the response (the trim runs once the
response is sent). Time: the request's wall time as the client sees it (upload included).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import serving  # noqa: E402
from benchmarks.serving import ROOT, serve  # noqa: E402

LON0, LAT0 = 120.16, 33.35
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))
# mode: (WANGGE_ISOLATE_ABOVE_MB, heap trimmed after heavy requests)
MODES = {"none": ("1000000", False), "trim": ("1000000", True), "child": ("0", True),
         "child_notrim": ("0", False)}


def untrimmed_app():  # noqa: ANN201 - nothing given back after heavy work (modes without trim)
    import wangge.api.heavy as heavy_module
    from wangge.api.app import create_app

    heavy_module.trim_heap = lambda: False
    return create_app()


# --- inputs ----------------------------------------------------------------------------------

def _feature(props: dict, ring: list) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _write(path: Path, features: list[dict]) -> Path:
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features},
                                  option=orjson.OPT_SERIALIZE_NUMPY))
    return path


def big_polygon(path: Path, vertices: int) -> Path:
    """One street: a circle of 2 km radius with a 2 % wave, ``vertices`` vertices (simple)."""
    theta = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    r = 2000.0 * (1.0 + 0.02 * np.sin(50 * theta))
    lon = np.round(LON0 + r * np.cos(theta) / M_PER_DEG_LON, 9)
    lat = np.round(LAT0 + r * np.sin(theta) / M_PER_DEG_LAT, 9)
    ring = np.column_stack([lon, lat])
    ring = np.vstack([ring, ring[:1]])
    return _write(path, [_feature({"code": "320902901", "name": "百万顶点街道", "level": "street",
                                   "parent_code": "320902"}, ring)])


def many_features(path: Path, cols: int, rows: int) -> Path:
    """A street of ``cols`` × ``rows`` micro-grids; 10 × 10 micro-grids a grid, 5 × 5 grids a
    community (``cols`` a multiple of 50 and ``rows`` of 50 keep every parent whole)."""
    dx, dy = 0.0002, 0.00018
    x0, y0 = LON0 - cols * dx / 2, LAT0 - rows * dy / 2
    xs = [round(x0 + i * dx, 7) for i in range(cols + 1)]
    ys = [round(y0 + j * dy, 7) for j in range(rows + 1)]

    def box(i0: int, j0: int, i1: int, j1: int) -> list:
        return [[xs[i0], ys[j0]], [xs[i1], ys[j0]], [xs[i1], ys[j1]], [xs[i0], ys[j1]], [xs[i0], ys[j0]]]

    street = "320902902"
    feats = [_feature({"code": street, "name": "十万微网格街道", "level": "street",
                       "parent_code": "320902"}, box(0, 0, cols, rows))]
    # rows counted from the north: serials run north to south, west to east
    gcols, grows = cols // 10, rows // 10
    ccols = gcols // 5
    for cj in range(grows // 5):
        for ci in range(ccols):
            community = f"{street}{cj * ccols + ci + 1:03d}"
            top = rows - cj * 50
            feats.append(_feature({"code": community, "name": f"社区{community[-3:]}",
                                   "level": "community", "parent_code": street},
                                  box(ci * 50, top - 50, ci * 50 + 50, top)))
            for gj in range(5):
                for gi in range(5):
                    grid = f"{community}{gj * 5 + gi + 1:03d}"
                    gx, gtop = ci * 50 + gi * 10, top - gj * 10
                    feats.append(_feature({"code": grid, "name": f"网格{grid[-6:]}", "level": "grid",
                                           "parent_code": community}, box(gx, gtop - 10, gx + 10, gtop)))
                    for mj in range(10):
                        for mi in range(10):
                            feats.append(_feature(
                                {"code": f"{grid}{mj * 10 + mi + 1:03d}", "level": "microgrid",
                                 "name": f"微网格{mj * 10 + mi + 1}", "parent_code": grid},
                                box(gx + mi, gtop - mj - 1, gx + mi + 1, gtop - mj)))
    return _write(path, feats)


# --- the server and its memory ---------------------------------------------------------------

def rss_mib(pid: int) -> tuple[float, float]:
    """(the server's RSS, the server's plus its descendants'), MiB."""
    return serving.rss_mib(pid, children=False), serving.rss_mib(pid)


class Peak(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.own, self.total = pid, 0.0, 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            own, total = rss_mib(self.pid)
            self.own, self.total = max(self.own, own), max(self.total, total)
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@contextmanager
def serve_mode(db: Path, mode: str) -> Iterator[tuple[str, int]]:
    """The demo copy ``db`` served by one uvicorn process in ``mode``; (base URL, pid)."""
    isolate_above_mb, trim = MODES[mode]
    app = "wangge.api.app:create_app" if trim else "benchmarks.heavy_memory:untrimmed_app"
    env = {"WANGGE_DATABASE_URL": f"sqlite:///{db}", "WANGGE_ISOLATE_ABOVE_MB": isolate_above_mb,
           "WANGGE_HEAVY_PER_KEY": "1", "WANGGE_MAX_UPLOAD_MB": "500"}
    with serve(app, env, settle_s=0) as served:
        # the membership index is built in the background: wait until the RSS settles
        last = 0.0
        while abs(rss_mib(served.pid)[0] - last) > 2:
            last = rss_mib(served.pid)[0]
            time.sleep(2)
        yield served.base, served.pid


def upload(base: str, pid: int, key: str, path: Path, endpoint: str) -> dict:
    before = rss_mib(pid)
    peak = Peak(pid)
    peak.start()
    data = {"make_current": "false"} if endpoint == "/v1/releases" else {}
    started = time.perf_counter()
    with path.open("rb") as fh:
        r = httpx.post(f"{base}{endpoint}", headers={"X-API-Key": key}, data=data,
                       files={"file": (path.name, fh, "application/geo+json")}, timeout=1800)
    seconds = time.perf_counter() - started
    time.sleep(3.0)
    peak.stop()
    after = rss_mib(pid)
    if r.status_code >= 300:
        raise RuntimeError(f"{endpoint} {path.name}: {r.status_code} {r.text[:500]}")
    report = r.json()["report"]
    return {"seconds": seconds, "before": before, "peak": (peak.own, peak.total), "after": after,
            "errors": report["error_count"], "warnings": report["warning_count"],
            "units": report["unit_count"]}


def load_demo(folder: Path) -> tuple[Path, str]:
    db = folder / "demo.db"
    env = {**os.environ, "WANGGE_DATABASE_URL": f"sqlite:///{db}"}
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("wangge")), "demo", "--out", str(folder / "demo"),
                    "--no-serve"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"demo loaded into {db} in {time.perf_counter() - started:.0f} s")
    from wangge.store import open_store

    with open_store(f"sqlite:///{db}") as store:
        _, key = store.create_key("heavy memory benchmark", "planner")
    (folder / "key").write_text(key)
    return db, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="none,trim,child,child_notrim")
    parser.add_argument("--vertices", type=int, default=1_000_000)
    parser.add_argument("--micro-cols", type=int, default=400)
    parser.add_argument("--micro-rows", type=int, default=250)
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (the demo is loaded once, then reused)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="wangge-heavy-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if (folder / "demo.db").exists() and (folder / "key").exists():
            db, key = folder / "demo.db", (folder / "key").read_text()
        else:
            db, key = load_demo(folder)
        files = [big_polygon(folder / "big_polygon.geojson", args.vertices),
                 many_features(folder / "many.geojson", args.micro_cols, args.micro_rows)]
        for f in files:
            print(f"{f.name}: {f.stat().st_size / 2**20:.1f} MiB")
        rows = []
        for mode in args.modes.split(","):
            copy = folder / f"serve_{mode}.db"
            shutil.copyfile(db, copy)
            with serve_mode(copy, mode) as (base, pid):
                start = rss_mib(pid)
                for f in files:
                    for endpoint in ("/v1/validate", "/v1/releases"):
                        rows.append((mode, f.name, endpoint, upload(base, pid, key, f, endpoint)))
                end = rss_mib(pid)
            print(f"[{mode}] server at start {start[0]:.0f} MiB ({start[1]:.0f} with children), "
                  f"at the end {end[0]:.0f} MiB ({end[1]:.0f})")
            copy.unlink()
        print("\nRSS MiB: server (server + children); peak sampled every 20 ms; after = 3 s after "
              "the response")
        print(f"{'mode':<12} {'file':<19} {'endpoint':<13} {'s':>6}  {'before':>11}  {'peak':>11}  "
              f"{'after':>11}  units/errors/warnings")
        for mode, name, endpoint, m in rows:
            def pair(v: tuple[float, float]) -> str:
                return f"{v[0]:4.0f} ({v[1]:4.0f})"
            print(f"{mode:<12} {name:<19} {endpoint:<13} {m['seconds']:6.1f}  {pair(m['before'])}  "
                  f"{pair(m['peak'])}  {pair(m['after'])}  {m['units']}/{m['errors']}/{m['warnings']}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
