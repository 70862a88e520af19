"""The FastAPI application factory. Serve with ``uvicorn api.app:create_app --factory``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import add_exception_handlers
from api.routers import ROUTERS
from store import open_store
from wangge.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.store = open_store(settings.database_url)
        try:
            yield
        finally:
            app.state.store.close()

    app = FastAPI(title="wangge 网格 API",
                  description="社区网格边界：街道、社区、网格、微网格的版本化存储与校验。\n\n"
                              "Community grid boundaries: versioned storage and validation.",
                  version="0.1.0", lifespan=lifespan)
    add_exception_handlers(app)
    for router, prefix in ROUTERS:
        app.include_router(router, prefix=prefix)
    return app
