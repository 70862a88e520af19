"""Findings of a boundary validation and the report that collects them.

Every finding says which rule, which unit code(s), how severe, where (a lon/lat point) and how
big (m² or m), with a message in Chinese and English. A report holds every finding of a release:
validation never stops at the first problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import shapely

ERROR = "error"
WARNING = "warning"

# Rule identifiers with their Chinese names (for tables and maps).
RULES_ZH: dict[str, str] = {
    "empty_geometry": "几何为空",
    "not_polygon": "非面状几何",
    "invalid_geometry": "几何无效",
    "duplicate_code": "编码重复",
    "unknown_level": "层级无法识别",
    "missing_parent": "缺少上级",
    "unknown_parent": "上级不存在",
    "wrong_parent_level": "上级层级错误",
    "outside_parent": "超出上级范围",
    "overlap": "同级重叠",
    "gap": "覆盖空隙",
    "sliver": "细碎多边形",
    "no_children": "缺少下级",
    "code_format": "编码格式不符",
    "area_out_of_range": "面积超出范围",
    "extent_unchecked": "区县范围未完整检查",
    "repair_refused": "拒绝修复",
}


@dataclass(frozen=True)
class Finding:
    """One problem found in a release."""

    rule: str
    severity: str
    codes: tuple[str, ...]
    message_zh: str
    message_en: str
    level: str | None = None
    location: tuple[float, float] | None = None  # lon, lat (EPSG:4490)
    size: float | None = None
    size_unit: str | None = None  # "m2" or "m"
    geometry: shapely.Geometry | None = None  # where it is, EPSG:4490 (gap/overlap pieces...)

    def as_dict(self, with_geometry: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule, "rule_zh": RULES_ZH.get(self.rule, self.rule),
            "severity": self.severity, "codes": list(self.codes), "level": self.level,
            "message": self.message_zh, "message_en": self.message_en,
            "location": list(self.location) if self.location else None,
            "size": round(self.size, 3) if self.size is not None and math.isfinite(self.size)
            else None,
            "size_unit": self.size_unit,
        }
        if with_geometry:
            out["geometry"] = (shapely.geometry.mapping(self.geometry)
                               if self.geometry is not None else None)
        return out


@dataclass
class Report:
    """All findings of one validation run."""

    findings: list[Finding] = field(default_factory=list)
    unit_count: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.rule] = counts.get(f.rule, 0) + 1
        return counts

    def as_dict(self, with_geometry: bool = True) -> dict[str, Any]:
        return {
            "ok": self.ok, "unit_count": self.unit_count,
            "error_count": len(self.errors), "warning_count": len(self.warnings),
            "by_rule": self.by_rule(), "seconds": round(self.seconds, 3),
            "findings": [f.as_dict(with_geometry) for f in self.findings],
        }
