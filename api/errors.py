"""Domain errors to HTTP: one table from error class to status, one function to install it.

Every 4xx body is ``{"code", "message" (Chinese), "message_en", "detail"}``; a validation
failure adds the whole ``report``. Internals go to the log, never into the response.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from geo.errors import Conflict, InputError, NotFound, StoreUnavailable, ValidationFailed, WanggeError

log = logging.getLogger("wangge.api")

STATUS: list[tuple[type[WanggeError], int]] = [
    (ValidationFailed, 422),
    (NotFound, 404),
    (Conflict, 409),
    (StoreUnavailable, 503),
    (InputError, 400),
    (WanggeError, 400),
]


def status_for(exc: WanggeError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def error_body(exc: WanggeError) -> dict:
    body = exc.as_dict()
    if isinstance(exc, ValidationFailed):
        body["report"] = exc.report
    return body


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(WanggeError)
    async def _domain(_: Request, exc: WanggeError) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
                    for e in exc.errors()]
        return JSONResponse({"code": "invalid_request", "message": "请求参数不正确。",
                             "message_en": "The request's parameters are not valid.",
                             "detail": {"problems": problems}}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse({"code": "internal_error", "message": "服务器内部错误。",
                             "message_en": "Internal server error.", "detail": {}}, status_code=500)
