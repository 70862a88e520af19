"""Map files are self-contained: Leaflet and its plugins inline, opened with every request blocked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pytest

from wangge.maps import assets
from wangge.maps.base import finish, new_map, render_html
from wangge.maps.overview import UnitCounts, overview
from wangge.maps.unit import unit

MAP = "window[document.querySelector('.folium-map').id]"
SRC = re.compile(r"""<(?:script|img)[^>]*\ssrc=["']?([^"' >]+)|<link[^>]*\shref=["']?([^"' >]+)""",
                 re.IGNORECASE)


def _external(page: str) -> list[str]:
    return [a or b for a, b in SRC.findall(page)]


def _open_offline(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """Open a file with every network request refused; (page, console errors, refused URLs)."""
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    refused: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page, errors, refused


def test_inline_replaces_cdn_links_with_the_local_files(assets_dir: Path) -> None:
    m, _ = new_map("离线", tiles="none")
    folium.plugins.MarkerCluster().add_to(m)
    finish(m, [])
    linked = m.get_root().render()
    assert any(u.startswith("https://cdn.jsdelivr.net/") for u in _external(linked))

    page = assets.inline(linked, assets_dir)
    assert _external(page) == []
    leaflet = (assets_dir / "leaflet/leaflet.js").read_text(encoding="utf-8")
    assert leaflet[:2000] in page
    # leaflet.css's control images and the default marker images travel as data: URIs
    assert "url(images/" not in page and page.count('url("data:image/png;base64,') == 3
    assert "L.Icon.Default.mergeOptions({iconUrl: 'data:image/png;base64," in page
    assert page.count("<style>") >= 3  # leaflet.css, MarkerCluster.css, MarkerCluster.Default.css


def test_inline_keeps_local_links_and_escapes_closing_tags(tmp_path: Path) -> None:
    local = '<script src="/maps/assets/leaflet/leaflet.js"></script>'
    assert assets.inline(local, tmp_path) == local  # a local folder is not the CDN: kept

    # A closing tag inside a file must not end the inline element early.
    for name, text in (("leaflet/leaflet.js", 'var s = "</script><b>";'),
                       ("leaflet/leaflet.css", '.a::after { content: "</style>"; }')):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    page = assets.inline(
        f'<script src="{assets.ASSETS["leaflet"].cdn}"></script>'
        f'<link rel="stylesheet" href="{assets.ASSETS["leaflet_css"].cdn}"/>', tmp_path)
    assert page == ('<script>var s = "<\\/script><b>";</script>'
                    '<style>.a::after { content: "<\\/style>"; }</style>')


def test_without_local_files_the_page_keeps_the_cdn_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    page = f'<script src="{assets.ASSETS["leaflet"].cdn}"></script>'
    with caplog.at_level("WARNING", logger="wangge.maps.assets"):
        assert assets.inline(page, tmp_path / "empty") == page
    assert "python -m wangge.maps.assets" in caplog.text


def _overview_file(demo: gpd.GeoDataFrame, out: Path) -> Path:
    micro = demo[demo["level"] == "microgrid"]["code"]
    counts = {c: UnitCounts(households=40 + i % 30, covered=(i * 7) % 40)
              for i, c in enumerate(micro)}
    out.write_text(render_html(overview(demo, counts, tiles="none")), encoding="utf-8")
    return out


def test_written_overview_works_with_all_network_blocked(
        assets_dir: Path, browser: Any, demo: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = _overview_file(demo, tmp_path / "overview.html")  # what `wangge map overview` writes
    assert _external(path.read_text(encoding="utf-8")) == []
    page, errors, refused = _open_offline(browser, path)
    try:
        assert page.evaluate("() => typeof window.L") == "object"
        assert errors == [] and refused == []
        drawn = page.evaluate(f"""() => {{ let n = 0;
            {MAP}.eachLayer(l => {{ if (l.feature) n += 1; }}); return n; }}""")
        assert drawn >= (demo["level"] == "grid").sum()  # the shaded level at least
        assert page.evaluate("() => document.querySelectorAll('.leaflet-control-layers').length") == 1
    finally:
        page.close()


def test_written_unit_map_clusters_and_marker_images_work_offline(
        assets_dir: Path, browser: Any, demo: gpd.GeoDataFrame, tmp_path: Path) -> None:
    grid = demo[demo["level"] == "grid"].iloc[[0]]
    children = demo[demo["parent_code"] == grid["code"].iloc[0]]
    centre = grid.geometry.iloc[0].representative_point()
    rng = np.random.default_rng(15)
    households = np.column_stack([centre.x + rng.normal(0, 2e-4, 60),
                                  centre.y + rng.normal(0, 2e-4, 60)])
    m = unit(grid, children, households, tiles="none")
    folium.Marker([centre.y, centre.x]).add_to(m)  # Leaflet's default marker image
    path = tmp_path / "unit.html"
    path.write_text(render_html(m), encoding="utf-8")
    page, errors, refused = _open_offline(browser, path)
    try:
        assert errors == [] and refused == []
        assert page.evaluate("() => typeof L.markerClusterGroup") == "function"
        clustered = page.evaluate(f"""() => {{ let n = 0; {MAP}.eachLayer(l => {{
            if (l instanceof L.MarkerClusterGroup) n += l.getLayers().length; }}); return n; }}""")
        assert clustered == len(households)
        assert page.evaluate("() => document.querySelectorAll('.wg-cluster').length") >= 1
        icons = page.evaluate("() => [...document.querySelectorAll('img.leaflet-marker-icon')]"
                              ".map(i => [i.src, i.complete && i.naturalWidth])")
        assert icons and all(src.startswith("data:image/png;base64,") and width == 25
                             for src, width in icons)
    finally:
        page.close()


def test_written_heat_map_works_offline(assets_dir: Path, browser: Any, demo: gpd.GeoDataFrame,
                                        tmp_path: Path) -> None:
    grid = demo[demo["level"] == "grid"].iloc[[0]]
    centre = grid.geometry.iloc[0].representative_point()
    households = np.column_stack([np.full(50, centre.x), np.full(50, centre.y)])
    path = tmp_path / "heat.html"
    path.write_text(render_html(unit(grid, None, households, heat_above=10, tiles="none")),
                    encoding="utf-8")
    page, errors, refused = _open_offline(browser, path)
    try:
        assert errors == [] and refused == []
        assert page.evaluate(f"() => {{ let n = 0; {MAP}.eachLayer(l => {{ if (l._heat) n++; }}); "
                             "return n; }") == 1
    finally:
        page.close()


def test_files_of_another_version_count_as_missing(assets_dir: Path, tmp_path: Path) -> None:
    """An older wangge's cache (another ReDoc, say) is fetched again, not served as it is."""
    copy = tmp_path / "assets"
    shutil.copytree(assets_dir, copy)
    assert assets.missing(copy) == [] and assets.docs_missing(copy) == []
    spec = assets.NPM_FILES["redoc"][0]
    (copy / "redoc" / assets.STAMP).write_text(spec.replace(assets.REDOC, "2.5.4"))
    assert assets.docs_missing(copy) == [assets.DOCS_ASSETS["redoc_js"].local]
    (copy / "redoc" / assets.STAMP).unlink()          # a cache written before the stamps
    assert assets.docs_missing(copy) == [assets.DOCS_ASSETS["redoc_js"].local]
    assert assets.missing(copy) == []
    (copy / "leaflet" / assets.STAMP).unlink()
    assert "leaflet/leaflet.js" in assets.missing(copy)
