"""Pausing Python's cyclic garbage collector around batch work.

Batches (address matching, membership answers for 100,000 points) allocate hundreds of
thousands of small acyclic objects; the collections they trigger cost a third of the time or
more and free nothing. The collector is process-wide: a pause in one thread pauses it for all,
which for the fraction of a second a batch takes is harmless.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def freeze_heap() -> None:
    """Collect once, then keep every object alive now out of later collections.

    A service builds a large, long-lived heap at start (libraries, the in-memory index). A full
    collection traverses all of it while holding the GIL — about 160 ms in the demo service —
    and stalls every thread, lookups included. Frozen objects are still freed by reference
    counting; only the cyclic collector stops visiting them.

    Called again (after the caches were warmed again), it first returns what an earlier call
    froze to the collector: garbage in cycles among it (the caches a warm-up replaced) is freed,
    not kept for the life of the process.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
