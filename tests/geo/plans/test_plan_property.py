"""Random edit sequences on a real street of the demo: the incremental answers equal a full
recomputation after every step, the levels stay a clean nested coverage, locks hold, refused
edits change nothing, and undo restores exactly."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
import shapely.geometry

from tests.geo.plans.plan_fixtures import one_street
from wangge.geo.boundaries.validate import validate
from wangge.geo.errors import WanggeError
from wangge.geo.plans.ground import dissolve
from wangge.geo.plans.session import PlanSession


def _snapshot(session: PlanSession) -> dict[str, tuple]:
    return {u.code: (u.name, u.level, session.state.parent_code(u), u.locked, shapely.to_wkb(u.geom))
            for u in session.state}


def _random_op(session: PlanSession, rng: np.random.Generator) -> dict:
    state = session.state
    grids = sorted((u for u in state if u.level.value == "grid"), key=lambda u: u.code)
    grid = grids[rng.integers(len(grids))]
    community = state.units[grid.parent]
    siblings = [g for g in state.kids(community.uid) if g.uid != grid.uid]
    micro = state.kids(grid.uid)
    kind = str(rng.choice(["move", "move", "merge", "split", "reshape", "reshape_micro", "create",
                       "delete", "rename", "recode", "lock", "unlock"]))
    geo = shapely.geometry.mapping
    if kind == "move" and siblings and micro:
        target = siblings[rng.integers(len(siblings))]
        brush = [m.code for m in micro[: rng.integers(1, len(micro) + 1)]]
        return {"op": "move", "units": brush, "to": target.code}
    if kind == "merge" and siblings:
        return {"op": "merge", "units": [grid.code, siblings[rng.integers(len(siblings))].code]}
    if kind == "split":
        c = shapely.centroid(grid.geom)
        angle = rng.uniform(0, np.pi)
        d = 0.2
        line = shapely.LineString([(c.x - d * np.cos(angle), c.y - d * np.sin(angle)),
                                   (c.x + d * np.cos(angle), c.y + d * np.sin(angle))])
        return {"op": "split", "unit": grid.code, "line": geo(line), "cut": bool(rng.integers(2))}
    if kind == "reshape":
        factor = rng.uniform(0.85, 1.15)
        outline = shapely.affinity.scale(shapely.convex_hull(grid.geom) if rng.integers(2)
                                         else grid.geom, factor, factor)
        return {"op": "reshape", "unit": grid.code, "outline": geo(outline)}
    if kind == "reshape_micro" and micro:
        m = micro[rng.integers(len(micro))]
        outline = shapely.affinity.translate(m.geom, rng.uniform(-3e-4, 3e-4), rng.uniform(-3e-4, 3e-4))
        return {"op": "reshape", "unit": m.code, "outline": geo(outline)}
    if kind == "create":
        if rng.integers(2) and micro:
            return {"op": "create", "level": "grid", "parent": community.code,
                    "units": [micro[0].code], "name": "新网格"}
        c = shapely.point_on_surface(grid.geom)
        return {"op": "create", "level": "microgrid", "parent": grid.code,
                "outline": geo(shapely.buffer(c, 4e-4, quad_segs=2))}
    if kind == "delete":
        return {"op": "delete", "unit": (micro[0] if micro and rng.integers(2) else grid).code}
    if kind == "rename":
        return {"op": "rename", "unit": grid.code, "name": f"网格{rng.integers(100)}"}
    if kind == "recode":
        return {"op": "recode", "unit": grid.code, "code": community.code + f"{rng.integers(900, 999)}"}
    if kind in ("lock", "unlock"):
        return {"op": kind, "units": [grid.code]}
    return {"op": "rename", "unit": grid.code, "name": "网格"}


def _check_nesting(session: PlanSession) -> None:
    state = session.state
    for unit in state:
        kids = state.kids(unit.uid)
        if kids and not unit.official:
            union = dissolve([k.geom for k in kids])
            assert shapely.area(shapely.symmetric_difference(unit.geom, union)) < 1e-12, unit.code
    errors = [f for f in validate(state.frame(), session.config).findings if f.severity == "error"]
    assert not errors, [f.message_en for f in errors[:3]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_incremental_equals_full(demo_units, demo_register, seed):
    units, households = one_street(demo_units, demo_register, street_index=seed % 7)
    session = PlanSession(units, households)
    rng = np.random.default_rng(seed)
    locked: dict[str, tuple] = {}
    history = [_snapshot(session)]
    applied = 0
    for _ in range(14):
        if session.done and rng.random() < 0.2:
            session.undo()
            history.pop()
            assert _snapshot(session) == history[-1], "undo did not restore the plan exactly"
            assert session.verify() == []
            continue
        op = _random_op(session, rng)
        before = _snapshot(session)
        try:
            answer = session.edit(op)
        except WanggeError:
            assert _snapshot(session) == before, f"a refused edit changed the plan: {op['op']}"
            continue
        applied += 1
        history.append(_snapshot(session))
        assert session.verify() == [], op["op"]
        gaps_said = any("gap" in n["message_en"] for n in answer["notes"])
        if not gaps_said:
            _check_nesting(session)
        if op["op"] == "lock":
            locked = {c: v for c, v in _snapshot(session).items()
                      if c.startswith(op["units"][0])}
        elif op["op"] == "unlock":
            locked = {}
        now = _snapshot(session)
        for code, value in locked.items():
            assert now.get(code) == value, f"locked {code} changed"
    assert applied >= 5
    while session.done:
        session.undo()
    assert _snapshot(session) == history[0]
    assert session.verify() == []
