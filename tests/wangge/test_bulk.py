"""The bulk path on Dask gives exactly the in-process answers, and fails with domain errors.

Every comparison is ``pandas.testing.assert_frame_equal`` between ``assign_bulk`` and
``HierarchyIndex.build(units).assign`` on the same points: the demo register's true
coordinates, and 200,000 deterministic points that mix shared vertices, points on and a hair
off shared edges, points near micro-grid corners, points around and outside the district, and
invalid coordinates.
Clusters are local: two in-process workers for the module, one worker process for the
``scheduler=`` address (so the index really travels pickled), and the call's own cluster.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dask
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster

import wangge.bulk as assign_bulk_module
from wangge.bulk import ClusterUnavailable, assign_bulk
from wangge.geo.errors import InputError
from wangge.geo.index.hierarchy import HierarchyIndex


@pytest.fixture(scope="module")
def demo(demo_units) -> gpd.GeoDataFrame:
    return demo_units  # build_demo(), built once per session: see tests/conftest.py


@pytest.fixture(scope="module")
def hier(demo: gpd.GeoDataFrame) -> HierarchyIndex:
    return HierarchyIndex.build(demo)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster, set_as_default=False) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def mixed(demo: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """200,000 points: shared vertices and edges, near them, around the district, invalid."""
    micro = demo[demo["level"] == "microgrid"].geometry.to_numpy()
    rng = np.random.default_rng(20260308)
    a, b = _shared_edges(micro)
    along = b - a
    normal = np.column_stack([-along[:, 1], along[:, 0]]) / np.hypot(*along.T)[:, None]
    mid = (a + b) / 2.0
    on_edges = [a, mid, a + 0.25 * along, mid + 1e-12 * normal, mid - 1e-9 * normal]
    invalid = np.array([[np.nan, 33.4], [120.2, np.nan], [np.nan, np.nan], [np.inf, 33.4],
                        [120.2, -np.inf], [181.0, 33.4], [120.2, 91.0], [-0.0, 0.0]])
    minx, miny, maxx, maxy = shapely.total_bounds(micro)
    around = np.column_stack([rng.uniform(minx - 0.02, maxx + 0.02, 20_000),
                              rng.uniform(miny - 0.02, maxy + 0.02, 20_000)])
    vertices = shapely.get_coordinates(micro)
    n_near = 200_000 - sum(len(p) for p in on_edges) - len(around) - len(invalid)
    near = vertices[rng.integers(0, len(vertices), n_near)] + rng.normal(0, 5e-4, (n_near, 2))
    xy = np.vstack([*on_edges, near, around, invalid])
    xy = xy[rng.permutation(len(xy))]
    assert len(xy) == 200_000
    return xy[:, 0], xy[:, 1]


@pytest.fixture(scope="module")
def tiny() -> gpd.GeoDataFrame:
    """One street, community and grid, and four 300 m micro-grids in a square around them."""
    x0, y0, d = 120.20, 33.40, 0.003
    cells = [shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d)
             for j in range(2) for i in range(2)]
    whole = shapely.box(x0, y0, x0 + 2 * d, y0 + 2 * d)
    return gpd.GeoDataFrame(
        {"code": ["320902001", "320902001001", "320902001001001",
                  *(f"320902001001001{k:03d}" for k in range(1, 5))],
         "level": ["street", "community", "grid", *["microgrid"] * 4],
         "parent_code": [None, "320902001", "320902001001", *["320902001001001"] * 4]},
        geometry=[whole, whole, whole, *cells], crs="EPSG:4490")


def _shared_edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segments that bound two micro-grids (the same two vertices, either way round)."""
    coords, ring = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geoms)),
                                           return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    ends = np.where(swap[:, None], np.hstack([b, a]), np.hstack([a, b]))
    uniq, counts = np.unique(ends, axis=0, return_counts=True)
    shared = uniq[counts == 2]
    return shared[:, :2], shared[:, 2:]


@pytest.fixture(scope="module")
def expected(hier: HierarchyIndex, mixed: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    return hier.assign(*mixed)


def test_demo_register_households_are_assigned_as_in_process(
        demo: gpd.GeoDataFrame, hier: HierarchyIndex, client: Client, demo_register) -> None:
    truth = demo_register.truth  # build_register(demo), built once per session
    lon, lat = truth["lon"].to_numpy(), truth["lat"].to_numpy()
    got = assign_bulk(demo, lon, lat, client=client, partitions=7)
    pd.testing.assert_frame_equal(got, hier.assign(lon, lat))
    assert len(got) == 130_000
    assert set(got["status"]) == {"found", "invalid"}


def test_edges_vertices_outside_and_invalid_points_as_in_process(
        demo: gpd.GeoDataFrame, client: Client, mixed: tuple[np.ndarray, np.ndarray],
        expected: pd.DataFrame) -> None:
    counts = expected["status"].value_counts()
    assert counts["outside"] > 10_000 and counts["invalid"] == 7 and counts["found"] > 150_000
    # Default partitioning: at least one partition per worker thread.
    pd.testing.assert_frame_equal(assign_bulk(demo, *mixed, client=client), expected)


def test_scheduler_address_with_a_worker_process(
        demo: gpd.GeoDataFrame, mixed: tuple[np.ndarray, np.ndarray],
        expected: pd.DataFrame) -> None:
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                      dashboard_address="127.0.0.1:0") as cluster:
        got = assign_bulk(demo, *mixed, scheduler=cluster.scheduler_address, partitions=5)
    pd.testing.assert_frame_equal(got, expected)


def test_own_local_cluster_when_no_scheduler_is_set(
        demo: gpd.GeoDataFrame, mixed: tuple[np.ndarray, np.ndarray],
        expected: pd.DataFrame) -> None:
    # "" is what Settings.dask_scheduler holds when no scheduler is configured.
    got = assign_bulk(demo, *mixed, scheduler="")
    pd.testing.assert_frame_equal(got, expected)
    with pytest.raises(ValueError, match="No clients found"):
        Client.current()  # nothing left behind as the default client


def test_points_on_shared_edges_and_vertices_in_lists(tiny: gpd.GeoDataFrame,
                                                      client: Client) -> None:
    x0, y0, d = 120.20, 33.40, 0.003
    lon = [x0 + d, x0 + d, x0 + 0.5 * d, x0 + 2 * d, x0 - d, np.nan, x0 + 1.5 * d]
    lat = [y0 + d, y0 + 0.5 * d, y0 + d, y0 + 2 * d, y0, y0, y0 + 1.5 * d]
    got = assign_bulk(tiny, lon, lat, client=client, partitions=3)
    pd.testing.assert_frame_equal(got, HierarchyIndex.build(tiny).assign(lon, lat))
    assert got["microgrid"].tolist()[:4] == [f"320902001001001{k:03d}" for k in (1, 1, 1, 4)]
    assert got["status"].tolist()[4:] == ["outside", "invalid", "found"]


def test_more_partitions_than_points_and_no_points(tiny: gpd.GeoDataFrame,
                                                   client: Client) -> None:
    index = HierarchyIndex.build(tiny)
    lon, lat = np.array([120.201, 120.205]), np.array([33.401, 33.405])
    pd.testing.assert_frame_equal(assign_bulk(tiny, lon, lat, client=client, partitions=10),
                                  index.assign(lon, lat))
    pd.testing.assert_frame_equal(assign_bulk(tiny, [], [], client=client),
                                  index.assign([], []))


def test_the_index_is_built_once_for_all_partitions(
        tiny: gpd.GeoDataFrame, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []
    build = HierarchyIndex.build

    def counting(units: gpd.GeoDataFrame) -> HierarchyIndex:
        builds.append(len(units))
        return build(units)

    monkeypatch.setattr(assign_bulk_module.HierarchyIndex, "build", counting)
    rng = np.random.default_rng(7)
    out = assign_bulk(tiny, rng.uniform(120.19, 120.21, 5_000),
                      rng.uniform(33.39, 33.41, 5_000), client=client, partitions=9)
    assert len(out) == 5_000
    assert builds == [len(tiny)]


def test_bad_arguments_are_refused_together_before_any_cluster(
        tiny: gpd.GeoDataFrame, client: Client) -> None:
    with pytest.raises(InputError) as err:
        assign_bulk(tiny, [1.0], [2.0], scheduler="tcp://127.0.0.1:1", client=client,
                    partitions=0)
    assert "client" in err.value.message_en and "partitions" in err.value.message_en
    assert "分区数" in err.value.message_zh
    with pytest.raises(InputError, match="differ in length"):
        assign_bulk(tiny, [1.0, 2.0], [2.0])
    with pytest.raises(InputError, match="missing columns"):
        assign_bulk(tiny.drop(columns="parent_code"), [1.0], [2.0])


def test_unreachable_scheduler_is_a_domain_error(tiny: gpd.GeoDataFrame) -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(ClusterUnavailable) as err:
        assign_bulk(tiny, [120.201], [33.401], scheduler=address)
    assert err.value.code == "cluster_unavailable"
    assert address in err.value.message_zh and "无法连接" in err.value.message_zh
    assert "Cannot reach the Dask scheduler" in err.value.message_en
    assert err.value.detail == {"scheduler": address}


def test_malformed_scheduler_address_is_bad_input(tiny: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="Invalid Dask scheduler address") as err:
        assign_bulk(tiny, [120.201], [33.401], scheduler="scheduler.example")
    assert "地址" in err.value.message_zh


def test_scheduler_without_workers(tiny: gpd.GeoDataFrame) -> None:
    with LocalCluster(n_workers=0, processes=False, dashboard_address="127.0.0.1:0") as cluster, \
            dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(ClusterUnavailable, match="has no workers") as err:
        assign_bulk(tiny, [120.201], [33.401], scheduler=cluster.scheduler_address)
    assert "worker" in err.value.message_zh


def test_workers_that_cannot_import_wangge(tiny: gpd.GeoDataFrame, client: Client,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assign_bulk_module, "_WORKER_MODULE", "geo.not_installed_here")
    with pytest.raises(ClusterUnavailable, match="cannot import geo.not_installed_here") as err:
        assign_bulk(tiny, [120.201], [33.401], client=client)
    assert len(err.value.detail["workers"]) == 2
    assert "安装" in err.value.message_zh
