"""Demo sites: counts, placement inside their units, determinism and the gaps left on purpose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from wangge.demo.sites import build_demo_sites
from wangge.geo.coverage.mclp import metric_xy
from wangge.geo.coverage.sites import check_sites
from wangge.geo.coverage.stats import coverage_stats, households_by_level
from wangge.geo.crs import area_m2

RADIUS_15 = 15 * 4800 / 60 / 1.3  # metres, straight line with a detour factor of 1.3


@pytest.fixture(scope="module")
def demo(demo_units, demo_register, demo_sites):
    # build_demo(), build_register(units), build_demo_sites(units, register): see tests/conftest.py
    return demo_units, demo_register, demo_sites


def test_counts_and_table(demo):
    units, _, sites = demo
    assert sites.crs.to_epsg() == 4490
    assert list(sites.columns) == ["site_id", "kind", "name", "unit_code", "hours", "geometry"]
    counts = sites["kind"].value_counts().to_dict()
    assert counts == {"centre": 70, "station": 240}
    assert sites["site_id"].is_unique
    centres = sites[sites["kind"] == "centre"]
    communities = set(units.loc[units["level"] == "community", "code"])
    assert set(centres["unit_code"]) == communities  # one centre per community
    assert centres["name"].str.endswith("党群服务中心").all()
    assert sites.loc[sites["kind"] == "station", "name"].str.contains("驿站").all()
    assert check_sites(sites, units) == []  # ids, kinds, hours, inside their units, a centre each


def test_inside_units_and_where_people_live(demo):
    units, register, sites = demo
    geoms = units.set_index("code").geometry
    inside = shapely.covers(geoms[sites["unit_code"]].to_numpy(), sites.geometry.to_numpy())
    assert inside.all()
    # Stations follow households: per km², the densest tenth of grids (households per km²) has
    # many times the stations of the sparsest half.
    chain = households_by_level(units, register.truth["microgrid_code"].to_numpy())
    grids = units[units["level"] == "grid"].set_index("code")
    km2 = pd.Series(area_m2(grids.geometry.to_numpy()) / 1e6, index=grids.index)
    density = (chain["grid"].value_counts().reindex(grids.index).fillna(0) / km2).sort_values()
    stations = sites.loc[sites["kind"] == "station", "unit_code"].value_counts().reindex(
        grids.index).fillna(0)
    dense, sparse = density.index[-len(density) // 10:], density.index[: len(density) // 2]
    assert stations[dense].sum() / km2[dense].sum() > 5 * stations[sparse].sum() / km2[sparse].sum()


def test_deterministic(demo):
    units, register, sites = demo
    again = build_demo_sites(units, register)
    assert again.drop(columns="geometry").equals(sites.drop(columns="geometry"))
    assert shapely.equals_exact(again.geometry.to_numpy(), sites.geometry.to_numpy(), 0).all()
    other = build_demo_sites(units, register, seed=7)
    assert not shapely.equals_exact(other.geometry.to_numpy(), sites.geometry.to_numpy(), 0).all()
    proxy = build_demo_sites(units)  # without a register: micro-grids as household proxies
    assert proxy["kind"].value_counts().to_dict() == {"centre": 70, "station": 240}


def test_gaps_exist(demo):
    units, register, sites = demo
    truth = register.truth
    ok = np.isfinite(truth["lon"].to_numpy())
    hx, hy = metric_xy(truth["lon"].to_numpy()[ok], truth["lat"].to_numpy()[ok])
    sx, sy = metric_xy(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    dist = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([hx, hy]))[0]
    minutes = dist * 1.3 / (4800 / 60)
    chain = households_by_level(units, truth["microgrid_code"].to_numpy()[ok])
    stats = coverage_stats(units, chain, minutes).table.set_index("code")
    # The planted urban pockets: no station, and households beyond 5 minutes there.
    gaps = sites.attrs["gap_grids"]
    assert len(gaps) == 2
    assert not sites["unit_code"].isin(gaps).any()
    assert (stats.loc[gaps, "share_5"] < 0.5).all()
    # Rural outskirts: households beyond 15 minutes, mostly in rural communities.
    rural = {c for c, a, lv in zip(units["code"], units["attrs"], units["level"], strict=True)
             if lv == "community" and a.get("area_type") == "rural"}
    far = stats[(stats["level"] == "community") & (stats["uncovered"] > 0)]
    assert far["uncovered"].sum() > 1000
    assert far.loc[far.index.isin(rural), "uncovered"].sum() > 0.5 * far["uncovered"].sum()
    # ... but most households are within the 15-minute circle.
    assert 0.8 < (minutes <= 15).mean() < 0.97
