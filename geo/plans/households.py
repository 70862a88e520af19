"""Households of a plan: fixed points, each in the leaf (micro-grid) whose ground holds it.

The points never move; the leaves do. After an edit only the households inside the ground
that changed (before or after) are located again, against every current leaf, with the same
rule as a full pass: a point on a shared edge goes to the leaf with the lowest uid. So the
incremental answer equals the full one by construction, and the property test checks it.
"""

from __future__ import annotations

import copy

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.geo.plans.state import PlanState

NOWHERE = -1


class PlanHouseholds:
    """Household points (lon/lat, CGCS2000), residents per household and their leaf uids."""

    def __init__(self, lon: ArrayLike, lat: ArrayLike, residents: ArrayLike | None = None) -> None:
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        self.n = len(lon)
        located = np.isfinite(lon) & np.isfinite(lat)
        self.located = np.flatnonzero(located)
        self.is_located = located
        self.points = np.empty(self.n, dtype=object)
        self.points[self.located] = shapely.points(lon[located], lat[located])
        self.tree = shapely.STRtree(self.points[self.located])
        sizes = np.ones(self.n) if residents is None else np.asarray(residents, dtype=float)
        self.residents = np.where(np.isfinite(sizes) & (sizes > 0), sizes, 1.0)
        self.leaf: NDArray[np.intp] = np.full(self.n, NOWHERE, dtype=np.intp)

    def fork(self) -> PlanHouseholds:
        """The same households with leaves of their own: points, sizes and their index never
        change, so they are shared."""
        other = copy.copy(self)
        other.leaf = self.leaf.copy()
        return other

    def within(self, geoms: list[shapely.Geometry]) -> NDArray[np.intp]:
        """Households whose point touches any of ``geoms``."""
        if not geoms or len(self.located) == 0:
            return np.empty(0, dtype=np.intp)
        _, hit = self.tree.query(np.asarray(geoms, dtype=object), predicate="intersects")
        return self.located[np.unique(hit)]

    def locate(self, state: PlanState, which: NDArray[np.intp] | None = None) -> NDArray[np.intp]:
        """The leaf uid holding each household of ``which`` (all if None); NOWHERE if none."""
        which = self.located if which is None else which[self.is_located[which]]
        out = np.full(len(which), NOWHERE, dtype=np.intp)
        leaves = [u for u in state if not state.children.get(u.uid)]
        if not leaves or len(which) == 0:
            return out
        uids = np.array([u.uid for u in leaves], dtype=np.intp)
        tree = shapely.STRtree(np.array([u.geom for u in leaves], dtype=object))
        point, leaf = tree.query(self.points[which], predicate="intersects")
        owner = uids[leaf]
        order = np.lexsort((owner, point))
        point, owner = point[order], owner[order]
        first = np.r_[True, point[1:] != point[:-1]] if len(point) else np.empty(0, dtype=bool)
        out[point[first]] = owner[first]
        return out

    def locate_all(self, state: PlanState) -> None:
        self.leaf[:] = NOWHERE
        self.leaf[self.located] = self.locate(state)

    def relocate(self, state: PlanState, ground: list[shapely.Geometry]
                 ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """Locate again the households in ``ground``: (which, leaf before, leaf after)."""
        which = self.within(ground)
        before = self.leaf[which].copy()
        after = self.locate(state, which)
        self.leaf[which] = after
        return which, before, after


def unit_at(leaf: NDArray[np.intp], depth: int, parent: NDArray[np.intp],
            depths: NDArray[np.intp]) -> NDArray[np.intp]:
    """For each leaf uid, the uid of its ancestor at ``depth`` (NOWHERE if it has none).

    A leaf above ``depth`` (a grid without micro-grids, asked for micro-grids) has none.
    """
    out = leaf.copy()
    known = out >= 0
    for _ in range(4):
        up = known & (depths[np.where(known, out, 0)] > depth)
        if not up.any():
            break
        out[up] = parent[out[up]]
        known = out >= 0
    out[known & (depths[np.where(known, out, 0)] != depth)] = NOWHERE
    return out
