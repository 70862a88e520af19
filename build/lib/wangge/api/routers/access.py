"""API keys and the audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, Field

from wangge.api.auth import ADMIN, require
from wangge.api.deps import StoreDep

router = APIRouter(tags=["access"], dependencies=[Depends(require(ADMIN))])


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["12345 热线派单系统"])
    role: str = Field(pattern="^(viewer|integrator|planner|admin)$", examples=["integrator"])


@router.get("/keys", summary="全部 API 密钥（不含密钥本身）/ all API keys, secrets not shown")
def list_keys(store: StoreDep) -> list[dict]:
    return [k.as_dict() for k in store.keys()]


@router.post("/keys", status_code=status.HTTP_201_CREATED,
             summary="新建 API 密钥（仅此一次显示）/ make a key; it is shown only this once")
def create_key(store: StoreDep, new: NewKey) -> dict:
    record, key = store.create_key(new.name, new.role)
    return {**record.as_dict(), "key": key}


@router.post("/keys/{key_id}/revoke", summary="吊销 API 密钥 / revoke a key")
def revoke_key(store: StoreDep, key_id: int) -> dict:
    return store.revoke_key(key_id).as_dict()


@router.get("/audit", summary="审计日志（写操作与个人信息读取）/ the audit log")
def audit(store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
          offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0) -> list[dict]:
    return store.audit_entries(limit=limit, offset=offset)
