"""The HTTP API on both backends: validate, import, publish, list and get units; errors are 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import shapely
from fastapi.testclient import TestClient

from tests.api.conftest import BAD_BOUNDARY_FILES, api_client, upload
from tests.clock import Clock
from tests.hierarchy import M1, M2, X0, Y0, D, cell, hierarchy
from wangge.geo.io.boundaries import write_units
from wangge.store import open_store


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    with api_client(store_url) as c:
        yield c


CURRENT = {"make_current": "true"}


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
    r = client.post("/v1/releases", files=upload(good_file),
                    data={"effective_date": "2026-01-01", **CURRENT})
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


def test_publish_with_an_effective_date_schedules_the_release(client, good_file):
    client.app.state.store.clock = Clock("2026-12-05T10:00:00+08:00")
    first = client.post("/v1/releases", files=upload(good_file), data=CURRENT).json()["release"]
    assert first["effective_date"] == "2026-12-05" and first["state"] == "current"
    draft = client.post("/v1/releases", files=upload(good_file)).json()["release"]
    r = client.post(f"/v1/releases/{draft['id']}/publish", json={"effective_date": "2027-01-01"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["scheduled"] and plan["state"] == "scheduled" and not plan["is_current"]
    assert plan["effective_date"] == "2027-01-01" and plan["published_at"]
    listed = client.get("/v1/releases").json()
    assert [(x["id"], x["state"]) for x in listed] == [(plan["id"], "scheduled"),
                                                       (first["id"], "current")]
    assert client.get("/health").json()["current_release"] == first["id"]
    # A release that has been in force keeps its date; without a body it is current again.
    moved = client.post(f"/v1/releases/{first['id']}/publish", json={"effective_date": "2027-02-01"})
    assert moved.status_code == 409 and moved.json()["message"] and moved.json()["message_en"]
    assert client.post(f"/v1/releases/{first['id']}/publish").json()["is_current"]
    bad = client.post(f"/v1/releases/{draft['id']}/publish", json={"effective_date": "2027-13-01"})
    assert bad.status_code == 422
    client.app.state.store.clock.set("2027-01-01T00:00:00+08:00")
    assert client.get("/health").json()["current_release"] == plan["id"]


def test_import_with_errors_is_refused_whole_unless_draft(client, broken_file):
    r = client.post("/v1/releases", files=upload(broken_file), data=CURRENT)
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
    later = client.post(f"/v1/releases/{rid}/publish", json={"effective_date": "2099-01-01"})
    assert later.status_code == 422 and later.json()["code"] == "validation_failed"
    assert client.get(f"/v1/releases/{rid}").json()["state"] == "draft"
    assert client.get("/health").json()["current_release"] is None


def test_duplicate_codes_are_refused_even_as_draft(client, tmp_path):
    df = hierarchy()
    df.loc[df["code"] == M2, "code"] = M1
    path = write_units(df, tmp_path / "dup.geojson")
    r = client.post("/v1/releases", files=upload(path), data={"make_current": "false"})
    assert r.status_code == 422 and M1 in r.json()["message"]
    assert client.get("/v1/releases").json() == []


@pytest.mark.parametrize("name,content,code", [("x.csv", b"a,b\n1,2\n", "file_format"),
                                               *BAD_BOUNDARY_FILES])
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
    client.post("/v1/releases", files=upload(good_file), data=CURRENT)
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
    client.post("/v1/releases", files=upload(good_file), data=CURRENT)
    feat = client.get(f"/v1/units/{M1}").json()
    assert feat["type"] == "Feature" and feat["properties"]["code"] == M1
    assert shapely.geometry.shape(feat["geometry"]).equals(cell(0))
    r = client.get("/v1/units/320902999999999999")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get("/v1/units", params={"bbox": "1,2,3"}).status_code == 400
    r = client.get("/v1/units", params={"level": "floor"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    assert client.get("/v1/releases/999").status_code == 404


def _fc(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _street(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": {"code": "320902001", "level": "street", **props},
            "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[120.2, 33.4], [120.21, 33.4], [120.21, 33.41],
                                              [120.2, 33.4]]]}


def test_error_shape_for_unknown_paths_and_methods(client):
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.delete("/v1/releases")
    assert r.status_code == 405 and r.json()["message_en"]


def test_upload_over_the_limit_is_413(store_url):
    with api_client(store_url, max_upload_mb=1) as c:
        r = c.post("/v1/validate", files={"file": ("big.geojson", b" " * (2 << 20), "x")})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_messages_name_the_upload_not_a_server_path(client):
    r = client.post("/v1/validate", files={"file": ("我的网格.geojson", b"{broken", "x")})
    body = r.json()
    assert r.status_code == 400 and "我的网格.geojson" in body["message"]
    assert "/tmp" not in json.dumps(body, ensure_ascii=False)


def test_empty_layer_null_geometry_and_repair_are_4xx(client):
    r = client.post("/v1/validate", files={"file": ("e.geojson", _fc([]), "x")})
    assert r.status_code == 400 and r.json()["code"] == "file_format"
    null = _fc([_street({}, None)])
    r = client.post("/v1/validate", files={"file": ("n.geojson", null, "x")}, data={"repair": "true"})
    assert r.status_code == 200 and r.json()["report"]["by_rule"] == {"empty_geometry": 1}
    r = client.post("/v1/releases", files={"file": ("n.geojson", null, "x")},
                    data={"repair": "true"})
    assert r.status_code == 422 and "几何为空" in r.json()["message"]


def test_personal_and_non_finite_attributes_are_not_stored(client, tmp_path):
    units = hierarchy()
    units["attrs"] = [{"网格员": "张三", "联系电话": "13800138000", "备注": "call 13912345678",
                       "households": 120, "ratio": float("inf")}] * len(units)
    path = write_units(units, tmp_path / "pii.gpkg")
    r = client.post("/v1/releases", files=upload(path), data=CURRENT)
    assert r.status_code == 201, r.text
    notes = " ".join(r.json()["notes"])
    assert "网格员" in notes and "联系电话" in notes
    feat = client.get(f"/v1/units/{M1}").json()
    assert feat["properties"]["attrs"] == {"households": 120}  # inf is no value: dropped


def test_unusable_crs_is_400(client, good_file):
    for crs in ("IAU_2015:49900", "EPSG:4978", "+proj=longlat +a=1 +b=1"):
        r = client.post("/v1/validate", files=upload(good_file), data={"crs": crs})
        assert r.status_code == 400 and r.json()["code"] == "invalid_crs", crs


def test_openapi_documents_the_error_body(client):
    doc = client.get("/openapi.json").json()
    responses = doc["paths"]["/v1/units"]["get"]["responses"]
    ref = responses["404"]["$ref"]  # declared once, under components/responses
    assert ref == "#/components/responses/NotFound"
    shared = doc["components"]["responses"]["NotFound"]
    assert shared["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    assert "ErrorBody" in doc["components"]["schemas"]
    assert not any(isinstance(answer, dict) and "description" in answer and code == "503"
                   for path in doc["paths"].values() for op in path.values()
                   for code, answer in op.get("responses", {}).items())


def test_refused_uploads_are_audited_with_the_key_that_sent_them(store_url):
    """The key is checked before the body is read: a 413 names its sender, a 401 comes first."""
    big = {"file": ("big.geojson", b" " * (2 << 20), "x")}
    with api_client(store_url, role="viewer", max_upload_mb=1) as c:
        r = c.post("/v1/validate", files=big)
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
        anonymous = c.post("/v1/validate", files=big, headers={"X-API-Key": "wg_unknown"})
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    with open_store(store_url) as store:
        entries = [e for e in store.audit_entries() if e["action"] == "POST /v1/validate"]
        viewer = next(k for k in store.keys() if k.role == "viewer")
    assert {(e["status"], e["key_id"], e["role"]) for e in entries} == {
        (413, viewer.id, "viewer"), (401, None, None)}


def test_chunked_upload_over_the_limit_is_413_not_a_form_error(store_url):
    def chunks():
        for _ in range(3):
            yield b" " * (1 << 20)

    with api_client(store_url, role="viewer", max_upload_mb=1) as c:
        r = c.post("/v1/validate", content=chunks(),
                   headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text
