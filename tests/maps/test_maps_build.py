"""Map builders without a browser: inputs, texts, coordinates, simplification, size, privacy."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from folium.plugins import Fullscreen, MarkerCluster

from wangge.geo import chinacoords
from wangge.geo.errors import InputError
from wangge.maps import assets, labels
from wangge.maps.landing import landing
from wangge.maps.overview import UnitCounts, overview
from wangge.maps.simplify import rounded, simplify_coverage
from wangge.maps.tiles import TILE_CHOICES, basemap, display_geoms, display_xy

MAX_HTML_BYTES = 3_000_000


def test_every_text_has_both_languages() -> None:
    assert labels.check_complete() == []
    assert labels.text("grid") == "网格"
    assert labels.text("grid", "en") == "Grids"
    assert labels.text("catchment", "zh", minutes=15) == "15分钟服务圈"
    with pytest.raises(InputError):
        labels.text("grid", "fr")


def test_tile_choices_and_attribution() -> None:
    expected = {"osm": "OpenStreetMap", "amap": "高德", "tencent": "腾讯", "tianditu": "天地图"}
    for name in TILE_CHOICES:
        bm = basemap(name, key="abc123")
        if name == "none":
            assert bm.layers == ()
            continue
        assert all(expected[name] in layer.attribution for layer in bm.layers)
    assert basemap("amap").offset == basemap("tencent").offset == "gcj02"
    assert basemap("osm").offset is None and basemap("tianditu", "k1").offset is None
    assert [("LAYER=vec" in t.url, "LAYER=cva" in t.url) for t in basemap("tianditu", "k1").layers] \
        == [(True, False), (False, True)]
    with pytest.raises(InputError):
        basemap("tianditu")
    with pytest.raises(InputError):
        basemap("google")


def test_shift_to_tiles_happens_for_gcj02_only() -> None:
    lon, lat = np.array([120.16, 120.4]), np.array([33.38, 33.5])
    glon, glat = chinacoords.wgs84_to_gcj02(lon, lat)
    for name in ("amap", "tencent"):
        x, y = display_xy(lon, lat, basemap(name))
        assert np.allclose(x, glon, atol=1e-12) and np.allclose(y, glat, atol=1e-12)
        poly = display_geoms([shapely.Polygon([(lon[0], lat[0]), (lon[1], lat[0]), (lon[1], lat[1])])],
                             basemap(name))[0]
        assert np.allclose(shapely.get_coordinates(poly)[0], [glon[0], glat[0]], atol=1e-12)
    for name in ("osm", "none"):
        x, y = display_xy(lon, lat, basemap(name))
        assert np.array_equal(x, lon) and np.array_equal(y, lat)
    assert np.hypot(glon[0] - lon[0], glat[0] - lat[0]) > 1e-3  # hundreds of metres


def test_coverage_simplify_keeps_shared_borders(demo: gpd.GeoDataFrame) -> None:
    micro = np.asarray(demo[demo["level"] == "microgrid"].geometry.values, dtype=object)
    simple = simplify_coverage(micro, 5.0)
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(micro).sum()
    assert shapely.coverage_is_valid(simple)
    # Only vertices are removed: every remaining vertex is a stored one (to ~1e-9 degree).
    stored = shapely.get_coordinates(micro)
    tree = shapely.STRtree(shapely.points(stored))
    kept = shapely.points(shapely.get_coordinates(simple))
    _, dist = tree.query_nearest(kept, return_distance=True)
    assert dist.max() < 1e-8
    r = shapely.get_coordinates(rounded(simple))
    assert np.allclose(r, np.round(r, 6), atol=0, rtol=0)


def _counts(demo: gpd.GeoDataFrame) -> dict[str, UnitCounts]:
    micro = demo[demo["level"] == "microgrid"]["code"]
    return {c: UnitCounts(households=40 + i % 30, covered=(i * 7) % 40) for i, c in enumerate(micro)}


def test_overview_of_demo_is_small_and_private(demo: gpd.GeoDataFrame) -> None:
    grids = demo[demo["level"] == "grid"]["code"].tolist()
    workers = {g: [f"网格员甲{i:03d}"] for i, g in enumerate(grids)}
    m = overview(demo, _counts(demo), workers, link=lambda c: f"/maps/unit/{c}", tiles="none",
                 assets="/maps/assets")
    assert isinstance(m, folium.Map)
    html = m.get_root().render()
    assert len(html.encode()) < MAX_HTML_BYTES
    name = json.dumps("网格员甲000")[1:-1]  # as folium embeds it (\\u escapes)
    assert name not in html and "网格员甲000" not in html  # personal data: only when asked
    assert "/maps/assets/leaflet/leaflet.js" in html
    assert not re.search(r"https?://(cdn|code\.jquery|netdna|cdnjs)", html)  # offline-ready
    shown = overview(demo, _counts(demo), workers, show_workers=True, tiles="none").get_root().render()
    assert name in shown


def test_overview_aggregates_and_refuses_bad_input(demo: gpd.GeoDataFrame) -> None:
    m = overview(demo, _counts(demo), level="street", shade="coverage", lang="en", tiles="none")
    html = m.get_root().render()
    street = demo[demo["level"] == "street"]["code"].iloc[0]
    total = sum(v.households for c, v in _counts(demo).items() if c.startswith(street))
    assert total > 0
    assert f'"c": "{street}"' in html and f'"h": {total}' in html
    with pytest.raises(InputError):
        overview(demo, shade="population")
    with pytest.raises(InputError):
        overview(demo.to_crs(3857))
    with pytest.raises(ValueError):
        overview(demo, link=lambda c: "javascript:alert(1)")


def test_user_text_cannot_break_out_of_the_script(demo: gpd.GeoDataFrame) -> None:
    units = demo[demo["level"].isin(["street"])].copy()
    units.loc[units.index[0], "name"] = "</script><script>alert(1)</script>"
    html = overview(units, level="street", tiles="none").get_root().render()
    assert "<script>alert(1)" not in html


def test_assets_are_rewritten_and_unknown_links_refused() -> None:
    m = folium.Map(tiles=None)
    MarkerCluster().add_to(m)
    html = assets.use_assets(m, "/a").get_root().render()
    assert "/a/markercluster/leaflet.markercluster.js" in html and "jquery" not in html
    bad = folium.Map(tiles=None)
    Fullscreen().add_to(bad)
    with pytest.raises(ValueError):
        assets.use_assets(bad, "/a")


def test_landing_lists_the_maps_chinese_first() -> None:
    page = landing()
    assert page.index("网格总览") < page.index("Grid overview")
    assert 'lang="zh-CN"' in page and 'href="coverage"' in page
    en = landing(lang="en", district="亭湖区<")
    assert en.index("Grid overview") < en.index("网格总览") and "亭湖区&lt;" in en


def test_overview_without_figures_says_no_data(demo: gpd.GeoDataFrame) -> None:
    html = overview(demo, tiles="none").get_root().render()
    assert json.dumps("无数据")[1:-1] in html and "0 – 0" not in html


def test_uncovered_ground_only_where_uncovered_households_live() -> None:
    from wangge.geo.crs import metric_crs_of, to_metric
    from wangge.maps.coverage import near_households

    # Two uncovered squares of about 1 km; households in the first only.
    areas = np.array([shapely.box(120.10, 33.30, 120.11, 33.31),
                      shapely.box(120.20, 33.30, 120.21, 33.31)], dtype=object)
    homes = np.array([[120.105, 33.305], [120.1052, 33.3051], [120.1099, 33.3099]])
    ground = near_households(areas, homes, 150.0)
    assert len(ground) >= 1
    metric = metric_crs_of(areas)
    ground_m = to_metric(ground, metric)
    areas_m = to_metric(areas, metric)
    homes_m = to_metric(shapely.points(homes), metric)
    assert shapely.union_all(ground_m).area < 0.2 * areas_m[0].area
    assert not shapely.intersects(shapely.union_all(ground_m), areas_m[1])
    assert shapely.union_all(ground_m).difference(areas_m[0]).area < 1.0  # never outside
    # Every piece is within 150 m of a household (plus the buffer's polygon error).
    assert shapely.distance(shapely.union_all(ground_m), shapely.union_all(homes_m)) == 0
    far = shapely.union_all(shapely.buffer(homes_m, 151.0))
    assert shapely.union_all(ground_m).difference(far).area < 1.0
    assert len(near_households(areas, np.empty((0, 2)), 150.0)) == 0


def test_unit_page_has_title_labels_and_legend_escaped(demo: gpd.GeoDataFrame) -> None:
    from wangge.maps.unit import unit

    grid = demo[demo["level"] == "grid"].iloc[0].to_dict()
    children = demo[demo["parent_code"] == grid["code"]].copy()
    children.loc[children.index[0], "name"] = "</script><script>alert(1)</script>"
    html = unit(grid, children, tiles="none", lang="en").get_root().render()
    assert "<script>alert(1)" not in html
    assert "wg-map-title" in html and f"code {grid['code']}" in html
    assert "Micro-grids within" in html and "wg-label-microgrid" in html


def test_coverage_in_english_leads_with_grids(demo: gpd.GeoDataFrame) -> None:
    from tests.maps.test_maps_browser import _synthetic_coverage
    from wangge.maps.coverage import coverage

    data = _synthetic_coverage(demo)
    html = coverage(**data, lang="en", tiles="none").get_root().render()
    for words in ("Grid coverage (share of households within 15 min)", "Share within",
                  "Share covered 80% \\u2013 100%", "5-minute circle edge",
                  "Uncovered ground where people live"):
        assert words in html or words.replace("\\u2013", "–") in html, words
    assert len(html.encode()) < MAX_HTML_BYTES
    # Without per-grid figures the grids are outlines and no switch is drawn.
    plain = coverage(**{**data, "unit_stats": None}, tiles="none").get_root().render()
    shaded = coverage(**data, tiles="none").get_root().render()
    assert 'name="wg-share"' not in plain and 'name="wg-share"' in shaded


@pytest.mark.parametrize("z", [1, 5, 9, 12])
def test_tiles_covering_an_area_are_exactly_those_meeting_it(z: int) -> None:
    from wangge.maps.lod import tile_bounds, tiles_covering

    area = (120.05, 33.15, 120.55, 33.62)                      # about the demo city's box
    got = set(tiles_covering(area, z))
    n = 2 ** (z - 1)
    box = shapely.box(*area)
    near = {(x, y) for x in range(n) for y in range(n)
            if shapely.intersects(shapely.box(*tile_bounds(z, x, y)), box)} if n <= 2048 else None
    # every tile found meets the area, and (where checked against all) none is missed
    assert all(shapely.intersects(shapely.box(*tile_bounds(z, x, y)), box) for x, y in got)
    assert near is None or got == near
