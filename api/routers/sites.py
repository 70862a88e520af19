"""Service sites: list (any reader), import, add, move, retire (planners, admins), history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from pydantic import BaseModel, Field

from wangge.api.auth import READ, Writer, require
from wangge.api.deps import SettingsDep, StoreDep
from wangge.api.geojson import GEOJSON, GeoJSONResponse
from wangge.api.heavy import HeavySlot
from wangge.api.uploads import parse_field_map, saved_upload
from wangge.sites import add_site, import_sites, move_site

router = APIRouter(tags=["sites"], dependencies=[Depends(require(READ))])


class NewSite(BaseModel):
    site_id: str = Field(min_length=1, max_length=64, examples=["ZD0101"])
    kind: str = Field(examples=["station"], description="centre/党群服务中心 或 station/驿站")
    name: str = Field(min_length=1, max_length=200, examples=["新都社区暖心驿站"])
    lon: float = Field(examples=[120.1613], description="经度（或投影坐标 x）/ longitude or x")
    lat: float = Field(examples=[33.3479], description="纬度（或投影坐标 y）/ latitude or y")
    crs: str = Field(default="WGS-84", examples=["GCJ-02"])
    unit_code: str | None = Field(default=None, max_length=64, examples=["320902001002"])
    hours: str | None = Field(default=None, max_length=200, examples=["周一至周日 8:30-20:00"])


class Move(BaseModel):
    lon: float = Field(examples=[120.1620], description="经度（或投影坐标 x）/ longitude or x")
    lat: float = Field(examples=[33.3481], description="纬度（或投影坐标 y）/ latitude or y")
    crs: str = Field(default="WGS-84", examples=["WGS-84"])


@router.get("/sites", response_class=GeoJSONResponse,
            summary="在用站点（GeoJSON）/ sites in service", responses={200: {"content": {GEOJSON: {}}}})
def list_sites(store: StoreDep, at: Annotated[datetime | None, Query(
        description="某一时刻在用的站点（ISO 8601）")] = None) -> GeoJSONResponse:
    sites = store.sites(at)
    features = [{"type": "Feature", "id": r["site_id"],
                 "properties": {k: None if pd.isna(r[k]) else r[k]
                                for k in ("site_id", "kind", "name", "unit_code", "hours")},
                 "geometry": {"type": "Point", "coordinates": [r["geometry"].x, r["geometry"].y]}}
                for r in sites.to_dict("records")]
    return GeoJSONResponse({"type": "FeatureCollection", "features": features})


@router.post("/sites/import", status_code=status.HTTP_201_CREATED,
             summary="导入站点表（整表校验）/ import a site list")
def import_list(
    _: Writer, _heavy: HeavySlot, settings: SettingsDep, store: StoreDep,
    file: Annotated[UploadFile, File(description="GeoJSON、CSV 或 Excel（.xlsx）")],
    crs: Annotated[str, Form(description="坐标系")] = "WGS-84",
    columns: Annotated[str | None, Form(description='列映射，如 {"name": "站点名称"}')] = None,
    replace: Annotated[bool, Form(description="整表替换（未列出的站点撤销）")] = True,
) -> dict:
    with saved_upload(file, settings.max_upload_mb,
                      suffixes=(".geojson", ".json", ".csv", ".xlsx")) as path:
        return import_sites(store, path, crs=crs, columns=parse_field_map(columns),
                            display_name=file.filename, replace=replace,
                            limits=settings.table_limits())


@router.post("/sites", status_code=status.HTTP_201_CREATED, summary="新增站点 / add a site")
def add(principal: Writer, store: StoreDep, site: NewSite) -> dict:
    add_site(store, site_id=site.site_id, kind=site.kind, name=site.name, lon=site.lon,
             lat=site.lat, crs=site.crs, unit_code=site.unit_code, hours=site.hours,
             source=f"api key {principal.key_id}")
    return {"site_id": site.site_id}


@router.post("/sites/{site_id}/move", summary="迁址（保留历史）/ move a site")
def move(principal: Writer, store: StoreDep, site_id: str, to: Move) -> dict:
    move_site(store, site_id, lon=to.lon, lat=to.lat, crs=to.crs,
              source=f"api key {principal.key_id}")
    return {"site_id": site_id}


@router.post("/sites/{site_id}/retire", summary="撤销站点（保留历史）/ retire a site")
def retire(principal: Writer, store: StoreDep, site_id: str) -> dict:
    store.change_site(site_id, source=f"api key {principal.key_id}", retire=True)
    return {"site_id": site_id}


@router.get("/sites/{site_id}/history", summary="站点的全部版本 / every version of a site")
def history(store: StoreDep, site_id: str) -> list[dict]:
    frame = store.site_history(site_id)
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]
