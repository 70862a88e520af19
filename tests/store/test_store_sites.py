"""Service sites with history, and walking networks stored with a release, on both backends."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wangge.geo.errors import Conflict, InputError, NotFound


def _sites(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "site_id": [f"S{i}" for i in range(n)], "kind": ["centre"] + ["station"] * (n - 1),
        "name": [f"站点{i}" for i in range(n)], "unit_code": ["320902001001"] * n,
        "hours": ["周一至周五 9:00-17:00"] * n},
        geometry=shapely.points(120.1 + 0.01 * np.arange(n), np.full(n, 33.4)), crs="EPSG:4490")


def test_import_add_move_retire_keep_history(store):
    assert store.import_sites(_sites(), source="list v1") == 3
    before = datetime.now(UTC)
    time.sleep(0.01)
    store.add_site({"site_id": "S9", "kind": "station", "name": "新驿站", "unit_code": None,
                    "hours": None, "geometry": shapely.Point(120.2, 33.3)}, source="planner")
    store.change_site("S1", source="planner", lon=120.15, lat=33.41)
    store.change_site("S2", source="planner", retire=True)
    now = store.sites()
    assert list(now["site_id"]) == ["S0", "S1", "S9"]
    moved = now.set_index("site_id").loc["S1", "geometry"]
    assert (moved.x, moved.y) == (120.15, 33.41)
    then = store.sites(at=before)
    assert list(then["site_id"]) == ["S0", "S1", "S2"]
    assert then.set_index("site_id").loc["S1", "geometry"].x == pytest.approx(120.11)
    history = store.site_history("S1")
    assert len(history) == 2 and history["valid_to"].iloc[0] is not None
    with pytest.raises(Conflict):
        store.add_site({"site_id": "S0", "kind": "station", "name": "x",
                        "geometry": shapely.Point(120.2, 33.3)}, source="planner")
    with pytest.raises(NotFound):
        store.change_site("S2", source="planner", retire=True)


def test_reimport_replaces_and_bad_lists_are_refused_whole(store):
    store.import_sites(_sites(3), source="v1")
    store.import_sites(_sites(2), source="v2")
    assert list(store.sites()["site_id"]) == ["S0", "S1"]
    bad = _sites(2)
    bad.loc[1, "kind"] = "shop"
    with pytest.raises(InputError):
        store.import_sites(bad, source="v3")
    assert list(store.sites()["site_id"]) == ["S0", "S1"]  # nothing half-written
    dup = _sites(2)
    dup.loc[1, "site_id"] = "S0"
    with pytest.raises(InputError):
        store.import_sites(dup, source="v4")


def test_network_round_trip(store):
    lines = np.array([shapely.LineString([(120.1, 33.4), (120.11, 33.4)]),
                      shapely.LineString([(120.11, 33.4), (120.11, 33.41), (120.12, 33.41)])])
    edges = gpd.GeoDataFrame({"u": [0, 1], "v": [1, 2], "length_m": [930.0, 2040.0]},
                             geometry=list(lines), crs="EPSG:4490")
    edges.attrs["metric_epsg"] = 4549
    info = store.create_network(edges, release_id=None, source="test", dropped={"edges": 0})
    assert store.network_for(1).id == info.id and info.edge_count == 2
    assert info.length_m == 2970.0 and info.metric_epsg == 4549
    back = store.network_edges(info.id)
    assert list(back["u"]) == [0, 1] and list(back["v"]) == [1, 2]
    assert all(shapely.equals_exact(a, b, 1e-12) for a, b in zip(back.geometry, lines, strict=True))
    assert back.attrs["metric_epsg"] == 4549
    with pytest.raises(InputError):
        store.create_network(edges.iloc[:0], release_id=None, source="x", dropped=None)
    with pytest.raises(InputError):
        store.create_network(edges.drop(columns="u"), release_id=None, source="x", dropped=None)
    # Loading for coverage keeps the network (and the indexes built on it) while it is current;
    # a newer network is loaded afresh.
    from wangge.coverage import load_network

    first, _ = load_network(store, 1)
    again, _ = load_network(store, 1)
    assert first is again and first.n_edges == 2
    store.create_network(edges.iloc[:1], release_id=None, source="newer", dropped=None)
    newer, info = load_network(store, 1)
    assert newer is not first and newer.n_edges == 1 and info.source == "newer"


def test_writes_bump_their_own_revision_and_refused_writes_none(store):
    """What a coverage depends on is known current from the revision counters alone: every
    write to sites, workers or networks bumps its counter, in its own transaction."""
    import pandas as pd

    def changed(write) -> dict[str, int]:
        before = store.revisions()
        write()
        after = store.revisions()
        return {k: after[k] - before[k] for k in after if after[k] != before[k]}

    assert store.revisions() == {"households": 0, "sites": 0, "workers": 0, "networks": 0}
    assert changed(lambda: store.import_sites(_sites(), source="v1")) == {"sites": 1}
    assert changed(lambda: store.add_site({"site_id": "S9", "kind": "station", "name": "新驿站",
                                           "geometry": shapely.Point(120.2, 33.3)},
                                          source="planner")) == {"sites": 1}
    assert changed(lambda: store.change_site("S1", source="p", name="改名")) == {"sites": 1}
    assert changed(lambda: store.change_site("S2", source="p", retire=True)) == {"sites": 1}
    roster = pd.DataFrame({"worker_id": ["W1"], "grid_code": ["G1"], "full_time": [True]})
    assert changed(lambda: store.replace_workers(roster)) == {"workers": 1}
    edges = gpd.GeoDataFrame({"u": [0], "v": [1], "length_m": [100.0]},
                             geometry=[shapely.LineString([(120.1, 33.4), (120.101, 33.4)])],
                             crs="EPSG:4490")
    assert changed(lambda: store.create_network(edges, release_id=None, source="t",
                                                dropped=None)) == {"networks": 1}

    def refused() -> None:
        with pytest.raises(Conflict):
            store.add_site({"site_id": "S0", "kind": "station", "name": "x",
                            "geometry": shapely.Point(120.2, 33.3)}, source="planner")
        with pytest.raises(NotFound):
            store.change_site("S2", source="p", retire=True)
        with pytest.raises(InputError):
            store.replace_workers(roster.drop(columns="full_time"))

    assert changed(refused) == {}
