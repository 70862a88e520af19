"""Domain errors to HTTP: one table from error class to status, one function to install it.

Every 4xx/5xx body is ``{"code", "message" (Chinese), "message_en", "detail"}``; a validation
failure adds the whole ``report``. Internals go to the log, never into the response. While the
database is unreachable, routes that need it answer 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from wangge.api.access_errors import Forbidden, RateLimited, Unauthenticated
from wangge.api.sessions import login_redirect, wants_page
from wangge.bulk import ClusterUnavailable
from wangge.geo.errors import (
    Conflict,
    InputError,
    NotFound,
    NotPermitted,
    TooLarge,
    ValidationFailed,
    WanggeError,
)
from wangge.geocode.online.base import GeocoderError, GeocoderQuotaError, GeocoderUnavailable
from wangge.store.errors import StoreUnavailable

log = logging.getLogger("wangge.api")

# Seconds a client is asked to wait before retrying when the database is unavailable: about
# the time a PostgreSQL restart or failover takes.
STORE_RETRY_AFTER_S = 5

STATUS: list[tuple[type[WanggeError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotPermitted, 403),
    (RateLimited, 429),
    (ClusterUnavailable, 503),
    (GeocoderQuotaError, 503),
    (GeocoderUnavailable, 503),
    (GeocoderError, 502),
    (ValidationFailed, 422),
    (TooLarge, 413),
    (NotFound, 404),
    (Conflict, 409),
    (StoreUnavailable, 503),
    (InputError, 400),
    (WanggeError, 400),
]


class ErrorBody(BaseModel):
    """Every 4xx/5xx body."""

    code: str = Field(examples=["invalid_crs"], description="machine-readable error code")
    message: str = Field(examples=["无法识别的坐标系“foo”。"], description="Chinese message")
    message_en: str = Field(examples=["Unknown coordinate reference system 'foo'."])
    detail: dict[str, Any] = Field(default_factory=dict)
    report: dict[str, Any] | None = Field(
        default=None, description="for validation_failed: the whole validation report")


_ERRORS: list[tuple[int, str, str]] = [  # status, name under components/responses, description
    (400, "BadInput", "输入有误 / bad input (file, CRS, parameters)"),
    (401, "Unauthenticated", "缺少或无效的 API 密钥 / missing or invalid API key"),
    (403, "Forbidden", "无权访问 / the key's role may not do this"),
    (404, "NotFound", "不存在 / not found"),
    (409, "Conflict", "冲突 / conflict"),
    (413, "TooLarge", "文件过大 / upload too large"),
    (422, "Invalid", "校验未通过或请求参数不正确 / validation failed or invalid request"),
    (429, "RateLimited", "请求过于频繁 / rate limit exceeded (see Retry-After)"),
    (503, "Unavailable", "数据库暂时不可用 / store unavailable (see Retry-After)"),
]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    for status, _, text in _ERRORS
}


def share_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the error answers once, under ``components/responses``, and refer to them.

    Every operation lists the same nine; written out in each they were half the document that
    /docs and /redoc download and parse.
    """
    shared = schema.setdefault("components", {}).setdefault("responses", {})
    refs: dict[str, dict[str, str]] = {}
    for status, name, _ in _ERRORS:
        shared[name] = ERROR_RESPONSES[status]
        refs[str(status)] = {"$ref": f"#/components/responses/{name}"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.get("responses", {}) if isinstance(operation, dict) else {}
            for status, ref in refs.items():
                if answers.get(status) == ERROR_RESPONSES[int(status)]:
                    answers[status] = ref
    return schema


def status_for(exc: WanggeError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def error_body(exc: WanggeError) -> dict:
    body = exc.as_dict()
    if isinstance(exc, ValidationFailed):
        body["report"] = exc.report
    return body


def error_headers(exc: WanggeError) -> dict[str, str] | None:
    """Headers an error's answer carries: when to retry, or how to authenticate."""
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, StoreUnavailable):
        return {"Retry-After": str(STORE_RETRY_AFTER_S)}
    if isinstance(exc, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    return None


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(WanggeError)
    async def _domain(request: Request, exc: WanggeError) -> Response:
        if isinstance(exc, Unauthenticated) and wants_page(request):
            return login_redirect(request)   # a browser opening a map: the login page instead
        return JSONResponse(error_body(exc), status_code=status_for(exc),
                            headers=error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
                    for e in exc.errors()]
        return JSONResponse({"code": "invalid_request", "message": "请求参数不正确。",
                             "message_en": "The request's parameters are not valid.",
                             "detail": {"problems": problems}}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        known = {404: ("not_found", "请求的地址不存在。", "No such path."),
                 405: ("method_not_allowed", "不支持该请求方法。", "Method not allowed.")}
        code, zh, en = known.get(exc.status_code, ("http_error", "请求无法处理。", str(exc.detail)))
        return JSONResponse({"code": code, "message": zh, "message_en": en, "detail": {}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        # Starlette re-raises after this answer and the server then closes the connection:
        # saying so keeps a keep-alive client from sending its next request into a closed socket.
        return JSONResponse({"code": "internal_error", "message": "服务器内部错误。",
                             "message_en": "Internal server error.", "detail": {}}, status_code=500,
                            headers={"Connection": "close"})
