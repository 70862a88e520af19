"""``examples/`` against the demo district served by a real app, on both backends: the curl
script and the httpx client run as a user would run them, and the membership examples in the
OpenAPI document are what the demo answers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import served
from wangge.api.app import create_app
from wangge.demo.district import build_demo
from wangge.demo.workers import build_workers
from wangge.settings import Settings
from wangge.store import open_store

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture(scope="module")
def demo(module_store_url) -> Iterator[dict[str, Any]]:
    """The demo district's units and workers as release 1, an integrator's and a viewer's key."""
    units = build_demo()
    with open_store(module_store_url) as store:
        store.create_release(units, source="demo", make_current=True, effective_date=date(2026, 1, 1))
        store.replace_workers(*build_workers(units))
        _, integrator = store.create_key("examples", "integrator")
        _, viewer = store.create_key("examples viewer", "viewer")
    with served(create_app(Settings(database_url=module_store_url, _env_file=None))) as base:
        yield {"base": base, "integrator": integrator, "viewer": viewer}


def _run(demo: dict[str, Any], *command: str) -> str:
    env = {**os.environ, "WANGGE_URL": demo["base"], "WANGGE_KEY": demo["integrator"]}
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=120, env=env,
                          cwd=EXAMPLES.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_curl_script(demo):
    out = _run(demo, "bash", str(EXAMPLES / "membership.sh"))
    assert '"status":"found"' in out and "永林社区第2网格第7微网格" in out
    assert '"counts":{"found":1,"outside":1,"invalid":0}' in out
    assert "a,found,320902005,320902005003,320902005003006,320902005003006005" in out
    assert '"numberMatched":' in out and "320902004005001" in out


def test_python_script(demo):
    out = _run(demo, sys.executable, str(EXAMPLES / "membership.py"))
    lines = out.splitlines()
    assert lines[0] == ("1. found 荷山街道（320902004） / 永林社区（320902004005） / 永林社区第2网格"
                        "（320902004005002） / 永林社区第2网格第7微网格（320902004005002007）")
    assert lines[1] == "2. a found 青居社区第6网格"
    assert lines[2] == "2. b outside nearest 乐城社区第4网格第9微网格 at 217.72 m"
    assert lines[3].startswith("3. 314 grids")


def test_openapi_examples_are_what_the_demo_answers(demo):
    with httpx.Client(base_url=demo["base"], headers={"X-API-Key": demo["viewer"]}) as client:
        doc = client.get("/openapi.json").json()
        schemas = doc["components"]["schemas"]
        get = doc["paths"]["/v1/membership"]["get"]
        params = {p["name"]: p["examples"]["demo"]["value"] for p in get["parameters"]
                  if p.get("examples")}
        assert params == {"lon": 120.1646, "lat": 33.3894, "crs": "GCJ-02"}
        one = client.get("/v1/membership", params=params).json()
        want = schemas["MembershipAnswer"]["examples"][0]
        assert one["status"] == want["status"] == "found"
        assert one["chain"] == want["chain"] and one["workers"] == want["workers"]
        assert (round(one["lon"], 6), round(one["lat"], 6)) == (want["lon"], want["lat"])

        post = doc["paths"]["/v1/membership"]["post"]["requestBody"]["content"]
        many = client.post("/v1/membership", json=post["application/json"]["example"]).json()
        want = schemas["BatchAnswer"]["examples"][0]
        for key in ("count", "counts", "units"):
            assert many[key] == want[key], key
        # the document leaves out null members
        assert [{k: v for k, v in row.items() if v is not None} for row in many["results"]] == \
            want["results"]
        csv = client.post("/v1/membership", content=post["text/csv"]["example"],
                          headers={"Content-Type": "text/csv"}).json()
        assert csv["results"][0]["microgrid"] == "320902005003006005"
        # the README's old example point is outside the district: no example claims otherwise
        old = client.get("/v1/membership", params={"lon": 120.1613, "lat": 33.3479, "crs": "GCJ-02"})
        assert old.json()["status"] == "outside"
        assert doc["components"]["securitySchemes"]["ApiKeyHeader"] == {
            **doc["components"]["securitySchemes"]["ApiKeyHeader"], "type": "apiKey",
            "in": "header", "name": "X-API-Key"}
        assert get["security"] == [{"ApiKeyHeader": []}, {"BearerKey": []}, {"SessionCookie": []}]
