"""Coverage through the API: straight-line fallback said in every answer, then a network
imported from a lines file; catchments, uncovered households and areas, gaps, suggestions, the
coverage map page."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import pickle

import numpy as np
import pytest

import wangge.coverage
from tests.api.conftest import api_client, load_release, make_key
from wangge.demo.register import build_register
from wangge.demo.sites import build_demo_sites
from wangge.demo.workers import build_workers
from wangge.geo.chinacoords import wgs84_to_gcj02
from wangge.households import import_register
from wangge.store import open_store


def _memo(fn):
    """``fn`` remembered by the exact content of its arguments (pickled and hashed): each
    backend still stores and reads everything and the service still calls ``fn``, but the same
    pure computation on the same input is done once for the module (a copy is handed out)."""
    seen = {}

    @functools.wraps(fn)
    def remembered(*args, **kwargs):
        key = hashlib.sha256(pickle.dumps((args, sorted(kwargs.items())), protocol=5)).hexdigest()
        if key not in seen:
            seen[key] = fn(*args, **kwargs)
        return copy.deepcopy(seen[key])

    return remembered


@pytest.fixture(scope="module", autouse=True)
def _same_input_computed_once():
    """Catchments and MCLP suggestions are backend-independent: computed once per input."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("compute_catchments", "suggest_new_sites"):
            mp.setattr(wangge.coverage, name, _memo(getattr(wangge.coverage, name)))
        yield


@pytest.fixture(scope="module")
def register(small_units):
    return build_register(small_units, n_households=2000, seed=3)


@pytest.fixture
def loaded(store_url, small_units, register, tmp_path):
    load_release(store_url, small_units, workers=build_workers(small_units))
    with open_store(store_url) as store:
        store.create_gazetteer(register.compounds, register.buildings, source="demo")
        path = tmp_path / "h.csv"
        register.households.to_csv(path, index=False)
        import_register(store, path)
        store.import_sites(build_demo_sites(small_units, register), source="demo")
    return store_url


def _lattice_geojson(units, step: float = 0.004) -> bytes:
    """Street segments between the points of a lattice over the district, in GCJ-02."""
    x0, y0, x1, y1 = units.total_bounds
    xs, ys = np.arange(x0, x1 + step, step), np.arange(y0, y1 + step, step)
    # Every lattice point shifted once (the shift is per point), then the segments between them.
    lon, lat = np.meshgrid(xs, ys, indexing="ij")
    glon, glat = wgs84_to_gcj02(lon.ravel(), lat.ravel())
    pts = np.column_stack([glon, glat]).reshape(len(xs), len(ys), 2).tolist()
    feats = []
    for i in range(len(xs)):
        for j in range(len(ys)):
            ends = []
            if i + 1 < len(xs):
                ends.append(pts[i + 1][j])
            if j + 1 < len(ys):
                ends.append(pts[i][j + 1])
            for end in ends:
                feats.append({"type": "Feature", "properties": {},
                              "geometry": {"type": "LineString", "coordinates": [pts[i][j], end]}})
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


@pytest.fixture(scope="module")
def lattice(small_units) -> bytes:
    """The lattice network file, the same for both backends: built once."""
    return _lattice_geojson(small_units)


def test_coverage_without_then_with_a_network(loaded, small_units, lattice):
    with api_client(loaded, role="planner") as c:
        first = c.get("/v1/coverage", params={"level": "community"})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["method"] == "straight_line" and "未导入路网" in body["method_zh"]
        assert len(body["units"]) == 10 and body["households"] > 1900
        shares = [body["share"][m] for m in ("5", "10", "15")]
        assert shares == sorted(shares) and 0 < shares[-1] <= 1
        workers, _ = build_workers(small_units)
        grids = set(small_units.loc[small_units["level"] == "grid", "code"])
        expected = sorted(grids - set(workers.loc[workers["full_time"], "grid_code"]))
        assert sorted(body["grids_without_full_time_worker"]) == expected
        files = {"file": ("streets.geojson", lattice, "application/geo+json")}
        net = c.post("/v1/network/import", files=files, data={"crs": "GCJ-02"})
        assert net.status_code == 201, net.text
        assert net.json()["edge_count"] > 100
        second = c.get("/v1/coverage").json()
        assert second["method"] == "network" and second["network_id"] == net.json()["id"]
        polys = c.get("/v1/coverage/catchments", params={"minutes": 15}).json()["features"]
        assert polys and all(f["properties"]["minutes"] == 15 for f in polys)
        people = c.get("/v1/coverage/uncovered").json()
        assert people["count"] == second["households"] - second["within"]["15"]
        assert all("name" not in h and "phone" not in h for h in people["households"])
        areas = c.get("/v1/coverage/uncovered-areas").json()["features"]
        assert all(f["properties"]["level"] == "microgrid" for f in areas)
        suggested = c.get("/v1/coverage/suggest", params={"k": 2}).json()
        assert len(suggested["sites"]) == 2 and suggested["method"] == "network"
        gaps = c.get("/v1/coverage/gaps")
        assert gaps.status_code == 200 and gaps.json()["features"] == []   # the demo has none
        page = c.get("/maps/coverage", params={"tiles": "none", "suggest": 1})
        assert page.status_code == 200 and "leaflet" in page.text
        _outline_in_tiles(c, polys, small_units)
    with api_client(loaded, role="integrator") as c:
        assert c.get("/v1/coverage").status_code == 403


def _outline_in_tiles(c, polys, units) -> None:
    """The 15-minute outline cut into the tiles of one zoom: pieces inside their tile, and
    together as long as the outline itself (simplified by under a metre at zoom 16)."""
    import math

    import shapely

    z = 14
    n = 2 ** (z - 1)
    x0, y0, x1, y1 = units.total_bounds

    def tile(lon, lat):
        return (int((lon + 180) / 360 * n),
                int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))

    (tx0, ty1), (tx1, ty0) = tile(x0, y0), tile(x1, y1)
    pieces = []
    for x in range(tx0, tx1 + 1):
        for y in range(ty0, ty1 + 1):
            r = c.get(f"/maps/tiles/1/coverage/catchment-15/{z}/{x}/{y}.json",
                      params={"tiles": "none"})
            assert r.status_code == 200
            for f in r.json()["features"]:
                geom = shapely.geometry.shape(f["geometry"])
                west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
                # cut at the tile's edge, then rounded to 5 decimals (a metre) at this zoom
                assert west - 1e-5 <= geom.bounds[0] and geom.bounds[2] <= east + 1e-5
                pieces.append(geom)
    outline = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in polys]).boundary
    drawn = sum(p.length for p in pieces)
    assert pieces and abs(drawn - outline.length) / outline.length < 0.1
    assert c.get("/maps/tiles/1/coverage/catchment-7/14/0/0.json").status_code == 404
    assert c.get("/maps/tiles/1/coverage/roads/14/0/0.json").status_code == 422


def test_coverage_needs_sites(store_url, small_units):
    load_release(store_url, small_units)
    with api_client(store_url, role="viewer") as c:
        r = c.get("/v1/coverage")
    assert r.status_code == 400 and "站点" in r.json()["message"]


def test_suggestions_add_no_more_than_the_uncovered(loaded):
    with api_client(loaded, role="planner") as c:
        body = c.get("/v1/coverage/suggest", params={"k": 3, "minutes": 10}).json()
        outside = c.get("/v1/coverage/uncovered", params={"minutes": 10}).json()["count"]
    added = [s["households_added"] for s in body["sites"]]
    assert added == sorted(added, reverse=True) and 0 < sum(added) <= outside


def test_warm_prepares_the_current_release_maps(loaded, caplog, monkeypatch):
    from wangge.coverage import CoverageCache
    from wangge.map_pages import coverage_drawing, warm
    from wangge.settings import Settings

    settings = Settings(database_url=loaded, _env_file=None)
    cache = CoverageCache()
    with open_store(loaded) as store, caplog.at_level("INFO"):
        assert warm(store, settings, cache) is True
        assert "map caches warmed" in caplog.text
        cov = cache.get(store, 1, settings)
        assert cache.get(store, 1, settings) is cov            # computed once, by the warm-up
        assert coverage_drawing(store, 1, cov, settings) is coverage_drawing(store, 1, cov, settings)
        # Whether it is current is one read of the revision counters, nothing more...
        for table in ("sites", "workers", "network_for", "located_households"):
            monkeypatch.setattr(store, table, lambda *a, **k: (_ for _ in ()).throw(
                RuntimeError("read")))
        assert cache.get(store, 1, settings) is cov
        monkeypatch.undo()
        # ...and a write from any process (another store here) makes it stale.
        with open_store(loaded) as other:
            site = str(other.sites()["site_id"].iloc[0])
            other.change_site(site, source="test", name="改名的站点")
        fresh = cache.get(store, 1, settings)
        assert fresh is not cov and site in set(fresh.sites["site_id"])
        assert "改名的站点" in set(fresh.sites["name"])
    caplog.clear()

    def down():
        from sqlalchemy.exc import OperationalError
        raise OperationalError("SELECT", {}, Exception("database is down"))

    monkeypatch.setattr(store, "current_release", down)
    with caplog.at_level("WARNING"):
        assert warm(store, settings, CoverageCache()) is False  # logged, not raised
    assert "not warmed" in caplog.text and "database is down" in caplog.text


def test_warm_prepares_the_tiles_of_the_first_view(loaded):
    """With a tile cache, the warm-up prepares the coverage page and the tiles a district opens
    at on the default base map, as a viewer sees them and, for the overview (which the compare
    pages draw over), as a planner who sees workers' names does: a first visitor waits for
    none."""
    from wangge.coverage import CoverageCache
    from wangge.map_pages import WARM_ZOOMS, warm
    from wangge.map_tiles import TileCache
    from wangge.maps.lod import tiles_covering
    from wangge.settings import Settings

    settings = Settings(database_url=loaded, map_inline_units=5, map_tiles="none",
                        _env_file=None)
    tiles = TileCache()
    with open_store(loaded) as store:
        assert warm(store, settings, CoverageCache(), tiles, "/maps/assets") is True
    kept = tiles.levels()
    kinds = {key[1] for key in kept}
    layers = {key[2] for key in kept}
    assert kinds == {"overview", "coverage"}
    assert {"community", "grid", "catchment-15"} <= layers and "microgrid" not in layers
    names = {(key[2], key[4]) for key in kept if key[1] == "overview"}
    assert {("grid", False), ("grid", True)} <= names
    for level in kept.values():
        for z in WARM_ZOOMS:
            assert all((z, x, y) in level._tiles for x, y in tiles_covering(level.bounds, z))


def test_health_says_when_the_caches_are_warm(loaded, tmp_path):
    """/health tells a load balancer or an operator when the current release's maps and plan
    base are prepared (WANGGE_WARM_MAPS); with nothing to prepare, warming is done at once."""
    import time

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    for url, expected in ((loaded, "done"), (empty, "done")):
        with api_client(url, role=None, warm_maps=True) as c:
            deadline = time.monotonic() + 120
            while (state := c.get("/health").json()["warm"]) == "warming":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert state == expected
            if url == loaded:   # both caches were filled in the background
                app = c.app
                assert app.state.plans._base is not None
    with api_client(loaded, role=None) as c:
        assert c.get("/health").json()["warm"] == "off"


def test_a_write_is_followed_by_a_warm_up(loaded):
    """After a site is retired, the service warms again (once the store has settled): the
    next leader's coverage is already computed for the new revisions."""
    import time

    with api_client(loaded, role="planner", warm_maps=True, rewarm_settle_s=0.0,
                    refresh_poll_s=0.1) as c:
        warmer, cache = c.app.state.warmer, c.app.state.coverage

        def settled(runs: int) -> None:
            deadline = time.monotonic() + 120
            while warmer.runs < runs or c.get("/health").json()["warm"] != "done":
                assert time.monotonic() < deadline, warmer.state
                time.sleep(0.1)

        settled(1)
        key = cache._key
        site = c.get("/v1/sites").json()["features"][0]["properties"]["site_id"]
        assert c.post(f"/v1/sites/{site}/retire").status_code == 200
        settled(2)
        assert cache._key != key
        with open_store(loaded) as store:
            assert cache._key[1] == tuple(store.revisions().items())   # warmed for the write
        assert warmer.runs == 2


def test_what_is_drawn_from_a_coverage_does_not_keep_an_old_one_alive():
    """Pages and drawings are kept for the latest coverage only: a newer one (after a write)
    replaces them, and the old coverage, over a gigabyte in a city, can be freed."""
    import gc
    import weakref

    from wangge.map_pages import _PerCoverage

    class Cov:
        pass

    kept = _PerCoverage(8)
    old, new = Cov(), Cov()
    made = []
    assert kept.get(old, ("zh",), lambda: made.append(1) or "page") == "page"
    assert kept.get(old, ("zh",), lambda: made.append(1) or "again") == "page" and made == [1]
    gone = weakref.ref(old)
    kept.get(new, ("zh",), lambda: "new page")
    del old
    gc.collect()
    assert gone() is None
    assert kept.get(new, ("zh",), lambda: "other") == "new page"
    for i in range(10):                                   # at most ``size`` per coverage
        kept.get(new, (i,), lambda: "x")
    assert len(kept._kept) == 8


def test_coverage_page_is_drawn_once_per_coverage(loaded, monkeypatch):
    """The page holds no personal data: drawn once, sent to every role alike, and drawn again
    as soon as a write (a site retired through the API here) changes its coverage."""
    import wangge.map_pages

    drawn = []
    draw = wangge.map_pages.coverage_map
    monkeypatch.setattr(wangge.map_pages, "coverage_map",
                        lambda *a, **k: drawn.append(1) or draw(*a, **k))
    with api_client(loaded, role="planner") as c:
        first = c.get("/maps/coverage", params={"tiles": "none"})
        assert first.status_code == 200 and len(drawn) == 1
        site = c.get("/v1/sites").json()["features"][0]["properties"]["site_id"]
        viewer = {"X-API-Key": make_key(loaded, "viewer")}
        again = c.get("/maps/coverage", params={"tiles": "none"}, headers=viewer)
        assert again.text == first.text and len(drawn) == 1
        english = c.get("/maps/coverage", params={"tiles": "none", "lang": "en"})
        assert english.text != first.text and len(drawn) == 2
        assert c.post(f"/v1/sites/{site}/retire").status_code == 200
        after = c.get("/maps/coverage", params={"tiles": "none"})
        assert len(drawn) == 3 and after.text != first.text
