"""Benchmark: validate the whole demo hierarchy with wangge and, in the same run, with PostGIS SQL.

Usage:
    .venv/bin/python benchmarks/validate_vs_postgis.py [--postgis URL] [--repeat N]

The PostGIS side does the same checks as SQL on an indexed table (GiST): ST_IsValid for every
unit, sibling overlaps (self-join on parent code, interior intersection, area), children
outside their parent (ST_CoveredBy, area of the difference) and gaps (parent minus the union of
its children, area). Areas in both are measured in the same Gauss–Krüger zone (EPSG:4549).
Both run on one core (PostgreSQL without parallel workers). Prints seconds and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import shapely
from sqlalchemy import create_engine, text

from wangge.demo.district import build_broken, build_demo
from wangge.geo.boundaries.validate import validate

DEFAULT_URL = os.environ.get("WANGGE_TEST_POSTGIS_URL",
                             "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge_test")

CHECKS = {
    "validity": """
        SELECT count(*) FROM bench_units WHERE NOT ST_IsValid(geom)""",
    "sibling overlaps": """
        SELECT count(*), coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4549))), 0)
        FROM bench_units a JOIN bench_units b
          ON a.parent_code = b.parent_code AND a.level = b.level AND a.id < b.id
         AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')""",
    "outside parent": """
        SELECT count(*), coalesce(sum(ST_Area(ST_Transform(ST_Difference(c.geom, p.geom), 4549))), 0)
        FROM bench_units c JOIN bench_units p ON c.parent_code = p.code
        WHERE NOT ST_CoveredBy(c.geom, p.geom)""",
    "gaps": """
        SELECT count(*) FILTER (WHERE gap > 0.0001), coalesce(sum(gap), 0) FROM (
          SELECT ST_Area(ST_Transform(ST_Difference(p.geom, ST_Union(c.geom)), 4549)) AS gap
          FROM bench_units p JOIN bench_units c ON c.parent_code = p.code
          GROUP BY p.id, p.geom) g""",
}


def load(engine, units) -> None:
    wkb = shapely.to_wkb(np.asarray(units.geometry.values, dtype=object), hex=False)
    rows = [{"code": c, "level": lv, "parent_code": p, "wkb": w}
            for c, lv, p, w in zip(units["code"], units["level"], units["parent_code"], wkb,
                                   strict=True)]
    with engine.begin() as con:
        con.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        con.execute(text("DROP TABLE IF EXISTS bench_units"))
        con.execute(text("""CREATE TABLE bench_units (id serial PRIMARY KEY, code text UNIQUE,
                            level text, parent_code text, geom geometry(Geometry, 4490))"""))
        con.execute(text("""INSERT INTO bench_units (code, level, parent_code, geom)
                            VALUES (:code, :level, :parent_code, ST_GeomFromWKB(:wkb, 4490))"""),
                    rows)
        con.execute(text("CREATE INDEX ON bench_units USING gist (geom)"))
        con.execute(text("CREATE INDEX ON bench_units (parent_code)"))
        con.execute(text("ANALYZE bench_units"))


def time_postgis(engine, repeat: int) -> tuple[float, dict[str, float], dict[str, tuple]]:
    per_check: dict[str, list[float]] = {k: [] for k in CHECKS}
    results: dict[str, tuple] = {}
    with engine.connect() as con:
        con.execute(text("SET max_parallel_workers_per_gather = 0"))  # one core, like wangge
        for _ in range(repeat):
            for name, sql in CHECKS.items():
                t0 = time.perf_counter()
                results[name] = tuple(con.execute(text(sql)).one())
                per_check[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in per_check.items()}
    return sum(best.values()), best, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgis", default=DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    units = build_demo()
    print(f"demo district built: {len(units)} units in {time.perf_counter() - t0:.2f} s "
          f"({units['level'].value_counts().to_dict()})")

    times = []
    for _ in range(args.repeat):
        report = validate(units)
        times.append(report.seconds)
    ours = min(times)
    print(f"wangge validate (all rules, all levels): best {ours:.3f} s, median "
          f"{statistics.median(times):.3f} s; {len(report.errors)} errors, "
          f"{len(report.warnings)} warnings")

    broken, planted = build_broken(units)
    broken_times = [validate(broken).seconds for _ in range(args.repeat)]
    print(f"wangge validate, broken variant ({len(planted)} planted problems, exact overlay paths): "
          f"best {min(broken_times):.3f} s")

    engine = create_engine(args.postgis)
    load(engine, units)
    theirs, per_check, results = time_postgis(engine, args.repeat)
    for name, seconds in per_check.items():
        print(f"  PostGIS {name:<17} {seconds:.3f} s  result {results[name]}")
    print(f"PostGIS same checks (validity, overlaps, outside, gaps): best {theirs:.3f} s")
    print(f"ratio PostGIS / wangge: {theirs / ours:.1f}x")
    with engine.begin() as con:
        con.execute(text("DROP TABLE IF EXISTS bench_units"))


if __name__ == "__main__":
    main()
