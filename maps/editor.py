"""The planner's editor: plain HTML pages over the plans API, Chinese first.

Two pages, built from the static files in ``maps/editor-files/`` (package data): the list of plans
(``/maps/plans``: open one or start one) and the editor of one plan (``/maps/plans/{id}``):
Leaflet with Leaflet-Geoman (drawing, snapping to the drawn vertices) from the local assets,
and the side panel. Every action is a call to ``/v1/plans/...``; the page holds no rule of its
own: what an edit may do, and what it changed, is the API's answer. Unlike the other maps these
are not folium maps (an editor is a program, not a rendered picture); they share the assets,
the base maps and the ``lang`` parameter.

The words the pages show are in :data:`TEXTS` (one table, Simplified Chinese then English),
handed to the page's script as JSON together with the plan id, the caller's role and the base
map.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from wangge.maps.assets import asset_url
from wangge.maps.tiles import basemap

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("网格规划编辑器", "Grid plan editor"),
    "plans_title": ("规划方案", "Plans"),
    "plans_intro": ("方案是基于某个版本的边界草稿：逐步编辑、检查，再由管理员发布为新版本。",
                    "A plan is a draft over a release: edited and checked step by step, then "
                    "published as a new release by an administrator."),
    "new_plan": ("新建方案", "New plan"),
    "plan_title_ph": ("方案名称，如“2027 年网格调整”", "Title, e.g. 2027 grid review"),
    "create": ("新建", "Create"),
    "open": ("打开", "Open"),
    "status": ("状态", "Status"),
    "edits": ("编辑数", "Edits"),
    "updated": ("更新时间", "Updated"),
    "base_release": ("基础版本", "Base release"),
    "no_plans": ("还没有方案。", "No plans yet."),
    "back": ("全部方案", "All plans"),
    "language": ("English", "中文"),
    "mode_select": ("选择", "Select"),
    "mode_paint": ("刷入微网格", "Paint micro-grids"),
    "mode_split": ("画线分割", "Split along a line"),
    "mode_reshape": ("重绘边界", "Redraw outline"),
    "mode_merge": ("合并网格", "Merge grids"),
    "cut": ("切开微网格", "Cut micro-grids"),
    "snap": ("吸附顶点", "Snap to vertices"),
    "lock": ("锁定", "Lock"),
    "unlock": ("解锁", "Unlock"),
    "undo": ("撤销", "Undo"),
    "redo": ("重做", "Redo"),
    "partition": ("自动划分", "Auto-partition"),
    "min": ("最少户数", "Min households"),
    "max": ("最多户数", "Max households"),
    "accept": ("接受", "Accept"),
    "reject": ("放弃", "Reject"),
    "publish": ("发布为新版本", "Publish as a release"),
    "effective_date": ("生效日期（可空）", "Effective date (optional)"),
    "export": ("导出 GeoPackage", "Export GeoPackage"),
    "import": ("导入桌面 GIS 修改", "Import desktop GIS edits"),
    "imported": ("已导入 {n} 个编辑。", "{n} edits imported."),
    "grids_of": ("社区各网格户数", "Households per grid"),
    "findings": ("校验结果", "Validation findings"),
    "no_findings": ("没有问题。", "No problems."),
    "moves_last": ("本次编辑：住户变动", "Last edit: who moves"),
    "moves_plan": ("整个方案：住户变动", "Whole plan: who moves"),
    "from": ("原网格", "From"),
    "to": ("新网格", "To"),
    "households": ("户数", "Households"),
    "residents": ("人口", "Residents"),
    "no_moves": ("没有住户变动。", "No household moves."),
    "moves_total": ("共 {h} 户、{r} 人", "{h} households, {r} residents"),
    "selected": ("已选", "Selected"),
    "brush": ("画笔网格", "Brush grid"),
    "none": ("（无）", "(none)"),
    "pick_grid": ("请先选择一个网格。", "Select a grid first."),
    "pick_unit": ("请先选择一个单元。", "Select a unit first."),
    "contiguous": ("连通", "contiguous"),
    "parts": ("不连通（{n} 块）", "not contiguous ({n} parts)"),
    "pp": ("紧凑度", "compactness"),
    "hh": ("户", "hh"),
    "locked": ("已锁定", "locked"),
    "errors": ("错误", "errors"),
    "warnings": ("警告", "warnings"),
    "grid_low": ("户数偏少的网格", "grids too small"),
    "grid_high": ("户数偏多的网格", "grids too large"),
    "range": ("范围", "range"),
    "working": ("处理中…", "Working…"),
    "done_ms": ("完成（{ms} 毫秒）", "Done ({ms} ms)"),
    "key_needed": ("需要 API 密钥：", "An API key is needed:"),
    "key_save": ("保存", "Save"),
    "log_in": ("或登录", "or log in"),
    "paint_hint": ("按住鼠标拖过微网格，松开后它们划入画笔网格。",
                   "Hold the mouse down and drag over micro-grids; on release they go to the "
                   "brush grid."),
    "split_hint": ("画一条穿过所选网格的线，再点一次最后一点结束。",
                   "Draw a line across the selected grid; click the last point again to finish."),
    "reshape_hint": ("画出所选单元的新边界，点击第一个点闭合。新边界在服务端吸附到相邻单元。",
                     "Draw the selected unit's new outline; click the first point to close it. "
                     "The server snaps it to the neighbours."),
    "merge_hint": ("点击要并入所选网格的另一个网格（或其微网格）。",
                   "Click the grid (or one of its micro-grids) to merge into the selected grid."),
    "select_hint": ("点击微网格选中它及其网格；点击右侧条形选网格。",
                    "Click a micro-grid to select it and its grid; click a bar to pick a grid."),
    "proposal": ("自动划分建议", "Proposed partition"),
    "proposal_groups": ("建议 {n} 个网格（颜色），接受后成为一次编辑。",
                        "{n} grids proposed (colours); accepting makes it one edit."),
    "verdict_feasible": ("每个网格都在范围内。", "Every grid is within the range."),
    "verdict_unsolved": ("仍有网格超出范围。", "Some grids are still out of range."),
    "verdict_infeasible": ("无法满足该范围：", "The range cannot be met:"),
    "proposal_moved": ("需调整 {n} 户。", "{n} households change grid."),
    "published": ("已发布为版本 {id}。", "Published as release {id}."),
    "read_only": ("只读：当前角色不能编辑。", "Read only: this role cannot edit."),
    "not_draft": ("方案不是草稿，不能编辑。", "The plan is not a draft; it cannot be edited."),
    "community": ("社区", "Community"),
    "notes": ("说明", "Notes"),
    "new_grid": ("新网格", "new grid"),
    "tiles_shifted": ("该底图为 GCJ-02 坐标，编辑器不使用；已改为无底图。",
                      "That base map is in GCJ-02; the editor does not use it (no base map)."),
    "shortcut": ("快捷键：Ctrl+Z 撤销，Ctrl+Y 重做，Esc 取消绘制。",
                 "Keys: Ctrl+Z undo, Ctrl+Y redo, Esc cancels drawing."),
}

_FILES = resources.files("wangge.maps") / "editor-files"  # not "editor": that is this module


def text(key: str, lang: str) -> str:
    zh, en = TEXTS[key]
    return zh if lang == "zh" else en


def _file(name: str) -> str:
    return (_FILES / name).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def _tiles(name: str, key: str | None, lang: str) -> tuple[list[dict[str, Any]], str | None]:
    """Tile layers for the editor: only base maps drawn in WGS-84/CGCS2000 (drawn coordinates
    go to the API as they are; a GCJ-02 base map would put every vertex hundreds of metres
    off)."""
    chosen = basemap(name, key)
    if chosen.offset is not None:
        return [], text("tiles_shifted", lang)
    return [{"url": t.url, "attribution": t.attribution, "subdomains": t.subdomains,
             "maxZoom": t.max_zoom} for t in chosen.layers], None


def _page(template: str, *, lang: str, title: str, config: dict[str, Any],
          assets: str | None, scripts: tuple[str, ...], leaflet: bool) -> str:
    css, js = [], []
    if leaflet:
        for name in ("leaflet_css", "geoman_css"):
            css.append(f'<link rel="stylesheet" href="{html.escape(asset_url(name, assets))}">')
        for name in ("leaflet", "geoman_js"):
            js.append(f'<script src="{html.escape(asset_url(name, assets))}"></script>')
    texts = {k: text(k, lang) for k in TEXTS}
    parts = {
        "lang": "zh-CN" if lang == "zh" else "en", "title": html.escape(title),
        "links": "\n".join(css + js), "style": _file("editor.css"),
        "config": _script_json({**config, "lang": lang, "texts": texts}),
        "scripts": "\n".join(f"<script>\n{_file(s)}\n</script>" for s in scripts),
    }
    # one pass: what is put in is never searched again
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _file(template))


def editor_page(plan_id: int, *, lang: str = "zh", role: str = "viewer",
                assets: str | None = None, tiles: str = "none",
                tianditu_key: str | None = None) -> str:
    """The editor of plan ``plan_id`` as an HTML string. ``role`` is the caller's (the page
    shows the tools that role may use; the API decides), ``assets`` the local assets' URL
    (None: the CDN)."""
    layers, note = _tiles(tiles, tianditu_key, lang)
    config = {"planId": plan_id, "role": role, "api": "/v1", "tiles": layers, "tilesNote": note}
    return _page("editor.html", lang=lang, title=f"{text('title', lang)} · {plan_id}",
                 config=config, assets=assets, scripts=("common.js", "editor.js"), leaflet=True)


def plans_page(*, lang: str = "zh", role: str = "viewer") -> str:
    """The list of plans (open one, start one) as an HTML string."""
    config = {"role": role, "api": "/v1"}
    return _page("plans.html", lang=lang, title=text("plans_title", lang), config=config,
                 assets=None, scripts=("common.js", "plans.js"), leaflet=False)
