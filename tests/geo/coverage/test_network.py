"""Walking networks: noding, components, storage round trip, OSM reading, the demo network."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.errors import CoordinateRangeError, FileFormatError, InputError

X0, Y0 = 120.20, 33.40
D = 0.001  # ~93 m of longitude, ~111 m of latitude here


def _lines(*coords: list[tuple[float, float]]) -> np.ndarray:
    return np.array([shapely.LineString([(X0 + x * D, Y0 + y * D) for x, y in c]) for c in coords],
                    dtype=object)


def test_noding_at_shared_vertices_only():
    # A cross whose lines share the vertex (1, 0), and a line crossing without a shared vertex.
    net = WalkNetwork.from_lines(_lines([(0, 0), (1, 0), (2, 0)], [(1, -1), (1, 0), (1, 1)],
                                        [(1.5, -1), (1.5, 1)]))
    assert net.n_edges == 5 and net.n_nodes == 7
    _, dropped = net.largest_component()
    assert dropped.components == 1 and dropped.edges == 1 and dropped.nodes == 2
    assert dropped.length_m == pytest.approx(2 * 111.0, rel=0.01)


def test_duplicates_loops_and_zero_length_dropped():
    net = WalkNetwork.from_lines(_lines([(0, 0), (1, 0)], [(1, 0), (0.5, 0.5), (0, 0)],  # parallel, longer
                                        [(0, 0), (1, 0)],                                  # duplicate
                                        [(1, 0), (1, 0.000001)],                           # below snap_m
                                        [(2, 0), (3, 0), (3, 1), (2, 0)]))                 # a loop
    lengths = np.sort(net.length_m)
    assert net.n_edges == 1 and lengths[0] == pytest.approx(93.0, rel=0.01)


def test_graph_symmetric_and_edges_oriented():
    net = WalkNetwork.from_lines(_lines([(0, 0), (1, 0), (1, 1)], [(1, 1), (2, 1)]))
    g = net.graph
    assert (g != g.T).nnz == 0
    first = shapely.get_coordinates(shapely.get_point(net.geometry, 0))
    last = shapely.get_coordinates(shapely.get_point(net.geometry, -1))
    assert np.allclose(first, np.column_stack([net.x[net.u], net.y[net.u]]))
    assert np.allclose(last, np.column_stack([net.x[net.v], net.y[net.v]]))


def test_lonlat_frame_round_trip():
    net = WalkNetwork.from_lines(_lines([(0, 0), (1, 0), (1, 1)], [(1, 0), (2, 0.5)]))
    frame = net.to_lonlat_frame()
    assert frame.crs.to_epsg() == 4490 and list(frame.columns) == ["u", "v", "length_m", "geometry"]
    back = WalkNetwork.from_edges_frame(frame)
    assert back.metric == net.metric
    assert np.allclose(back.length_m, net.length_m, atol=1e-3)
    assert np.allclose(back.x, net.x, atol=1e-3) and np.array_equal(back.u, net.u)


def test_errors():
    with pytest.raises(InputError, match="empty"):
        WalkNetwork.from_lines(np.array([], dtype=object))
    with pytest.raises(InputError, match="not") as err:
        WalkNetwork.from_lines(np.array([shapely.Point(X0, Y0), shapely.LineString([(X0, Y0), (X0 + D, Y0)]),
                                         "x"], dtype=object))
    assert err.value.detail["bad_rows"] == [0, 2] and err.value.message_zh
    with pytest.raises(CoordinateRangeError, match="swapped"):
        WalkNetwork.from_lines(np.array([shapely.LineString([(Y0, X0), (Y0 + D, X0)])], dtype=object))
    with pytest.raises(InputError):
        WalkNetwork.from_lines(_lines([(0, 0), (1, 0)]), snap_m=0)


def test_osm_file_errors(tmp_path):
    from wangge.geo.io.network import read_osm_walking

    with pytest.raises(FileFormatError, match="not found"):
        read_osm_walking(tmp_path / "missing.osm.pbf")
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"this is not a protocol buffer")
    with pytest.raises(FileFormatError, match="Cannot read"):
        read_osm_walking(bad)


@pytest.fixture(scope="module")
def demo_net(demo_network):
    return demo_network  # build_demo_network(), built once per session: see tests/conftest.py


def test_demo_network(demo_net):
    from scipy.sparse.csgraph import connected_components

    from wangge.demo.network import build_demo_network

    net = demo_net
    assert 5_000 < net.n_edges < 40_000
    assert connected_components(net.graph, directed=False)[0] == 1
    # Not a lattice: many node degrees, dead ends (compound paths) included.
    degree = np.bincount(np.concatenate([net.u, net.v]))
    assert (degree == 1).sum() > 500 and (degree == 3).sum() > 300 and (degree == 4).sum() > 1000
    # The river is crossed only at bridges, and only a few times.
    river, bridges = net.attrs["river"], np.array(net.attrs["bridges_along_m"])
    crossing = net.geometry[shapely.intersects(net.geometry, river)]
    assert 2 <= len(crossing) <= len(bridges)
    spots = shapely.line_interpolate_point(river, bridges)
    assert all(shapely.distance(c, spots).min() < 40 for c in crossing)
    assert np.diff(bridges).min() >= 1500
    # Deterministic for a seed, different for another.
    again = build_demo_network()
    assert np.array_equal(again.x, net.x) and np.array_equal(again.u, net.u)
    assert build_demo_network(seed=7).n_edges != net.n_edges
