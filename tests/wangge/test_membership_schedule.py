"""Membership follows the release in force: a scheduled release takes over on its China day
(clock injected, no sleeping), and ``as_of`` answers past and future days (both backends)."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from tests.clock import Clock
from tests.hierarchy import M1, cell, hierarchy
from wangge.geo.errors import NotFound
from wangge.membership import MembershipService
from wangge.store import Store


def test_current_switches_on_the_scheduled_day_and_as_of_sees_both(store: Store) -> None:
    store.clock = clock = Clock("2026-12-05T10:00:00+08:00")
    now = store.create_release(hierarchy(), source="now", effective_date=date(2026, 12, 1),
                               make_current=True)
    redrawn = hierarchy()
    redrawn.loc[redrawn["code"] == M1, "name"] = "新微网格"
    plan = store.create_release(redrawn, source="plan", effective_date=date(2027, 1, 1),
                                make_current=True)
    point = shapely.point_on_surface(cell(0))

    service = MembershipService(store, poll_s=60)  # refreshed by hand, not started
    assert service.refresh()
    assert service.current().release.id == now.id
    assert service.current().one(point.x, point.y)["chain"][-1]["name"] == "微网格0"
    future = service.as_of(date(2027, 1, 1))
    assert future.release.id == plan.id and future.release.scheduled
    assert future.one(point.x, point.y)["chain"][-1]["name"] == "新微网格"
    assert service.as_of(date(2026, 12, 31)).release.id == now.id
    with pytest.raises(NotFound) as raised:
        service.as_of(date(2026, 11, 30))
    assert "2026-12-01" in raised.value.message_zh and "2026-12-01" in raised.value.message_en
    assert raised.value.detail["as_of"] == "2026-11-30"

    clock.set("2026-12-31T23:59:59+08:00")
    assert not service.refresh()
    clock.set("2027-01-01T00:00:00+08:00")
    assert service.refresh()
    assert service.current().release.id == plan.id
    assert service.current().one(point.x, point.y)["chain"][-1]["name"] == "新微网格"
    assert not service.refresh()
    assert service.as_of(date(2026, 12, 31)).release.id == now.id
