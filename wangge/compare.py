"""Two releases side by side: which units differ and which households change grid.

Used to compare any two releases (a published plan against the one before, last year against
this year). Households are placed in both with the same index the service answers with, at
their stored locations; the from → to table counts those whose unit at ``level`` differs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import shapely

from wangge.geo.errors import InputError
from wangge.geo.index.hierarchy import HierarchyIndex
from wangge.geo.levels import parse_level
from wangge.store import Store


def unit_keys(frame: pd.DataFrame) -> dict[str, tuple[Any, ...]]:
    """Per code, what makes a unit itself: name, level, parent and normalised outline."""
    wkb = shapely.to_wkb(shapely.normalize(np.asarray(frame.geometry.values, dtype=object)))
    return {str(c): (n, lv, p, g) for c, n, lv, p, g in
            zip(frame["code"], frame["name"], frame["level"], frame["parent_code"], wkb,
                strict=True)}


def changed_codes(a: pd.DataFrame, b: pd.DataFrame) -> set[str]:
    """Codes of units added, removed or changed between two unit frames."""
    ka, kb = unit_keys(a), unit_keys(b)
    return {c for c in ka.keys() | kb.keys() if ka.get(c) != kb.get(c)}


def compare_releases(store: Store, first: int, second: int, level: str = "grid",
                     limit: int = 500) -> dict[str, Any]:
    """``first`` against ``second``: units added/removed/changed, households from → to."""
    parsed = parse_level(level)
    if parsed is None:
        raise InputError(f"未知的层级：{level}。", f"Unknown level: {level}.", level=level)
    a, b = store.units(first), store.units(second)
    ka, kb = unit_keys(a), unit_keys(b)
    added = sorted(kb.keys() - ka.keys())
    removed = sorted(ka.keys() - kb.keys())
    changed = sorted(c for c in ka.keys() & kb.keys() if ka[c] != kb[c])
    households = store.households()
    lon = households["lon"].to_numpy(dtype=float)
    lat = households["lat"].to_numpy(dtype=float)
    sizes = pd.to_numeric(households["size"], errors="coerce").fillna(1).to_numpy()
    out: dict[str, Any] = {"from": first, "to": second, "level": parsed.value,
                           "added": added, "removed": removed, "changed": changed}
    if len(households) == 0 or len(a) == 0 or len(b) == 0:
        out["moves"] = {"households": 0, "residents": 0, "from_to": []}
        return out
    before = HierarchyIndex.build(a).assign(lon, lat)[parsed.value].to_numpy(dtype=object)
    after = HierarchyIndex.build(b).assign(lon, lat)[parsed.value].to_numpy(dtype=object)
    moved = np.flatnonzero(before != after)
    n: Counter[tuple[str | None, str | None]] = Counter()
    people: Counter[tuple[str | None, str | None]] = Counter()
    for i in moved:
        n[(before[i], after[i])] += 1
        people[(before[i], after[i])] += sizes[i]
    rows = [{"from": f, "to": t, "households": k, "residents": int(people[(f, t)])}
            for (f, t), k in sorted(n.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    out["moves"] = {"households": int(len(moved)), "residents": int(sizes[moved].sum()),
                    "from_to": rows[:limit], "from_to_rows": len(rows)}
    return out


__all__ = ["changed_codes", "compare_releases", "unit_keys"]
