"""OGC API – Features (Part 1 Core + GeoJSON + OpenAPI 3.0, Part 2 CRS) over the boundary levels.

One collection per level (street, community, grid, microgrid) of the current release; the
``datetime`` parameter answers from the release in force at that instant (releases take effect
on China calendar days, so the instant is read as a date in UTC+8; a future instant answers
with the release scheduled by then), so the release history is reachable the standard way.
QGIS's "OGC API – Features" source loads it.
Only the conformance classes below are declared, each tested in tests/api/test_api_ogc.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

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
from wangge.geo.levels import ORDER, Level
from wangge.store import ReleaseInfo, Store
from wangge.store.release_info import CHINA_TIME, china_date

router = APIRouter(tags=["OGC API – Features"], dependencies=[Depends(require(READ))])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
TITLES = {"street": ("街道", "Streets"), "community": ("社区", "Communities"),
          "grid": ("网格", "Grids"), "microgrid": ("微网格", "Micro-grids")}
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
JSON = "application/json"

LevelPath = Annotated[Level, Path(description="层级 / level: street, community, grid, microgrid")]


def _json(body: dict[str, Any], media: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


@router.get("", summary="OGC API 入口 / landing page")
def landing(request: Request) -> Response:
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return _json({
        "title": "wangge 网格边界 / community grid boundaries",
        "description": "街道、社区、网格、微网格边界（OGC API – Features）。 / Street, community, "
                       "grid and micro-grid boundaries as OGC API – Features.",
        "links": [
            _link(base, "self", JSON, "本页 / this document"),
            _link(f"{root}/openapi.json", "service-desc",
                  "application/vnd.oai.openapi+json;version=3.0", "OpenAPI 3.0"),
            _link(f"{root}/docs", "service-doc", "text/html", "API 文档 / documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "符合性 / conformance"),
            _link(f"{base}/collections", "data", JSON, "要素集 / collections"),
        ]})


@router.get("/conformance", summary="符合的标准类 / conformance classes")
def conformance() -> Response:
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
                  _link(f"{href}/items", "items", GEOJSON, f"{zh}要素 / {en}")],
    }


def _first_date(store: Store) -> date | None:
    dates = [r.effective_date for r in store.releases() if r.published_at is not None]
    return min(dates) if dates else None


def _extents(request: Request) -> dict[str, tuple[float, float, float, float]]:
    try:
        return request.app.state.membership.current().extents
    except NotFound:
        return {}


@router.get("/collections", summary="要素集列表 / collections")
def collections(request: Request, store: StoreDep) -> Response:
    base = _base(request)
    extents, first = _extents(request), _first_date(store)
    return _json({"links": [_link(f"{base}/collections", "self", JSON)],
                  "collections": [_collection(base, lv.value, extents.get(lv.value), first)
                                  for lv in ORDER]})


@router.get("/collections/{level}", summary="一个要素集 / one collection")
def collection(request: Request, store: StoreDep, level: LevelPath) -> Response:
    return _json(_collection(_base(request), level.value, _extents(request).get(level.value),
                             _first_date(store)))


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


@router.get("/collections/{level}/items", summary="要素 / features of a level",
            response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}})
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
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> Response:
    box = _bbox(bbox, bbox_crs)
    release = _instant(datetime_, store)
    filters = {"level": level.value, "bbox": box}
    units = store.units(release.id, limit=limit, offset=offset, **filters)
    matched = store.count_units(release.id, **filters)
    href = f"{_base(request)}/collections/{level.value}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}

    def page(at: int) -> str:
        return f"{href}?{urlencode({**params, 'limit': limit, 'offset': at})}"

    links = [_link(page(offset), "self", GEOJSON),
             _link(f"{_base(request)}/collections/{level.value}", "collection", JSON)]
    if offset + len(units) < matched:
        links.append(_link(page(offset + limit), "next", GEOJSON))
    if offset > 0:
        links.append(_link(page(max(0, offset - limit)), "prev", GEOJSON))
    body = {"type": "FeatureCollection", "features": _features(units, release.id, target),
            "numberMatched": matched, "numberReturned": len(units),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "links": links}
    return _json(body, GEOJSON, {"Content-Crs": f"<{target.uri}>"})


@router.get("/collections/{level}/items/{code}", summary="一个要素 / one feature",
            response_class=Response,
            responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}}}})
def item(request: Request, store: StoreDep, level: LevelPath, code: str, target: OgcCrsDep,
         datetime_: Annotated[str | None, Query(alias="datetime")] = None) -> Response:
    release = _instant(datetime_, store)
    unit = store.unit(release.id, code)
    if unit["level"].iloc[0] != level.value:
        raise NotFound(f"{TITLES[level.value][0]}中没有编码为 {code} 的单元。",
                       f"No {level.value} has code {code}.", code=code, level=level.value)
    body = _features(unit, release.id, target)[0]
    href = f"{_base(request)}/collections/{level.value}"
    body["links"] = [_link(f"{href}/items/{code}", "self", GEOJSON), _link(href, "collection", JSON)]
    return _json(body, GEOJSON, {"Content-Crs": f"<{target.uri}>"})
