"""Interactive maps (HTML pages built with folium) for leaders, Chinese first.

``/maps/`` lists them; each page takes ``lang`` (zh, en) and ``tiles`` (osm, amap, tencent,
tianditu, none). Leaflet is served from ``/maps/assets/`` when its files are in the local cache
(``python -m wangge.maps.assets``), so the maps work on an intranet without internet access.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wangge.api.auth import STAFF, Principal, Staff, require
from wangge.api.deps import ReleaseDep, SettingsDep, StoreDep
from wangge.geo.errors import InputError
from wangge.map_pages import (
    MapOptions,
    compare_map,
    coverage_html,
    overview_map,
    page_options,
    unit_map,
    validation_map,
)
from wangge.map_tiles import KINDS, level_tiles
from wangge.maps.base import render_html
from wangge.maps.editor import editor_page, plans_page
from wangge.maps.landing import landing
from wangge.maps.lod import MAX_ZOOM, MIN_ZOOM, valid_tile
from wangge.maps.tiles import TILE_CHOICES, basemap

router = APIRouter(tags=["maps"], dependencies=[Depends(require(STAFF))])

Lang = Annotated[str, Query(pattern="^(zh|en)$", description="zh（默认）或 en")]
Tiles = Annotated[str | None, Query(pattern="^(" + "|".join(TILE_CHOICES) + ")$",
                                    description="底图 / base map: " + ", ".join(TILE_CHOICES))]
HTML = {200: {"content": {"text/html": {}}, "description": "HTML 页面 / an HTML page"}}


def _options(request: Request, lang: str, tiles: str | None) -> MapOptions:
    return page_options(request.app.state.settings, request.app.state.map_assets, lang, tiles)


@router.get("/", response_class=HTMLResponse, responses=HTML, summary="地图列表 / the maps")
def maps_landing(principal: Staff, lang: Lang = "zh") -> HTMLResponse:
    return HTMLResponse(landing(lang=lang, account=principal.name if principal.by_session else None))


@router.get("", include_in_schema=False)
def maps_slash(request: Request) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/maps/{query}")


@router.get("/overview", response_class=HTMLResponse, responses=HTML,
            summary="网格总览地图 / overview of the four levels")
async def overview_page(
    request: Request, principal: Staff, store: StoreDep, release: ReleaseDep, lang: Lang = "zh",
    tiles: Tiles = None,
    shade: Annotated[str, Query(pattern="^(households|per_worker|coverage)$",
                                description="着色：户数、每名网格员户数、覆盖率")] = "households",
    level: Annotated[str, Query(pattern="^(street|community|grid|microgrid)$")] = "grid",
) -> HTMLResponse:
    options = _options(request, lang, tiles)
    show = principal.sees_contacts

    def build() -> str:
        if show:
            _audit_contacts(store, principal, release.id)
        return render_html(overview_map(store, release.id, options, shade=shade, level=level,
                                        show_workers=show))

    return HTMLResponse(await run_in_threadpool(build))


def _audit_contacts(store, principal: Principal, release_id: int) -> None:  # noqa: ANN001
    store.audit("read worker names (overview map)", key_id=principal.key_id, role=principal.role,
                target=f"release {release_id}", status=200, detail=principal.audit_detail())


@router.get("/units/{code}", response_class=HTMLResponse, responses=HTML,
            summary="单元地图：边界、下级、住户 / one unit with its children and households")
def unit_page(request: Request, store: StoreDep, code: str, release: ReleaseDep,
              lang: Lang = "zh", tiles: Tiles = None) -> HTMLResponse:
    options = _options(request, lang, tiles)
    return HTMLResponse(render_html(unit_map(store, release.id, code, options)))


@router.get("/validation", response_class=HTMLResponse, responses=HTML,
            summary="校验问题地图 / the problems of a release, where they are")
def validation_page(request: Request, store: StoreDep, settings: SettingsDep, release: ReleaseDep,
                    lang: Lang = "zh", tiles: Tiles = None) -> HTMLResponse:
    options = _options(request, lang, tiles)
    return HTMLResponse(render_html(validation_map(store, release.id, options,
                                                   settings.validation_config())))


@router.get("/coverage", response_class=HTMLResponse, responses=HTML,
            summary="服务圈覆盖地图 / sites, 5/10/15-minute catchments, uncovered households")
def coverage_page(request: Request, store: StoreDep, settings: SettingsDep, release: ReleaseDep,
                  lang: Lang = "zh", tiles: Tiles = None,
                  suggest: Annotated[int, Query(ge=0, le=20, description="建议新增站点数")] = 0
                  ) -> HTMLResponse:
    options = _options(request, lang, tiles)
    return HTMLResponse(coverage_html(store, release.id, options, settings,
                                      cache=request.app.state.coverage, suggest_k=suggest))


@router.get("/plans", response_class=HTMLResponse, responses=HTML,
            summary="规划方案列表：打开或新建 / the plans: open one or start one")
def plans_list_page(principal: Staff, lang: Lang = "zh") -> HTMLResponse:
    return HTMLResponse(plans_page(lang=lang, role=principal.role))


@router.get("/plans/{plan_id}", response_class=HTMLResponse, responses=HTML,
            summary="规划编辑器：刷入、分割、重绘、合并、自动划分、发布 / the planner's editor")
def plan_editor_page(request: Request, principal: Staff, store: StoreDep,
                     plan_id: Annotated[int, Path(ge=1, le=2_147_483_647)], lang: Lang = "zh",
                     tiles: Tiles = None) -> HTMLResponse:
    store.plan(plan_id)  # 404 for a plan that does not exist
    settings = request.app.state.settings
    key = settings.tianditu_key.get_secret_value() or None
    chosen = tiles or settings.map_tiles
    if tiles is None and basemap(chosen, key).offset is not None:
        # drawing needs tiles in the stored datum: Tianditu (CGCS2000) when it has a key
        chosen = "tianditu" if key else "none"
    return HTMLResponse(editor_page(
        plan_id, lang=lang, role=principal.role, assets=request.app.state.map_assets,
        tiles=chosen, tianditu_key=key))


@router.get("/plans/{plan_id}/compare", response_class=HTMLResponse, responses=HTML,
            summary="方案与基础版本对比地图 / the plan drawn over its base, changes filled")
def plan_compare_page(request: Request, plan_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
                      lang: Lang = "zh", tiles: Tiles = None, level: Annotated[
                          str, Query(pattern="^(street|community|grid|microgrid)$")] = "grid"
                      ) -> HTMLResponse:
    options = _options(request, lang, tiles)
    return HTMLResponse(render_html(request.app.state.plans.compare_map(plan_id, options, level)))


@router.get("/compare", response_class=HTMLResponse, responses=HTML,
            summary="两个版本对比地图 / two releases drawn over each other, changes filled")
def compare_page(request: Request, store: StoreDep,
                 first: Annotated[int, Query(alias="from", ge=1, le=2_147_483_647)],
                 second: Annotated[int, Query(alias="to", ge=1, le=2_147_483_647)],
                 lang: Lang = "zh", tiles: Tiles = None, level: Annotated[
                     str, Query(pattern="^(street|community|grid|microgrid)$")] = "grid"
                 ) -> HTMLResponse:
    options = _options(request, lang, tiles)
    return HTMLResponse(render_html(compare_map(store, first, second, options, level)))


@router.get("/tiles/{release_id}/{kind}/{level}/{z}/{x}/{y}.json",
            summary="地图图层瓦片（GeoJSON，512 像素）/ a tile of a large map level (GeoJSON)",
            responses={200: {"content": {"application/geo+json": {}}}})
def level_tile(request: Request, principal: Staff, store: StoreDep, settings: SettingsDep,
               release_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
               kind: Annotated[str, Path(pattern="^(" + "|".join(KINDS) + ")$")],
               level: Annotated[str, Path(
                   pattern="^(street|community|grid|microgrid|ground|catchment-[0-9]{1,3})$",
                   description="单元层级，或覆盖地图的图层 / a unit level, or a coverage layer")],
               z: Annotated[int, Path(ge=MIN_ZOOM, le=MAX_ZOOM)],
               x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)],
               tiles: Tiles = None) -> Response:
    """The units of one level that meet 512-pixel tile ``z/x/y``, simplified for that zoom, with
    the properties the page of ``kind`` shows (see ``wangge.maps.lod``); what a map page loads
    for levels too large to inline. Coordinates are in the base map's system (GCJ-02 for AMap
    and Tencent tiles), like the page's."""
    if not valid_tile(z, x, y):
        raise InputError(f"瓦片 {z}/{x}/{y} 不存在。", f"There is no tile {z}/{x}/{y}.",
                         z=z, x=x, y=y)
    store.release(release_id)  # 404 for a release that does not exist
    key = settings.tianditu_key.get_secret_value() or None
    bm = basemap(tiles or settings.map_tiles, key)
    show = kind == "overview" and principal.sees_contacts
    prepared = level_tiles(store, release_id, kind, level, bm, cache=request.app.state.map_tiles,
                           coverage=request.app.state.coverage, settings=settings,
                           show_workers=show)
    body = prepared.tile(z, x, y)
    # Kept compressed too: sent as it is to a browser that takes gzip (the compression layer
    # leaves an encoded answer alone), instead of compressed again for every visitor.
    zipped = "gzip" in request.headers.get("accept-encoding", "")
    if show and b'"p":[' in body:
        store.audit("read worker names (overview map tiles)", key_id=principal.key_id,
                    role=principal.role, target=f"release {release_id} {level} {z}/{x}/{y}",
                    status=200, detail=principal.audit_detail())
    # The figures behind a tile change when households or workers do: a browser keeps it for
    # a minute, no shared cache keeps it at all (it may carry names).
    headers = {"Cache-Control": "private, max-age=60", "Vary": "Accept-Encoding"}
    if zipped:
        body = prepared.tile(z, x, y, gzipped=True)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/geo+json", headers=headers)
