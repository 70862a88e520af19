"""Proposed grids from a units frame: slots, removed grids, input checks, and the demo district."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import connected_components

from wangge.geo.crs import STORAGE_CRS, area_m2, length_m
from wangge.geo.errors import InputError
from wangge.geo.partition.graph import shared_edges
from wangge.geo.partition.proposals import households_per_microgrid, propose_grids

STEP = 0.001  # degrees, about 100 m


def tiny_units(grid_columns: list[list[int]], nx: int = 6, ny: int = 4) -> gpd.GeoDataFrame:
    """One street, one community, grids of whole columns of an ``nx`` × ``ny`` lon/lat lattice."""
    x0, y0 = 120.1, 33.4
    rows = [("320902001", "街道", "street", None, shapely.box(x0, y0, x0 + nx * STEP, y0 + ny * STEP)),
            ("320902001001", "社区", "community", "320902001",
             shapely.box(x0, y0, x0 + nx * STEP, y0 + ny * STEP))]
    for g, columns in enumerate(grid_columns, start=1):
        code = f"320902001001{g:03d}"
        rows.append((code, f"网格{g}", "grid", "320902001001",
                     shapely.box(x0 + min(columns) * STEP, y0, x0 + (max(columns) + 1) * STEP,
                                 y0 + ny * STEP)))
        m = 0
        for i in columns:
            for j in range(ny):
                m += 1
                rows.append((f"{code}{m:03d}", f"微网格{m}", "microgrid", code,
                             shapely.box(x0 + i * STEP, y0 + j * STEP, x0 + (i + 1) * STEP,
                                         y0 + (j + 1) * STEP)))
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS)


def micro_codes(units: gpd.GeoDataFrame) -> pd.Index:
    return pd.Index(units.loc[units["level"] == "microgrid", "code"])


def test_slots_name_kept_grids_new_grids_and_removed_ones() -> None:
    units = tiny_units([[0, 1, 2, 3], [4], [5]])  # 16, 4 and 4 micro-grids of 30 households
    households = pd.Series(30, index=micro_codes(units))
    (proposal,) = propose_grids(units, households)
    assert proposal.community == "320902001001"
    assert proposal.verdict == "feasible"
    assert set(proposal.slots) == set(households.index)
    assert proposal.before.to_dict() == {"320902001001001": 480, "320902001001002": 120,
                                         "320902001001003": 120}
    grids = proposal.grids.set_index("slot")
    assert grids["households"].between(300, 500).all() and grids["households"].sum() == 720
    assert grids["microgrids"].sum() == 24
    kept = [s for s in grids.index if not s.startswith("new-")]
    assert set(kept) | set(proposal.removed) == set(proposal.before.index)
    assert grids.loc[kept, "existing"].all()
    assert proposal.moved == sum(30 for code, slot in proposal.slots.items()
                                 if slot != code[:15])


def test_compounds_spanning_micro_grids_stay_in_one_grid() -> None:
    units = tiny_units([[0, 1, 2], [3, 4, 5]])
    codes = micro_codes(units)
    households = pd.Series(40, index=codes)  # 480 per grid: already valid
    # a compound over a micro-grid of each grid: its two micro-grids must end in one grid
    compounds = pd.Series(["C1", "C1"], index=[codes[8], codes[12]])
    (proposal,) = propose_grids(units, households, compounds)
    assert proposal.slots[codes[8]] == proposal.slots[codes[12]]
    assert proposal.moved == 80  # its half moves, and one more micro-grid makes room


def test_inputs_are_checked_all_at_once() -> None:
    units = tiny_units([[0, 1, 2], [3, 4, 5]])
    households = pd.Series(-3, index=[*micro_codes(units)[:2], "nowhere"])
    with pytest.raises(InputError) as err:
        propose_grids(units, households, communities=["320902001999"])
    text = err.value.message_en
    assert "name no micro-grid" in text and "not negative" in text and "no community" in text
    with pytest.raises(InputError, match="Unknown method"):
        propose_grids(units, pd.Series(dtype=int), method="metis")  # type: ignore[arg-type]


def test_households_per_microgrid_counts_points() -> None:
    units = tiny_units([[0, 1], [2, 3]], nx=4, ny=2)
    codes = micro_codes(units)
    lon = np.array([120.1005, 120.1005, 120.1015, np.nan])
    lat = np.array([33.4005, 33.4005, 33.4015, np.nan])
    counts = households_per_microgrid(units, lon, lat)
    assert counts.sum() == 3 and list(counts.index) == list(codes)
    assert (counts > 0).sum() == 2


@pytest.fixture(scope="module")
def demo_households(demo_register) -> pd.Series:
    """Households per micro-grid of the demo, from the register's truth."""
    return demo_register.truth["microgrid_code"].dropna().value_counts()


def test_the_demo_communities_that_are_most_out_of_bounds(demo_units, demo_register,
                                                          demo_households) -> None:
    units = demo_units
    grids = units[units["level"] == "grid"]
    micro = units[units["level"] == "microgrid"]
    per_grid = demo_households.groupby(micro.set_index("code")["parent_code"]
                                       .reindex(demo_households.index).to_numpy()).sum()
    off = (np.maximum(per_grid - 500, 0) + np.maximum(300 - per_grid, 0))
    community = grids.set_index("code")["parent_code"]
    worst = off.groupby(community.reindex(off.index).to_numpy()).sum().nlargest(6).index.tolist()
    compounds = demo_register.compounds.set_index("microgrid_code")["compound_id"]
    repaired = propose_grids(units, demo_households, compounds, communities=worst)
    scratch = propose_grids(units, demo_households, compounds, communities=worst,
                            method="scratch")
    for proposal in repaired + scratch:
        assert proposal.verdict in ("feasible", "unsolved")
        if proposal.verdict == "feasible":
            assert proposal.grids["households"].between(300, 500).all()
    assert sum(p.verdict == "feasible" for p in repaired) >= 5
    # the hardest communities need new grids; over the whole district the repair moves under
    # half of what the from-scratch partition does (benchmarks/partition.py)
    assert sum(p.moved for p in repaired) <= 0.7 * sum(p.moved for p in scratch)
    # contiguity and the exact compactness, checked against shapely on the lon/lat geometry
    proposal = repaired[0]
    geom = micro.set_index("code")["geometry"]
    for slot, row in proposal.grids.set_index("slot").iterrows():
        members = [c for c, s in proposal.slots.items() if s == slot]
        pieces = geom.loc[members].to_numpy()
        adjacency, _ = shared_edges(pieces)
        assert connected_components(adjacency, directed=False)[0] == 1
        union = shapely.coverage_union_all(pieces)
        want = 4 * np.pi * area_m2(np.array([union]))[0] / length_m(np.array([union]))[0] ** 2
        assert row["compactness"] == pytest.approx(want, rel=0.01)
