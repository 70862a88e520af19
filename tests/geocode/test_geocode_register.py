"""The demo register: determinism, sanity of the data, and the geocoder scored on a sample."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from wangge.demo.register import VARIANTS, DemoRegister, build_register
from wangge.geo.crs import STORAGE_CRS, lonlat_to_storage
from wangge.geo.errors import InputError
from wangge.geocode.gazetteer import Gazetteer
from wangge.geocode.match import Matcher, distance_m
from wangge.geocode.parse import parse

N = 10_000


@pytest.fixture(scope="module")
def units(demo_units) -> gpd.GeoDataFrame:
    return demo_units  # build_demo(), built once per session: see tests/conftest.py


@pytest.fixture(scope="module")
def register(units: gpd.GeoDataFrame) -> DemoRegister:
    return build_register(units, n_households=N)


@pytest.fixture(scope="module")
def micro(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return units[units["level"] == "microgrid"].set_index("code")


def test_deterministic(units: gpd.GeoDataFrame, register: DemoRegister) -> None:
    again = build_register(units, n_households=N)
    for name in ("households", "truth"):
        pd.testing.assert_frame_equal(getattr(register, name), getattr(again, name))
    for name in ("compounds", "buildings"):
        a, b = getattr(register, name), getattr(again, name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    other = build_register(units, seed=7, n_households=N)
    assert other.households["address"].tolist() != register.households["address"].tolist()


def test_arguments_are_checked(units: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError):
        build_register(units, n_households=10)
    with pytest.raises(InputError):
        build_register(units.drop(columns="parent_code"), n_households=1000)


def test_counts_and_shares(register: DemoRegister) -> None:
    hh, truth = register.households, register.truth
    assert len(hh) == len(truth) == N
    assert hh["external_id"].is_unique and (hh["external_id"] == truth["external_id"]).all()
    located = truth["building_id"].notna()
    assert (~located).sum() == round(N * 0.005)
    assert hh.loc[~located, "lon"].isna().all() and hh.loc[~located, "crs"].isna().all()
    messy = truth["messiness"].map(len) > 0
    assert 0.25 <= messy.mean() <= 0.35
    assert {t for tags in truth["messiness"] for t in tags} == set(VARIANTS)
    assert 0.17 <= hh["lon"].notna().mean() <= 0.23
    assert set(hh["crs"].dropna()) == {"WGS-84", "GCJ-02", "BD-09"}
    given = hh["building_id"].notna()
    assert 0.03 <= given.mean() <= 0.09
    assert (hh.loc[given, "building_id"] == truth.loc[given, "building_id"]).all()
    assert set(truth.loc[located, "building_id"]) <= set(register.buildings["building_id"])
    assert hh["size"].between(1, 6).all()
    rural = register.buildings.set_index("building_id")["category"]
    share = (rural.reindex(truth.loc[located, "building_id"]) == "village").mean()
    assert 0.09 <= share <= 0.15


def test_gazetteer_shape(register: DemoRegister) -> None:
    c, b = register.compounds, register.buildings
    assert c.crs.equals(STORAGE_CRS) and b.crs.equals(STORAGE_CRS)
    for column in ("compound_id", "name", "road", "road_number", "kind", "microgrid_code"):
        assert column in c.columns
    for column in ("building_id", "compound_id", "number", "label", "microgrid_code", "address"):
        assert column in b.columns
    assert c["compound_id"].is_unique and b["building_id"].is_unique
    assert set(c["kind"]) == {"polygon", "point"}
    kinds = shapely.get_type_id(c.geometry.values)
    assert ((kinds == 3) == (c["kind"] == "polygon")).all() and ((kinds == 0) == (c["kind"] == "point")).all()
    assert (shapely.get_type_id(b.geometry.values) == 0).all()
    town = c[c["category"] == "compound"]
    assert town["name"].is_unique
    assert town["road"].notna().all()
    doors = list(zip(town["road"], town["road_number"], strict=True))
    assert len(set(doors)) == len(doors)
    assert town["name"].str.contains(r"(?:花园|小区|苑|新村|家园|嘉园|华府|公馆|公寓)$").all()
    assert town["road"].str.contains(r"(?:路|街|大道)$").all()
    villages = c[c["category"] == "village"]
    assert (villages["name"] == villages["village"] + villages["group"] + "组").all()
    # buildings numbered 1..N per compound; rooms of at most 18 floors
    numbers = b.groupby("compound_id")["number"].apply(lambda s: sorted(int(x) for x in s))
    assert all(n == list(range(1, len(n) + 1)) for n in numbers)
    flats = b[b["category"] == "compound"]
    assert set(flats["floors"]) == {6, 11, 18} and set(flats["units"]) <= {2, 3}


def test_compounds_and_buildings_sit_in_their_micro_grid(register: DemoRegister,
                                                          micro: gpd.GeoDataFrame) -> None:
    c, b = register.compounds, register.buildings
    own = micro.geometry.reindex(c["microgrid_code"]).values
    assert shapely.within(c.geometry.values, own).all()
    # … and in no other: each compound lies in one micro-grid only
    tree = shapely.STRtree(micro.geometry.values)
    hits, _ = tree.query(c.geometry.values, predicate="intersects")
    assert (np.bincount(hits, minlength=len(c)) == 1).all()
    assert shapely.within(b.geometry.values, micro.geometry.reindex(b["microgrid_code"]).values).all()
    poly = c.set_index("compound_id").geometry
    polygon_kind = c.set_index("compound_id")["kind"].reindex(b["compound_id"]).to_numpy() == "polygon"
    inside = shapely.within(b.geometry.values[polygon_kind],
                            poly.reindex(b["compound_id"]).values[polygon_kind])
    assert inside.all()
    urban = [a["area_type"] == "urban" for a in micro["attrs"].reindex(c["microgrid_code"])]
    assert (np.array(urban) == (c["category"] == "compound").to_numpy()).all()


def test_addresses_read_back(register: DemoRegister) -> None:
    b = register.buildings.iloc[::50]
    for address, name, number, category in zip(b["address"], b["compound_name"], b["number"],
                                               b["category"], strict=True):
        parsed = parse(address)
        assert parsed.province == "江苏省" and parsed.district == "亭湖区"
        if category == "compound":
            assert (parsed.compound, parsed.building) == (name, number)
        else:
            assert (f"{parsed.village}{parsed.group}组", parsed.house_number) == (name, number)
    clean = register.truth["messiness"].map(len) == 0
    sample = register.households.loc[clean, "address"].head(200)
    pattern = re.compile(r"^江苏省盐城市亭湖区.{2,4}街道(.+?(路|街|大道)\d+号.+?\d+栋\d单元\d{3,4}室"
                         r"|.+?村\d+组\d+号)$")
    assert sample.map(lambda a: bool(pattern.match(a))).all()


def test_coordinates_are_in_their_crs(register: DemoRegister) -> None:
    hh, truth = register.households, register.truth
    has = hh["lon"].notna().to_numpy()
    lon, lat = lonlat_to_storage(hh["lon"].to_numpy(), hh["lat"].to_numpy(), hh["crs"].tolist())
    d = distance_m(lon, lat, truth["lon"].to_numpy(), truth["lat"].to_numpy())
    error = truth["coords_error"].to_numpy()
    good = has & pd.isna(error)
    assert d[good].max() < 20.0 and np.median(d[good]) < 8.0
    bad = has & ~pd.isna(error)
    assert 0.02 <= bad.sum() / has.sum() <= 0.08
    assert d[bad].min() > 150.0
    # read as if they were WGS-84, the GCJ-02 and BD-09 values are hundreds of metres off
    raw = distance_m(hh["lon"].to_numpy(), hh["lat"].to_numpy(), truth["lon"].to_numpy(),
                     truth["lat"].to_numpy())
    offset = good & (hh["crs"].to_numpy() != "WGS-84")
    assert raw[offset].min() > 300.0


def test_personal_data_is_obviously_fake(register: DemoRegister) -> None:
    hh = register.households
    assert hh["phone"].str.fullmatch(r"10\d-0000-\d{4}").all()
    assert hh["id_number"].str.fullmatch(r"99\d{15}[\dX]").all()
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for number in hh["id_number"].head(500):
        check = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11
        assert number[17] == "10X98765432"[check]
    assert hh["name"].str.len().between(2, 3).all()


def test_geocoder_on_a_sample(register: DemoRegister) -> None:
    """At least 98 % on the right building, no wrong building trusted, unlocatable as none."""
    matcher = Matcher(Gazetteer(register.compounds, register.buildings))
    result = matcher.match_many(register.households["address"].tolist())
    truth = register.truth
    has = truth["building_id"].notna().to_numpy()
    got = result["building_id"].to_numpy()
    right = has & (got == truth["building_id"].to_numpy())
    wrong = has & result["building_id"].notna().to_numpy() & ~right
    trusted = result["trusted"].to_numpy()
    assert right.sum() / has.sum() >= 0.98
    assert not (wrong & trusted).any(), result.loc[wrong & trusted, "reason_zh"].tolist()[:5]
    assert (result.loc[~has, "level"] == "none").all()
    assert not trusted[~has].any()
    messy = has & (truth["messiness"].map(len) > 0).to_numpy()
    assert right[messy].mean() >= 0.97
    # with the coordinates: every deliberately wrong one on a located household is flagged
    hh = register.households
    checked = matcher.match_many(hh["address"].tolist(), lon=hh["lon"].to_numpy(),
                                 lat=hh["lat"].to_numpy(), crs=hh["crs"].tolist())
    bad = (~pd.isna(truth["coords_error"].to_numpy())) & right
    assert checked["flag"].notna().to_numpy()[bad].all()
    fine = hh["lon"].notna().to_numpy() & pd.isna(truth["coords_error"].to_numpy()) & right
    assert checked["flag"].notna().to_numpy()[fine].sum() == 0
