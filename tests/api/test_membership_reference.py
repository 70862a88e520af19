"""Done-means check of the membership API: 100,000 points in and around the demo district,
boundary vertices included, answered over HTTP and compared with PostGIS computed here.

The reference is written independently of wangge's code: the unit that ``ST_Contains`` the
point and, for a point on a boundary (which no unit contains), of the units that
``ST_Covers`` it the lowest code, the product's boundary rule (see geo/index/hierarchy.py).
"""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import shapely
import sqlalchemy as sa

from tests.api.conftest import api_client
from wangge.store import open_store

pytestmark = pytest.mark.postgis

N_POINTS = 100_000
N_VERTICES = 3_000  # distinct micro-grid vertices, shared ones mostly

POINTS = sa.text("""
CREATE TEMP TABLE probe AS
SELECT t.i, ST_SetSRID(ST_MakePoint(t.x, t.y), 4490) AS g
FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS t(x, y, i)
""")
# Driven by the units (a few thousand), each probing the points' GiST index, so PostGIS keeps
# one prepared polygon for all its candidate points.
REFERENCE = sa.text("""
SELECT DISTINCT ON (p.i) p.i, u.code, ST_Contains(u.geom, p.g) AS inside
FROM units u JOIN probe p ON ST_Covers(u.geom, p.g)
WHERE u.release_id = :r AND u.level = :level
ORDER BY p.i, inside DESC, u.code COLLATE "C"
""")

def _points(units) -> np.ndarray:
    rng = np.random.default_rng(20261123)
    x0, y0, x1, y1 = units.total_bounds
    dx, dy = (x1 - x0) * 0.1, (y1 - y0) * 0.1
    n = N_POINTS - N_VERTICES
    random = np.column_stack([rng.uniform(x0 - dx, x1 + dx, n), rng.uniform(y0 - dy, y1 + dy, n)])
    micro = units.loc[units["level"] == "microgrid", "geometry"].to_numpy()
    vertices = np.unique(shapely.get_coordinates(shapely.boundary(micro)), axis=0)
    picked = vertices[rng.choice(len(vertices), N_VERTICES, replace=False)]
    return np.concatenate([random, picked])


def test_100k_points_equal_the_postgis_reference(postgis_schema_url, demo_units):
    units = demo_units  # build_demo(), built once per session: see tests/conftest.py
    with open_store(postgis_schema_url) as store:
        release = store.create_release(units, source="demo", make_current=True)
    xy = _points(units)
    with api_client(postgis_schema_url, role="integrator") as client:
        response = client.post("/v1/membership", params={"crs": "EPSG:4490"},
                               content=orjson.dumps({"points": xy.tolist()}),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    results = orjson.loads(response.content)["results"]
    assert len(results) == len(xy)

    engine = sa.create_engine(postgis_schema_url)
    try:
        with engine.connect() as conn:
            conn.execute(POINTS, {"xs": xy[:, 0].tolist(), "ys": xy[:, 1].tolist()})
            conn.execute(sa.text("CREATE INDEX ON probe USING gist (g)"))
            conn.execute(sa.text("ANALYZE probe"))
            expected = {}
            for level in ("microgrid", "grid"):
                answer: list[str | None] = [None] * len(xy)
                on_boundary = 0
                for i, code, inside in conn.execute(REFERENCE, {"r": release.id, "level": level}):
                    answer[i - 1] = code
                    on_boundary += not inside
                expected[level] = answer
                assert on_boundary >= N_VERTICES // 2  # the vertices really test the rule
    finally:
        engine.dispose()
    for level in ("microgrid", "grid"):
        got = [row[level] for row in results]
        wrong = [i for i, (a, b) in enumerate(zip(got, expected[level], strict=True)) if a != b]
        assert not wrong, f"{len(wrong)} {level} answers differ, e.g. {xy[wrong[:3]].tolist()}"
    status = [row["status"] for row in results]
    assert status == ["found" if e else "outside" for e in expected["microgrid"]]
    assert 0 < status.count("outside") < len(xy)
