"""Freezing the heap twice frees the cycles that became garbage in between."""

from __future__ import annotations

import gc
import weakref

from wangge.gcpause import freeze_heap, return_free_memory


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


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_free_memory_goes_back_to_the_system_on_glibc() -> None:
    """On glibc (this project's Debian), heap pages freed between live objects are handed
    back, not kept at the peak a warm-up reached."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        assert return_free_memory() is False
        return
    blocks = [bytearray(4000) for _ in range(50_000)]     # ~200 MB in malloc's heap
    kept = blocks[::64]                                   # a few live ones in between
    del blocks
    before = _rss_mib()
    assert return_free_memory() is True
    assert before - _rss_mib() > 100, (before, _rss_mib())
    assert len(kept) > 0
