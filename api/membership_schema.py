"""The membership endpoints' request and response models, with examples that hold on the demo.

The handlers answer with orjson for speed; these models describe those answers in the OpenAPI
document (``/docs``, generated clients), and tests/test_examples.py checks every example here
against the demo district served by a real app, so an example cannot claim what the service
does not answer.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LevelName = Literal["street", "community", "grid", "microgrid"]

# A point in 永林社区第2网格第7微网格 of the demo district (亭湖区), given in GCJ-02 as a phone
# map app would; the answer's lon/lat are the same point in CGCS2000/WGS-84.
EXAMPLE_POINT = {"lon": 120.1646, "lat": 33.3894, "crs": "GCJ-02"}
# Two points in GCJ-02: one in 青居社区第6网格第5微网格, one 218 m outside the district's edge.
EXAMPLE_BATCH = {"crs": "GCJ-02", "ids": ["a", "b"],
                 "points": [[120.2057, 33.3987], [120.1613, 33.3479]]}


class ChainLink(BaseModel):
    """One unit of the chain, street to micro-grid."""

    level: LevelName
    code: str = Field(description="单元编码 / the unit's code")
    name: str = Field(description="单元名称 / the unit's name")


class Nearest(BaseModel):
    """For a point outside every unit: the nearest micro-grid and how far it is."""

    code: str
    name: str
    level: LevelName
    distance_m: float = Field(description="到其边界的距离（米）/ distance to its edge, metres")


class Worker(BaseModel):
    """A grid worker: the id for viewers; name and phone for planners and admins (audited)."""

    worker_id: str
    full_time: bool | None = None
    name: str | None = Field(None, description="仅规划员、管理员可见 / planners and admins only")
    phone: str | None = Field(None, description="仅规划员、管理员可见 / planners and admins only")


class ContactsOmitted(BaseModel):
    """Why workers' contacts are missing (the database was unreachable)."""

    code: str
    message: str
    message_en: str


class MembershipAnswer(BaseModel):
    """Which street, community, grid and micro-grid one location is in."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "release_id": 1, "effective_date": "2026-01-01", "status": "found",
        "lon": 120.159641, "lat": 33.390806,
        "chain": [
            {"level": "street", "code": "320902004", "name": "荷山街道"},
            {"level": "community", "code": "320902004005", "name": "永林社区"},
            {"level": "grid", "code": "320902004005002", "name": "永林社区第2网格"},
            {"level": "microgrid", "code": "320902004005002007", "name": "永林社区第2网格第7微网格"},
        ],
        "nearest": None, "workers": [{"worker_id": "WG00135", "full_time": True}]}]})

    release_id: int = Field(description="回答所用的版本 / the release that answered")
    effective_date: date = Field(description="该版本的生效日期 / its effective date")
    status: Literal["found", "outside"] = Field(
        description="found：在某单元内；outside：不在任何单元内（见 nearest）/ inside a unit, or "
                    "outside every unit (see nearest)")
    lon: float = Field(description="CGCS2000 经度（输入换算后）/ longitude in CGCS2000")
    lat: float = Field(description="CGCS2000 纬度 / latitude in CGCS2000")
    chain: list[ChainLink] = Field(description="街道→社区→网格→微网格；outside 时为空 / empty "
                                               "when outside")
    nearest: Nearest | None = None
    workers: list[Worker] | None = Field(
        None, description="该网格的网格员（集成方角色不含此项）/ the grid's workers (not for integrators)")
    contacts_omitted: ContactsOmitted | None = None


class AddressMatch(BaseModel):
    """How the address was matched against the gazetteer."""

    level: str = Field(description="匹配层级，如 exact_building / how precise, e.g. exact_building")
    score: float | None
    trusted: bool
    matched: str | None = Field(description="匹配到的地名条目 / the gazetteer entry matched")
    reason: str
    reason_en: str


class AddressAnswer(BaseModel):
    """The answer for an address: as for a point, after matching; ``unlocated`` when no match."""

    release_id: int
    effective_date: date
    status: Literal["found", "outside", "unlocated"]
    lon: float | None
    lat: float | None
    chain: list[ChainLink]
    nearest: Nearest | None = None
    workers: list[Worker] | None = None
    contacts_omitted: ContactsOmitted | None = None
    match: AddressMatch


class BatchRow(BaseModel):
    """One point's answer in a batch (``layout=records``), in input order."""

    id: str | int | None = Field(None, description="请求中的 ids / the id given in the request")
    status: Literal["found", "outside", "invalid", "unlocated"]
    street: str | None
    community: str | None
    grid: str | None
    microgrid: str | None
    nearest_code: str | None
    nearest_m: float | None
    match_level: str | None = Field(None, description="仅地址批量 / address batches only")
    match_score: float | None = Field(None, description="仅地址批量 / address batches only")


class UnitName(BaseModel):
    level: LevelName
    name: str


class BatchAnswer(BaseModel):
    """A batch's answers: ``results`` (one object per point) or ``columns`` (one array per field,
    ``layout=columns``), and the names of every code mentioned, once, in ``units``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "release_id": 1, "effective_date": "2026-01-01", "count": 2,
        "counts": {"found": 1, "outside": 1, "invalid": 0},
        "results": [
            {"status": "found", "street": "320902005", "community": "320902005003",
             "grid": "320902005003006", "microgrid": "320902005003006005",
             "nearest_code": None, "nearest_m": None, "id": "a"},
            {"status": "outside", "street": None, "community": None, "grid": None,
             "microgrid": None, "nearest_code": "320902007001004009", "nearest_m": 217.72,
             "id": "b"}],
        "units": {"320902005": {"level": "street", "name": "兴泽街道"},
                  "320902005003": {"level": "community", "name": "青居社区"},
                  "320902005003006": {"level": "grid", "name": "青居社区第6网格"},
                  "320902005003006005": {"level": "microgrid", "name": "青居社区第6网格第5微网格"},
                  "320902007001004009": {"level": "microgrid", "name": "乐城社区第4网格第9微网格"}}}]})

    release_id: int
    effective_date: date
    count: int
    counts: dict[str, int] = Field(description="每种状态的点数 / points per status")
    results: list[BatchRow] | None = None
    columns: dict[str, list[Any]] | None = Field(None, description="layout=columns 时 / with "
                                                                   "layout=columns")
    units: dict[str, UnitName]


class PointsRequest(BaseModel):
    """A batch of points (``points``, or ``lon`` with ``lat``) or of ``addresses``, as JSON.

    The same endpoint also takes a GeoJSON FeatureCollection of Points and CSV (``lon,lat[,id]``,
    also ``经度,纬度,编号``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_BATCH]})

    points: list[list[float]] | None = Field(None, description="[[经度, 纬度], …] / [[lon, lat], …]")
    lon: list[float] | None = Field(None, description="经度数组（与 lat 同长）/ longitudes")
    lat: list[float] | None = Field(None, description="纬度数组 / latitudes")
    addresses: list[str] | None = Field(None, description="地址（代替坐标）/ addresses instead of points")
    ids: list[str | int] | None = Field(None, description="每点的编号，原样返回 / echoed per point")
    crs: str | None = Field(None, description="坐标系：WGS-84（默认）、CGCS2000、GCJ-02、BD-09、EPSG 代码")


def request_schema() -> dict[str, Any]:
    """The JSON body's schema for ``openapi_extra`` (the handler reads the raw body itself)."""
    return PointsRequest.model_json_schema()
