"""Benchmark: importing 20 rows into the demo (130,000 households), incremental against full.

Usage:
    .venv/bin/python benchmarks/register_incremental.py [--households 130000] [--postgis [URL]]

Loads the demo into a fresh SQLite store as ``wangge demo`` does (the 2,367 units as the current
release, the gazetteer of compounds and buildings, the register of 130,000 households imported
and assigned), then imports 20-row .xlsx files, each in a fresh child process on a copy of that
store, and prints per import the seconds of the call and the child's peak RSS:

- **20 unchanged**: 20 households exactly as stored (nothing to do);
- **20 changed**: 10 with the address of another building (located again, and moved), 10 with
  another household size — ``import_register`` as it is now (incremental);
- **the old full path** (the peer, same file, same store): read, locate the 20, upsert, then
  assign every household to the release again (``assign_release``), as import did before.

Peak RSS is the high-water mark (``VmHWM`` in /proc/self/status) of the child that does the
import: interpreter, libraries and the import itself (``getrusage``'s ``ru_maxrss`` would not do:
Linux carries it over from the parent across exec); the child also prints its RSS just before
the call, so the import's own share is the difference. With ``--postgis`` the same is run on a
scratch schema of PostGIS (one store, the imports in turn: unchanged, changed, old path).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serving import DEFAULT_POSTGIS_URL, scratch_schema  # noqa: E402


def _status_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(url: str, path: str, mode: str) -> None:
    """Run one import in this (fresh) process and print what it cost, as JSON."""
    from wangge.geo.io.register import read_register
    from wangge.households import assign_release, current_matcher, import_register, locate
    from wangge.store import open_store

    with open_store(url) as store:
        store.household_count()  # connect before measuring
        before = _status_mib("VmRSS")
        start = time.perf_counter()
        if mode == "old":
            register = read_register(path)
            households = locate(register.records, current_matcher(store))
            store.upsert_households(households, register.personal, source=Path(path).name)
            current = store.current_release()
            assert current is not None
            summary = assign_release(store, current.id)
            counts = {"assigned": summary["assigned"], "moved": summary["moved"]}
        else:
            result = import_register(store, path)
            counts = {"inserted": result.inserted, "updated": result.updated,
                      "unchanged": result.unchanged,
                      "assigned": (result.assignment or {}).get("assigned", 0),
                      "moved": (result.assignment or {}).get("moved", 0)}
        seconds = time.perf_counter() - start
    peak = _status_mib("VmHWM")
    print(json.dumps({"seconds": seconds, "rss_before_mib": before, "peak_mib": peak, **counts}))


def _measure(url: str, path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url, str(path), mode],
                         check=True, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load(url: str, units, reg, work: Path) -> float:
    from wangge.households import import_register
    from wangge.store import open_store

    csv = work / "households.csv"
    reg.households.to_csv(csv, index=False, encoding="utf-8-sig")
    with open_store(url) as store:
        store.create_release(units, source="wangge demo", make_current=True)
        store.create_gazetteer(reg.compounds, reg.buildings, source="wangge demo")
        start = time.perf_counter()
        import_register(store, csv)
        return time.perf_counter() - start


def _files(reg, work: Path) -> dict[str, Path]:
    """The 20-row files: unchanged, and changed (two sets of households, for two runs)."""
    hh = reg.households
    located = reg.truth["building_id"].notna().to_numpy() & hh["lon"].isna().to_numpy()
    pool = hh[located]
    out: dict[str, Path] = {}
    for name, start in (("unchanged", 1_000), ("changed", 2_000), ("changed_old", 3_000)):
        rows = pool.iloc[start:start + 20].copy()
        if name != "unchanged":
            elsewhere = pool.iloc[start + 40_000:start + 40_010]["address"].to_numpy()
            rows.loc[rows.index[:10], "address"] = elsewhere
            rows.loc[rows.index[:10], "building_id"] = None
            rows.loc[rows.index[10:], "size"] = rows["size"].iloc[10:] % 6 + 1
        path = work / f"{name}.xlsx"
        rows.to_excel(path, index=False)
        out[name] = path
    return out


def _row(label: str, m: dict) -> str:
    return (f"| {label} | {m['seconds']:.2f} | {m['peak_mib']:.0f} | "
            f"{m['peak_mib'] - m['rss_before_mib']:.0f} | {m['assigned']:,} | {m['moved']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=130_000)
    parser.add_argument("--postgis", nargs="?", const=DEFAULT_POSTGIS_URL, default=None,
                        help="also run on PostGIS (default URL: the test database)")
    parser.add_argument("--child", nargs=3, metavar=("URL", "FILE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from wangge.demo.district import build_demo
    from wangge.demo.register import build_register

    units = build_demo()
    reg = build_register(units, n_households=args.households)
    header = ("| import of a 20-row .xlsx | seconds | peak RSS MiB | of which the import | "
              "households assigned | moved |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = _files(reg, work)
        base = work / "base.db"
        load = _load(f"sqlite:///{base}", units, reg, work)
        print(f"SQLite: demo loaded ({len(reg.households):,} households imported in {load:.1f} s)")
        results = {}
        for label, name, mode in (("20 unchanged (incremental)", "unchanged", "new"),
                                  ("20 changed (incremental)", "changed", "new"),
                                  ("20 changed, old full path (peer)", "changed", "old")):
            db = work / f"{name}_{mode}.db"
            shutil.copy(base, db)
            results[label] = _measure(f"sqlite:///{db}", files[name], mode)
        print(header)
        for label, m in results.items():
            print(_row(label, m))
        if args.postgis:
            with scratch_schema(args.postgis) as url:
                from wangge.store import open_store

                with open_store(url):
                    pass  # migrate
                load = _load(url, units, reg, work)
                print(f"\nPostGIS: demo loaded ({len(reg.households):,} households in {load:.1f} s)")
                pg = {"20 unchanged (incremental)": _measure(url, files["unchanged"], "new"),
                      "20 changed (incremental)": _measure(url, files["changed"], "new"),
                      "20 changed, old full path (peer)": _measure(url, files["changed_old"],
                                                                   "old")}
                print(header)
                for label, m in pg.items():
                    print(_row(label, m))


if __name__ == "__main__":
    main()
