"""Releases: creation, history, publishing, lookup by date (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from store_samples import hierarchy, squares

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


def test_make_current_is_idempotent_and_keeps_first_publication(store: Store) -> None:
    first = store.create_release(squares(1), source="v1", make_current=True)
    second = store.create_release(squares(1), source="v2", make_current=True)
    assert store.current_release() == second
    again = store.make_current(first.id)
    assert again.published_at == first.published_at
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
