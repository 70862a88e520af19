"""Coverage of a release: walking catchments of the sites in service, households within
5/10/15 minutes per unit, the uncovered households and areas, boundary gaps, grids without a
full-time worker, and where new sites would help most. Shared by the API, the CLI and the maps.

The network is the one stored with the release (or the newest stored); without one, distances
are straight lines times the detour factor, and every answer says ``method: straight_line``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from wangge.geo.boundaries.validate import validate
from wangge.geo.coverage.catchment import Catchments, compute_catchments
from wangge.geo.coverage.mclp import suggest_new_sites, thin_candidates
from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.coverage.stats import (
    CoverageStats,
    coverage_stats,
    gap_polygons,
    uncovered_areas,
    uncovered_households,
)
from wangge.geo.crs import parse_crs, to_storage
from wangge.geo.errors import InputError
from wangge.geo.io.vector import read_vector
from wangge.settings import Settings
from wangge.store import Store
from wangge.store.networks import NetworkInfo


@dataclass
class Coverage:
    release_id: int
    network: NetworkInfo | None
    walk: WalkNetwork | None
    units: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    households: Any                      # located households with their codes (DataFrame)
    catchments: Catchments
    stats: CoverageStats
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.catchments.method

    def summary(self) -> dict[str, Any]:
        minutes = self.catchments.household_minutes
        total = len(minutes)
        within = {f"{t:g}": int(np.count_nonzero(minutes <= t)) for t in self.catchments.thresholds_min}
        return {
            "release_id": self.release_id, "method": self.method,
            "method_zh": "路网步行" if self.method == "network" else "直线距离×绕行系数（未导入路网）",
            "network_id": self.network.id if self.network else None,
            "speed_kmh": self.catchments.speed_kmh, "sites": len(self.sites),
            "households": total, "within": within,
            "share": {k: (v / total if total else None) for k, v in within.items()},
            "grids_without_full_time_worker": len(self.stats.grids_without_full_time_worker()),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


_LOADED: OrderedDict[tuple[Any, ...], WalkNetwork] = OrderedDict()
_LOADED_LOCK = threading.Lock()


def load_network(store: Store, release_id: int) -> tuple[WalkNetwork | None, NetworkInfo | None]:
    """The release's walking network. A stored network never changes, so the last two loaded
    are kept in memory with the indexes built on them (nearest-street grids, the raster behind
    catchment polygons): recomputing coverage after a site moves does not rebuild them."""
    info = store.network_for(release_id)
    if info is None:
        return None, None
    key = (store.url, info.id, info.created_at, info.edge_count)
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key], info
    network = WalkNetwork.from_edges_frame(store.network_edges(info.id))
    with _LOADED_LOCK:
        _LOADED[key] = network
        while len(_LOADED) > 2:
            _LOADED.popitem(last=False)
    return network, info


def store_network(store: Store, network: WalkNetwork, *, release_id: int | None,
                  source: str) -> NetworkInfo:
    """Keep the largest connected component and store it; say what was dropped."""
    kept, dropped = network.largest_component()
    return store.create_network(kept.to_lonlat_frame(), release_id=release_id, source=source,
                                dropped=_as_dict(dropped))


def import_network(store: Store, path: str | Path, *, release_id: int | None,
                   crs: str | None = None,
                   bbox: tuple[float, float, float, float] | None = None) -> NetworkInfo:
    """A walking network from an OpenStreetMap extract (.osm.pbf) or a GeoPackage/GeoJSON of
    lines (in the file's declared CRS, or ``crs``: GCJ-02 and BD-09 must be said)."""
    path = Path(path)
    if path.name.endswith(".osm.pbf") or path.suffix == ".pbf":
        from wangge.geo.io.network import read_osm_walking

        network = read_osm_walking(path, bbox=bbox)
    else:
        network = WalkNetwork.from_lines(_read_lines(path, crs))
    return store_network(store, network, release_id=release_id, source=path.name)


def _read_lines(path: Path, crs: str | None) -> np.ndarray:
    frame = read_vector(path, path.name)
    declared = crs or (frame.crs.to_string() if frame.crs is not None else "WGS-84")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return to_storage(geoms, parse_crs(declared))


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return dict(value)


def compute(store: Store, release_id: int, settings: Settings) -> Coverage:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    network, info = load_network(store, release_id)
    units = store.units(release_id)
    sites = store.sites()
    households = store.located_households(release_id)
    seconds["load"] = time.perf_counter() - started
    if not len(sites):
        raise InputError("还没有在用的服务站点，请先导入站点。",
                         "There are no sites in service: import sites first.")
    t = time.perf_counter()
    catchments = compute_catchments(
        network, sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy(),
        sites["site_id"].astype(str).to_numpy(), households["lon"].to_numpy(float),
        households["lat"].to_numpy(float), thresholds_min=settings.thresholds(),
        speed_kmh=settings.walking_speed_kmh, buffer_m=settings.catchment_buffer_m,
        detour_factor=settings.detour_factor)
    seconds["catchments"] = time.perf_counter() - t
    t = time.perf_counter()
    stats = coverage_stats(units, households, catchments.household_minutes,
                           thresholds_min=settings.thresholds(), workers=store.workers(),
                           settings={"method": catchments.method,
                                     "speed_kmh": settings.walking_speed_kmh})
    seconds["statistics"] = time.perf_counter() - t
    return Coverage(release_id, info, network, units, sites, households, catchments, stats, seconds)


def uncovered(cov: Coverage, minutes: float | None = None) -> tuple[Any, gpd.GeoDataFrame]:
    """The households beyond ``minutes`` (default: the largest threshold) and the uncovered
    area of every micro-grid."""
    limit = minutes or max(cov.catchments.thresholds_min)
    people = uncovered_households(cov.households, cov.catchments.household_minutes,
                                  threshold_min=limit)
    areas = uncovered_areas(cov.units, cov.catchments.covered(), minutes=limit,
                            levels=["microgrid"])
    return people, areas


def gaps(store: Store, release_id: int, settings: Settings) -> gpd.GeoDataFrame:
    return gap_polygons(validate(store.units(release_id), settings.validation_config()))


def suggest(cov: Coverage, *, k: int, minutes: float, settings: Settings,
            candidates: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """``k`` new sites (from ``candidates`` or the network's nodes, thinned) covering the most
    households now beyond ``minutes``."""
    network = cov.walk
    if k < 1 or k > 50:
        raise InputError("k 须在 1 到 50 之间。", "k must be between 1 and 50.", k=k)
    from wangge.geo.coverage.mclp import metric_xy

    if candidates is not None:
        lon, lat = candidates.geometry.x.to_numpy(), candidates.geometry.y.to_numpy()
    else:
        # The network's nodes; without a network, where the uncovered households live.
        if network is not None:
            lon, lat = network.node_lonlat()
        else:
            far = ~(cov.catchments.household_minutes <= minutes)
            lon = cov.households["lon"].to_numpy(float)[far]
            lat = cov.households["lat"].to_numpy(float)[far]
        x, y = metric_xy(lon, lat)
        sx, sy = metric_xy(cov.sites.geometry.x.to_numpy(), cov.sites.geometry.y.to_numpy())
        keep = thin_candidates(x, y, site_x=sx, site_y=sy)
        lon, lat = lon[keep], lat[keep]
    if not len(lon):
        raise InputError("没有可用的候选点（全部住户已覆盖？）。",
                         "No candidate locations (every household covered?).")
    return suggest_new_sites(network, lon, lat, cov.households["lon"].to_numpy(float),
                             cov.households["lat"].to_numpy(float),
                             cov.catchments.household_minutes, k=k, minutes=minutes,
                             speed_kmh=settings.walking_speed_kmh,
                             detour_factor=settings.detour_factor)


class CoverageCache:
    """The last computed coverage, reused while nothing it depends on changed (release, sites,
    workers, networks, households, settings); a service process keeps one."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._value: Coverage | None = None
        self._lock = threading.Lock()

    def get(self, store: Store, release_id: int, settings: Settings) -> Coverage:
        """The coverage of ``release_id``, computed again when anything it depends on changed.

        Finding out is one read of the store's revision counters (bumped with every write to
        sites, workers, networks and households), so every page and tile can ask.
        """
        key = (release_id, tuple(store.revisions().items()), settings.thresholds(),
               settings.walking_speed_kmh, settings.catchment_buffer_m, settings.detour_factor)
        with self._lock:
            if key != self._key or self._value is None:
                self._value = compute(store, release_id, settings)
                self._key = key
            return self._value
