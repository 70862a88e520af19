"""The API's documentation pages: ``/docs`` (Swagger UI, reading the OpenAPI 3.0 copy of the
document at ``/docs/openapi.json``, see :mod:`wangge.api.openapi_30`) and ``/redoc`` (ReDoc 3,
reading ``/openapi.json`` itself).
"""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from wangge.api.openapi_30 import downgrade

log = logging.getLogger(__name__)

DOCS_OPENAPI = "/docs/openapi.json"

def docs_assets_dir() -> Path | None:
    """The local Swagger UI and ReDoc files (``python -m wangge.maps.assets``), or None."""
    from wangge.maps.assets import default_dir, docs_missing

    folder = default_dir()
    return folder if folder.is_dir() and not docs_missing(folder) else None


# validatorUrl null: no badge image from validator.swagger.io. defaultModelsExpandDepth -1: no
# "Schemas" section under the operations (each operation still shows its own schemas, and ReDoc
# lists them all): less to render before the page answers.
SWAGGER_UI_PARAMETERS: dict[str, object] = {"validatorUrl": None, "defaultModelsExpandDepth": -1}


def add_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI), ``/docs/oauth2-redirect`` and ``/redoc`` (ReDoc) from local files.

    The files are served under ``/docs/assets/`` when they are in the cache, so the pages work on
    an intranet; otherwise the pages link the public CDN and a warning says so. No page loads
    anything else from another host (no Google Fonts, no online validator badge).
    """
    from wangge.maps.assets import DOCS_ASSETS

    folder = docs_assets_dir()
    if folder is not None:
        for sub in sorted({a.local.split("/")[0] for a in DOCS_ASSETS.values()}):
            app.mount(f"/docs/assets/{sub}", StaticFiles(directory=folder / sub),
                      name=f"docs-{sub}")
    else:
        log.warning("API 文档 /docs、/redoc 从公共 CDN 加载（内网打不开）：请运行 "
                    "python -m wangge.maps.assets / the API docs load Swagger UI and ReDoc from "
                    "the public CDN (blank on an intranet): run python -m wangge.maps.assets")

    def url(request: Request, name: str) -> str:
        asset = DOCS_ASSETS[name]
        if folder is None:
            return asset.cdn
        return f"{request.scope.get('root_path', '').rstrip('/')}/docs/assets/{asset.local}"

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '').rstrip('/')}{DOCS_OPENAPI}"

    downgraded: list[dict[str, Any]] = []    # made at the first request: the routes are known

    @app.get(DOCS_OPENAPI, include_in_schema=False)
    async def openapi_30(request: Request) -> JSONResponse:
        if not downgraded:
            downgraded.append(downgrade(app.openapi()))
        doc = downgraded[0]
        # Behind a proxy's prefix, "Try it out" must call the API under it: the server entry
        # FastAPI adds to /openapi.json for the same request.
        root = request.scope.get("root_path", "").rstrip("/")
        if root and app.root_path_in_servers \
                and root not in {s.get("url") for s in doc.get("servers", [])}:
            doc = {**doc, "servers": [{"url": root}, *doc.get("servers", [])]}
        return JSONResponse(doc)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request), title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{request.scope.get('root_path', '').rstrip('/')}"
                                f"{app.swagger_ui_oauth2_redirect_url}",
            swagger_js_url=url(request, "swagger_js"), swagger_css_url=url(request, "swagger_css"),
            swagger_favicon_url=url(request, "swagger_favicon"),
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})})

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    # ReDoc's sidebar shows a logo from cdn.redoc.ly (hidden when it fails to load): images
    # from this server (and the CDN when the local files are missing) only, so no request leaves.
    redoc_images = "img-src 'self' data: blob:" + ("" if folder else " https://cdn.jsdelivr.net")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        # ReDoc 3 reads the document as FastAPI writes it (3.1): its download button gives
        # clients the original. It draws what is in view, not every operation at once.
        root = request.scope.get("root_path", "").rstrip("/")
        html = REDOC_PAGE.format(title=escape(f"{app.title} - ReDoc"),
                                 favicon=escape(url(request, "swagger_favicon"), quote=True),
                                 spec=escape(f"{root}{app.openapi_url}", quote=True),
                                 script=escape(url(request, "redoc_js"), quote=True))
        return HTMLResponse(html, headers={"Content-Security-Policy": redoc_images})


# ReDoc 3's own form: a <redoc> element and its bundle as a module. No usage data is sent to
# Redocly (disable-telemetry); the page says in Chinese and English that it needs JavaScript.
REDOC_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{favicon}">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>API 文档需要启用 JavaScript。/ The API documentation needs JavaScript.</noscript>
<redoc spec-url="{spec}" disable-telemetry="true"></redoc>
<script type="module" src="{script}"></script>
</body>
</html>
"""
