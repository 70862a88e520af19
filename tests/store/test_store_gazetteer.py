"""Gazetteer versions in the store, on both backends."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from wangge.geo.errors import InputError, NotFound
from wangge.store import Store


def sample(n: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    compounds = gpd.GeoDataFrame(
        {"compound_id": [f"C{i}" for i in range(n)], "name": [f"和平花园{i}" for i in range(n)],
         "road": ["人民中路"] * n, "road_number": [str(80 + i) for i in range(n)]},
        geometry=[shapely.box(120.2 + i * 0.01, 33.4, 120.205 + i * 0.01, 33.405) for i in range(n)],
        crs="EPSG:4490")
    compounds.loc[n - 1, "geometry"] = shapely.Point(120.3, 33.4)  # a compound known by a point
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"C{i}-B{j}" for i in range(n) for j in (1, 2)],
         "compound_id": [f"C{i}" for i in range(n) for _ in (1, 2)],
         "number": [str(j) for _ in range(n) for j in (1, 2)],
         "floors": [18, 6] * n},
        geometry=[shapely.Point(120.201 + i * 0.01, 33.401 + j * 1e-4) for i in range(n)
                  for j in (1, 2)], crs="EPSG:4490")
    return compounds, buildings


def test_round_trip_and_versions(store: Store):
    with pytest.raises(NotFound):
        store.gazetteer()
    compounds, buildings = sample()
    first = store.create_gazetteer(compounds, buildings, source="v1")
    info, c, b = store.gazetteer()
    assert info == first and info.compound_count == 3 and info.building_count == 6
    assert list(c["road_number"]) == ["80", "81", "82"]
    assert all(x.equals(y) for x, y in zip(c.geometry, compounds.geometry, strict=True))
    assert list(b["floors"]) == [18, 6] * 3
    assert shapely.equals(b.geometry.iloc[0], buildings.geometry.iloc[0])
    second = store.create_gazetteer(compounds.iloc[:1], buildings.iloc[:2], source="v2")
    assert store.gazetteer_info().id == second.id
    assert store.gazetteer_info(first.id).is_current is False
    assert len(store.gazetteer(first.id)[1]) == 3


def test_refuses_other_crs_and_missing_columns(store: Store):
    compounds, buildings = sample()
    with pytest.raises(InputError):
        store.create_gazetteer(compounds.to_crs(4549), buildings, source="x")
    with pytest.raises(InputError):
        store.create_gazetteer(compounds.drop(columns="name"), buildings, source="x")


def test_building_points_are_the_current_gazetteers_buildings(store: Store):
    lon, lat, compound = store.building_points()
    assert len(lon) == len(lat) == len(compound) == 0
    compounds, buildings = sample()
    store.create_gazetteer(compounds, buildings, source="v1")
    store.create_gazetteer(compounds.iloc[:1], buildings.iloc[:2], source="v2")
    lon, lat, compound = store.building_points()
    _, _, current = store.gazetteer()
    assert list(compound) == list(current["compound_id"]) == ["C0", "C0"]
    assert list(lon) == list(current.geometry.x) and list(lat) == list(current.geometry.y)
