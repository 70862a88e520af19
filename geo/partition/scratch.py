"""A partition from scratch, ignoring the plan in force: the comparison point for the repair.

Each connected piece of the community gets ``k`` parts, the feasible count nearest to its
households over the middle of the bounds, and is cut by recursive spanning-tree bisection:
``k`` parts become ``⌊k/2⌋`` and ``⌈k/2⌉`` on a tree edge whose sides can hold those counts,
the most balanced and compact such cut of a few random trees. What is left out of bounds is
fixed as in the repair (without counting households moved), then compactness is improved.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from wangge.geo.partition.bisect import tree_cuts
from wangge.geo.partition.feasibility import (
    check_bounds,
    components,
    count_range,
    reasons_against,
    shortfall,
)
from wangge.geo.partition.graph import AtomGraph
from wangge.geo.partition.repair import TREES, fix_bounds, glued_problem, settle_small
from wangge.geo.partition.report import Partition, finish
from wangge.geo.partition.search import Parts, improve

__all__ = ["part_count", "scratch_partition"]

ROUNDS = 4  # rounds of TREES trees before a bisection settles for a cut that misses its counts


def part_count(households: int, minimum: int, maximum: int) -> int:
    """The feasible count of parts nearest to ``households / ((minimum + maximum) / 2)``.

    When no count is feasible, the one closest to feasible: ``ceil(households / maximum)``
    (at least 1).
    """
    fewest, most = count_range(households, minimum, maximum)
    ideal = round(2 * households / (minimum + maximum))
    if fewest > most:
        return max(fewest, 1)
    return int(min(max(ideal, fewest), most))


def _bisect(graph: AtomGraph, atoms: NDArray[np.intp], k: int, minimum: int, maximum: int,
            rng: np.random.Generator) -> list[NDArray[np.intp]]:
    if k <= 1 or len(atoms) <= 1:
        return [atoms]
    k1, k2 = k // 2, k - k // 2
    total = int(graph.weight[atoms].sum())
    best: tuple[tuple[int, float, float], NDArray[np.intp], NDArray[np.intp]] | None = None
    for _ in range(ROUNDS):
        cuts = tree_cuts(graph, atoms, rng, TREES)
        side, rest = cuts.households, total - cuts.households
        for ka, kb in {(k1, k2), (k2, k1)}:
            miss = shortfall(side, minimum, maximum, ka) + shortfall(rest, minimum, maximum, kb)
            balance = np.abs(side / ka - rest / kb)
            compact = cuts.compact_side + cuts.compact_rest
            i = int(np.lexsort((-compact, balance, miss))[0])
            key = (int(miss[i]), float(balance[i]), -float(compact[i]))
            if best is None or key < best[0]:
                parts = (cuts.side(i), cuts.rest(i)) if ka == k1 else (cuts.rest(i), cuts.side(i))
                best = (key, *parts)
        if best is not None and best[0][0] == 0:
            break
    if best is None:
        return [atoms]
    _, a, b = best
    return _bisect(graph, a, k1, minimum, maximum, rng) + _bisect(graph, b, k2, minimum, maximum,
                                                                    rng)


def scratch_partition(graph: AtomGraph, minimum: int = 300, maximum: int = 500, *,
                      groups: NDArray[np.integer] | None = None,
                      current: NDArray[np.integer] | None = None, seed: int = 0) -> Partition:
    """Partition one community's atoms from scratch (see the module docstring).

    ``current`` is not used to build the partition, only to report the households it moves.
    """
    started = time.perf_counter()
    check_bounds(minimum, maximum)
    if current is not None:
        current = np.asarray(current, dtype=np.int64)
        if current.shape != (graph.n,):
            raise ValueError(f"need one current label per atom ({graph.n}), got {current.shape}")
    if graph.n == 0:
        return finish(graph, np.zeros(0, dtype=np.intp), current, minimum, maximum, [], started)
    glued, of, _, members = glued_problem(graph, None, groups)
    reasons = reasons_against(glued, minimum, maximum, np.array([len(m) for m in members]),
                              members)
    rng = np.random.default_rng(seed)
    labels = np.zeros(glued.n, dtype=np.int64)
    comp = components(glued)
    next_label = 0
    for c in np.unique(comp):
        atoms = np.flatnonzero(comp == c)
        k = part_count(int(glued.weight[atoms].sum()), minimum, maximum)
        for piece in _bisect(glued, atoms, k, minimum, maximum, rng):
            labels[piece] = next_label
            next_label += 1
    parts = Parts(glued, labels, minimum, maximum)
    parts = fix_bounds(parts, rng, use_cost=False)
    improve(parts, use_cost=False)
    labels, reasons = settle_small(glued, parts.labels(), None, minimum, maximum, reasons)
    return finish(graph, labels[of], current, minimum, maximum, reasons, started)
