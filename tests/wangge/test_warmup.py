"""The warm-up runs at start and again once the store changed and then settled."""

from __future__ import annotations

import threading
from typing import Any

from wangge.warmup import Warmer


class _Store:
    """The two reads the warmer makes: the current release and the revision counters."""

    def __init__(self) -> None:
        self.release = 1
        self.counters = {"households": 1, "sites": 1, "workers": 1, "networks": 1}

    def current_release_id(self) -> int:
        return self.release

    def revisions(self) -> dict[str, int]:
        return dict(self.counters)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _warmer(store: _Store, clock: _Clock, results: list[bool], gate: threading.Event | None = None
            ) -> tuple[Warmer, list[int]]:
    calls: list[int] = []

    def work() -> bool:
        calls.append(1)
        if gate is not None:
            gate.wait(10)
        return results.pop(0) if results else True

    return Warmer(store, work, settle_s=10.0, clock=clock), calls


def _run(thread: Any) -> None:
    assert thread is not None
    thread.join(10)


def test_warms_again_once_a_change_has_settled() -> None:
    store, clock = _Store(), _Clock()
    warmer, calls = _warmer(store, clock, [])
    assert warmer.state == "off" and warmer.check() is None      # never started: never checks
    _run(warmer.start())
    assert warmer.state == "done" and len(calls) == 1
    assert warmer.check() is None                                # nothing changed
    store.counters["households"] += 1                            # an import's first write
    assert warmer.check() is None                                # seen, waiting to settle
    clock.now = 5.0
    store.counters["households"] += 1                            # its second write
    assert warmer.check() is None
    clock.now = 14.0                                             # 9 s after the last change
    assert warmer.check() is None
    clock.now = 15.5
    _run(warmer.check())
    assert len(calls) == 2 and warmer.state == "done" and warmer.runs == 2
    assert warmer.check() is None
    store.release = 2                                            # a plan published
    warmer.check()
    clock.now = 30.0
    _run(warmer.check())
    assert len(calls) == 3


def test_a_change_during_a_warm_up_warms_again_after_it() -> None:
    store, clock, gate = _Store(), _Clock(), threading.Event()
    warmer, calls = _warmer(store, clock, [], gate)
    thread = warmer.start()
    assert warmer.state == "warming" and warmer.start() is None  # one at a time
    store.counters["sites"] += 1                                 # written while warming
    assert warmer.check() is None
    gate.set()
    _run(thread)
    assert warmer.check() is None                                # seen now: settling
    clock.now = 11.0
    _run(warmer.check())
    assert len(calls) == 2


def test_a_failed_warm_up_says_so_and_the_next_change_tries_again() -> None:
    store, clock = _Store(), _Clock()
    warmer, calls = _warmer(store, clock, [False, True])
    _run(warmer.start())
    assert warmer.state == "failed"
    assert warmer.check() is None                                # not retried in a loop
    store.counters["workers"] += 1
    warmer.check()
    clock.now = 10.0
    _run(warmer.check())
    assert warmer.state == "done" and len(calls) == 2


def test_a_warm_up_that_cannot_start_says_failed_and_is_tried_again(monkeypatch) -> None:
    store, clock = _Store(), _Clock()
    warmer, calls = _warmer(store, clock, [])

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as m:
        m.setattr(threading.Thread, "start", refuse)
        assert warmer.start() is None
    assert warmer.state == "failed" and calls == []
    warmer.check()                       # nothing warmed yet: tried again once settled
    clock.now = 10.0
    _run(warmer.check())
    assert warmer.state == "done" and len(calls) == 1
