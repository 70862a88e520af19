"""Benchmark: latency of a plan's edits on the demo, incremental against a full recomputation.

Usage:
    .venv/bin/python benchmarks/plan_edits.py [--edits 300] [--seed 7]

Builds the demo district (2,367 units) and its register (130,000 households at their true
points), opens a plan session over it and applies ``--edits`` random edits of every kind
(:func:`wangge.demo.edits.random_edit`), with an undo now and then. Each accepted edit's time
is the whole answer: checks, changes, re-locating the households in the changed ground,
re-validating the touched communities, the impact (moves, counts, contiguity, compactness).
The peer, measured in the same run, is what an edit would cost without the incremental work:
validating the whole plan and locating every household again (the same functions). Prints
p50/p90/p99/max per edit kind and overall, and the ratio to the full recomputation.

With ``--store URL`` (``sqlite:///path.db`` or a PostGIS URL; the database is filled with the
demo), the same edits also go through the service an API request calls
(:class:`wangge.plans.PlanService`): the edit, its impact and the write to the plan's log.
"""

from __future__ import annotations

import argparse
import collections
import time

import numpy as np

from wangge.demo.district import build_demo
from wangge.demo.edits import random_edit
from wangge.demo.register import build_register
from wangge.geo.boundaries.validate import validate
from wangge.geo.errors import WanggeError
from wangge.geo.plans.households import PlanHouseholds
from wangge.geo.plans.session import PlanSession


def _pct(values: list[float]) -> str:
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return f"{p50:7.1f} {p90:7.1f} {p99:7.1f} {max(values):7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", help="also time edits through the service over this database")
    args = parser.parse_args()

    units = build_demo()
    register = build_register(units)
    truth = register.truth
    started = time.perf_counter()
    households = PlanHouseholds(truth["lon"].to_numpy(), truth["lat"].to_numpy(),
                                register.households["size"].to_numpy())
    session = PlanSession(units, households)
    print(f"plan opened: {len(session.state):,} units, {households.n:,} households, "
          f"{time.perf_counter() - started:.2f} s")

    rng = np.random.default_rng(args.seed)
    times: dict[str, list[float]] = collections.defaultdict(list)
    refused = collections.Counter()
    while sum(len(v) for v in times.values()) < args.edits:
        if session.done and rng.random() < 0.1:
            t = time.perf_counter()
            session.undo()
            times["undo"].append((time.perf_counter() - t) * 1000)
            continue
        op = random_edit(session, rng)
        t = time.perf_counter()
        try:
            session.edit(op)
        except WanggeError:
            refused[op["op"]] += 1
            continue
        times[op["op"]].append((time.perf_counter() - t) * 1000)

    full = []
    for _ in range(5):
        t = time.perf_counter()
        validate(session.state.frame(), session.config)
        households.locate(session.state)
        full.append((time.perf_counter() - t) * 1000)
    problems = session.verify()

    every = [x for v in times.values() for x in v]
    print(f"\n{'edit':<10} {'n':>4} {'p50 ms':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for kind in sorted(times):
        print(f"{kind:<10} {len(times[kind]):>4} {_pct(times[kind])}")
    print(f"{'all':<10} {len(every):>4} {_pct(every)}")
    print(f"{'refused':<10} {sum(refused.values()):>4} (not timed: {dict(refused)})")
    full_ms = float(np.median(full))
    p50, p99 = np.percentile(every, [50, 99])
    print(f"\nfull recomputation (validate the whole plan + locate every household): "
          f"{full_ms:.1f} ms median of 5")
    print(f"incremental p50 {p50:.1f} ms = {full_ms / p50:.1f}x faster than full; "
          f"p99 {p99:.1f} ms (target < 100 ms: {'met' if p99 < 100 else 'NOT met'})")
    print(f"incremental = full after {len(every)} edits: {'yes' if not problems else problems}")
    if args.store:
        _through_service(args.store, units, register, args.edits, args.seed)


def _through_service(url: str, units: object, register: object, edits: int, seed: int) -> None:
    """The same kind of edits through PlanService over a store holding the demo."""
    import pandas as pd

    from wangge.plans import PlanService
    from wangge.settings import Settings
    from wangge.store import open_store

    truth = register.truth  # type: ignore[attr-defined]
    located = pd.DataFrame({
        "external_id": truth["external_id"], "address": None, "given_lon": truth["lon"],
        "given_lat": truth["lat"], "given_crs": "EPSG:4490", "building_ref": None,
        "size": register.households["size"], "lon": truth["lon"],  # type: ignore[attr-defined]
        "lat": truth["lat"], "located_by": "coordinates", "match_level": None,
        "match_score": None, "matched_id": None, "flags": None})
    with open_store(url) as store:
        store.create_release(units, source="demo", make_current=True)
        store.upsert_households(located, located.iloc[:0][["external_id"]].assign(
            name=None, phone=None, id_number=None), source="benchmark")
        service = PlanService(store, Settings(database_url=url, _env_file=None))
        plan = service.create("benchmark")
        started = time.perf_counter()
        service.summary(plan.id)
        print(f"\nthrough the service ({store.backend}): plan loaded in "
              f"{time.perf_counter() - started:.2f} s")
        rng = np.random.default_rng(seed)
        times = []
        while len(times) < edits:
            with service._session(plan.id) as session:
                op = random_edit(session, rng)
            t = time.perf_counter()
            try:
                service.edit(plan.id, op, admin=False)
            except WanggeError:
                continue
            times.append((time.perf_counter() - t) * 1000)
        p50, p99 = np.percentile(times, [50, 99])
        print(f"edit + impact + log write: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(times)}")


if __name__ == "__main__":
    main()
