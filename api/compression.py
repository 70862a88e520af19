"""Gzip for what a browser opens, and only that.

The pages (``/docs``, ``/redoc``, the maps, the login form), their scripts and styles
(``/docs/assets/``, ``/maps/assets/``), the map tiles and the OpenAPI documents
(``/openapi.json``, ``/ogc/api``), and the plans' answers the planner's editor reads
(``/v1/plans/…``: a city's grids are megabytes of GeoJSON) are text that shrinks to a quarter
or less: Swagger UI's
1.7 MB script goes over the wire as 0.46 MB. They are compressed with Starlette's
:class:`~starlette.middleware.gzip.GZipMiddleware` when the browser accepts gzip
(``Content-Encoding: gzip``, ``Vary: Accept-Encoding``).

Everything else goes straight to the app, untouched: the other ``/v1`` answers (a membership bulk
answer is large, and what compressing it would cost in CPU matters more there than its size
on a LAN) and the rest of the API, whose clients ask for compression by path if ever needed.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# A path is compressed when it is one of these or lies below one ("/maps" covers "/maps/…",
# "/login" does not cover "/logout").
BROWSER_PATHS: tuple[str, ...] = ("/docs", "/redoc", "/openapi.json", "/ogc/api", "/maps",
                                  "/login", "/v1/plans")
# zlib level 5: within 1 % of level 9's size on Swagger UI's script, at under half the CPU
# (36 ms against 84 ms for its 1.7 MB); large bodies are compressed in a worker thread.
LEVEL = 5
MINIMUM_SIZE = 1000


def browser_facing(path: str, prefixes: Iterable[str] = BROWSER_PATHS) -> bool:
    """Whether ``path`` (without the root path) is one of ``prefixes`` or lies below one."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


class BrowserGZip:
    """Route each HTTP request by path: browser-facing ones through gzip, the rest direct."""

    def __init__(self, app: ASGIApp, prefixes: Iterable[str] = BROWSER_PATHS,
                 compresslevel: int = LEVEL, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root):] or "/"
            if browser_facing(path, self.prefixes):
                await self.gzip(scope, receive, send)
                return
        await self.app(scope, receive, send)
