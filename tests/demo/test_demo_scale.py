"""The demo's name pools at scale (``wangge demo --scale N``): they grow only when they run short,
so the scale-1 demo keeps its names."""

from __future__ import annotations

import numpy as np
import pytest

from wangge.demo.district import _NAME_FIRST, _NAME_SECOND, _name_roots
from wangge.demo.register import _ROAD_ROOTS, _more_road_roots, _unique_name


def test_compound_names_grow_a_third_character_when_the_pool_runs_out() -> None:
    first, second = "甲乙", "丙丁戊"
    rng = np.random.default_rng(1)
    taken: set[str] = set()
    names = [_unique_name(first, second, ("园",), taken, rng) for _ in range(6 + 12)]
    assert len(set(names)) == len(names)
    assert all(len(n) == 3 for n in names[:6])   # every two-character root first
    assert all(len(n) == 4 for n in names[6:])   # then three characters, all distinct
    assert all(len(set(n[:3])) == 3 for n in names[6:])
    with pytest.raises(RuntimeError):
        _unique_name(first, second, ("园",), taken, rng)


@pytest.mark.parametrize("scale", [1, 5, 10, 20])
def test_street_and_community_names_at_scale(scale: int) -> None:
    streets, communities = _name_roots(7 * scale, 70 * scale, np.random.default_rng(2026))
    assert len(streets) == 7 * scale and len(communities) == 70 * scale
    assert len(set(streets) | set(communities)) == 77 * scale
    two_char = len(_NAME_FIRST) * len(_NAME_SECOND)
    if 77 * scale < two_char * 0.9:
        assert all(len(n) == 2 for n in streets + communities)
    if 7 * scale <= len(_NAME_FIRST):
        assert len({s[0] for s in streets}) == len(streets)


def test_more_road_roots_are_new_and_distinct() -> None:
    more = _more_road_roots(np.random.default_rng(0))
    assert len(more) > 10 * len(_ROAD_ROOTS)
    assert len(set(more)) == len(more)
    assert not set(more) & set(_ROAD_ROOTS)
    assert all(len(r) == 2 and r[0] != r[1] for r in more)
