"""The HTTP API on both backends: validate, import, publish, list and get units; errors are 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from geo.boundary_io import write_units
from tests.hierarchy import M1, M2, X0, Y0, D, cell, hierarchy, set_geom
from wangge.settings import Settings


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=store_url, _env_file=None))
    with TestClient(app) as c:
        yield c


def upload(path: Path) -> dict:
    return {"file": (path.name, path.read_bytes(), "application/octet-stream")}


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    return write_units(hierarchy(), tmp_path / "good.geojson")


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + 1.5 * D, Y0 + D))
    return write_units(set_geom(hierarchy(), M1, grown), tmp_path / "broken.gpkg")


def test_health(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["current_release"] is None


def test_validate_upload_reports_and_stores_nothing(client, broken_file):
    r = client.post("/v1/validate", files=upload(broken_file))
    assert r.status_code == 200
    report = r.json()["report"]
    assert report["error_count"] == 1 and report["findings"][0]["rule"] == "overlap"
    f = report["findings"][0]
    assert set(f["codes"]) == {M1, M2} and f["location"] and f["size"] > 1000
    assert f["geometry"]["type"] == "Polygon" and f["message"] and f["message_en"]
    assert client.get("/v1/releases").json() == []


def test_import_publish_and_history(client, good_file):
    r = client.post("/v1/releases", files=upload(good_file), data={"effective_date": "2026-01-01"})
    assert r.status_code == 201, r.text
    first = r.json()["release"]
    assert first["is_current"] and first["unit_count"] == 15
    r = client.post("/v1/releases", files=upload(good_file), data={"make_current": "false"})
    second = r.json()["release"]
    assert r.status_code == 201 and not second["is_current"]
    assert client.get("/health").json()["current_release"] == first["id"]
    assert client.post(f"/v1/releases/{second['id']}/publish").json()["is_current"]
    releases = client.get("/v1/releases").json()
    assert [x["id"] for x in releases] == [second["id"], first["id"]]
    assert [x["is_current"] for x in releases] == [True, False]
    # the older release stays queryable
    old = client.get("/v1/units", params={"release": first["id"], "level": "street"}).json()
    assert old["numberMatched"] == 1


def test_import_with_errors_is_refused_whole_unless_draft(client, broken_file):
    r = client.post("/v1/releases", files=upload(broken_file))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_failed" and "错误" in body["message"]
    assert body["report"]["report"]["error_count"] == 1
    assert client.get("/v1/releases").json() == []
    r = client.post("/v1/releases", files=upload(broken_file), data={"make_current": "false"})
    assert r.status_code == 201
    rid = r.json()["release"]["id"]
    assert client.get(f"/v1/releases/{rid}/report").json()["report"]["error_count"] == 1
    refused = client.post(f"/v1/releases/{rid}/publish")
    assert refused.status_code == 422 and refused.json()["report"]["report"]["error_count"] == 1
    assert client.get("/health").json()["current_release"] is None


def test_duplicate_codes_are_refused_even_as_draft(client, tmp_path):
    df = hierarchy()
    df.loc[df["code"] == M2, "code"] = M1
    path = write_units(df, tmp_path / "dup.geojson")
    r = client.post("/v1/releases", files=upload(path), data={"make_current": "false"})
    assert r.status_code == 422 and M1 in r.json()["message"]
    assert client.get("/v1/releases").json() == []


@pytest.mark.parametrize("name,content,code", [
    ("x.csv", b"a,b\n1,2\n", "file_format"),
    ("x.geojson", b"{not json", "file_format"),
    ("x.geojson", json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "320902001", "level": "street"},
        "geometry": {"type": "Polygon", "coordinates": [[[518000, 3697000], [519000, 3697000],
                                                          [519000, 3698000], [518000, 3697000]]]}}]
    }).encode(), "coordinates_out_of_range"),
])
def test_bad_uploads_get_4xx_with_a_message(client, name, content, code):
    for url in ("/v1/validate", "/v1/releases"):
        r = client.post(url, files={"file": (name, content, "application/octet-stream")})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["code"] == code and body["message"] and body["message_en"]


def test_bad_crs_and_field_mapping_are_4xx(client, good_file):
    r = client.post("/v1/validate", files=upload(good_file), data={"crs": "EPSG:999999"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_crs"
    r = client.post("/v1/validate", files=upload(good_file), data={"fields": "code=NOPE"})
    assert r.status_code == 400 and r.json()["code"] == "field_mapping"


def test_units_listing_filters_and_geojson(client, good_file):
    client.post("/v1/releases", files=upload(good_file))
    r = client.get("/v1/units", params={"level": "microgrid"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["numberMatched"] == 8
    assert {f["properties"]["level"] for f in fc["features"]} == {"microgrid"}
    bbox = f"{X0 + 0.1 * D},{Y0 + 0.1 * D},{X0 + 0.2 * D},{Y0 + 0.2 * D}"
    hit = client.get("/v1/units", params={"level": "microgrid", "bbox": bbox}).json()
    assert [f["id"] for f in hit["features"]] == [M1]
    kids = client.get("/v1/units", params={"parent": "320902001001001"}).json()
    assert sorted(f["id"] for f in kids["features"]) == [M1, M2]
    page = client.get("/v1/units", params={"limit": 5, "offset": 10}).json()
    assert page["numberReturned"] == 5 and page["numberMatched"] == 15


def test_one_unit_and_errors(client, good_file):
    assert client.get(f"/v1/units/{M1}").status_code == 404  # no current release yet
    client.post("/v1/releases", files=upload(good_file))
    feat = client.get(f"/v1/units/{M1}").json()
    assert feat["type"] == "Feature" and feat["properties"]["code"] == M1
    assert shapely.geometry.shape(feat["geometry"]).equals(cell(0))
    r = client.get("/v1/units/320902999999999999")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get("/v1/units", params={"bbox": "1,2,3"}).status_code == 400
    r = client.get("/v1/units", params={"level": "floor"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    assert client.get("/v1/releases/999").status_code == 404
