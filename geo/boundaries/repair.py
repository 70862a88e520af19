"""Repair on request: make invalid geometries valid and close gaps and overlaps below tolerance.

Never silent, never losing ground. Every change is returned as a :class:`Change` with the unit's
area before and after (m², measured in a Gauss–Krüger zone) that the CLI and API show. An invalid
geometry is replaced by the valid construction that keeps the ground its rings draw (see
:mod:`wangge.geo.boundaries.validity`); a change of a unit's area by more than
``ValidationConfig.repair_max_area_change_pct`` (1 % by default), a repair that would leave a unit
empty, and any unit whose ground cannot be inferred (a NaN or infinite coordinate, coordinates
that are not longitude/latitude, rings that enclose nothing) are refused: the geometry is left
as drawn and the refusal is returned as a change with ``refused=True``, which
:func:`refusal_findings` turns into error findings. Only what the validator reports as below
tolerance (a warning) is closed; larger gaps and overlaps are planning decisions, left to people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from wangge.geo.boundaries.findings import ERROR, WARNING, Finding
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.boundaries.validity import Problem, best_fix, lonlat_ok, polygonal, problem
from wangge.geo.crs import area_m2, length_m, metric_crs_of
from wangge.geo.levels import parse_level


@dataclass(frozen=True)
class Change:
    """One change made by :func:`repair`, or refused (``refused``: the unit was left as drawn).

    ``feature`` is the unit's row in the table counting from 1 (its feature number in the file
    it was read from). ``area_before_m2`` and ``area_after_m2`` are the changed unit's areas (for
    an invalid geometry "before" is the ground its rings draw); ``area_m2`` is the area moved.
    """

    rule: str
    codes: tuple[str, ...]
    action_zh: str
    action_en: str
    area_m2: float
    location: tuple[float, float] | None
    feature: int | None = None
    area_before_m2: float | None = None
    area_after_m2: float | None = None
    method: str | None = None
    refused: bool = False
    level: str | None = None

    @property
    def change_pct(self) -> float | None:
        """Change of the unit's area in % of its area before (None when not measured)."""
        before, after = self.area_before_m2, self.area_after_m2
        if before is None or after is None:
            return None
        return _pct(after - before, before)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "codes": list(self.codes), "action": self.action_zh,
                "action_en": self.action_en, "area_m2": _rounded(self.area_m2, 3),
                "location": list(self.location) if self.location else None,
                "feature": self.feature, "area_before_m2": _rounded(self.area_before_m2, 3),
                "area_after_m2": _rounded(self.area_after_m2, 3),
                "change_pct": _rounded(self.change_pct, 4), "method": self.method,
                "refused": self.refused}

    def finding(self) -> Finding:
        """A refused repair as an error finding (rule ``repair_refused``)."""
        return Finding(rule="repair_refused", severity=ERROR, codes=self.codes,
                       message_zh=self.action_zh, message_en=self.action_en, level=self.level,
                       location=self.location, size=self.area_before_m2, size_unit="m2")


def refusal_findings(changes: list[Change]) -> list[Finding]:
    """Error findings for the refused repairs: they block making the release current."""
    return [c.finding() for c in changes if c.refused]


def _pct(delta: float, base: float) -> float:
    if base > 0:
        return 100.0 * delta / base
    return 0.0 if delta == 0 else math.copysign(math.inf, delta)


def _rounded(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None and math.isfinite(value) else None


def _pct_text(pct: float | None) -> str:
    if pct is None:
        return "?"
    return f"{pct:+.2f}%" if math.isfinite(pct) else ("+∞%" if pct > 0 else "-∞%")


def _where(geom: shapely.Geometry) -> tuple[float, float] | None:
    if geom is None or shapely.is_empty(geom):
        return None
    pt = shapely.point_on_surface(geom)
    return (round(float(shapely.get_x(pt)), 7), round(float(shapely.get_y(pt)), 7))


def _at(loc: tuple[float, float] | None) -> tuple[str, str]:
    if loc is None:
        return "", ""
    return f"，位置 ({loc[0]:.6f}, {loc[1]:.6f})", f" at ({loc[0]:.6f}, {loc[1]:.6f})"


_ORDER = {"street": 0, "community": 1, "grid": 2, "microgrid": 3}


class _Units:
    """The geometries being repaired, their codes and levels, and a metric area."""

    def __init__(self, units: gpd.GeoDataFrame, config: ValidationConfig) -> None:
        self.config = config
        self.geoms = np.asarray(units.geometry.values, dtype=object).copy()
        self.codes = units["code"].astype(str).to_numpy()
        self.levels = [lv.value if (lv := parse_level(v)) else None for v in units["level"]]
        types = shapely.get_type_id(self.geoms)
        self.polygonal = ((types == 3) | (types == 6)) & ~shapely.is_empty(self.geoms)
        self.valid = shapely.is_valid(self.geoms)
        self.lonlat = lonlat_ok(self.geoms, self.valid)
        self.metric = metric_crs_of(self.geoms[self.lonlat])
        self.changes: list[Change] = []

    def measure(self, geoms: np.ndarray) -> np.ndarray:
        return area_m2(np.asarray(geoms, dtype=object), self.metric)

    def area(self, geom: shapely.Geometry) -> float:
        return float(self.measure(np.array([geom], dtype=object))[0])

    def shared_edge_m(self, piece: shapely.Geometry, other: shapely.Geometry) -> float:
        line = shapely.intersection(shapely.boundary(piece), shapely.boundary(other))
        return float(length_m(np.array([line], dtype=object), self.metric)[0])

    def too_big(self, before: float, after: float) -> bool:
        """A change the tolerance refuses (and any change that empties a unit)."""
        if after <= 0.0 < before or before <= 0.0:
            return True
        return abs(_pct(after - before, before)) > self.config.repair_max_area_change_pct

    def refuse(self, i: int, rule: str, why_zh: str, why_en: str, where: tuple[float, float] | None,
               before: float | None, after: float | None, codes: tuple[str, ...] | None = None
               ) -> None:
        code, n = str(self.codes[i]), i + 1
        tol = self.config.repair_max_area_change_pct
        at_zh, at_en = _at(where)
        if before is not None and after is not None:
            pct = _pct_text(_pct(after - before, before))
            area_zh = f"面积 {before:.2f} → {after:.2f} 平方米（{pct}，允许 ±{tol:g}%）"
            area_en = f"area {before:.2f} -> {after:.2f} m² ({pct}, allowed ±{tol:g}%)"
        else:
            area_zh, area_en = "面积无法测量", "area cannot be measured"
        self.changes.append(Change(
            rule, codes or (code,),
            f"拒绝修复 {code}（第 {n} 个要素，规则 {rule}）{at_zh}：{why_zh}；{area_zh}。"
            "几何保持原样，请手工修正。",
            f"Repair refused for {code} (feature {n}, rule {rule}){at_en}: {why_en}; {area_en}. "
            "The geometry is left as drawn; fix it by hand.",
            abs(after - before) if before is not None and after is not None else 0.0, where,
            feature=n, area_before_m2=before, area_after_m2=after, refused=True,
            level=self.levels[i]))

    # -- invalid geometry ----------------------------------------------------------------
    def fix_invalid(self, i: int) -> None:
        g = self.geoms[i]
        found: Problem = problem(g)
        if not found.measurable:
            self.refuse(i, "invalid_geometry",
                        f"{found.reason_zh}，无法推断其范围", f"{found.reason}: its ground cannot "
                        "be inferred", found.where, None, None)
            return
        fix = best_fix(g, self.measure, self.config.noise_m2)
        if fix is None:
            self.refuse(i, "invalid_geometry", f"{found.reason_zh}，无法计算其各环围成的范围",
                        f"{found.reason}: the ground its rings draw cannot be computed",
                        found.where, None, None)
            return
        where = found.where or _where(fix.geometry)
        tol = self.config.repair_max_area_change_pct
        if fix.drawn_m2 <= self.config.noise_m2:
            self.refuse(i, "invalid_geometry",
                        f"{found.reason_zh}，各环按偶奇规则围不出任何面积（环已塌缩，或内环抵消了外环），"
                        "无从保留",
                        f"{found.reason}: its rings enclose no ground by the even-odd rule (a "
                        "collapsed ring, or a hole that cancels its shell), there is nothing to "
                        "keep", where,
                        fix.drawn_m2, fix.area_m2)
        elif fix.geometry is None:
            self.refuse(i, "invalid_geometry", f"{found.reason_zh}，无法由它构造有效的面",
                        f"{found.reason}: no valid polygon can be built from it", where,
                        fix.drawn_m2, 0.0)
        elif self.too_big(fix.drawn_m2, fix.area_m2) or fix.moved_pct > tol:
            self.refuse(i, "invalid_geometry",
                        f"{found.reason_zh}，最接近原范围的修复（{fix.method}）也会改动 "
                        f"{fix.moved_m2:.2f} 平方米（{fix.moved_pct:.2f}%）",
                        f"{found.reason}: the repair closest to the drawn ground ({fix.method}) "
                        f"still moves {fix.moved_m2:.2f} m² ({fix.moved_pct:.2f}%) of it", where,
                        fix.drawn_m2, fix.area_m2)
        else:
            self.geoms[i] = fix.geometry
            self.changes.append(Change(
                "invalid_geometry", (str(self.codes[i]),),
                f"修复无效几何（{found.reason_zh}），方法 {fix.method}，保留原范围",
                f"made valid ({found.reason}) with {fix.method}, keeping the drawn ground",
                abs(fix.area_m2 - fix.drawn_m2), where, feature=i + 1,
                area_before_m2=fix.drawn_m2, area_after_m2=fix.area_m2, method=fix.method,
                level=self.levels[i]))


def repair(units: gpd.GeoDataFrame, config: ValidationConfig | None = None
           ) -> tuple[gpd.GeoDataFrame, list[Change]]:
    """Return repaired units (a copy) and the changes made or refused (``Change.refused``)."""
    config = config or ValidationConfig()
    out = units.copy()
    u = _Units(out, config)
    geoms, codes = u.geoms, u.codes
    for i in np.flatnonzero(u.polygonal & ~(u.valid & u.lonlat)):
        u.fix_invalid(int(i))

    out = out.set_geometry(list(geoms), crs=out.crs)
    index = {c: i for i, c in reversed(list(enumerate(codes)))}
    levels = out["level"].astype(str).to_numpy()
    parents = out["parent_code"].to_numpy()
    report = validate(out, config)
    # Top level first, overlaps before gaps; each piece is re-cut against the current
    # geometries, so a fix already made by an earlier step is not applied twice.
    todo = sorted((f for f in report.findings if f.severity == WARNING and f.geometry is not None
                   and f.rule in ("overlap", "gap")),
                  key=lambda f: (_ORDER.get(f.level or "", 9), f.rule != "overlap"))
    for f in todo:
        if f.rule == "overlap":
            _close_overlap(u, f, index)
        else:
            _close_gap(u, f, index, levels, parents)
    return out.set_geometry(list(geoms), crs=out.crs), u.changes


def _close_overlap(u: _Units, f: Finding, index: dict[str, int]) -> None:
    geoms, codes = u.geoms, u.codes
    a, b = (index[c] for c in f.codes)
    piece = shapely.intersection(shapely.intersection(geoms[a], geoms[b]), f.geometry)
    size = u.area(piece)
    if size <= u.config.noise_m2:
        return
    rest_a = shapely.difference(geoms[a], piece)
    rest_b = shapely.difference(geoms[b], piece)
    order = (a, b) if u.shared_edge_m(piece, rest_a) >= u.shared_edge_m(piece, rest_b) else (b, a)
    # The piece goes to the unit it shares most edge with; taken from the other one unless that
    # changes its area beyond the tolerance, then the other way round, else refused.
    tried = []
    for keep, lose in (order, order[::-1]):
        cut = polygonal(shapely.difference(geoms[lose], piece))
        before, after = u.area(geoms[lose]), u.area(cut)
        tried.append((lose, before, after))
        if u.too_big(before, after):
            continue
        geoms[lose] = cut
        u.changes.append(Change(
            "overlap", (str(codes[keep]), str(codes[lose])),
            f"重叠碎片 {size:.3f} 平方米划归 {codes[keep]}"
            f"{'（共享边最长）' if (keep, lose) == order else ''}，从 {codes[lose]} 中扣除",
            f"overlap sliver of {size:.3f} m² kept by {codes[keep]}"
            f"{' (longest shared edge)' if (keep, lose) == order else ''}, removed from "
            f"{codes[lose]}", size, _where(piece), feature=lose + 1, area_before_m2=before,
            area_after_m2=after, level=u.levels[lose]))
        return
    lose, before, after = tried[0]
    u.refuse(lose, "overlap",
             f"从 {codes[a]} 或 {codes[b]} 中扣除 {size:.3f} 平方米的重叠碎片都会使其面积变化超出允许范围",
             f"removing the {size:.3f} m² overlap sliver from either {codes[a]} or {codes[b]} "
             "would change its area beyond the tolerance", _where(piece), before, after,
             codes=(str(codes[a]), str(codes[b])))


def _close_gap(u: _Units, f: Finding, index: dict[str, int], levels: np.ndarray,
               parents: np.ndarray) -> None:
    geoms, codes = u.geoms, u.codes
    parent = f.codes[0] if f.codes else None
    siblings = [i for i in range(len(codes)) if parents[i] == parent] if parent else \
        [i for i in range(len(codes)) if levels[i] == "street"]
    if not siblings:
        return
    piece = f.geometry
    if parent is not None:
        piece = shapely.intersection(piece, geoms[index[parent]])
    piece = shapely.difference(piece, shapely.union_all(geoms[siblings]))
    size = u.area(piece)
    if size <= u.config.noise_m2:
        return
    best = max(siblings, key=lambda i: u.shared_edge_m(piece, geoms[i]))
    grown = polygonal(shapely.union(geoms[best], piece))
    before, after = u.area(geoms[best]), u.area(grown)
    if u.too_big(before, after):
        u.refuse(best, "gap", f"并入 {size:.3f} 平方米的空隙碎片会使其面积变化超出允许范围",
                 f"merging the {size:.3f} m² gap sliver would change its area beyond the "
                 "tolerance", _where(piece), before, after)
        return
    geoms[best] = grown
    u.changes.append(Change(
        "gap", (str(codes[best]),),
        f"空隙碎片 {size:.3f} 平方米并入 {codes[best]}（共享边最长）",
        f"gap sliver of {size:.3f} m² merged into {codes[best]} (longest shared edge)",
        size, _where(piece), feature=best + 1, area_before_m2=before, area_after_m2=after,
        level=u.levels[best]))
