"""Membership lookups: which street, community, grid and micro-grid a location or address is in.

The hot path of the service, answered from the in-memory index (:mod:`wangge.membership`).
A point in the current release is answered on the event loop in microseconds, without a
threadpool hop. Whatever can take time — building a past release's index for ``as_of``,
matching an address, reading worker contacts from the store — runs in the threadpool and never
stalls the loop. Batch bodies are read on the loop, then parsed and answered in the threadpool,
and serialised with orjson.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from wangge.api.auth import Principal, Reader
from wangge.api.membership_schema import (
    EXAMPLE_BATCH,
    EXAMPLE_POINT,
    AddressAnswer,
    BatchAnswer,
    MembershipAnswer,
    request_schema,
)
from wangge.api.points import Points, parse_points
from wangge.gcpause import gc_paused
from wangge.geo.crs import in_china, lonlat_to_storage, parse_crs, point_to_storage
from wangge.geo.index.hierarchy import STATUSES
from wangge.geo.io.csv_out import csv_bytes
from wangge.membership import LEVELS, MembershipIndex, MembershipService
from wangge.store.errors import StoreUnavailable

router = APIRouter(tags=["membership"])

JSON = "application/json"
_CRS_HELP = "坐标系：WGS-84（默认）、CGCS2000、GCJ-02、BD-09 或 EPSG 代码 / CRS of the coordinates"
_AS_OF_HELP = "按该日生效的版本回答（YYYY-MM-DD），默认当前版本 / answer with the release in force that day"

_GEOJSON_POINTS = {
    "type": "object", "required": ["type", "features"],
    "description": "GeoJSON 点要素集合；要素的 id 原样返回 / a FeatureCollection of Points; each "
                   "feature's id is echoed",
    "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {
        "type": "object", "properties": {"type": {"const": "Feature"}, "id": {},
                                         "geometry": {"type": "object"}}}}}}
# WGS-84 (the default without ?crs=): the batch's first point, in 青居社区第6网格第5微网格.
_CSV_EXAMPLE = "id,lon,lat\na,120.2009,33.4002\n"


def _demo(name: str) -> dict[str, Any]:
    """A parameter's example for Swagger UI's "Try it out": the demo's point in GCJ-02."""
    return {"demo": {"summary": "演示区内一点（GCJ-02）/ a point in the demo district",
                     "value": EXAMPLE_POINT[name]}}


def _service(request: Request) -> MembershipService:
    return request.app.state.membership


def _index(request: Request, as_of: date | None) -> MembershipIndex:
    service = _service(request)
    return service.current() if as_of is None else service.as_of(as_of)


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type=JSON)


def _workers(request: Request, principal: Principal, index: MembershipIndex,
             chain: list[dict[str, str]], body: dict[str, Any]) -> None:
    """Add the grid's workers as the caller may see them: none for integrators, ids for
    viewers, contacts (personal data, audited) for planners and admins. Contacts live in the
    store; while it is unreachable the ids are given and ``contacts_omitted`` says why."""
    if principal.role == "integrator":
        return
    workers = index.grid_workers(chain)
    body["workers"] = workers
    if not principal.sees_contacts or not workers:
        return
    grid = next(link["code"] for link in chain if link["level"] == "grid")
    store = request.app.state.store
    try:
        contacts = store.worker_contacts(grid)
        store.audit("read worker contacts", key_id=principal.key_id, role=principal.role,
                    target=grid, status=200,
                    detail=principal.audit_detail(workers=[c["worker_id"] for c in contacts]))
    except StoreUnavailable as exc:
        body["contacts_omitted"] = {"code": exc.code, "message": "数据库暂不可用，未列出网格员联系方式。",
                                    "message_en": "The database is unreachable; worker contacts "
                                                  "are left out."}
        return
    body["workers"] = contacts


def _release(index: MembershipIndex) -> dict[str, Any]:
    return {"release_id": index.release.id,
            "effective_date": index.release.effective_date.isoformat()}


@router.get("/membership", summary="某位置属于哪个网格 / which units is this location in",
            response_class=Response, responses={200: {"model": MembershipAnswer}})
async def membership_one(
    request: Request, principal: Reader,
    lon: Annotated[float, Query(description="经度（或投影坐标 x）/ longitude or x",
                                examples=[EXAMPLE_POINT["lon"]], openapi_examples=_demo("lon"))],
    lat: Annotated[float, Query(description="纬度（或投影坐标 y）/ latitude or y",
                                examples=[EXAMPLE_POINT["lat"]], openapi_examples=_demo("lat"))],
    crs: Annotated[str, Query(description=_CRS_HELP, examples=[EXAMPLE_POINT["crs"]],
                              openapi_examples=_demo("crs"))] = "WGS-84",
    as_of: Annotated[date | None, Query(description=_AS_OF_HELP)] = None,
) -> Response:
    x, y = point_to_storage(lon, lat, crs)
    # The common case answers from memory on the loop, taking no threadpool slot (a slot can be
    # held for minutes by heavy uploads); what may wait goes to the threadpool.
    index = _service(request).current() if as_of is None else \
        await run_in_threadpool(_index, request, as_of)
    answer = index.one(x, y)
    body = {**_release(index), "status": answer["status"], "lon": x, "lat": y,
            "chain": answer["chain"], "nearest": answer["nearest"]}
    if principal.sees_contacts:   # contacts are read from the store and audited
        await run_in_threadpool(_workers, request, principal, index, answer["chain"], body)
    else:
        _workers(request, principal, index, answer["chain"], body)
    return _json(body)


@router.get("/membership/address", summary="按地址查询所属网格 / which units is this address in",
            response_class=Response, responses={200: {"model": AddressAnswer}})
def membership_address(
    request: Request, principal: Reader,
    q: Annotated[str, Query(min_length=2, max_length=200, description="地址 / the address",
                            examples=["亭湖区新都小区3幢2单元501室"])],
    as_of: Annotated[date | None, Query(description=_AS_OF_HELP)] = None,
) -> Response:
    index = _index(request, as_of)
    matched = _service(request).matcher().match_many([q]).iloc[0]
    match = {"level": matched["level"], "score": _num(matched["score"]),
             "trusted": bool(matched["trusted"]), "matched": matched["entry_id"],
             "reason": matched["reason_zh"], "reason_en": matched["reason_en"]}
    body: dict[str, Any] = {**_release(index), "match": match}
    if not np.isfinite(matched["lon"]):
        body.update(status="unlocated", lon=None, lat=None, chain=[], nearest=None)
        return _json(body)
    answer = index.one(float(matched["lon"]), float(matched["lat"]))
    body.update(status=answer["status"], lon=float(matched["lon"]), lat=float(matched["lat"]),
                chain=answer["chain"], nearest=answer["nearest"])
    _workers(request, principal, index, answer["chain"], body)
    return _json(body)


def _num(value: Any) -> float | None:
    value = float(value)
    return round(value, 4) if np.isfinite(value) else None


@router.post(
    "/membership", summary="批量查询所属网格 / many points or addresses at once",
    description="请求体：JSON `{\"points\": [[经度, 纬度], …], \"crs\": \"GCJ-02\", \"ids\": […]}`、"
                "`{\"addresses\": […]}`、GeoJSON 点要素集合，或 CSV（lon,lat[,id]）。按输入顺序逐点回答。"
                " / Body: JSON points or addresses, a GeoJSON FeatureCollection of Points, or CSV "
                "(lon,lat[,id]); answers in input order, each with its status.",
    openapi_extra={"requestBody": {"required": True, "content": {
        JSON: {"schema": request_schema(), "example": EXAMPLE_BATCH},
        "application/geo+json": {"schema": _GEOJSON_POINTS},
        "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}}}},
    response_class=Response,
    responses={200: {"model": BatchAnswer,
                     "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def membership_many(
    request: Request, principal: Reader,
    crs: Annotated[str | None, Query(description=_CRS_HELP + "（请求体中的 crs 优先）")] = None,
    as_of: Annotated[date | None, Query(description=_AS_OF_HELP)] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$", description="json 或 csv")] = "json",
    layout: Annotated[str, Query(
        pattern="^(records|columns)$",
        description="JSON 形式：records（每点一个对象，默认）或 columns（按列的数组，最快）"
                    " / records: one object per point (default); columns: one array per field")]
    = "records",
) -> Response:
    body = await request.body()
    settings = request.app.state.settings
    content_type = request.headers.get("content-type", "")
    service = _service(request)

    def work() -> bytes:
        index = _index(request, as_of)
        with gc_paused():
            points = parse_points(body, content_type, settings.max_batch_points)
        return _answer(index, service, points, crs, format, layout)

    media = "text/csv; charset=utf-8" if format == "csv" else JSON
    return Response(await run_in_threadpool(work), media_type=media)


def _answer(index: MembershipIndex, service: MembershipService, points: Points,
            crs: str | None, fmt: str, layout: str) -> bytes:
    match = None
    if points.addresses is not None:
        with gc_paused():
            match = service.matcher().match_many(points.addresses)
        lon = match["lon"].to_numpy(dtype=float)
        lat = match["lat"].to_numpy(dtype=float)
    else:
        source = parse_crs(points.crs or crs or "WGS-84")
        lon, lat = lonlat_to_storage(points.lon, points.lat, source)
        # as for one point: a point outside China is invalid input, not "outside" some unit
        # thousands of kilometres away
        foreign = ~in_china(lon, lat)
        lon[foreign] = lat[foreign] = np.nan
    found = index.many(lon, lat)
    names = np.asarray([*STATUSES, "unlocated"], dtype=object)
    code = found["status"].astype(np.intp)
    if match is not None:
        code[~np.isfinite(lon)] = len(STATUSES)
    inside = code == 0
    near_m = np.where(inside | np.isnan(found["nearest_m"]), np.nan, np.round(found["nearest_m"], 2))
    columns: dict[str, list[Any]] = {"status": names[code].tolist()}
    for lv in LEVELS:
        columns[lv] = found[lv].tolist()
    columns["nearest_code"] = np.where(inside, None, found["nearest_code"]).tolist()
    columns["nearest_m"] = np.where(np.isnan(near_m), None, near_m.astype(object)).tolist()
    if match is not None:
        columns["match_level"] = match["level"].tolist()
        score = match["score"].to_numpy(dtype=float).round(4)
        columns["match_score"] = np.where(np.isnan(score), None, score.astype(object)).tolist()
    if fmt == "csv":
        return _csv(points.ids, columns)
    tally = np.bincount(code, minlength=len(names))
    counts = {str(names[i]): int(tally[i]) for i in range(len(STATUSES) + (match is not None))}
    codes = set().union(*(set(columns[c]) for c in (*LEVELS, "nearest_code"))) - {None}
    units = {c: {"level": index.levels[c], "name": index.names[c]} for c in sorted(codes)}
    head = {"release_id": index.release.id,
            "effective_date": index.release.effective_date.isoformat(),
            "count": len(code), "counts": counts}
    if layout == "columns":
        if points.ids is not None:
            columns = {"id": points.ids, **columns}
        return orjson.dumps({**head, "columns": columns, "units": units})
    keys = list(columns)
    with gc_paused():
        rows = [dict(zip(keys, values)) for values in zip(*columns.values())]  # noqa: B905
        if points.ids is not None:
            for row, ident in zip(rows, points.ids, strict=True):
                row["id"] = ident
        return orjson.dumps({**head, "results": rows, "units": units})


def _csv(ids: list[Any] | None, columns: dict[str, list[Any]]) -> bytes:
    """The answer as CSV; only the caller's ids are text from outside."""
    header = (["id"] if ids is not None else []) + list(columns)
    return csv_bytes(header, ([ids] if ids is not None else []) + list(columns.values()),
                     made_here=columns.keys())
