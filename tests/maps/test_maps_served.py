"""The maps as the service serves them: real uvicorn on loopback, real Chromium, roles applied.

Leaflet comes from the service's own ``/maps/assets/``; every request leaving the service
(tiles aside, answered with a blank tile) is refused, so a page that needs the internet fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.maps.conftest import READY_JS, SCREENSHOTS, TILE_HOSTS, TILE_PNG, VIEWPORT
from tests.maps.test_maps_browser import FIND_UNIT, LAYER_NAMES, MAP
from tests.serving import served as serve
from wangge.api.app import create_app
from wangge.coverage import store_network
from wangge.demo.district import build_demo
from wangge.demo.network import build_demo_network
from wangge.demo.register import build_register
from wangge.demo.sites import build_demo_sites
from wangge.demo.workers import build_workers
from wangge.households import import_register
from wangge.settings import Settings
from wangge.store import open_store

# Worker names carried by the drawn units (property "p" of a unit's feature).
DRAWN_NAMES = f"""() => {{
  const names = []; {MAP}.eachLayer(l => {{
    if (l.feature && l.feature.properties.p) names.push(...l.feature.properties.p); }});
  return names;
}}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory, assets_dir) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('served') / 'wangge.db'}"
    units = build_demo(n_streets=3, n_communities=10, n_grids=40, n_microgrids=250)
    with open_store(url) as store:
        store.create_release(units, source="demo", make_current=True,
                             effective_date=date(2026, 1, 1))
        store.replace_workers(*build_workers(units))
        reg = build_register(units, n_households=2000, seed=3)
        store.create_gazetteer(reg.compounds, reg.buildings, source="demo")
        register = tmp_path_factory.mktemp("register") / "households.csv"
        reg.households.to_csv(register, index=False)
        import_register(store, register)
        store.import_sites(build_demo_sites(units, reg), source="demo")
        store_network(store, build_demo_network(units), release_id=1, source="demo")
        _, viewer = store.create_key("maps viewer", "viewer")
        _, planner = store.create_key("maps planner", "planner")
    app = create_app(Settings(database_url=url, _env_file=None))
    with serve(app) as base:
        yield {"base": base, "units": units, "viewer": viewer, "planner": planner, "url": url}


def _open(browser, served, path: str, key: str, shot: str) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport=VIEWPORT, extra_http_headers={"X-API-Key": key})
    errors: list[str] = []
    blocked: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(served["base"]):
            r.continue_()
        elif any(h in url for h in TILE_HOSTS):
            r.fulfill(status=200, content_type="image/png", body=TILE_PNG)
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(served["base"] + path, wait_until="commit")
    assert response.status == 200, path
    page.evaluate(READY_JS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"))
    return page, errors, blocked


def test_served_overview_draws_levels_offline(browser, served):
    units = served["units"]
    code = units.loc[units["level"] == "grid", "code"].iloc[2]
    page, errors, blocked = _open(browser, served, "/maps/overview?tiles=none", served["viewer"],
                                  "served-overview")
    assert errors == [] and blocked == []
    layers = page.evaluate(LAYER_NAMES)
    assert any("街道" in name for name in layers) and any("微网格" in name for name in layers)
    assert page.evaluate(FIND_UNIT, code)
    assert page.evaluate(DRAWN_NAMES) == []             # viewers get no worker names
    page.close()


def test_served_pages_for_planner_unit_validation_and_landing(browser, served):
    units = served["units"]
    grid = units.loc[units["level"] == "grid", "code"].iloc[0]
    page, errors, blocked = _open(browser, served, "/maps/overview?tiles=osm&lang=en",
                                  served["planner"], "served-overview-planner")
    assert errors == [] and blocked == []
    drawn = set(page.evaluate(DRAWN_NAMES))              # entitled: the names are on the page
    assert drawn and drawn <= set(build_workers(units)[1]["name"])
    page.close()
    with open_store(served["url"]) as store:
        assert any(e["action"].startswith("read worker names") for e in store.audit_entries())
    for path, shot in ((f"/maps/units/{grid}?tiles=amap", "served-unit"),
                       ("/maps/validation?tiles=none", "served-validation"),
                       ("/maps/coverage?tiles=none&suggest=2", "served-coverage"),
                       ("/maps/", "served-landing")):
        page, errors, blocked = _open(browser, served, path, served["viewer"], shot)
        assert errors == [] and blocked == [], path
        page.close()


def test_served_coverage_map_has_its_layers(browser, served):
    page, errors, blocked = _open(browser, served, "/maps/coverage?tiles=none&suggest=2",
                                  served["viewer"], "served-coverage-layers")
    assert errors == [] and blocked == []
    layers = page.evaluate(LAYER_NAMES)
    for expected in ("15分钟服务圈", "10分钟服务圈", "5分钟服务圈", "服务站点", "建议新增站点"):
        assert any(expected in name for name in layers), (expected, layers)
    page.close()


# Levels loaded in tiles: how many units of a level are drawn, by level, without duplicates.
DRAWN_BY_LEVEL = f"""() => {{
  const seen = {{}}; {MAP}.eachLayer(l => {{
    if (l.feature && l.feature.properties.l && l.getLatLngs) {{
      const p = l.feature.properties; (seen[p.l] = seen[p.l] || []).push(p.c); }} }});
  return seen;
}}"""
SETTLED = """() => new Promise(resolve => {
  const check = () => (window.wgPending || 0) === 0
    ? requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)))
    : setTimeout(check, 20);
  setTimeout(check, 50);
})"""
NOTE = """() => { const n = document.querySelector('.wg-note');
  return n && n.style.display !== 'none' ? n.textContent : ''; }"""


@pytest.fixture(scope="module")
def served_tiled(served) -> Iterator[dict[str, Any]]:
    """The same store served with every level of more than 30 units in tiles (grids and
    micro-grids here: 40 and 250), as a city's are."""
    app = create_app(Settings(database_url=served["url"], map_inline_units=30, _env_file=None))
    with serve(app) as base:
        yield {**served, "base": base}


def _set_layer(page: Any, name: str, on: bool) -> None:
    page.evaluate("""([name, on]) => {
      document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(l => {
        const input = l.querySelector('input');
        if (l.textContent.trim().startsWith(name) && input.checked !== on) input.click(); });
    }""", [name, on])


def test_served_levels_in_tiles_load_by_view_and_zoom(browser, served_tiled):
    units = served_tiled["units"]
    grids = set(units.loc[units["level"] == "grid", "code"])
    micro = set(units.loc[units["level"] == "microgrid", "code"])
    page, errors, blocked = _open(browser, served_tiled, "/maps/overview?tiles=none",
                                  served_tiled["planner"], "served-tiled-overview")
    html = page.content()
    assert not any(code in html for code in list(micro)[:50])  # not inlined
    page.evaluate(SETTLED)
    page.screenshot(path=str(SCREENSHOTS / "served-tiled-overview-loaded.png"))
    drawn = page.evaluate(DRAWN_BY_LEVEL)
    # The whole district is in view: every grid once, shaded, with its figures and names.
    assert sorted(drawn["grid"]) == sorted(grids)
    assert "microgrid" not in drawn                      # switched off: nothing fetched
    assert set(page.evaluate(DRAWN_NAMES)) <= set(build_workers(units)[1]["name"])
    fills = page.evaluate(f"""() => {{ const f = new Set(); {MAP}.eachLayer(l => {{
      if (l.feature && l.feature.properties.l === 'grid') f.add(l.options.fillColor); }});
      return [...f]; }}""")
    assert len(set(fills) - {"#bdbdbd"}) >= 3            # the classes of the legend
    # Micro-grids on at district zoom: too small to fetch there, the page says to zoom in.
    _set_layer(page, "微网格", True)
    page.evaluate(SETTLED)
    assert "放大到第 12 级" in page.evaluate(NOTE)
    assert "microgrid" not in page.evaluate(DRAWN_BY_LEVEL)
    code = sorted(micro)[len(micro) // 2]
    lon, lat = units.loc[units["code"] == code].geometry.iloc[0].representative_point().coords[0]
    page.evaluate(f"([lat, lon]) => {MAP}.setView([lat, lon], 14, {{animate: false}})", [lat, lon])
    page.evaluate(SETTLED)
    page.screenshot(path=str(SCREENSHOTS / "served-tiled-microgrids.png"))
    drawn = page.evaluate(DRAWN_BY_LEVEL)
    assert code in drawn["microgrid"] and len(drawn["microgrid"]) == len(set(drawn["microgrid"]))
    assert set(drawn["microgrid"]) < micro and page.evaluate(NOTE) == ""
    assert page.evaluate(FIND_UNIT, code)
    labels = page.evaluate("() => [...document.querySelectorAll('.wg-label-grid')].length")
    assert labels > 0                                    # names come with the tiles
    # Back out: the micro-grids go, the grids come back at the coarser zoom.
    page.evaluate(f"() => {MAP}.setZoom(10, {{animate: false}})")
    page.evaluate(SETTLED)
    drawn = page.evaluate(DRAWN_BY_LEVEL)
    assert "microgrid" not in drawn and set(drawn["grid"]) <= grids
    assert errors == [] and blocked == []
    page.close()
    with open_store(served_tiled["url"]) as store:
        assert any(e["action"] == "read worker names (overview map tiles)"
                   for e in store.audit_entries())


def test_served_coverage_in_tiles_switches_minutes(browser, served_tiled):
    page, errors, blocked = _open(browser, served_tiled, "/maps/coverage?tiles=none",
                                  served_tiled["viewer"], "served-tiled-coverage")
    page.evaluate(SETTLED)
    colours = f"""() => {{ const f = {{}}; {MAP}.eachLayer(l => {{
      const p = l.feature && l.feature.properties;
      if (p && p.l === 'grid') f[p.c] = l.options.fillColor; }});
      return f; }}"""
    at15 = page.evaluate(colours)
    assert len(at15) == 40
    page.check("input[name=wg-share][value='5']")
    at5 = page.evaluate(colours)
    assert at5.keys() == at15.keys() and at5 != at15    # fewer households within 5 minutes
    assert errors == [] and blocked == []
    page.close()


def test_served_plan_compare_in_tiles_draws_changes_from_the_page(browser, served_tiled):
    import httpx
    import shapely

    units = served_tiled["units"]
    grids = units[units["level"] == "grid"]
    micro = units[units["level"] == "microgrid"]
    # A micro-grid painted into a neighbouring grid of its community: two grids change.
    pick = None
    for row in micro.itertuples():
        for other in grids[grids["parent_code"] == row.code[:12]].itertuples():
            if other.code != row.parent_code and shapely.length(
                    shapely.intersection(row.geometry, other.geometry)) > 1e-4:
                pick = (row.code, other.code, row.parent_code)
                break
        if pick:
            break
    assert pick
    headers = {"X-API-Key": served_tiled["planner"]}
    with httpx.Client(base_url=served_tiled["base"], headers=headers, timeout=60) as client:
        pid = client.post("/v1/plans", json={"title": "tiles"}).json()["id"]
        r = client.post(f"/v1/plans/{pid}/edits", json={"op": "move", "units": [pick[0]],
                                                        "to": pick[1]})
        assert r.status_code == 200, r.text
    page, errors, blocked = _open(browser, served_tiled, f"/maps/plans/{pid}/compare?tiles=none",
                                  served_tiled["planner"], "served-tiled-plan-compare")
    page.evaluate(SETTLED)
    drawn = page.evaluate(f"""() => {{ const out = []; {MAP}.eachLayer(l => {{
      if (l.feature && l.feature.properties.c && l.getLatLngs && l.options.dashArray === null)
        out.push([l.feature.properties.c, !!l.feature.properties.x]); }}); return out; }}""")
    after = [c for c, _ in drawn]
    assert sorted(after) == sorted(grids["code"])        # each grid once, from tiles or page
    assert sorted(c for c, x in drawn if x) == sorted([pick[1], pick[2]])
    assert errors == [] and blocked == []
    page.close()


def test_served_layer_list_folds_on_a_phone(browser, served):
    expanded = "() => document.querySelector('.leaflet-control-layers')" \
               ".classList.contains('leaflet-control-layers-expanded')"
    page, errors, _ = _open(browser, served, "/maps/overview?tiles=none", served["viewer"],
                            "served-overview-desktop")
    assert page.evaluate(expanded)                       # a desktop: the list is open
    page.close()
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            has_touch=True, extra_http_headers={"X-API-Key": served["viewer"]})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(served["base"])
               else r.abort())
    page.goto(served["base"] + "/maps/overview?tiles=none", wait_until="commit")
    page.evaluate(READY_JS)
    page.screenshot(path=str(SCREENSHOTS / "served-overview-phone.png"))
    assert not page.evaluate(expanded)                   # folded to its button
    page.tap(".leaflet-control-layers-toggle")
    assert page.evaluate(expanded)                       # a tap opens it
    assert errors == []
    page.close()
