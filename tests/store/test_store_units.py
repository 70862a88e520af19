"""Units: filters, order, paging, bbox queries, exact geometry round trip (both backends)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from store_samples import ORIGIN, frame, hierarchy, squares

from wangge.geo.errors import CRSError, FieldMappingError, InputError, NotFound
from wangge.store import Store


@pytest.fixture
def release_id(store: Store) -> int:
    return store.create_release(hierarchy(), source="test").id


def test_units_are_ordered_by_level_then_code(store: Store, release_id: int) -> None:
    units = store.units(release_id)
    assert units.crs.to_epsg() == 4490
    assert list(units.columns) == ["code", "name", "level", "parent_code", "attrs", "area_m2",
                                   "geometry"]
    assert list(units.level) == ["street"] + ["community"] * 2 + ["grid"] * 5 + ["microgrid"] * 2
    assert list(units.code[1:3]) == ["320902001001", "320902001002"]
    depth = {"street": 0, "community": 1, "grid": 2, "microgrid": 3}
    keys = zip(units.level.map(depth), units.code, strict=True)
    assert list(units.code) == [code for _, code in sorted(keys)]
    street = units.iloc[0]
    assert street["name"] == "先锋街道" and pd.isna(street["parent_code"])
    assert street["attrs"] == {"负责人": "张三", "phone": None}


def test_filters_combine_and_count(store: Store, release_id: int) -> None:
    grids = store.units(release_id, level="grid")
    assert list(grids.code) == ["320902001001001", "320902001001002", "320902001001003",
                                "320902001002001", "320902001002002"]
    assert list(store.units(release_id, level="网格").code) == list(grids.code)  # alias
    children = store.units(release_id, parent_code="320902001002")
    assert list(children.code) == ["320902001002001", "320902001002002"]
    assert store.count_units(release_id, parent_code="320902001002") == 2
    picked = store.units(release_id, codes=["320902001", "320902001001001", "nope"])
    assert list(picked.code) == ["320902001", "320902001001001"]
    assert store.units(release_id, codes=[]).empty
    assert store.count_units(release_id) == 10
    assert store.count_units(release_id, level="microgrid") == 2
    assert store.units(release_id, level="grid", parent_code="320902001").empty


def test_paging(store: Store, release_id: int) -> None:
    everything = list(store.units(release_id).code)
    pages = [list(store.units(release_id, limit=3, offset=k).code) for k in range(0, 12, 3)]
    assert sum(pages, []) == everything
    assert store.units(release_id, limit=0).empty
    assert list(store.units(release_id, offset=8).code) == everything[8:]


def test_unit_returns_one_row_or_not_found(store: Store, release_id: int) -> None:
    one = store.unit(release_id, "320902001002")
    assert len(one) == 1 and one.iloc[0]["name"] == "二社区"
    with pytest.raises(NotFound) as raised:
        store.unit(release_id, "999")
    assert raised.value.detail == {"release_id": release_id, "code": "999"}


def test_units_of_other_releases_stay_apart(store: Store, release_id: int) -> None:
    other = store.create_release(squares(4), source="other").id
    assert store.count_units(release_id) == 10
    assert list(store.units(other).code) == ["G000001", "G000002", "G000003", "G000004"]


def _bbox_sample() -> tuple:
    """Random squares of mixed sizes, a ring polygon and a multipolygon with a hole."""
    rng = np.random.default_rng(20240601)
    n = 300
    x = ORIGIN[0] + rng.uniform(0, 0.1, n)
    y = ORIGIN[1] + rng.uniform(0, 0.1, n)
    size = rng.uniform(0.0005, 0.01, n)
    geoms = list(shapely.box(x, y, x + size, y + size))
    x0, y0 = ORIGIN
    outer = [(x0 + 0.2, y0), (x0 + 0.3, y0), (x0 + 0.3, y0 + 0.1), (x0 + 0.2, y0 + 0.1)]
    hole = [(x0 + 0.22, y0 + 0.02), (x0 + 0.22, y0 + 0.08), (x0 + 0.28, y0 + 0.08),
            (x0 + 0.28, y0 + 0.02)]
    geoms.append(shapely.Polygon(outer, [hole]))
    geoms.append(shapely.MultiPolygon([
        shapely.box(x0 + 0.32, y0, x0 + 0.33, y0 + 0.01),
        shapely.Polygon([(x0 + 0.35, y0), (x0 + 0.4, y0), (x0 + 0.4, y0 + 0.05)]),
    ]))
    rows = [{"code": f"U{i:04d}", "name": f"单元{i}", "level": "grid", "parent_code": None,
             "attrs": None, "geometry": g} for i, g in enumerate(geoms)]
    return frame(rows), np.array(geoms, dtype=object)


BBOXES = [
    (120.21, 33.41, 120.23, 33.43),
    (120.2, 33.4, 120.3, 33.5),  # every random square
    (120.44, 33.44, 120.46, 33.46),  # inside the ring's hole: meets its envelope, not it
    (120.555, 33.42, 120.56, 33.43),  # in the triangle's envelope, not in the triangle
    (120.5, 33.4, 120.5, 33.4),  # a point: the ring's corner; touching counts
    (120.33, 33.405, 120.6, 33.406),  # both parts of the multipolygon
    (121.0, 34.0, 121.1, 34.1),  # nothing there
]


@pytest.mark.parametrize("bbox", BBOXES)
def test_bbox_matches_brute_force(store: Store, bbox: tuple) -> None:
    sample, geoms = _bbox_sample()
    release_id = store.create_release(sample, source="bbox").id
    expected = sorted(sample.code[shapely.intersects(geoms, shapely.box(*bbox))])

    found = store.units(release_id, bbox=bbox)
    assert sorted(found.code) == expected
    assert store.count_units(release_id, bbox=bbox) == len(expected)
    page = store.units(release_id, bbox=bbox, limit=5, offset=2)
    assert list(page.code) == list(found.code[2:7])


def test_bbox_edge_cases_of_the_sample() -> None:
    # Guards the sample itself: the hole and triangle boxes must not be trivially empty.
    sample, geoms = _bbox_sample()
    ring, triangle = geoms[-2], geoms[-1]
    assert shapely.intersects(ring.envelope, shapely.box(*BBOXES[2]))
    assert not shapely.intersects(ring, shapely.box(*BBOXES[2]))
    assert shapely.intersects(triangle.envelope, shapely.box(*BBOXES[3]))
    assert not shapely.intersects(triangle, shapely.box(*BBOXES[3]))
    assert shapely.intersects(ring, shapely.box(*BBOXES[4]))


def test_geometries_round_trip_exactly(store: Store) -> None:
    x0, y0 = 120.123456789012345, 33.987654321098765
    third = 1 / 3
    shell = [(x0, y0), (x0 + third * 1e-2, y0 + 1e-7), (x0 + 1e-2, y0 + third * 1e-2),
             (x0 + 2e-15, y0 + 1e-2)]
    hole = [(x0 + 1e-3, y0 + 1e-3), (x0 + 1e-3, y0 + 2e-3), (x0 + 2e-3, y0 + 1.5e-3)]
    polygon = shapely.Polygon(shell, [hole])
    multi = shapely.MultiPolygon([
        shapely.Polygon([(x + 0.1, y) for x, y in shell], [[(x + 0.1, y) for x, y in hole]]),
        shapely.Polygon([(x0 + 0.3, y0), (x0 + 0.31, y0), (x0 + 0.305, y0 + np.pi * 1e-3)]),
    ])
    sample = frame([
        {"code": "P", "name": "带洞多边形", "level": "grid", "parent_code": None,
         "attrs": {"n": np.int64(3), "tags": ["a", "网格"]}, "area_m2": 123.456789,
         "geometry": polygon},
        {"code": "M", "name": "多部件", "level": "grid", "parent_code": None, "attrs": None,
         "area_m2": np.nan, "geometry": multi},
    ])
    release_id = store.create_release(sample, source="exact").id
    back = store.units(release_id).set_index("code")

    for code, original in (("P", polygon), ("M", multi)):
        stored = back.geometry[code]
        assert stored.geom_type == original.geom_type
        assert shapely.equals_exact(stored, original, tolerance=0)
        assert np.array_equal(shapely.get_coordinates(stored), shapely.get_coordinates(original))
    assert back["attrs"]["P"] == {"n": 3, "tags": ["a", "网格"]}
    assert back["attrs"]["M"] is None
    assert back.area_m2["P"] == 123.456789 and np.isnan(back.area_m2["M"])


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4549", None])
def test_other_crs_is_refused(store: Store, crs: str | None) -> None:
    sample = squares(2)
    sample = sample.set_crs(crs, allow_override=True) if crs else sample.set_crs(None,
                                                                                 allow_override=True)
    with pytest.raises(CRSError) as raised:
        store.create_release(sample, source="wrong crs")
    assert "4490" in raised.value.message_zh and "4490" in raised.value.message_en
    assert store.releases() == []


def test_missing_columns_and_geometries_are_reported(store: Store) -> None:
    with pytest.raises(FieldMappingError) as raised:
        store.create_release(squares(2).drop(columns=["name", "level"]), source="x")
    assert raised.value.detail["missing"] == ["name", "level"]
    sample = squares(3)
    sample.loc[[0, 2], "geometry"] = None
    with pytest.raises(InputError) as raised:
        store.create_release(sample, source="x")
    assert raised.value.detail["rows"] == [0, 2]
    assert store.releases() == []


@pytest.mark.parametrize("kwargs", [
    {"bbox": (120.3, 33.4, 120.2, 33.5)},
    {"bbox": (1, 2, 3)},
    {"bbox": (120.2, 33.4, float("inf"), 33.5)},
    {"bbox": (float("nan"), 33.4, 120.3, 33.5)},
    {"level": "building"},
    {"limit": -1},
    {"offset": -1},
])
def test_bad_query_arguments_are_refused(store: Store, release_id: int, kwargs: dict) -> None:
    with pytest.raises(InputError):
        store.units(release_id, **kwargs)
