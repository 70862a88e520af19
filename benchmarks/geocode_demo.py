"""Benchmark: geocode the whole demo register and score it against the generator's truth.

Usage:
    .venv/bin/python benchmarks/geocode_demo.py [--seed 2026] [--households 130000]

Builds the demo district and its register (wangge.demo.register), builds the gazetteer, then runs
``Matcher.match_many`` over every address on one core with cold caches, ignoring the given
coordinates, and prints:

- addresses per second (cold: a new matcher and an empty head cache; warm: the same run again);
- of the households that have a building: the share on the right building, wrong with a trusted
  score ("silent", must be 0), wrong but sent to review, and not placed on any building;
- the same per messiness variant, and how the unlocatable addresses came out;
- scores against thresholds, the highest score of any wrong match and the threshold in use;
- a second run with the given coordinates (WGS-84, GCJ-02, BD-09, converted through wangge.geo.crs):
  how the cross-check flags the deliberately wrong coordinates, and what stays silent then.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from wangge.demo.district import build_demo
from wangge.demo.register import build_register
from wangge.gcpause import gc_paused
from wangge.geocode.gazetteer import Gazetteer
from wangge.geocode.match import MatchConfig, Matcher
from wangge.geocode.parse import parse_head


def _pct(part: int | float, whole: int | float) -> str:
    return f"{100.0 * part / whole:6.2f} %" if whole else "     – "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--households", type=int, default=130_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    units = build_demo(seed=args.seed)
    t1 = time.perf_counter()
    register = build_register(units, seed=args.seed, n_households=args.households)
    t2 = time.perf_counter()
    gazetteer = Gazetteer(register.compounds, register.buildings)
    t3 = time.perf_counter()
    households, truth = register.households, register.truth
    print(f"demo district {t1 - t0:.2f} s; register {t2 - t1:.2f} s "
          f"({len(register.compounds)} compounds and village groups, {len(register.buildings)} "
          f"buildings and houses, {len(households)} households); gazetteer {t3 - t2:.2f} s")

    config = MatchConfig()
    addresses = households["address"].tolist()
    parse_head.cache_clear()
    matcher = Matcher(gazetteer, config)
    t = time.perf_counter()
    with gc_paused():  # as the services call it
        result = matcher.match_many(addresses)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    with gc_paused():
        matcher.match_many(addresses)
    warm = time.perf_counter() - t
    print(f"\nmatch_many, one core, addresses only: {len(addresses) / cold:,.0f} addresses/s cold "
          f"({cold:.2f} s), {len(addresses) / warm:,.0f} addresses/s warm ({warm:.2f} s)")

    has = truth["building_id"].notna().to_numpy()
    got = result["building_id"].to_numpy()
    right = has & (got == truth["building_id"].to_numpy())
    placed = result["building_id"].notna().to_numpy()
    wrong = has & placed & ~right
    trusted = result["trusted"].to_numpy()
    unmatched = has & ~placed
    n = int(has.sum())
    micro_of = dict(zip(register.buildings["building_id"], register.buildings["microgrid_code"],
                        strict=True))
    wrong_grid = wrong & (np.array([micro_of.get(b) for b in got], dtype=object)
                          != truth["microgrid_code"].to_numpy())
    print(f"\ntrusted score threshold (MatchConfig.trusted_score): {config.trusted_score}")
    print(f"households with a building in the gazetteer: {n}")
    print(f"  on the right building                 {int(right.sum()):7d}  {_pct(right.sum(), n)}")
    print(f"  wrong building, trusted (silent)      {int((wrong & trusted).sum()):7d}  "
          f"{_pct((wrong & trusted).sum(), n)}")
    print(f"  wrong building, low score -> review   {int((wrong & ~trusted).sum()):7d}  "
          f"{_pct((wrong & ~trusted).sum(), n)}")
    print(f"  not placed on a building              {int(unmatched.sum()):7d}  {_pct(unmatched.sum(), n)}")
    print(f"  wrong micro-grid, trusted (silent)    {int((wrong_grid & trusted).sum()):7d}")
    print(f"  right building and trusted            {int((right & trusted).sum()):7d}  "
          f"{_pct((right & trusted).sum(), n)}  (the rest of the right ones go to review)")
    print("  match levels:", ", ".join(f"{k} {v}" for k, v in
                                      result.loc[has, "level"].value_counts().items()))

    unloc = ~has
    print(f"\nunlocatable addresses: {int(unloc.sum())}; reported as none: "
          f"{int((result['level'].to_numpy()[unloc] == 'none').sum())}; trusted: "
          f"{int(trusted[unloc].sum())}")

    tags = truth["messiness"].tolist()
    clean = np.array([not t for t in tags])
    rows = [("(canonical)", clean & has)]
    rows += [(tag, has & np.array([tag in t for t in tags]))
             for tag in sorted({tag for t in tags for tag in t})]
    print("\nper messiness variant (households with a building; a household may carry 1-3 variants):")
    print(f"  {'variant':14s} {'count':>7s} {'right':>9s} {'silent':>7s} {'review':>7s} "
          f"{'unplaced':>8s} {'trusted of right':>17s}")
    for name, sel in rows:
        k = int(sel.sum())
        ok = right & sel
        print(f"  {name:14s} {k:7d} {_pct(ok.sum(), k):>9s} "
              f"{int((wrong & sel & trusted).sum()):7d} {int((wrong & sel & ~trusted).sum()):7d} "
              f"{int((unmatched & sel).sum()):8d} {_pct((ok & trusted).sum(), ok.sum()):>17s}")
    messy = has & ~clean
    print(f"  messy share of all households: {_pct((~clean).sum(), len(tags)).strip()}")

    score = result["score"].to_numpy()
    print("\nthreshold  trusted-wrong  trusted-right  (share of households with a building)")
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        ok = score >= threshold
        print(f"  {threshold:5.2f}    {int((wrong & ok).sum()):9d}    {int((right & ok).sum()):9d}"
              f"  {_pct((right & ok).sum(), n)}")
    worst = score[wrong].max() if wrong.any() else float("nan")
    best_missing = score[right & ~trusted].max() if (right & ~trusted).any() else float("nan")
    print(f"highest score of a wrong match: {worst:.4f}; trusted at >= {config.trusted_score} "
          f"(the highest right-but-review score is {best_missing:.4f})")
    print(f"messy households on the right building: {_pct((right & messy).sum(), messy.sum()).strip()}")

    # Second run: with the register's coordinates, converted from their CRS and cross-checked.
    with_xy = Matcher(gazetteer, config).match_many(
        addresses, lon=households["lon"].to_numpy(), lat=households["lat"].to_numpy(),
        crs=households["crs"].tolist())
    flag = with_xy["flag"].notna().to_numpy()
    given = households["lon"].notna().to_numpy()
    error = truth["coords_error"].to_numpy()
    print(f"\nwith given coordinates (cross-check at {config.far_threshold_m:.0f} m): "
          f"{int(given.sum())} households carry coordinates")
    placed_xy = with_xy["building_id"].notna().to_numpy()
    right_xy = has & (with_xy["building_id"].to_numpy() == truth["building_id"].to_numpy())
    for label, sel in (("correct coordinates", given & pd.isna(error)),
                       ("far from the building", given & (error == "far")),
                       ("CRS mislabelled", given & (error == "crs_mislabelled"))):
        on_right = sel & right_xy
        on_wrong = sel & placed_xy & ~right_xy
        share = _pct((flag & on_right).sum(), on_right.sum()).strip()
        print(f"  {label:22s} {int(sel.sum()):6d}: on the right building {int(on_right.sum()):6d}, "
              f"flagged {int((flag & on_right).sum()):5d} ({share}); "
              f"on a wrong building {int(on_wrong.sum()):3d}, flagged {int((flag & on_wrong).sum()):3d}")
    ok = np.isfinite(with_xy["distance_m"].to_numpy()) & given & pd.isna(error) & right
    if ok.any():
        d = with_xy["distance_m"].to_numpy()[ok]
        print(f"  distance given -> matched building, correct coordinates on the right building: "
              f"median {np.median(d):.1f} m, 99th percentile {np.percentile(d, 99):.1f} m")
    trusted_xy = with_xy["trusted"].to_numpy()
    print(f"  wrong building, trusted and unflagged (silent): {int((wrong & trusted_xy).sum())}; "
          f"wrong building with coordinates flagged: {int((wrong & flag).sum())}")


if __name__ == "__main__":
    main()
