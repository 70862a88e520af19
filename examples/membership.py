"""wangge with Python and httpx: one point, a batch, and every grid through the OGC API.

    WANGGE_URL=http://127.0.0.1:8000 WANGGE_KEY=wg_… python examples/membership.py

The points are in the demo district (``scripts/demo``); a key comes from
``wangge keys create "示例" --role integrator``. tests/test_examples.py runs this file against
a served demo.
"""

from __future__ import annotations

import os
import sys

import httpx


def main() -> int:
    url = os.environ.get("WANGGE_URL", "http://127.0.0.1:8000")
    key = os.environ.get("WANGGE_KEY")
    if not key:
        print("请设置 WANGGE_KEY / set WANGGE_KEY to an API key (wangge keys create …)", file=sys.stderr)
        return 2
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as client:
        # 1. one point, in GCJ-02 as a phone map app gives it
        one = client.get("/v1/membership", params={"lon": 120.1646, "lat": 33.3894, "crs": "GCJ-02"})
        one.raise_for_status()
        answer = one.json()
        print("1.", answer["status"], " / ".join(f"{u['name']}（{u['code']}）" for u in answer["chain"]))

        # 2. a batch: answers in input order, names of the codes once in "units"
        many = client.post("/v1/membership", json={
            "crs": "GCJ-02", "ids": ["a", "b"], "points": [[120.2057, 33.3987], [120.1613, 33.3479]]})
        many.raise_for_status()
        batch = many.json()
        for row in batch["results"]:
            if row["status"] == "found":
                print("2.", row["id"], "found", batch["units"][row["grid"]]["name"])
            else:
                near = batch["units"][row["nearest_code"]]["name"]
                print("2.", row["id"], row["status"], f"nearest {near} at {row['nearest_m']} m")

        # 3. every grid through the OGC API, following "next" links with large pages
        href: str | None = "/ogc/collections/grid/items?limit=1000"
        grids = []
        while href:
            page = client.get(href)
            page.raise_for_status()
            body = page.json()
            grids += body["features"]
            href = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        print("3.", len(grids), "grids, e.g.", grids[0]["properties"]["name"] if grids else "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())
