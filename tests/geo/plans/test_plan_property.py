"""Random edit sequences on a real street of the demo: the incremental answers equal a full
recomputation after every step, the levels stay a clean nested coverage, locks hold, refused
edits change nothing, and undo restores exactly."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.geo.plans.plan_fixtures import one_street
from wangge.demo.edits import random_edit
from wangge.geo.boundaries.validate import validate
from wangge.geo.errors import WanggeError
from wangge.geo.plans.ground import dissolve
from wangge.geo.plans.session import PlanSession


def _snapshot(session: PlanSession) -> dict[str, tuple]:
    return {u.code: (u.name, u.level, session.state.parent_code(u), u.locked, shapely.to_wkb(u.geom))
            for u in session.state}


def _check_nesting(session: PlanSession, gaps_left: bool) -> None:
    state = session.state
    for unit in state:
        kids = state.kids(unit.uid)
        if kids and not unit.official:
            union = dissolve([k.geom for k in kids])
            assert shapely.area(shapely.symmetric_difference(unit.geom, union)) < 1e-12, unit.code
    errors = [f for f in validate(state.frame(), session.config).findings if f.severity == "error"
              and not (gaps_left and f.rule == "gap")]
    assert not errors, [f.message_en for f in errors[:3]]


@pytest.mark.parametrize(("seed", "admin"), [(1, False), (2, False), (3, False), (4, True)])
def test_random_edits_incremental_equals_full(demo_units, demo_register, seed, admin):
    units, households = one_street(demo_units, demo_register, street_index=seed % 7)
    session = PlanSession(units, households)
    rng = np.random.default_rng(seed)
    history = [_snapshot(session)]
    held: dict[str, tuple] = {}     # what each unit under a lock looked like when locked
    applied = 0
    gaps_left = False
    for _ in range(14):
        if session.done and rng.random() < 0.2:
            session.undo()
            history.pop()
            assert _snapshot(session) == history[-1], "undo did not restore the plan exactly"
            assert session.verify() == []
            assert session.impact() == session._impact_now()      # the kept impact is current
        else:
            op = random_edit(session, rng, admin=admin)
            before = _snapshot(session)
            try:
                answer = session.edit(op, admin=admin)
            except WanggeError:
                assert _snapshot(session) == before, f"a refused edit changed the plan: {op['op']}"
                continue
            applied += 1
            history.append(_snapshot(session))
            assert session.impact() == session._impact_now()      # the kept impact is current
            assert session.verify() == [], op["op"]
            # ground given up where no neighbour may take it is left as a gap, and said so
            gaps_left |= any("gap" in n["message_en"] for n in answer["notes"])
            _check_nesting(session, gaps_left)
            now = _snapshot(session)
            for code, value in held.items():
                assert now.get(code) == value, f"locked {code} changed by {op['op']}"
        now = _snapshot(session)
        guarded = {u.code for u in session.state if session.state.protected(u.uid) is not None}
        held = {c: held.get(c, now[c]) for c in guarded}
    assert applied >= 5
    while session.done:
        session.undo()
    assert _snapshot(session) == history[0]
    assert session.verify() == []


def test_regroup_moves_many_and_makes_new_grids(demo_units, demo_register):
    units, households = one_street(demo_units, demo_register, street_index=1)
    session = PlanSession(units, households)
    community = next(u for u in session.state if u.level.value == "community")
    grids = session.state.kids(community.uid)
    micro = [m for g in grids for m in session.state.kids(g.uid)]
    # everything into the first grid, except two micro-grids that start a new grid
    groups = {m.code: grids[0].code for m in micro}
    groups[micro[-1].code] = groups[micro[-2].code] = "new-1"
    answer = session.edit({"op": "regroup", "community": community.code, "groups": groups})
    kids = session.state.kids(community.uid)
    assert len(kids) == 2 and {g.code for g in grids[1:]} <= set(answer["deleted"])
    assert len(answer["created"]) >= 1 and session.verify() == []
    session.undo()
    assert [g.code for g in session.state.kids(community.uid)] == [g.code for g in grids]


def test_fresh_sessions_share_the_base_and_keep_their_edits_apart(demo_units, demo_register):
    """Plans start from one base session (PlanSession.fresh): random edits in one leave the
    base and a sibling exactly as built, and each still equals a full recomputation."""
    units, households = one_street(demo_units, demo_register, street_index=2)
    base = PlanSession(units, households)
    built = _snapshot(base)
    leaf = base.households.leaf.copy()
    findings = {s: list(f) for s, f in base.findings.by_scope.items()}
    first, second = base.fresh(), base.fresh()
    assert first.households.points is base.households.points          # shared, not copied
    rng = np.random.default_rng(11)
    applied = 0
    while applied < 6:
        try:
            first.edit(random_edit(first, rng, admin=True), admin=True)
        except WanggeError:
            continue
        applied += 1
    assert first.verify() == [] and _snapshot(first) != built
    for untouched in (base, second):
        assert _snapshot(untouched) == built
        assert np.array_equal(untouched.households.leaf, leaf)
        assert {s: list(f) for s, f in untouched.findings.by_scope.items()} == findings
        assert untouched.verify() == [] and not untouched.done
    first.undo()
    with pytest.raises(ValueError, match="without edits"):
        first.fresh()
