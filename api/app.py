"""The FastAPI application factory. Serve with ``uvicorn wangge.api.app:create_app --factory``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wangge.api.auth import KeyRing, RateLimiter
from wangge.api.compression import BrowserGZip
from wangge.api.docs_pages import add_docs
from wangge.api.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    add_exception_handlers,
    share_error_responses,
)
from wangge.api.guard import Guard
from wangge.api.heavy import HeavySlots
from wangge.api.routers import ROUTERS
from wangge.api.security import add_security
from wangge.coverage import CoverageCache
from wangge.gcpause import freeze_heap
from wangge.map_pages import warm
from wangge.map_tiles import TileCache
from wangge.membership import MembershipService
from wangge.plans import PlanService
from wangge.settings import Settings
from wangge.store import open_store
from wangge.warmup import Warmer

log = logging.getLogger(__name__)


def _register_error_schema(app: FastAPI) -> None:
    """Put ErrorBody and the error answers into the OpenAPI components (operations refer to
    them), and the API key's security schemes (an Authorize button in /docs; generated clients
    send the key)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = \
                ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            app.openapi_schema = add_security(share_error_responses(schema), ROUTERS)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def map_assets_dir() -> Path | None:
    """The local Leaflet files (``python -m wangge.maps.assets``), or None: the maps use the CDN,
    and a warning says which files are missing or of another version."""
    from wangge.maps.assets import default_dir, missing

    folder = default_dir()
    lacking = missing(folder)
    if not lacking:
        return folder
    log.warning("地图页面从公共 CDN 加载 Leaflet（内网打不开）：%s 缺少或版本不符 %s；请运行 "
                "python -m wangge.maps.assets / the map pages load Leaflet from the public CDN "
                "(blank on an intranet): %s lacks or has another version of %s; run "
                "python -m wangge.maps.assets", folder, ", ".join(lacking), folder,
                ", ".join(lacking))
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.store = store = open_store(settings.database_url)
        app.state.keyring = keyring = KeyRing(store)
        app.state.limiter = RateLimiter(settings.rate_limit_per_s / settings.workers,
                                        settings.rate_limit_burst / settings.workers)
        app.state.membership = service = MembershipService(
            store, poll_s=settings.refresh_poll_s, match_config=settings.match_config())
        service.on_refresh.append(keyring.refresh)
        app.state.coverage = CoverageCache()
        app.state.map_tiles = TileCache()
        app.state.plans = PlanService(store, settings)
        app.state.heavy_slots = HeavySlots(settings.heavy_per_key, settings.heavy_total)
        service.start()

        def warm_all() -> bool:
            maps = warm(store, settings, app.state.coverage, app.state.map_tiles,
                        app.state.map_assets)
            plans = app.state.plans.warm()
            freeze_heap()    # what was just built lives long: out of the collector's way
            return maps and plans

        # The current release's maps and plan base, prepared at start and again after a
        # change (what /health says as "warm").
        app.state.warmer = warmer = Warmer(store, warm_all, settle_s=settings.rewarm_settle_s)
        if settings.warm_maps:
            warmer.start()
            service.on_refresh.append(warmer.check)
        freeze_heap()
        try:
            yield
        finally:
            service.stop()
            store.close()

    app = FastAPI(title="wangge 网格 API",
                  description="社区网格边界：街道、社区、网格、微网格的版本化存储与校验。\n\n"
                              "Community grid boundaries: versioned storage and validation.",
                  version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # add_docs: the same pages from local files
    add_docs(app)
    assets = map_assets_dir()
    if assets is not None:
        app.mount("/maps/assets", StaticFiles(directory=assets), name="map-assets")
    app.state.map_assets = "/maps/assets" if assets is not None else None
    app.add_middleware(Guard)
    app.add_middleware(BrowserGZip)  # outermost: the pages, their files, the API's documents
    add_exception_handlers(app)
    _register_error_schema(app)
    for router, prefix in ROUTERS:
        app.include_router(router, prefix=prefix, responses=ERROR_RESPONSES)
    return app
