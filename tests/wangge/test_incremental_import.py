"""Incremental imports, on SQLite and PostGIS: a household imported again as it was is left
untouched; only new and changed ones are located and assigned, and the assignment of just those
equals what a full assignment gives them (moves included)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from wangge.demo.register import build_register
from wangge.households import assign_release, import_register
from wangge.store import Store
from wangge.store.schema import assignment_moves, assignments, households


@pytest.fixture(scope="module")
def demo(demo_units):
    return demo_units, build_register(demo_units, n_households=2_000, seed=23)


@pytest.fixture
def loaded(store: Store, demo, tmp_path):
    units, reg = demo
    release = store.create_release(units, source="demo", make_current=True)
    store.create_gazetteer(reg.compounds, reg.buildings, source="demo")
    path = tmp_path / "register.csv"
    reg.households.to_csv(path, index=False)
    first = import_register(store, path)
    assert first.inserted == 2_000 and first.assignment["mode"] == "full"
    return release, reg


def _table(store: Store, table: sa.Table, *order: str) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(table).order_by(*(table.c[c] for c in order))).all()
    return pd.DataFrame(rows, columns=[c.name for c in table.columns])


def _twenty(reg) -> tuple[pd.DataFrame, list[str], list[str], list[str]]:
    """20 rows: 8 changed (size, address of another building, phone), 2 new, 10 as they were."""
    hh = reg.households
    located = reg.truth["building_id"].notna().to_numpy() & hh["lon"].isna().to_numpy()
    pick = hh[located].iloc[100:118].copy()
    changed = pick["external_id"].iloc[:8].tolist()
    pick.loc[pick.index[:3], "size"] = pick["size"].iloc[:3] % 6 + 1
    far = hh[located].iloc[1_500:1_503]["address"].to_numpy()
    pick.loc[pick.index[3:6], "address"] = far
    pick.loc[pick.index[3:6], "building_id"] = None  # else the building reference comes first
    pick.loc[pick.index[6:8], "phone"] = "109-0000-0000"
    new = hh[located].iloc[:2].copy()
    new["external_id"] = ["NEW0001", "NEW0002"]
    rows = pd.concat([pick, new], ignore_index=True)
    return rows, changed, ["NEW0001", "NEW0002"], pick["external_id"].iloc[8:].tolist()


def test_same_content_is_untouched_and_changes_are_named(store: Store, loaded, tmp_path):
    release, reg = loaded
    before = _table(store, households, "id").set_index("external_id")
    assigned_before = _table(store, assignments, "release_id", "household_id")
    rows, changed, new, same = _twenty(reg)
    path = tmp_path / "twenty.csv"
    rows.to_csv(path, index=False)
    result = import_register(store, path, display_name="twenty.csv")
    assert (result.inserted, result.updated, result.unchanged) == (2, 8, 10)
    assert sorted(result.ids["inserted"]) == new
    assert sorted(result.ids["updated"]) == sorted(changed)
    assert sorted(result.ids["unchanged"]) == sorted(same)
    located = result.located
    assert located["coordinates"] + located["address"] + located["unlocated"] == 10
    a = result.assignment
    assert a["mode"] == "incremental" and a["assigned"] == 10 and a["release_id"] == release.id
    after = _table(store, households, "id").set_index("external_id")
    assert len(after) == 2_002
    untouched = after.drop(index=changed + new)
    # every other household, the 10 unchanged rows of the file included, exactly as it was
    pd.testing.assert_frame_equal(untouched, before.loc[untouched.index])
    assert set(after.loc[changed + new, "source"]) == {"twenty.csv"}
    # the moved addresses were located again, at the other building
    moved = after.loc[changed[3:6]]
    assert (moved["matched_id"].to_numpy() != before.loc[changed[3:6], "matched_id"].to_numpy()).all()
    # assignments: only the new and changed households' rows were written
    assigned_after = _table(store, assignments, "release_id", "household_id")
    ids = set(after.loc[changed + new, "id"])
    keep_before = assigned_before[~assigned_before["household_id"].isin(ids)]
    keep_after = assigned_after[~assigned_after["household_id"].isin(ids)]
    pd.testing.assert_frame_equal(keep_before.reset_index(drop=True),
                                  keep_after.reset_index(drop=True))
    assert len(assigned_after) == 2_002
    # importing the same file again changes nothing and assigns nobody
    again = import_register(store, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 20)
    assert again.assignment is None


def test_incremental_assignment_equals_the_full_one(store: Store, loaded, demo, tmp_path):
    release, reg = loaded
    units, _ = demo
    # a second release where two micro-grids of one grid (those with most households) swap
    # codes: moves are recorded against the first
    per_micro = reg.truth["microgrid_code"].value_counts()
    parent = units.set_index("code")["parent_code"]
    per_grid = per_micro.groupby(parent.reindex(per_micro.index).to_numpy()).sum()
    grid = per_grid.idxmax()
    kids = [k for k in per_micro.index if parent[k] == grid][:2]
    swapped = units.copy()
    swapped.loc[swapped["code"] == kids[0], "code"] = "tmp"
    swapped.loc[swapped["code"] == kids[1], "code"] = kids[0]
    swapped.loc[swapped["code"] == "tmp", "code"] = kids[1]
    second = store.create_release(swapped, source="swap", make_current=True)
    assign_release(store, second.id)
    # households moved into (and out of) the swapped micro-grids by a changed address
    truth = reg.truth.set_index("external_id")
    inside = truth[truth["microgrid_code"].isin(kids)].index
    outside = truth[truth["microgrid_code"].notna() & ~truth["microgrid_code"].isin(kids)].index
    assert len(inside) >= 4
    hh = reg.households.set_index("external_id")
    rows = hh.loc[list(outside[:6]) + list(inside[:2])].copy()
    rows["lon"], rows["lat"], rows["crs"], rows["building_id"] = float("nan"), float("nan"), None, None
    rows.loc[rows.index[:2], "address"] = hh.loc[inside[2:4], "address"].to_numpy()
    rows.loc[rows.index[6:], "address"] = hh.loc[outside[10:12], "address"].to_numpy()
    rows.loc[rows.index[2:6], "size"] = 9
    path = tmp_path / "moves.csv"
    rows.reset_index().to_csv(path, index=False)
    result = import_register(store, path)
    assert result.updated == 8 and result.assignment["mode"] == "incremental"
    assert result.assignment["compared_to"] == release.id
    incremental = (_table(store, assignments, "release_id", "household_id"),
                   _table(store, assignment_moves, "to_release_id", "household_id"))
    assign_release(store, second.id)  # the full path, for everybody
    full = (_table(store, assignments, "release_id", "household_id"),
            _table(store, assignment_moves, "to_release_id", "household_id"))
    pd.testing.assert_frame_equal(incremental[0], full[0])
    pd.testing.assert_frame_equal(incremental[1], full[1])
    moved = set(store.moves(second.id)["external_id"])
    assert set(rows.index[:2]) <= moved  # now in a swapped micro-grid: moved since release 1


def test_columns_the_file_lacks_keep_what_is_stored(store: Store, loaded, tmp_path):
    _, reg = loaded
    rows = reg.households.iloc[:5][["external_id", "address"]]  # no size, no names, no phones
    path = tmp_path / "addresses.csv"
    rows.to_csv(path, index=False)
    result = import_register(store, path)
    assert result.unchanged == 5 and result.updated == 0
    _, personal = store.stored_households(rows["external_id"].tolist())
    assert personal.set_index("external_id")["phone"].to_dict() == \
        reg.households.iloc[:5].set_index("external_id")["phone"].to_dict()
    # an empty cell clears: a size column with one empty value changes that household only
    sized = reg.households.iloc[:5][["external_id", "address", "size"]].copy()
    sized["size"] = sized["size"].astype(object)
    sized.iloc[0, 2] = None
    sized.to_csv(path, index=False)
    result = import_register(store, path)
    assert result.updated == 1 and result.ids["updated"] == [sized["external_id"].iloc[0]]
