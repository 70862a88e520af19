"""The ``release`` query parameter and the OGC ``crs`` parameter, as every router takes them from
wangge.api.deps: the release named or the current one, unknown ones 404, checked after the key."""

from __future__ import annotations

import pytest

from tests.api.conftest import api_client, load_release

# routes an integrator's key may not read
NOT_FOR_INTEGRATORS = ["/v1/coverage", "/v1/coverage/gaps", "/v1/coverage/uncovered",
                       "/maps/overview", "/maps/validation", "/maps/coverage"]
# every route taking ?release=: an id outside 1..2^31-1 is refused at the edge (422) on both backends
ROUTES = [*NOT_FOR_INTEGRATORS, "/v1/units", "/v1/households/counts", "/v1/households/review"]


@pytest.fixture
def loaded(store_url, small_units):
    load_release(store_url, small_units)
    return small_units["code"].iloc[-1]


def test_without_a_current_release_every_route_is_404(store_url):
    with api_client(store_url) as client:
        for path in [*ROUTES, "/v1/units/1", "/v1/units/1/households", "/maps/units/1"]:
            r = client.get(path)
            assert r.status_code == 404 and r.json()["code"] == "not_found", path
        r = client.post("/v1/households/assign")
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_an_unknown_release_is_404(store_url, loaded):
    paths = [*ROUTES, f"/v1/units/{loaded}", f"/v1/units/{loaded}/households",
             f"/maps/units/{loaded}"]
    with api_client(store_url) as client:
        for path in paths:
            r = client.get(path, params={"release": 999})
            assert r.status_code == 404 and r.json()["code"] == "not_found", path
            assert "999" in r.json()["message_en"], path
        r = client.post("/v1/households/assign", params={"release": 999})
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_named_release_or_the_current_one(store_url, loaded):
    with api_client(store_url) as client:
        for path in ("/v1/households/counts", "/v1/households/review"):
            assert client.get(path).json()["release_id"] == 1
            assert client.get(path, params={"release": 1}).json()["release_id"] == 1
        unit = client.get(f"/v1/units/{loaded}", params={"release": 1})
        assert unit.status_code == 200 and unit.json()["properties"]["code"] == loaded


@pytest.mark.parametrize("release", ["0", "-1", "2147483648", "abc"])
def test_a_release_outside_the_id_range_is_refused_before_the_store(store_url, loaded, release):
    with api_client(store_url) as client:
        for path in ROUTES:
            r = client.get(path, params={"release": release})
            assert r.status_code == 422 and r.json()["code"] == "invalid_request", path


def test_the_release_is_looked_up_only_for_an_allowed_key(store_url, loaded):
    with api_client(store_url, role=None) as anonymous:
        for path in ROUTES:
            r = anonymous.get(path, params={"release": 999})
            assert r.status_code == 401 and r.json()["code"] == "unauthenticated", path
    with api_client(store_url, role="integrator") as integrator:
        for path in NOT_FOR_INTEGRATORS:
            r = integrator.get(path, params={"release": 999})
            assert r.status_code == 403, path


def test_a_blank_unit_code_is_refused_before_the_release_is_looked_up(store_url, loaded):
    with api_client(store_url) as client:
        r = client.get("/v1/units/%20", params={"release": 999})
        assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_an_unsupported_ogc_crs_is_400(store_url, loaded):
    with api_client(store_url) as client:
        for path in ("/ogc/collections/grid/items", f"/ogc/collections/microgrid/items/{loaded}"):
            r = client.get(path, params={"crs": "EPSG:3857"})
            assert r.status_code == 400 and r.json()["code"] == "invalid_crs", path
