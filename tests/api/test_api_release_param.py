"""The ``release`` query parameter and the OGC ``crs`` parameter, as every router takes them from
wangge.api.deps: the release named or the current one, unknown ones 404, checked after the key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import api_client, load_release, make_key
from wangge.api.app import create_app
from wangge.settings import Settings

# routes an integrator's key may not read
NOT_FOR_INTEGRATORS = ["/v1/coverage", "/v1/coverage/gaps", "/v1/coverage/uncovered",
                       "/maps/overview", "/maps/validation", "/maps/coverage"]
# every route taking ?release=: an id outside 1..2^31-1 is refused at the edge (422) on both backends
ROUTES = [*NOT_FOR_INTEGRATORS, "/v1/units", "/v1/households/counts", "/v1/households/review"]


@dataclass(frozen=True)
class Shared:
    """One store per backend with the small demo as its current release (id 1), shared by the
    read-only tests of this module, with one app over it whose client carries an admin key."""

    url: str
    client: TestClient
    code: str               # a unit of the release
    integrator: dict[str, str]  # request headers carrying an integrator key instead


@pytest.fixture(scope="module")
def loaded(module_store_url: str, small_units) -> Iterator[Shared]:
    """The small demo loaded once per backend and module, for read-only tests only (nothing that
    uses it writes releases, households or keys)."""
    url = module_store_url
    with ExitStack() as stack:
        load_release(url, small_units)
        app = create_app(Settings(database_url=url, _env_file=None))
        client = stack.enter_context(
            TestClient(app, headers={"X-API-Key": make_key(url, "admin")}))
        integrator = {"X-API-Key": make_key(url, "integrator")}
        yield Shared(url, client, small_units["code"].iloc[-1], integrator)


def test_without_a_current_release_every_route_is_404(store_url):
    with api_client(store_url) as client:
        for path in [*ROUTES, "/v1/units/1", "/v1/units/1/households", "/maps/units/1"]:
            r = client.get(path)
            assert r.status_code == 404 and r.json()["code"] == "not_found", path
        r = client.post("/v1/households/assign")
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_an_unknown_release_is_404(loaded):
    client, code = loaded.client, loaded.code
    paths = [*ROUTES, f"/v1/units/{code}", f"/v1/units/{code}/households", f"/maps/units/{code}"]
    for path in paths:
        r = client.get(path, params={"release": 999})
        assert r.status_code == 404 and r.json()["code"] == "not_found", path
        assert "999" in r.json()["message_en"], path
    r = client.post("/v1/households/assign", params={"release": 999})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_named_release_or_the_current_one(loaded):
    client, code = loaded.client, loaded.code
    for path in ("/v1/households/counts", "/v1/households/review"):
        assert client.get(path).json()["release_id"] == 1
        assert client.get(path, params={"release": 1}).json()["release_id"] == 1
    unit = client.get(f"/v1/units/{code}", params={"release": 1})
    assert unit.status_code == 200 and unit.json()["properties"]["code"] == code


@pytest.mark.parametrize("release", ["0", "-1", "2147483648", "abc"])
def test_a_release_outside_the_id_range_is_refused_before_the_store(loaded, release):
    for path in ROUTES:
        r = loaded.client.get(path, params={"release": release})
        assert r.status_code == 422 and r.json()["code"] == "invalid_request", path


def test_the_release_is_looked_up_only_for_an_allowed_key(loaded):
    with api_client(loaded.url, role=None) as anonymous:
        for path in ROUTES:
            r = anonymous.get(path, params={"release": 999})
            assert r.status_code == 401 and r.json()["code"] == "unauthenticated", path
    for path in NOT_FOR_INTEGRATORS:
        r = loaded.client.get(path, params={"release": 999}, headers=loaded.integrator)
        assert r.status_code == 403, path


def test_a_blank_unit_code_is_refused_before_the_release_is_looked_up(loaded):
    r = loaded.client.get("/v1/units/%20", params={"release": 999})
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_an_unsupported_ogc_crs_is_400(loaded):
    client, code = loaded.client, loaded.code
    for path in ("/ogc/collections/grid/items", f"/ogc/collections/microgrid/items/{code}"):
        r = client.get(path, params={"crs": "EPSG:3857"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_crs", path
