"""Liveness and what the service is serving."""

from __future__ import annotations

from fastapi import APIRouter, Request

from wangge.api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="服务状态 / service health")
def health(request: Request, store: StoreDep) -> dict:
    """``warm``: the caches prepared at start (``WANGGE_WARM_MAPS``), and again after the
    store changed, for the current release's maps and plans: ``off``, ``warming``, ``done``
    or ``failed`` (then pages compute what they need when first opened)."""
    current = store.current_release()
    return {"status": "ok", "backend": store.backend,
            "current_release": current.id if current else None,
            "warm": request.app.state.warmer.state}
