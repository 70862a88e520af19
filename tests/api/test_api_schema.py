"""The OpenAPI document is complete enough for schemathesis to drive every operation, and no
generated request (valid or not) gets a 5xx: bad input is always the caller's 4xx."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from wangge.api.app import create_app
from wangge.demo.district import build_demo
from wangge.settings import Settings
from wangge.store import open_store

# The app is made at import (schemathesis reads its OpenAPI document then); its database is
# filled and its lifespan run by the fixture below, before the first case.
_DIR = tempfile.mkdtemp(prefix="wangge-schema-")
_URL = f"sqlite:///{Path(_DIR) / 'wangge.db'}"
APP = create_app(Settings(database_url=_URL, _env_file=None, rate_limit_per_s=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def key():
    units = build_demo(n_streets=3, n_communities=10, n_grids=40, n_microgrids=250)
    with open_store(_URL) as store:
        store.create_release(units, source="demo", make_current=True,
                             effective_date=date(2026, 1, 1))
        _, made = store.create_key("schemathesis", "admin")
    with TestClient(APP):  # runs the lifespan: store, index, keys
        yield made
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, key):
    response = case.call(headers={"X-API-Key": key})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    content_type = (response.headers.get("content-type") or [""])[0]
    if 400 <= response.status_code < 500 and content_type.startswith("application/json"):
        body = response.json()
        assert {"code", "message", "message_en"} <= set(body), body
    case.validate_response(response, checks=(not_a_server_error,))


PUBLIC = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/docs/openapi.json",
          "/redoc"}


def test_every_route_but_health_and_the_api_description_needs_a_key(key):
    """What the README promises: without a key, every operation of the document answers 401;
    only liveness and the API's own description (no data in either) are open."""
    with TestClient(APP) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert len(paths) > 30
        for path, operations in paths.items():
            url = path.replace("{", "").replace("}", "")
            for method in operations:
                r = client.request(method.upper(), url)
                if path in PUBLIC:
                    assert r.status_code == 200, path
                    continue
                assert r.status_code == 401, (method, path, r.status_code)
                assert r.json()["code"] == "unauthenticated"
        for path in ("/openapi.json", "/docs", "/docs/openapi.json", "/redoc"):
            assert client.get(path).status_code == 200
