"""Repair the plan in force so every grid holds ``[minimum, maximum]`` households, moving few.

Starting from the current grids (each made contiguous: a grid in several pieces keeps its
heaviest piece), the repair alternates

1. single-atom moves across grid boundaries that lower the households outside the bounds
   (:func:`wangge.geo.partition.search.descend`), and
2. when those are stuck, the best structural step for a grid out of bounds: split it along a
   spanning-tree edge (the side that keeps fewer of the grid's own households leaves, so the
   fewest move, and both sides land in range or as close as the counts allow), or merge it
   with a neighbour, as it is or cut again in two (a ReCom step);

then improves boundary atoms while every bound holds: fewer households moved first, then
compactness (:func:`wangge.geo.partition.search.improve`). Compounds glued into one atom never
split; atoms never leave their community (the graph is one community's).
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from wangge.geo.partition.bisect import tree_cuts
from wangge.geo.partition.exhaustive import best_partition
from wangge.geo.partition.feasibility import (
    check_bounds,
    components,
    reasons_against,
    shortfall,
)
from wangge.geo.partition.graph import AtomGraph, glue
from wangge.geo.partition.report import Partition, Reason, finish, no_partition
from wangge.geo.partition.search import Parts, descend, improve

__all__ = ["fix_bounds", "glued_problem", "repair_partition", "split_part"]

TREES = 12  # spanning trees drawn per split
LOOKAHEAD = 4  # structural steps improved before one is chosen


def glued_problem(graph: AtomGraph, current: NDArray[np.integer] | None,
                  groups: NDArray[np.integer] | None
                  ) -> tuple[AtomGraph, NDArray[np.intp], NDArray[np.int64] | None, list[list[int]]]:
    """The graph with each group glued into one atom, the glued atom of each atom, the current
    grid of each glued atom (the one holding most of its households) and each one's members."""
    if groups is None:
        of = np.arange(graph.n, dtype=np.intp)
        glued = graph
    else:
        glued, of = glue(graph, np.asarray(groups))
    members: list[list[int]] = [[] for _ in range(glued.n)]
    for i, g in enumerate(of.tolist()):
        members[g].append(i)
    if current is None:
        return glued, of, None, members
    current = np.asarray(current, dtype=np.int64)
    cur = np.full(glued.n, -1, dtype=np.int64)
    for g, atoms in enumerate(members):
        held: dict[int, int] = {}
        for i in atoms:
            if current[i] >= 0:
                held[int(current[i])] = held.get(int(current[i]), 0) + int(graph.weight[i])
        if held:
            cur[g] = max(sorted(held), key=lambda c: held[c])
    return glued, of, cur, members


def contiguous_start(graph: AtomGraph, current: NDArray[np.int64]) -> NDArray[np.int64]:
    """Current labels with each grid's pieces apart: the heaviest piece keeps the label, other
    pieces and atoms without a grid become parts of their own."""
    coo = graph.adjacency.tocoo()
    same = (current[coo.row] == current[coo.col]) & (current[coo.row] >= 0)
    inside = csr_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])),
                        shape=(graph.n, graph.n))
    _, piece = connected_components(inside, directed=False)
    labels = current.copy()
    fresh = int(current.max(initial=-1)) + 1
    heaviest: dict[int, tuple[int, int]] = {}
    weight = np.bincount(piece, weights=graph.weight)
    for p in np.unique(piece):
        g = int(current[np.flatnonzero(piece == p)[0]])
        if g >= 0 and (g not in heaviest or weight[p] > heaviest[g][1]):
            heaviest[g] = (int(p), int(weight[p]))
    keep = {p for p, _ in heaviest.values()}
    for p in np.unique(piece):
        if int(p) not in keep:
            labels[piece == p] = fresh
            fresh += 1
    return labels


def split_part(parts: Parts, part: int, rng: np.random.Generator, use_cost: bool,
               single: bool = False, trees: int = TREES) -> Parts | None:
    """A copy of ``parts`` with ``part`` cut in two along the best spanning-tree edge.

    Best: both sides closest to a feasible part count (to one part each if ``single``), then
    (with ``use_cost``) the fewest of the part's own households leaving, then the most compact
    sides.
    """
    atoms = np.fromiter(sorted(parts.members[part]), dtype=np.intp)
    cuts = tree_cuts(parts.graph, atoms, rng, trees)
    if len(cuts) == 0:
        return None
    total = parts.pw[part]
    count = 1 if single else None
    miss = shortfall(cuts.households, parts.lo, parts.hi, count) + \
        shortfall(total - cuts.households, parts.lo, parts.hi, count)
    owner = parts.owner.get(part, -1)
    if use_cost and parts.current is not None and owner >= 0:
        own = parts.graph.weight[atoms] * (np.asarray(parts.current)[atoms] == owner)
    else:
        own = np.zeros(len(atoms), dtype=np.int64)
    side_own = cuts.inside.astype(np.int64) @ own
    rest_own = int(own.sum()) - side_own
    leaving = np.minimum(side_own, rest_own)
    best = int(np.lexsort((-(cuts.compact_side + cuts.compact_rest), leaving, miss))[0])
    # the side keeping more of the part's own households keeps the part; the other leaves
    if side_own[best] != rest_own[best]:
        side_keeps = bool(side_own[best] > rest_own[best])
    else:
        side_keeps = bool(cuts.households[best] * 2 > total)
    out = parts.copy()
    out.relabel(cuts.rest(best) if side_keeps else cuts.side(best))
    out.reown()
    return out


def _recombine(parts: Parts, part: int, other: int, rng: np.random.Generator,
               use_cost: bool) -> list[Parts | None]:
    """``part`` and its neighbour ``other`` merged (one part fewer: the descent that follows
    evens it with its neighbours), and their union cut again in two, into one part each side
    or into sides that each hold a feasible count (a ReCom step)."""
    merged = parts.copy()
    merged.relabel(sorted(merged.members[part]), to=other)
    merged.reown()
    return [merged, split_part(merged, other, rng, use_cost, single=True),
            split_part(merged, other, rng, use_cost)]


def _key(parts: Parts, use_cost: bool) -> tuple[int, int, float]:
    v, c, p = parts.score()
    return v, c if use_cost else 0, p


def fix_bounds(parts: Parts, rng: np.random.Generator, use_cost: bool = True,
               steps: int | None = None) -> Parts:
    """Take the best of the descent alone and each structural step followed by the descent,
    looking a few of them further (after :func:`improve`), while that lowers the violation."""
    limit = steps if steps is not None else 2 * len(parts.label) + 8
    for _ in range(limit):
        now = parts.violation()
        if now == 0:
            break
        # the descent alone competes with every structural step followed by the descent
        alone = parts.copy()
        descend(alone, use_cost)
        scored: list[tuple[tuple[int, int, float], int, Parts]] = [
            (_key(alone, use_cost), 0, alone)]
        for p in sorted(parts.members):
            weight = parts.pw[p]
            if parts.off(weight) == 0:
                continue
            options: list[Parts | None] = []
            if weight > parts.hi:
                options.append(split_part(parts, p, rng, use_cost))
                options.append(split_part(parts, p, rng, use_cost, single=True))
            for q in sorted(parts.neighbours_of(p)):
                options.extend(_recombine(parts, p, q, rng, use_cost))
            for option in options:
                if option is not None:
                    descend(option, use_cost)
                    scored.append((_key(option, use_cost), len(scored), option))
        scored.sort(key=lambda item: item[:2])
        # the few best after the descent are looked at once more, after the improvement
        finalists = []
        for key, i, option in scored[:LOOKAHEAD]:
            if use_cost and key[0] < now:
                option.reown()
                improve(option, use_cost)
                key = _key(option, use_cost)
            finalists.append((key, i, option))
        best_key, _, best = min(finalists, key=lambda item: item[:2]) if finalists else \
            (None, 0, None)
        if best is None or best_key is None or best_key[0] >= now:
            break
        parts = best
    return parts


def repair_partition(graph: AtomGraph, current: NDArray[np.integer], minimum: int = 300,
                     maximum: int = 500, *, groups: NDArray[np.integer] | None = None,
                     seed: int = 0) -> Partition:
    """Repair the current plan of one community (see the module docstring).

    ``graph`` holds the community's atoms (micro-grids), ``current`` the current grid of each
    (any ints, negative for none), ``groups`` the compound of each (negative for none; atoms of
    one compound stay together). Returns the partition with its households moved against
    ``current`` and the reasons the bounds cannot be met, if any.
    """
    started = time.perf_counter()
    check_bounds(minimum, maximum)
    current = np.asarray(current, dtype=np.int64)
    if current.shape != (graph.n,):
        raise ValueError(f"need one current label per atom ({graph.n}), got shape {current.shape}")
    if graph.n == 0:
        return finish(graph, np.zeros(0, dtype=np.intp), current, minimum, maximum, [], started)
    glued, of, cur, members = glued_problem(graph, current, groups)
    assert cur is not None
    reasons = reasons_against(glued, minimum, maximum, np.array([len(m) for m in members]),
                              members)
    rng = np.random.default_rng(seed)
    parts = Parts(glued, contiguous_start(glued, cur), minimum, maximum, cur)
    parts = fix_bounds(parts, rng, use_cost=True)
    parts.reown()
    improve(parts, use_cost=True)
    labels, reasons = settle_small(glued, parts.labels(), cur, minimum, maximum, reasons)
    return finish(graph, labels[of], current, minimum, maximum, reasons, started)


def settle_small(glued: AtomGraph, labels: NDArray[np.intp], current: NDArray[np.integer] | None,
                 minimum: int, maximum: int, reasons: list[Reason]
                 ) -> tuple[NDArray[np.intp], list[Reason]]:
    """A small community the search left out of range: try every partition (see
    :mod:`wangge.geo.partition.exhaustive`); the best one found, or a reason proving none."""
    k = int(labels.max()) + 1 if len(labels) else 0
    sums = np.bincount(labels, weights=glued.weight, minlength=k)
    if ((sums >= minimum) & (sums <= maximum)).all() or any(r.blocking for r in reasons) \
            or len(np.unique(components(glued))) != 1:
        return labels, reasons
    try:
        found, tried = best_partition(glued, minimum, maximum, current)
    except OverflowError:
        return labels, reasons
    if found is not None:
        return found, reasons
    return labels, [*reasons, no_partition(int(glued.weight.sum()), minimum, maximum, tried)]
