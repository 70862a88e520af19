"""Releases: creation, history, publishing, lookup by date (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from store_samples import hierarchy, squares

from tests.clock import Clock
from wangge.geo.errors import Conflict, NotFound
from wangge.store import ReleaseInfo, Store


def test_create_and_read_release(store: Store) -> None:
    report = {"ok": True, "findings": [{"rule": "gap", "message": "缝隙", "area_m2": 1.5}],
              "nested": {"list": [1, 2, None]}}
    before = datetime.now(UTC)
    info = store.create_release(hierarchy(), source="亭湖区.geojson", note="首次导入",
                                effective_date=date(2024, 1, 1), report=report,
                                warning_count=3)

    assert isinstance(info, ReleaseInfo)
    assert (info.source, info.note, info.effective_date) == ("亭湖区.geojson", "首次导入",
                                                             date(2024, 1, 1))
    assert (info.unit_count, info.error_count, info.warning_count) == (10, 0, 3)
    assert info.counts == {"street": 1, "community": 2, "grid": 5, "microgrid": 2}
    assert info.is_current is False and info.published_at is None
    assert info.created_at.tzinfo is not None and info.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= info.created_at <= datetime.now(UTC)

    assert store.release(info.id) == info
    assert store.releases() == [info]
    assert store.report(info.id) == report
    assert store.current_release() is None

    as_dict = info.as_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["effective_date"] == "2024-01-01"
    assert datetime.fromisoformat(as_dict["created_at"]) == info.created_at
    assert as_dict["published_at"] is None


def test_effective_date_defaults_to_today_in_china(store: Store) -> None:
    info = store.create_release(squares(2), source="a")
    china_today = datetime.now(timezone(timedelta(hours=8))).date()
    assert info.effective_date in (china_today, china_today - timedelta(days=1))


def test_release_without_report_or_units(store: Store) -> None:
    info = store.create_release(squares(0), source="empty")
    assert info.unit_count == 0
    assert info.counts == {"street": 0, "community": 0, "grid": 0, "microgrid": 0}
    assert store.report(info.id) is None
    assert store.units(info.id).empty


def test_history_keeps_every_release_queryable(store: Store) -> None:
    first = store.create_release(squares(3, prefix="A"), source="v1", make_current=True)
    second = store.create_release(squares(4, prefix="B"), source="v2")
    third = store.create_release(squares(5, prefix="C"), source="v3")

    assert [r.id for r in store.releases()] == [third.id, second.id, first.id]
    assert first.is_current and first.published_at is not None
    assert store.current_release() == first

    published = store.make_current(second.id)
    assert published.is_current and published.published_at is not None
    assert store.current_release() == published
    assert [r.is_current for r in store.releases()] == [False, True, False]
    # The older release keeps its publication time and its units.
    assert store.release(first.id).published_at == first.published_at
    assert list(store.units(first.id).code) == ["A000001", "A000002", "A000003"]
    assert store.count_units(third.id) == 5


def test_publishing_an_older_release_rolls_back_and_is_then_idempotent(store: Store) -> None:
    first = store.create_release(squares(1), source="v1", make_current=True)
    second = store.create_release(squares(1), source="v2", make_current=True)
    assert store.current_release() == second
    # A roll back: in force again from now, its effective date (history) unchanged.
    again = store.make_current(first.id)
    assert again.is_current and again.effective_date == first.effective_date
    assert again.published_at >= second.published_at
    assert store.make_current(first.id) == again
    assert sum(r.is_current for r in store.releases()) == 1


def test_make_current_refused_when_release_has_errors(store: Store) -> None:
    good = store.create_release(squares(2), source="good", make_current=True)
    bad = store.create_release(squares(2), source="bad", error_count=7, warning_count=1)

    with pytest.raises(Conflict) as raised:
        store.make_current(bad.id)
    assert "7" in raised.value.message_zh and "7 error" in raised.value.message_en
    assert raised.value.detail["error_count"] == 7
    assert store.release(bad.id) == bad  # still a draft
    assert store.current_release() == good


def test_create_current_with_errors_is_refused_and_writes_nothing(store: Store) -> None:
    with pytest.raises(Conflict):
        store.create_release(squares(3), source="bad", error_count=1, make_current=True)
    assert store.releases() == []


def test_release_on_picks_latest_published_effective_date(store: Store) -> None:
    assert store.release_on(date(2024, 1, 1)) is None
    january = store.create_release(squares(1), source="jan", effective_date=date(2024, 1, 1),
                                   make_current=True)
    june = store.create_release(squares(1), source="jun", effective_date=date(2024, 6, 1),
                                make_current=True)
    # A draft effective in March is not in force: never published.
    store.create_release(squares(1), source="mar draft", effective_date=date(2024, 3, 1))

    assert store.release_on(date(2023, 12, 31)) is None
    assert store.release_on(date(2024, 1, 1)).id == january.id
    assert store.release_on(date(2024, 4, 1)).id == january.id
    assert store.release_on(date(2024, 6, 1)).id == june.id
    # Superseded releases stay in force for their own dates.
    store.make_current(january.id)
    assert store.release_on(date(2024, 7, 1)).id == june.id

    # Same effective date as June, published later: it wins the tie.
    june_fix = store.create_release(squares(1), source="jun fix",
                                     effective_date=date(2024, 6, 1))
    store.make_current(june_fix.id)
    assert store.release_on(date(2024, 7, 1)).id == june_fix.id
    assert store.release_on(date(2024, 5, 31)).id == january.id


def test_missing_release_is_not_found(store: Store) -> None:
    for call in (lambda: store.release(99), lambda: store.make_current(99),
                 lambda: store.report(99), lambda: store.units(99),
                 lambda: store.count_units(99), lambda: store.unit(99, "X")):
        with pytest.raises(NotFound) as raised:
            call()
        assert "99" in raised.value.message_zh and "99" in raised.value.message_en


# ---- publication with an effective date (scheduled releases) -------------------------------


def test_future_date_schedules_and_the_release_comes_into_force_at_china_midnight(
        store: Store) -> None:
    store.clock = clock = Clock("2026-12-04T16:48:00+00:00")  # 00:48 on 5 December in China
    now = store.create_release(squares(1), source="now", make_current=True)
    assert now.effective_date == date(2026, 12, 5) and now.state == "current"
    draft = store.create_release(squares(2), source="plan")

    planned = store.make_current(draft.id, effective_date=date(2027, 1, 1))
    assert planned.published_at == clock.now and planned.effective_date == date(2027, 1, 1)
    assert planned.scheduled and not planned.is_current and planned.state == "scheduled"
    assert planned.as_dict()["scheduled"] is True and planned.as_dict()["state"] == "scheduled"
    assert store.current_release_id() == now.id
    assert [r.state for r in store.releases()] == ["scheduled", "current"]
    assert store.release_on(date(2026, 12, 31)).id == now.id
    assert store.release_on(date(2027, 1, 1)).id == planned.id
    assert store.release_on(date(2030, 1, 1)).id == planned.id
    with pytest.raises(NotFound) as raised:
        store.release_in_force(date(2026, 12, 4), as_of="2026-12-04")
    assert "2026-12-05" in raised.value.message_zh and "2026-12-05" in raised.value.message_en
    assert raised.value.detail["as_of"] == "2026-12-04"

    clock.set("2026-12-31T15:59:59+00:00")  # 23:59:59 on 31 December in China
    assert store.current_release_id() == now.id
    clock.set("2026-12-31T16:00:00+00:00")  # midnight in China: the plan is in force
    assert store.current_release_id() == planned.id
    assert store.current_release().id == planned.id
    assert [r.state for r in store.releases()] == ["current", "published"]
    assert store.release(planned.id).scheduled is False
    assert store.release_on(date(2026, 12, 31)).id == now.id  # history kept


def test_nothing_published_yet_and_a_first_release_scheduled(store: Store) -> None:
    store.clock = clock = Clock("2026-12-05T10:00:00+08:00")
    with pytest.raises(NotFound) as raised:
        store.release_in_force(date(2026, 12, 5))
    assert "还没有发布" in raised.value.message_zh
    first = store.create_release(squares(1), source="first", effective_date=date(2027, 1, 1),
                                 make_current=True)  # an import with a future date: scheduled
    assert first.scheduled and store.current_release() is None
    clock.set("2027-01-01T00:00:00+08:00")
    assert store.current_release().id == first.id


def test_a_later_scheduled_release_supersedes_an_earlier_one_on_its_day(store: Store) -> None:
    store.clock = clock = Clock("2026-12-05T10:00:00+08:00")
    now = store.create_release(squares(1), source="now", make_current=True)
    january = store.create_release(squares(1), source="jan", effective_date=date(2027, 1, 1),
                                   make_current=True)
    march = store.create_release(squares(1), source="mar", effective_date=date(2027, 3, 1),
                                 make_current=True)
    assert store.current_release_id() == now.id
    clock.set("2027-01-15T09:00:00+08:00")
    assert store.current_release_id() == january.id
    clock.set("2027-03-01T00:00:00+08:00")
    assert store.current_release_id() == march.id
    assert store.release_on(date(2026, 12, 31)).id == now.id
    assert store.release_on(date(2027, 2, 1)).id == january.id
    assert store.release_on(date(2027, 3, 1)).id == march.id


def test_a_release_due_while_unseen_takes_over_in_one_step(store: Store) -> None:
    store.clock = clock = Clock("2026-12-05T10:00:00+08:00")
    store.create_release(squares(1), source="now", make_current=True)
    store.create_release(squares(1), source="jan", effective_date=date(2027, 1, 1),
                         make_current=True)
    march = store.create_release(squares(1), source="mar", effective_date=date(2027, 3, 1),
                                 make_current=True)
    clock.set("2027-06-01T00:00:00+08:00")  # nobody asked on 1 January
    assert store.current_release_id() == march.id
    assert sum(r.is_current for r in store.releases()) == 1


def test_rescheduling_and_what_cannot_move(store: Store) -> None:
    store.clock = Clock("2026-12-05T10:00:00+08:00")
    old = store.create_release(squares(1), source="old", effective_date=date(2026, 1, 1),
                               make_current=True)
    plan = store.create_release(squares(1), source="plan", effective_date=date(2027, 1, 1),
                                make_current=True)
    assert store.make_current(plan.id, effective_date=date(2027, 2, 1)).effective_date == \
        date(2027, 2, 1)
    # A release that has been in force keeps its date: no future date, no other past one.
    for day in (date(2027, 1, 1), date(2025, 6, 1)):
        with pytest.raises(Conflict) as raised:
            store.make_current(old.id, effective_date=day)
        assert "2026-01-01" in raised.value.message_zh and "without a date" in raised.value.message_en
    # Its own date or today's is accepted (nothing to do: it is in force).
    assert store.make_current(old.id, effective_date=date(2026, 12, 5)).is_current
    # The plan brought forward to today: in force now, dated today.
    now = store.make_current(plan.id, effective_date=date(2026, 12, 5))
    assert now.is_current and now.effective_date == date(2026, 12, 5) and not now.scheduled
    assert store.release_on(date(2026, 6, 1)).id == old.id


def test_roll_back_keeps_history_and_a_pending_schedule(store: Store) -> None:
    store.clock = clock = Clock("2026-12-05T10:00:00+08:00")
    january = store.create_release(squares(1), source="jan", effective_date=date(2026, 1, 1),
                                   make_current=True)
    june = store.create_release(squares(1), source="jun", effective_date=date(2026, 6, 1),
                                make_current=True)
    plan = store.create_release(squares(1), source="plan", effective_date=date(2027, 1, 1),
                                make_current=True)
    clock.set("2026-12-10T10:00:00+08:00")
    back = store.make_current(january.id)  # `wangge publish N`: in force from today
    assert back.is_current and back.effective_date == date(2026, 1, 1)
    assert store.release_on(date(2026, 3, 1)).id == january.id
    assert store.release_on(date(2026, 7, 1)).id == june.id
    assert store.release_on(date(2026, 12, 10)).id == january.id
    assert store.release_on(date(2027, 1, 1)).id == plan.id
    clock.set("2027-01-01T00:00:00+08:00")
    assert store.current_release_id() == plan.id


def test_scheduling_is_refused_with_errors(store: Store) -> None:
    store.clock = Clock("2026-12-05T10:00:00+08:00")
    bad = store.create_release(squares(1), source="bad", error_count=2)
    with pytest.raises(Conflict) as raised:
        store.make_current(bad.id, effective_date=date(2027, 1, 1))
    assert "2 个错误" in raised.value.message_zh and "2 error" in raised.value.message_en
    assert store.release(bad.id).state == "draft"
    with pytest.raises(Conflict):
        store.create_release(squares(1), source="bad", error_count=1,
                             effective_date=date(2027, 1, 1), make_current=True)
