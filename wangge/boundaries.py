"""Boundary workflows shared by the CLI and the API: check a file, import it as a release.

One place decides the import policy:
- a file that cannot be read is refused; so is one that cannot be stored even as a draft:
  repeated codes (codes are the key of a release), units without geometry or without a level;
- ``make_current=True`` (the default of the CLI) stores the release only if it has no errors,
  else refuses with the whole report and stores nothing;
- ``make_current=False`` stores the release as a draft with its report, errors or not, so that
  planners can look at it, export it and fix it; errors block publishing it later;
- a repair that was asked for (``--repair``) and refused, because it would change a unit's area
  beyond the tolerance or the unit's ground cannot be inferred, refuses the import, draft or
  not: the planner asked for repaired data and would get the unit as drawn instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from wangge.geo.boundaries.findings import Report
from wangge.geo.boundaries.repair import Change, refusal_findings, repair
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.crs import area_m2
from wangge.geo.errors import ValidationFailed
from wangge.geo.io.boundaries import read_units
from wangge.geo.io.result import ReadResult
from wangge.store import ReleaseInfo, Store


@dataclass
class Checked:
    """A file read, optionally repaired, and validated."""

    read: ReadResult
    report: Report
    changes: list[Change] = field(default_factory=list)

    @property
    def units(self) -> gpd.GeoDataFrame:
        return self.read.frame

    def as_dict(self, with_geometry: bool = True) -> dict[str, Any]:
        return {"source_crs": self.read.source_crs, "field_mapping": self.read.mapping,
                "feature_count": self.read.count, "notes": self.read.notes,
                "repairs": [c.as_dict() for c in self.changes],
                "report": self.report.as_dict(with_geometry)}


UNSTORABLE = {"duplicate_code": ("编码重复", "duplicate codes"),
              "empty_geometry": ("几何为空", "empty geometry"),
              "unknown_level": ("层级无法识别", "unknown level")}


# Called around each step of :func:`check_file` with the step's name (``read``, ``repair``,
# ``validate``); what it yields is called with the step's result before the step ends.
StepHook = Callable[[str], AbstractContextManager[Callable[[Any], None]]]


@contextmanager
def _no_hook(_step: str) -> Iterator[Callable[[Any], None]]:
    yield lambda _result: None


def check_file(path: str | Path, config: ValidationConfig, *, crs: object | None = None,
               fields: dict[str, str] | None = None, level: str | None = None,
               do_repair: bool = False, extent: shapely.Geometry | None = None,
               display_name: str | None = None, step: StepHook = _no_hook) -> Checked:
    """Read and validate a file (repairing first if asked); stores nothing.

    ``step`` wraps each step (the CLI shows them as stages of a progress display): it gets the
    read :class:`ReadResult`, the list of repair changes, then the :class:`Report`.
    """
    with step("read") as done:
        read = read_units(path, crs=crs, fields=fields, level=level, config=config,
                          display_name=display_name)
        done(read)
    changes: list[Change] = []
    if do_repair:
        with step("repair") as done:
            read.frame, changes = repair(read.frame, config)
            done(changes)
    with step("validate") as done:
        report = validate(read.frame, config, extent=extent)
        report.findings[:0] = refusal_findings(changes)
        done(report)
    return Checked(read=read, report=report, changes=changes)


def with_areas(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``area_m2`` measured in the units' Gauss–Krüger zone."""
    out = units.copy()
    out["area_m2"] = area_m2(np.asarray(units.geometry.values, dtype=object))
    return out


def store_checked(store: Store, checked: Checked, *, source: str, make_current: bool,
                  effective_date: date | None = None, note: str | None = None) -> ReleaseInfo:
    """Store a checked file as a release, following the import policy above."""
    report = checked.report
    refused = [f for f in report.errors if f.rule == "repair_refused"]
    if refused:
        codes = list(dict.fromkeys(c for f in refused[:20] for c in f.codes))
        raise ValidationFailed(
            f"导入被拒绝：{len(refused)} 处修复被拒绝（{'、'.join(codes)}），这些单元若按原样保存就不是"
            "所要求的修复结果；未写入任何数据。请手工修正后重试，或不带 --repair 导入为草稿。",
            f"Import refused: {len(refused)} repairs were refused ({', '.join(codes)}); "
            "storing those units as drawn is not the repaired data asked for, so nothing was "
            "stored. Fix them by hand and retry, or import without --repair as a draft.",
            report=checked.as_dict())
    blocking = [f for f in report.errors if f.rule in UNSTORABLE]
    if blocking:
        kinds = sorted({f.rule for f in blocking})
        codes = "、".join(c for f in blocking[:20] for c in f.codes)
        raise ValidationFailed(
            f"导入被拒绝：{'、'.join(UNSTORABLE[k][0] for k in kinds)}（{codes}），"
            "这样的数据连草稿也不能保存。",
            f"Import refused: {', '.join(UNSTORABLE[k][1] for k in kinds)} ({codes}); such data "
            "cannot be stored, not even as a draft.",
            report=checked.as_dict())
    if make_current and not report.ok:
        raise ValidationFailed(
            f"导入被拒绝：有 {len(report.errors)} 个错误，不能设为当前版本；未写入任何数据。"
            "修正后重试，或以草稿导入（--draft）。",
            f"Import refused: {len(report.errors)} errors block making it current; nothing was "
            "stored. Fix them, or import as a draft (--draft).",
            report=checked.as_dict())
    return store.create_release(
        with_areas(checked.units), source=source, effective_date=effective_date,
        report=checked.as_dict(), error_count=len(report.errors),
        warning_count=len(report.warnings), make_current=make_current, note=note)


def publish(store: Store, release_id: int, effective_date: date | None = None) -> ReleaseInfo:
    """Publish a stored release: in force now, or scheduled when ``effective_date`` (a China
    date, default the release's own) is after today (see ``Store.make_current``); refused with
    its report if it has errors."""
    info = store.release(release_id)
    if info.error_count:
        raise ValidationFailed(
            f"版本 {release_id} 有 {info.error_count} 个错误，不能发布。",
            f"Release {release_id} has {info.error_count} errors and cannot be published.",
            report=store.report(release_id), release_id=release_id)
    return store.make_current(release_id, effective_date)
