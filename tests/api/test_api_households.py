"""Households over HTTP, on both backends; personal fields never served."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import api_client, make_key
from wangge.api.app import create_app
from wangge.demo.register import build_register
from wangge.settings import Settings
from wangge.store import open_store


@pytest.fixture(scope="module")
def demo(demo_units):
    units = demo_units  # build_demo(), built once per session: see tests/conftest.py
    return units, build_register(units, n_households=1_500, seed=5)


def _load(store_url: str, demo) -> None:
    units, reg = demo
    with open_store(store_url) as store:
        store.create_release(units, source="demo", make_current=True)
        store.create_gazetteer(reg.compounds, reg.buildings, source="demo")


@pytest.fixture
def client(store_url: str, demo) -> Iterator[TestClient]:
    """An admin client over a loaded store of the test's own, for tests that import or assign."""
    _load(store_url, demo)
    with api_client(store_url) as c:
        yield c


@pytest.fixture(scope="module")
def shared_client(module_store_url: str, demo) -> Iterator[TestClient]:
    """An admin client of one app over one loaded store per backend and module, for read-only
    tests only: uploads refused before anything is stored, lookups; nothing that imports,
    assigns or reads the audit log uses it."""
    url = module_store_url
    with ExitStack() as stack:
        _load(url, demo)
        app = create_app(Settings(database_url=url, _env_file=None))
        yield stack.enter_context(TestClient(app, headers={"X-API-Key": make_key(url, "admin")}))


def _csv(reg) -> bytes:
    return reg.households.to_csv(index=False).encode("utf-8-sig")


def test_import_counts_list_review(client, demo):
    _, reg = demo
    r = client.post("/v1/households/import", files={"file": ("名册.csv", _csv(reg), "text/csv")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["imported"] == 1_500 and body["problems"] == []
    assert body["assignment"]["found"] >= 1_450
    counts = client.get("/v1/households/counts", params={"level": "street"}).json()["counts"]
    assert sum(c["households"] for c in counts) == body["assignment"]["found"]
    street = max(counts, key=lambda c: c["households"])
    listed = client.get(f"/v1/units/{street['code']}/households", params={"limit": 10_000}).json()
    assert len(listed["households"]) == street["households"]
    for household in listed["households"]:
        assert not {"name", "phone", "id_number"} & set(household)
    text = r.text + str(listed)
    assert not any(phone in text for phone in reg.households["phone"].dropna().head(100))
    review = client.get("/v1/households/review").json()["households"]
    assert all(h["status"] in ("found", "outside", "unlocated") for h in review)
    again = client.post("/v1/households/assign").json()
    assert again["assigned"] == 1_500 and again["moved"] == 0


def test_bad_register_is_4xx(shared_client):
    client = shared_client
    r = client.post("/v1/households/import", files={"file": ("x.gpkg", b"abc", "x")})
    assert r.status_code == 400 and r.json()["code"] == "file_format"
    r = client.post("/v1/households/import",
                    files={"file": ("x.csv", "名字\n张三\n".encode(), "text/csv")})
    assert r.status_code == 400 and r.json()["code"] == "field_mapping"
    assert client.get("/v1/units/404/households").status_code == 404


def _bomb() -> bytes:
    """A 4.9 KB register whose only far cell is XFD1048576 (17 billion cells if padded)."""
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["XFD1048576"] = "external_id", "end"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_oversized_or_damaged_register_is_refused(shared_client):
    bomb, c = _bomb(), shared_client
    r = c.post("/v1/households/import", files={"file": ("名册.xlsx", bomb, "application/zip")})
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "too_large" and body["detail"]["limit"] == "columns"
    assert "名册.xlsx" in body["message"] and body["message_en"]
    for data in (bomb[: len(bomb) // 2], b"external_id,address\nH1,x\n"):  # truncated, not a zip
        r = c.post("/v1/households/import", files={"file": ("名册.xlsx", data, "application/zip")})
        assert r.status_code == 400 and r.json()["code"] == "file_format", r.text


def test_table_limits_come_from_the_settings(store_url):
    register = "external_id,address\nH1,和平花园1栋\nH2,和平花园2栋\nH3,和平花园3栋\n".encode()
    with api_client(store_url, table_max_rows=2) as c:
        r = c.post("/v1/households/import", files={"file": ("r.csv", register, "text/csv")})
    assert r.status_code == 413 and r.json()["detail"] == {"limit": "rows", "max": 2, "found": 3,
                                                            "at_least": True}
