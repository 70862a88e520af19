"""Topology helpers for the demo district generator (:mod:`wangge.demo.district`).

Exact polygon coverages built by noding, adjacency read from shared segments (with
:func:`wangge.geo.partition.graph.shared_edges`), and contiguous, roughly balanced partitions of
an adjacency graph. Everything here works in a metric CRS and on plain arrays; nothing here
knows about codes or names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.cluster.vq import ClusterError, kmeans2
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

# The coverage's adjacency is the partitioner's (one way of reading shared edges); the district
# generator imports outer_vertices and shared_edges from here.
from wangge.geo.partition.graph import Adjacency, Geoms, shared_edges
from wangge.geo.partition.graph import outer_vertices as outer_vertices

_ATTEMPTS = 5


def voronoi_cells(points: NDArray[np.float64], extent: shapely.Geometry) -> Geoms:
    """Voronoi cells of ``points`` (in input order), extended to cover ``extent``."""
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
    return np.asarray(shapely.get_parts(cells), dtype=object)


def exact_cells(points: NDArray[np.float64], area: shapely.Geometry) -> Geoms:
    """Cut ``area`` into one polygon per point, as an exact coverage.

    The Voronoi edges are noded together with the boundary of ``area`` and polygonized, so
    neighbouring faces share identical vertices. Faces inside ``area`` go to the nearest point;
    pieces of a cell that are not edge-connected to its main piece join the neighbour sharing
    the longest edge. Raises ``RuntimeError`` if a point ends up without a cell.
    """
    vor = voronoi_cells(points, shapely.buffer(shapely.envelope(area), 1000.0))
    lines = np.concatenate([shapely.boundary(vor), [shapely.boundary(area)]])
    noded = shapely.union_all(lines)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))),
                       dtype=object)
    inner = shapely.point_on_surface(faces)
    keep = shapely.contains_xy(area, shapely.get_x(inner), shapely.get_y(inner))
    faces, inner = faces[keep], inner[keep]
    _, owner = cKDTree(points).query(shapely.get_coordinates(inner))
    adjacency, _ = shared_edges(faces)
    owner = make_contiguous(owner, adjacency, shapely.area(faces))
    if len(np.unique(owner)) != len(points):
        raise RuntimeError("a seed point has no cell; the seeds are too dense for the area")
    return dissolve(faces, owner, len(points))


def dissolve(geoms: Geoms, labels: NDArray[np.intp], n: int) -> Geoms:
    """``coverage_union_all`` of ``geoms`` per label ``0..n-1`` (the children's vertices kept)."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n + 1))
    out = np.empty(n, dtype=object)
    for i in range(n):
        members = geoms[order[bounds[i]:bounds[i + 1]]]
        out[i] = members[0] if len(members) == 1 else shapely.coverage_union_all(members)
    return out


def make_contiguous(labels: NDArray[np.intp], adjacency: Adjacency,
                    weight: NDArray[np.float64]) -> NDArray[np.intp]:
    """Make every label's nodes edge-connected.

    Per label the component of largest total ``weight`` stays; every other component joins the
    label it shares the longest boundary with (among main components), until nothing changes.
    Components with no neighbour of another label (islands) keep their label.
    """
    labels = np.asarray(labels, dtype=np.intp).copy()
    n = len(labels)
    coo = adjacency.tocoo()
    row, col, w = coo.row, coo.col, coo.data
    while True:
        same = labels[row] == labels[col]
        graph = csr_matrix((np.ones(int(same.sum())), (row[same], col[same])), shape=(n, n))
        ncomp, comp = connected_components(graph, directed=False)
        comp_weight = np.bincount(comp, weights=weight, minlength=ncomp)
        comp_label = np.empty(ncomp, dtype=np.intp)
        comp_label[comp] = labels
        order = np.lexsort((-comp_weight, comp_label))
        first = np.ones(ncomp, dtype=bool)
        first[1:] = comp_label[order][1:] != comp_label[order][:-1]
        is_main = np.zeros(ncomp, dtype=bool)
        is_main[order[first]] = True
        if is_main.all():
            return labels
        edge = ~is_main[comp[row]] & is_main[comp[col]] & (labels[row] != labels[col])
        if not edge.any():
            return labels
        stray, target, length = comp[row[edge]], labels[col[edge]], w[edge]
        pairs, inv = np.unique(np.column_stack([stray, target]), axis=0, return_inverse=True)
        total = np.bincount(inv.ravel(), weights=length)
        best = np.lexsort((-total, pairs[:, 0]))
        keep = np.ones(len(best), dtype=bool)
        keep[1:] = pairs[best][1:, 0] != pairs[best][:-1, 0]
        new_label = np.full(ncomp, -1, dtype=np.intp)
        new_label[pairs[best][keep, 0]] = pairs[best][keep, 1]
        moved = new_label[comp] >= 0
        labels[moved] = new_label[comp][moved]


def allocate(total: int, sizes: NDArray[np.intp], minimum: int = 1,
             per_child: int = 1) -> NDArray[np.intp]:
    """Split ``total`` children over parents in proportion to ``sizes`` (largest remainder).

    Every parent gets at least ``minimum`` children, and at most ``sizes // per_child`` (so
    that each child can get ``per_child`` units); the limits are relaxed if they cannot be met.
    """
    sizes = np.asarray(sizes, dtype=np.intp)
    most = np.maximum(sizes // per_child, 1)
    if most.sum() < total:
        most = sizes
    least = np.minimum(minimum, most) if len(sizes) * minimum <= total else np.ones_like(sizes)
    if not (least.sum() <= total <= most.sum()):
        raise ValueError(f"cannot split {total} children over parents of sizes {sizes.tolist()}")
    share = sizes / sizes.sum() * total
    out: NDArray[np.intp] = np.clip(np.floor(share).astype(np.intp), least, most)
    while out.sum() != total:
        gap = share - out
        if out.sum() < total:
            gap[out >= most] = -np.inf
            out[int(np.argmax(gap))] += 1
        else:
            gap[out <= least] = np.inf
            out[int(np.argmin(gap))] -= 1
    return out


def partition(points: NDArray[np.float64], adjacency: Adjacency, k: int,
              rng: np.random.Generator, *, tolerance: float = 0.3,
              min_size: int = 2) -> NDArray[np.intp]:
    """Split the nodes of a connected graph into ``k`` contiguous, roughly equal groups.

    k-means on the node positions, then contiguity (:func:`make_contiguous`), then single nodes
    moved from larger to adjacent smaller groups until every size is within ``tolerance`` of
    ``n / k`` (and at least ``min_size``) or no move keeps the donor group connected. If a group
    stays too small, it starts again from another k-means (a few times at most).
    Returns labels ``0..k-1``.
    """
    n = len(points)
    if k <= 1:
        return np.zeros(n, dtype=np.intp)
    if k > n:
        raise ValueError(f"cannot split {n} units into {k} groups")
    target = n / k
    lower = min(max(min_size, int(np.floor(target * (1 - tolerance)))), n // k)
    upper = max(int(np.ceil(target * (1 + tolerance))), -(-n // k))
    best: NDArray[np.intp] | None = None
    for _ in range(_ATTEMPTS):  # a group can get stuck below lower; start again if so
        labels = _kmeans_labels(points, k, rng)
        labels = make_contiguous(labels, adjacency, np.ones(n))
        labels = _fill_empty(labels, k, adjacency, points)
        labels = _balance(labels, k, adjacency, points, lower, upper)
        smallest = np.bincount(labels, minlength=k).min()
        if best is None or smallest > np.bincount(best, minlength=k).min():
            best = labels
        if smallest >= lower:
            break
    assert best is not None
    return best


def _kmeans_labels(points: NDArray[np.float64], k: int,
                   rng: np.random.Generator) -> NDArray[np.intp]:
    for _ in range(8):
        try:
            _, labels = kmeans2(points, k, iter=20, minit="++", missing="raise", rng=rng)
        except ClusterError:
            continue
        return np.asarray(labels, dtype=np.intp)
    # Every attempt left a cluster empty: start from nearest-of-k-random-nodes instead.
    centres = points[rng.choice(len(points), size=k, replace=False)]
    nearest: NDArray[np.intp] = np.asarray(cKDTree(centres).query(points)[1], dtype=np.intp)
    return nearest


def _fill_empty(labels: NDArray[np.intp], k: int, adjacency: Adjacency,
                points: NDArray[np.float64]) -> NDArray[np.intp]:
    """Give every empty label one node: a non-cut node of the largest group, far from its centre."""
    labels = labels.copy()
    nbrs = _neighbours(adjacency)
    for empty in np.setdiff1d(np.arange(k), labels):
        biggest = int(np.argmax(np.bincount(labels, minlength=k)))
        members = np.flatnonzero(labels == biggest)
        centre = points[members].mean(axis=0)
        far = members[np.argsort(-np.hypot(*(points[members] - centre).T), kind="stable")]
        for node in far:
            if _stays_connected(labels, int(node), nbrs):
                labels[node] = empty
                break
    return labels


def _neighbours(adjacency: Adjacency) -> list[list[int]]:
    indptr, indices = adjacency.indptr, adjacency.indices
    return [indices[indptr[i]:indptr[i + 1]].tolist() for i in range(adjacency.shape[0])]


def _stays_connected(labels: NDArray[np.intp], node: int, nbrs: list[list[int]]) -> bool:
    """Whether the (connected) group of ``node`` stays connected and non-empty without it.

    It does if the node's neighbours in the group still reach each other: first tried among
    those neighbours only (enough in most cases), then through the whole group.
    """
    group = labels[node]
    ring = [v for v in nbrs[node] if labels[v] == group]
    if len(ring) <= 1:
        return len(ring) == 1
    local = set(ring)
    if _reaches(ring[0], local, lambda v: v in local, nbrs):
        return True
    return _reaches(ring[0], local, lambda v: v != node and labels[v] == group, nbrs)


def _reaches(start: int, targets: set[int], allowed: Callable[[int], bool],
             nbrs: list[list[int]]) -> bool:
    """Whether a search from ``start`` through ``allowed`` nodes reaches all ``targets``."""
    left = set(targets) - {start}
    seen = {start}
    stack = [start]
    while stack and left:
        for v in nbrs[stack.pop()]:
            if v not in seen and allowed(v):
                seen.add(v)
                left.discard(v)
                stack.append(v)
    return not left


def _balance(labels: NDArray[np.intp], k: int, adjacency: Adjacency,
             points: NDArray[np.float64], lower: int, upper: int) -> NDArray[np.intp]:
    """Move boundary nodes between adjacent groups until sizes lie in ``[lower, upper]``.

    Each move goes from a group to an adjacent group at least two smaller, so the sum of squared
    sizes strictly falls and the loop ends.
    """
    labels = labels.copy()
    nbrs = _neighbours(adjacency)
    coo = adjacency.tocoo()
    row, col = coo.row, coo.col
    sizes = np.bincount(labels, minlength=k)
    sums = np.zeros((k, 2))
    np.add.at(sums, labels, points)
    for _ in range(20 * len(labels)):
        if sizes.min() >= lower and sizes.max() <= upper:
            break
        cross = labels[row] != labels[col]
        pairs = np.unique(labels[row[cross]] * k + labels[col[cross]])
        donors, takers = pairs // k, pairs % k
        gain = sizes[donors] - sizes[takers]
        donors, takers, gain = donors[gain >= 2], takers[gain >= 2], gain[gain >= 2]
        excess = np.maximum(sizes[donors] - upper, 0) + np.maximum(lower - sizes[takers], 0)
        moved = False
        for p in np.lexsort((-gain, -excess)):
            donor, taker = int(donors[p]), int(takers[p])
            node = _movable_node(labels, donor, taker, row, col, nbrs, points,
                                 sums / sizes[:, None])
            if node is None:
                continue
            labels[node] = taker
            sizes[donor] -= 1
            sizes[taker] += 1
            sums[donor] -= points[node]
            sums[taker] += points[node]
            moved = True
            break
        if not moved:
            break
    return labels


def _movable_node(labels: NDArray[np.intp], donor: int, taker: int, row: NDArray[np.int32],
                  col: NDArray[np.int32], nbrs: list[list[int]], points: NDArray[np.float64],
                  centres: NDArray[np.float64]) -> int | None:
    """The donor's node next to the taker that best fits the taker and keeps the donor whole."""
    edge = (labels[row] == donor) & (labels[col] == taker)
    candidates = np.unique(row[edge])
    if len(candidates) == 0:
        return None
    fit = (np.hypot(*(points[candidates] - centres[taker]).T)
           - np.hypot(*(points[candidates] - centres[donor]).T))
    for node in candidates[np.argsort(fit, kind="stable")]:
        if _stays_connected(labels, int(node), nbrs):
            return int(node)
    return None
