"""Validation of a plan, kept per community so an edit re-checks only what it touched.

The plan's findings are those of the official part (streets and communities, checked
together) plus, for each community, those of its subtree (the community, its grids and their
micro-grids) checked on its own with its street known to exist. A finding about the community
unit alone (its area, its code) comes from the official part; its subtree adds what lies
inside it (gaps, overlaps between its grids, ...). The property test compares the union with
a validation of the whole plan at once.
"""

from __future__ import annotations

from wangge.geo.boundaries.findings import Finding
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.levels import Level
from wangge.geo.plans.state import PlanState, Unit

OFFICIAL_SCOPE = -1


def scopes_of(state: PlanState, unit: Unit) -> set[int]:
    """The scopes whose findings can change when ``unit`` changes."""
    if unit.official:
        scopes = {OFFICIAL_SCOPE}
        if unit.level is Level.COMMUNITY:
            scopes.add(unit.uid)
        return scopes
    for above in state.ancestors(unit.parent) if unit.parent >= 0 else ():
        if above.level is Level.COMMUNITY:
            return {above.uid}
    return {OFFICIAL_SCOPE}


class PlanFindings:
    """Findings per scope: a community's uid, or OFFICIAL_SCOPE."""

    def __init__(self, config: ValidationConfig) -> None:
        self.config = config
        self.by_scope: dict[int, list[Finding]] = {}

    def check(self, state: PlanState, scopes: set[int]) -> dict[int, list[Finding]]:
        """Re-check ``scopes``; return their findings from before (for undo)."""
        before = {s: self.by_scope.get(s, []) for s in scopes}
        for scope in scopes:
            if scope != OFFICIAL_SCOPE and scope not in state.units:
                self.by_scope.pop(scope, None)
                continue
            self.by_scope[scope] = self._findings(state, scope)
        return before

    def check_all(self, state: PlanState) -> None:
        self.by_scope = {}
        scopes = {u.uid for u in state if u.level is Level.COMMUNITY} | {OFFICIAL_SCOPE}
        self.check(state, scopes)

    def restore(self, saved: dict[int, list[Finding]]) -> None:
        for scope, findings in saved.items():
            self.by_scope[scope] = findings

    def all(self) -> list[Finding]:
        return [f for scope in sorted(self.by_scope) for f in self.by_scope[scope]]

    def _findings(self, state: PlanState, scope: int) -> list[Finding]:
        if scope == OFFICIAL_SCOPE:
            uids = [u.uid for u in state if u.official]
            return validate(state.frame(uids), self.config).findings
        community = state.units[scope]
        street = state.units.get(community.parent)
        outside = frozenset({street.code} if street is not None else set())
        found = validate(state.frame(state.subtree(scope)), self.config,
                         outside_parents=outside).findings
        return [f for f in found if f.codes != (community.code,) or f.rule == "gap"]
