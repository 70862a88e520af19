"""What a partition reports: the labels, sizes, bound violations, households moved, compactness,
and why a community cannot be partitioned within the bounds (in Chinese and English).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from wangge.geo.partition.graph import AtomGraph

__all__ = ["Partition", "Reason", "Verdict", "finish", "match_to_current"]

# feasible: every part within bounds; infeasible: proven impossible (see the reasons), the result
# is the best found; unsolved: not proven impossible, but the search left parts out of bounds.
Verdict = Literal["feasible", "infeasible", "unsolved"]


@dataclass(frozen=True)
class Reason:
    """One finding about a community: ``code`` for programs, messages for people, ``detail`` data.

    ``blocking`` reasons prove that no partition within the bounds exists; the others (a community
    in several pieces) are said but do not by themselves make the bounds impossible.
    """

    code: str
    message_zh: str
    message_en: str
    blocking: bool = True
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message_zh, "message_en": self.message_en,
                "blocking": self.blocking, "detail": self.detail}


def atom_too_large(atoms: list[int], households: int, maximum: int, glued: bool) -> Reason:
    what_zh, what_en = ("小区（其微网格须划入同一网格）", "compound (its micro-grids stay in one grid)") \
        if glued else ("微网格", "micro-grid")
    return Reason("atom_too_large",
                  f"{what_zh}有 {households} 户，超过每网格上限 {maximum} 户，无法不拆分而满足上限。",
                  f"A {what_en} holds {households} households, more than the maximum of {maximum} "
                  "per grid: the maximum cannot be met without splitting it.",
                  detail={"atoms": atoms, "households": households, "maximum": maximum,
                          "glued": glued})


def count_impossible(households: int, minimum: int, maximum: int, atoms: int,
                     component: int | None) -> Reason:
    fewest, most = -(-households // maximum), households // minimum
    where_zh = "社区" if component is None else f"社区的第 {component + 1} 个连通片"
    where_en = "the community" if component is None else f"piece {component + 1} of the community"
    if most == 0:
        zh = f"{where_zh}共 {households} 户，少于每网格下限 {minimum} 户，一个网格也不够下限。"
        en = (f"{where_en} holds {households} households, fewer than the minimum of {minimum} "
              "per grid: even a single grid is below the minimum.")
    else:
        zh = (f"{where_zh}共 {households} 户：按上限 {maximum} 户至少要 {fewest} 个网格，按下限 "
              f"{minimum} 户至多只能有 {most} 个网格，无解。")
        en = (f"{where_en} holds {households} households: the maximum of {maximum} needs at least "
              f"{fewest} grids, the minimum of {minimum} allows at most {most}.")
    return Reason("count_impossible", zh, en,
                  detail={"households": households, "minimum": minimum, "maximum": maximum,
                          "fewest_grids": fewest, "most_grids": most, "atom_count": atoms,
                          "component": component})


def disconnected(sizes: list[int], households: list[int]) -> Reason:
    return Reason("disconnected",
                  f"社区的微网格不连通，分为 {len(sizes)} 片（各 {sizes} 个微网格），每片单独划分。",
                  f"The community's micro-grids are not connected: {len(sizes)} pieces "
                  f"({sizes} micro-grids), each partitioned on its own.",
                  blocking=False, detail={"pieces": len(sizes), "atom_counts": sizes,
                                          "households": households})


def no_partition(households: int, minimum: int, maximum: int, tried: int) -> Reason:
    fewest, most = -(-households // maximum), households // minimum
    count_zh = f"{fewest}" if fewest == most else f"{fewest}–{most}"
    return Reason("no_partition",
                  f"该社区 {households} 户可分成 {count_zh} 个网格，但没有一种分法能让每个网格都连片且在 "
                  f"{minimum}–{maximum} 户之间（已穷举 {tried} 种连片组合）。",
                  f"The community's {households} households allow {count_zh} grids, but no "
                  f"partition leaves every grid contiguous and within {minimum}–{maximum} "
                  f"households (all {tried} contiguous sets tried).",
                  detail={"households": households, "minimum": minimum, "maximum": maximum,
                          "grids": [fewest, most], "sets_tried": tried})


def not_found(below: int, above: int) -> Reason:
    return Reason("not_found",
                  f"未证明无解，但搜索后仍有 {below} 个网格低于下限、{above} 个高于上限。",
                  f"Not proven impossible, but the search left {below} grids below the minimum "
                  f"and {above} above the maximum.",
                  blocking=False, detail={"below": below, "above": above})


@dataclass(frozen=True)
class Partition:
    """A partition of atoms into parts ``0..k-1`` (numeric core result).

    ``labels`` per atom; per part ``households`` and ``compactness`` (Polsby–Popper of the union,
    exact); ``moved`` is the households whose grid changes against ``current`` under the best
    one-to-one matching of parts to current grids (``matched[p]`` is the current label part
    ``p`` continues, or -1 for a new grid); ``reasons`` say why bounds cannot be met.
    """

    labels: NDArray[np.intp]
    households: NDArray[np.int64]
    compactness: NDArray[np.float64]
    matched: NDArray[np.intp]
    moved: int
    minimum: int
    maximum: int
    reasons: tuple[Reason, ...]
    seconds: float = 0.0

    @property
    def k(self) -> int:
        return len(self.households)

    @property
    def below(self) -> int:
        """Parts with fewer households than the minimum."""
        return int((self.households < self.minimum).sum())

    @property
    def above(self) -> int:
        """Parts with more households than the maximum."""
        return int((self.households > self.maximum).sum())

    @property
    def violations(self) -> int:
        return self.below + self.above

    @property
    def verdict(self) -> Verdict:
        if any(r.blocking for r in self.reasons):
            return "infeasible"
        return "feasible" if self.violations == 0 else "unsolved"


def match_to_current(labels: NDArray[np.intp], current: NDArray[np.integer] | None,
                     weight: NDArray[np.integer], k: int) -> tuple[NDArray[np.intp], int]:
    """The current grid each part continues (one-to-one, most households kept) and the moved.

    ``current[i] < 0`` marks an atom without a current grid: it counts as neither kept nor
    moved. A part that keeps no household of any grid is new (-1).
    """
    matched = np.full(k, -1, dtype=np.intp)
    if current is None:
        return matched, 0
    current = np.asarray(current, dtype=np.int64)
    has = current >= 0
    grids, col = np.unique(current[has], return_inverse=True)
    if len(grids) == 0:
        return matched, 0
    overlap = np.zeros((k, len(grids)))
    np.add.at(overlap, (labels[has], col.ravel()), weight[has])
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    kept = overlap[rows, cols]
    matched[rows[kept > 0]] = grids[cols[kept > 0]]
    return matched, int(round(float(weight[has].sum() - kept.sum())))


def finish(graph: AtomGraph, labels: NDArray[np.intp], current: NDArray[np.integer] | None,
           minimum: int, maximum: int, reasons: list[Reason], started: float) -> Partition:
    """The :class:`Partition` of ``labels`` (``0..k-1`` per atom of ``graph``)."""
    labels = np.asarray(labels, dtype=np.intp)
    k = int(labels.max()) + 1 if len(labels) else 0
    households = np.bincount(labels, weights=graph.weight, minlength=k).round().astype(np.int64)
    matched, moved = match_to_current(labels, current, graph.weight, k)
    below = int((households < minimum).sum())
    above = int((households > maximum).sum())
    if (below or above) and not any(r.blocking for r in reasons):
        reasons = [*reasons, not_found(below, above)]
    return Partition(labels, households, graph.compactness(labels, k), matched, moved, minimum,
                     maximum, tuple(reasons), time.perf_counter() - started)
