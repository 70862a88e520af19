"""The units of a plan in memory: records keyed by a stable id, with their tree.

Every unit gets an integer ``uid`` when the plan is loaded or the unit is created; codes can
change (recode, move) but the uid does not, so households, findings and undo refer to uids.
Edits never mutate a record: they build replacements in a :class:`Draft`, and
:meth:`PlanState.apply` swaps them in and returns what it replaced, which is what undo puts
back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from wangge.geo.crs import STORAGE_CRS, frame_to_storage
from wangge.geo.errors import InputError, NotFound
from wangge.geo.levels import ORDER, Level, parse_level

OFFICIAL = (Level.STREET, Level.COMMUNITY)  # boundaries set by government, not by planners

Changes = dict[int, "Unit | None"]  # uid -> new record, or None when the unit is deleted


@dataclass(frozen=True)
class Unit:
    """One unit of the plan. ``parent`` is the parent's uid (-1 for a street)."""

    uid: int
    code: str
    name: str
    level: Level
    parent: int
    geom: shapely.Geometry
    attrs: dict[str, Any] | None = None
    locked: bool = False

    @property
    def official(self) -> bool:
        return self.level in OFFICIAL

    def but(self, **fields: Any) -> Unit:
        return replace(self, **fields)


class PlanState:
    """Units by uid, the code index and the children of each unit."""

    def __init__(self, units: gpd.GeoDataFrame) -> None:
        frame = frame_to_storage(units)
        missing = {"code", "name", "level", "parent_code"} - set(frame.columns)
        if missing:
            raise InputError(f"单元表缺少字段：{'、'.join(sorted(missing))}。",
                             f"The units lack columns: {', '.join(sorted(missing))}.")
        depth = {lv: lv.depth for lv in ORDER}
        levels = [parse_level(v) for v in frame["level"]]
        if any(lv is None for v, lv in zip(frame["level"], levels, strict=True)):
            raise InputError("单元的层级无法识别。", "A unit's level is not recognised.")
        # Plain lists: a cell read through pandas costs more than the rest of a unit's work.
        codes = [str(c) for c in frame["code"]]
        names = [str(n) for n in frame["name"]]
        geoms = list(frame.geometry.values)
        attrs = list(frame["attrs"]) if "attrs" in frame else [None] * len(frame)
        order = sorted(range(len(frame)), key=lambda i: (depth[levels[i]], codes[i]))
        self.units: dict[int, Unit] = {}
        self.by_code: dict[str, int] = {}
        self.children: dict[int, set[int]] = {}
        parents = [None if p is None or (isinstance(p, float) and np.isnan(p)) else str(p)
                   for p in frame["parent_code"]]
        for uid, i in enumerate(order):
            code = codes[i]
            parent_code = parents[i]
            parent = self.by_code.get(parent_code, -1) if parent_code is not None else -1
            level = levels[i]
            assert level is not None
            if level is not Level.STREET and parent < 0:
                raise InputError(f"单元 {code} 的上级 {parent_code} 不在该版本中。",
                                 f"Unit {code}: its parent {parent_code} is not in the release.",
                                 code=code)
            if code in self.by_code:
                raise InputError(f"编码 {code} 重复。", f"Code {code} is used twice.", code=code)
            value = attrs[i]
            unit = Unit(uid, code, names[i], level, parent, geoms[i],
                        value if isinstance(value, dict) else None)
            self._put(unit)
        self.next_uid = len(order)
        # The district's code: the streets' parent, kept for export.
        streets = [p for p, lv in zip(parents, levels, strict=True) if lv is Level.STREET and p]
        self.root_code = streets[0] if streets else None

    # ---- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units.values())

    def get(self, code: str) -> Unit:
        uid = self.by_code.get(str(code))
        if uid is None:
            raise NotFound(f"方案中没有编码为 {code} 的单元。", f"The plan has no unit {code}.",
                           code=str(code))
        return self.units[uid]

    def kids(self, uid: int) -> list[Unit]:
        return [self.units[k] for k in sorted(self.children.get(uid, ()))]

    def ancestors(self, uid: int) -> Iterator[Unit]:
        """The unit itself, then its parent, up to its street."""
        while uid >= 0:
            unit = self.units[uid]
            yield unit
            uid = unit.parent

    def official_ancestor(self, uid: int) -> Unit | None:
        """The nearest official unit above ``uid`` (its community, or street), else None."""
        above = self.ancestors(uid)
        next(above)
        return next((unit for unit in above if unit.official), None)

    def subtree(self, uid: int) -> list[int]:
        """``uid`` and the uids of every unit under it."""
        out, stack = [], [uid]
        while stack:
            u = stack.pop()
            out.append(u)
            stack.extend(self.children.get(u, ()))
        return out

    def leaves(self, uid: int) -> list[Unit]:
        """The units under ``uid`` (itself included) that hold ground: those without children."""
        out, stack = [], [uid]
        while stack:
            u = stack.pop()
            kids = self.children.get(u)
            if kids:
                stack.extend(sorted(kids, reverse=True))
            else:
                out.append(self.units[u])
        return out

    def protected(self, uid: int) -> Unit | None:
        """The locked unit that protects ``uid`` (itself or an ancestor), or None."""
        return next((u for u in self.ancestors(uid) if u.locked), None)

    def parent_code(self, unit: Unit) -> str | None:
        return self.units[unit.parent].code if unit.parent >= 0 else self.root_code

    def frame(self, uids: Iterable[int] | None = None) -> gpd.GeoDataFrame:
        """The units (all, or ``uids``) as a release frame: streets first, then by code."""
        units = list(self.units.values()) if uids is None else [self.units[u] for u in uids]
        units.sort(key=lambda u: (u.level.depth, u.code))
        return gpd.GeoDataFrame({
            "code": [u.code for u in units], "name": [u.name for u in units],
            "level": [u.level.value for u in units],
            "parent_code": [self.parent_code(u) for u in units],
            "attrs": [u.attrs for u in units],
        }, geometry=np.array([u.geom for u in units], dtype=object), crs=STORAGE_CRS)

    def arrays(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """``(parent, depth)`` indexed by uid (-1 for uids not in use)."""
        parent = np.full(self.next_uid, -1, dtype=np.intp)
        depth = np.full(self.next_uid, -1, dtype=np.intp)
        for unit in self.units.values():
            parent[unit.uid] = unit.parent
            depth[unit.uid] = unit.level.depth
        return parent, depth

    # ---- changing --------------------------------------------------------------------------
    def apply(self, changes: Changes) -> Changes:
        """Put ``changes`` in place; return the records they replaced (None: did not exist)."""
        before: Changes = {uid: self.units.get(uid) for uid in changes}
        for old in before.values():
            if old is not None:
                self._drop(old)
        for new in changes.values():
            if new is not None:
                self._put(new)
        self.next_uid = max([self.next_uid, *(uid + 1 for uid in changes)])
        return before

    def _put(self, unit: Unit) -> None:
        self.units[unit.uid] = unit
        self.by_code[unit.code] = unit.uid
        if unit.parent >= 0:
            self.children.setdefault(unit.parent, set()).add(unit.uid)

    def _drop(self, unit: Unit) -> None:
        del self.units[unit.uid]
        if self.by_code.get(unit.code) == unit.uid:
            del self.by_code[unit.code]
        if unit.parent >= 0:
            self.children.get(unit.parent, set()).discard(unit.uid)


class Draft:
    """Pending changes over a state: reads see them, the state is untouched until applied."""

    def __init__(self, state: PlanState) -> None:
        self.state = state
        self.changes: Changes = {}
        self._next = state.next_uid
        self.notes: list[tuple[str, str]] = []   # (zh, en) said to the planner with the impact

    def unit(self, uid: int) -> Unit | None:
        return self.changes[uid] if uid in self.changes else self.state.units.get(uid)

    def get(self, code: str) -> Unit:
        for unit in self.changes.values():
            if unit is not None and unit.code == code:
                return unit
        current = self.unit(self.state.get(code).uid)
        if current is None or current.code != code:
            raise NotFound(f"方案中没有编码为 {code} 的单元。", f"The plan has no unit {code}.",
                           code=code)
        return current

    def set(self, unit: Unit) -> Unit:
        self.changes[unit.uid] = unit
        return unit

    def delete(self, uid: int) -> None:
        self.changes[uid] = None

    def new_uid(self) -> int:
        uid = self._next
        self._next += 1
        return uid

    def kids(self, uid: int) -> list[Unit]:
        """Children of ``uid`` with the pending changes."""
        ids = set(self.state.children.get(uid, ()))
        for k, unit in self.changes.items():
            if unit is None or unit.parent != uid:
                ids.discard(k)
            if unit is not None and unit.parent == uid:
                ids.add(k)
        out = [self.unit(k) for k in sorted(ids)]
        return [u for u in out if u is not None and u.parent == uid]

    def leaves(self, uid: int) -> list[Unit]:
        out, stack = [], [uid]
        while stack:
            u = stack.pop()
            kids = self.kids(u)
            if kids:
                stack.extend(k.uid for k in reversed(kids))
            else:
                unit = self.unit(u)
                if unit is not None:
                    out.append(unit)
        return out

    def note(self, zh: str, en: str) -> None:
        self.notes.append((zh, en))
