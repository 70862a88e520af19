"""Households: import a register, counts per unit, households of a unit, review queue, assign.

Personal fields (names, phones, ID numbers) are never served, to any role: no other system needs
them (data minimisation). Only location data and codes leave the service.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from wangge.api.auth import STAFF, Writer, require
from wangge.api.deps import ReleaseDep, SettingsDep, StoreDep
from wangge.api.heavy import HeavySlot
from wangge.api.uploads import parse_field_map, saved_upload
from wangge.geo.levels import Level
from wangge.households import assign_release, import_register, import_standard_addresses

router = APIRouter(tags=["households"], dependencies=[Depends(require(STAFF))])


def _records(frame) -> list[dict]:  # noqa: ANN001
    return [{k: (None if v != v else v) for k, v in row.items()}  # NaN -> None
            for row in frame.to_dict("records")]


@router.post("/households/import", status_code=status.HTTP_201_CREATED,
             summary="导入住户名册 / import a household register (CSV, Excel, JSON)",
             description="逐行报告有问题的行（不导入），其余导入；同一住户编号再次导入时更新。"
                         " / Bad rows are reported row by row and left out; the rest is imported; "
                         "a household id imported again is updated.")
def import_households(
    _: Writer, _heavy: HeavySlot, settings: SettingsDep, store: StoreDep,
    file: Annotated[UploadFile, File(description="CSV、Excel（.xlsx）或 JSON")],
    columns: Annotated[str | None, Form(description='列映射，如 {"external_id": "户号"}')] = None,
    crs: Annotated[str, Form(description="坐标的默认坐标系：WGS-84、CGCS2000、GCJ-02、BD-09")]
    = "WGS-84",
    kind: Annotated[Literal["register", "housing", "population"], Form(
        description="register：一户一行；housing：实有房屋，一房一行；population：实有人口，一人一行"
                    "（按房屋编码/地址编码/户号归户）")] = "register",
) -> dict:
    with saved_upload(file, settings.max_upload_mb, suffixes=(".csv", ".xlsx", ".json")) as path:
        result = import_register(store, path, columns=parse_field_map(columns), default_crs=crs,
                                 display_name=file.filename, match_config=settings.match_config(),
                                 limits=settings.table_limits(), kind=kind)
    return result.as_dict()


@router.post("/gazetteer/standard-addresses", status_code=status.HTTP_201_CREATED,
             summary="导入标准地址表（一标三实）为地名地址库 / import a standard address table",
             description="任意列顺序、中文表头（地址编码、街道、社区、街路巷、门牌号、小区、楼栋号、单元号、"
                         "户室号、经度、纬度…）；有问题的行逐行报告，其余成为新的当前地名地址库，"
                         "住户先按地址编码匹配。 / Any column layout with Chinese headers; bad rows "
                         "are reported, the rest becomes the current gazetteer; households are "
                         "matched by address code first.")
def import_standard_addresses_route(
    _: Writer, _heavy: HeavySlot, settings: SettingsDep, store: StoreDep,
    file: Annotated[UploadFile, File(description="CSV、Excel（.xlsx）或 JSON")],
    columns: Annotated[str | None, Form(description='列映射，如 {"code": "地址编码"}')] = None,
    crs: Annotated[str, Form(description="经纬度的默认坐标系")] = "CGCS2000",
) -> dict:
    with saved_upload(file, settings.max_upload_mb, suffixes=(".csv", ".xlsx", ".json")) as path:
        result = import_standard_addresses(store, path, columns=parse_field_map(columns),
                                           default_crs=crs, display_name=file.filename,
                                           limits=settings.table_limits())
    return result.as_dict()


@router.post("/households/assign", summary="重新分配住户到某版本 / re-run assignment")
def assign(_: Writer, _heavy: HeavySlot, store: StoreDep, release: ReleaseDep) -> dict:
    return assign_release(store, release.id)


@router.get("/units/{code}/households", summary="某单元的住户（不含个人信息）/ households of a unit")
def households_of(store: StoreDep, code: str, release: ReleaseDep,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
                  offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0) -> dict:
    rid = release.id
    unit = store.unit(rid, code)
    frame = store.households_of(rid, code, Level(unit["level"].iloc[0]), limit=limit,
                                offset=offset)
    return {"release_id": rid, "code": code, "households": _records(frame)}


@router.get("/households/counts", summary="各单元户数和人数 / households and residents per unit")
def counts(store: StoreDep, release: ReleaseDep,
           level: Annotated[Level | None, Query()] = None) -> dict:
    rid = release.id
    frame = store.unit_counts(rid)
    if level is not None:
        frame = frame[frame["level"] == level.value]
    return {"release_id": rid, "counts": _records(frame)}


@router.get("/releases/{release_id}/moves", summary="该版本相对上一版本变动的住户 / who moved")
def moves(store: StoreDep, release_id: int) -> dict:
    store.release(release_id)
    return {"release_id": release_id, "moves": _records(store.moves(release_id))}
