"""Who is calling, and may they: API keys, browser sessions, roles, and a per-caller rate limit.

A key travels as ``X-API-Key: <key>`` or ``Authorization: Bearer <key>`` (systems); a person
with a browser logs in and carries a session cookie (``api/sessions.py``). The caller is, in
this order: the key of the header, else the session of the cookie, else the anonymous role if
one is configured. Roles (the same for keys and accounts):

- ``integrator`` — other systems: lookups and boundaries, codes and names only;
- ``viewer`` — leaders and staff: what integrators see, plus counts, households without
  personal data, and which workers a grid has (ids, not contacts);
- ``planner`` — viewer plus drafting, validating and publishing boundaries, importing
  households and rosters, and worker contacts (audited);
- ``admin`` — everything, including keys and the audit log.

Verified keys are cached in the process (a dict keyed by the key's hash) and the cache is
dropped whenever the store's key count or revocation count changes (polled with the release),
so a request costs no database query. The rate limit is a token bucket per key (per client
address for anonymous callers) in each process, each holding ``rate / workers`` so that the
whole deployment allows about ``rate`` requests per second per key.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from wangge.api.access_errors import Forbidden, RateLimited, Unauthenticated
from wangge.api.sessions import session_token
from wangge.settings import Settings
from wangge.store import Store
from wangge.store.access import ApiKey, hash_key

READ = frozenset({"viewer", "integrator", "planner", "admin"})
STAFF = frozenset({"viewer", "planner", "admin"})
WRITE = frozenset({"planner", "admin"})
CONTACTS = WRITE          # roles entitled to workers' names and phones
ADMIN = frozenset({"admin"})

MAX_BUCKETS = 100_000    # callers tracked by the rate limiter before idle ones are forgotten

_ROLE_ZH = {"viewer": "查看者", "integrator": "对接系统", "planner": "规划人员", "admin": "管理员"}


@dataclass(frozen=True)
class Principal:
    key_id: int | None
    role: str
    name: str
    user_id: int | None = None      # a person logged in from a browser (session cookie)

    @property
    def by_session(self) -> bool:
        """Authenticated by a session cookie: its writes must carry the CSRF token."""
        return self.user_id is not None

    def audit_detail(self, **more: object) -> dict[str, object] | None:
        """What an audit line adds about the caller: the account of a session (keys are named
        by ``key_id``), with ``more``."""
        who = {"user_id": self.user_id, "user": self.name} if self.by_session else {}
        return {**who, **more} or None

    @property
    def sees_contacts(self) -> bool:
        return self.role in CONTACTS


class KeyRing:
    """Verified keys by hash, dropped when the store's keys change."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._known: dict[str, ApiKey] = {}
        self._version = store.keys_version()

    def known(self, key: str) -> ApiKey | None:
        """The key if it was verified since the cache was last dropped (no database query)."""
        return self._known.get(hash_key(key))

    def find(self, key: str) -> ApiKey | None:
        known = self._known   # the cache as it is now: a refresh during the query replaces it,
        found = known.get(hash_key(key))   # and a key revoked meanwhile is not put back
        if found is None:
            found = self._store.key_for(key)
            if found is not None:
                known[hash_key(key)] = found
        return found

    def refresh(self) -> None:
        version = self._store.keys_version()
        if version != self._version:
            self._known = {}
            self._version = version


class RateLimiter:
    """Token buckets: ``rate`` tokens per second, at most ``burst`` stored, per caller."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > MAX_BUCKETS:  # many anonymous addresses: forget the idle ones
                idle = now - self.burst / self.rate
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > idle}
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[who] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimited("请求过于频繁，请稍后再试。", "Too many requests; try again later.",
                                  retry_after_s=max(1, wait))
            self._buckets[who] = (tokens - 1.0, now)


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def session_principal(request: Request, token: str) -> Principal | None:
    """The account of the session cookie's token, if the session is live (a store query)."""
    state = request.app.state
    idle, absolute = state.settings.session_limits()
    found = state.store.session_user(token, idle=idle, absolute=absolute)
    if found is None:
        return None
    return Principal(key_id=None, role=found.role, name=found.name, user_id=found.user_id)


async def authenticate(request: Request) -> Principal:
    """The caller, from their key, else their session (or the anonymous role), after the rate
    limit.

    ``async`` on purpose: a key seen before is found in memory on the event loop, with no
    threadpool hop; a key not seen since the cache was last dropped is looked up in the
    threadpool (a database that does not answer must not stall the loop).
    Writes are authenticated by the guard middleware before their body is read; the route's
    dependency then finds the caller already known and takes no second token."""
    known = getattr(request.state, "principal", None)
    if known is not None:
        return known
    state = request.app.state
    settings: Settings = state.settings
    key = _presented_key(request)
    token = session_token(request) if key is None else None
    session = None
    if token is not None:
        session = await run_in_threadpool(session_principal, request, token)
    if session is not None:
        who = f"user:{session.user_id}"
        principal = session
    elif key is None:
        if not settings.anonymous_role:
            if token is not None:
                raise Unauthenticated("登录已过期，请重新登录（或使用 API 密钥）。",
                                      "The login has expired; log in again (or use an API key).")
            raise Unauthenticated("需要 API 密钥（请求头 X-API-Key 或 Authorization: Bearer）"
                                  "或登录。",
                                  "An API key is required (X-API-Key or Authorization: Bearer), "
                                  "or a login.")
        who = f"ip:{request.client.host if request.client else '-'}"
        principal = Principal(key_id=None, role=settings.anonymous_role, name="anonymous")
    else:
        record = state.keyring.known(key) or await run_in_threadpool(state.keyring.find, key)
        if record is None:
            raise Unauthenticated("API 密钥无效或已吊销。", "The API key is unknown or revoked.")
        who = f"key:{record.id}"
        principal = Principal(key_id=record.id, role=record.role, name=record.name)
    state.limiter.take(who)
    request.state.principal = principal
    return principal


def require(roles: frozenset[str]):  # noqa: ANN201 - a FastAPI dependency
    """A dependency admitting only ``roles``."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in roles:
            allowed = "、".join(_ROLE_ZH[r] for r in sorted(roles))
            raise Forbidden(f"当前角色（{_ROLE_ZH[principal.role]}）无权执行此操作；需要：{allowed}。",
                            f"Role '{principal.role}' may not do this; needs one of "
                            f"{', '.join(sorted(roles))}.", role=principal.role,
                            allowed=sorted(roles))
        return principal

    return check


Reader = Annotated[Principal, Depends(require(READ))]
Staff = Annotated[Principal, Depends(require(STAFF))]
Writer = Annotated[Principal, Depends(require(WRITE))]
Admin = Annotated[Principal, Depends(require(ADMIN))]
