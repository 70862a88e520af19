"""The API key (and the browser session) in the OpenAPI document: ``securitySchemes`` and, per
operation, ``security``.

Keys are checked by :func:`wangge.api.auth.authenticate`; this module only describes them, so
that ``/docs`` shows an Authorize button and generated clients send the key. An operation is
marked as needing a key exactly when ``authenticate`` is among its dependencies, so the document
cannot drift from what the service does (``/health`` and the document itself stay open).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from wangge.api.auth import authenticate
from wangge.api.sessions import SESSION_COOKIE

SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKeyHeader": {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "API 密钥（wangge keys create 生成，形如 wg_…）/ an API key made by "
                       "`wangge keys create` (wg_…)",
    },
    "BearerKey": {
        "type": "http", "scheme": "bearer",
        "description": "同一密钥放在 Authorization: Bearer 中 / the same key as a bearer token",
    },
    "SessionCookie": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "浏览器登录（/login）后的会话；写操作还须带 X-CSRF-Token 头（取自 wangge_csrf "
                       "cookie）/ the session of a browser login (/login); writes also need the "
                       "X-CSRF-Token header (from the wangge_csrf cookie)",
    },
}
# Any one of them will do: alternatives, not all together.
REQUIREMENT: list[dict[str, list[str]]] = [{name: []} for name in SCHEMES]


def _needs_key(dependant: Dependant) -> bool:
    return any(dep.call is authenticate or _needs_key(dep) for dep in dependant.dependencies)


def add_security(schema: dict[str, Any], routers: Iterable[tuple[APIRouter, str]]) -> dict[str, Any]:
    """Add the key's schemes to ``schema`` and ``security`` to every operation of ``routers``
    (router, prefix) that needs one."""
    schema.setdefault("components", {})["securitySchemes"] = SCHEMES
    for router, prefix in routers:
        _mark(schema, router, prefix)
    return schema


def _mark(schema: dict[str, Any], router: APIRouter, prefix: str) -> None:
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema.get("paths", {}).get(prefix + route.path_format, {})
        needs = _needs_key(route.dependant)
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is not None:
                operation["security"] = REQUIREMENT if needs else []
