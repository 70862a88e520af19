"""Households in the store, on both backends: upsert, personal data apart, assignments, moves."""

from __future__ import annotations

import pandas as pd
import pytest
from store_samples import squares

from wangge.geo.errors import InputError
from wangge.geo.levels import Level
from wangge.store import Store
from wangge.store.review import ReviewFilter


def located(ids: list[str], **extra) -> pd.DataFrame:
    n = len(ids)
    base = {"external_id": ids, "address": [f"地址{i}" for i in ids], "given_lon": [None] * n,
            "given_lat": [None] * n, "given_crs": [None] * n, "building_ref": [None] * n,
            "size": [2] * n, "lon": [120.2] * n, "lat": [33.4] * n,
            "located_by": ["address"] * n, "match_level": ["exact_building"] * n,
            "match_score": [1.0] * n, "matched_id": ["B1"] * n, "flags": [None] * n}
    base.update(extra)
    return pd.DataFrame(base)


def people(rows: list[tuple[str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame([(e, n, p, None) for e, n, p in rows],
                        columns=["external_id", "name", "phone", "id_number"])


def test_reimport_updates_never_duplicates(store: Store):
    first = store.upsert_households(located(["a", "b"]), people([("a", "张某", "139")]),
                                    source="r1")
    assert first == {"inserted": 2, "updated": 0}
    second = store.upsert_households(located(["b", "c"], size=[5, 1]), people([]), source="r2")
    assert second == {"inserted": 1, "updated": 1}
    frame = store.households().set_index("external_id")
    assert list(frame.index) == ["a", "b", "c"] and frame.loc["b", "size"] == 5
    assert "name" not in frame.columns and "phone" not in frame.columns


def _assign(store: Store, release: int, grids: dict[str, str | None]) -> dict[str, int]:
    ids = store.households().set_index("external_id")["id"]
    table = pd.DataFrame({
        "household_id": [int(ids[e]) for e in grids],
        "microgrid": [g + "001" if g else None for g in grids.values()],
        "grid": list(grids.values()),
        "community": [g[:12] if g else None for g in grids.values()],
        "street": [g[:9] if g else None for g in grids.values()],
        "status": ["found" if g else "outside" for g in grids.values()],
        "nearest_code": [None if g else "320902001001001001" for g in grids.values()],
        "nearest_m": [None if g else 42.0 for g in grids.values()],
    })
    compare = max([r for r in store.assigned_releases() if r != release], default=None)
    return store.save_assignments(release, table, compare_to=compare)


def test_assignments_moves_counts_and_queue(store: Store):
    r1 = store.create_release(squares(2), source="one", make_current=True).id
    r2 = store.create_release(squares(2), source="two").id
    store.upsert_households(located(["a", "b", "c"], size=[1, 2, 3]),
                            people([("a", "张某", "13900000000")]), source="r")
    g1, g2 = "320902001001001", "320902001001002"
    assert _assign(store, r1, {"a": g1, "b": g1, "c": None}) == {"assigned": 3, "moved": 0}
    assert _assign(store, r2, {"a": g1, "b": g2, "c": g2}) == {"assigned": 3, "moved": 2}
    moves = store.moves(r2).set_index("external_id")
    assert list(moves.index) == ["b", "c"]
    assert (moves.loc["b", "from_grid"], moves.loc["b", "to_grid"]) == (g1, g2)
    assert moves.loc["c", "from_grid"] is None
    counts = store.unit_counts(r1).set_index(["level", "code"])
    assert counts.loc[("grid", g1), "households"] == 2 and counts.loc[("grid", g1), "residents"] == 3
    queue = store.review_page(r1, ReviewFilter())
    assert list(queue["external_id"]) == ["c"] and queue["nearest_m"].iloc[0] == 42.0
    plain = store.households_of(r1, g1, Level.GRID)
    assert list(plain["external_id"]) == ["a", "b"] and "phone" not in plain.columns
    entitled = store.households_of(r1, g1, Level.GRID, personal=True).set_index("external_id")
    assert entitled.loc["a", "phone"] == "13900000000" and entitled.loc["b", "name"] is None


def test_failed_assignment_leaves_the_previous_one(store: Store):
    r1 = store.create_release(squares(1), source="one").id
    store.upsert_households(located(["a", "b"]), people([]), source="r")
    _assign(store, r1, {"a": "320902001001001", "b": None})
    ids = store.households().set_index("external_id")["id"]
    bad = pd.DataFrame({"household_id": [int(ids["a"]), int(ids["b"])],
                        "microgrid": [None, None], "grid": [None, None],
                        "community": [None, None], "street": [None, None],
                        "status": ["found", "teleported"], "nearest_code": [None, None],
                        "nearest_m": [None, None]})
    with pytest.raises(InputError):
        store.save_assignments(r1, bad)
    assert len(store.review_page(r1, ReviewFilter())) == 1  # the old assignment is intact


def test_household_points_follow_the_located_households(store: Store):
    assert all(len(a) == 0 for a in store.household_points())
    frame = located(["h1", "h2", "h3", "h4"], lon=[120.1, None, 120.3, 120.4],
                    lat=[33.1, None, 33.3, 33.4], size=[3, 2, None, 5])
    store.upsert_households(frame, people([]), source="test")
    release = store.create_release(squares(2), source="test").id
    lon, lat, size = store.household_points()
    full = store.located_households(release)
    assert list(full["external_id"]) == ["h1", "h3", "h4"]
    assert list(lon) == list(full["lon"]) == [120.1, 120.3, 120.4]
    assert list(lat) == list(full["lat"])
    assert size[0] == 3 and size[1] != size[1] and size[2] == 5      # unknown: NaN
