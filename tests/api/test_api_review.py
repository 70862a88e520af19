"""The review worklist over HTTP, on both backends: filters, counts, export, resolve; roles."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import api_client
from tests.review_world import load_world
from wangge.store import open_store


@pytest.fixture
def loaded(store_url: str, tmp_path) -> str:
    with open_store(store_url) as store:
        load_world(store, tmp_path)
    return store_url


@pytest.fixture
def viewer(loaded: str) -> Iterator[TestClient]:
    with api_client(loaded, "viewer") as c:
        yield c


def _ids(body: dict) -> list[str]:
    return [h["external_id"] for h in body["households"]]


def test_worklist_filters_counts_and_candidates(viewer: TestClient):
    r = viewer.get("/v1/households/review")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 9 and body["gazetteer"] is True
    assert _ids(body)[:3] == ["H05", "H12", "H07"]
    assert {x["code"]: x["count"] for x in body["reasons"]}["low_match_score"] == 5
    h01 = next(h for h in body["households"] if h["external_id"] == "H01")
    assert h01["status"] == "found" and h01["reasons"][0]["zh"] == "地址匹配可信度低"
    assert [c["id"] for c in h01["candidates"]] == ["B101", "B201"]
    assert not {"name", "phone", "id_number"} & set(h01)
    assert "13900000001" not in r.text

    low = viewer.get("/v1/households/review", params={
        "reason": "low_match_score", "unit": "320902001001", "min_score": 0.85,
        "max_score": 0.9}).json()
    assert _ids(low) == ["H01", "H11"] and low["total"] == 2
    both = viewer.get("/v1/households/review?reason=无法定位&reason=outside").json()
    assert _ids(both) == ["H05", "H12", "H07"]
    assert _ids(viewer.get("/v1/households/review", params={"source": "二月.csv"}).json()) == [
        "H12", "H11"]
    page = viewer.get("/v1/households/review", params={"limit": 2, "offset": 1}).json()
    assert _ids(page) == ["H12", "H07"] and page["total"] == 9

    bad = viewer.get("/v1/households/review", params={"reason": "whatever"})
    assert bad.status_code == 400 and "whatever" in bad.json()["message"]
    assert bad.json()["message_en"]
    assert viewer.get("/v1/households/review", params={"unit": "999"}).status_code == 404
    assert viewer.get("/v1/households/review", params={"min_score": 2}).status_code == 422
    assert viewer.get("/v1/households/review", params={
        "min_score": 0.9, "max_score": 0.1}).status_code == 400


def test_exports(viewer: TestClient):
    r = viewer.get("/v1/households/review/export.csv", params={"reason": "low_match_score"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="review-1.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "住户编号" and rows[1][0] == "household id"
    assert [row[0] for row in rows[2:]] == ["H01", "H03", "H04", "H08", "H11"]
    assert "1390000000" not in r.text

    en = viewer.get("/v1/households/review/export.csv", params={"lang": "en"})
    assert en.content.decode("utf-8-sig").startswith("household id,reasons")

    x = viewer.get("/v1/households/review/export.xlsx", params={"unit": "320902001002"})
    assert x.status_code == 200 and x.headers["content-type"].startswith(
        "application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    rows = list(wb["待核查"].iter_rows(values_only=True))
    assert [row[0] for row in rows[2:]] == ["H07", "H04"]
    assert viewer.get("/v1/households/review/export.xlsx",
                      params={"lang": "fr"}).status_code == 422


def test_resolve_roles_decisions_and_audit(loaded: str, viewer: TestClient):
    refused = viewer.post("/v1/households/H08/resolve", json={"candidate": "B202"})
    assert refused.status_code == 403
    with api_client(loaded, "planner") as planner:
        r = planner.post("/v1/households/H08/resolve", json={"candidate": "B202"})
        assert r.status_code == 200, r.text
        assert r.json()["microgrid"] == "320902001001001002" and r.json()["decision"] == "candidate"
        p = planner.post("/v1/households/H05/resolve",
                         json={"lon": 120.2165 + 0.0055, "lat": 33.4015 - 0.0023, "crs": "GCJ-02"})
        assert p.status_code == 200 and p.json()["grid"] == "320902001002001"
        for body, status, code in (
                ({"candidate": "B999"}, 404, "not_found"),
                ({}, 400, "invalid_input"),
                ({"lon": 120.30, "lat": 33.45}, 400, "invalid_input"),
                ({"lon": 33.4, "lat": 120.2}, 400, "coordinates_out_of_range"),
                ({"lon": 120.2, "lat": 33.4, "crs": "EPSG:nope"}, 400, None)):
            bad = planner.post("/v1/households/H07/resolve", json=body)
            assert bad.status_code == status, (body, bad.text)
            assert code is None or bad.json()["code"] == code
            assert bad.json()["message"] and bad.json()["message_en"]
        assert planner.post("/v1/households/NOBODY/resolve",
                            json={"candidate": "B101"}).status_code == 404
    left = viewer.get("/v1/households/review").json()
    assert "H08" not in _ids(left) and "H05" not in _ids(left) and left["total"] == 7
    with open_store(loaded) as store:
        decisions = store.review_decisions()
        assert decisions["external_id"].tolist() == ["H08", "H05"]
        assert set(decisions["role"]) == {"planner"}
        assert set(decisions["decided_by"]) == {"test planner"}
        audit = store.audit_entries(limit=50)
    resolved = [e for e in audit if "resolve" in (e["action"] or "") and e["status"] == 200]
    assert len(resolved) == 2 and {e["role"] for e in resolved} == {"planner"}
