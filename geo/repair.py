"""Repair on request: make invalid geometries valid and close gaps and overlaps below tolerance.

Never silent: every change is returned as a :class:`Change` that the CLI and API show. Only
what the validator reports as below tolerance (a warning) is closed; larger gaps and overlaps
are planning decisions, left to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import area_m2, length_m, metric_crs_of
from geo.findings import WARNING
from geo.rules import ValidationConfig
from geo.validate import validate


@dataclass(frozen=True)
class Change:
    """One change made by :func:`repair`."""

    rule: str
    codes: tuple[str, ...]
    action_zh: str
    action_en: str
    area_m2: float
    location: tuple[float, float] | None

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "codes": list(self.codes), "action": self.action_zh,
                "action_en": self.action_en, "area_m2": round(self.area_m2, 3),
                "location": list(self.location) if self.location else None}


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal parts of a geometry (an empty Polygon if it has none)."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    polys = [q for p in parts for q in shapely.get_parts(p) if not shapely.is_empty(q)]
    if not polys:
        return shapely.Polygon()
    return shapely.multipolygons(polys) if len(polys) > 1 else polys[0]


def _where(geom: shapely.Geometry) -> tuple[float, float] | None:
    if geom is None or shapely.is_empty(geom):
        return None
    pt = shapely.point_on_surface(geom)
    return (round(float(shapely.get_x(pt)), 7), round(float(shapely.get_y(pt)), 7))


_ORDER = {"street": 0, "community": 1, "grid": 2, "microgrid": 3}


def repair(units: gpd.GeoDataFrame, config: ValidationConfig | None = None
           ) -> tuple[gpd.GeoDataFrame, list[Change]]:
    """Return repaired units (a copy) and the list of changes made."""
    config = config or ValidationConfig()
    out = units.copy()
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    metric = metric_crs_of(geoms)
    changes: list[Change] = []
    codes = out["code"].astype(str).to_numpy()

    def shared_edge_m(piece: shapely.Geometry, other: shapely.Geometry) -> float:
        line = shapely.intersection(shapely.boundary(piece), shapely.boundary(other))
        return float(length_m(np.array([line], dtype=object), metric)[0])

    def area(geom: shapely.Geometry) -> float:
        return float(area_m2(np.array([geom], dtype=object), metric)[0])

    invalid = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        before = area(geoms[i])
        fixed = _polygonal(shapely.make_valid(geoms[i], method="structure", keep_collapsed=False))
        geoms[i] = fixed
        changes.append(Change(
            "invalid_geometry", (str(codes[i]),),
            f"用 make_valid 修复无效几何（面积 {before:.2f} → {area(fixed):.2f} 平方米）",
            f"made valid with make_valid (area {before:.2f} -> {area(fixed):.2f} m²)",
            abs(area(fixed) - before), _where(fixed)))

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
            a, b = (index[c] for c in f.codes)
            piece = shapely.intersection(shapely.intersection(geoms[a], geoms[b]), f.geometry)
            if area(piece) <= config.noise_m2:
                continue
            rest_a = shapely.difference(geoms[a], piece)
            rest_b = shapely.difference(geoms[b], piece)
            keep, lose = (a, b) if shared_edge_m(piece, rest_a) >= shared_edge_m(piece, rest_b) \
                else (b, a)
            geoms[lose] = _polygonal(shapely.difference(geoms[lose], piece))
            changes.append(Change(
                "overlap", (str(codes[keep]), str(codes[lose])),
                f"重叠碎片 {area(piece):.3f} 平方米划归 {codes[keep]}（共享边最长），从 {codes[lose]} 中扣除",
                f"overlap sliver of {area(piece):.3f} m² kept by {codes[keep]} (longest shared edge), "
                f"removed from {codes[lose]}", area(piece), _where(piece)))
        else:
            parent = f.codes[0] if f.codes else None
            siblings = [i for i in range(len(codes)) if parents[i] == parent] if parent else \
                [i for i in range(len(codes)) if levels[i] == "street"]
            if not siblings:
                continue
            piece = f.geometry
            if parent is not None:
                piece = shapely.intersection(piece, geoms[index[parent]])
            piece = shapely.difference(piece, shapely.union_all(geoms[siblings]))
            if area(piece) <= config.noise_m2:
                continue
            best = max(siblings, key=lambda i: shared_edge_m(piece, geoms[i]))
            geoms[best] = _polygonal(shapely.union(geoms[best], piece))
            changes.append(Change(
                "gap", (str(codes[best]),),
                f"空隙碎片 {area(piece):.3f} 平方米并入 {codes[best]}（共享边最长）",
                f"gap sliver of {area(piece):.3f} m² merged into {codes[best]} (longest shared edge)",
                area(piece), _where(piece)))
    return out.set_geometry(list(geoms), crs=out.crs), changes
