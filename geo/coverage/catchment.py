"""Service circles (服务圈): walking-time catchments of service sites on a street network.

How a walk is measured (metres, in the network's metric CRS, then minutes at ``speed_kmh``):

- A point (site or household) is **snapped** to the nearest point of the nearest edge
  (:func:`wangge.geo.coverage.nearest_street.nearest_street`); its *access* distance is the straight walk
  from the point to the network, and its *offset* the distance along the edge from ``u``.
- A site becomes a virtual node tied to both ends of its edge (weights access + offset and
  access + length − offset); ONE ``scipy.sparse.csgraph.dijkstra`` call runs from all of them
  (``min_only`` for the nearest site, per-site rows for the reach matrix and polygons).
- A household's walk is its access + ``min(d[u] + offset, d[v] + length − offset)``, or, when it
  lies on a site's own edge, access + site access + |offset difference| if shorter.

``household_minutes`` holds the **true** minutes to the nearest site (not cut at the largest
threshold); ``np.inf`` only when no site is reachable (another network component).

``network=None`` is the straight-line fallback: distance × ``detour_factor`` at the same speed,
``method="straight_line"``; its polygons are circles of radius speed × t / detour.
Polygons are built in :mod:`wangge.geo.coverage.polygons`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from wangge.geo.coverage.nearest_street import nearest_street
from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.crs import STORAGE_CRS, lonlat_to_metric, metric_crs_for
from wangge.geo.errors import InputError

__all__ = ["Catchments", "Snapped", "compute_catchments", "reach_matrix", "site_node_distances",
           "snap_points"]

_EPS_M = 1e-6      # scipy.sparse treats a 0 weight as a missing edge; a site on a node gets this
SOURCE_CHUNK = 128  # sites per dijkstra call: rows of a dense (chunk × nodes) distance matrix


@dataclass(frozen=True)
class Snapped:
    """Points snapped to a network: edge index, offset from ``u`` and access distance (m)."""

    edge: NDArray[np.intp]
    offset: NDArray[np.float64]
    access: NDArray[np.float64]


@dataclass
class Catchments:
    """Walking-time catchments of a set of sites (see the module docstring).

    ``thresholds_min`` are sorted ascending; ``reach[t]`` is a sites × households boolean CSR
    matrix: household reached by site within ``thresholds_min[t]`` minutes (see
    :meth:`reach_within`). ``polygons`` has one row per site and threshold, in site order then
    threshold order (an empty polygon for a site off the network); :meth:`covered` is their union
    per threshold. ``node_minutes``: minutes
    from each network node to its nearest site (network method only). ``seconds``: timings.
    """

    method: Literal["network", "straight_line"]
    thresholds_min: tuple[float, ...]
    speed_kmh: float
    site_ids: NDArray[np.object_]
    household_minutes: NDArray[np.float64]
    nearest_site: NDArray[np.intp]
    polygons: gpd.GeoDataFrame
    node_minutes: NDArray[np.float64] | None = None
    detour_factor: float | None = None
    buffer_m: float = 50.0
    reach: list[sp.csr_matrix] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    union: Callable[[], gpd.GeoDataFrame] | None = field(default=None, repr=False)
    _covered: gpd.GeoDataFrame | None = field(default=None, init=False, repr=False)

    def covered(self) -> gpd.GeoDataFrame:
        """The union of all sites' polygons per threshold (``minutes, area_m2, geometry``), in
        pieces that tile it (:mod:`wangge.geo.coverage.union`; circles: one piece per threshold).
        Made on first use and kept."""
        if self._covered is None:
            self._covered = self.union() if self.union is not None else gpd.GeoDataFrame(
                {"minutes": [], "area_m2": []}, geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)
        return self._covered

    def reach_within(self, minutes: float) -> sp.csr_matrix:
        """Sites × households bool matrix for one of ``thresholds_min``."""
        for t, r in zip(self.thresholds_min, self.reach, strict=True):
            if t == minutes:
                return r
        raise InputError(f"没有 {minutes} 分钟的服务圈；可用：{list(self.thresholds_min)}",
                         f"No {minutes}-minute catchment; available: {list(self.thresholds_min)}",
                         minutes=minutes)

    @property
    def settings(self) -> dict[str, Any]:
        return {"method": self.method, "speed_kmh": self.speed_kmh,
                "thresholds_min": list(self.thresholds_min), "detour_factor": self.detour_factor,
                "buffer_m": self.buffer_m}


def m_per_min(speed_kmh: float) -> float:
    return speed_kmh * 1000.0 / 60.0


def _xy(lon: ArrayLike, lat: ArrayLike,
        metric: pyproj.CRS) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return lonlat_to_metric(np.asarray(lon, dtype=float).ravel(), np.asarray(lat, dtype=float).ravel(),
                            metric)


def snap_points(network: WalkNetwork, x: NDArray[np.float64], y: NDArray[np.float64]) -> Snapped:
    """Nearest edge point of each metric point (vectorised). NaN points get edge -1, access inf."""
    n = len(x)
    edge = np.full(n, -1, dtype=np.intp)
    offset = np.zeros(n)
    access = np.full(n, np.inf)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(ok) and network.n_edges:
        edge[ok], offset[ok], access[ok] = nearest_street(network, x[ok], y[ok])
    return Snapped(edge, offset, access)


def _augmented(network: WalkNetwork, s: Snapped) -> tuple[sp.csr_matrix, NDArray[np.intp]]:
    """Graph plus one virtual node per snapped site, and those nodes' indices (-1: not snapped)."""
    n = network.n_nodes
    ok = np.flatnonzero(s.edge >= 0)
    virt = np.full(len(s.edge), -1, dtype=np.intp)
    virt[ok] = n + np.arange(len(ok))
    e = s.edge[ok]
    to_u = np.maximum(s.access[ok] + s.offset[ok], _EPS_M)
    to_v = np.maximum(s.access[ok] + network.length_m[e] - s.offset[ok], _EPS_M)
    rows = np.concatenate([virt[ok], virt[ok]])
    cols = np.concatenate([network.u[e], network.v[e]])
    w = np.concatenate([to_u, to_v])
    size = n + len(ok)
    extra = sp.csr_matrix((w, (rows, cols)), shape=(size, size))
    g = network.graph
    base = sp.csr_matrix((g.data, g.indices, g.indptr), shape=(n, n))
    base.resize((size, size))
    # Directed use: virtual → real only (a walk never passes through another site's edge stub).
    return (base + extra).tocsr(), virt


def site_node_distances(network: WalkNetwork, sites: Snapped, *, limit: float = np.inf,
                        min_only: bool = False) -> Any:
    """Shortest walks (m) from sites to nodes, one dijkstra call (see the module docstring).

    ``min_only``: (distance, nearest site index) per node; else a (sites × nodes) array,
    computed in chunks of :data:`SOURCE_CHUNK` by :func:`_site_rows` (this returns all rows).
    """
    graph, virt = _augmented(network, sites)
    n = network.n_nodes
    src = virt[virt >= 0]
    if min_only:
        if len(src) == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
        dist, _, origin = dijkstra(graph, directed=True, indices=src, limit=limit, min_only=True,
                                   return_predecessors=True)
        site_of_virt = np.full(graph.shape[0], -1, dtype=np.intp)
        site_of_virt[src] = np.flatnonzero(virt >= 0)
        nearest = np.where(origin[:n] >= 0, site_of_virt[np.maximum(origin[:n], 0)], -1)
        return dist[:n], nearest
    out = np.full((len(virt), n), np.inf)
    for lo in range(0, len(virt), SOURCE_CHUNK):
        rows = np.arange(lo, min(lo + SOURCE_CHUNK, len(virt)))
        rows = rows[virt[rows] >= 0]
        if len(rows):
            out[rows] = dijkstra(graph, directed=True, indices=virt[rows], limit=limit)[:, :n]
    return out


def _walk_from_nodes(network: WalkNetwork, d_u: NDArray[np.float64], d_v: NDArray[np.float64],
                     hh: Snapped, e: NDArray[np.intp]) -> NDArray[np.float64]:
    return hh.access + np.minimum(d_u + hh.offset, d_v + network.length_m[e] - hh.offset)


def _same_edge_pairs(sites: Snapped, hh: Snapped) -> tuple[NDArray[np.intp], NDArray[np.intp],
                                                          NDArray[np.float64]]:
    """(site, household, metres) for households on a site's own edge, walking along it."""
    ok_s = np.flatnonzero(sites.edge >= 0)
    ok_h = np.flatnonzero(hh.edge >= 0)
    if not len(ok_s) or not len(ok_h):
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0)
    order = ok_h[np.argsort(hh.edge[ok_h], kind="stable")]
    starts = np.searchsorted(hh.edge[order], sites.edge[ok_s], "left")
    ends = np.searchsorted(hh.edge[order], sites.edge[ok_s], "right")
    cnt = ends - starts
    s_idx = np.repeat(ok_s, cnt)
    pos = np.repeat(starts - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())
    h_idx = order[pos]
    d = hh.access[h_idx] + sites.access[s_idx] + np.abs(hh.offset[h_idx] - sites.offset[s_idx])
    return s_idx, h_idx, d


def _pairs_within(network: WalkNetwork, dist: NDArray[np.float64], site_rows: NDArray[np.intp],
                  hh: Snapped, hh_by_edge: tuple[NDArray[np.intp], NDArray[np.intp]],
                  cutoff: float) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """(site, household, metres ≤ cutoff) through the network for rows ``dist`` (chunk × nodes)."""
    order, ptr = hh_by_edge
    r, node = np.nonzero(dist <= cutoff)
    inc = network.incidence
    cnt = np.diff(inc.indptr)[node]
    r_e = np.repeat(r, cnt)
    pos = np.repeat(inc.indptr[node] - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())
    e = inc.indices[pos]
    key = np.unique(r_e.astype(np.int64) * network.n_edges + e)
    r_e, e = (key // network.n_edges).astype(np.intp), (key % network.n_edges).astype(np.intp)
    cnt = ptr[e + 1] - ptr[e]
    r_h = np.repeat(r_e, cnt)
    e_h = np.repeat(e, cnt)
    h = order[np.repeat(ptr[e] - np.cumsum(np.r_[0, cnt[:-1]]), cnt) + np.arange(cnt.sum())]
    sub = Snapped(hh.edge[h], hh.offset[h], hh.access[h])
    d = _walk_from_nodes(network, dist[r_h, network.u[e_h]], dist[r_h, network.v[e_h]], sub, e_h)
    keep = d <= cutoff
    return site_rows[r_h[keep]], h[keep], d[keep]


def _group_by_edge(network: WalkNetwork, hh: Snapped) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    ok = np.flatnonzero(hh.edge >= 0)
    order = ok[np.argsort(hh.edge[ok], kind="stable")]
    ptr = np.searchsorted(hh.edge[order], np.arange(network.n_edges + 1), "left")
    return order, ptr


def _reach_network(network: WalkNetwork, sites: Snapped, hh: Snapped, cutoffs: Sequence[float],
                   keep_rows: Any = None) -> list[sp.csr_matrix]:
    """Per cutoff (m), sites × households bool CSR; ``keep_rows(rows, dist)`` sees each chunk."""
    n_s, n_h = len(sites.edge), len(hh.edge)
    by_edge = _group_by_edge(network, hh)
    graph, virt = _augmented(network, sites)
    top = max(cutoffs)
    parts: list[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]] = []
    for lo in range(0, n_s, SOURCE_CHUNK):
        rows = np.arange(lo, min(lo + SOURCE_CHUNK, n_s))
        rows = rows[virt[rows] >= 0]
        if not len(rows):
            continue
        dist = dijkstra(graph, directed=True, indices=virt[rows], limit=top)[:, :network.n_nodes]
        parts.append(_pairs_within(network, dist, rows, hh, by_edge, top))
        if keep_rows is not None:
            keep_rows(rows, dist)
    s_same, h_same, d_same = _same_edge_pairs(sites, hh)
    near = d_same <= top
    parts.append((s_same[near], h_same[near], d_same[near]))
    s = np.concatenate([p[0] for p in parts]).astype(np.intp)
    h = np.concatenate([p[1] for p in parts]).astype(np.intp)
    d = np.concatenate([p[2] for p in parts])
    out = []
    for c in cutoffs:
        k = d <= c
        m = sp.csr_matrix((np.ones(int(k.sum()), dtype=bool), (s[k], h[k])), shape=(n_s, n_h))
        m.sum_duplicates()
        out.append(m)
    return out


def _check_points(name: str, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64],
                                                                      NDArray[np.float64]]:
    lon, lat = np.asarray(lon, dtype=float).ravel(), np.asarray(lat, dtype=float).ravel()
    if lon.shape != lat.shape:
        raise InputError(f"{name}的经度和纬度个数不同。", f"{name}: lon and lat differ in length.",
                         lon=len(lon), lat=len(lat))
    return lon, lat


def _check_settings(thresholds: Sequence[float], speed_kmh: float, detour: float, buffer_m: float) -> None:
    problems = []
    if not len(thresholds) or any(not (t > 0 and np.isfinite(t)) for t in thresholds):
        problems.append(f"thresholds_min must be positive minutes, got {list(thresholds)}")
    if not (speed_kmh > 0 and np.isfinite(speed_kmh)):
        problems.append(f"speed_kmh must be positive, got {speed_kmh}")
    if not detour >= 1:
        problems.append(f"detour_factor must be ≥ 1, got {detour}")
    if not buffer_m >= 0:
        problems.append(f"buffer_m must be ≥ 0, got {buffer_m}")
    if problems:
        raise InputError("服务圈参数无效：" + "；".join(problems),
                         "Invalid catchment settings: " + "; ".join(problems))


def compute_catchments(network: WalkNetwork | None, sites_lon: ArrayLike, sites_lat: ArrayLike,
                       site_ids: ArrayLike, households_lon: ArrayLike, households_lat: ArrayLike, *,
                       thresholds_min: Sequence[float] = (5, 10, 15), speed_kmh: float = 4.8,
                       buffer_m: float = 50.0, detour_factor: float = 1.3,
                       polygons: bool = True) -> Catchments:
    """Catchments of every site at every threshold, and each household's nearest site.

    See the module docstring for the rules; polygons are described in
    :mod:`wangge.geo.coverage.polygons` (``polygons=False`` skips them: an empty frame).
    """
    import time

    from wangge.geo.coverage.polygons import circle_polygons, network_polygons, raster_for
    from wangge.geo.coverage.union import union_pieces

    thresholds = tuple(sorted(float(t) for t in thresholds_min))
    _check_settings(thresholds, speed_kmh, detour_factor, buffer_m)
    slon, slat = _check_points("站点", sites_lon, sites_lat)
    hlon, hlat = _check_points("住户", households_lon, households_lat)
    ids = np.asarray(site_ids, dtype=object).ravel()
    if len(ids) != len(slon):
        raise InputError("站点编号与坐标个数不同。", "site_ids and site coordinates differ in length.",
                         site_ids=len(ids), sites=len(slon))
    rate = m_per_min(speed_kmh)
    cutoffs = [t * rate for t in thresholds]
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    if network is None:
        metric = metric_crs_for(float(np.nanmean(slon)) if len(slon) else 120.0)
        sx, sy = _xy(slon, slat, metric)
        hx, hy = _xy(hlon, hlat, metric)
        minutes, nearest = _nearest_straight(sx, sy, hx, hy, rate / detour_factor)
        reach = _reach_straight(sx, sy, hx, hy, [c / detour_factor for c in cutoffs])
        timing["search"] = time.perf_counter() - t0
        polys = circle_polygons(sx, sy, ids, thresholds, [c / detour_factor for c in cutoffs], reach,
                                metric) if polygons else None
        timing["polygons"] = time.perf_counter() - t0 - timing["search"]
        return Catchments("straight_line", thresholds, speed_kmh, ids, minutes, nearest,
                          _frame(polys), None, detour_factor, buffer_m, reach, timing,
                          union=None if polys is None else lambda: _union_by_minutes(polys))

    sx, sy = _xy(slon, slat, network.metric)
    hx, hy = _xy(hlon, hlat, network.metric)
    s_snap = snap_points(network, sx, sy)
    h_snap = snap_points(network, hx, hy)
    node_d, node_site = site_node_distances(network, s_snap, min_only=True)
    minutes, nearest = _nearest_network(network, s_snap, h_snap, node_d, node_site, rate)
    timing["nearest"] = time.perf_counter() - t0
    chunks: list[tuple[NDArray[np.intp], NDArray[np.float64]]] = []
    keep = (lambda rows, dist: chunks.append((rows, dist))) if polygons else None
    reach = _reach_network(network, s_snap, h_snap, cutoffs, keep)
    timing["search"] = time.perf_counter() - t0 - timing["nearest"]
    polys = union = None
    if polygons:
        t1 = time.perf_counter()
        polys = network_polygons(network, s_snap, ids, thresholds, cutoffs, chunks, reach, buffer_m)
        timing["polygons"] = time.perf_counter() - t1
        on = s_snap.edge >= 0
        if buffer_m > 0 and on.any():
            own = (s_snap.edge[on], s_snap.offset[on], s_snap.access[on])

            def union() -> gpd.GeoDataFrame:
                return union_pieces(raster_for(network, buffer_m), node_d, own, thresholds, cutoffs)
    return Catchments("network", thresholds, speed_kmh, ids, minutes, nearest, _frame(polys),
                      node_d / rate, None, buffer_m, reach, timing, union=union)


def _union_by_minutes(polys: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Circles (the fallback) are cheap to union: one piece per threshold."""
    minutes = sorted(set(polys["minutes"].tolist()))
    geoms = [shapely.union_all(polys.geometry.to_numpy()[polys["minutes"].to_numpy() == m]) for m in minutes]
    return gpd.GeoDataFrame({"minutes": np.asarray(minutes, dtype=float)}, geometry=geoms, crs=STORAGE_CRS)


def _frame(polys: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if polys is not None:
        return polys
    return gpd.GeoDataFrame({"site_id": [], "minutes": [], "households": [], "area_m2": []},
                            geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def _nearest_network(network: WalkNetwork, sites: Snapped, hh: Snapped, node_d: NDArray[np.float64],
                     node_site: NDArray[np.intp], rate: float) -> tuple[NDArray[np.float64],
                                                                       NDArray[np.intp]]:
    n_h = len(hh.edge)
    best = np.full(n_h, np.inf)
    nearest = np.full(n_h, -1, dtype=np.intp)
    ok = np.flatnonzero(hh.edge >= 0)
    e = hh.edge[ok]
    via_u = node_d[network.u[e]] + hh.offset[ok]
    via_v = node_d[network.v[e]] + network.length_m[e] - hh.offset[ok]
    use_u = via_u <= via_v
    best[ok] = hh.access[ok] + np.where(use_u, via_u, via_v)
    nearest[ok] = np.where(use_u, node_site[network.u[e]], node_site[network.v[e]])
    nearest[~np.isfinite(best)] = -1
    s_idx, h_idx, d = _same_edge_pairs(sites, hh)
    if len(d):
        order = np.lexsort((d, h_idx))
        first = np.ones(len(order), dtype=bool)
        first[1:] = h_idx[order][1:] != h_idx[order][:-1]
        h1, s1, d1 = h_idx[order][first], s_idx[order][first], d[order][first]
        better = d1 < best[h1]
        best[h1[better]] = d1[better]
        nearest[h1[better]] = s1[better]
    return best / rate, nearest


def _nearest_straight(sx: NDArray[np.float64], sy: NDArray[np.float64], hx: NDArray[np.float64],
                      hy: NDArray[np.float64], eff_rate: float) -> tuple[NDArray[np.float64],
                                                                         NDArray[np.intp]]:
    minutes = np.full(len(hx), np.inf)
    nearest = np.full(len(hx), -1, dtype=np.intp)
    s_ok = np.flatnonzero(np.isfinite(sx) & np.isfinite(sy))
    h_ok = np.flatnonzero(np.isfinite(hx) & np.isfinite(hy))
    if len(s_ok) and len(h_ok):
        d, i = cKDTree(np.column_stack([sx[s_ok], sy[s_ok]])).query(np.column_stack([hx[h_ok], hy[h_ok]]))
        minutes[h_ok] = d / eff_rate
        nearest[h_ok] = s_ok[i]
    return minutes, nearest


def _reach_straight(sx: NDArray[np.float64], sy: NDArray[np.float64], hx: NDArray[np.float64],
                    hy: NDArray[np.float64], radii: Sequence[float]) -> list[sp.csr_matrix]:
    n_s, n_h = len(sx), len(hx)
    s_ok = np.flatnonzero(np.isfinite(sx) & np.isfinite(sy))
    h_ok = np.flatnonzero(np.isfinite(hx) & np.isfinite(hy))
    out = []
    if not len(s_ok) or not len(h_ok):
        return [sp.csr_matrix((n_s, n_h), dtype=bool) for _ in radii]
    tree_h = cKDTree(np.column_stack([hx[h_ok], hy[h_ok]]))
    tree_s = cKDTree(np.column_stack([sx[s_ok], sy[s_ok]]))
    pairs = tree_s.sparse_distance_matrix(tree_h, max(radii), output_type="coo_matrix")
    for r in radii:
        k = pairs.data <= r
        m = sp.csr_matrix((np.ones(int(k.sum()), dtype=bool), (s_ok[pairs.row[k]], h_ok[pairs.col[k]])),
                          shape=(n_s, n_h))
        out.append(m)
    return out


def reach_matrix(network: WalkNetwork | None, cand_lon: ArrayLike, cand_lat: ArrayLike, hh_lon: ArrayLike,
                 hh_lat: ArrayLike, *, minutes: float, speed_kmh: float = 4.8,
                 detour_factor: float = 1.3) -> sp.csr_matrix:
    """Candidates × households bool CSR: household reachable from the candidate within ``minutes``
    (walking on ``network``, or straight line × ``detour_factor`` when it is None)."""
    _check_settings((minutes,), speed_kmh, detour_factor, 0.0)
    clon, clat = _check_points("候选点", cand_lon, cand_lat)
    hlon, hlat = _check_points("住户", hh_lon, hh_lat)
    cutoff = minutes * m_per_min(speed_kmh)
    if network is None:
        metric = metric_crs_for(float(np.nanmean(clon)) if len(clon) else 120.0)
        cx, cy = _xy(clon, clat, metric)
        hx, hy = _xy(hlon, hlat, metric)
        return _reach_straight(cx, cy, hx, hy, [cutoff / detour_factor])[0]
    cx, cy = _xy(clon, clat, network.metric)
    hx, hy = _xy(hlon, hlat, network.metric)
    return _reach_network(network, snap_points(network, cx, cy), snap_points(network, hx, hy),
                          [cutoff])[0]
