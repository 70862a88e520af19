"""Boundary units of a release as GeoJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from wangge.api.auth import READ, require
from wangge.api.deps import BBoxDep, ReleaseDep, StoreDep
from wangge.api.geojson import GeoJSONResponse, feature, feature_collection
from wangge.geo.errors import InputError
from wangge.geo.levels import Level

router = APIRouter(tags=["units"], dependencies=[Depends(require(READ))])


@router.get("/units", response_class=GeoJSONResponse,
            summary="列出单元 / list units (GeoJSON FeatureCollection)")
def list_units(
    store: StoreDep, bbox: BBoxDep, release: ReleaseDep,
    level: Annotated[Level | None, Query(description="层级")] = None,
    parent: Annotated[str | None, Query(description="上级编码")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> GeoJSONResponse:
    rid = release.id
    filters = {"level": level.value if level else None, "parent_code": parent, "bbox": bbox}
    units = store.units(rid, limit=limit, offset=offset, **filters)
    total = store.count_units(rid, **filters)
    return GeoJSONResponse(feature_collection(units, rid, numberMatched=total,
                                              numberReturned=len(units)))


async def _code(code: str) -> str:
    """The unit code of the path; a blank one is refused before the store is asked."""
    if not code.strip():
        raise InputError("编码不能为空。", "Code must not be empty.")
    return code


@router.get("/units/{code}", response_class=GeoJSONResponse,
            summary="一个单元 / one unit (GeoJSON Feature)")
def get_unit(store: StoreDep, code: Annotated[str, Depends(_code)],
             release: ReleaseDep) -> GeoJSONResponse:
    units = store.unit(release.id, code)
    return GeoJSONResponse(feature(dict(units.to_dict("records")[0]), release.id))
