"""A plan to and from desktop GIS.

:func:`export_plan` writes the plan's units as a GeoPackage with one layer per level (street,
community, grid, microgrid) in CGCS2000, what QGIS opens as it is. :func:`read_plan_file` reads
such a file back (or a GeoJSON of one level) through the one boundary reader, and
:func:`import_plan` turns what changed into the editor's own edits: a ``move`` per new parent
(micro-grids whose ``parent_code`` changed), a ``rename`` per new name, a ``reshape`` per
redrawn outline (micro-grids first, then grids, so a grid redrawn to match its redrawn
micro-grids changes nothing more). The edits are tried on a copy of the plan first: an edit
refused there, or new validation errors, refuse the whole import and change nothing.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry

from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.errors import Conflict, InputError, ValidationFailed, WanggeError
from wangge.geo.io.boundaries import COLUMNS, read_units, write_units
from wangge.geo.io.vector import read_vector
from wangge.geo.levels import ORDER, Level
from wangge.plans import PlanService

# Outlines closer than this (Hausdorff distance, degrees: about 1 cm) are the same outline: a
# round trip through a desktop GIS may reorder vertices or add points on edges.
SAME_OUTLINE_DEG = 1e-7
LAYERS = tuple(level.value for level in ORDER)
MAX_LISTED = 20


# ---- export ------------------------------------------------------------------------------
def export_plan(plans: PlanService, plan_id: int, path: Path) -> Path:
    """The plan's units as a GeoPackage at ``path``: one layer per level, CGCS2000."""
    frame = plans.units(plan_id)
    if path.exists():
        path.unlink()
    for level in LAYERS:
        part = frame[frame["level"] == level]
        if len(part):
            write_units(part, path, layer=level, add_layer=True)
    return path


def export_bytes(plans: PlanService, plan_id: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="wangge-plan-") as tmp:
        return export_plan(plans, plan_id, Path(tmp) / f"plan-{plan_id}.gpkg").read_bytes()


# ---- import ------------------------------------------------------------------------------
def read_plan_file(path: Path, *, display_name: str | None = None, crs: object | None = None,
                   config: ValidationConfig | None = None) -> gpd.GeoDataFrame:
    """The units of a file edited in a desktop GIS, as a unit table (EPSG:4490).

    A GeoPackage with layers named after levels (as :func:`export_plan` writes it) is read
    layer by layer; any other file is read as one layer whose features carry their level.
    """
    name = display_name or path.name
    layers = read_vector(path, name).attrs["layers"]
    named = [layer for layer in layers if layer in LAYERS]
    if not named:
        return read_units(path, crs=crs, config=config, display_name=name).frame
    frames = [read_units(path, crs=crs, layer=layer, level=layer, config=config,
                         display_name=name).frame for layer in named]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True)[COLUMNS], crs=frames[0].crs)


def _moved(a: shapely.Geometry, b: shapely.Geometry) -> bool:
    return bool(shapely.hausdorff_distance(a, b) > SAME_OUTLINE_DEG)


def _listed(codes: list[str]) -> tuple[str, str]:
    shown = codes[:MAX_LISTED]
    more = len(codes) - len(shown)
    return ("、".join(shown) + (f" 等 {len(codes)} 个" if more else ""),
            ", ".join(shown) + (f" and {more} more" if more else ""))


def intents(current: gpd.GeoDataFrame, edited: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """What changed from ``current`` (the plan's units) to ``edited`` (a file), as edits in
    the order they are applied, with the codes of ``current``. Every problem of the file is
    reported at once: codes not in the plan, repeated codes, a level that differs."""
    known = {str(c): i for i, c in enumerate(current["code"])}
    codes = [str(c) for c in edited["code"]]
    unknown = sorted({c for c in codes if c not in known})
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    levels = current["level"].to_numpy()
    wrong_level = sorted({c for c, lv in zip(codes, edited["level"], strict=True)
                          if c in known and levels[known[c]] != lv})
    problems_zh, problems_en = [], []
    for found, zh, en in ((unknown, "方案中没有这些单元（新单元请在编辑器中绘制）",
                           "units not in the plan (draw new units in the editor)"),
                          (repeated, "编码重复", "repeated codes"),
                          (wrong_level, "层级与方案不同", "level differs from the plan")):
        if found:
            listed_zh, listed_en = _listed(found)
            problems_zh.append(f"{zh}：{listed_zh}")
            problems_en.append(f"{en}: {listed_en}")
    if problems_zh:
        raise InputError("文件不能导入：" + "；".join(problems_zh) + "。",
                         "The file cannot be imported: " + "; ".join(problems_en) + ".",
                         unknown=unknown[:200], repeated=repeated[:200], wrong_level=wrong_level[:200])
    moves: dict[tuple[int, str], list[str]] = defaultdict(list)
    renames, reshapes = [], []
    for code, name, parent, level, geom in zip(codes, edited["name"], edited["parent_code"],
                                               edited["level"], edited.geometry, strict=True):
        row = known[code]
        depth = Level(level).depth
        old_parent = current["parent_code"].iloc[row]
        if isinstance(parent, str) and parent and parent != old_parent:
            moves[(depth, parent)].append(code)
        if isinstance(name, str) and name and name != current["name"].iloc[row]:
            renames.append({"op": "rename", "unit": code, "name": name})
        if geom is not None and not geom.is_empty and _moved(geom, current.geometry.iloc[row]):
            reshapes.append((-depth, code, geom))
    out: list[dict[str, Any]] = [{"op": "move", "units": units, "to": to}
                                 for (_, to), units in sorted(moves.items())]
    out += renames
    out += [{"op": "reshape", "unit": code, "outline": shapely.geometry.mapping(geom)}
            for _, code, geom in sorted(reshapes, key=lambda r: (r[0], r[1]))]
    return out


def _recoded(op: dict[str, Any], codes: dict[str, str]) -> dict[str, Any]:
    """``op`` with the codes earlier edits changed (a moved unit gets a code under its parent)."""
    def now(code: str) -> str:
        seen = set()
        while code in codes and code not in seen:
            seen.add(code)
            code = codes[code]
        return code

    out = dict(op)
    for key in ("unit", "to"):
        if key in out:
            out[key] = now(out[key])
    if "units" in out:
        out["units"] = [now(c) for c in out["units"]]
    return out


def _brief(op: dict[str, Any]) -> dict[str, Any]:
    """An edit as a refusal names it: its kind and units, not its outline."""
    return {k: v for k, v in op.items() if k not in ("outline", "line")}


def _error_keys(findings: list[dict[str, Any]]) -> set[tuple[str, tuple[str, ...]]]:
    return {(f["rule"], tuple(sorted(f["codes"]))) for f in findings if f["severity"] == "error"}


def import_plan(plans: PlanService, plan_id: int, edited: gpd.GeoDataFrame, *, admin: bool,
                author: str | None = None, source: str = "file") -> dict[str, Any]:
    """Apply what changed in ``edited`` to the plan as edits; all of them or none.

    The edits are first applied to a copy of the plan (its log replayed), where each is
    checked as in the editor; a refused edit, or errors the plan did not have, refuse the
    import with the reason and the findings. Then the same edits go to the plan itself.
    """
    info = plans.store.plan(plan_id)
    if info.status != "draft":
        raise Conflict(f"方案 {plan_id} 不是草稿，不能导入编辑。",
                       f"Plan {plan_id} is {info.status}; only a draft takes edits.",
                       plan_id=plan_id, status=info.status)
    todo = intents(plans.units(plan_id), edited)
    if not todo:
        return {"applied": 0, "edits": [], "notes": [{
            "message": f"{source} 与方案相同，没有需要导入的改动。",
            "message_en": f"{source} matches the plan: nothing to import."}],
            "plan": plans.summary(plan_id)}
    before = _error_keys(plans.findings(plan_id))
    trial = plans.trial(plan_id)
    codes: dict[str, str] = {}
    ops: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    for intent in todo:
        op = _recoded(intent, codes)
        if op["op"] == "reshape":
            unit = trial.state.get(op["unit"])
            if not _moved(shapely.geometry.shape(op["outline"]), unit.geom):
                continue   # already so (e.g. a grid redrawn around its redrawn micro-grids)
        try:
            answer = trial.edit(op, admin=admin)
        except ValidationFailed:
            raise
        except WanggeError as exc:
            where = op.get("unit") or ", ".join(op.get("units", []))
            raise type(exc)(f"导入被拒绝：{op['op']} {where}：{exc.message_zh}",
                            f"Import refused: {op['op']} {where}: {exc.message_en}",
                            **{**exc.detail, "edit": _brief(intent)}) from exc
        codes.update(answer["recoded"])
        notes += answer["notes"]
        ops.append(op)
    found = [f.as_dict(with_geometry=False) for f in trial.findings.all()]
    new_errors = [f for f in found if f["severity"] == "error"
                  and (f["rule"], tuple(sorted(f["codes"]))) not in before]
    if new_errors:
        raise ValidationFailed(
            f"导入会给方案带来 {len(new_errors)} 个新错误，未导入；请在 {source} 中修正。",
            f"The import would add {len(new_errors)} errors to the plan; nothing was imported. "
            f"Fix them in {source}.", report={"findings": new_errors, "plan_id": plan_id},
            plan_id=plan_id)
    applied: list[dict[str, Any]] = []
    try:
        for op in ops:
            answer = plans.edit(plan_id, op, admin=admin, author=author)
            applied.append({"seq": answer["seq"], "op": op["op"],
                            "units": [op["unit"]] if "unit" in op else op["units"],
                            "recoded": answer["recoded"], "deleted": answer["deleted"]})
    except WanggeError as exc:
        for _ in applied:
            plans.undo(plan_id)
        raise Conflict(f"方案在导入时被修改，导入已撤回：{exc.message_zh}",
                       f"The plan changed during the import, which was taken back: "
                       f"{exc.message_en}", plan_id=plan_id) from exc
    return {"applied": len(applied), "edits": applied, "notes": notes,
            "plan": plans.summary(plan_id)}
