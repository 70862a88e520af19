"""Counts per unit, on both backends: one scan rolled up per level, kept per households revision
and never stale after any write that moves households or changes their sizes, from this store
or from another one on the same database."""

from __future__ import annotations

import threading
from collections import Counter

import pandas as pd
import pytest
import sqlalchemy as sa
from store_samples import squares

from wangge.geo.errors import NotFound
from wangge.geo.levels import ORDER
from wangge.store import Store, open_store
from wangge.store.revisions import HOUSEHOLDS, read_revision
from wangge.store.schema import assignments, households

LEVELS = [level.value for level in ORDER]


def _located(ids: list[str], sizes: list[int | None]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "external_id": ids, "address": [f"地址{i}" for i in ids], "given_lon": [None] * n,
        "given_lat": [None] * n, "given_crs": [None] * n, "building_ref": [None] * n,
        "size": sizes, "lon": [120.2] * n, "lat": [33.4] * n, "located_by": ["address"] * n,
        "match_level": ["exact_building"] * n, "match_score": [1.0] * n,
        "matched_id": ["B1"] * n, "flags": [None] * n})


_NO_PEOPLE = pd.DataFrame(columns=["external_id", "name", "phone", "id_number"])

# microgrid, grid, community, street of each household; None where it has no unit at a level.
PLACES = {
    "h1": ("M1", "G1", "C1", "S1"),
    "h2": ("M1", "G1", "C1", "S1"),
    "h3": ("M2", "G1", "C1", "S1"),
    "h4": (None, "G2", "C1", "S1"),
    "h5": (None, "G3", "C2", "S1"),
    "h6": (None, None, None, None),     # outside every unit
    "h7": (None, None, "C3", "S2"),
}
SIZES = [3, 1, None, 4, 2, 5, 6]


def _table(store: Store, places: dict[str, tuple[str | None, ...]]) -> pd.DataFrame:
    ids = store.household_ids(list(places))
    rows = []
    for ext, (microgrid, grid, community, street) in places.items():
        found = grid is not None or street is not None
        rows.append({"household_id": ids[ext], "microgrid": microgrid, "grid": grid,
                     "community": community, "street": street,
                     "status": "found" if found else "outside",
                     "nearest_code": None if found else "M1", "nearest_m": None if found else 9.0})
    return pd.DataFrame(rows)


def _recount(store: Store, release_id: int) -> list[tuple[str, str, int, int]]:
    """The counts worked out the plain way: every assigned household, level by level."""
    a, h = assignments.c, households.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(*(a[name] for name in LEVELS), h.size)
            .select_from(assignments.join(households, h.id == a.household_id))
            .where(a.release_id == release_id)).all()
    count: Counter[tuple[str, str]] = Counter()
    people: Counter[tuple[str, str]] = Counter()
    for row in rows:
        for name, code in zip(LEVELS, row[:-1], strict=True):
            if code is not None:
                count[name, code] += 1
                people[name, code] += row[-1] or 0
    return sorted((level, code, n, people[level, code]) for (level, code), n in count.items())


def _counts(store: Store, release_id: int) -> list[tuple[str, str, int, int]]:
    frame = store.unit_counts(release_id)
    assert list(frame.columns) == ["level", "code", "households", "residents"]
    return sorted(frame.itertuples(index=False, name=None))


def _setup(store: Store) -> int:
    release = store.create_release(squares(2), source="counts", make_current=True).id
    store.upsert_households(_located(list(PLACES), SIZES), _NO_PEOPLE, source="r1")
    store.save_assignments(release, _table(store, PLACES))
    return release


def test_counts_follow_every_kind_of_write(store: Store) -> None:
    release = _setup(store)
    first = _counts(store, release)
    assert first == _recount(store, release)
    assert ("grid", "G1", 3, 4) in first and ("street", "S1", 5, 10) in first
    assert not any(code is None for _, code, _, _ in first)
    assert _counts(store, release) == first        # from the memo, and still right

    # a re-import changing a size
    store.upsert_households(_located(["h1"], [10]), _NO_PEOPLE, source="r2")
    assert _counts(store, release) == _recount(store, release) != first
    assert ("grid", "G1", 3, 11) in _counts(store, release)

    # the whole release assigned again: h7 joins G3
    store.save_assignments(release, _table(store, {**PLACES, "h7": (None, "G3", "C2", "S1")}))
    assert _counts(store, release) == _recount(store, release)
    assert ("grid", "G3", 2, 8) in _counts(store, release)

    # one household moved from G1 to G2
    store.save_assignments_of(release, _table(store, {"h2": ("M1", "G2", "C1", "S1")}))
    assert _counts(store, release) == _recount(store, release)
    assert ("grid", "G2", 2, 5) in _counts(store, release)

    # a review decision puts the household outside every unit into G1
    h6 = store.household_ids(["h6"])["h6"]
    decision = {"external_id": "h6", "address_sha256": "0" * 64, "decision": "point",
                "lon": 120.2, "lat": 33.4, "decided_by": "cli"}
    store.save_review_decision(h6, decision, release, {
        "microgrid": None, "grid": "G1", "community": "C1", "street": "S1", "status": "found",
        "nearest_code": None, "nearest_m": None})
    assert _counts(store, release) == _recount(store, release)
    assert ("grid", "G1", 3, 15) in _counts(store, release)


def test_every_write_bumps_the_revision_and_releases_are_kept_apart(store: Store) -> None:
    release = _setup(store)
    other = store.create_release(squares(2), source="other").id
    with store.engine.connect() as conn:
        before = read_revision(conn, HOUSEHOLDS)
    assert before == 2
    assert store.unit_counts(other).empty
    store.save_assignments(other, _table(store, {"h1": ("M9", "G9", "C9", "S9")}))
    assert _counts(store, other) == [("community", "C9", 1, 3), ("grid", "G9", 1, 3),
                                     ("microgrid", "M9", 1, 3), ("street", "S9", 1, 3)]
    assert _counts(store, release) == _recount(store, release)
    with store.engine.connect() as conn:
        assert read_revision(conn, HOUSEHOLDS) == before + 1


def test_callers_cannot_change_the_memo(store: Store) -> None:
    release = _setup(store)
    frame = store.unit_counts(release)
    frame.loc[:, "households"] = 0
    frame.iloc[0, 1] = "changed"
    assert _counts(store, release) == _recount(store, release)


def test_a_write_through_another_store_is_seen(store_url: str) -> None:
    with open_store(store_url) as one, open_store(store_url) as two:
        release = _setup(one)
        assert _counts(one, release) == _counts(two, release) == _recount(one, release)
        two.save_assignments_of(release, _table(two, {"h1": ("M2", "G2", "C1", "S1")}))
        assert _counts(one, release) == _recount(one, release)
        assert ("grid", "G2", 2, 7) in _counts(one, release)
        one.upsert_households(_located(["h4"], [1]), _NO_PEOPLE, source="r3")
        assert _counts(two, release) == _recount(two, release)
        assert ("grid", "G2", 2, 4) in _counts(two, release)


def test_threads_share_one_count(store: Store) -> None:
    release = _setup(store)
    expected = _recount(store, release)
    results: list[list[tuple[str, str, int, int]]] = []
    workers = [threading.Thread(target=lambda: results.append(_counts(store, release)))
               for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [expected] * 6


def test_the_memo_is_used_until_the_revision_moves(store: Store) -> None:
    release = _setup(store)
    first = _counts(store, release)
    with store.engine.begin() as conn:   # behind the store's back: no revision bump
        conn.execute(households.update().values(size=100))
    assert _counts(store, release) == first
    store.upsert_households(_located(["h1"], [100]), _NO_PEOPLE, source="r2")
    assert _counts(store, release) == _recount(store, release) != first


def test_a_whole_release_is_read_once_and_handed_out_as_copies(store):
    units = squares(9)
    rid = store.create_release(units, source="t").id
    first = store.units(rid)
    first.loc[0, "name"] = "changed by a caller"
    again = store.units(rid)
    assert again.loc[0, "name"] != "changed by a caller"          # a copy each time
    assert again.equals(store.units(rid)) and len(again) == len(units)
    assert len(store.units(rid, codes=["G000001"])) == 1            # filtered reads as before
    with pytest.raises(NotFound):
        store.units(rid + 1)
