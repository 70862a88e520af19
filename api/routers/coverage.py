"""Coverage: the service circles of the sites in service, per unit; uncovered households and
areas; boundary gaps; grids without a full-time worker; suggested new sites; the network."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status

from wangge.api.auth import STAFF, Writer, require
from wangge.api.deps import RELEASE_HELP, ReleaseDep, SettingsDep, StoreDep
from wangge.api.geojson import GEOJSON, GeoJSONResponse
from wangge.api.heavy import HeavySlot
from wangge.api.uploads import saved_upload
from wangge.coverage import Coverage, gaps, import_network, suggest, uncovered
from wangge.settings import Settings
from wangge.store import ReleaseInfo, Store

router = APIRouter(tags=["coverage"], dependencies=[Depends(require(STAFF))])

Minutes = Annotated[float | None, Query(gt=0, le=120, description="分钟数，默认最大的服务圈")]
GEO = {200: {"content": {GEOJSON: {}}}}


def _coverage(request: Request, store: Store, settings: Settings, release: ReleaseInfo) -> Coverage:
    return request.app.state.coverage.get(store, release.id, settings)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.replace([np.inf, -np.inf], np.nan).astype(object)
    return clean.where(clean.notna(), None).to_dict("records")


def _features(frame: Any, columns: list[str]) -> GeoJSONResponse:
    import shapely

    feats = [{"type": "Feature", "properties": {c: row[c] for c in columns},
              "geometry": shapely.geometry.mapping(row["geometry"])}
             for row in _records(frame)]
    return GeoJSONResponse({"type": "FeatureCollection", "features": feats})


@router.get("/coverage", summary="各单元服务圈覆盖 / households within 5/10/15 minutes, per unit")
def coverage_table(request: Request, store: StoreDep, settings: SettingsDep, release: ReleaseDep,
                   level: Annotated[str | None, Query(
                       pattern="^(street|community|grid|microgrid)$")] = None) -> dict:
    cov = _coverage(request, store, settings, release)
    table = cov.stats.table if level is None else cov.stats.level(level)
    return {**cov.summary(), "units": _records(table),
            "grids_without_full_time_worker": cov.stats.grids_without_full_time_worker()}


@router.get("/coverage/uncovered", summary="服务圈外的住户（不含个人信息）/ households outside the circle")
def uncovered_people(request: Request, store: StoreDep, settings: SettingsDep,
                     release: ReleaseDep, minutes: Minutes = None,
                     limit: Annotated[int, Query(ge=1, le=100_000)] = 1000) -> dict:
    cov = _coverage(request, store, settings, release)
    people, _ = uncovered(cov, minutes)
    return {"method": cov.method, "minutes": minutes or max(cov.catchments.thresholds_min),
            "count": len(people), "households": _records(people.head(limit))}


@router.get("/coverage/uncovered-areas", response_class=GeoJSONResponse, responses=GEO,
            summary="各微网格未覆盖的区域 / uncovered area of every micro-grid (GeoJSON)")
def uncovered_area(request: Request, store: StoreDep, settings: SettingsDep,
                   release: ReleaseDep, minutes: Minutes = None) -> GeoJSONResponse:
    _, areas = uncovered(_coverage(request, store, settings, release), minutes)
    return _features(areas, ["code", "level", "area_m2", "share"])


@router.get("/coverage/catchments", response_class=GeoJSONResponse, responses=GEO,
            summary="各站点的服务圈（GeoJSON）/ catchment polygons of every site")
def catchments(request: Request, store: StoreDep, settings: SettingsDep, release: ReleaseDep,
               minutes: Minutes = None) -> GeoJSONResponse:
    polygons = _coverage(request, store, settings, release).catchments.polygons
    if minutes is not None:
        polygons = polygons[np.isclose(polygons["minutes"].to_numpy(float), minutes)]
    return _features(polygons, ["site_id", "minutes", "households", "area_m2"])


@router.get("/coverage/gaps", response_class=GeoJSONResponse, responses=GEO,
            summary="边界缝隙（GeoJSON）/ gaps between boundaries")
def boundary_gaps(store: StoreDep, settings: SettingsDep, release: ReleaseDep) -> GeoJSONResponse:
    return _features(gaps(store, release.id, settings), ["codes", "level", "severity", "area_m2"])


@router.get("/coverage/suggest", summary="建议新增站点 / where k new sites would cover most")
def suggest_sites(request: Request, store: StoreDep, settings: SettingsDep, release: ReleaseDep,
                  k: Annotated[int, Query(ge=1, le=20)] = 3, minutes: Minutes = None) -> dict:
    cov = _coverage(request, store, settings, release)
    limit = minutes or max(cov.catchments.thresholds_min)
    picks = suggest(cov, k=k, minutes=limit, settings=settings)
    rows = _records(picks.drop(columns="geometry"))
    return {"method": cov.method, "minutes": limit, "k": k, "sites": rows,
            "detail": {k_: v for k_, v in picks.attrs.items() if isinstance(v, (int, float, str))}}


@router.post("/network/import", status_code=status.HTTP_201_CREATED,
             summary="导入步行路网（.osm.pbf、GeoPackage、GeoJSON）/ import a walking network")
def network_import(
    _: Writer, _heavy: HeavySlot, settings: SettingsDep, store: StoreDep,
    file: Annotated[UploadFile, File(description=".osm.pbf 或线要素 GeoPackage/GeoJSON")],
    crs: Annotated[str | None, Form(description="线文件的坐标系（如 GCJ-02）")] = None,
    release: Annotated[int | None, Form(description=RELEASE_HELP)] = None,
) -> dict:
    rid = store.release_or_current(release).id
    with saved_upload(file, settings.max_upload_mb,
                      suffixes=(".pbf", ".gpkg", ".geojson", ".json")) as path:
        return import_network(store, path, release_id=rid, crs=crs).as_dict()
