"""The planner's editor in a real headless Chromium against a real server, with real pointer
events: paint micro-grids by dragging, split along a drawn line, reshape with the server's
snapping, undo and redo from the keyboard, an auto-partition accepted, publishing (admins).

The server is uvicorn on loopback over a small demo district with 3 households per micro-grid
(grids are 10–25 households here, so the bars show both sides of the range). Everything the page
asks for comes from the service itself: no request leaves it (tiles are off). Screenshots go to
artifacts/screenshots/; with WANGGE_DOCS_SCREENSHOTS=1 the README's are updated in docs/ too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import shapely

from tests.api.conftest import SMALL_DEMO
from tests.api.test_api_plans import _with_households
from tests.maps.conftest import ROOT, SCREENSHOTS, VIEWPORT
from tests.serving import served as serve
from wangge.api.app import create_app
from wangge.demo.district import build_demo
from wangge.settings import Settings
from wangge.store import open_store

DOCS = ROOT / "docs"
IDLE = ("() => window.wanggeEditor && document.body.dataset.busy === '0' "
        "&& (document.body.dataset.pending || '0') === '0'")
# Page coordinates of a lon/lat on the editor's map.
AT = """([lon, lat]) => { const p = wanggeEditor.map.latLngToContainerPoint([lat, lon]);
  const r = document.getElementById('map').getBoundingClientRect();
  return [r.left + p.x, r.top + p.y]; }"""
BARS = """() => Object.fromEntries([...document.querySelectorAll('#bars .bar-row')]
  .map(r => [r.dataset.code, {households: Number(r.dataset.households), status: r.dataset.status}]))"""


@pytest.fixture(scope="module")
def editor_site(tmp_path_factory, assets_dir) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('editor') / 'wangge.db'}"
    units = build_demo(**SMALL_DEMO)
    with open_store(url) as store:
        store.create_release(units, source="demo", make_current=True,
                             effective_date=date(2026, 1, 1))
        _, planner = store.create_key("editor planner", "planner")
        _, admin = store.create_key("editor admin", "admin")
    _with_households(url, units)
    app = create_app(Settings(database_url=url, _env_file=None, map_tiles="none",
                              households_range_grid="10,25"))
    with serve(app) as base:
        yield {"base": base, "units": units, "planner": planner, "admin": admin}


def _client(site: dict[str, Any], role: str = "planner") -> httpx.Client:
    return httpx.Client(base_url=site["base"], headers={"X-API-Key": site[role]}, timeout=60)


def _plan(site: dict[str, Any], title: str) -> int:
    with _client(site) as client:
        return client.post("/v1/plans", json={"title": title}).json()["id"]


def _community(units, grids_at_least: int = 3) -> tuple[str, list[str]]:
    grids = units[units["level"] == "grid"]
    counts = grids.groupby("parent_code")["code"].apply(sorted)
    community = next(c for c, g in counts.items() if len(g) >= grids_at_least)
    return community, counts[community]


def _micro(units, grid: str):
    micro = units[(units["level"] == "microgrid") & (units["parent_code"] == grid)]
    return micro.set_index("code").geometry


class Editor:
    """The editor open in a page, with what it requested and logged."""

    def __init__(self, browser: Any, site: dict[str, Any], pid: int, role: str, query: str) -> None:
        self.page = browser.new_page(viewport=VIEWPORT, extra_http_headers={"X-API-Key": site[role]})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.method + " " + r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

        def route(r: Any) -> None:
            (r.continue_ if r.request.url.startswith(site["base"]) else r.abort)()

        self.page.route("**/*", route)
        response = self.page.goto(f"{site['base']}/maps/plans/{pid}?{query}")
        assert response.status == 200
        self.idle()

    def idle(self) -> None:
        self.page.wait_for_function(IDLE, timeout=30_000)

    def at(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.page.evaluate(AT, [lon, lat])
        return x, y

    def bars(self) -> dict[str, dict[str, Any]]:
        return self.page.evaluate(BARS)

    def click_at(self, point: shapely.Point) -> None:
        self.page.mouse.click(*self.at(point.x, point.y))

    def shot(self, name: str, docs: bool = False, show: str | None = None) -> None:
        self.page.mouse.move(400, VIEWPORT["height"] - 5)      # no tooltip in the picture
        if show:
            self.page.locator(show).scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        if docs and os.environ.get("WANGGE_DOCS_SCREENSHOTS"):   # README's pictures, on request
            shutil.copyfile(path, DOCS / f"{name}.png")

    def close(self, refused: tuple[int, ...] = ()) -> None:
        """Close; no error was logged but the browser's own line for a refusal expected."""
        expected = tuple(f"status of {status} " for status in refused)
        assert [e for e in self.errors if not any(x in e for x in expected)] == []
        self.page.close()


def test_paint_by_dragging_then_undo_and_redo_from_the_keyboard(browser, editor_site):
    units = editor_site["units"]
    community, grids = _community(units)
    a, b = grids[0], grids[1]
    pid = _plan(editor_site, "刷入")
    ed = Editor(browser, editor_site, pid, "planner", f"community={community}")
    before = ed.bars()
    assert set(before) == set(grids) and before[a]["households"] == 3 * len(_micro(units, a))
    ed.page.click(f'#bars .bar-row[data-code="{a}"]')          # the brush: grid a
    assert ed.page.inner_text("#sel-brush").endswith(f"（{a}）")
    ed.page.click('[data-mode="paint"]')
    # drag from one micro-grid of b across its neighbour, then release
    micro_b = _micro(units, b)
    m1 = micro_b.index[0]
    m2 = next(c for c, g in micro_b.items() if c != m1 and shapely.length(
        shapely.intersection(g.boundary, micro_b[m1].boundary)) > 0)
    p1, p2 = (shapely.point_on_surface(micro_b[c]) for c in (m1, m2))
    loaded = len(ed.requests)
    ed.page.mouse.move(*ed.at(p1.x, p1.y))
    ed.page.mouse.down()
    ed.page.mouse.move(*ed.at(p2.x, p2.y), steps=12)
    ed.page.mouse.up()
    ed.idle()
    with _client(editor_site) as client:
        (edit,) = client.get(f"/v1/plans/{pid}/edits").json()
    assert edit["op"]["op"] == "move" and edit["op"]["to"] == a
    painted = edit["op"]["units"]
    assert {m1, m2} <= set(painted)
    after = ed.bars()
    assert after[a]["households"] == before[a]["households"] + 3 * len(painted)
    rows = ed.page.locator("#moves-last tbody tr")
    assert rows.count() >= 1 and str(3 * len(painted)) in ed.page.inner_text("#moves-last")
    assert ed.page.locator("#moves-plan tbody tr").count() >= 1
    # only the touched community was fetched again: never the whole district's grids
    again = ed.requests[loaded:]
    assert any(f"within={community}" in r and "level=" not in r for r in again), again
    assert not any("level=grid" in r for r in again), again
    ed.shot("editor-paint", docs=True)
    ed.page.keyboard.press("Control+z")
    ed.idle()
    assert ed.bars() == before
    assert "没有住户变动" in ed.page.inner_text("#moves-plan")
    ed.page.keyboard.press("Control+y")
    ed.idle()
    assert ed.bars()[a]["households"] == after[a]["households"]
    ed.close()


def test_split_along_a_drawn_line(browser, editor_site):
    units = editor_site["units"]
    community, grids = _community(units)
    grid = max(grids, key=lambda g: len(_micro(units, g)))
    geom = units.set_index("code").geometry[grid]
    pid = _plan(editor_site, "分割")
    ed = Editor(browser, editor_site, pid, "planner", f"community={community}&lang=en")
    assert ed.page.inner_text('[data-mode="split"]') == "Split along a line"
    ed.page.click(f'#bars .bar-row[data-code="{grid}"]')
    ed.page.click('[data-mode="split"]')
    minx, miny, maxx, maxy = geom.bounds
    y = shapely.point_on_surface(geom).y
    start, end = (minx - 0.1 * (maxx - minx), y), (maxx + 0.1 * (maxx - minx), y)
    ed.page.mouse.click(*ed.at(*start))
    ed.page.mouse.click(*ed.at(*end))
    ed.page.mouse.click(*ed.at(*end))                          # the last point again: done
    ed.idle()
    bars = ed.bars()
    assert len(bars) == len(grids) + 1, ed.page.inner_text("#message")
    (new,) = set(bars) - set(grids)
    assert bars[new]["households"] > 0 and bars[grid]["households"] > 0
    assert bars[new]["households"] + bars[grid]["households"] == 3 * len(_micro(units, grid))
    with _client(editor_site) as client:
        (edit,) = client.get(f"/v1/plans/{pid}/edits").json()
    assert edit["op"]["op"] == "split" and edit["op"]["cut"] is False
    assert edit["op"]["line"]["type"] == "LineString"
    ed.shot("editor-split")
    ed.close()


def test_reshape_snaps_to_the_neighbours_vertices_and_undo_restores(browser, editor_site):
    units = editor_site["units"]
    community, grids = _community(units)
    micro = units[(units["level"] == "microgrid")
                  & units["parent_code"].isin(grids)].set_index("code").geometry
    # a micro-grid of few vertices whose every vertex another micro-grid also has
    others = shapely.get_coordinates(shapely.union_all([g for c, g in micro.items()]).boundary)
    code = next(c for c, g in micro.items() if shapely.get_num_coordinates(g) <= 9
                and not shapely.intersects(g.boundary, shapely.union_all(
                    units[units["level"] == "community"].geometry.values).boundary))
    ring = shapely.get_coordinates(micro[code].exterior)[:-1]
    shared = {tuple(v) for c, g in micro.items() if c != code
              for v in shapely.get_coordinates(g)}
    assert all(tuple(v) in shared for v in ring) and len(others)
    keep = ring[::2] if len(ring) >= 6 else ring               # a simpler outline: every other vertex
    deg_m = 1 / 111_000                                          # about 1 m off each vertex
    drawn = [(x + 0.6 * deg_m, y + 0.6 * deg_m) for x, y in keep]
    pid = _plan(editor_site, "重绘")
    ed = Editor(browser, editor_site, pid, "planner", f"community={community}")
    ed.click_at(shapely.point_on_surface(micro[code]))        # select the micro-grid
    assert ed.page.evaluate("wanggeEditor.state.selected.code") == code
    ed.page.uncheck("#snap")                                   # the server's snapping, not Geoman's
    ed.page.click('[data-mode="reshape"]')
    for x, y in [*drawn, drawn[0]]:                              # close on the first vertex
        ed.page.evaluate("([x, y]) => wanggeEditor.map.setView([y, x], 19, {animate: false})", [x, y])
        ed.page.mouse.click(*ed.at(x, y))
    ed.idle()
    assert "完成" in ed.page.inner_text("#message"), ed.page.inner_text("#message")
    with _client(editor_site) as client:
        (edit,) = client.get(f"/v1/plans/{pid}/edits").json()
        fc = client.get(f"/v1/plans/{pid}/units", params={"within": code}).json()
    sent = shapely.get_coordinates(shapely.geometry.shape(edit["op"]["outline"]))
    assert all(min(abs(sent[:, 0] - x) + abs(sent[:, 1] - y)) > 0.3 * deg_m for x, y in keep)
    stored = shapely.geometry.shape(fc["features"][0]["geometry"])
    vertices = {tuple(v) for v in shapely.get_coordinates(stored)}
    assert {tuple(v) for v in keep} <= vertices                # exactly the neighbours' vertices
    ed.page.evaluate("() => wanggeEditor.map.fitBounds(L.geoJSON(wanggeEditor.state.communities"
                     f".get('{community}')).getBounds())")
    ed.shot("editor-reshape", docs=True)
    ed.page.click("#undo")
    ed.idle()
    with _client(editor_site) as client:
        fc = client.get(f"/v1/plans/{pid}/units", params={"within": code}).json()
    assert shapely.equals(shapely.geometry.shape(fc["features"][0]["geometry"]), micro[code])
    ed.close()


def test_partition_proposal_accepted_and_publish_by_an_admin(browser, editor_site):
    units = editor_site["units"]
    community, grids = _community(units)
    pid = _plan(editor_site, "自动划分")
    ed = Editor(browser, editor_site, pid, "planner", f"community={community}")
    assert ed.page.locator("#publish-box").is_hidden()           # planners do not publish
    ed.page.fill("#pmin", "12")
    ed.page.fill("#pmax", "21")
    ed.page.click("#partition")
    ed.idle()
    assert ed.page.locator("#proposal").is_visible(), ed.page.inner_text("#message")
    groups = ed.page.evaluate("wanggeEditor.state.proposal.groups")
    assert set(groups) == set(_micro(units, grids[0]).index) | {
        c for g in grids[1:] for c in _micro(units, g).index}
    assert "每个网格都在范围内" in ed.page.inner_text("#proposal-text")
    ed.shot("editor-partition", docs=True, show="#proposal")
    ed.page.click("#accept")
    ed.idle()
    bars = ed.bars()
    assert bars and all(12 <= b["households"] <= 21 for b in bars.values()), bars
    with _client(editor_site) as client:
        (edit,) = client.get(f"/v1/plans/{pid}/edits").json()
    assert edit["op"] == {"op": "regroup", "community": community, "groups": groups}
    ed.close()
    # an administrator publishes it
    ed = Editor(browser, editor_site, pid, "admin", f"community={community}")
    assert ed.page.locator("#publish-box").is_visible()
    with _client(editor_site, "admin") as client:
        current = client.get("/v1/releases").json()
    ed.page.click("#publish")
    ed.idle()
    text = ed.page.inner_text("#message")
    assert "已发布为版本" in text, text
    with _client(editor_site, "admin") as client:
        releases = client.get("/v1/releases").json()
        plan = client.get(f"/v1/plans/{pid}").json()
    assert len(releases) == len(current) + 1 and plan["status"] == "published"
    assert str(plan["published_release_id"]) in text
    assert ed.page.locator("#publish-box").is_hidden()
    ed.shot("editor-published")
    ed.close()


def test_plans_list_opens_and_creates(browser, editor_site):
    page = browser.new_page(viewport=VIEWPORT, extra_http_headers={"X-API-Key": editor_site["planner"]})
    page.goto(f"{editor_site['base']}/maps/plans")
    page.fill("#new-title", "新方案")
    page.click("#new-plan button")
    page.wait_for_url("**/maps/plans/*")
    page.wait_for_function(IDLE)
    assert page.inner_text("#plan-title") == "新方案"
    page.click("#back")
    page.wait_for_selector("#plans tbody a")
    assert "新方案" in page.inner_text("#plans")
    page.close()


def test_lock_refuses_a_paint_then_merge_by_clicking(browser, editor_site, tmp_path):
    units = editor_site["units"]
    community, grids = _community(units)
    a, b = grids[0], grids[1]
    pid = _plan(editor_site, "锁定与合并")
    ed = Editor(browser, editor_site, pid, "planner", f"community={community}")
    before = ed.bars()
    ed.page.click(f'#bars .bar-row[data-code="{b}"]')
    ed.page.click("#lock")
    ed.idle()
    assert ed.page.inner_text("#lock") == "解锁" and "已锁定" in ed.page.inner_text("#bars")
    # painting b's micro-grid into a changes b: refused by the API, shown, nothing changes
    ed.page.click(f'#bars .bar-row[data-code="{a}"]')
    ed.page.click('[data-mode="paint"]')
    m = shapely.point_on_surface(_micro(units, b).iloc[0])
    ed.page.mouse.move(*ed.at(m.x, m.y))
    ed.page.mouse.down()
    ed.page.mouse.up()
    ed.idle()
    assert "已锁定" in ed.page.inner_text("#message") and ed.page.locator("#message.error").count()
    assert ed.bars() == before
    # unlock b, then merge it into a by clicking one of its micro-grids
    ed.page.click('[data-mode="select"]')
    ed.page.click(f'#bars .bar-row[data-code="{b}"]')
    ed.page.click("#lock")
    ed.idle()
    ed.page.click(f'#bars .bar-row[data-code="{a}"]')
    ed.page.click('[data-mode="merge"]')
    ed.click_at(m)
    ed.idle()
    after = ed.bars()
    assert set(after) == set(grids) - {b}
    assert after[a]["households"] == before[a]["households"] + before[b]["households"]
    with _client(editor_site) as client:
        ops = [e["op"] for e in client.get(f"/v1/plans/{pid}/edits").json()]
    assert ops == [{"op": "lock", "units": [b]}, {"op": "unlock", "units": [b]},
                   {"op": "merge", "units": [a, b]}]
    # the GeoPackage round trip through the page: export, then import it back (nothing to do)
    with ed.page.expect_download() as download:
        ed.page.click("#export")
    path = tmp_path / "plan.gpkg"
    download.value.save_as(path)
    ed.page.set_input_files("#import", str(path))
    ed.idle()
    assert "已导入 0 个编辑" in ed.page.inner_text("#message")
    ed.close(refused=(409,))
