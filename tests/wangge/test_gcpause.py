"""Freezing the heap twice frees the cycles that became garbage in between."""

from __future__ import annotations

import gc
import weakref

from wangge.gcpause import freeze_heap


class _Node:
    pass


def test_a_second_freeze_frees_cycles_the_first_kept() -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a              # a cycle: only the cyclic collector frees it
    gone = weakref.ref(a)
    try:
        freeze_heap()                    # frozen while alive
        del a, b
        gc.collect()
        assert gone() is not None        # frozen: the collector does not look at it
        freeze_heap()
        assert gone() is None            # a later freeze gave it back first: freed
    finally:
        gc.unfreeze()
