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


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** (z - 1)
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_large_levels_are_served_in_tiles(loaded, units):
    import shapely

    micro = units[units["level"] == "microgrid"]
    lon, lat = shapely.union_all(units.geometry.values).centroid.coords[0]
    with api_client(loaded, role="viewer", map_inline_units=100) as c:
        page = c.get("/maps/overview", params={"tiles": "none"}).text
        assert not any(code in page for code in micro["code"])          # 250 > 100: tiled
        assert "/maps/tiles/1/overview/microgrid/{z}/{x}/{y}.json?tiles=none" in page
        x, y = _tile_of(lon, lat, 10)
        r = c.get(f"/maps/tiles/1/overview/microgrid/10/{x}/{y}.json", params={"tiles": "none"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        assert r.headers["cache-control"].startswith("private")
        assert r.headers["content-encoding"] == "gzip"        # kept compressed, sent as it is
        plain = c.get(f"/maps/tiles/1/overview/microgrid/10/{x}/{y}.json",
                      params={"tiles": "none"}, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.json() == r.json()
        features = r.json()["features"]
        by_code = dict(zip(micro["code"], micro.geometry, strict=True))
        assert features and {f["id"] for f in features} <= set(by_code)
        for f in features:
            p = f["properties"]
            assert p["c"] == f["id"] and p["l"] == "microgrid" and "p" not in p   # no names
            stored, drawn = by_code[f["id"]], shapely.geometry.shape(f["geometry"])
            # simplified for zoom 10 (half a pixel, about 60 m here), never moved further
            assert shapely.hausdorff_distance(stored, drawn) < 0.001
            assert shapely.get_num_coordinates(drawn) <= shapely.get_num_coordinates(stored)
            assert shapely.contains(drawn.buffer(1e-6), shapely.Point(p["a"][1], p["a"][0]))
        fine = c.get(f"/maps/tiles/1/overview/microgrid/16/{_tile_of(lon, lat, 16)[0]}/"
                     f"{_tile_of(lon, lat, 16)[1]}.json", params={"tiles": "none"}).json()
        assert len(fine["features"]) < len(features)
        # The same tile on AMap's tiles is in GCJ-02: every vertex moved by the offset.
        shifted = c.get(f"/maps/tiles/1/overview/microgrid/10/{x}/{y}.json",
                        params={"tiles": "amap"}).json()["features"]
        a = shapely.geometry.shape(features[0]["geometry"]).centroid
        b = shapely.geometry.shape(next(f for f in shifted if f["id"] == features[0]["id"])
                                   ["geometry"]).centroid
        assert 0.001 < a.distance(b) < 0.01
        # Refused clearly: a tile that does not exist, an unknown kind, a missing release.
        assert c.get("/maps/tiles/1/overview/grid/3/9/0.json").status_code == 400
        assert c.get("/maps/tiles/1/overview/grid/0/0/0.json").status_code == 422
        assert c.get("/maps/tiles/1/secret/grid/9/1/1.json").status_code == 422
        r = c.get(f"/maps/tiles/9/overview/grid/10/{x}/{y}.json")
        assert r.status_code == 404 and r.json()["message"]
    with api_client(loaded, role="integrator") as c:
        assert c.get(f"/maps/tiles/1/plain/grid/10/{x}/{y}.json").status_code == 403


def test_tiles_carry_worker_names_only_for_entitled_roles_and_audit_it(loaded, units):
    import shapely

    lon, lat = shapely.union_all(units.geometry.values).centroid.coords[0]
    x, y = _tile_of(lon, lat, 9)
    path = f"/maps/tiles/1/overview/grid/9/{x}/{y}.json"
    with api_client(loaded, role="viewer") as c:
        assert all("p" not in f["properties"] for f in c.get(path).json()["features"])
    with api_client(loaded, role="admin") as c:
        features = c.get(path).json()["features"]
        assert any(f["properties"].get("p") for f in features)
    from wangge.store import open_store

    with open_store(loaded) as store:
        entries = [e for e in store.audit_entries()
                   if e["action"] == "read worker names (overview map tiles)"]
        assert len(entries) == 1 and entries[0]["target"] == f"release 1 grid 9/{x}/{y}"


def test_names_for_entitled_roles_reuse_the_viewers_shapes(loaded, units, monkeypatch):
    """The level a role entitled to workers' names sees is the viewer's shapes with other
    properties: simplified once for both, the same geometry in both tiles."""
    import json

    import shapely

    import wangge.maps.lod
    from wangge.map_tiles import TileCache, level_tiles
    from wangge.maps.tiles import basemap
    from wangge.store import open_store

    simplified = []
    real = wangge.maps.lod.simplify_coverage
    monkeypatch.setattr(wangge.maps.lod, "simplify_coverage",
                        lambda *a, **k: simplified.append(1) or real(*a, **k))
    lon, lat = shapely.union_all(units.geometry.values).centroid.coords[0]
    x, y = _tile_of(lon, lat, 9)
    cache, bm = TileCache(), basemap("none", None)
    with open_store(loaded) as store:
        viewer = level_tiles(store, 1, "overview", "grid", bm, cache=cache)
        admin = level_tiles(store, 1, "overview", "grid", bm, cache=cache, show_workers=True)
        plain, named = (json.loads(t.tile(9, x, y))["features"] for t in (viewer, admin))
        assert level_tiles(store, 1, "overview", "grid", bm, cache=cache,
                           show_workers=True) is admin
    assert admin.tree is viewer.tree and len(simplified) == 1
    assert [f["geometry"] for f in plain] == [f["geometry"] for f in named]
    assert all("p" not in f["properties"] for f in plain)
    assert any(f["properties"].get("p") for f in named)
    assert [f["properties"]["c"] for f in plain] == [f["properties"]["c"] for f in named]


def test_tile_figures_follow_every_write_and_a_burst_prepares_a_level_once(loaded, units,
                                                                           monkeypatch):
    """Figures in tiles are never older than the store (a roster written by another process
    shows at once, and replaces what was prepared before), and a page's burst of requests for
    a level prepares it once."""
    import threading

    import pandas as pd
    import shapely

    import wangge.map_tiles
    from wangge.store import open_store

    lon, lat = shapely.union_all(units.geometry.values).centroid.coords[0]
    x, y = _tile_of(lon, lat, 9)
    path = f"/maps/tiles/1/overview/grid/9/{x}/{y}.json"
    prepared = []
    prepare = wangge.map_tiles._store_level
    monkeypatch.setattr(wangge.map_tiles, "_store_level",
                        lambda *a: prepared.append(1) or prepare(*a))
    with api_client(loaded, role="viewer") as c:
        answers: list = []
        burst = [threading.Thread(target=lambda: answers.append(c.get(path))) for _ in range(6)]
        for t in burst:
            t.start()
        for t in burst:
            t.join()
        assert [r.status_code for r in answers] == [200] * 6 and len(prepared) == 1
        before = {f["id"]: f["properties"].get("w") for f in answers[0].json()["features"]}
        assert any(before.values())
        grids = units.loc[units["level"] == "grid", "code"]
        with open_store(loaded) as other:
            other.replace_workers(pd.DataFrame({"worker_id": ["W1"], "grid_code": [grids.iloc[0]],
                                                "full_time": [True]}))
        after = {f["id"]: f["properties"].get("w") for f in c.get(path).json()["features"]}
        assert len(prepared) == 2 and after != before
        assert sum(1 for w in after.values() if w) <= 1
        # the level prepared for the old roster was replaced, not kept beside the new one
        assert len(c.app.state.map_tiles.levels()) == 1


def test_a_late_level_for_an_older_revision_does_not_replace_a_newer_one():
    """A request that read the counters just before a write and finishes last is answered with
    its level, which does not replace the one prepared for the write."""
    from wangge.map_tiles import TileCache

    cache = TileCache()
    new, old = object(), object()
    assert cache.level(("grid",), lambda: new, (("households", 3), ("workers", 1))) is new
    assert cache.level(("grid",), lambda: old, (("households", 2), ("workers", 1))) is old
    assert cache.levels() == {("grid",): new}
    assert cache.level(("grid",), lambda: object(), (("households", 3), ("workers", 1))) is new
    newest = object()
    assert cache.level(("grid",), lambda: newest, (("households", 3), ("workers", 2))) is newest
    assert cache.levels() == {("grid",): newest}
