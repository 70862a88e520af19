"""Map pages through the API: roles, parameters, errors (the browser checks are in tests/maps)."""

from __future__ import annotations

import pytest

from tests.api.conftest import api_client, load_release
from wangge.demo.workers import build_workers


@pytest.fixture
def units(small_units):
    return small_units


@pytest.fixture
def loaded(store_url, units):
    return load_release(store_url, units, workers=build_workers(units))


def test_pages_are_html_in_chinese_by_default(loaded, units):
    grid = units.loc[units["level"] == "grid", "code"].iloc[0]
    with api_client(loaded, role="viewer") as c:
        landing = c.get("/maps/")
        assert landing.status_code == 200 and "网格总览" in landing.text
        assert c.get("/maps", follow_redirects=False).status_code == 307
        for path in ("/maps/overview", f"/maps/units/{grid}", "/maps/validation"):
            r = c.get(path, params={"tiles": "none"})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
            assert grid in r.text
        english = c.get("/maps/overview", params={"lang": "en", "tiles": "none"})
        assert "Grid" in english.text


def test_map_errors_are_clear(loaded):
    with api_client(loaded, role="viewer") as c:
        assert c.get("/maps/overview", params={"tiles": "google"}).status_code == 422
        r = c.get("/maps/units/999")
        assert r.status_code == 404 and r.json()["message"]
        r = c.get("/maps/overview", params={"tiles": "tianditu"})
        assert r.status_code == 400 and "天地图" in r.json()["message"]
    with api_client(loaded, role="integrator") as c:
        assert c.get("/maps/overview").status_code == 403


def test_the_overview_of_a_release_without_workers(store_url, units):
    url = load_release(store_url, units)
    for role in ("viewer", "admin"):  # the admin's page lists workers' contacts
        with api_client(url, role=role) as c:
            r = c.get("/maps/overview", params={"tiles": "none"})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), role
