"""A plan to and from desktop GIS: GeoPackage export, import of edited units as edits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from wangge.api.auth import STAFF, Writer, require
from wangge.api.deps import SettingsDep
from wangge.api.heavy import HeavySlot
from wangge.api.routers.plans import PlansDep
from wangge.api.uploads import saved_upload
from wangge.plan_files import export_bytes, import_plan, read_plan_file

router = APIRouter(tags=["plans"], dependencies=[Depends(require(STAFF))])

GPKG = "application/geopackage+sqlite3"
_FILE = Annotated[UploadFile, File(description="QGIS 等编辑后的 GeoPackage（按层级分图层）或 GeoJSON")]
_CRS = Annotated[str | None, Form(description="源坐标系，默认读文件声明", examples=["EPSG:4490"])]


@router.get("/plans/{plan_id}/export.gpkg", response_class=Response,
            responses={200: {"content": {GPKG: {}}, "description": "GeoPackage"}},
            summary="导出方案为 GeoPackage（每个层级一个图层，CGCS2000）/ the plan as a GeoPackage, "
                    "one layer per level")
async def export_gpkg(plan_id: int, plans: PlansDep) -> Response:
    data = await run_in_threadpool(export_bytes, plans, plan_id)
    return Response(data, media_type=GPKG, headers={
        "Content-Disposition": f'attachment; filename="plan-{plan_id}.gpkg"'})


@router.post("/plans/{plan_id}/import",
             summary="导入桌面 GIS 中的修改为编辑 / import units edited in a desktop GIS as edits",
             description="文件中改变了上级的微网格成为 move，改了名称的成为 rename，改了边界的成为 "
                         "reshape；先在方案副本上检查，任何编辑被拒绝或带来新错误则整体拒绝，方案不变。"
                         " / Changed parents become moves, names renames, outlines reshapes; tried "
                         "on a copy first: a refused edit or new errors refuse the whole import.")
def import_file(plan_id: int, principal: Writer, plans: PlansDep, heavy: HeavySlot,
                settings: SettingsDep, file: _FILE, crs: _CRS = None) -> dict:
    with saved_upload(file, settings.max_upload_mb) as path:
        edited = heavy.run(path, read_plan_file, path, display_name=file.filename, crs=crs,
                           config=settings.validation_config())
    return import_plan(plans, plan_id, edited, admin=principal.role == "admin",
                       author=principal.name, source=file.filename or "file")
