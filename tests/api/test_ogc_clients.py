"""The OGC endpoint as real clients open it: GDAL's OAPIF driver (pyogrio's GDAL) and OWSLib,
against a real uvicorn on loopback, with an integrator's key, on both backends.

Collections, paging with large pages, bbox, CRS 4490, queryables, a property filter answered
by the server, and datetime read as a China date. Every request the service receives is
logged, so the tests see what the clients asked (page sizes, filters sent to the server).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from owslib.ogcapi.features import Features

from tests.serving import served
from wangge.api.app import create_app
from wangge.settings import Settings
from wangge.store import open_store

OGR_READ = Path(__file__).with_name("ogr_read.py")
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


class RequestLog:
    """ASGI wrapper that records the path and query of every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app, self.lines = app, []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.lines.append(scope["path"] + "?" + scope["query_string"].decode())
        await self.app(scope, receive, send)

    def items(self, level: str) -> list[dict[str, list[str]]]:
        """The query parameters of each request to a level's items."""
        return [parse_qs(urlsplit(line).query) for line in self.lines
                if urlsplit(line).path == f"/ogc/collections/{level}/items"]


@pytest.fixture(scope="module")
def service(module_store_url, small_units, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The small demo as release 1 (from 2026-01-01) and, with renamed streets, release 2 (from
    2026-06-01, current), served with a request log."""
    renamed = small_units.copy()
    renamed.loc[renamed["level"] == "street", "name"] = "新街道"
    with open_store(module_store_url) as store:
        store.create_release(small_units, source="v1", make_current=True,
                             effective_date=date(2026, 1, 1))
        second = store.create_release(renamed, source="v2", effective_date=date(2026, 6, 1))
        store.make_current(second.id)
        _, key = store.create_key("GIS desk", "integrator")
    headers = tmp_path_factory.mktemp("gdal") / "headers.txt"
    headers.write_text(f"X-API-Key: {key}\n")
    log = RequestLog(create_app(Settings(database_url=module_store_url, _env_file=None)))
    with served(log) as base:
        yield {"base": base, "key": key, "headers": str(headers), "log": log, "units": small_units}


def ogr(service: dict[str, Any], **args: Any) -> dict[str, Any]:
    """Read through GDAL's OAPIF driver in a child process (see tests/api/ogr_read.py)."""
    args = {"url": f"OAPIF:{service['base']}/ogc", "header_file": service["headers"], **args}
    done = subprocess.run([sys.executable, str(OGR_READ), json.dumps(args)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _codes(units, level: str, **equal: str) -> list[str]:
    rows = units[units["level"] == level]
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    return sorted(rows["code"])


def test_gdal_lists_the_levels_and_reads_a_level_in_pages_of_1000(service):
    assert ogr(service, list=True)["layers"] == ["street", "community", "grid", "microgrid"]
    log = service["log"]
    del log.lines[:]
    got = ogr(service, layer="microgrid")
    assert got["codes"] == _codes(service["units"], "microgrid") and got["epsg"] == 4490
    assert {"code", "name", "level", "parent_code"} <= set(got["columns"])
    # the driver read the service's OpenAPI document, found limit's default and maximum there,
    # and asked for 1000 features a page after its first look (never 10)
    assert any(line.startswith("/ogc/api?") for line in log.lines)
    limits = [int(q["limit"][0]) for q in log.items("microgrid")]
    assert limits and max(limits) == 1000 and min(limits) >= 20 and len(limits) <= 3, limits
    del log.lines[:]
    assert ogr(service, layer="microgrid", open_options={"PAGE_SIZE": "5000"})["count"] == 250
    assert max(int(q["limit"][0]) for q in log.items("microgrid")) == 5000


def test_gdal_bbox_crs_4490_property_filter_and_china_datetime(service):
    units, log = service["units"], service["log"]
    grid = units[units["level"] == "grid"]
    c = shapely.centroid(grid.geometry.iloc[5])
    box = (c.x - 0.002, c.y - 0.002, c.x + 0.002, c.y + 0.002)
    want = sorted(grid.loc[shapely.intersects(grid.geometry.to_numpy(), shapely.box(*box)), "code"])
    del log.lines[:]
    assert ogr(service, layer="grid", bbox=box)["codes"] == want
    assert all("bbox" in q for q in log.items("grid")[1:])

    # CRS 4490: asked of the server (latitude first on the wire), given lon/lat by GDAL
    del log.lines[:]
    got = ogr(service, layer="grid", open_options={"CRS": "EPSG:4490"})
    assert got["epsg"] == 4490 and 115 < got["first_xy"][0] < 125 and 30 < got["first_xy"][1] < 40
    assert any(q.get("crs") == [EPSG4490] for q in log.items("grid"))

    # a property filter on a queryable goes to the server as ?parent_code=
    parent = grid["parent_code"].iloc[0]
    del log.lines[:]
    got = ogr(service, layer="grid", where=f"parent_code = '{parent}'")
    assert got["codes"] == _codes(units, "grid", parent_code=parent)
    assert any(q.get("parent_code") == [parent] for q in log.items("grid")), log.lines

    # 16:30Z on 31 May is 00:30 on 1 June in China: release 2 is in force; a minute before
    # 16:00Z it is still 31 May and release 1
    june = ogr(service, layer="street", open_options={"DATETIME": "2026-05-31T16:30:00Z"})
    may = ogr(service, layer="street", open_options={"DATETIME": "2026-05-31T15:59:00Z"})
    assert june["release_ids"] == [2] and june["names"] == ["新街道"]
    assert may["release_ids"] == [1] and "新街道" not in may["names"]


def test_owslib_collections_queryables_items_and_filters(service):
    units = service["units"]
    api = Features(f"{service['base']}/ogc", headers={"X-API-Key": service["key"]})
    assert [c["id"] for c in api.collections()["collections"]] == \
        ["street", "community", "grid", "microgrid"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables" in \
        api.conformance()["conformsTo"]
    queryables = api.collection_queryables("grid")
    assert {"code", "name", "parent_code", "level"} <= set(queryables["properties"])

    big = api.collection_items("microgrid", limit=10_000)
    assert big["numberMatched"] == big["numberReturned"] == 250
    assert not [link for link in big["links"] if link["rel"] == "next"]

    parent = units.loc[units["level"] == "grid", "parent_code"].iloc[0]
    some = api.collection_items("grid", parent_code=parent)
    assert sorted(f["id"] for f in some["features"]) == _codes(units, "grid", parent_code=parent)
    one = units.loc[units["level"] == "grid", "code"].iloc[3]
    assert [f["id"] for f in api.collection_items("grid", code=one)["features"]] == [one]
    assert api.collection_items("grid", level="street")["numberMatched"] == 0
    assert api.collection_items("grid", level="网格")["numberMatched"] == len(_codes(units, "grid"))

    c = shapely.centroid(units.loc[units["level"] == "grid"].geometry.iloc[2])
    boxed = api.collection_items("grid", bbox=[c.x - 0.001, c.y - 0.001, c.x + 0.001, c.y + 0.001],
                                 crs=EPSG4490)
    assert boxed["numberReturned"] >= 1
    lat, lon = boxed["features"][0]["geometry"]["coordinates"][0][0]
    assert 30 < lat < 40 and 115 < lon < 125  # EPSG:4490 on the wire: latitude first

    code = units.loc[units["level"] == "street", "code"].iloc[0]
    then = api.collection_items("street", code=code, datetime_="2026-05-31T16:30:00Z")
    assert then["features"][0]["properties"]["release_id"] == 2
    with pytest.raises(RuntimeError, match="parent_cod"):
        api.collection_items("grid", parent_cod=parent)   # misspelt: 400, not every grid
