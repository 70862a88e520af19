"""Releases (boundary versions): list, inspect, validate an upload, import, publish (now or on
a future effective date)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from pydantic import BaseModel, Field

from wangge.api.auth import READ, Staff, Writer, require
from wangge.api.deps import SettingsDep, StoreDep
from wangge.api.heavy import HeavySlot
from wangge.api.uploads import parse_field_map, saved_upload
from wangge.boundaries import Checked, check_file, publish, store_checked
from wangge.compare import compare_releases

router = APIRouter(tags=["releases"], dependencies=[Depends(require(READ))])

_FILE = Annotated[UploadFile, File(description="GeoJSON, GeoPackage 或 zip 压缩的 Shapefile")]
_CRS = Annotated[str | None, Form(description="源坐标系，如 EPSG:4490、GCJ-02、BD-09；默认读文件声明",
                                  examples=["GCJ-02"])]
_LEVEL = Annotated[str | None, Form(description="整个文件的层级（文件无层级字段时）", examples=["grid"])]
_FIELDS = Annotated[str | None, Form(description='字段映射，JSON {"code": "WGBM"} 或 code=WGBM,name=WGMC')]
_REPAIR = Annotated[bool, Form(description="修复无效几何并消除低于容差的空隙/重叠，报告每一处修改")]


@router.get("/releases", summary="全部版本 / all releases, newest first")
def list_releases(store: StoreDep) -> list[dict]:
    return [r.as_dict() for r in store.releases()]


@router.get("/releases/{release_id}", summary="一个版本 / one release")
def get_release(release_id: int, store: StoreDep) -> dict:
    return store.release(release_id).as_dict()


@router.get("/releases/{release_id}/report", summary="版本的校验报告 / validation report")
def get_report(release_id: int, store: StoreDep) -> dict:
    store.release(release_id)
    return store.report(release_id) or {}


@router.post("/validate", summary="校验上传的文件，不保存 / validate an upload, store nothing")
def validate_upload(_: Staff, heavy: HeavySlot, settings: SettingsDep, file: _FILE, crs: _CRS = None,
                    level: _LEVEL = None, fields: _FIELDS = None, repair: _REPAIR = False) -> dict:
    with saved_upload(file, settings.max_upload_mb) as path:
        # in a child, only the answer travels back, not the units read
        return heavy.run(path, check_file, path, settings.validation_config(), crs=crs,
                         fields=parse_field_map(fields), level=level, do_repair=repair,
                         display_name=file.filename, then=Checked.as_dict)


@router.post("/releases", status_code=status.HTTP_201_CREATED,
             summary="导入上传的文件为新版本 / import an upload as a new release",
             description="默认存为草稿并附报告（有错误也保存）；make_current=true 时有错误则拒绝且不保存。"
                         " / Stored as a draft with its report by default (errors or not); with "
                         "make_current=true a file with errors is refused and nothing is stored.")
def import_release(
    _: Writer, heavy: HeavySlot, settings: SettingsDep, store: StoreDep, file: _FILE, crs: _CRS = None,
    level: _LEVEL = None, fields: _FIELDS = None, repair: _REPAIR = False,
    make_current: Annotated[bool, Form(description="同时设为当前版本")] = False,
    effective_date: Annotated[date | None, Form(
        description="生效日期，默认今天；make_current=true 且为将来日期时定时生效")] = None,
    note: Annotated[str | None, Form(description="版本说明")] = None,
) -> dict:
    with saved_upload(file, settings.max_upload_mb) as path:
        checked = heavy.run(path, check_file, path, settings.validation_config(), crs=crs,
                            fields=parse_field_map(fields), level=level, do_repair=repair,
                            display_name=file.filename)
    info = store_checked(store, checked, source=file.filename or "upload",
                         make_current=make_current, effective_date=effective_date, note=note)
    return {"release": info.as_dict(), **checked.as_dict(with_geometry=False)}


class Publication(BaseModel):
    effective_date: date | None = Field(
        default=None, examples=["2027-01-01"],
        description="生效日期（中国日期 YYYY-MM-DD），默认为版本自己的生效日期；今天或以前：立即生效；"
                    "将来：定时生效，当天零点（UTC+8）起成为当前版本 / China date; today or earlier: "
                    "in force now; later: scheduled, current from that day's midnight (UTC+8)")


@router.post("/releases/{release_id}/publish",
             summary="发布：立即生效或定时生效（有错误则拒绝）/ publish: in force now or on a future date "
                     "(refused if it has errors)",
             description="请求体可省略，或为 {\"effective_date\": \"2027-01-01\"}。已生效过的版本不能改期，"
                         "不带日期发布即从今天起重新生效（回退）。 / The body is optional. A release that "
                         "has been in force keeps its date: published again without one it is back in "
                         "force from today (a roll back).")
def publish_release(_: Writer, release_id: int, store: StoreDep,
                    body: Publication | None = None) -> dict:
    return publish(store, release_id, body.effective_date if body else None).as_dict()


@router.get("/releases/{release_id}/compare/{other_id}",
            summary="比较两个版本：变化的单元和调整的住户 / two releases: changed units, who moves")
def compare(release_id: int, other_id: int, store: StoreDep,
            level: Annotated[Literal["street", "community", "grid", "microgrid"], Query()] = "grid"
            ) -> dict:
    return compare_releases(store, release_id, other_id, level)
