"""What an edit (or a whole plan) does: who moves, counts against ranges, shape of units.

Households per unit come from each household's leaf and the tree above it; moves compare a
household's grid and micro-grid before and after. Compactness is Polsby–Popper (4πA/P²)
measured in metres; a unit is contiguous when its ground is one polygon.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wangge.geo.crs import area_m2, length_m, metric_crs_of
from wangge.geo.levels import Level
from wangge.geo.plans.ground import pieces, polsby_popper
from wangge.geo.plans.households import NOWHERE, PlanHouseholds, unit_at
from wangge.geo.plans.state import PlanState, Unit

# Households per unit. Grids: 300–500, the range local rules commonly publish for urban grids
# (DOMAIN.md: Haikou 2020, an Anhui county). Micro-grids: "a building or a few, dozens of
# households" (DOMAIN.md); 10–150 flags empty slivers and whole compounds left in one.
DEFAULT_RANGES: dict[Level, tuple[int, int]] = {Level.GRID: (300, 500), Level.MICROGRID: (10, 150)}


@dataclass(frozen=True)
class Tree:
    """The hierarchy as arrays by uid, with codes: a snapshot taken before or after an edit."""

    parent: NDArray[np.intp]
    depth: NDArray[np.intp]
    codes: dict[int, str]

    @classmethod
    def of(cls, state: PlanState) -> Tree:
        parent, depth = state.arrays()
        return cls(parent, depth, {u.uid: u.code for u in state})

    def code_at(self, uids: NDArray[np.intp]) -> NDArray[np.object_]:
        """The code of each uid (None for NOWHERE or a uid not in the tree)."""
        size = max(len(self.parent), max(self.codes, default=-1) + 1)
        table = np.full(size + 1, None, dtype=object)   # the last slot stands for no unit
        table[np.fromiter(self.codes.keys(), dtype=np.intp, count=len(self.codes))] = \
            list(self.codes.values())
        return table[np.where((uids >= 0) & (uids < size), uids, size)]

    def at(self, leaf: NDArray[np.intp], level: Level) -> NDArray[np.intp]:
        size = len(self.parent)
        inside = (leaf >= 0) & (leaf < size)
        out = np.full(len(leaf), NOWHERE, dtype=np.intp)
        out[inside] = unit_at(leaf[inside], level.depth, self.parent, self.depth)
        return out


def moves(households: PlanHouseholds, which: NDArray[np.intp], leaf_before: NDArray[np.intp],
          leaf_after: NDArray[np.intp], before: Tree, after: Tree, level: Level = Level.GRID
          ) -> dict[str, Any]:
    """Households of ``which`` whose ``level`` unit changed: totals and the from → to table."""
    a = before.at(leaf_before, level)
    b = after.at(leaf_after, level)
    from_codes, to_codes = before.code_at(a), after.code_at(b)
    moved = from_codes != to_codes
    residents = households.residents[which[moved]]
    table: Counter[tuple[str | None, str | None]] = Counter()
    people: Counter[tuple[str | None, str | None]] = Counter()
    for f, t, r in zip(from_codes[moved], to_codes[moved], residents, strict=True):
        table[(f, t)] += 1
        people[(f, t)] += r
    rows = [{"from": f, "to": t, "households": n, "residents": int(people[(f, t)])}
            for (f, t), n in sorted(table.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    return {"level": level.value, "households": int(moved.sum()),
            "residents": int(residents.sum()), "from_to": rows}


def counts(households: PlanHouseholds, tree: Tree, level: Level
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Households and residents per uid at ``level`` (arrays indexed by uid)."""
    owner = tree.at(households.leaf, level)
    inside = owner >= 0
    size = len(tree.parent)
    n = np.bincount(owner[inside], minlength=size).astype(float)
    people = np.bincount(owner[inside], weights=households.residents[inside], minlength=size)
    return n, people


@dataclass
class UnitStats:
    code: str
    name: str
    level: str
    parent_code: str | None
    households: int
    residents: int
    range: tuple[int, int] | None
    status: str               # "low", "ok", "high" or "none" (no range for this level)
    parts: int                # polygons of its ground: 1 = contiguous
    polsby_popper: float
    locked: bool
    official: bool
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "name": self.name, "level": self.level,
            "parent_code": self.parent_code, "households": self.households,
            "residents": self.residents,
            "range": list(self.range) if self.range else None, "status": self.status,
            "contiguous": self.parts == 1, "parts": self.parts,
            "polsby_popper": round(self.polsby_popper, 4), "locked": self.locked,
            "official": self.official,
        }


def unit_stats(state: PlanState, units: Iterable[Unit], households: PlanHouseholds | None,
               ranges: dict[Level, tuple[int, int]]) -> list[UnitStats]:
    """Households, range status, contiguity and compactness of ``units``."""
    units = sorted(units, key=lambda u: (u.level.depth, u.code))
    if not units:
        return []
    geoms = np.array([u.geom for u in units], dtype=object)
    metric = metric_crs_of(geoms)
    areas, lengths = area_m2(geoms, metric), length_m(geoms, metric)
    tree = Tree.of(state)
    per_level: dict[Level, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    out = []
    for unit, area, length in zip(units, areas, lengths, strict=True):
        if households is not None and unit.level not in per_level:
            per_level[unit.level] = counts(households, tree, unit.level)
        n, people = per_level.get(unit.level, (np.zeros(1), np.zeros(1)))
        hh = int(n[unit.uid]) if unit.uid < len(n) else 0
        res = int(people[unit.uid]) if unit.uid < len(people) else 0
        bounds = ranges.get(unit.level)
        status = "none" if bounds is None or households is None else \
            "low" if hh < bounds[0] else "high" if hh > bounds[1] else "ok"
        out.append(UnitStats(unit.code, unit.name, unit.level.value, state.parent_code(unit), hh,
                             res, bounds, status, len(pieces(unit.geom)),
                             polsby_popper(float(area), float(length)), unit.locked,
                             unit.official))
    return out
