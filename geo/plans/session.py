"""A plan being edited: its units, households and findings, with undo and redo.

:class:`PlanSession` applies an edit, re-locates only the households in the ground that
changed, re-validates only the communities the edit touched, and answers with the impact.
Each step keeps what it replaced, so undo puts back exactly the units, household places and
findings of before, and redo the ones of after. :meth:`PlanSession.verify` recomputes all of it
from scratch and lists any difference (the property tests call it after random edits).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from numpy.typing import NDArray

from wangge.geo.boundaries.findings import ERROR, Finding
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.errors import Conflict, InputError
from wangge.geo.levels import Level
from wangge.geo.partition.microgrids import propose_microgrids
from wangge.geo.partition.proposals import propose_grids
from wangge.geo.plans.checks import PlanFindings, scopes_of
from wangge.geo.plans.codes import CodeBook
from wangge.geo.plans.edits import EditContext, run
from wangge.geo.plans.households import PlanHouseholds
from wangge.geo.plans.impact import DEFAULT_RANGES, Tree, counts, moves, unit_stats
from wangge.geo.plans.state import Changes, PlanState, Unit


@dataclass
class Step:
    """One applied edit and everything needed to take it back or do it again."""

    op: dict[str, Any]
    after: Changes
    before: Changes
    households: NDArray[np.intp]
    leaf_before: NDArray[np.intp]
    leaf_after: NDArray[np.intp]
    findings_before: dict[int, list[Finding]]
    findings_after: dict[int, list[Finding]] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)


class PlanSession:
    """Edits over a copy of a release, in memory. Not thread-safe: one writer at a time."""

    def __init__(self, units: gpd.GeoDataFrame, households: PlanHouseholds | None = None, *,
                 workers: pd.DataFrame | None = None, config: ValidationConfig | None = None,
                 ranges: dict[Level, tuple[int, int]] | None = None, snap_m: float = 2.0,
                 compounds: tuple[PlanHouseholds, NDArray[np.object_]] | None = None) -> None:
        self.config = config or ValidationConfig()
        self.ranges = dict(DEFAULT_RANGES if ranges is None else ranges)
        self.snap_m = snap_m
        # Buildings as points with their compound ids: micro-grids sharing a compound stay in
        # one grid when grids are proposed.
        self.compounds = compounds
        self.state = PlanState(units)
        self.base = _copy(self.state)
        self.codes = CodeBook(self.config, set(self.state.by_code))
        self.households = households
        if households is not None:
            households.locate_all(self.state)
            self.base_leaf = households.leaf.copy()
        self.workers = workers if workers is not None else pd.DataFrame(
            {"worker_id": pd.Series(dtype=str), "grid_code": pd.Series(dtype=str)})
        self.findings = PlanFindings(self.config)
        self.findings.check_all(self.state)
        self.done: list[Step] = []
        self.undone: list[Step] = []
        self.version = 0    # the stored plan's version this session reflects (set by its keeper)
        self._moves = 0     # edits, undos and redos applied: what the impact was made for
        self._impact: tuple[int, dict[str, Any]] | None = None

    def fresh(self) -> PlanSession:
        """A new session over the same base, with no edits, from this one (which has none).

        What edits never change is shared: the units' geometries, the households' points and
        their index, the code book, the workers. What they change is copied: the unit
        tables, where each household is, the findings. In a city (23,670 units, 1.3 million
        households) this takes a fraction of a second; building a session takes ten or more.
        """
        if self.done or self.undone:
            raise ValueError("fresh() copies a session without edits")
        other = copy.copy(self)
        other.state = _copy(self.base)
        if self.households is not None:
            other.households = self.households.fork()
        other.findings = PlanFindings(self.config)
        other.findings.by_scope = dict(self.findings.by_scope)
        other.done, other.undone = [], []
        other.version, other._moves, other._impact = 0, 0, None
        return other

    # ---- editing ---------------------------------------------------------------------------
    def edit(self, op: dict[str, Any], *, admin: bool = False) -> dict[str, Any]:
        """Apply ``op``; answer with what changed and its impact. Refused edits change nothing."""
        started = perf_counter()
        draft = run(self.state, op, EditContext(self.codes, self.snap_m, admin))
        step = self._apply(op, draft.changes, draft.notes)
        self._moves += 1
        self.done.append(step)
        self.undone.clear()
        return self._answer(step, started)

    def undo(self) -> dict[str, Any]:
        if not self.done:
            raise Conflict("没有可以撤销的编辑。", "There is no edit to undo.")
        started = perf_counter()
        step = self.done.pop()
        self._swap(step.before, step.leaf_before, step.households, step.findings_before)
        self._moves += 1
        self.undone.append(step)
        return self._answer(step, started, undo=True)

    def redo(self) -> dict[str, Any]:
        if not self.undone:
            raise Conflict("没有可以重做的编辑。", "There is no edit to redo.")
        started = perf_counter()
        step = self.undone.pop()
        self._swap(step.after, step.leaf_after, step.households, step.findings_after)
        self._moves += 1
        self.done.append(step)
        return self._answer(step, started)

    def _apply(self, op: dict[str, Any], changes: Changes, notes: list[tuple[str, str]]) -> Step:
        state = self.state
        scopes: set[int] = set()
        ground: list[shapely.Geometry] = []
        for uid, new in changes.items():
            old = state.units.get(uid)
            if old is not None:
                scopes |= scopes_of(state, old)
                if not state.children.get(uid) and (new is None or new.geom is not old.geom):
                    ground.append(old.geom)
        before = state.apply(changes)
        for uid, new in changes.items():
            if new is None:
                continue
            scopes |= scopes_of(state, new)
            old = before.get(uid)
            if not state.children.get(uid) and (old is None or old.geom is not new.geom):
                ground.append(new.geom)
        if self.households is not None:
            which, leaf_before, leaf_after = self.households.relocate(state, ground)
        else:
            which = leaf_before = leaf_after = np.empty(0, dtype=np.intp)
        findings_before = self.findings.check(state, scopes)
        findings_after = {s: self.findings.by_scope.get(s, []) for s in scopes}
        return Step(op, changes, before, which, leaf_before, leaf_after, findings_before,
                    findings_after, notes)

    def _swap(self, changes: Changes, leaf: NDArray[np.intp], which: NDArray[np.intp],
              findings: dict[int, list[Finding]]) -> None:
        self.state.apply(changes)
        if self.households is not None:
            self.households.leaf[which] = leaf
        for scope, found in findings.items():
            if scope in self.state.units or scope < 0:
                self.findings.by_scope[scope] = found
            else:
                self.findings.by_scope.pop(scope, None)

    # ---- answers ---------------------------------------------------------------------------
    def _answer(self, step: Step, started: float, *, undo: bool = False) -> dict[str, Any]:
        old, new = (step.after, step.before) if undo else (step.before, step.after)
        created = sorted(u.code for uid, u in new.items() if u is not None and old.get(uid) is None)
        deleted = sorted(u.code for uid, u in old.items() if u is not None and new.get(uid) is None)
        recoded = {o.code: n.code for uid, n in new.items() if n is not None
                   for o in [old.get(uid)] if o is not None and o.code != n.code}
        touched = {u.uid for u in new.values() if u is not None}
        for u in list(new.values()):
            if u is not None and u.parent >= 0 and u.parent in self.state.units:
                touched.add(u.parent)
        shown = [self.state.units[uid] for uid in touched if uid in self.state.units]
        out: dict[str, Any] = {
            "op": step.op, "undo": undo, "created": created, "deleted": deleted,
            "recoded": recoded,
            "notes": [{"message": zh, "message_en": en} for zh, en in step.notes],
            "units": [s.as_dict() for s in unit_stats(self.state, shown, self.households,
                                                      self.ranges)],
            "official_changed": sorted({u.code for u in [*old.values(), *new.values()]
                                        if u is not None and u.official}),
        }
        if self.households is not None:
            before_tree, after_tree = self._trees(old, new)
            leaf_a, leaf_b = (step.leaf_after, step.leaf_before) if undo else \
                (step.leaf_before, step.leaf_after)
            # Households of moved leaves keep their leaf but may change grid: include them.
            which, leaf_a, leaf_b = self._with_reparented(step.households, leaf_a, leaf_b, new, old)
            out["moves"] = moves(self.households, which, leaf_a, leaf_b, before_tree, after_tree)
            out["moves_microgrid"] = moves(self.households, which, leaf_a, leaf_b, before_tree,
                                           after_tree, Level.MICROGRID)
        scopes = step.findings_before if undo else step.findings_after
        found = [f for s in scopes for f in self.findings.by_scope.get(s, [])]
        out["findings"] = [f.as_dict(with_geometry=False) for f in found]
        out["plan"] = self.summary()
        out["workers"] = self.workers_affected(old, new)
        out["ms"] = round((perf_counter() - started) * 1000, 2)
        return out

    def _trees(self, old: Changes, new: Changes) -> tuple[Tree, Tree]:
        after = Tree.of(self.state)
        parent, depth, codes = after.parent.copy(), after.depth.copy(), dict(after.codes)
        size = max([len(parent), *(uid + 1 for uid in old)])
        if size > len(parent):
            parent = np.r_[parent, np.full(size - len(parent), -1, dtype=np.intp)]
            depth = np.r_[depth, np.full(size - len(depth), -1, dtype=np.intp)]
        for uid, unit in old.items():
            if unit is None:
                parent[uid], depth[uid] = -1, -1
                codes.pop(uid, None)
            else:
                parent[uid], depth[uid], codes[uid] = unit.parent, unit.level.depth, unit.code
        return Tree(parent, depth, codes), after

    def _with_reparented(self, which: NDArray[np.intp], leaf_a: NDArray[np.intp],
                         leaf_b: NDArray[np.intp], new: Changes, old: Changes
                         ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        assert self.households is not None
        moved = {uid for uid, u in new.items() if u is not None and old.get(uid) is not None
                 and old[uid].parent != u.parent}  # type: ignore[union-attr]
        if not moved:
            return which, leaf_a, leaf_b
        leaves = {leaf.uid for uid in moved for leaf in self.state.leaves(uid)}
        extra = np.flatnonzero(np.isin(self.households.leaf, list(leaves)))
        extra = np.setdiff1d(extra, which)
        leaf = self.households.leaf[extra]
        return np.r_[which, extra], np.r_[leaf_a, leaf], np.r_[leaf_b, leaf]

    def workers_affected(self, old: Changes, new: Changes) -> list[dict[str, Any]]:
        """Workers whose grid was recoded or removed (ids only: names are personal data)."""
        gone = {u.code: (new.get(uid).code if new.get(uid) is not None else None)  # type: ignore[union-attr]
                for uid, u in old.items() if u is not None and u.level is Level.GRID
                and (new.get(uid) is None or new[uid].code != u.code)}  # type: ignore[union-attr]
        if not gone or self.workers.empty:
            return []
        hit = self.workers[self.workers["grid_code"].isin(list(gone))]
        return [{"worker_id": str(w), "grid_code": str(g), "new_grid_code": gone[str(g)]}
                for w, g in zip(hit["worker_id"], hit["grid_code"], strict=True)]

    def summary(self) -> dict[str, Any]:
        """Counts over the whole plan: errors, warnings, units out of range, non-contiguous."""
        found = self.findings.all()
        errors = sum(f.severity == ERROR for f in found)
        out: dict[str, Any] = {"edits": len(self.done), "can_undo": bool(self.done),
                               "can_redo": bool(self.undone), "errors": errors,
                               "warnings": len(found) - errors, "units": len(self.state)}
        if self.households is not None:
            tree = Tree.of(self.state)
            for level in self.ranges:
                n, _ = counts(self.households, tree, level)
                uids = [u.uid for u in self.state if u.level is level]
                low, high = self.ranges[level]
                values = n[uids] if uids else np.zeros(0)
                out[f"{level.value}_low"] = int((values < low).sum())
                out[f"{level.value}_high"] = int((values > high).sum())
        return out

    # ---- the plan as a whole ---------------------------------------------------------------
    def frame(self) -> gpd.GeoDataFrame:
        return self.state.frame()

    def impact(self) -> dict[str, Any]:
        """The plan against its base: units changed, households moved, findings.

        Made once per state of the plan (a city's takes about a second) and handed out as
        copies; the state changes only by edit, undo and redo, which count ``_moves``.
        """
        if self._impact is None or self._impact[0] != self._moves:
            self._impact = (self._moves, self._impact_now())
        return copy.deepcopy(self._impact[1])

    def _impact_now(self) -> dict[str, Any]:
        base, state = self.base, self.state
        changed = sorted(u.code for u in state if u.uid not in base.units
                         or _differs(base.units[u.uid], u))
        removed = sorted(u.code for u in base if u.uid not in state.units)
        out: dict[str, Any] = {"changed": changed, "removed": removed,
                               "recoded": {b.code: state.units[b.uid].code for b in base
                                           if b.uid in state.units
                                           and state.units[b.uid].code != b.code},
                               "plan": self.summary()}
        if self.households is not None:
            before, after = Tree.of(base), Tree.of(state)
            which = self._may_move(before, after)
            leaf_a, leaf_b = self.base_leaf[which], self.households.leaf[which]
            out["moves"] = moves(self.households, which, leaf_a, leaf_b, before, after)
            out["moves_microgrid"] = moves(self.households, which, leaf_a, leaf_b, before, after,
                                           Level.MICROGRID)
        return out

    def _may_move(self, before: Tree, after: Tree, *, every: bool = False) -> NDArray[np.intp]:
        """Households that may have changed grid or micro-grid since the base: those in another
        leaf, and those whose leaf now lies under a grid or micro-grid of another code. The
        rest keep both codes, so ``moves`` over these equals ``moves`` over all (``every``:
        all of them, which :meth:`verify` compares with)."""
        assert self.households is not None
        if every:
            return np.arange(self.households.n)
        size = max(len(before.parent), len(after.parent))
        uids = np.arange(size, dtype=np.intp)
        recoded = np.zeros(size + 1, dtype=bool)    # the last slot stands for NOWHERE
        for level in (Level.GRID, Level.MICROGRID):
            recoded[:size] |= before.code_at(before.at(uids, level)) != \
                after.code_at(after.at(uids, level))
        leaf = self.households.leaf
        return np.flatnonzero((leaf != self.base_leaf) | recoded[leaf])

    def stats(self, level: Level, within: str | None = None) -> list[dict[str, Any]]:
        """Figures of the plan's units of ``level`` (all, or those under ``within``):
        households against the range, contiguity, compactness."""
        uids = self.state.subtree(self.state.get(within).uid) if within is not None else \
            list(self.state.units)
        units = [self.state.units[u] for u in uids if self.state.units[u].level is level]
        return [s.as_dict() for s in unit_stats(self.state, units, self.households, self.ranges)]

    def households_by_code(self, level: Level, *, base: bool = False) -> dict[str, int]:
        """Households per unit code at ``level``, in the plan (or in its base)."""
        if self.households is None:
            return {}
        state = self.base if base else self.state
        leaf = self.base_leaf if base else self.households.leaf
        tree = Tree.of(state)
        owner = tree.at(leaf, level)
        n = np.bincount(owner[owner >= 0], minlength=len(tree.parent))
        return {u.code: int(n[u.uid]) for u in state if u.level is level}

    def propose(self, community: str, *, minimum: int | None = None, maximum: int | None = None,
                method: str = "repair") -> dict[str, Any]:
        """Proposed grids for one community of the plan (nothing changes): groups of its
        micro-grids within [minimum, maximum] households, contiguous, compounds whole, moving
        few households from the plan as it stands. Accept it with a ``regroup`` edit."""
        unit = self.state.get(community)
        if unit.level is not Level.COMMUNITY:
            raise InputError(f"{community} 不是社区。", f"{community} is not a community.",
                             code=community)
        low, high = self.ranges.get(Level.GRID, (300, 500))
        low = low if minimum is None else int(minimum)
        high = high if maximum is None else int(maximum)
        uids = self.state.subtree(unit.uid)
        micro = [self.state.units[u] for u in uids if self.state.units[u].level is Level.MICROGRID]
        if not micro:
            raise InputError(f"社区 {community} 没有微网格，无法自动划分网格。",
                             f"Community {community} has no micro-grids to group into grids.",
                             code=community)
        households = pd.Series(0, index=[m.code for m in micro], dtype=np.int64)
        if self.households is not None:
            n, _ = counts(self.households, Tree.of(self.state), Level.MICROGRID)
            households[:] = [int(n[m.uid]) for m in micro]
        compounds = None
        if self.compounds is not None:
            points, ids = self.compounds
            leaf = points.locate(self.state)
            inside = {m.uid: m.code for m in micro}
            keep = [i for i, u in enumerate(leaf) if int(u) in inside]
            compounds = pd.Series([ids[points.located[i]] for i in keep],
                                  index=[inside[int(leaf[i])] for i in keep], dtype=object)
        proposal = propose_grids(self.state.frame(uids), households, compounds,
                                 communities=[community], minimum=low, maximum=high,
                                 method=method)[0]  # type: ignore[arg-type]
        grids = proposal.grids.assign(compactness=proposal.grids["compactness"].round(4))
        return {"community": community, "minimum": low, "maximum": high, "method": method,
                "verdict": proposal.verdict, "reasons": [r.as_dict() for r in proposal.reasons],
                "groups": proposal.slots, "grids": grids.to_dict("records"),
                "removed": list(proposal.removed), "moved": int(proposal.moved),
                "before": {str(k): int(v) for k, v in proposal.before.items()},
                "seconds": round(proposal.partition.seconds, 3)}

    def propose_microgrids(self, grid: str, *, minimum: int | None = None,
                           maximum: int | None = None) -> dict[str, Any]:
        """Micro-grids proposed for one grid with its buildings as atoms (nothing changes):
        outlines per micro-grid within [minimum, maximum] households, few households moved.
        Accept it with a ``subdivide`` edit. Without a gazetteer, the households' own places
        stand for the buildings."""
        unit = self.state.get(grid)
        if unit.level is not Level.GRID or not self.state.children.get(unit.uid):
            raise InputError(f"{grid} 不是有微网格的网格。", f"{grid} is not a grid with micro-grids.",
                             code=grid)
        low, high = self.ranges.get(Level.MICROGRID, (10, 150))
        low = low if minimum is None else int(minimum)
        high = high if maximum is None else int(maximum)
        leaves = {leaf.uid: leaf.code for leaf in self.state.leaves(unit.uid)}
        homes = np.empty(0, dtype=np.intp)
        if self.households is not None:
            homes = np.flatnonzero(np.isin(self.households.leaf, list(leaves)))
        if self.compounds is not None:
            points = self.compounds[0]
            where = points.locate(self.state)
            mine = np.flatnonzero(np.isin(where, list(leaves)))
            atoms = points.points[points.located[mine]]
            current = [leaves[int(u)] for u in where[mine]]
        else:
            atoms, current = np.empty(0, dtype=object), []
        if len(atoms) == 0 and self.households is not None:   # no buildings: households' places
            atoms = self.households.points[homes]
            current = [leaves[int(u)] for u in self.households.leaf[homes]]
        weight = np.zeros(len(atoms), dtype=np.int64)
        if len(atoms) and len(homes) and self.households is not None:
            nearest = shapely.STRtree(atoms).nearest(self.households.points[homes])
            weight = np.bincount(nearest, minlength=len(atoms)).astype(np.int64)
        proposal = propose_microgrids(
            grid, unit.geom, shapely.get_x(atoms), shapely.get_y(atoms), weight, current,
            minimum=low, maximum=high,
            outlines_now={leaf.code: leaf.geom for leaf in self.state.leaves(unit.uid)})
        part = proposal.partition
        return {"grid": grid, "minimum": low, "maximum": high, "verdict": part.verdict,
                "reasons": [r.as_dict() for r in part.reasons],
                "parts": {slot: shapely.geometry.mapping(g) for slot, g in proposal.outlines.items()},
                "households": proposal.households, "removed": list(proposal.removed),
                "moved": int(part.moved), "seconds": round(part.seconds, 3)}

    def verify(self) -> list[str]:
        """Differences between the incremental state and a full recomputation (none expected)."""
        problems = []
        if self.households is not None:
            leaf = self.households.leaf.copy()
            full = np.full_like(leaf, -1)
            full[self.households.located] = self.households.locate(self.state)
            wrong = np.flatnonzero(full != leaf)
            if len(wrong):
                problems.append(f"{len(wrong)} households placed differently, e.g. #{wrong[0]}: "
                                f"{leaf[wrong[0]]} vs {full[wrong[0]]}")
            before, after = Tree.of(self.base), Tree.of(self.state)
            for level in (Level.GRID, Level.MICROGRID):
                some, every = (moves(self.households, w, self.base_leaf[w], leaf[w], before,
                                     after, level)
                               for w in (self._may_move(before, after),
                                         self._may_move(before, after, every=True)))
                if some != every:
                    problems.append(f"{level.value} moves counted over the households that may "
                                    f"have moved differ from those over all: {some} vs {every}")
        kept = {s: list(f) for s, f in self.findings.by_scope.items()}
        fresh = PlanFindings(self.config)
        fresh.check_all(self.state)
        if _keys(fresh.all()) != _keys([f for fs in kept.values() for f in fs]):
            problems.append("scoped findings differ from a fresh check of every scope")
        whole = validate(self.state.frame(), self.config).findings
        if _keys(whole) != _keys(fresh.all()):
            problems.append(f"findings differ from validating the whole plan: "
                            f"{sorted(_keys(whole) ^ _keys(fresh.all()))[:5]}")
        return problems


def _keys(findings: list[Finding]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f.rule, f.severity, tuple(sorted(f.codes))) for f in findings}


def _differs(a: Unit, b: Unit) -> bool:
    return (a.code, a.name, a.parent, a.level) != (b.code, b.name, b.parent, b.level) \
        or not (a.geom is b.geom or shapely.equals_exact(a.geom, b.geom, 0.0))


def _copy(state: PlanState) -> PlanState:
    other = copy.copy(state)
    other.units = dict(state.units)
    other.by_code = dict(state.by_code)
    other.children = {k: set(v) for k, v in state.children.items()}
    return other
