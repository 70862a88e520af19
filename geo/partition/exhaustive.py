"""Settling a small community the search left out of range, by trying every partition.

When the search still leaves a grid out of range, a small community (few atoms, few grids
allowed) is partitioned exhaustively: for each allowed count k, the part holding the lowest
remaining atom is every connected set of atoms holding it, within the bounds (each set once:
the classic extension of a connected set by one frontier atom, earlier frontier atoms barred
in later branches); the rest is partitioned the same way into k - 1 parts. Either partitions
within the bounds exist — the one moving fewest households is returned — or none does, which
proves the bounds impossible. The enumeration stops at ``budget`` sets (OverflowError).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from wangge.geo.partition.feasibility import count_range
from wangge.geo.partition.graph import AtomGraph
from wangge.geo.partition.report import match_to_current

MAX_ATOMS = 60
BUDGET = 300_000


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.used = 0

    def spend(self) -> None:
        self.used += 1
        if self.used > self.left:
            raise OverflowError("too many connected sets to try them all")


def _connected_sets(nbrs: list[list[int]], weight: NDArray[np.int64], root: int,
                    allowed: frozenset[int], maximum: int, budget: _Budget
                    ) -> Iterator[tuple[frozenset[int], int]]:
    """Every connected set of ``allowed`` atoms holding ``root`` weighing at most ``maximum``."""
    stack = [(frozenset({root}), int(weight[root]),
              tuple(b for b in nbrs[root] if b in allowed), frozenset[int]())]
    while stack:
        members, held, frontier, barred = stack.pop()
        budget.spend()
        yield members, held
        for i, atom in enumerate(frontier):
            if held + int(weight[atom]) > maximum:
                continue
            grown = members | {atom}
            shut = barred | frozenset(frontier[:i])
            fresh = tuple(b for b in nbrs[atom] if b in allowed and b not in grown
                          and b not in shut and b not in frontier)
            stack.append((grown, held + int(weight[atom]), frontier[i + 1:] + fresh, shut))


def _partitions(nbrs: list[list[int]], weight: NDArray[np.int64], atoms: frozenset[int], k: int,
                minimum: int, maximum: int, budget: _Budget) -> Iterator[list[frozenset[int]]]:
    """Every partition of ``atoms`` into ``k`` connected parts within the bounds."""
    total = int(weight[list(atoms)].sum())
    if not k * minimum <= total <= k * maximum:
        return
    root = min(atoms)
    for part, held in _connected_sets(nbrs, weight, root, atoms, maximum, budget):
        if held < minimum:
            continue
        rest = atoms - part
        if k == 1:
            if not rest:
                yield [part]
            continue
        for others in _partitions(nbrs, weight, rest, k - 1, minimum, maximum, budget):
            yield [part, *others]


def best_partition(graph: AtomGraph, minimum: int, maximum: int,
                   current: NDArray[np.integer] | None = None, budget: int = BUDGET
                   ) -> tuple[NDArray[np.intp] | None, int]:
    """The partition within the bounds moving fewest households, trying every one.

    Returns ``(labels, sets tried)``, labels None when no partition within the bounds exists.
    Raises OverflowError when the community is too large to try them all.
    """
    if graph.n > MAX_ATOMS or graph.n == 0:
        raise OverflowError("too many atoms to try every partition")
    adj = graph.adjacency.tocsr()
    nbrs = [[int(b) for b, w in zip(adj.indices[adj.indptr[i]:adj.indptr[i + 1]],
                                    adj.data[adj.indptr[i]:adj.indptr[i + 1]], strict=True)
             if w > 0] for i in range(graph.n)]
    weight = np.asarray(graph.weight, dtype=np.int64)
    fewest, most = count_range(int(weight.sum()), minimum, maximum)
    spent = _Budget(budget)
    best: tuple[int, NDArray[np.intp]] | None = None
    for k in range(fewest, most + 1):
        for parts in _partitions(nbrs, weight, frozenset(range(graph.n)), k, minimum, maximum,
                                 spent):
            labels = np.empty(graph.n, dtype=np.intp)
            for p, members in enumerate(parts):
                labels[list(members)] = p
            _, moved = match_to_current(labels, current, weight, k)
            if best is None or moved < best[0]:
                best = (moved, labels)
    return (None if best is None else best[1]), spent.used
