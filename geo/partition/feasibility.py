"""Whether a community can be cut into parts of ``[minimum, maximum]`` households, and why not.

Two conditions are necessary and checked here: no atom (micro-grid, or compound glued into one)
holds more than the maximum, and for each connected piece of the community some count ``k`` of
parts has ``k·minimum ≤ households ≤ k·maximum``, i.e. ``ceil(h/max) ≤ floor(h/min)``. They are
not sufficient (a heavy atom can leave no room around it); the search reports what it leaves.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from wangge.geo.partition.graph import AtomGraph
from wangge.geo.partition.report import Reason, atom_too_large, count_impossible, disconnected

__all__ = ["check_bounds", "components", "count_range", "shortfall"]


def check_bounds(minimum: int, maximum: int) -> None:
    """Refuse bounds that are not whole, positive and ordered."""
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
               for v in (minimum, maximum)):
        raise ValueError(f"bounds must be whole numbers of households, got {minimum!r}, {maximum!r}")
    if not 0 < minimum <= maximum:
        raise ValueError(f"need 0 < minimum <= maximum, got {minimum} and {maximum}")


def count_range(households: int, minimum: int, maximum: int) -> tuple[int, int]:
    """The fewest and most parts the bounds allow for ``households`` (empty when first > second)."""
    return -(-int(households) // maximum), int(households) // minimum


def shortfall(households: NDArray[np.integer] | int, minimum: int, maximum: int,
              parts: NDArray[np.integer] | int | None = None) -> NDArray[np.int64]:
    """Households by which a weight misses every feasible part count (0 when some count fits).

    With ``parts`` given, the count is fixed: the distance of ``households`` to
    ``[parts·minimum, parts·maximum]``. Otherwise the distance to the nearest such interval over
    all counts ``k ≥ 1`` (for ``households < minimum``, ``minimum - households``).
    """
    h = np.asarray(households, dtype=np.int64)
    if parts is not None:
        k = np.asarray(parts, dtype=np.int64)
        return np.maximum(k * minimum - h, 0) + np.maximum(h - k * maximum, 0)
    low = np.maximum(h // maximum, 1)  # the interval of k = h // max ends at or below h
    below_gap = np.maximum(h - low * maximum, 0)
    above_gap = np.maximum((low + 1) * minimum - h, 0)  # next interval starts above h
    fits = -(-h // maximum) <= h // minimum
    gap = np.where(h < minimum, minimum - h, np.minimum(below_gap, above_gap))
    return np.where(fits, 0, gap).astype(np.int64)


def components(graph: AtomGraph) -> NDArray[np.intp]:
    """The connected piece of each atom (edges of positive shared length)."""
    _, comp = connected_components(graph.adjacency, directed=False)
    return np.asarray(comp, dtype=np.intp)


def reasons_against(graph: AtomGraph, minimum: int, maximum: int,
                    glued_sizes: NDArray[np.intp] | None = None,
                    atom_members: list[list[int]] | None = None) -> list[Reason]:
    """Every necessary condition the community fails, at once (and whether it is in pieces).

    ``glued_sizes`` is, per atom, how many original atoms it stands for (more than one for a
    glued compound); ``atom_members`` lists those original atoms, for the reasons' detail.
    """
    out: list[Reason] = []
    for atom in np.flatnonzero(graph.weight > maximum):
        members = atom_members[atom] if atom_members is not None else [int(atom)]
        glued = glued_sizes is not None and int(glued_sizes[atom]) > 1
        out.append(atom_too_large(members, int(graph.weight[atom]), maximum, glued))
    comp = components(graph)
    ncomp = int(comp.max()) + 1 if graph.n else 0
    totals = np.bincount(comp, weights=graph.weight, minlength=ncomp).round().astype(np.int64)
    sizes = np.bincount(comp, minlength=ncomp)
    if ncomp > 1:
        out.append(disconnected(sizes.tolist(), totals.tolist()))
    for c in range(ncomp):
        fewest, most = count_range(int(totals[c]), minimum, maximum)
        if fewest > most or most == 0:  # most == 0: even one grid is below the minimum
            out.append(count_impossible(int(totals[c]), minimum, maximum, int(sizes[c]),
                                        None if ncomp == 1 else c))
    return out
