"""Import a register, locate, assign, re-assign for a new release: on SQLite and PostGIS."""

from __future__ import annotations

import pandas as pd
import pytest

from wangge.demo.register import build_register
from wangge.geo.levels import Level
from wangge.households import assign_release, import_register
from wangge.store import Store
from wangge.store.review import ReviewFilter


@pytest.fixture(scope="module")
def demo(demo_units):
    units = demo_units  # build_demo(), built once per session: see tests/conftest.py
    return units, build_register(units, n_households=3_000, seed=11)


@pytest.fixture
def loaded(store: Store, demo, tmp_path):
    units, reg = demo
    release = store.create_release(units, source="demo", make_current=True)
    store.create_gazetteer(reg.compounds, reg.buildings, source="demo")
    path = tmp_path / "register.csv"
    reg.households.to_csv(path, index=False)
    return release, reg, path


def test_import_locates_and_assigns_every_household(store: Store, loaded):
    release, reg, path = loaded
    result = import_register(store, path)
    assert result.rows == 3_000 and result.imported == 3_000 and not result.problems
    assert result.inserted == 3_000 and result.updated == 0
    located = result.located
    assert located["coordinates"] + located["address"] + located["unlocated"] == 3_000
    assert located["unlocated"] <= 30  # the planted unlocatable ~0.5 %
    a = result.assignment
    assert a["release_id"] == release.id and a["assigned"] == 3_000
    assert a["found"] >= 2_900
    # the truth: households on the right micro-grid, unless flagged for review
    hh = store.households().set_index("external_id")
    truth = reg.truth.set_index("external_id")
    found = store.households_of(release.id, "320902", Level.STREET)  # no such street: empty
    assert found.empty
    counts = store.unit_counts(release.id)
    assert counts[counts["level"] == "street"]["households"].sum() == a["found"]
    assigned = pd.concat([store.households_of(release.id, code, Level.STREET, limit=10_000)
                          for code in counts[counts["level"] == "street"]["code"]])
    assigned = assigned.set_index("external_id")
    wrong = [e for e in assigned.index
             if truth.loc[e, "microgrid_code"] is not None
             and assigned.loc[e, "microgrid"] != truth.loc[e, "microgrid_code"]
             and hh.loc[e, "flags"] is None]
    assert len(wrong) <= 3, wrong  # never silently wrong (a stray GPS point may cross a border)
    queue = store.review_page(release.id, ReviewFilter(), limit=None)
    assert set(queue["status"]) <= {"unlocated", "outside", "found"}
    assert (queue["status"] == "unlocated").sum() == located["unlocated"]


def test_reimport_updates_and_new_release_stores_moves(store: Store, loaded, demo):
    release, reg, path = loaded
    import_register(store, path)
    again = import_register(store, path)
    # the same content again: nothing updated, located or assigned
    assert again.inserted == 0 and again.updated == 0 and again.unchanged == 3_000
    assert again.assignment is None and len(again.ids["unchanged"]) == 50
    assert store.household_count() == 3_000
    units, _ = demo
    # a new release where two micro-grids of one grid swap codes: their households move
    grid = units[units["level"] == "microgrid"]["parent_code"].value_counts().index[0]
    kids = units[(units["parent_code"] == grid)]["code"].tolist()[:2]
    swapped = units.copy()
    swapped.loc[swapped["code"] == kids[0], "code"] = "tmp"
    swapped.loc[swapped["code"] == kids[1], "code"] = kids[0]
    swapped.loc[swapped["code"] == "tmp", "code"] = kids[1]
    second = store.create_release(swapped, source="swap", make_current=True)
    result = assign_release(store, second.id)
    assert result["compared_to"] == release.id
    moves = store.moves(second.id)
    counts = store.unit_counts(release.id).set_index(["level", "code"])["households"]
    expected = sum(int(counts.get(("microgrid", k), 0)) for k in kids)
    assert result["moved"] == len(moves) == expected
    assert set(moves["from_microgrid"]) <= set(kids) and set(moves["to_microgrid"]) <= set(kids)


def test_bad_rows_reported_and_good_rows_kept(store: Store, loaded, tmp_path):
    release, reg, _ = loaded
    table = reg.households.head(50).astype(object)
    table.loc[3, "lon"] = "东经120度"          # unparseable coordinates
    table.loc[4, "crs"] = "Xian80"            # unknown CRS
    table.loc[5, ["address", "lon", "lat"]] = [None, None, None]  # nothing to locate
    table.loc[6, "external_id"] = table.loc[7, "external_id"]     # duplicate id
    table.loc[4, "lon"], table.loc[4, "lat"] = 120.2, 33.4
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False)
    result = import_register(store, path)
    assert sorted(p.reason for p in result.problems) == [
        "bad_coordinates", "duplicate_id", "no_location", "unknown_crs"]
    assert sorted(p.row for p in result.problems) == [5, 6, 7, 9]
    assert result.imported == 46 and store.household_count() == 46
