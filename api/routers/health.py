"""Liveness and what the service is serving."""

from __future__ import annotations

from fastapi import APIRouter

from wangge.api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="服务状态 / service health")
def health(store: StoreDep) -> dict:
    current = store.current_release()
    return {"status": "ok", "backend": store.backend,
            "current_release": current.id if current else None}
