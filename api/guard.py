"""An ASGI middleware for what every write shares: authentication first, a body size limit,
and the audit log.

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware`` so reads (the hot lookups) pass
straight through at no cost. A write is authenticated before a byte of its body is read, so
that a refusal — 401, 429, or 413 for a body larger than the limit (by ``Content-Length``, or
as soon as a chunked upload grows past it) — is answered early and still recorded with the
key and role that sent it. A write authenticated by a browser session must carry the
session's CSRF token (``api/sessions.py``), or it is refused here with 403. Every request with a
writing method is recorded after it is answered: who (key id, or the account of a session, and
the role), what (method and path), and the status. Logging in and out are writes without a
caller yet: they pass unauthenticated (the body limit still applies) and record themselves.
"""

from __future__ import annotations

import logging

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wangge.api.auth import authenticate
from wangge.api.errors import error_body, error_headers, status_for
from wangge.api.sessions import check_csrf
from wangge.geo.errors import TooLarge, WanggeError
from wangge.store.errors import StoreUnavailable

log = logging.getLogger("wangge.audit")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Writes that come before a caller is known; their routes check and audit them themselves.
SELF_AUDITED = frozenset({"/login", "/logout"})


def _too_large(limit_mb: int) -> TooLarge:
    return TooLarge(f"请求体超过 {limit_mb} MB 上限。", f"The request body exceeds {limit_mb} MB.",
                    limit_mb=limit_mb)


class Guard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        public = scope["path"] in SELF_AUDITED
        if not public:
            try:
                request = Request(scope)
                principal = await authenticate(request)
                if principal.by_session:
                    check_csrf(request)
            except WanggeError as exc:
                await self._refuse(scope, send, exc)
                return
        state = scope["app"].state
        limit_mb = state.settings.max_upload_mb
        limit = limit_mb * 1024 * 1024
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(scope, send, _too_large(limit_mb))
            return
        seen = 0
        status = 500
        over: TooLarge | None = None

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = _too_large(limit_mb)
                    raise over
            return message

        async def watched(message: Message) -> None:
            # A body parser may turn the refusal raised in ``counted`` into an answer of its
            # own (a 400 or 422 about a broken form); the caller gets the 413 instead.
            nonlocal status
            if over is not None:
                if message["type"] == "http.response.start":
                    status = await _answer(send, over)
                return
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, counted, watched)
        finally:
            if not public:
                await self._audit(scope, status)

    async def _refuse(self, scope: Scope, send: Send, exc: WanggeError) -> None:
        """Answer with ``exc`` without reading the body, and record the refusal."""
        await self._audit(scope, await _answer(send, exc))

    @staticmethod
    async def _audit(scope: Scope, status: int) -> None:
        principal = scope.get("state", {}).get("principal")
        action = f"{scope['method']} {scope['path']}"
        detail = principal.audit_detail() if principal is not None else None
        try:
            await run_in_threadpool(
                scope["app"].state.store.audit, action,
                key_id=getattr(principal, "key_id", None), role=getattr(principal, "role", None),
                status=status, detail=detail)
        except StoreUnavailable:  # the store has logged the outage; the answer says 503 anyway
            log.warning("audit log not written for %s (status %s): database unreachable",
                        action, status)
        except Exception:  # the answer is already given; a failed audit is logged loudly
            log.exception("could not write the audit log for %s (status %s)", action, status)


async def _answer(send: Send, exc: WanggeError) -> int:
    """Send the standard error answer for ``exc``; return its status."""
    payload = orjson.dumps(error_body(exc))
    status = status_for(exc)
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(payload)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (error_headers(exc) or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
    return status
