"""Walking networks: nodes and edges in a metric CRS, with a sparse graph for shortest paths.

A :class:`WalkNetwork` holds node coordinates ``x, y`` (metres, in ``metric``, a Gauss–Krüger
zone from :func:`wangge.geo.crs.metric_crs_for`), edges ``u, v`` with their ``length_m`` and metric
LineStrings oriented u→v, and builds on demand an undirected ``scipy.sparse`` graph and a
``shapely.STRtree`` of the edges. Storage is lon/lat EPSG:4490 (:meth:`WalkNetwork.to_lonlat_frame`).

Noding rule of :meth:`WalkNetwork.from_lines`: vertices are keyed on a grid of ``snap_m`` metres;
a node is made at every line end and at every vertex that occurs in more than one line (or
twice in one line). Lines that cross without a shared vertex (a bridge over a road) are **not**
connected, as in OpenStreetMap. Two vertices closer than ``snap_m`` may still get different keys
when a grid line passes between them; give shared vertices identical coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from wangge.geo.crs import (
    STORAGE,
    STORAGE_CRS,
    check_plausible_lonlat,
    frame_to_storage,
    from_metric,
    metric_crs_of,
    metric_to_lonlat,
    parse_crs,
    to_metric,
)
from wangge.geo.errors import InputError

__all__ = ["DroppedReport", "WalkNetwork"]

_LINE_TYPES = (1, 5)  # shapely type ids of LineString and MultiLineString


@dataclass(frozen=True)
class DroppedReport:
    """What :meth:`WalkNetwork.largest_component` left out."""

    components: int
    nodes: int
    edges: int
    length_m: float


@dataclass(frozen=True)
class Segments:
    """The straight segments of a network's edges, metric: segment ``i`` runs from ``a[i]`` to
    ``b[i]`` on ``edge[i]``, starting ``start[i]`` metres from the edge's ``u`` and ``length[i]``
    metres long (both in the edge's ``length_m``)."""

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    edge: NDArray[np.intp]
    start: NDArray[np.float64]
    length: NDArray[np.float64]

    def project(self, seg: NDArray[np.intp], x: NDArray[np.float64],
                y: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(distance, metres from the edge's ``u``) of points projected on segments ``seg``."""
        a, b = self.a[seg], self.b[seg]
        dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        t = np.clip(((x - a[:, 0]) * dx + (y - a[:, 1]) * dy) / np.maximum(dx * dx + dy * dy, 1e-18),
                    0.0, 1.0)
        return np.hypot(x - a[:, 0] - t * dx, y - a[:, 1] - t * dy), self.start[seg] + t * self.length[seg]


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """An undirected walking network in a metric CRS (see the module docstring)."""

    metric: pyproj.CRS
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    u: NDArray[np.intp]
    v: NDArray[np.intp]
    length_m: NDArray[np.float64]
    geometry: NDArray[np.object_]
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.x)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @cached_property
    def graph(self) -> sp.csr_matrix:
        """Symmetric CSR matrix of edge lengths (metres), nodes × nodes."""
        n = self.n_nodes
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        w = np.concatenate([self.length_m, self.length_m])
        return sp.csr_matrix((w, (rows, cols)), shape=(n, n))

    @cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the metric edge geometries."""
        return shapely.STRtree(self.geometry)

    @cached_property
    def incidence(self) -> sp.csr_matrix:
        """Nodes × edges CSR matrix: row ``n`` lists the edges ending at node ``n``."""
        m = self.n_edges
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([np.arange(m), np.arange(m)])
        mat = sp.csr_matrix((np.ones(2 * m, dtype=bool), (rows, cols)), shape=(self.n_nodes, m))
        mat.sum_duplicates()
        return mat

    @cached_property
    def segments(self) -> Segments:
        """Every straight segment of every edge (see :class:`Segments`)."""
        coords, idx = shapely.get_coordinates(self.geometry, return_index=True)
        start = np.flatnonzero(idx[:-1] == idx[1:])
        a, b = coords[start], coords[start + 1]
        edge = idx[start]
        seg_len = np.hypot(*(b - a).T)
        geom_len = np.bincount(edge, weights=seg_len, minlength=self.n_edges)
        # Metres in the edge's own length_m, should the geometry's length differ from it.
        scale = np.divide(self.length_m, geom_len, out=np.ones(self.n_edges), where=geom_len > 0)[edge]
        before = np.cumsum(seg_len) - seg_len
        first = np.searchsorted(edge, np.arange(self.n_edges))
        before -= before[np.minimum(first, max(len(edge) - 1, 0))][edge] if len(edge) else 0.0
        return Segments(a, b, edge.astype(np.intp), before * scale, seg_len * scale)

    # ---- constructors ------------------------------------------------------------------------
    @classmethod
    def from_lines(cls, lines_lonlat: Any, *, snap_m: float = 0.5,
                   metric: pyproj.CRS | None = None, check_china: bool = True) -> WalkNetwork:
        """Network from lon/lat (EPSG:4490) LineStrings or MultiLineStrings, noded at shared vertices.

        Zero-length edges and self-loops are dropped; of parallel edges between the same two
        nodes the shortest is kept. ``metric`` defaults to the Gauss–Krüger zone of the data.
        ``check_china=False`` accepts lon/lat anywhere (OpenStreetMap test data outside China).
        """
        geoms = _check_lines(lines_lonlat, check_china)
        if not snap_m > 0:
            raise InputError("snap_m 必须为正数。", "snap_m must be positive.", snap_m=snap_m)
        metric = metric or metric_crs_of(geoms)
        parts = shapely.get_parts(to_metric(geoms, metric))
        parts = parts[~shapely.is_empty(parts)]
        coords, line = shapely.get_coordinates(parts, return_index=True)
        keys = np.floor(coords / snap_m).astype(np.int64)
        _, first, vid, counts = np.unique(keys, axis=0, return_index=True, return_inverse=True,
                                          return_counts=True)
        vid = vid.ravel()
        n_coords = len(coords)
        is_end = np.zeros(n_coords, dtype=bool)
        is_end[0] = is_end[-1] = True
        is_end[1:] |= line[1:] != line[:-1]
        is_end[:-1] |= line[1:] != line[:-1]
        # A vertex is a node when it ends a line or occurs more than once overall.
        node_vertex = is_end | (counts[vid] > 1)
        pos = np.flatnonzero(node_vertex)
        same = line[pos[1:]] == line[pos[:-1]]
        start, end = pos[:-1][same], pos[1:][same]
        sizes = end - start + 1
        idx = np.repeat(start - np.cumsum(np.r_[0, sizes[:-1]]), sizes) + np.arange(sizes.sum())
        pieces = shapely.linestrings(coords[idx], indices=np.repeat(np.arange(len(start)), sizes))
        nu, nv = vid[start], vid[end]
        length = shapely.length(pieces)
        node_xy = coords[first]
        return cls._assemble(metric, node_xy, nu, nv, length, pieces)

    @classmethod
    def _assemble(cls, metric: pyproj.CRS, node_xy: NDArray[np.float64], u: NDArray[np.intp],
                  v: NDArray[np.intp], length: NDArray[np.float64],
                  geometry: NDArray[np.object_]) -> WalkNetwork:
        """Drop loops and zero lengths, keep the shortest of parallel edges, renumber nodes."""
        keep = (u != v) & (length > 0)
        u, v, length, geometry = u[keep], v[keep], length[keep], geometry[keep]
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        order = np.lexsort((length, hi, lo))
        first = np.ones(len(order), dtype=bool)
        first[1:] = (lo[order][1:] != lo[order][:-1]) | (hi[order][1:] != hi[order][:-1])
        sel = np.sort(order[first])
        u, v, length, geometry = u[sel], v[sel], length[sel], geometry[sel]
        used, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
        m = len(u)
        return cls(metric=metric, x=np.ascontiguousarray(node_xy[used, 0], dtype=float),
                   y=np.ascontiguousarray(node_xy[used, 1], dtype=float),
                   u=inv[:m].astype(np.intp), v=inv[m:].astype(np.intp),
                   length_m=np.asarray(length, dtype=float), geometry=np.asarray(geometry, dtype=object))

    @classmethod
    def from_edges_frame(cls, frame: gpd.GeoDataFrame) -> WalkNetwork:
        """Inverse of :meth:`to_lonlat_frame`: columns ``u, v, length_m, geometry`` (EPSG:4490).

        Lengths are measured again from the reprojected geometry (so offsets along an edge and
        its length agree exactly); they match the stored ``length_m`` to within millimetres."""
        missing = [c for c in ("u", "v", "length_m") if c not in frame]
        if missing or frame.crs is None:
            raise InputError(f"路网边数据缺少列 {missing} 或坐标系。",
                             f"The edge frame lacks columns {missing} or a CRS.", missing=missing)
        if len(frame) == 0:
            raise InputError("路网为空。", "The network has no edges.")
        lonlat = np.asarray(frame_to_storage(frame).geometry.to_numpy(), dtype=object)
        epsg = frame.attrs.get("metric_epsg")
        metric = parse_crs(int(epsg)).crs if epsg else metric_crs_of(lonlat)
        geom = to_metric(lonlat, metric)
        u = frame["u"].to_numpy().astype(np.intp)
        v = frame["v"].to_numpy().astype(np.intp)
        n = int(max(u.max(), v.max())) + 1
        xy = np.full((n, 2), np.nan)
        xy[u] = shapely.get_coordinates(shapely.get_point(geom, 0))
        xy[v] = shapely.get_coordinates(shapely.get_point(geom, -1))
        return cls(metric=metric, x=xy[:, 0].copy(), y=xy[:, 1].copy(), u=u, v=v,
                   length_m=np.asarray(shapely.length(geom), dtype=float), geometry=geom)

    # ---- views -------------------------------------------------------------------------------
    def to_lonlat_frame(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame in EPSG:4490 (columns ``u, v, length_m, geometry``)."""
        frame = gpd.GeoDataFrame({"u": self.u, "v": self.v, "length_m": self.length_m},
                                 geometry=from_metric(self.geometry, self.metric), crs=STORAGE_CRS)
        frame.attrs["metric_epsg"] = self.metric.to_epsg()
        return frame

    def subset(self, edge_mask: NDArray[np.bool_]) -> WalkNetwork:
        """The network of the selected edges, nodes renumbered."""
        xy = np.column_stack([self.x, self.y])
        return WalkNetwork._assemble(self.metric, xy, self.u[edge_mask], self.v[edge_mask],
                                     self.length_m[edge_mask], self.geometry[edge_mask])

    def largest_component(self) -> tuple[WalkNetwork, DroppedReport]:
        """The largest connected component, and a report of what was dropped."""
        k, labels = connected_components(self.graph, directed=False)
        if k <= 1:
            return self, DroppedReport(0, 0, 0, 0.0)
        big = int(np.argmax(np.bincount(labels)))
        keep = labels[self.u] == big
        kept = self.subset(keep)
        return kept, DroppedReport(components=k - 1, nodes=self.n_nodes - kept.n_nodes,
                                   edges=int((~keep).sum()),
                                   length_m=float(self.length_m[~keep].sum()))

    def node_lonlat(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Node coordinates in EPSG:4490."""
        return metric_to_lonlat(self.x, self.y, self.metric)


def _check_lines(lines: Any, check_china: bool = True) -> NDArray[np.object_]:
    """Lon/lat line geometries as an object array; every problem reported at once."""
    if isinstance(lines, gpd.GeoSeries | gpd.GeoDataFrame):
        lines = frame_to_storage(lines)
        lines = lines.geometry.to_numpy() if isinstance(lines, gpd.GeoDataFrame) else lines.to_numpy()
    geoms = np.asarray(lines, dtype=object).ravel()
    if geoms.size == 0:
        raise InputError("路网为空：没有线。", "The network is empty: no lines given.")
    ok_type = np.array([isinstance(g, shapely.Geometry) for g in geoms])
    types = np.full(len(geoms), -1)
    types[ok_type] = shapely.get_type_id(geoms[ok_type])
    bad = np.flatnonzero(~np.isin(types, _LINE_TYPES))
    if len(bad):
        raise InputError(f"路网只能由线组成，第 {bad[:10].tolist()} 个几何不是线（共 {len(bad)} 个）。",
                         f"A network is made of lines; geometries {bad[:10].tolist()} are not "
                         f"({len(bad)} in all).", bad_rows=bad[:10].tolist(), bad_count=int(len(bad)))
    if shapely.is_empty(geoms).all():
        raise InputError("路网为空：所有线都是空的。", "The network is empty: every line is empty.")
    if check_china:
        check_plausible_lonlat(geoms, STORAGE, where="network")
    else:
        xy = shapely.get_coordinates(geoms)
        if not (np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()):
            raise InputError("路网坐标不是有效的经纬度。", "Network coordinates are not valid lon/lat.")
    return geoms
