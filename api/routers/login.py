"""Logging in and out from a browser: ``/login`` and ``/logout`` (HTML forms, Chinese first).

Accounts are made with ``wangge users add``. A successful login starts a session (cookies set
by ``api/sessions.py``) and goes back to the page that asked for it (``next``, a path on this
site only). Failed logins are throttled per account and per client address by the store. Every
attempt, successful or not, is written to the audit log with the account name, the client
address and the outcome — never the password. These routes are not part of the API document:
systems use keys.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wangge.api.auth import session_principal
from wangge.api.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    clear_session_cookies,
    client_address,
    csrf_matches,
    csrf_refused,
    csrf_token,
    safe_next,
    session_token,
    set_session_cookies,
)
from wangge.geo.errors import TooLarge
from wangge.maps.login import login_page, logout_page, text
from wangge.store.users import LoginResult

router = APIRouter(tags=["login"], include_in_schema=False)

Lang = Annotated[str, Query(pattern="^(zh|en)$")]
MAX_FORM_BYTES = 16 * 1024  # a login form is a name, a password and a path
NO_STORE = {"Cache-Control": "no-store"}


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form, read up to MAX_FORM_BYTES (the first value of each field)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise TooLarge("登录表单过大。", "The login form is too large.",
                           limit_kb=MAX_FORM_BYTES // 1024)
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def _same_origin(request: Request) -> bool:
    """False when the browser says the form came from another site (``Origin``)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True    # browsers send Origin with form posts; tools may not (no cookie to abuse)
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _html(content: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers={**NO_STORE, **(headers or {})})


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, lang: Lang = "zh", next: str = "/maps/",  # noqa: A002
                     out: int = 0) -> Response:
    target = safe_next(next)
    token = session_token(request)
    if token is not None and await run_in_threadpool(session_principal, request, token):
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    info = text("logged_out", lang) if out else None
    return _html(login_page(lang=lang, next_path=target, info=info))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, lang: Lang = "zh") -> Response:
    state = request.app.state
    store, settings = state.store, state.settings
    form = await _form(request)
    name = form.get("name", "").strip()[:200]
    target = safe_next(form.get("next"))
    address = client_address(request)

    def audit(result: str, status: int, found: LoginResult | None = None) -> None:
        user = found.user if found else None
        detail = {"result": result, "address": address}
        if user is not None:
            detail["user_id"] = user.id
        store.audit("login", key_id=None, role=user.role if user else None, target=name,
                    status=status, detail=detail)

    if not _same_origin(request):
        await run_in_threadpool(audit, "foreign_origin", 403)
        return _html(login_page(lang=lang, next_path=target, name=name,
                                error=text("foreign", lang)), 403)
    found = await run_in_threadpool(store.check_login, name, form.get("password", ""), address,
                                    settings.login_policy())
    if found.reason == "throttled":
        await run_in_threadpool(audit, "throttled", 429, found)
        return _html(login_page(lang=lang, next_path=target, name=name,
                                error=text("throttled", lang, s=found.retry_after_s)), 429,
                     {"Retry-After": str(found.retry_after_s)})
    if not found.ok or found.user is None:
        await run_in_threadpool(audit, found.reason, 401, found)
        return _html(login_page(lang=lang, next_path=target, name=name,
                                error=text("wrong", lang)), 401)

    def start() -> str:
        idle, absolute = settings.session_limits()
        store.end_expired_sessions(idle=idle, absolute=absolute)
        token = store.start_session(found.user.id)
        audit("ok", 303, found)
        return token

    token = await run_in_threadpool(start)
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    set_session_cookies(response, request, settings, token)
    return response


@router.get("/logout", response_class=HTMLResponse)
async def logout_form(request: Request, lang: Lang = "zh") -> Response:
    token = session_token(request)
    principal = token and await run_in_threadpool(session_principal, request, token)
    if not principal or token is None:
        return RedirectResponse("/login" + ("?lang=en" if lang == "en" else ""), status_code=303,
                                headers=NO_STORE)
    return _html(logout_page(lang=lang, name=principal.name, role=principal.role,
                             csrf=csrf_token(token)))


@router.post("/logout")
async def logout(request: Request, lang: Lang = "zh") -> Response:
    state = request.app.state
    token = session_token(request)
    form = await _form(request)
    presented = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    principal = None
    if token is not None:
        principal = await run_in_threadpool(session_principal, request, token)
        if principal is not None and not csrf_matches(token, presented):
            await run_in_threadpool(
                state.store.audit, "logout", key_id=None, role=principal.role,
                target=principal.name, status=403,
                detail={"user_id": principal.user_id, "result": "csrf_failed",
                        "address": client_address(request)})
            raise csrf_refused()   # another site cannot log a person out either

    def end() -> None:
        state.store.end_session(token)
        if principal is not None:
            state.store.audit("logout", key_id=None, role=principal.role, target=principal.name,
                              status=303, detail={"user_id": principal.user_id,
                                                  "address": client_address(request)})

    if token is not None:
        await run_in_threadpool(end)
    query = {"out": 1, **({"lang": "en"} if lang == "en" else {})}
    response = RedirectResponse(f"/login?{urlencode(query)}", status_code=303, headers=NO_STORE)
    clear_session_cookies(response, request, state.settings)
    return response
