"""OGC API – Features: landing, conformance, collections, items with paging, bbox, CRS and
datetime, one item; every link followed resolves."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from tests.api.conftest import api_client, load_release
from tests.clock import Clock
from tests.hierarchy import STREET, hierarchy
from wangge.store import open_store

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


@pytest.fixture
def units(small_units):
    return small_units


@pytest.fixture
def client(store_url, units):
    load_release(store_url, units)
    with api_client(store_url, role="integrator") as c:
        yield c


def _path(href: str) -> str:
    return href.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_landing_and_conformance_link_everything(client):
    landing = client.get("/ogc").json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    for link in landing["links"]:
        assert client.get(_path(link["href"])).status_code == 200, link
    conf = client.get(_path(rels["conformance"]["href"])).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    openapi = client.get("/openapi.json").json()
    assert openapi["openapi"].startswith("3.")
    assert "/ogc/collections/{level}/items" in openapi["paths"]


def test_collections_describe_levels_extent_and_crs(client, units):
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["street", "community", "grid", "microgrid"]
    grid = client.get("/ogc/collections/grid").json()
    assert grid["storageCrs"] == EPSG4490 and CRS84 in grid["crs"] and EPSG4490 in grid["crs"]
    x0, y0, x1, y1 = grid["extent"]["spatial"]["bbox"][0]
    bounds = units.loc[units["level"] == "grid"].total_bounds
    assert [x0, y0, x1, y1] == pytest.approx(list(bounds))
    # the first release is in force from 1 January 2026, midnight in China
    assert grid["extent"]["temporal"]["interval"][0][0] == "2025-12-31T16:00:00Z"
    assert client.get("/ogc/collections/nope").status_code == 422


def test_items_page_through_all_features_once(client, units):
    want = sorted(units.loc[units["level"] == "microgrid", "code"])
    got, url, pages = [], "/ogc/collections/microgrid/items?limit=100", 0
    while url:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
        assert r.headers["Content-Crs"] == f"<{CRS84}>"
        body = r.json()
        assert body["numberMatched"] == len(want) and body["numberReturned"] == len(body["features"])
        got += [f["id"] for f in body["features"]]
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        url = _path(nxt[0]["href"]) if nxt else None
        pages += 1
    assert got == want and pages == 3


def test_crs_parameter_swaps_to_lat_lon_for_epsg_4490(client, units):
    code = units.loc[units["level"] == "grid", "code"].iloc[0]
    plain = client.get(f"/ogc/collections/grid/items/{code}").json()
    swapped = client.get(f"/ogc/collections/grid/items/{code}", params={"crs": EPSG4490})
    assert swapped.headers["Content-Crs"] == f"<{EPSG4490}>"
    a = shapely.get_coordinates(shapely.geometry.shape(plain["geometry"]))
    b = shapely.get_coordinates(shapely.geometry.shape(swapped.json()["geometry"]))
    assert (a[:, ::-1] == b).all() and 30 < a[0, 1] < 40 and 115 < a[0, 0] < 125
    bad = client.get("/ogc/collections/grid/items", params={"crs": "EPSG:3857"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_crs"


def test_bbox_in_both_axis_orders(client, units):
    grid = units[units["level"] == "grid"]
    c = shapely.centroid(grid.geometry.iloc[3])
    box = (c.x - 0.001, c.y - 0.001, c.x + 0.001, c.y + 0.001)
    expect = sorted(grid.loc[shapely.intersects(grid.geometry.to_numpy(), shapely.box(*box)), "code"])
    lonlat = client.get("/ogc/collections/grid/items",
                        params={"bbox": ",".join(map(str, box))}).json()
    latlon = client.get("/ogc/collections/grid/items", params={
        "bbox": ",".join(map(str, (box[1], box[0], box[3], box[2]))), "bbox-crs": EPSG4490}).json()
    assert sorted(f["id"] for f in lonlat["features"]) == expect
    assert sorted(f["id"] for f in latlon["features"]) == expect


def test_datetime_selects_the_release_in_force(client, store_url, units):
    renamed = units.copy()
    renamed.loc[renamed["level"] == "street", "name"] = "新街道"
    with open_store(store_url) as store:
        second = store.create_release(renamed, source="v2", effective_date=date(2026, 6, 1))
        store.make_current(second.id)
    code = units.loc[units["level"] == "street", "code"].iloc[0]
    now = client.get(f"/ogc/collections/street/items/{code}").json()
    then = client.get(f"/ogc/collections/street/items/{code}",
                      params={"datetime": "2026-03-01T00:00:00Z"}).json()
    assert now["properties"]["name"] == "新街道" and then["properties"]["name"] != "新街道"
    assert then["properties"]["release_id"] == 1
    before = client.get("/ogc/collections/street/items", params={"datetime": "2020-01-01"})
    assert before.status_code == 404
    interval = client.get("/ogc/collections/street/items", params={"datetime": "2026-01-01/.."})
    assert interval.status_code == 400 and "instants" in interval.json()["message_en"]


def test_item_of_another_level_is_404(client, units):
    code = units.loc[units["level"] == "grid", "code"].iloc[0]
    r = client.get(f"/ogc/collections/street/items/{code}")
    assert r.status_code == 404 and r.json()["message"]


def test_datetime_is_read_as_a_china_date_and_future_instants_answer_with_the_plan(store_url):
    clock = Clock("2026-12-04T16:48:00Z")  # 00:48 on 5 December in China
    with open_store(store_url) as store:
        store.clock = clock
        now = store.create_release(hierarchy(), source="now", make_current=True)
        redrawn = hierarchy()
        redrawn.loc[redrawn["level"] == "street", "name"] = "新街道"
        plan = store.create_release(redrawn, source="plan", effective_date=date(2027, 1, 1),
                                    make_current=True)
    with api_client(store_url, role="integrator") as client:
        client.app.state.store.clock = clock

        def at(instant: str | None):
            params = {} if instant is None else {"datetime": instant}
            return client.get(f"/ogc/collections/street/items/{STREET}", params=params)

        # 18:00Z on 4 December is 02:00 on 5 December in China: the release is in force.
        assert at("2026-12-04T18:00:00Z").json()["properties"]["release_id"] == now.id
        assert at("2026-12-05").json()["properties"]["release_id"] == now.id
        before = at("2026-12-04T15:59:59Z")
        assert before.status_code == 404 and "2026-12-05" in before.json()["message"]
        assert at("2026-12-31T15:59:59Z").json()["properties"]["release_id"] == now.id
        for instant in ("2026-12-31T16:00:00Z", "2027-01-01T00:00:00+08:00", "2030-01-01"):
            body = at(instant).json()
            assert body["properties"]["release_id"] == plan.id, instant
            assert body["properties"]["name"] == "新街道"
        assert at(None).json()["properties"]["release_id"] == now.id
        clock.set("2027-01-01T00:00:00+08:00")
        assert at(None).json()["properties"]["release_id"] == plan.id


def test_queryables_are_a_json_schema_and_filter_items(client, units):
    r = client.get("/ogc/collections/grid/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    schema = r.json()
    assert schema["type"] == "object" and schema["$id"].endswith("/ogc/collections/grid/queryables")
    assert set(schema["properties"]) == {"code", "name", "parent_code", "level"}
    links = client.get("/ogc/collections/grid").json()["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)
    grids = units[units["level"] == "grid"]
    parent = grids["parent_code"].iloc[0]
    body = client.get("/ogc/collections/grid/items", params={"parent_code": parent, "limit": 2}).json()
    want = sorted(grids.loc[grids["parent_code"] == parent, "code"])
    assert body["numberMatched"] == len(want) and [f["id"] for f in body["features"]] == want[:2]
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert f"parent_code={parent}" in nxt  # the filter survives paging
    name = grids["name"].iloc[1]
    assert [f["id"] for f in client.get("/ogc/collections/grid/items",
                                        params={"name": name}).json()["features"]] == \
        [grids["code"].iloc[1]]
    assert client.get("/ogc/collections/grid/items", params={"level": "微网格"}).json()["numberMatched"] == 0
    bad = client.get("/ogc/collections/grid/items", params={"level": "楼栋"})
    assert bad.status_code == 400 and bad.json()["message"]


def test_unknown_query_parameters_are_refused(client):
    for path, params in (("/ogc/collections/grid/items", {"parent": "320902001"}),
                         ("/ogc/collections/grid/items", {"sortby": "code"}),
                         ("/ogc/collections", {"limit": "5"}),
                         ("/ogc/collections/grid/items/320902001001001", {"bbox": "1,2,3,4"})):
        r = client.get(path, params=params)
        assert r.status_code == 400, (path, params)
        body = r.json()
        assert body["code"] == "invalid_input" and list(params) == body["detail"]["unknown"]
        assert "不支持的查询参数" in body["message"] and "Unknown query parameters" in body["message_en"]


def test_html_views_are_tables_with_links_and_no_cdn(client, units):
    code = units.loc[units["level"] == "grid", "code"].iloc[0]
    for path in ("/ogc", "/ogc/collections", "/ogc/collections/grid",
                 "/ogc/collections/grid/items", f"/ogc/collections/grid/items/{code}",
                 "/ogc/collections/grid/queryables"):
        r = client.get(path, params={"f": "html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert "<table" in r.text or "<ul>" in r.text
        assert "<script" not in r.text and "cdn" not in r.text.lower() and "https://" not in r.text
    page = client.get("/ogc/collections/grid/items", params={"f": "html", "limit": 5}).text
    assert f"items/{code}?f=html" in page and "offset=5" in page and "下一页" in page
    assert client.get("/ogc/collections", headers={"Accept": "text/html"}).text.startswith("<!DOCTYPE")
    assert client.get("/ogc/collections", params={"f": "xml"}).status_code == 422


def test_the_ogc_openapi_document_advertises_the_page_size(client):
    landing = client.get("/ogc/").json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    r = client.get(_path(desc["href"]))
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    assert doc["servers"][0]["url"].endswith("/ogc")
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == 10_000 and limit["default"] == 100
    for level in ("street", "community", "grid", "microgrid"):
        params = doc["paths"][f"/collections/{level}/items"]["get"]["parameters"]
        assert {"$ref": "#/components/parameters/limit"} in params
        assert not any(p.get("in") == "path" for p in params)
        assert f"/collections/{level}/queryables" in doc["paths"]
    assert doc["components"]["securitySchemes"]["ApiKeyHeader"]["name"] == "X-API-Key"
