"""The grid workers' roster: import (planners, admins) and list without personal data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from wangge.api.auth import STAFF, Writer, require
from wangge.api.deps import SettingsDep, StoreDep
from wangge.api.heavy import HeavySlot
from wangge.api.uploads import parse_field_map, saved_upload
from wangge.workers import import_workers

router = APIRouter(tags=["workers"], dependencies=[Depends(require(STAFF))])


@router.get("/workers", summary="网格员名册（不含姓名电话）/ the roster without contacts")
def list_workers(store: StoreDep) -> list[dict]:
    return [{"worker_id": r.worker_id, "grid_code": r.grid_code, "full_time": bool(r.full_time)}
            for r in store.workers().itertuples(index=False)]


@router.post("/workers/import", status_code=status.HTTP_201_CREATED,
             summary="导入网格员名册（整体替换）/ import the roster, replacing it")
def import_roster(
    _: Writer, _heavy: HeavySlot, settings: SettingsDep, store: StoreDep,
    file: Annotated[UploadFile, File(description="CSV、Excel（.xlsx）或 JSON")],
    columns: Annotated[str | None, Form(description='列映射，如 {"worker_id": "工号"}')] = None,
) -> dict:
    with saved_upload(file, settings.max_upload_mb, suffixes=(".csv", ".xlsx", ".json")) as path:
        return import_workers(store, path, columns=parse_field_map(columns),
                              display_name=file.filename, limits=settings.table_limits())
