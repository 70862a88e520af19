"""The local search shared by the repair and the from-scratch partition.

:class:`Parts` holds a partition of the atoms of one community while it is being improved: the
members, households, area and union perimeter of each part, and which current grid each part
continues (its *owner*, matched one-to-one). Moving an atom changes only the two parts involved,
so a move is scored in constant time and the donor part is checked to stay connected.

Objectives, in order: households outside the bounds (the *violation*: below the minimum by, plus
above the maximum by, summed over parts), households moved from their current grid (the
*cost*), then compactness (Polsby–Popper of the unions, summed).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from wangge.geo.partition.graph import AtomGraph

__all__ = ["Parts", "descend", "improve"]

_EPS = 1e-9


class Parts:
    """A partition being searched (labels are arbitrary ints; empty parts are dropped)."""

    def __init__(self, graph: AtomGraph, labels: NDArray[np.integer], minimum: int, maximum: int,
                 current: NDArray[np.integer] | None = None) -> None:
        self.graph = graph
        self.lo, self.hi = int(minimum), int(maximum)
        adj = graph.adjacency
        self.nbrs: list[list[int]] = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]].tolist()
                                      for i in range(graph.n)]
        self.edge: list[dict[int, float]] = [
            dict(zip(self.nbrs[i], adj.data[adj.indptr[i]:adj.indptr[i + 1]].tolist(), strict=True))
            for i in range(graph.n)]
        self.w: list[int] = graph.weight.tolist()
        self.area: list[float] = graph.area.tolist()
        self.perim: list[float] = graph.perimeter.tolist()
        self.current: list[int] | None = None if current is None else \
            np.asarray(current, dtype=np.int64).tolist()
        self.label: list[int] = np.asarray(labels, dtype=np.int64).tolist()
        self.owner: dict[int, int] = {}
        self._rebuild()
        self.reown()

    # --- bookkeeping ---------------------------------------------------------------------------

    def _rebuild(self) -> None:
        self.members: dict[int, set[int]] = {}
        for a, p in enumerate(self.label):
            self.members.setdefault(p, set()).add(a)
        self.pw: dict[int, int] = {}
        self.parea: dict[int, float] = {}
        self.pperim: dict[int, float] = {}
        for p, atoms in self.members.items():
            self.pw[p] = sum(self.w[a] for a in atoms)
            self.parea[p] = sum(self.area[a] for a in atoms)
            self.pperim[p] = sum(self.perim[a] for a in atoms) - sum(
                length for a in atoms for b, length in self.edge[a].items() if self.label[b] == p)
        self.next_label = max(self.members, default=-1) + 1

    def copy(self) -> Parts:
        other = object.__new__(Parts)
        other.__dict__.update(self.__dict__)
        other.label = list(self.label)
        other.owner = dict(self.owner)
        other._rebuild()
        return other

    def reown(self) -> None:
        """Match parts to current grids one-to-one, keeping the most households in place."""
        self.owner = {p: -1 for p in self.members}
        if self.current is None:
            return
        parts = sorted(self.members)
        grids = sorted({g for g in self.current if g >= 0})
        if not grids:
            return
        row = {p: i for i, p in enumerate(parts)}
        col = {g: j for j, g in enumerate(grids)}
        overlap = np.zeros((len(parts), len(grids)))
        for a, p in enumerate(self.label):
            g = self.current[a]
            if g >= 0:
                overlap[row[p], col[g]] += self.w[a]
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        for i, j in zip(rows, cols, strict=True):
            if overlap[i, j] > 0:
                self.owner[parts[i]] = grids[j]

    def labels(self) -> NDArray[np.intp]:
        """Labels ``0..k-1`` in order of first appearance."""
        _, first, inverse = np.unique(np.asarray(self.label), return_index=True,
                                      return_inverse=True)
        rank = np.argsort(np.argsort(first))
        return rank[inverse.ravel()].astype(np.intp)

    # --- objectives ----------------------------------------------------------------------------

    def off(self, households: int) -> int:
        """Households by which a part of ``households`` misses the bounds."""
        return max(0, self.lo - households) + max(0, households - self.hi)

    def violation(self) -> int:
        return sum(self.off(w) for w in self.pw.values())

    def cost_at(self, atom: int, part: int) -> int:
        """Households of ``atom`` moved if it sits in ``part``."""
        if self.current is None or self.current[atom] < 0:
            return 0
        return 0 if self.owner.get(part, -1) == self.current[atom] else self.w[atom]

    def cost(self) -> int:
        return sum(self.cost_at(a, p) for a, p in enumerate(self.label))

    def polsby(self, part: int) -> float:
        perim = self.pperim[part]
        return 4 * math.pi * self.parea[part] / perim ** 2 if perim > 0 else 0.0

    def score(self) -> tuple[int, int, float]:
        return self.violation(), self.cost(), -sum(self.polsby(p) for p in self.members)

    # --- moves ---------------------------------------------------------------------------------

    def stays_connected(self, atom: int) -> bool:
        """Whether the part of ``atom`` stays connected without it (an emptied part does)."""
        part = self.label[atom]
        ring = [b for b in self.nbrs[atom] if self.label[b] == part]
        size = len(self.members[part])
        if size == 1:
            return True
        if len(ring) <= 1:
            return len(ring) == 1
        seen = {ring[0]}
        todo = deque([ring[0]])
        need = set(ring)
        need.discard(ring[0])
        while todo and need:
            for b in self.nbrs[todo.popleft()]:
                if b != atom and b not in seen and self.label[b] == part:
                    seen.add(b)
                    need.discard(b)
                    todo.append(b)
        return not need

    def shared_with(self, atom: int, part: int) -> float:
        return sum(length for b, length in self.edge[atom].items()
                   if self.label[b] == part and b != atom)

    def delta_violation(self, atom: int, to: int) -> int:
        """Change of the violation if ``atom`` moves to part ``to`` (the cheap part of delta)."""
        frm = self.label[atom]
        w = self.w[atom]
        off_frm = 0 if len(self.members[frm]) == 1 else self.off(self.pw[frm] - w)
        return off_frm + self.off(self.pw[to] + w) - self.off(self.pw[frm]) - self.off(self.pw[to])

    def delta(self, atom: int, to: int) -> tuple[int, int, float]:
        """Change of (violation, cost, compactness) if ``atom`` moves to part ``to``."""
        frm = self.label[atom]
        w = self.w[atom]
        emptied = len(self.members[frm]) == 1
        off_frm = 0 if emptied else self.off(self.pw[frm] - w)
        dv = off_frm + self.off(self.pw[to] + w) - self.off(self.pw[frm]) - self.off(self.pw[to])
        dc = self.cost_at(atom, to) - self.cost_at(atom, frm)
        a = self.area[atom]
        perim_frm = self.pperim[frm] - self.perim[atom] + 2 * self.shared_with(atom, frm)
        perim_to = self.pperim[to] + self.perim[atom] - 2 * self.shared_with(atom, to)
        new = (0.0 if emptied else _pp(self.parea[frm] - a, perim_frm)) + \
            _pp(self.parea[to] + a, perim_to)
        return dv, dc, new - self.polsby(frm) - self.polsby(to)

    def move(self, atom: int, to: int) -> None:
        frm = self.label[atom]
        self.pperim[frm] += -self.perim[atom] + 2 * self.shared_with(atom, frm)
        self.pperim[to] += self.perim[atom] - 2 * self.shared_with(atom, to)
        self.label[atom] = to
        self.members[frm].discard(atom)
        self.members[to].add(atom)
        self.pw[frm] -= self.w[atom]
        self.pw[to] += self.w[atom]
        self.parea[frm] -= self.area[atom]
        self.parea[to] += self.area[atom]
        if not self.members[frm]:  # the part is gone
            del self.members[frm], self.pw[frm], self.parea[frm], self.pperim[frm]
            self.owner.pop(frm, None)

    def relabel(self, atoms: NDArray[np.intp] | list[int], to: int | None = None) -> int:
        """Put ``atoms`` into part ``to`` (a new part by default); returns the part."""
        part = self.next_label if to is None else to
        for a in np.asarray(atoms, dtype=np.intp).tolist():
            self.label[a] = part
        owner = dict(self.owner)
        self._rebuild()
        self.owner = {p: owner.get(p, -1) for p in self.members}
        return part

    def boundary_moves(self) -> list[tuple[int, int]]:
        """Every (atom, neighbouring part) pair."""
        out = []
        for a, p in enumerate(self.label):
            seen: set[int] = set()
            for b in self.nbrs[a]:
                q = self.label[b]
                if q != p and q not in seen:
                    seen.add(q)
                    out.append((a, q))
        return out

    def neighbours_of(self, part: int) -> set[int]:
        return {self.label[b] for a in self.members[part] for b in self.nbrs[a]} - {part}


def _pp(area: float, perim: float) -> float:
    return 4 * math.pi * area / perim ** 2 if perim > 0 else 0.0


def descend(parts: Parts, use_cost: bool = True) -> bool:
    """Move boundary atoms while that lowers the violation (best move first).

    Best: the fewest households moved per household brought within bounds, then the most
    brought, then compactness. When no single move helps, a chain of two does: an atom leaves
    an oversized part for a neighbour that passes an atom on to a third part (or the mirror
    image, for an undersized part). Returns whether anything moved.
    """
    moved = False
    for _ in range(4 * len(parts.label) + 16):
        if parts.violation() == 0:
            break
        options = []
        for a, q in parts.boundary_moves():
            if parts.delta_violation(a, q) >= 0:
                continue
            dv, dc, dp = parts.delta(a, q)
            if dv < 0:
                options.append(((dc if use_cost else 0) / -dv, dv, -dp, a, q))
        options.sort()
        for *_, a, q in options:
            if parts.stays_connected(a):
                parts.move(a, q)
                moved = True
                break
        else:
            if not _chain(parts, use_cost):
                break
            moved = True
    return moved


def _chain(parts: Parts, use_cost: bool) -> bool:
    """Apply the best two-move chain through a neighbour that lowers the violation, if any."""
    best: tuple[float, int, float, int, int, int, int] | None = None
    for p in sorted(parts.members):
        if parts.off(parts.pw[p]) == 0 or len(parts.members[p]) == 1:
            continue
        over = parts.pw[p] > parts.hi
        # over: a leaves p for q, then b leaves q for r; under: a comes from q, b from r refills q
        firsts = [(a, q) for a, q in parts.boundary_moves()
                  if (parts.label[a] == p if over else q == p)]
        for a, q in firsts:
            frm = parts.label[a]
            if len(parts.members[frm]) == 1 or not parts.stays_connected(a):
                continue
            dv1, dc1, dp1 = parts.delta(a, q)
            parts.move(a, q)
            middle = q if over else frm
            for b, r in parts.boundary_moves():
                if b == a or (parts.label[b] != middle if over else r != middle) \
                        or (r == p if over else parts.label[b] == p) \
                        or dv1 + parts.delta_violation(b, r) >= 0:
                    continue
                dv2, dc2, dp2 = parts.delta(b, r)
                dv = dv1 + dv2
                dc = (dc1 + dc2) if use_cost else 0
                key = (dc / -dv, dv, -(dp1 + dp2), a, q, b, r)
                if (best is None or key < best) and len(parts.members[parts.label[b]]) > 1 \
                        and parts.stays_connected(b):
                    best = key
            parts.move(a, frm)
    if best is None:
        return False
    *_, a, q, b, r = best
    parts.move(a, q)
    parts.move(b, r)
    return True


def improve(parts: Parts, use_cost: bool = True, rounds: int | None = None) -> int:
    """Move boundary atoms that keep every bound as it is and lower the cost or raise compactness.

    A move may not push either part further out of bounds. With ``use_cost`` a move must lower
    the households moved, or keep them and improve compactness; without, only compactness
    counts. Returns the number of moves made.
    """
    made = 0
    limit = rounds if rounds is not None else 8 * len(parts.label) + 16
    for _ in range(limit):
        best: tuple[int, float, int, int] | None = None
        for a, q in parts.boundary_moves():
            p = parts.label[a]
            w = parts.w[a]
            emptied = len(parts.members[p]) == 1
            if (not emptied and parts.off(parts.pw[p] - w) > parts.off(parts.pw[p])) or \
                    parts.off(parts.pw[q] + w) > parts.off(parts.pw[q]):
                continue
            dv, dc, dp = parts.delta(a, q)
            if dv > 0:
                continue
            dc = dc if use_cost else 0
            if dc > 0 or (dc == 0 and dp <= _EPS):
                continue
            key = (dc, -dp, a, q)
            if best is None or key < best:
                if parts.stays_connected(a):
                    best = key
        if best is None:
            if use_cost and _cheaper_chain(parts):
                made += 2
                continue
            break
        parts.move(best[2], best[3])
        made += 1
    return made


def _cheaper_chain(parts: Parts) -> bool:
    """Apply the best two-move chain that lowers the households moved, if any.

    The first move takes an atom back towards its own grid (or anywhere cheaper) and pushes a
    part out of bounds; the second restores that part (an atom leaves the overfull part, or
    one enters the emptied one), and no part ends further out of bounds than it was.
    """
    best: tuple[int, float, int, int, int, int] | None = None
    for a, q in parts.boundary_moves():
        p = parts.label[a]
        if len(parts.members[p]) == 1:
            continue
        dv1, dc1, dp1 = parts.delta(a, q)
        if dc1 >= 0 or not parts.stays_connected(a):
            continue
        held = {p: parts.pw[p], q: parts.pw[q]}  # households before the chain
        before = {x: parts.off(h) for x, h in held.items()}
        parts.move(a, q)
        if parts.off(parts.pw[q]) > before[q]:
            seconds = [(b, r) for b in parts.members[q] if b != a
                       for r in {parts.label[c] for c in parts.nbrs[b]} - {q}]
        elif parts.off(parts.pw[p]) > before[p]:
            seconds = [(b, p) for b in {c for x in parts.members[p] for c in parts.nbrs[x]}
                       if parts.label[b] != p and b != a]
        else:
            seconds = []
        for b, r in seconds:
            frm = parts.label[b]
            dv2, dc2, dp2 = parts.delta(b, r)
            dc = dc1 + dc2
            if dc >= 0 or (best is not None and (dc, -(dp1 + dp2)) >= best[:2]):
                continue
            after = {p: parts.pw[p], q: parts.pw[q]}
            after[frm] = after.get(frm, parts.pw[frm]) - parts.w[b]
            after[r] = after.get(r, parts.pw[r]) + parts.w[b]
            if any(parts.off(h) > parts.off(held.get(x, parts.pw[x])) for x, h in after.items()):
                continue
            if len(parts.members[frm]) == 1 or not parts.stays_connected(b):
                continue
            best = (dc, -(dp1 + dp2), a, q, b, r)
        parts.move(a, p)
    if best is None:
        return False
    *_, a, q, b, r = best
    parts.move(a, q)
    parts.move(b, r)
    return True
