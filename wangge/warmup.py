"""Work done in the background when a service starts (``warm_maps``), and again when the
store changes, so the first visitor does not wait for it: logged with its time, never raised
(what it fills is otherwise filled when first asked for)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from wangge.geo.errors import WanggeError

log = logging.getLogger(__name__)


def warmed(what_zh: str, what_en: str, work: Callable[[], None]) -> bool:
    """Run ``work``; True when it finished, False (and a warning) when it failed."""
    started = time.monotonic()
    try:
        work()
    except (WanggeError, SQLAlchemyError, OSError, ValueError, RuntimeError) as exc:
        log.warning("%s未预热 / %s not warmed: %s", what_zh, what_en, exc)
        return False
    seconds = time.monotonic() - started
    log.info("%s已预热（%.1f 秒）/ %s warmed in %.1f s", what_zh, seconds, what_en, seconds)
    return True


class Warmer:
    """Runs ``work`` (the start-up warm-up) in a background thread, and again when what it
    prepared went stale: another release became current, or a write bumped one of the store's
    revision counters (households, sites, workers, networks), and then nothing changed for
    ``settle_s`` (an import's writes come in bursts: one warm-up after the last of them).

    :meth:`check` is cheap (one read of the counters) and meant to run on every poll of the
    membership refresh. :attr:`state` is what ``/health`` says: ``off`` (never started),
    ``warming``, ``done`` or ``failed``; while a warm-up runs after a change, pages still
    answer, computing what they need as before.
    """

    def __init__(self, store: Any, work: Callable[[], bool], *, settle_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._work = work
        self._settle_s = settle_s
        self._clock = clock
        self._lock = threading.Lock()
        self._running = False
        self._warmed: tuple[Any, ...] | None = None     # the store as the last warm-up saw it
        self._seen: tuple[tuple[Any, ...], float] | None = None   # a change and since when
        self.state = "off"
        self.runs = 0

    def _key(self) -> tuple[Any, ...]:
        return (self._store.current_release_id(), *self._store.revisions().items())

    def start(self) -> threading.Thread | None:
        """Warm now in the background (None if a warm-up is already running)."""
        key = self._key()               # read before the work: a write during it warms again
        with self._lock:
            if self._running:
                return None
            self._running, self._warmed, self._seen = True, key, None
            self.state = "warming"
        thread = threading.Thread(target=self._run, name="warm-maps", daemon=True)
        try:
            thread.start()
        except RuntimeError as exc:     # no thread to be had (shutting down, or at a limit)
            with self._lock:
                self._running, self._warmed = False, None
                self.state = "failed"
            log.warning("预热未启动 / warm-up not started: %s", exc)
            return None
        return thread

    def _run(self) -> None:
        ok = False
        try:
            ok = self._work()
        finally:
            with self._lock:
                self._running = False
                self.runs += 1
                self.state = "done" if ok else "failed"

    def check(self) -> threading.Thread | None:
        """Start a warm-up if the store changed since the last one and has since stayed the
        same for ``settle_s``; the thread started, or None."""
        if self.state == "off":
            return None
        key = self._key()
        now = self._clock()
        with self._lock:
            if self._running or key == self._warmed:
                self._seen = None
                return None
            if self._seen is None or self._seen[0] != key:
                self._seen = (key, now)         # changed (again): wait until it settles
                return None
            if now - self._seen[1] < self._settle_s:
                return None
        log.info("存储已变化，重新预热 / the store changed: warming again")
        return self.start()
