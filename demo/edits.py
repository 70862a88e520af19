"""Random planner edits over a plan session, for the property tests and the latency benchmark.

Every kind of edit, aimed at a random grid: brushes of micro-grids into a neighbour, merges,
splits along a line through the grid at a random angle (cutting micro-grids or not), outlines
scaled or shifted, new grids and micro-grids, deletions, renames, recodes, locks, and the
auto-partition proposals (grids of a community, micro-grids of a grid) accepted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
import shapely.affinity
import shapely.geometry

from wangge.geo.plans.session import PlanSession

KINDS = ("move", "move", "merge", "split", "reshape", "reshape_micro", "create", "delete",
         "rename", "recode", "lock", "unlock", "regroup", "subdivide")
ADMIN_KINDS = (*KINDS, "move_across", "move_across")


def random_edit(session: PlanSession, rng: np.random.Generator, *, admin: bool = False
                ) -> dict[str, Any]:
    """A random edit (a JSON-able dict) over the session's current units; with ``admin``,
    also moves of micro-grids into a grid of a neighbouring community (official borders)."""
    state = session.state
    grids = sorted((u for u in state if u.level.value == "grid"), key=lambda u: u.code)
    grid = grids[rng.integers(len(grids))]
    community = state.units[grid.parent]
    siblings = [g for g in state.kids(community.uid) if g.uid != grid.uid]
    micro = state.kids(grid.uid)
    kind = str(rng.choice(ADMIN_KINDS if admin else KINDS))
    geo = shapely.geometry.mapping
    if kind == "move_across" and micro:
        across = [g for g in grids if g.parent != grid.parent and shapely.intersects(g.geom, grid.geom)]
        if across:
            touching = [m.code for m in micro if shapely.intersects(m.geom, across[0].geom)]
            if touching:
                return {"op": "move", "units": touching[:2], "to": across[0].code}
    if kind == "move" and siblings and micro:
        target = siblings[rng.integers(len(siblings))]
        brush = [m.code for m in micro[: rng.integers(1, len(micro) + 1)]]
        return {"op": "move", "units": brush, "to": target.code}
    if kind == "merge" and siblings:
        return {"op": "merge", "units": [grid.code, siblings[rng.integers(len(siblings))].code]}
    if kind == "split":
        c = shapely.centroid(grid.geom)
        angle, d = rng.uniform(0, np.pi), 0.2
        line = shapely.LineString([(c.x - d * np.cos(angle), c.y - d * np.sin(angle)),
                                   (c.x + d * np.cos(angle), c.y + d * np.sin(angle))])
        return {"op": "split", "unit": grid.code, "line": geo(line), "cut": bool(rng.integers(2))}
    if kind == "reshape":
        factor = rng.uniform(0.85, 1.15)
        shape = shapely.convex_hull(grid.geom) if rng.integers(2) else grid.geom
        return {"op": "reshape", "unit": grid.code,
                "outline": geo(shapely.affinity.scale(shape, factor, factor))}
    if kind == "reshape_micro" and micro:
        m = micro[rng.integers(len(micro))]
        shifted = shapely.affinity.translate(m.geom, rng.uniform(-3e-4, 3e-4),
                                             rng.uniform(-3e-4, 3e-4))
        return {"op": "reshape", "unit": m.code, "outline": geo(shifted)}
    if kind == "regroup":
        proposal = session.propose(community.code, minimum=int(rng.integers(150, 300)),
                                   maximum=int(rng.integers(400, 700)))
        return {"op": "regroup", "community": community.code, "groups": proposal["groups"]}
    if kind == "subdivide" and micro:
        proposal = session.propose_microgrids(grid.code, minimum=int(rng.integers(10, 40)),
                                              maximum=int(rng.integers(60, 150)))
        return {"op": "subdivide", "unit": grid.code, "parts": proposal["parts"]}
    if kind == "create":
        if rng.integers(2) and micro:
            return {"op": "create", "level": "grid", "parent": community.code,
                    "units": [micro[0].code], "name": "新网格"}
        c = shapely.point_on_surface(grid.geom)
        return {"op": "create", "level": "microgrid", "parent": grid.code,
                "outline": geo(shapely.buffer(c, 4e-4, quad_segs=2))}
    if kind == "delete":
        return {"op": "delete", "unit": (micro[0] if micro and rng.integers(2) else grid).code}
    if kind == "recode":
        return {"op": "recode", "unit": grid.code,
                "code": community.code + f"{rng.integers(900, 999)}"}
    if kind in ("lock", "unlock"):
        return {"op": kind, "units": [grid.code]}
    return {"op": "rename", "unit": grid.code, "name": f"网格{rng.integers(100)}"}
