"""The demo district: counts, exact nesting, codes, names, sizes, and the planted problems.

Exactness is checked with shapely's own coverage functions, not with wangge's validator.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wangge.demo.district import PlantedProblem, build_broken, build_demo, district_boundary
from wangge.geo.crs import STORAGE_CRS, metric_crs_for, to_metric
from wangge.geo.errors import InputError, NotFound

LEVELS = ("street", "community", "grid", "microgrid")
COUNTS = {"street": 7, "community": 70, "grid": 314, "microgrid": 1976}
CODE_LENGTH = {"street": 9, "community": 12, "grid": 15, "microgrid": 18}
METRIC = metric_crs_for(120.3)  # EPSG:4549, CGCS2000 GK zone CM 120E
M2_PER_DEG2_NEAR_33N = 111_320.0**2 * np.cos(np.radians(33.4))


@pytest.fixture(scope="module")
def demo(demo_units) -> gpd.GeoDataFrame:
    return demo_units  # build_demo(), built once per session: see tests/conftest.py


@pytest.fixture(scope="module")
def metric(demo: gpd.GeoDataFrame) -> np.ndarray:
    return to_metric(np.asarray(demo.geometry.values, dtype=object), METRIC)


@pytest.fixture(scope="module")
def broken(demo: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[PlantedProblem]]:
    return build_broken(demo)


def _rows(frame: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    return frame[frame["level"] == level]


def _area_m2(geom: shapely.Geometry) -> float:
    return float(shapely.area(to_metric(np.array([geom], dtype=object), METRIC))[0])


# --- the demo --------------------------------------------------------------------------------

def test_counts_columns_crs_and_order(demo: gpd.GeoDataFrame) -> None:
    assert list(demo.columns) == ["code", "name", "level", "parent_code", "attrs", "geometry"]
    assert demo.crs is not None and demo.crs.equals(STORAGE_CRS)
    assert demo["level"].value_counts().to_dict() == COUNTS
    rank = demo["level"].map(LEVELS.index).to_numpy()
    assert (np.diff(rank) >= 0).all()
    for level in LEVELS:
        codes = _rows(demo, level)["code"].tolist()
        assert codes == sorted(codes)


def test_deterministic(demo: gpd.GeoDataFrame) -> None:
    again = build_demo(seed=2026)
    for column in ("code", "name", "level", "parent_code", "attrs"):
        assert again[column].tolist() == demo[column].tolist()
    assert (shapely.to_wkb(again.geometry.values) == shapely.to_wkb(demo.geometry.values)).all()


def test_other_seed_gives_other_district() -> None:
    one, two = (build_demo(seed=seed, n_streets=3, n_communities=9, n_grids=30,
                           n_microgrids=150) for seed in (1, 2))
    assert not shapely.equals_exact(one.geometry.values, two.geometry.values, 0).all()
    assert one["level"].value_counts().to_dict() == {"street": 3, "community": 9, "grid": 30,
                                                     "microgrid": 150}


def test_codes(demo: gpd.GeoDataFrame) -> None:
    assert demo["code"].is_unique
    known = set(demo["code"])
    for level in LEVELS:
        rows = _rows(demo, level)
        assert rows["code"].str.fullmatch(rf"\d{{{CODE_LENGTH[level]}}}").all()
        if level == "street":
            assert (rows["parent_code"] == "320902").all()
        else:
            assert rows["parent_code"].isin(known).all()
        assert all(c.startswith(p) for c, p in zip(rows["code"], rows["parent_code"], strict=True))
        # Serials run 001, 002, ... without holes inside every parent.
        for _, group in rows.groupby("parent_code"):
            serials = sorted(int(c[-3:]) for c in group["code"])
            assert serials == list(range(1, len(serials) + 1))


def test_serials_start_in_the_north(demo: gpd.GeoDataFrame, metric: np.ndarray) -> None:
    """Serial 001 lies in the northernmost row: within one child's size of the top child."""
    frame = demo.assign(m=metric)
    for level in LEVELS[1:]:
        rows = _rows(frame, level)
        for _, group in rows.groupby("parent_code"):
            y = shapely.get_y(shapely.centroid(group["m"].to_numpy()))
            band = np.sqrt(shapely.area(group["m"].to_numpy()).mean())
            assert y[0] >= y.max() - 2 * band


def test_names(demo: gpd.GeoDataFrame) -> None:
    assert demo["name"].is_unique
    streets, communities = _rows(demo, "street"), _rows(demo, "community")
    assert streets["name"].str.fullmatch(r"[\u4e00-\u9fff]{2}街道").all()
    assert communities["name"].str.fullmatch(r"[\u4e00-\u9fff]{2}社区").all()
    assert streets["name"].str[0].is_unique  # streets start with different characters
    name_of = dict(zip(demo["code"], demo["name"], strict=True))
    for level, word in (("grid", "网格"), ("microgrid", "微网格")):
        for code, name, parent in _rows(demo, level)[["code", "name", "parent_code"]].itertuples(
                index=False):
            assert name == f"{name_of[parent]}第{int(code[-3:])}{word}"
    assert re.fullmatch(r".+社区第\d+网格第\d+微网格", _rows(demo, "microgrid")["name"].iat[0])


def test_attrs(demo: gpd.GeoDataFrame) -> None:
    kinds = {a["area_type"] for a in demo["attrs"]}
    assert kinds == {"urban", "rural"}
    assert all(set(a) == {"area_type"} for a in demo["attrs"])


def test_geometries_valid_single_polygons_without_holes(demo: gpd.GeoDataFrame) -> None:
    geoms = demo.geometry.values
    assert shapely.is_valid(geoms).all()
    assert (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON).all()
    assert (shapely.get_num_interior_rings(geoms) == 0).all()


@pytest.mark.parametrize("level", LEVELS[1:])
def test_children_cover_their_parent_exactly(demo: gpd.GeoDataFrame, metric: np.ndarray,
                                             level: str) -> None:
    frame = demo.assign(m=metric)
    parent = frame.set_index("code")
    for code, group in _rows(frame, level).groupby("parent_code"):
        children, children_m = group.geometry.values, group["m"].to_numpy()
        assert len(group) >= 2
        assert shapely.coverage_is_valid(children)
        assert shapely.coverage_is_valid(children_m)
        union = shapely.coverage_union_all(children_m)
        assert shapely.symmetric_difference(union, parent.at[code, "m"]).area < 1e-6
        assert shapely.covered_by(children, parent.at[code, "geometry"]).all()
        assert shapely.covered_by(children_m, parent.at[code, "m"]).all()


def test_streets_cover_the_district_exactly(demo: gpd.GeoDataFrame) -> None:
    """Checked in EPSG:4490, where the district's edges are straight.

    Its longest edges run for kilometres; projected, such an edge bends by up to half a metre
    away from the chord between its projected end points, so the district must be compared in
    the CRS it is stored in. Vertices noded onto it lie within a few 1e-14 degrees.
    """
    district = district_boundary()
    streets = _rows(demo, "street").geometry.values
    assert shapely.coverage_is_valid(streets)
    assert shapely.covered_by(streets, district).all()
    difference = shapely.symmetric_difference(shapely.coverage_union_all(streets), district)
    assert difference.area * M2_PER_DEG2_NEAR_33N < 1e-4
    assert abs(_area_m2(district) / 1e6 - 1036.8) < 0.5


@pytest.mark.parametrize(("level", "least"), [("microgrid", 0.2), ("grid", 0.15)])
def test_no_slivers(demo: gpd.GeoDataFrame, metric: np.ndarray, level: str,
                    least: float) -> None:
    geoms = metric[(demo["level"] == level).to_numpy()]
    area, length = shapely.area(geoms), shapely.length(geoms)
    assert area.min() > 0.5e4  # no unit under half a hectare
    assert (4 * np.pi * area / length**2).min() > least  # compactness; a square has 0.785


def test_sizes_are_plausible(demo: gpd.GeoDataFrame, metric: np.ndarray) -> None:
    frame = demo.assign(ha=shapely.area(metric) / 1e4,
                        kind=[a["area_type"] for a in demo["attrs"]])
    urban = frame[frame["kind"] == "urban"]
    assert 0.5 < _rows(urban, "microgrid")["ha"].median() < 20
    assert 10 < _rows(urban, "grid")["ha"].median() < 100
    assert (_rows(frame, "microgrid")["kind"] == "urban").mean() > 0.5
    children = frame.groupby("parent_code").size()
    for level, mean in (("street", 10.0), ("community", 314 / 70), ("grid", 1976 / 314)):
        per_parent = children[_rows(frame, level)["code"]]
        assert per_parent.mean() == pytest.approx(mean)
        assert per_parent.min() >= 2
        assert per_parent.max() <= 2.5 * mean


def test_district_boundary() -> None:
    district = district_boundary("320902")
    assert shapely.is_valid(district)
    assert district.geom_type in ("Polygon", "MultiPolygon")
    with pytest.raises(NotFound):
        district_boundary("999999")


@pytest.mark.parametrize("kwargs", [{"n_streets": 0}, {"n_grids": 10}, {"adcode": "3209"}])
def test_bad_arguments_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        build_demo(**kwargs)  # type: ignore[arg-type]


# --- the broken variant ----------------------------------------------------------------------

def _problem_grid(frame: gpd.GeoDataFrame, problem: PlantedProblem) -> str:
    if problem.rule == "gap":
        return problem.codes[0]
    return str(frame.loc[frame["code"] == problem.codes[0], "parent_code"].iat[0])


def test_planted_list(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]],
                      demo: gpd.GeoDataFrame) -> None:
    _, problems = broken
    assert [(p.rule, p.severity) for p in problems] == [
        ("overlap", "error"), ("overlap", "warning"), ("gap", "error"),
        ("invalid_geometry", "error"), ("outside_parent", "error"), ("duplicate_code", "error")]
    assert all(p.note for p in problems)
    grids = {_problem_grid(demo, p) for p in problems}
    assert len(grids) == len(problems)


def test_nothing_else_changed(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]],
                              demo: gpd.GeoDataFrame) -> None:
    frame, _ = broken
    assert len(frame) == len(demo) and (frame.index == demo.index).all()
    assert list(frame.columns) == list(demo.columns)
    assert frame.crs.equals(demo.crs)
    same_geom = shapely.equals_exact(frame.geometry.values, demo.geometry.values, 0)
    same = same_geom & (frame["code"] == demo["code"]).to_numpy()
    changed = demo[~same]
    assert len(changed) == 6
    assert (changed["level"] == "microgrid").all()  # parents untouched
    for column in ("name", "level", "parent_code", "attrs"):
        assert frame[column].tolist() == demo[column].tolist()


def _problem(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]], rule: str,
             severity: str) -> tuple[gpd.GeoDataFrame, PlantedProblem]:
    frame, problems = broken
    (problem,) = [p for p in problems if p.rule == rule and p.severity == severity]
    return frame, problem


def _sibling_overlaps(frame: gpd.GeoDataFrame, grid: str) -> list[tuple[str, str, float]]:
    """Overlapping pairs of the grid's micro-grids, with the area in m², found in either CRS.

    Both CRSs count: a vertex inserted mid-edge lies on the straight edge in one CRS only.
    """
    kids = frame[frame["parent_code"] == grid]
    lonlat = np.asarray(kids.geometry.values, dtype=object)
    geoms = to_metric(lonlat, METRIC)
    codes = kids["code"].tolist()
    found = []
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            area = shapely.intersection(geoms[i], geoms[j]).area
            area_lonlat = shapely.intersection(lonlat[i], lonlat[j]).area * M2_PER_DEG2_NEAR_33N
            if max(area, area_lonlat) > 1e-6:
                found.append((codes[i], codes[j], area))
    return found


@pytest.mark.parametrize(("severity", "low", "high"), [("error", 300, 400), ("warning", 0.3, 0.6)])
def test_overlap(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]], severity: str,
                 low: float, high: float) -> None:
    frame, problem = _problem(broken, "overlap", severity)
    a, b = problem.codes
    grid = _problem_grid(frame, problem)
    overlaps = _sibling_overlaps(frame, grid)
    assert [(x, y) for x, y, _ in overlaps] == [(a, b)]
    assert low < overlaps[0][2] < high
    assert shapely.is_valid(frame.loc[frame["code"] == a].geometry.values).all()


def test_gap(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]]) -> None:
    frame, problem = _problem(broken, "gap", "error")
    (grid,) = problem.codes
    kids = frame[frame["parent_code"] == grid]
    parent = frame.loc[frame["code"] == grid].geometry.iat[0]
    assert shapely.coverage_is_valid(kids.geometry.values)  # no overlap, a hole only
    hole = shapely.difference(parent, shapely.union_all(kids.geometry.values))
    assert 300 < _area_m2(hole) < 400
    assert _sibling_overlaps(frame, grid) == []


def test_bow_tie(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]],
                 demo: gpd.GeoDataFrame) -> None:
    frame, problem = _problem(broken, "invalid_geometry", "error")
    (code,) = problem.codes
    geom = frame.loc[frame["code"] == code].geometry.iat[0]
    assert not shapely.is_valid(geom)
    assert shapely.is_valid_reason(geom).startswith("Self-intersection")
    before = shapely.get_coordinates(demo.loc[demo["code"] == code].geometry.iat[0])
    after = shapely.get_coordinates(geom)
    moved = np.flatnonzero((before != after).any(axis=1))
    assert len(moved) == 2 and moved[1] == moved[0] + 1  # two consecutive vertices swapped
    assert (after[moved] == before[moved[::-1]]).all()


def test_outside_parent(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]]) -> None:
    frame, problem = _problem(broken, "outside_parent", "error")
    (code,) = problem.codes
    row = frame.loc[frame["code"] == code]
    grid = frame.loc[frame["code"] == row["parent_code"].iat[0]].geometry.iat[0]
    geom = row.geometry.iat[0]
    assert shapely.is_valid(geom)
    assert not shapely.covered_by(geom, grid)
    assert 300 < _area_m2(shapely.difference(geom, grid)) < 400
    assert _sibling_overlaps(frame, row["parent_code"].iat[0]) == []


def test_duplicate_code(broken: tuple[gpd.GeoDataFrame, list[PlantedProblem]]) -> None:
    frame, problem = _problem(broken, "duplicate_code", "error")
    (code,) = problem.codes
    twins = frame[frame["code"] == code]
    assert len(twins) == 2
    assert twins["parent_code"].nunique() == 1 and twins["name"].nunique() == 2
    assert (frame["code"].value_counts() > 1).sum() == 1
