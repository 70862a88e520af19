"""Cutting a connected set of atoms in two along an edge of a random spanning tree.

Removing one edge of a spanning tree leaves two connected sides, so every candidate cut keeps
both sides contiguous (the idea behind GerryChain's ReCom). :func:`tree_cuts` draws a few trees
and returns every one of their cuts with what the callers score them by: the households of the
side below the edge and the exact Polsby–Popper compactness of both sides (``inside`` lets
callers add any other per-atom sum, such as the households of one current grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, triu
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from wangge.geo.partition.graph import AtomGraph

__all__ = ["Cuts", "tree_cuts"]


@dataclass(frozen=True)
class Cuts:
    """All cuts of the drawn trees; cut ``i`` separates ``side(i)`` from the rest of ``atoms``."""

    atoms: NDArray[np.intp]
    inside: NDArray[np.bool_]         # (cuts, len(atoms)): which atoms are on the cut-off side
    households: NDArray[np.int64]     # of the cut-off side
    compact_side: NDArray[np.float64]
    compact_rest: NDArray[np.float64]
    boundary_m: NDArray[np.float64]   # shared length between the two sides

    def side(self, i: int) -> NDArray[np.intp]:
        return self.atoms[self.inside[i]]

    def rest(self, i: int) -> NDArray[np.intp]:
        return self.atoms[~self.inside[i]]

    def __len__(self) -> int:
        return len(self.households)


def _polsby(area: NDArray[np.float64], perimeter: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter ** 2, 0.0)


def tree_cuts(graph: AtomGraph, atoms: NDArray[np.intp], rng: np.random.Generator,
              trees: int) -> Cuts:
    """Every edge cut of ``trees`` random spanning trees of the (connected) ``atoms``.

    Tree edges get random weights scaled down by shared length, so long shared edges tend to
    stay inside a tree and cuts run along short boundaries (compact sides). Duplicate cuts (the
    same side from two trees) are kept; callers only pick the best.
    """
    atoms = np.asarray(atoms, dtype=np.intp)
    n = len(atoms)
    empty = np.zeros(0)
    if n < 2:
        return Cuts(atoms, np.zeros((0, n), dtype=bool), empty.astype(np.int64), empty, empty,
                    empty)
    sub = graph.adjacency[atoms][:, atoms].tocsr()
    dense = sub.toarray()
    weight = graph.weight[atoms]
    area, perim = graph.area[atoms], graph.perimeter[atoms]
    # All trees at once: ``trees`` copies of the graph side by side, each joined to one extra
    # root node by a single edge, so one spanning-tree and one search serve them all.
    edges = triu(sub, k=1).tocoo()
    copies = np.repeat(np.arange(trees) * n, len(edges.data))
    # random weights, smaller on long shared edges: those tend to stay inside a tree
    weights = rng.random(trees * len(edges.data)) / np.sqrt(np.tile(np.maximum(edges.data, 1e-9),
                                                                      trees))
    top = trees * n
    roots = np.arange(trees) * n + rng.integers(n, size=trees)
    rows = np.concatenate([np.tile(edges.row, trees) + copies, np.full(trees, top)])
    cols = np.concatenate([np.tile(edges.col, trees) + copies, roots])
    data = np.maximum(np.concatenate([weights, np.ones(trees)]), 1e-12)  # a zero drops the edge
    forest = minimum_spanning_tree(coo_matrix((data, (rows, cols)), shape=(top + 1, top + 1)))
    order, parent = breadth_first_order(forest, top, directed=False, return_predecessors=True)
    if len(order) < top + 1:
        raise ValueError("tree_cuts needs a connected set of atoms")
    below = np.zeros((top + 1, n), dtype=bool)
    below[np.arange(top), np.arange(top) % n] = True
    for v in order[:0:-1].tolist():  # leaves first; every node but the extra root
        below[parent[v]] |= below[v]
    cut = np.setdiff1d(np.arange(top), roots)  # the tree edge above each non-root node
    inside = below[cut]
    x = inside.astype(np.float64)
    internal = ((x @ dense) * x).sum(axis=1)            # shared length inside the side, twice
    side_shared = x @ dense.sum(axis=1)                 # all shared length of the side's atoms
    boundary = side_shared - internal
    rest_internal = dense.sum() - 2 * side_shared + internal
    area_side = x @ area
    perim_side = x @ perim - internal
    perim_rest = perim.sum() - x @ perim - rest_internal
    return Cuts(atoms, inside, (x @ weight).round().astype(np.int64), _polsby(area_side, perim_side),
                _polsby(area.sum() - area_side, perim_rest), boundary)
