"""Errors of access to the API: who may call (a key), what their role allows, how often."""

from __future__ import annotations

from typing import Any

from wangge.geo.errors import WanggeError


class Unauthenticated(WanggeError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthenticated"


class Forbidden(WanggeError):
    """The caller's role may not do this."""

    code = "forbidden"


class RateLimited(WanggeError):
    """Too many requests for one key; ``retry_after_s`` says when to try again."""

    code = "rate_limited"

    def __init__(self, message_zh: str, message_en: str, retry_after_s: int, **detail: Any) -> None:
        super().__init__(message_zh, message_en, retry_after_s=retry_after_s, **detail)
        self.retry_after_s = retry_after_s
