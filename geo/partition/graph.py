"""The adjacency graph of polygons in an exact coverage, and its atoms for partitioning.

Two polygons are neighbours when they share boundary of positive length; touching at a vertex
does not count. Shared edges are found as ring segments with identical end points, so the
polygons must form an exact coverage (the boundary validator's rule: neighbours share their
vertices). Everything here works on metric geometries and plain arrays.

:func:`glue` collapses groups of atoms that must stay together (the micro-grids of one
compound, 小区) into one atom, so the partitioners never see them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix

__all__ = ["Adjacency", "AtomGraph", "Geoms", "atom_graph", "glue", "outer_vertices",
           "shared_edges"]

Geoms: TypeAlias = NDArray[np.object_]
Adjacency: TypeAlias = csr_matrix  # symmetric; weights are shared boundary lengths in metres


def _segments(geoms: Geoms) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp],
                                      NDArray[np.intp]]:
    """Every ring segment as ``(x0, y0, x1, y1)`` with its end points in sorted order.

    Returns the segments, the index of the geometry each comes from, a key that is equal for
    identical segments, and how often each segment's key occurs.
    """
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    owner = part_owner[ring_part[ring_of[:-1][same]]]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    seg = np.hstack([np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)])
    _, key, count = np.unique(seg, axis=0, return_inverse=True, return_counts=True)
    key = key.ravel()
    return seg, owner, key, count[key]


def shared_edges(geoms: Geoms) -> tuple[Adjacency, NDArray[np.float64]]:
    """Adjacency of polygons in an exact coverage, from segments with identical end points.

    Returns a symmetric sparse matrix of shared boundary lengths and, per polygon, the length of
    its boundary shared with no other polygon (the outer boundary of the coverage).
    """
    n = len(geoms)
    seg, owner, key, count = _segments(geoms)
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    outer = np.bincount(owner[count == 1], weights=length[count == 1], minlength=n)
    pair = count == 2
    order = np.argsort(key[pair], kind="stable")
    i = owner[pair][order][0::2]
    j = owner[pair][order][1::2]
    w = length[pair][order][0::2]
    differ = i != j
    i, j, w = i[differ], j[differ], w[differ]
    adj = coo_matrix((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))),
                     shape=(n, n)).tocsr()
    adj.sum_duplicates()
    return adj, outer.astype(np.float64)


def outer_vertices(geoms: Geoms) -> NDArray[np.float64]:
    """The distinct vertices on the outer boundary of an exact coverage."""
    seg, _, _, count = _segments(geoms)
    return np.unique(seg[count == 1].reshape(-1, 2), axis=0)


@dataclass(frozen=True)
class AtomGraph:
    """What the partitioners know of the atoms: weights, adjacency, areas and perimeters.

    ``perimeter`` is each atom's whole boundary; the perimeter of a union of atoms ``S`` is
    ``perimeter[S].sum() - adjacency[S][:, S].sum()`` (each shared edge is inside the union and
    counted twice by the symmetric matrix), exact for an exact coverage.
    """

    weight: NDArray[np.int64]
    adjacency: Adjacency
    area: NDArray[np.float64]
    perimeter: NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.weight)
        if self.adjacency.shape != (n, n) or len(self.area) != n or len(self.perimeter) != n:
            raise ValueError("weight, adjacency, area and perimeter must describe the same atoms")
        if n and int(np.min(self.weight)) < 0:
            raise ValueError("atom weights must not be negative")

    @property
    def n(self) -> int:
        return len(self.weight)

    def subgraph(self, atoms: NDArray[np.intp]) -> AtomGraph:
        """The graph of ``atoms`` only (edges to other atoms dropped; perimeters kept whole)."""
        return AtomGraph(self.weight[atoms], self.adjacency[atoms][:, atoms].tocsr(),
                         self.area[atoms], self.perimeter[atoms])

    def compactness(self, labels: NDArray[np.intp], k: int | None = None) -> NDArray[np.float64]:
        """Polsby–Popper ``4πA/P²`` of the union of each label's atoms (NaN for an empty label)."""
        labels = np.asarray(labels, dtype=np.intp)
        k = int(labels.max()) + 1 if k is None else k
        area = np.bincount(labels, weights=self.area, minlength=k)
        coo = self.adjacency.tocoo()
        inside = labels[coo.row] == labels[coo.col]
        shared = np.bincount(labels[coo.row[inside]], weights=coo.data[inside], minlength=k)
        perimeter = np.bincount(labels, weights=self.perimeter, minlength=k) - shared
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(perimeter > 0, 4 * np.pi * area / perimeter ** 2, np.nan)


def atom_graph(metric_geoms: Geoms, weight: NDArray[np.integer]) -> AtomGraph:
    """The atom graph of polygons (in a metric CRS) forming an exact coverage."""
    geoms = np.asarray(metric_geoms, dtype=object)
    adjacency, outer = shared_edges(geoms)
    perimeter = np.asarray(adjacency.sum(axis=1)).ravel() + outer
    return AtomGraph(np.asarray(weight, dtype=np.int64), adjacency,
                     np.asarray(shapely.area(geoms), dtype=np.float64), perimeter)


def glue(graph: AtomGraph, groups: NDArray[np.intp]) -> tuple[AtomGraph, NDArray[np.intp]]:
    """Collapse the atoms of each group (``groups[i] >= 0``) into one atom.

    Atoms with ``groups[i] < 0`` stay alone. Returns the glued graph and, per original atom, the
    index of its glued atom. Edges inside a group vanish and its shared length leaves the
    perimeter, so :meth:`AtomGraph.compactness` stays exact.
    """
    groups = np.asarray(groups)
    if groups.shape != (graph.n,):
        raise ValueError("one group per atom (negative for none)")
    key = np.where(groups >= 0, groups, -1 - np.arange(graph.n))  # ungrouped atoms: own key
    _, of = np.unique(key, return_inverse=True)
    of = of.ravel().astype(np.intp)
    m = int(of.max()) + 1 if graph.n else 0
    member = csr_matrix((np.ones(graph.n), (of, np.arange(graph.n))), shape=(m, graph.n))
    merged = (member @ graph.adjacency @ member.T).tocsr()
    internal = merged.diagonal()
    merged.setdiag(0)
    merged.eliminate_zeros()
    weight = np.bincount(of, weights=graph.weight, minlength=m).round().astype(np.int64)
    area = np.bincount(of, weights=graph.area, minlength=m).astype(np.float64)
    perimeter = (np.bincount(of, weights=graph.perimeter, minlength=m) - internal).astype(np.float64)
    return AtomGraph(weight, merged, area, perimeter), of
