"""Micro-grids proposed for one grid, with buildings as atoms.

A micro-grid is "a building or a few" (DOMAIN.md): each building is an atom that is never
split, carrying its households. The grid's ground is shared among its buildings as Voronoi
cells clipped to the grid, cut in the stored lon/lat so the cells meet the grid's outline on
its own vertices; the cells' graph (shared edges in metres) is partitioned within [min, max]
households by the same repair as grids, starting from the current micro-grids, so few
households move. Each proposed micro-grid is the union of its buildings' cells: an outline
ready for a ``subdivide`` edit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.geo.crs import metric_crs_of, to_metric
from wangge.geo.errors import InputError
from wangge.geo.partition.graph import atom_graph
from wangge.geo.partition.repair import repair_partition
from wangge.geo.partition.report import Partition

NEW_SLOT = "new-{}"


@dataclass(frozen=True)
class MicrogridProposal:
    """``outlines`` per slot (a current micro-grid code or ``new-N``), lon/lat polygons."""

    grid: str
    outlines: dict[str, shapely.Geometry]
    households: dict[str, int]
    removed: tuple[str, ...]
    partition: Partition


def _cells(grid: shapely.Geometry, x: NDArray[np.float64], y: NDArray[np.float64]
           ) -> NDArray[np.object_]:
    """One cell of the grid per point (points distinct), as a coverage of the grid."""
    points = shapely.multipoints(np.column_stack([x, y]))
    cells = np.asarray(shapely.get_parts(shapely.voronoi_polygons(
        points, extend_to=shapely.envelope(grid), ordered=True)), dtype=object)
    return np.asarray(shapely.intersection(cells, grid), dtype=object)


def _union(cells: NDArray[np.object_]) -> shapely.Geometry:
    try:
        union = shapely.coverage_union_all(cells)
        if shapely.is_valid(union):
            return union
    except shapely.errors.GEOSException:
        pass  # clipped cells that do not meet exactly: the overlay union instead
    return shapely.union_all(cells)


def propose_microgrids(grid_code: str, grid: shapely.Geometry, x: ArrayLike, y: ArrayLike,
                       households: ArrayLike, current: ArrayLike, *, minimum: int = 10,
                       maximum: int = 150, seed: int = 0,
                       outlines_now: dict[str, shapely.Geometry] | None = None
                       ) -> MicrogridProposal:
    """Micro-grids for ``grid`` (lon/lat polygon) from its buildings at ``x, y`` (lon/lat).

    ``households`` per building; ``current`` the code of the micro-grid each building is in now
    (or None). Buildings at the same place count as one atom. A proposed micro-grid holding
    exactly the buildings of a current one keeps that one's outline (``outlines_now``), listed
    first, so a micro-grid that need not change does not.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    weight = np.asarray(households, dtype=np.int64)
    now = np.asarray(current, dtype=object)
    if not (len(x) == len(y) == len(weight) == len(now)):
        raise InputError("楼栋的坐标、户数与现有微网格数量不一致。",
                         "Buildings' coordinates, households and current micro-grids differ in "
                         "length.")
    inside = shapely.contains_xy(grid, x, y)
    x, y, weight, now = x[inside], y[inside], weight[inside], now[inside]
    if len(x) < 2:
        raise InputError(f"网格 {grid_code} 内楼栋不足两栋，无法划分微网格。",
                         f"Grid {grid_code} holds fewer than two buildings: nothing to divide.",
                         code=grid_code)
    places, atom_of = np.unique(np.round(np.column_stack([x, y]), 7), axis=0, return_inverse=True)
    atom_of = atom_of.ravel()
    n = len(places)
    atom_weight = np.bincount(atom_of, weights=weight, minlength=n).astype(np.int64)
    # the current micro-grid of a place: the one holding most of its households
    names = np.array(sorted({str(c) for c in now if c is not None}), dtype=object)
    index = {c: i for i, c in enumerate(names)}
    held = np.zeros((n, max(len(names), 1)))
    for a, c, w in zip(atom_of, now, weight, strict=True):
        if c is not None:
            held[a, index[str(c)]] += max(int(w), 1)
    atom_current = np.where(held.sum(axis=1) > 0, held.argmax(axis=1), -1)
    cells = _cells(grid, places[:, 0], places[:, 1])
    graph = atom_graph(to_metric(cells, metric_crs_of(cells)), atom_weight)
    part = repair_partition(graph, atom_current, minimum, maximum, seed=seed)
    kept_outlines: dict[str, shapely.Geometry] = {}
    drawn: dict[str, shapely.Geometry] = {}
    counts: dict[str, int] = {}
    fresh = 0
    for p in range(part.k):
        members = part.labels == p
        if part.matched[p] >= 0:
            slot = str(names[part.matched[p]])
            same = np.array_equal(members, atom_current == part.matched[p])
        else:
            fresh += 1
            slot, same = NEW_SLOT.format(fresh), False
        if same and outlines_now and slot in outlines_now:
            kept_outlines[slot] = outlines_now[slot]
        else:
            drawn[slot] = _union(cells[members])
        counts[slot] = int(part.households[p])
    outlines = {**kept_outlines, **drawn}
    kept = {s for s in outlines if not s.startswith("new-")}
    return MicrogridProposal(grid_code, outlines, counts,
                             tuple(sorted(set(names.astype(str)) - kept)), part)
