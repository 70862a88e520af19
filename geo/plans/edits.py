"""The edits a planner makes, each keeping the level a coverage and children in their parent.

An edit is a JSON-able dict ``{"op": kind, ...}`` so it can be stored in the plan's log and
replayed. :func:`run` checks it, builds the changes in a :class:`Draft`, lets the parents
follow their children (:func:`finish`) and refuses the whole edit when it would change a
locked unit or, for anyone but an administrator, an official (street or community) boundary.
Geometry parameters are GeoJSON geometries in stored lon/lat (CGCS2000).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry
import shapely.ops

from wangge.geo.crs import STORAGE, parse_crs, to_storage
from wangge.geo.errors import Conflict, InputError, NotPermitted, echo
from wangge.geo.levels import Level, parse_level
from wangge.geo.plans.codes import CodeBook, reprefix
from wangge.geo.plans.ground import (
    NOISE_DEG2,
    dissolve,
    has_ground,
    longest_edge,
    pieces,
    polygonal,
    snapped,
    tolerance_deg,
)
from wangge.geo.plans.state import OFFICIAL, Draft, PlanState, Unit

MAX_NAME = 100
MAX_UNITS_PER_EDIT = 5_000
MAX_VERTICES = 20_000


@dataclass(frozen=True)
class EditContext:
    """What an edit needs besides the plan: the code book, snapping tolerance, the role."""

    codes: CodeBook
    snap_m: float = 2.0
    admin: bool = False


def run(state: PlanState, op: dict[str, Any], ctx: EditContext) -> Draft:
    """Build the changes of ``op`` over ``state`` (not applied) or raise why it is refused."""
    if not isinstance(op, dict):
        raise InputError("编辑须为 JSON 对象。", "An edit must be a JSON object.")
    kind = op.get("op")
    edit = EDITS.get(str(kind))
    if edit is None:
        raise InputError(f"未知的编辑类型：{echo(kind)}。可用：{'、'.join(EDITS)}。",
                         f"Unknown edit {echo(kind)!r}; known: {', '.join(EDITS)}.", op=echo(kind))
    draft = Draft(state)
    edit(draft, op, ctx)
    finish(draft, ctx)
    if not draft.changes:
        raise InputError("该编辑没有改变任何单元。", "The edit changes nothing.", op=kind)
    return draft


# ---- parameters --------------------------------------------------------------------------
GEOMETRY_KEYS = ("line", "outline")   # and the values of a subdivide's "parts"


def op_to_storage(op: dict[str, Any], crs: object) -> dict[str, Any]:
    """``op`` with its geometries converted from ``crs`` (e.g. GCJ-02) to stored lon/lat.

    The edge where drawn coordinates enter: the log keeps the converted edit, so a replay
    never converts twice."""
    src = parse_crs(crs)
    if src == STORAGE or not isinstance(op, dict):
        return op

    def convert(value: Any, key: str) -> Any:
        try:
            geom = shapely.geometry.shape(value)
        except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
            raise InputError(f"“{key}”须为 GeoJSON 几何。", f"{key!r} must be a GeoJSON geometry.",
                             field=key) from exc
        return shapely.geometry.mapping(to_storage(np.array([geom], dtype=object), src)[0])

    out = dict(op)
    for key in GEOMETRY_KEYS:
        if out.get(key) is not None:
            out[key] = convert(out[key], key)
    if isinstance(out.get("parts"), dict):
        out["parts"] = {slot: convert(v, "parts") for slot, v in out["parts"].items()}
    return out


def _code(op: dict[str, Any], key: str) -> str:
    value = op.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise InputError(f"编辑缺少“{key}”（单元编码）。", f"The edit needs {key!r} (a unit code).",
                         field=key)
    return str(value).strip()


def _codes(op: dict[str, Any], key: str) -> list[str]:
    value = op.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > MAX_UNITS_PER_EDIT:
        raise InputError(f"编辑缺少“{key}”（1 到 {MAX_UNITS_PER_EDIT} 个单元编码的列表）。",
                         f"The edit needs {key!r}: a list of 1 to {MAX_UNITS_PER_EDIT} unit codes.",
                         field=key)
    codes = [str(v).strip() for v in value]
    return list(dict.fromkeys(codes))


def _geometry(op: dict[str, Any], key: str, kinds: tuple[str, ...]) -> shapely.Geometry:
    value = op.get(key)
    try:
        geom = shapely.geometry.shape(value)  # type: ignore[arg-type]
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise InputError(f"“{key}”须为 GeoJSON 几何（{'/'.join(kinds)}）。",
                         f"{key!r} must be a GeoJSON geometry ({'/'.join(kinds)}).",
                         field=key) from exc
    if geom.geom_type not in kinds or geom.is_empty:
        raise InputError(f"“{key}”须为 {'/'.join(kinds)}，而不是 {geom.geom_type}。",
                         f"{key!r} must be a {'/'.join(kinds)}, not a {geom.geom_type}.", field=key)
    coords = shapely.get_coordinates(geom)
    if len(coords) > MAX_VERTICES or not np.isfinite(coords).all() \
            or (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise InputError(f"“{key}”的坐标须为经纬度（CGCS2000），且不超过 {MAX_VERTICES} 个顶点。",
                         f"{key!r} must be lon/lat (CGCS2000) with at most {MAX_VERTICES} vertices.",
                         field=key)
    if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_valid:
        geom = polygonal(shapely.make_valid(geom))
    return geom


def _name(op: dict[str, Any], default: str) -> str:
    name = op.get("name")
    if name is None:
        return default
    name = str(name).strip()
    if not name or len(name) > MAX_NAME:
        raise InputError(f"名称须为 1 到 {MAX_NAME} 个字符。",
                         f"A name must be 1 to {MAX_NAME} characters.", field="name")
    return name


def _official(unit: Unit, ctx: EditContext, what_zh: str, what_en: str) -> None:
    if unit.official and not ctx.admin:
        raise NotPermitted(
            f"{unit.level.zh} {unit.code}（{unit.name}）的边界是官方边界，只有管理员可以{what_zh}。",
            f"{unit.level.value} {unit.code} ({unit.name}) is an official boundary: only an "
            f"administrator may {what_en} it.", code=unit.code)


# ---- moving units between parents -------------------------------------------------------
def _move_into(draft: Draft, ctx: EditContext, unit: Unit, parent: Unit) -> None:
    """Make ``unit`` a child of ``parent``, with a code under it (descendants follow)."""
    taken = frozenset(u.code for u in draft.changes.values() if u is not None)
    code = ctx.codes.new_code(draft, parent, unit.level, taken)
    moved = draft.set(unit.but(parent=parent.uid))
    reprefix(draft, moved, code)


def _community(draft: Draft, unit: Unit) -> int:
    """uid of the official unit holding ``unit`` (itself when it is official)."""
    u: Unit | None = unit
    while u is not None and not u.official:
        u = draft.unit(u.parent)
    return u.uid if u is not None else -1


def move(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "move", "units": [...], "to": parent}``: the units change parent (a brush)."""
    to = draft.get(_code(op, "to"))
    units = [draft.get(c) for c in _codes(op, "units")]
    for unit in units:
        if unit.level.parent is not to.level:
            raise InputError(
                f"{unit.level.zh} {unit.code} 不能移到{to.level.zh} {to.code} 下：上级应为"
                f"{unit.level.parent.zh if unit.level.parent else '区县'}。",
                f"{unit.level.value} {unit.code} cannot go under {to.level.value} {to.code}.",
                code=unit.code, to=to.code)
        if unit.parent == to.uid:
            continue
        if not ctx.admin and _community(draft, draft.unit(unit.parent) or unit) != _community(draft, to):
            raise NotPermitted(
                f"{unit.code} 与目标 {to.code} 不在同一社区；跨社区调整只有管理员可以进行。",
                f"{unit.code} and {to.code} are in different communities; only an administrator "
                "may move ground across an official boundary.", code=unit.code, to=to.code)
        _move_into(draft, ctx, draft.unit(unit.uid) or unit, to)


def merge(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "merge", "units": [keep, other, ...]}``: the first keeps its code."""
    units = [draft.get(c) for c in _codes(op, "units")]
    if len(units) < 2:
        raise InputError("合并至少需要两个单元。", "A merge needs at least two units.")
    keep = units[0]
    for other in units[1:]:
        if other.level is not keep.level or other.parent != keep.parent:
            raise InputError(f"只能合并同一上级下的同级单元：{other.code} 与 {keep.code} 不同。",
                             f"Only units of one level under one parent merge: {other.code} and "
                             f"{keep.code} differ.", code=other.code)
        _official(other, ctx, "合并", "merge")
    leaves_only = True
    for other in units[1:]:
        kids = draft.kids(other.uid)
        leaves_only &= not kids
        for kid in kids:
            _move_into(draft, ctx, kid, keep)
        draft.delete(other.uid)
    if leaves_only:
        draft.set(keep.but(geom=dissolve([u.geom for u in units])))


# ---- cutting ground ----------------------------------------------------------------------
def _sides(geom: shapely.Geometry, line: shapely.Geometry) -> tuple[shapely.Geometry, shapely.Geometry]:
    """``geom`` cut by ``line``: (left side, right side) of the line as drawn."""
    parts = [p for part in shapely.get_parts(geom)
             for p in shapely.get_parts(shapely.ops.split(part, line)) if has_ground(p)]
    if len(parts) < 2:
        raise InputError("分割线须从单元的一边穿到另一边（线的两端都在单元外）。",
                         "The split line must cross the unit from edge to edge (both ends "
                         "outside it).")
    tol = tolerance_deg(geom, 0.05)
    left_band = shapely.buffer(line, tol, single_sided=True)
    right_band = shapely.buffer(line, -tol, single_sided=True)
    left, right = [], []
    for part in parts:
        on_left = shapely.area(shapely.intersection(part, left_band))
        on_right = shapely.area(shapely.intersection(part, right_band))
        (left if on_left >= on_right else right).append(part)
    if not left or not right:
        raise InputError("分割线没有把单元分成两侧。", "The split line leaves the unit on one side.")
    return dissolve(left), dissolve(right)


def split(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "split", "unit": code, "line": LineString, "cut": false, "name": ...}``.

    The larger side keeps the code; the other becomes a new sibling. Children go by side,
    each to the side holding most of it, or, with ``cut``, a child the line crosses is cut in
    two (the new piece joins the new unit).
    """
    unit = draft.get(_code(op, "unit"))
    _official(unit, ctx, "分割", "split")
    line = _geometry(op, "line", ("LineString",))
    left, right = _sides(unit.geom, line)
    keep, give = (left, right) if shapely.area(left) >= shapely.area(right) else (right, left)
    parent = draft.unit(unit.parent)
    assert parent is not None
    uid = draft.new_uid()
    taken = frozenset(u.code for u in draft.changes.values() if u is not None)
    new = Unit(uid, ctx.codes.new_code(draft, parent, unit.level, taken),
               _name(op, f"{unit.name}（分）"), unit.level, parent.uid, give)
    kids = draft.kids(unit.uid)
    if not kids:
        draft.set(unit.but(geom=keep))
        draft.set(new)
        return
    draft.set(new)
    cut = bool(op.get("cut", False))
    moving = []
    for kid in kids:
        a = shapely.area(shapely.intersection(kid.geom, keep))
        b = shapely.area(shapely.intersection(kid.geom, give))
        if cut and not draft.kids(kid.uid) and has_ground(shapely.intersection(kid.geom, give)) \
                and has_ground(shapely.intersection(kid.geom, keep)) and min(a, b) > 1e-12:
            draft.set(kid.but(geom=polygonal(shapely.intersection(kid.geom, keep))))
            piece = polygonal(shapely.intersection(kid.geom, give))
            moving.append(Unit(draft.new_uid(), kid.code, kid.name + "（分）", kid.level, uid, piece))
        elif b > a:
            moving.append(kid)
    if not moving or len(moving) == len(kids) and not cut:
        raise InputError("分割线没有把任何下级单元分到另一侧；请调整线的位置，或用 cut 切开下级单元。",
                         "The line leaves every child on one side; move it, or cut the children.",
                         code=unit.code)
    for kid in moving:
        if kid.uid not in draft.state.units or kid.parent == uid:
            # a cut piece: a new child of the new unit
            taken = frozenset(u.code for u in draft.changes.values() if u is not None)
            draft.set(kid.but(code=ctx.codes.new_code(draft, new, kid.level, taken), parent=uid))
        else:
            _move_into(draft, ctx, kid, new)


def _ground(draft: Draft, unit: Unit, outline: shapely.Geometry, limit: Unit | None,
            ctx: EditContext) -> None:
    """Give ``unit`` exactly the ground of ``outline`` within ``limit``.

    Ground taken from other leaves under ``limit`` is cut from them; ground ``unit`` gives up
    goes to the leaf outside it that shares the longest edge with it, or stays a gap (said in
    the notes). Leaves under a lock are left alone: the outline is cut back around them.
    """
    scope = draft.leaves(limit.uid) if limit is not None else \
        [u for u in draft.state if not draft.state.children.get(u.uid)]
    own_ids = {leaf.uid for leaf in draft.leaves(unit.uid)}
    others = [u for u in (draft.unit(x.uid) for x in scope) if u is not None
              and u.uid not in own_ids]
    if limit is not None:
        outline = polygonal(shapely.intersection(outline, limit.geom))
    near = [u.geom for u in others if shapely.intersects(u.geom, shapely.envelope(outline))]
    outline = snapped(outline, near + ([limit.geom] if limit is not None else []), ctx.snap_m)
    if limit is not None:
        outline = polygonal(shapely.intersection(outline, limit.geom))
    locked = [u for u in others if draft.state.protected(u.uid) is not None
              and shapely.intersects(u.geom, outline)]
    if locked:
        outline = polygonal(shapely.difference(outline, dissolve([u.geom for u in locked])))
        draft.note(f"新边界避开了锁定的单元：{'、'.join(u.code for u in locked)}。",
                   f"The outline was cut back around locked units: "
                   f"{', '.join(u.code for u in locked)}.")
    if not has_ground(outline):
        raise InputError(f"新边界在 {limit.code if limit else '辖区'} 内没有面积。",
                         "The new outline has no area inside its limit.", code=unit.code)
    taken: list[shapely.Geometry] = []
    for other in others:
        if not shapely.intersects(other.geom, outline):
            continue
        inter = polygonal(shapely.intersection(other.geom, outline))
        if not has_ground(inter):
            continue
        rest = polygonal(shapely.difference(other.geom, outline))
        if has_ground(rest):
            draft.set(other.but(geom=rest))
        else:
            draft.delete(other.uid)
            draft.note(f"{other.level.zh} {other.code} 整体并入，已删除。",
                       f"{other.level.value} {other.code} was taken whole and removed.")
        taken.extend(pieces(inter))
    own = [u for u in (draft.unit(i) for i in sorted(own_ids)) if u is not None]
    given: list[shapely.Geometry] = []
    for leaf in own:
        given.extend(pieces(shapely.difference(leaf.geom, outline)))
    if unit.uid in own_ids:            # a leaf: its ground is the outline
        draft.set(unit.but(geom=outline))
    else:
        kept = {leaf.uid: polygonal(shapely.intersection(leaf.geom, outline)) for leaf in own}
        shares: dict[int, list[shapely.Geometry]] = {uid: [g] for uid, g in kept.items()}
        for piece in taken:
            target = longest_edge(piece, [(uid, g) for uid, g in kept.items() if has_ground(g)])
            if target is None:
                target = min(kept, key=lambda uid: shapely.distance(kept[uid], piece))
            shares[target].append(piece)
        for leaf in own:
            ground = dissolve(shares[leaf.uid])
            if has_ground(ground):
                draft.set(leaf.but(geom=ground))
            else:
                draft.delete(leaf.uid)
                draft.note(f"{leaf.level.zh} {leaf.code} 在新边界外，已删除。",
                           f"{leaf.level.value} {leaf.code} lay outside the new outline and "
                           "was removed.")
    for piece in given:
        receivers = [(u.uid, u.geom) for u in (draft.unit(o.uid) for o in others)
                     if u is not None and draft.state.protected(u.uid) is None]
        target = longest_edge(piece, receivers)
        if target is None:
            draft.note("让出的土地没有相邻单元可以接收，成为空隙。",
                       "Ground given up has no neighbour to take it: it is left as a gap.")
            continue
        receiver = draft.unit(target)
        assert receiver is not None
        draft.set(receiver.but(geom=dissolve([receiver.geom, piece])))


def reshape(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "reshape", "unit": code, "outline": Polygon}``: snapped, kept inside the
    unit's official parent (community or street)."""
    unit = draft.get(_code(op, "unit"))
    _official(unit, ctx, "修改", "reshape")
    outline = _geometry(op, "outline", ("Polygon", "MultiPolygon"))
    limit = draft.state.official_ancestor(unit.uid)
    _ground(draft, unit, outline, limit, ctx)


# ---- creating and removing ---------------------------------------------------------------
def create(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "create", "level", "parent", "name", "units": [...]}`` gathers children into a
    new unit; with ``"outline"`` instead, a new leaf is carved out of its parent's ground."""
    parent = draft.get(_code(op, "parent"))
    level = parse_level(op.get("level"))
    if level is None or level.parent is not parent.level:
        raise InputError(f"{parent.level.zh} {parent.code} 下只能新建"
                         f"{parent.level.child.zh if parent.level.child else '（无）'}。",
                         f"Under {parent.level.value} {parent.code} only a "
                         f"{parent.level.child.value if parent.level.child else 'nothing'} can be "
                         "created.", code=parent.code)
    if level in OFFICIAL and not ctx.admin:
        raise NotPermitted(f"只有管理员可以新建{level.zh}。",
                           f"Only an administrator may create a {level.value}.")
    taken = frozenset(u.code for u in draft.changes.values() if u is not None)
    code = ctx.codes.new_code(draft, parent, level, taken)
    unit = Unit(draft.new_uid(), code, _name(op, f"新{level.zh}{code[-3:]}"), level, parent.uid,
                shapely.Polygon())
    unit = draft.set(unit)
    if op.get("units") is not None:
        for kid in [draft.get(c) for c in _codes(op, "units")]:
            if kid.level.parent is not level:
                raise InputError(f"{kid.code} 不是{level.child.zh if level.child else '下级'}。",
                                 f"{kid.code} is not a {level.child.value if level.child else 'child'}.",
                                 code=kid.code)
            if not ctx.admin and _community(draft, draft.unit(kid.parent) or kid) != \
                    _community(draft, parent):
                raise NotPermitted(f"{kid.code} 不在社区 {parent.code} 内。",
                                   f"{kid.code} is not in community {parent.code}.", code=kid.code)
            _move_into(draft, ctx, kid, unit)
    elif op.get("outline") is not None:
        outline = _geometry(op, "outline", ("Polygon", "MultiPolygon"))
        _ground(draft, unit, outline, parent, ctx)
    else:
        raise InputError("新建单元须给出下级单元（units）或边界（outline）。",
                         "A new unit needs its children ('units') or an outline ('outline').")


def delete(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "delete", "unit": code}``: its ground (or each child) goes to the neighbour
    sharing the longest edge, within the same parent."""
    unit = draft.get(_code(op, "unit"))
    _official(unit, ctx, "删除", "delete")
    siblings = [u for u in draft.kids(unit.parent) if u.uid != unit.uid]
    if not siblings:
        raise InputError(f"{unit.code} 是其上级唯一的{unit.level.zh}，不能删除。",
                         f"{unit.code} is its parent's only {unit.level.value}; it cannot be "
                         "deleted.", code=unit.code)
    kids = draft.kids(unit.uid)
    if not kids:
        target = longest_edge(unit.geom, [(u.uid, u.geom) for u in siblings])
        if target is None:
            raise InputError(f"{unit.code} 与同级单元不相邻，无法并入。",
                             f"{unit.code} shares no edge with a sibling to take its ground.",
                             code=unit.code)
        receiver = draft.unit(target)
        assert receiver is not None
        draft.set(receiver.but(geom=dissolve([receiver.geom, unit.geom])))
        draft.delete(unit.uid)
        return
    pool = [(s.uid, leaf.geom) for s in siblings for leaf in draft.leaves(s.uid)]
    left = list(kids)
    while left:
        placed = []
        for kid in left:
            target = longest_edge(kid.geom, pool)
            if target is not None:
                receiver = draft.unit(target)
                assert receiver is not None
                _move_into(draft, ctx, draft.unit(kid.uid) or kid, receiver)
                pool.append((target, kid.geom))
                placed.append(kid)
        if not placed:
            raise InputError(f"{unit.code} 的下级 {left[0].code} 与其他{unit.level.zh}不相邻，无法删除。",
                             f"A child of {unit.code} ({left[0].code}) touches no other "
                             f"{unit.level.value}; it cannot be deleted.", code=unit.code)
        left = [k for k in left if k not in placed]
    draft.delete(unit.uid)


def regroup(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "regroup", "community": code, "groups": {micro-grid: grid}}``: many micro-grids
    of one community go to new grids at once (an accepted auto-partition). A grid value that
    is not a grid of the community names a new grid (made in the order of the names); grids
    left without micro-grids are removed."""
    community = draft.get(_code(op, "community"))
    if community.level is not Level.COMMUNITY:
        raise InputError(f"{community.code} 不是社区。", f"{community.code} is not a community.",
                         code=community.code)
    groups = op.get("groups")
    if not isinstance(groups, dict) or not groups or len(groups) > MAX_UNITS_PER_EDIT \
            or not all(isinstance(v, str | int) for v in groups.values()):
        raise InputError("“groups”须为 {微网格编码: 网格编码} 的对象。",
                         "'groups' must be an object {micro-grid code: grid code}.", field="groups")
    grids = {g.code: g for g in draft.kids(community.uid)}
    targets: dict[str, Unit] = {}
    for key in sorted({str(v) for v in groups.values()} - set(grids)):
        taken = frozenset(u.code for u in draft.changes.values() if u is not None)
        code = ctx.codes.new_code(draft, community, Level.GRID, taken)
        targets[key] = draft.set(Unit(draft.new_uid(), code, f"新网格{code[-3:]}", Level.GRID,
                                      community.uid, shapely.Polygon()))
    targets.update(grids)
    for code, key in groups.items():
        unit = draft.get(str(code))
        grid = draft.unit(unit.parent)
        if unit.level is not Level.MICROGRID or grid is None or grid.parent != community.uid:
            raise InputError(f"{unit.code} 不是社区 {community.code} 的微网格。",
                             f"{unit.code} is not a micro-grid of community {community.code}.",
                             code=unit.code)
        dest = draft.unit(targets[str(key)].uid)
        assert dest is not None
        if unit.parent != dest.uid:
            _move_into(draft, ctx, unit, dest)


def subdivide(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    """``{"op": "subdivide", "unit": grid, "parts": {slot: outline}}``: the grid's micro-grids
    drawn again at once (an accepted micro-grid proposal). A slot naming one of its micro-grids
    keeps that code; any other slot is a new micro-grid; micro-grids not named are removed.
    Outlines are cut to the grid and to the parts before them; ground none covers goes to the
    part sharing the longest edge with it."""
    unit = draft.get(_code(op, "unit"))
    _official(unit, ctx, "重划", "subdivide")
    parts = op.get("parts")
    if not isinstance(parts, dict) or not parts or len(parts) > MAX_UNITS_PER_EDIT:
        raise InputError("“parts”须为 {微网格编码或新名称: GeoJSON 面} 的对象。",
                         "'parts' must be an object {micro-grid code or new name: GeoJSON polygon}.",
                         field="parts")
    kids = {k.code: k for k in draft.kids(unit.uid)}
    if any(draft.kids(k.uid) for k in kids.values()) or unit.level.child is None:
        raise InputError(f"{unit.code} 的下级不是最底层单元，不能整体重划。",
                         f"The children of {unit.code} are not the finest units; they cannot be "
                         "redrawn at once.", code=unit.code)
    ground: dict[str, shapely.Geometry] = {}
    used = shapely.Polygon()
    for slot, outline in parts.items():
        shape = _geometry({"outline": outline}, "outline", ("Polygon", "MultiPolygon"))
        piece = polygonal(shapely.difference(shapely.intersection(shape, unit.geom), used))
        if has_ground(piece):
            ground[str(slot)] = piece
            used = polygonal(shapely.union(used, piece))
    if not ground:
        raise InputError(f"所给边界与 {unit.code} 没有重叠。",
                         f"The outlines do not overlap {unit.code}.", code=unit.code)
    for piece in pieces(shapely.difference(unit.geom, used)):
        target = longest_edge(piece, list(enumerate(ground.values())))
        slot = list(ground)[target if target is not None else 0]
        ground[slot] = dissolve([ground[slot], piece])
    for code, kid in kids.items():
        if code not in ground:
            draft.delete(kid.uid)
        elif not shapely.equals(ground[code], kid.geom):
            draft.set(kid.but(geom=ground[code]))
    for slot in sorted(set(ground) - set(kids)):
        taken = frozenset(u.code for u in draft.changes.values() if u is not None)
        code = ctx.codes.new_code(draft, unit, unit.level.child, taken)
        draft.set(Unit(draft.new_uid(), code, f"新{unit.level.child.zh}{code[-3:]}",
                       unit.level.child, unit.uid, ground[slot]))


# ---- names, codes, locks ----------------------------------------------------------------
def rename(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    unit = draft.get(_code(op, "unit"))
    _official(unit, ctx, "改名", "rename")
    if op.get("name") is None:
        raise InputError("改名须给出新名称（name）。", "A rename needs the new 'name'.")
    draft.set(unit.but(name=_name(op, unit.name)))


def recode(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
    unit = draft.get(_code(op, "unit"))
    _official(unit, ctx, "改编码", "recode")
    parent = draft.unit(unit.parent)
    code = ctx.codes.check(draft, unit, _code(op, "code"), parent)
    reprefix(draft, unit, code)


def _locking(value: bool) -> Callable[[Draft, dict[str, Any], EditContext], None]:
    def edit(draft: Draft, op: dict[str, Any], ctx: EditContext) -> None:
        for code in _codes(op, "units"):
            unit = draft.get(code)
            if unit.locked != value:
                draft.set(unit.but(locked=value))
    edit.__doc__ = f"``{{\"op\": \"{'lock' if value else 'unlock'}\", \"units\": [...]}}``"
    return edit


EDITS: dict[str, Callable[[Draft, dict[str, Any], EditContext], None]] = {
    "move": move, "merge": merge, "split": split, "reshape": reshape, "create": create,
    "delete": delete, "rename": rename, "recode": recode, "regroup": regroup,
    "subdivide": subdivide,
    "lock": _locking(True), "unlock": _locking(False),
}


# ---- after every edit --------------------------------------------------------------------
def _same(a: Unit | None, b: Unit | None, *, but_lock: bool = False) -> bool:
    if a is None or b is None:
        return a is b
    return (a.code, a.name, a.level, a.parent, a.attrs) == (b.code, b.name, b.level, b.parent,
                                                           b.attrs) \
        and (a.geom is b.geom or shapely.equals_exact(a.geom, b.geom, 0.0)) \
        and (but_lock or a.locked == b.locked)


def finish(draft: Draft, ctx: EditContext) -> None:
    """Parents follow their children; then refuse changes to locked or (non-admin) official units.

    A parent whose children changed takes the union of their ground; an official parent only
    when ground crossed its boundary (which only an administrator may do). A planner's parent
    left with no children is removed.
    """
    state = draft.state
    dirty: set[int] = set()
    for uid, new in list(draft.changes.items()):
        old = state.units.get(uid)
        if _same(old, new, but_lock=True):
            continue
        for unit in (old, new):
            if unit is not None and unit.parent >= 0:
                dirty.add(unit.parent)
    def depth(uid: int) -> int:
        return (state.units.get(uid) or draft.unit(uid) or _NO_UNIT).level.depth

    while dirty:
        level = max(depth(uid) for uid in dirty)
        batch = sorted(uid for uid in dirty if depth(uid) == level)
        dirty -= set(batch)
        parents = [p for p in (draft.unit(uid) for uid in batch) if p is not None]
        if parents and parents[0].official:
            dirty |= _official_outlines(draft, parents)
            continue
        for parent in parents:
            kids = draft.kids(parent.uid)
            if not kids:
                draft.delete(parent.uid)
                draft.note(f"{parent.level.zh} {parent.code} 已没有下级单元，已删除。",
                           f"{parent.level.value} {parent.code} has no children left and was "
                           "removed.")
                dirty.add(parent.parent)
                continue
            ground = dissolve([k.geom for k in kids])
            if not shapely.equals_exact(ground, parent.geom, 0.0):
                draft.set(parent.but(geom=ground))
                dirty.add(parent.parent)
    dirty.discard(-1)
    for uid, new in draft.changes.items():
        old = state.units.get(uid)
        if _same(old, new, but_lock=True):
            continue
        for unit in (old, new):
            if unit is None:
                continue
            if unit.official and not ctx.admin:
                raise NotPermitted(
                    f"该编辑会改变{unit.level.zh} {unit.code}（{unit.name}）的官方边界，只有管理员可以进行。",
                    f"The edit would change the official {unit.level.value} {unit.code} "
                    f"({unit.name}); only an administrator may.", code=unit.code)
            guard = state.protected(unit.uid) if unit.uid in state.units else (
                state.protected(unit.parent) if unit.parent >= 0 and unit.parent in state.units
                else None)
            if guard is not None:
                raise Conflict(f"{guard.level.zh} {guard.code}（{guard.name}）已锁定，该编辑会改变"
                               f" {unit.code}；请先解锁。",
                               f"{guard.level.value} {guard.code} ({guard.name}) is locked and the "
                               f"edit would change {unit.code}; unlock it first.",
                               code=guard.code, changed=unit.code)


def _official_outlines(draft: Draft, parents: list[Unit]) -> set[int]:
    """New outlines of official units (of one level) whose children changed; their parents.

    An official outline moves only where ground crossed it: a unit gains the ground its
    children now hold outside it and loses the ground its official siblings gained from it.
    Ground its children no longer cover stays its own (a gap: a finding, not a new border).
    Only an administrator's edit may change an official outline (checked afterwards).
    """
    gained: dict[int, shapely.Geometry] = {}
    for parent in parents:
        kids = draft.kids(parent.uid)
        if not kids:
            raise InputError(f"{parent.level.zh} {parent.code} 将没有任何下级单元。",
                             f"{parent.level.value} {parent.code} would be left empty.",
                             code=parent.code)
        outside = polygonal(shapely.difference(dissolve([k.geom for k in kids]), parent.geom))
        if shapely.area(outside) > NOISE_DEG2 * 100:
            gained[parent.uid] = outside
    changed: set[int] = set()
    for parent in parents:
        lost = [g for uid, g in gained.items() if uid != parent.uid
                and shapely.intersects(g, parent.geom)]
        if parent.uid not in gained and not lost:
            continue
        geom = parent.geom
        if parent.uid in gained:
            geom = polygonal(shapely.union(geom, gained[parent.uid]))
        if lost:
            geom = polygonal(shapely.difference(geom, dissolve(lost)))
        draft.set(parent.but(geom=geom))
        changed.add(parent.parent)
    return changed


_NO_UNIT = Unit(-1, "", "", Level.STREET, -1, shapely.Polygon())
