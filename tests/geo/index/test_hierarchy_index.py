"""Point-in-polygon assignment: exact agreement with shapely's ``covers`` under the lowest-code rule.

The reference is brute force: every unit whose bounding box holds the point is tested with
``shapely.covers`` on the original (unprepared) geometry, and the lowest code among those that
cover it wins. The demo district is built once for the module.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wangge.demo.district import build_broken
from wangge.geo.crs import metric_crs_of, to_metric
from wangge.geo.errors import InputError
from wangge.geo.index.hierarchy import HierarchyIndex, UnitIndex, assign_hierarchy

X0, Y0, D = 120.20, 33.40, 0.003  # hand-built squares near Yancheng


@pytest.fixture(scope="module")
def demo(demo_units) -> gpd.GeoDataFrame:
    return demo_units  # build_demo(), built once per session: see tests/conftest.py


@pytest.fixture(scope="module")
def micro(demo: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return demo[demo["level"] == "microgrid"].reset_index(drop=True)


@pytest.fixture(scope="module")
def index(micro: gpd.GeoDataFrame) -> UnitIndex:
    return UnitIndex.build(micro["code"].tolist(), micro.geometry.to_numpy())


@pytest.fixture(scope="module")
def hier(demo: gpd.GeoDataFrame) -> HierarchyIndex:
    return HierarchyIndex.build(demo)


def reference(codes: list[str] | np.ndarray, geoms: np.ndarray, x: np.ndarray,
              y: np.ndarray) -> np.ndarray:
    """Brute force: ``shapely.covers`` over all bounding-box candidates, lowest code wins."""
    codes = np.asarray(codes, dtype=str)
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(x), -1, dtype=np.intp)
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    pts = shapely.points(x[finite], y[finite])
    pi, gi = shapely.STRtree(geoms).query(pts)
    cover = shapely.covers(geoms[gi], pts[pi])
    pi, gi = pi[cover], gi[cover]
    for p, g in zip(pi.tolist(), gi.tolist(), strict=True):
        best = out[finite[p]]
        if best < 0 or codes[g] < codes[best]:
            out[finite[p]] = g
    return out


def assert_exact(index: UnitIndex, geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    got = index.locate(x, y)
    want = reference(index.codes, geoms, x, y)
    bad = np.flatnonzero(got != want)
    assert len(bad) == 0, (f"{len(bad)} of {len(x)} differ, e.g. "
                           f"{[(x[i], y[i], got[i], want[i]) for i in bad[:5]]}")


def shared_edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """End points (a, b) of every edge that two units share."""
    rings = shapely.get_rings(shapely.get_parts(geoms))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    keys, counts = np.unique(np.hstack([lo, hi]), axis=0, return_counts=True)
    shared = keys[counts > 1]
    return shared[:, :2], shared[:, 2:]


# --- exactness on the demo district ---------------------------------------------------------

def test_random_points_in_and_around_the_district(index: UnitIndex,
                                                  micro: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = micro.total_bounds
    mx, my = 0.05 * (maxx - minx), 0.05 * (maxy - miny)
    rng = np.random.default_rng(3)
    x = rng.uniform(minx - mx, maxx + mx, 100_000)
    y = rng.uniform(miny - my, maxy + my, 100_000)
    assert_exact(index, micro.geometry.to_numpy(), x, y)
    assert 0.2 < (index.locate(x, y) >= 0).mean() < 0.5


def test_every_vertex_of_every_microgrid(index: UnitIndex, micro: gpd.GeoDataFrame) -> None:
    xy = shapely.get_coordinates(micro.geometry.to_numpy())
    assert len(xy) > 10_000
    assert_exact(index, micro.geometry.to_numpy(), xy[:, 0], xy[:, 1])
    assert (index.locate(xy[:, 0], xy[:, 1]) >= 0).all()


def test_midpoints_of_shared_edges_and_points_a_hair_off_them(index: UnitIndex,
                                                              micro: gpd.GeoDataFrame) -> None:
    a, b = shared_edges(micro.geometry.to_numpy())
    assert len(a) > 4000
    mid = (a + b) / 2.0
    along = b - a
    normal = np.column_stack([-along[:, 1], along[:, 0]]) / np.hypot(*along.T)[:, None]
    rng = np.random.default_rng(4)
    pts = [mid, a + 0.25 * along, a + 0.75 * along]
    pts += [a + rng.random((len(a), 1)) * along for _ in range(5)]
    for off in (1e-15, 1e-13, 1e-11, 1e-9, 1e-7):
        pts += [mid + off * normal, mid - off * normal]
    xy = np.vstack(pts)
    assert_exact(index, micro.geometry.to_numpy(), xy[:, 0], xy[:, 1])


def test_points_just_outside_the_district(index: UnitIndex, micro: gpd.GeoDataFrame,
                                          demo: gpd.GeoDataFrame) -> None:
    streets = demo[demo["level"] == "street"].geometry.to_numpy()
    outline = shapely.get_exterior_ring(shapely.get_parts(shapely.coverage_union_all(streets)))
    coords, ring = shapely.get_coordinates(outline, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    along = b - a
    normal = np.column_stack([along[:, 1], -along[:, 0]]) / np.hypot(*along.T)[:, None]
    pts = []
    for off in (1e-12, 1e-10, 1e-9, 1e-8, 1e-6, 1e-4):
        for t in (0.0, 0.3, 0.5):
            p = a + t * along
            pts += [p + off * normal, p - off * normal]
    xy = np.vstack(pts)
    assert_exact(index, micro.geometry.to_numpy(), xy[:, 0], xy[:, 1])
    far = a + 1e-4 * normal + 0.5 * along
    # The outward side of the exterior ring (oriented either way) is outside somewhere.
    assert (index.locate(far[:, 0], far[:, 1]) == -1).any()


def test_exact_on_the_broken_variant_with_overlaps_and_a_self_crossing_unit(
        demo: gpd.GeoDataFrame) -> None:
    broken, planted = build_broken(demo)
    micro = broken[broken["level"] == "microgrid"]
    with pytest.raises(InputError, match="duplicate codes"):
        UnitIndex.build(micro["code"].tolist(), micro.geometry.to_numpy())
    micro = micro.drop_duplicates("code")
    geoms = micro.geometry.to_numpy()
    idx = UnitIndex.build(micro["code"].tolist(), geoms)
    codes = {c for p in planted for c in p.codes}
    near = micro[micro["code"].isin(codes) | micro["parent_code"].isin(codes)].geometry.to_numpy()
    rng = np.random.default_rng(8)
    minx, miny, maxx, maxy = shapely.bounds(near).T
    pick = rng.integers(0, len(near), 50_000)
    x = minx[pick] + rng.random(50_000) * (maxx - minx)[pick]
    y = miny[pick] + rng.random(50_000) * (maxy - miny)[pick]
    xy = shapely.get_coordinates(near)
    assert_exact(idx, geoms, np.concatenate([x, xy[:, 0]]), np.concatenate([y, xy[:, 1]]))


def test_invalid_coordinates_are_in_no_unit(index: UnitIndex) -> None:
    x = np.array([np.nan, 120.2, np.inf, -np.inf, 120.2, np.nan, 500.0, 120.2])
    y = np.array([33.4, np.nan, 33.4, 33.4, np.inf, np.nan, 33.4, -95.0])
    assert (index.locate(x, y) == -1).all()
    near, dist = index.nearest(x, y)
    assert (near == -1).all() and np.isnan(dist).all()


def test_locate_from_several_threads_agrees(index: UnitIndex, micro: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = micro.total_bounds
    x, y = rng.uniform(minx, maxx, 200_000), rng.uniform(miny, maxy, 200_000)
    whole = index.locate(x, y)
    chunks = np.array_split(np.arange(len(x)), 8)
    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(lambda c: index.locate(x[c], y[c]), chunks))
    assert np.array_equal(np.concatenate(parts), whole)


# --- hand-built cases -----------------------------------------------------------------------

def square(i: int, j: int, size: float = D) -> shapely.Polygon:
    return shapely.box(X0 + i * size, Y0 + j * size, X0 + (i + 1) * size, Y0 + (j + 1) * size)


def four_squares() -> UnitIndex:
    # Codes deliberately out of order: the lowest code is the last unit.
    return UnitIndex.build(["d", "b", "c", "a"],
                           [square(1, 1), square(1, 0), square(0, 1), square(0, 0)])


def test_point_on_a_shared_edge_goes_to_the_lowest_code() -> None:
    idx = four_squares()
    edge_ab = (X0 + 0.5 * D, Y0 + D)      # between a (0,0) and c (0,1)
    edge_bd = (X0 + 1.5 * D, Y0 + D)      # between b (1,0) and d (1,1)
    edge_cd = (X0 + D, Y0 + 1.5 * D)      # between c and d
    x, y = np.array([edge_ab, edge_bd, edge_cd]).T
    assert idx.codes[idx.locate(x, y)].tolist() == ["a", "b", "c"]


def test_point_on_a_vertex_shared_by_four_squares() -> None:
    idx = four_squares()
    got = idx.locate([X0 + D], [Y0 + D])
    assert idx.codes[got].tolist() == ["a"]
    # and on the outer corner of one square, and just off it
    assert idx.codes[idx.locate([X0 + 2 * D], [Y0 + 2 * D])].tolist() == ["d"]
    assert idx.locate([X0 + 2 * D + 1e-12], [Y0 + 2 * D]).tolist() == [-1]


def test_clockwise_rings_and_an_edge_with_a_unit_on_one_side_only() -> None:
    left, right = shapely.box(X0, Y0, X0 + D, Y0 + D, ccw=False), square(1, 0)
    idx = UnitIndex.build(["b", "a"], [left, right])
    ys = Y0 + np.linspace(0.01, 0.99, 50) * D
    for dx in (0.0, 1e-15, 1e-12, -1e-15, -1e-12):
        for edge in (X0, X0 + D, X0 + 2 * D):
            xs = np.full(len(ys), edge + dx)
            assert_exact(idx, np.array([left, right]), xs, ys)
    assert idx.codes[idx.locate([X0 + D], [Y0 + 0.5 * D])].tolist() == ["a"]
    assert idx.locate([X0 - 1e-12], [Y0 + 0.5 * D]).tolist() == [-1]


def test_point_in_a_hole_is_outside_unless_another_unit_fills_it() -> None:
    outer = shapely.Polygon(square(0, 0, 3 * D).exterior.coords,
                            [square(1, 1).exterior.coords])
    idx = UnitIndex.build(["a"], [outer])
    centre = (X0 + 1.5 * D, Y0 + 1.5 * D)
    assert idx.locate([centre[0]], [centre[1]]).tolist() == [-1]
    assert idx.locate([X0 + D], [Y0 + 1.5 * D]).tolist() == [0]  # on the hole's edge: covered
    filled = UnitIndex.build(["b", "a"], [square(1, 1), outer])
    assert filled.codes[filled.locate([centre[0], X0 + D], [centre[1], Y0 + 1.5 * D])].tolist() \
        == ["b", "a"]


def test_point_in_the_second_part_of_a_multipolygon() -> None:
    multi = shapely.MultiPolygon([square(0, 0), square(5, 5)])
    idx = UnitIndex.build(["m", "s"], [multi, square(2, 2)])
    x = np.array([X0 + 5.5 * D, X0 + 0.5 * D, X0 + 2.5 * D, X0 + 3.5 * D])
    y = np.array([Y0 + 5.5 * D, Y0 + 0.5 * D, Y0 + 2.5 * D, Y0 + 3.5 * D])
    assert idx.locate(x, y).tolist() == [0, 0, 1, -1]


def test_overlapping_units_lowest_code_wins() -> None:
    big, small = square(0, 0, 4 * D), square(1, 1)
    idx = UnitIndex.build(["z", "a"], [big, small])
    rng = np.random.default_rng(2)
    x = rng.uniform(X0 - D, X0 + 5 * D, 20_000)
    y = rng.uniform(Y0 - D, Y0 + 5 * D, 20_000)
    assert_exact(idx, np.array([big, small]), x, y)
    assert idx.locate([X0 + 1.5 * D], [Y0 + 1.5 * D]).tolist() == [1]
    idx2 = UnitIndex.build(["a", "z"], [big, small])
    assert idx2.locate([X0 + 1.5 * D], [Y0 + 1.5 * D]).tolist() == [0]


def test_empty_units_and_empty_queries() -> None:
    idx = UnitIndex.build(["a", "b"], [shapely.Polygon(), square(0, 0)])
    assert idx.locate([X0 + 0.5 * D], [Y0 + 0.5 * D]).tolist() == [1]
    assert idx.locate([], []).tolist() == []
    none = UnitIndex.build([], [])
    assert none.locate([X0], [Y0]).tolist() == [-1]


def test_bad_units_are_refused_with_every_problem_at_once() -> None:
    with pytest.raises(InputError) as err:
        UnitIndex.build(["a", "a", "b"], [square(0, 0), square(1, 0), shapely.Point(X0, Y0)])
    assert "duplicate codes: a" in err.value.message_en
    assert "non-polygonal geometry: b" in err.value.message_en
    with pytest.raises(InputError):
        UnitIndex.build(["a"], [square(0, 0), square(1, 0)])
    with pytest.raises(InputError):
        four_squares().locate([1.0, 2.0], [1.0])


def test_nearest_reports_distance_in_metres_and_ties_go_to_the_lowest_code() -> None:
    idx = four_squares()
    x, y = X0 + 2 * D + 0.001, Y0 + 0.5 * D  # 0.001° east of b
    near, dist = idx.nearest([x, X0 + 0.5 * D], [y, Y0 + 0.5 * D])
    assert idx.codes[near].tolist() == ["b", "a"]
    assert dist[1] == 0.0
    assert 90 < dist[0] < 96  # 0.001° of longitude at 33.4°N ≈ 93 m
    twins = UnitIndex.build(["z", "y", "x"], [square(0, 0), square(0, 0), square(3, 3)])
    near, dist = twins.nearest([x], [y])
    assert twins.codes[near].tolist() == ["y"]


# --- the hierarchy --------------------------------------------------------------------------

def test_assign_hierarchy_chains_are_consistent(hier: HierarchyIndex,
                                                demo: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = demo.total_bounds
    rng = np.random.default_rng(11)
    x = np.append(rng.uniform(minx - 0.02, maxx + 0.02, 50_000), [np.nan, 120.2])
    y = np.append(rng.uniform(miny - 0.02, maxy + 0.02, 50_000), [33.4, np.inf])
    df = hier.assign(x, y)
    assert list(df.columns) == ["microgrid", "grid", "community", "street", "status",
                                "nearest_code", "nearest_m"]
    parent = dict(zip(demo["code"], demo["parent_code"], strict=True))
    found = df[df["status"] == "found"]
    assert len(found) > 10_000
    assert (found["grid"] == found["microgrid"].map(parent)).all()
    assert (found["community"] == found["grid"].map(parent)).all()
    assert (found["street"] == found["community"].map(parent)).all()
    assert (found["nearest_code"] == found["microgrid"]).all() and (found["nearest_m"] == 0).all()
    micro = demo[demo["level"] == "microgrid"]
    idx = UnitIndex.build(micro["code"].tolist(), micro.geometry.to_numpy())
    want = idx.codes[idx.locate(x, y)]
    assert (found["microgrid"].to_numpy() == want[found.index]).all()
    outside = df[df["status"] == "outside"]
    assert len(outside) > 1000
    assert outside[["microgrid", "grid", "community", "street"]].isna().all().all()
    assert (outside["nearest_m"] > 0).all() and outside["nearest_code"].notna().all()
    assert df["status"].iloc[-2:].tolist() == ["invalid", "invalid"]
    assert df.iloc[-2:][["microgrid", "nearest_code"]].isna().all().all()
    # The same answers without a prebuilt index.
    small = assign_hierarchy(demo, x[:2000], y[:2000])
    assert small.equals(df.iloc[:2000])


def test_nearest_distance_is_right_within_a_metre(hier: HierarchyIndex,
                                                  micro: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = micro.total_bounds
    rng = np.random.default_rng(12)
    x = rng.uniform(minx - 0.05, maxx + 0.05, 20_000)
    y = rng.uniform(miny - 0.05, maxy + 0.05, 20_000)
    df = hier.assign(x, y)
    out = df.index[df["status"] == "outside"].to_numpy()
    assert len(out) > 1000
    geoms = micro.geometry.to_numpy()
    metric = metric_crs_of(geoms)
    mgeoms = to_metric(geoms, metric)
    pts = to_metric(shapely.points(x[out], y[out]), metric)
    _, ref = shapely.STRtree(mgeoms).query_nearest(pts, return_distance=True, all_matches=False)
    assert np.abs(df["nearest_m"].to_numpy()[out] - ref).max() < 1.0
    by_code = dict(zip(micro["code"], mgeoms, strict=True))
    own = shapely.distance(np.array([by_code[c] for c in df["nearest_code"].to_numpy()[out]]),
                           pts)
    assert np.abs(own - ref).max() < 1.0


def test_a_gap_gets_the_coarser_codes_and_status_outside(demo: gpd.GeoDataFrame) -> None:
    micro = demo[demo["level"] == "microgrid"]
    gone = micro.iloc[100]
    holed = demo[demo["code"] != gone["code"]]
    inside = shapely.get_coordinates(shapely.point_on_surface(gone.geometry))[0]
    df = assign_hierarchy(holed, [inside[0]], [inside[1]])
    row = df.iloc[0]
    parent = dict(zip(demo["code"], demo["parent_code"], strict=True))
    assert row["status"] == "outside" and row["microgrid"] is None
    assert row["grid"] == gone["parent_code"]
    assert row["community"] == parent[row["grid"]] and row["street"] == parent[row["community"]]
    assert row["nearest_code"] != gone["code"] and row["nearest_m"] > 0
    assert parent[row["nearest_code"]] is not None
