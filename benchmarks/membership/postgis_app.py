"""The peer of the membership benchmark: a minimal FastAPI endpoint answering "which units is
this point in?" with one PostGIS query per request (the usual way to build such a service).

Serve: ``uvicorn benchmarks.membership.postgis_app:create_app --factory --workers 2``
with ``PEER_DATABASE_URL`` naming a database holding wangge's tables (a demo release current).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import FastAPI

# The micro-grid covering the point (lowest code on a shared boundary, as wangge), and its
# chain of parents with names, in one statement.
QUERY = sa.text("""
SELECT m.release_id, m.code, m.name, g.code, g.name, c.code, c.name, s.code, s.name
FROM units m
JOIN units g ON g.release_id = m.release_id AND g.code = m.parent_code
JOIN units c ON c.release_id = m.release_id AND c.code = g.parent_code
JOIN units s ON s.release_id = m.release_id AND s.code = c.parent_code
WHERE m.release_id = (SELECT id FROM releases WHERE is_current)
  AND m.level = 'microgrid'
  AND ST_Covers(m.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490))
ORDER BY m.code COLLATE "C" LIMIT 1
""")


def create_app() -> FastAPI:
    engine = sa.create_engine(os.environ["PEER_DATABASE_URL"], pool_size=8, max_overflow=0)
    app = FastAPI()

    @app.get("/v1/membership")
    def membership(lon: float, lat: float) -> dict:
        with engine.connect() as conn:
            row = conn.execute(QUERY, {"lon": lon, "lat": lat}).first()
        if row is None:
            return {"status": "outside", "chain": []}
        levels = ("microgrid", "grid", "community", "street")
        chain = [{"level": lv, "code": row[1 + 2 * i], "name": row[2 + 2 * i]}
                 for i, lv in enumerate(levels)][::-1]
        return {"release_id": row[0], "status": "found", "chain": chain}

    return app
