"""Service sites through the API: import, add, move, retire, history, roles, errors."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from tests.api.conftest import api_client, load_release
from wangge.geo.chinacoords import wgs84_to_gcj02


@pytest.fixture
def units(small_units):
    return small_units


@pytest.fixture
def loaded(store_url, units):
    return load_release(store_url, units)


def _csv(units) -> bytes:
    communities = units[units["level"] == "community"].head(3)
    lines = ["编号,名称,类型,经度,纬度,所属单元"]
    for i, row in enumerate(communities.itertuples()):
        p = row.geometry.representative_point()
        lines.append(f"S{i},{row.name}党群服务中心,中心,{p.x},{p.y},{row.code}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_sites_lifecycle_and_roles(loaded, units):
    files = {"file": ("sites.csv", _csv(units), "text/csv")}
    with api_client(loaded, role="viewer") as c:
        assert c.post("/v1/sites/import", files=files, data={"crs": "CGCS2000"}).status_code == 403
    with api_client(loaded, role="planner") as c:
        r = c.post("/v1/sites/import", files=files, data={"crs": "CGCS2000"})
        assert r.status_code == 201 and r.json()["centres"] == 3, r.text
        glon, glat = wgs84_to_gcj02([120.16], [33.35])
        added = c.post("/v1/sites", json={"site_id": "Z1", "kind": "驿站", "name": "新驿站",
                                          "lon": float(glon[0]), "lat": float(glat[0]),
                                          "crs": "GCJ-02"})
        assert added.status_code == 201, added.text
        assert c.post("/v1/sites", json={"site_id": "Z1", "kind": "station", "name": "again",
                                         "lon": 120.1, "lat": 33.3}).status_code == 409
        assert c.post("/v1/sites/Z1/move", json={"lon": 120.161, "lat": 33.351}).status_code == 200
        assert c.post("/v1/sites/S0/retire").status_code == 200
        assert c.post("/v1/sites/S0/retire").status_code == 404
        listed = c.get("/v1/sites").json()["features"]
        history = c.get("/v1/sites/Z1/history").json()
    ids = sorted(f["id"] for f in listed)
    assert ids == ["S1", "S2", "Z1"] and len(history) == 2
    z1 = next(f for f in listed if f["id"] == "Z1")
    assert z1["geometry"]["coordinates"] == [120.161, 33.351]
    assert abs(history[0]["lon"] - 120.16) < 1e-5  # the GCJ-02 input stored in CGCS2000


def test_bad_site_lists_are_refused_whole(loaded, units):
    text = _csv(units).decode() + "S9,坏站点,商店,120.1,33.4,320902001001\n"
    with api_client(loaded, role="planner") as c:
        r = c.post("/v1/sites/import", files={"file": ("s.csv", text.encode(), "text/csv")},
                   data={"crs": "CGCS2000"})
        assert 400 <= r.status_code < 500 and r.json()["message"]
        assert c.get("/v1/sites").json()["features"] == []


def test_oversized_site_lists_are_refused(store_url):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["XFD1048576"] = "编号", "end"  # 17 billion cells if padded
    bomb = io.BytesIO()
    wb.save(bomb)
    many = json.dumps([{"site_id": f"S{i}"} for i in range(4)]).encode()
    with api_client(store_url, role="planner", table_max_rows=3) as c:
        r = c.post("/v1/sites/import", files={"file": ("s.xlsx", bomb.getvalue(), "application/zip")})
        assert r.status_code == 413 and r.json()["detail"]["limit"] == "columns", r.text
        r = c.post("/v1/sites/import", files={"file": ("s.json", many, "application/json")})
        assert r.status_code == 413 and r.json()["detail"]["limit"] == "rows", r.text
