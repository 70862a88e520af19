"""OGC API – Features (Part 1 Core + GeoJSON + OpenAPI 3.0, Part 2 CRS) over the boundary levels.

One collection per level (street, community, grid, microgrid) of the current release; the
``datetime`` parameter answers from the release in force at that instant (releases take effect
on China calendar days, so the instant is read as a date in UTC+8; a future instant answers
with the release scheduled by then), so the release history is reachable the standard way.
The queryables (Part 3) are query parameters compared for equality (``?parent_code=…``); a
query parameter the API does not define is refused with 400. ``f=html`` gives HTML views.

``/ogc/api`` is the API's own OpenAPI document (``service-desc``): one path per collection,
the ``limit`` parameter as ``#/components/parameters/limit`` with its default and maximum,
which is where GDAL's OAPIF driver (3.8+) and QGIS look for the page size they may ask for.
QGIS's "OGC API – Features" source loads it. Only the conformance classes below are declared,
each tested in tests/api/test_api_ogc.py (and with GDAL and OWSLib in test_ogc_clients.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from wangge.api import ogc_html
from wangge.api.auth import READ, require
from wangge.api.deps import OgcCrsDep, StoreDep
from wangge.api.geojson import GEOJSON, feature
from wangge.geo.crs import (
    OGC_CRS_URIS,
    STORAGE_URI,
    OgcCRS,
    from_storage,
    parse_bbox,
    parse_ogc_crs,
    swap_axes,
)
from wangge.geo.errors import InputError, NotFound
from wangge.geo.levels import NAMES_ZH, ORDER, Level, parse_level
from wangge.store import ReleaseInfo, Store
from wangge.store.release_info import CHINA_TIME, china_date

router = APIRouter(tags=["OGC API – Features"], dependencies=[Depends(require(READ))])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
TITLES = {"street": ("街道", "Streets"), "community": ("社区", "Communities"),
          "grid": ("网格", "Grids"), "microgrid": ("微网格", "Micro-grids")}
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
# Query parameters of /items beside the queryables (Part 1 core, Part 2 crs, f for HTML).
ITEMS_PARAMS = frozenset({"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f"})
ITEM_PARAMS = frozenset({"crs", "datetime", "f"})
QUERYABLES: dict[str, dict[str, Any]] = {
    "code": {"title": "编码 / code", "type": "string",
             "description": "单元编码（18 位以内）/ the unit's code"},
    "name": {"title": "名称 / name", "type": "string", "description": "单元名称 / the unit's name"},
    "parent_code": {"title": "上级编码 / parent code", "type": "string",
                    "description": "上级单元的编码 / code of the unit above"},
    "level": {"title": "层级 / level", "type": "string", "enum": [lv.value for lv in ORDER],
              "description": "层级（也接受 街道/社区/网格/微网格）/ level (Chinese names accepted)"},
}
LIMIT_PARAMETER = {
    "name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
    "description": f"每页要素数（1–{MAX_LIMIT}，默认 {DEFAULT_LIMIT}）/ features per page "
                   f"(1–{MAX_LIMIT}, default {DEFAULT_LIMIT})",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
}

LevelPath = Annotated[Level, Path(description="层级 / level: street, community, grid, microgrid")]
Format = Annotated[Literal["json", "html"] | None, Query(
    description="json（默认）或 html（表格）/ json (default) or html (a table with links)")]
_HTML_RESPONSE = {"content": {ogc_html.HTML.split(";")[0]: {"schema": {"type": "string"}}}}


def _json(body: dict[str, Any], media: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media, headers=headers)


def _html(text: str) -> Response:
    return Response(text, media_type=ogc_html.HTML)


def _wants_html(request: Request, f: str | None) -> bool:
    """``f`` decides; without it, a browser's Accept (HTML and no JSON) asks for HTML."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _check_params(request: Request, allowed: frozenset[str] | set[str]) -> None:
    """Refuse query parameters the API does not define (OGC API Features, /req/core/query-param-
    unknown): a misspelt filter must not silently answer with everything."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InputError(
            f"不支持的查询参数：{'、'.join(unknown)}；可用：{'、'.join(sorted(allowed))}。",
            f"Unknown query parameters: {', '.join(unknown)}; supported: {', '.join(sorted(allowed))}.",
            unknown=unknown, supported=sorted(allowed))


def _only_f(request: Request) -> None:
    _check_params(request, {"f"})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


@router.get("", summary="OGC API 入口 / landing page", responses={200: _HTML_RESPONSE})
def landing(request: Request, f: Format = None) -> Response:
    _only_f(request)
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    doc = {
        "title": "wangge 网格边界 / community grid boundaries",
        "description": "街道、社区、网格、微网格边界（OGC API – Features）。 / Street, community, "
                       "grid and micro-grid boundaries as OGC API – Features.",
        "links": [
            _link(base, "self", JSON, "本页 / this document"),
            _link(f"{base}?f=html", "alternate", "text/html", "网页 / as HTML"),
            _link(f"{base}/api", "service-desc", OPENAPI_JSON, "OpenAPI 3.0"),
            _link(f"{root}/docs", "service-doc", "text/html", "API 文档 / documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "符合性 / conformance"),
            _link(f"{base}/collections", "data", JSON, "要素集 / collections"),
        ]}
    return _html(ogc_html.landing(doc, base)) if _wants_html(request, f) else _json(doc)


@router.get("/", include_in_schema=False)
def landing_slash(request: Request, f: Format = None) -> Response:
    """The landing page at ``/ogc/`` too (OWSLib asks there)."""
    return landing(request, f)


@router.get("/api", summary="本 OGC API 的 OpenAPI 文档 / this API's OpenAPI document",
            response_class=Response,
            responses={200: {"content": {OPENAPI_JSON: {"schema": {"type": "object"}}}}})
def api_document(request: Request) -> Response:
    _check_params(request, set())
    return _json(_api_document(request), OPENAPI_JSON)


def _api_document(request: Request) -> dict[str, Any]:
    """The ``/ogc`` part of the service's OpenAPI document, as OGC clients read it.

    Served from ``/ogc`` (``servers``), one path per collection (``/collections/grid/items``, not
    a template: GDAL looks its collection's path up), and ``limit`` referring to
    ``#/components/parameters/limit``, whose ``default`` and ``maximum`` tell clients how large a
    page they may ask for.
    """
    full = orjson.loads(orjson.dumps(request.app.openapi()))
    paths: dict[str, Any] = {}
    for path, operations in full["paths"].items():
        if not path.startswith("/ogc") or path.startswith("/ogc/api"):
            continue
        rel = path.removeprefix("/ogc") or "/"
        for lv in ORDER if "{level}" in rel else (None,):
            ops = orjson.loads(orjson.dumps(operations))
            for op in ops.values():
                params = [p for p in op.get("parameters", [])
                          if not (p.get("in") == "path" and p.get("name") == "level")]
                op["parameters"] = [{"$ref": "#/components/parameters/limit"}
                                    if p.get("name") == "limit" and p.get("in") == "query" else p
                                    for p in params]
                if lv is not None:
                    op["operationId"] = f"{op.get('operationId', 'op')}_{lv.value}"
                    op["summary"] = f"{op.get('summary', '')}（{NAMES_ZH[lv]} / {lv.value}）"
            paths[rel.replace("{level}", lv.value) if lv is not None else rel] = ops
    components = full.get("components", {})
    components["parameters"] = {"limit": LIMIT_PARAMETER}
    doc = {"openapi": full["openapi"],
           "info": {"title": "wangge 网格边界 OGC API – Features", "version": full["info"]["version"],
                    "description": "街道、社区、网格、微网格边界。 / Street, community, grid and "
                                   "micro-grid boundaries."},
           "servers": [{"url": _base(request)}], "paths": paths, "components": components}
    if "security" in full:
        doc["security"] = full["security"]
    return doc


@router.get("/conformance", summary="符合的标准类 / conformance classes")
def conformance(request: Request) -> Response:
    _only_f(request)
    return _json({"conformsTo": CONFORMANCE})


def _collection(base: str, level: str, bbox: tuple[float, ...] | None,
                first: date | None) -> dict[str, Any]:
    zh, en = TITLES[level]
    extent: dict[str, Any] = {}
    if bbox is not None:
        extent["spatial"] = {"bbox": [list(bbox)], "crs": OGC_CRS_URIS[0]}
    if first is not None:  # the first day begins at midnight in China
        start = datetime.combine(first, time(), CHINA_TIME).astimezone(UTC)
        extent["temporal"] = {"interval": [[start.strftime("%Y-%m-%dT%H:%M:%SZ"), None]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    href = f"{base}/collections/{level}"
    return {
        "id": level, "title": f"{zh} / {en}",
        "description": f"当前版本的全部{zh}边界；datetime 参数可查历史版本。 / All {en.lower()} of the "
                       "current release; use datetime for the release in force at an instant.",
        "itemType": "feature", "extent": extent,
        "crs": list(OGC_CRS_URIS), "storageCrs": STORAGE_URI,
        "links": [_link(href, "self", JSON),
                  _link(f"{href}/items", "items", GEOJSON, f"{zh}要素 / {en}"),
                  _link(f"{href}/queryables", QUERYABLES_REL, SCHEMA_JSON,
                        "可查询属性 / queryables"),
                  _link(f"{href}?f=html", "alternate", "text/html", "网页 / as HTML")],
    }


def _first_date(store: Store) -> date | None:
    dates = [r.effective_date for r in store.releases() if r.published_at is not None]
    return min(dates) if dates else None


def _extents(request: Request) -> dict[str, tuple[float, float, float, float]]:
    try:
        return request.app.state.membership.current().extents
    except NotFound:
        return {}


@router.get("/collections", summary="要素集列表 / collections", responses={200: _HTML_RESPONSE})
def collections(request: Request, store: StoreDep, f: Format = None) -> Response:
    _only_f(request)
    base = _base(request)
    extents, first = _extents(request), _first_date(store)
    doc = {"links": [_link(f"{base}/collections", "self", JSON),
                     _link(f"{base}/collections?f=html", "alternate", "text/html", "网页 / as HTML")],
           "collections": [_collection(base, lv.value, extents.get(lv.value), first) for lv in ORDER]}
    if _wants_html(request, f):
        return _html(ogc_html.collections(doc, f"{base}/collections"))
    return _json(doc)


@router.get("/collections/{level}", summary="一个要素集 / one collection",
            responses={200: _HTML_RESPONSE})
def collection(request: Request, store: StoreDep, level: LevelPath, f: Format = None) -> Response:
    _only_f(request)
    doc = _collection(_base(request), level.value, _extents(request).get(level.value),
                      _first_date(store))
    if _wants_html(request, f):
        return _html(ogc_html.collection(doc, doc["links"][0]["href"]))
    return _json(doc)


@router.get("/collections/{level}/queryables", summary="可查询属性 / queryables (JSON Schema)",
            response_class=Response,
            responses={200: {"content": {SCHEMA_JSON: {"schema": {"type": "object"}},
                                         **_HTML_RESPONSE["content"]}}})
def queryables(request: Request, level: LevelPath, f: Format = None) -> Response:
    """The properties that may be given as query parameters of ``/items`` (equality), as a JSON
    Schema (OGC API – Features Part 3)."""
    _only_f(request)
    href = f"{_base(request)}/collections/{level.value}/queryables"
    zh, en = TITLES[level.value]
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": href,
           "type": "object", "title": f"{zh}的可查询属性 / queryables of {en.lower()}",
           "properties": QUERYABLES, "additionalProperties": False}
    return _html(ogc_html.queryables(doc, href)) if _wants_html(request, f) else _json(doc, SCHEMA_JSON)


def _instant(value: str | None, store: Store) -> ReleaseInfo:
    """The release for ``datetime``: the current one, or the one in force at an instant.

    An instant with an offset is converted to its China date (2026-12-04T18:00:00Z is 5
    December in China); a date, or a time without offset, is taken as China's.
    """
    if value is None:
        return store.release_or_current(None)
    text = value.strip()
    if "/" in text:
        raise InputError("datetime 只支持时刻（如 2026-06-01 或 2026-06-01T00:00:00Z），不支持区间。",
                         "datetime supports instants only (e.g. 2026-06-01T00:00:00Z), "
                         "not intervals.", datetime=value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"无法识别的 datetime“{value}”（RFC 3339）。",
                         f"Cannot read datetime {value!r} (RFC 3339).", datetime=value) from None
    return store.release_in_force(china_date(moment), datetime=value)


def _bbox(bbox: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    """``bbox`` in ``bbox-crs`` axis order (CRS84 lon/lat by default) as lon/lat, checked."""
    if bbox is None or not parse_ogc_crs(bbox_crs).lat_first:
        return parse_bbox(bbox)
    parts = [p.strip() for p in bbox.split(",")]
    if len(parts) == 4:  # lat/lon order: swap to lon/lat, then the one bbox check
        parts = [parts[1], parts[0], parts[3], parts[2]]
    return parse_bbox(",".join(parts))


def _features(units: Any, release_id: int, target: OgcCRS) -> list[dict[str, Any]]:
    if len(units):
        geoms = from_storage(np.asarray(units.geometry.to_numpy(), dtype=object), target.crs)
        if target.lat_first:
            geoms = swap_axes(geoms)
        units = units.set_geometry(list(geoms), crs=None)
    keep = ["code", "name", "level", "parent_code", "area_m2", "geometry"]
    return [feature(dict(row), release_id) for row in units[keep].to_dict("records")]


_GEOJSON_OR_HTML = {200: {"content": {GEOJSON: {"schema": {"type": "object"}},
                                     **_HTML_RESPONSE["content"]}}}


def _property_filters(level: Level, code: str | None, name: str | None, parent_code: str | None,
                      level_value: str | None) -> dict[str, Any] | None:
    """Store filters for the queryables given, or None when they cannot match (``level`` names
    another level than the collection's)."""
    if level_value is not None:
        asked = parse_level(level_value)
        if asked is None:
            raise InputError(f"无法识别的层级“{level_value}”，应为 {'/'.join(lv.zh for lv in ORDER)}。",
                             f"Unknown level {level_value!r}; use one of {', '.join(ORDER)}.",
                             level=level_value)
        if asked != level:
            return None
    filters: dict[str, Any] = {"level": level.value}
    if code is not None:
        filters["codes"] = [code]
    if name is not None:
        filters["name"] = name
    if parent_code is not None:
        filters["parent_code"] = parent_code
    return filters


@router.get("/collections/{level}/items", summary="要素 / features of a level",
            response_class=Response, responses=_GEOJSON_OR_HTML)
def items(
    request: Request, store: StoreDep, level: LevelPath, target: OgcCrsDep,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy（bbox-crs 的轴序）",
                                      examples=["120.10,33.30,120.25,33.45"])] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description="bbox 的坐标系 URI")] = None,
    datetime_: Annotated[str | None, Query(
        alias="datetime", examples=["2026-06-01T00:00:00Z"],
        description="RFC 3339 时刻：该时刻（按中国日期，UTC+8）生效的版本，将来的时刻给出届时生效的版本"
                    " / the release in force at that instant (its China date), future included",
    )] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=LIMIT_PARAMETER["description"])]
    = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
    code: Annotated[str | None, Query(description=QUERYABLES["code"]["description"])] = None,
    name: Annotated[str | None, Query(description=QUERYABLES["name"]["description"])] = None,
    parent_code: Annotated[str | None, Query(
        description=QUERYABLES["parent_code"]["description"])] = None,
    level_value: Annotated[str | None, Query(
        alias="level", description=QUERYABLES["level"]["description"])] = None,
    f: Format = None,
) -> Response:
    _check_params(request, ITEMS_PARAMS | set(QUERYABLES))
    box = _bbox(bbox, bbox_crs)
    release = _instant(datetime_, store)
    filters = _property_filters(level, code, name, parent_code, level_value)
    if filters is None:
        units, matched = store.units(release.id, codes=[]), 0
    else:
        filters["bbox"] = box
        units = store.units(release.id, limit=limit, offset=offset, **filters)
        matched = store.count_units(release.id, **filters)
    href = f"{_base(request)}/collections/{level.value}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit", "f")}

    def page(at: int, fmt: str | None = None) -> str:
        return f"{href}?{urlencode({**params, 'limit': limit, 'offset': at, **({'f': fmt} if fmt else {})})}"

    links = [_link(page(offset), "self", GEOJSON),
             _link(page(offset, "html"), "alternate", "text/html", "网页 / as HTML"),
             _link(f"{_base(request)}/collections/{level.value}", "collection", JSON)]
    if offset + len(units) < matched:
        links.append(_link(page(offset + limit), "next", GEOJSON))
    if offset > 0:
        links.append(_link(page(max(0, offset - limit)), "prev", GEOJSON))
    body = {"type": "FeatureCollection", "features": _features(units, release.id, target),
            "numberMatched": matched, "numberReturned": len(units),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    if _wants_html(request, f):
        zh, en = TITLES[level.value]
        return _html(ogc_html.items(body, page(offset), href, f"{zh} / {en}"))
    return _json(body, GEOJSON, {"Content-Crs": f"<{target.uri}>"})


@router.get("/collections/{level}/items/{code}", summary="一个要素 / one feature",
            response_class=Response, responses=_GEOJSON_OR_HTML)
def item(request: Request, store: StoreDep, level: LevelPath, code: str, target: OgcCrsDep,
         datetime_: Annotated[str | None, Query(alias="datetime")] = None,
         f: Format = None) -> Response:
    _check_params(request, ITEM_PARAMS)
    release = _instant(datetime_, store)
    unit = store.unit(release.id, code)
    if unit["level"].iloc[0] != level.value:
        raise NotFound(f"{TITLES[level.value][0]}中没有编码为 {code} 的单元。",
                       f"No {level.value} has code {code}.", code=code, level=level.value)
    body = _features(unit, release.id, target)[0]
    href = f"{_base(request)}/collections/{level.value}"
    body["links"] = [_link(f"{href}/items/{code}", "self", GEOJSON),
                     _link(f"{href}/items/{code}?f=html", "alternate", "text/html", "网页 / as HTML"),
                     _link(href, "collection", JSON)]
    if _wants_html(request, f):
        return _html(ogc_html.item(body, f"{href}/items/{code}"))
    return _json(body, GEOJSON, {"Content-Crs": f"<{target.uri}>"})
