"""Browser sessions: the cookies, the CSRF token of a session, and the way to the login page.

A person logs in at ``/login`` (see ``api/routers/login.py``) and gets two cookies:

- ``wangge_session``: the session token, 32 random bytes (the store keeps only its SHA-256);
  ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (not sent with cross-site writes),
  ``Secure`` when the page came over https;
- ``wangge_csrf``: the session's CSRF token, readable by the page's scripts (not HttpOnly).
  It is an HMAC of the session token, so it is bound to the session and needs no storage.

A write authenticated by the session cookie must echo the CSRF token in ``X-CSRF-Token`` (the
guard middleware refuses it with 403 otherwise): another site can make a browser send the
cookie, but cannot read it to copy it into a header. Calls with an API key need no token.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wangge.api.access_errors import Forbidden
from wangge.settings import Settings

SESSION_COOKIE = "wangge_session"
CSRF_COOKIE = "wangge_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"                     # the same token in a plain HTML form (log out)
# Paths of HTML pages: an unauthenticated browser is sent to the login page instead of a 401.
PAGE_PREFIXES = ("/maps",)
DEFAULT_NEXT = "/maps/"


class CsrfRefused(Forbidden):
    """A browser write without the session's CSRF token."""

    code = "csrf_failed"


def csrf_refused() -> CsrfRefused:
    return CsrfRefused(
        "缺少或无效的 CSRF 令牌：浏览器中的写操作须在请求头 X-CSRF-Token 中带上 Cookie wangge_csrf "
        "的值（请刷新页面或重新登录）。",
        "Missing or invalid CSRF token: a write from a browser must send the value of the "
        "wangge_csrf cookie in the X-CSRF-Token header (reload the page or log in again).")


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC of its token (not the token, not its stored hash)."""
    return hmac.new(session_token.encode("utf-8"), b"wangge csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session_token),
                                                   (presented or "").strip())


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token or None


def check_csrf(request: Request) -> None:
    """Refuse a session-authenticated write whose ``X-CSRF-Token`` is not the session's."""
    token = session_token(request)
    if token is None or not csrf_matches(token, request.headers.get(CSRF_HEADER)):
        raise csrf_refused()


def is_secure(request: Request, settings: Settings) -> bool:
    """Whether the cookies get ``Secure``: over https, or always if so configured."""
    if settings.cookie_secure == "always" or request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return settings.trust_forwarded_proto and forwarded == "https"


def set_session_cookies(response: Response, request: Request, settings: Settings,
                        token: str) -> None:
    secure = is_secure(request, settings)
    max_age = int(settings.session_limits()[1].total_seconds())
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True,
                        samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, csrf_token(token), max_age=max_age, path="/",
                        httponly=False, samesite="lax", secure=secure)


def clear_session_cookies(response: Response, request: Request, settings: Settings) -> None:
    secure = is_secure(request, settings)
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", httponly=httponly, samesite="lax", secure=secure)


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return DEFAULT_NEXT
    return target


def wants_page(request: Request) -> bool:
    """A browser asking for an HTML page (not a script or a system calling the API)."""
    return (request.method in ("GET", "HEAD")
            and any(request.url.path == p or request.url.path.startswith(p + "/")
                    for p in PAGE_PREFIXES)
            and "text/html" in request.headers.get("accept", ""))


def login_redirect(request: Request) -> RedirectResponse:
    """303 to the login page, coming back to this page afterwards (in the page's language)."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": here}
    if request.query_params.get("lang") == "en":
        query["lang"] = "en"
    return RedirectResponse(f"/login?{urlencode(query)}", status_code=303,
                            headers={"Cache-Control": "no-store"})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"
