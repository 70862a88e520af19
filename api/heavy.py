"""Heavy requests: uploads that are read and validated, imports, re-assignment.

One of them keeps a worker thread busy for seconds to minutes and can grow the process by a
gigabyte. The ``HeavySlot`` dependency lets each caller (key, or client address when anonymous)
run at most ``heavy_per_key`` of them at a time in a process, and all callers together at most
``heavy_total``; one more is refused with 429 and ``Retry-After``. The slot is held until the
response is sent, and given back whatever the outcome; then the heap is trimmed, so that the
worker returns near its base size.

The dependency's value runs the work: in the serving process, or, for uploads larger than
``isolate_above_mb``, in a child process that is stopped when the client goes away or after
``isolate_time_limit_s`` (``wangge.isolated``).

Like the rate limit, the count is per process: with ``workers`` processes a key may hold up to
``heavy_per_key`` slots in each. The upload itself is received before the slot is asked for
(FastAPI reads the form first); what the limit guards is the work.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import anyio.from_thread
from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from wangge.api.access_errors import RateLimited
from wangge.api.auth import Principal, authenticate
from wangge.isolated import run_isolated, trim_heap
from wangge.settings import Settings

RETRY_AFTER_S = 5   # heavy work takes seconds to minutes; ask again after a few seconds

class HeavySlots:
    """How many heavy requests each caller is running, at most ``per_key``, and all callers
    together at most ``total`` (0: no limit). The total keeps many keys from filling the
    threadpool and the machine with heavy work at once."""

    def __init__(self, per_key: int, total: int = 0) -> None:
        self.per_key = per_key
        self.total = total
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> None:
        with self._lock:
            running = self._running.get(who, 0)
            if self.per_key and running >= self.per_key:
                raise RateLimited(
                    f"您已有 {running} 个耗时请求（上传校验、导入）在处理中，请等其完成后再试。",
                    f"You already have {running} heavy request(s) (upload validation, imports) in "
                    "progress; try again when they finish.",
                    retry_after_s=RETRY_AFTER_S, running=running, limit=self.per_key)
            everyone = sum(self._running.values())
            if self.total and everyone >= self.total:
                raise RateLimited(
                    "服务正忙于其他耗时请求（上传校验、导入），请稍后再试。",
                    "The service is busy with other heavy requests (upload validation, imports); "
                    "try again shortly.", retry_after_s=RETRY_AFTER_S, running=everyone,
                    limit=self.total)
            self._running[who] = running + 1

    def give_back(self, who: str) -> None:
        with self._lock:
            left = self._running.get(who, 0) - 1
            if left > 0:
                self._running[who] = left
            else:
                self._running.pop(who, None)

    def running(self, who: str) -> int:
        with self._lock:
            return self._running.get(who, 0)


def slots_of(app: FastAPI) -> HeavySlots:
    """The app's slots (made in its lifespan)."""
    return app.state.heavy_slots


class Heavy:
    """What a heavy handler gets: ``run`` does the work here or in a child process."""

    def __init__(self, settings: Settings, abandoned: Callable[[], bool]) -> None:
        self.settings = settings
        self.abandoned = abandoned

    def isolates(self, upload: Path) -> bool:
        """Whether work on this uploaded file goes to a child process."""
        limit = self.settings.isolate_above_mb
        return limit == 0 or upload.stat().st_size > limit * 1024 * 1024

    def run(self, upload: Path, fn: Callable[..., Any], *args: Any,
            then: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, then ``then(result)`` if given, in a child process when
        ``upload`` is above the threshold (``wangge.isolated.run_isolated``: functions defined
        at module or class level, arguments and results that pickle). Domain errors come back
        as they were raised."""
        if self.isolates(upload):
            return run_isolated(fn, *args, time_limit_s=self.settings.isolate_time_limit_s,
                                abandoned=self.abandoned, then=then, **kwargs)
        result = fn(*args, **kwargs)
        return result if then is None else then(result)


def _caller(request: Request, principal: Principal) -> str:
    if principal.key_id is not None:
        return f"key:{principal.key_id}"
    return f"ip:{request.client.host if request.client else '-'}"


def _abandoned(request: Request) -> Callable[[], bool]:
    """Whether the client has gone away; callable from the handler's worker thread."""

    def check() -> bool:
        try:
            return anyio.from_thread.run(request.is_disconnected)
        except RuntimeError:  # not in a worker thread of the event loop (nothing to ask)
            return False

    return check


async def heavy_slot(request: Request,
                     principal: Annotated[Principal, Depends(authenticate)]) -> AsyncIterator[Heavy]:
    """Hold one of the caller's heavy slots for the request; trim the heap afterwards."""
    slots = slots_of(request.app)
    who = _caller(request, principal)
    slots.take(who)
    try:
        yield Heavy(request.app.state.settings, _abandoned(request))
    finally:
        try:
            await run_in_threadpool(trim_heap)
        finally:
            slots.give_back(who)


HeavySlot = Annotated[Heavy, Depends(heavy_slot)]
