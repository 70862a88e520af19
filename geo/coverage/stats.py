"""Service-circle coverage per unit: how many households are within 5, 10, 15 minutes of a site.

Inputs are what the other modules produce: the units (``code, level, parent_code, geometry``), the
households with their codes per level (columns ``microgrid, grid, community, street`` as from
:meth:`wangge.geo.index.hierarchy.HierarchyIndex.assign`) and each household's minutes to the
nearest site (from :func:`wangge.geo.coverage.catchment.compute_catchments`). The statistics are
counting only (``np.bincount`` over unit positions), a few milliseconds for every unit of a
district; the uncovered *areas* need geometry and are a separate, slower call
(:func:`uncovered_areas`).

Every answer carries the settings it was computed with (thresholds, speed, method) in ``attrs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.geo.boundaries.findings import Report
from wangge.geo.crs import STORAGE_CRS, area_m2, metric_crs_of
from wangge.geo.errors import InputError
from wangge.geo.levels import ORDER, Level, parse_level

__all__ = ["CoverageStats", "coverage_from_catchments", "coverage_stats", "gap_polygons",
           "households_by_level", "uncovered_areas", "uncovered_households"]

LEVEL_COLUMNS = tuple(lv.value for lv in ORDER)


@dataclass(frozen=True)
class CoverageStats:
    """Per-unit counts (``table``) and what they were computed with.

    ``table`` has one row per unit, in the order of ``units``: ``code, level, parent_code,
    households, within_<m>`` and ``share_<m>`` for each threshold ``m``, ``uncovered`` (outside
    the largest threshold), and with workers ``full_time_workers, workers,
    households_per_worker`` (households per full-time worker; NaN without one) and
    ``no_full_time_worker`` (grids only; False for other levels). ``unassigned`` counts the
    households without a unit at the finest level present.
    """

    table: pd.DataFrame
    thresholds_min: tuple[float, ...]
    households: int
    unassigned: int
    settings: dict[str, Any]

    def level(self, level: str | Level) -> pd.DataFrame:
        return self.table[self.table["level"] == str(Level(level).value)]

    def grids_without_full_time_worker(self) -> list[str]:
        if "no_full_time_worker" not in self.table:
            return []
        return self.table.loc[self.table["no_full_time_worker"], "code"].tolist()


def _unit_levels(units: gpd.GeoDataFrame) -> NDArray[np.object_]:
    missing = [c for c in ("code", "level", "parent_code") if c not in units.columns]
    if missing:
        raise InputError(f"单元数据缺少列：{'、'.join(missing)}", f"The units lack columns: {missing}")
    levels = np.array([parse_level(v) for v in units["level"]], dtype=object)
    if any(lv is None for lv in levels):
        bad = sorted({str(v) for v, lv in zip(units["level"], levels, strict=True) if lv is None})
        raise InputError(f"未知层级：{'、'.join(bad)}", f"Unknown levels: {', '.join(bad)}")
    return levels


def coverage_stats(units: gpd.GeoDataFrame | pd.DataFrame, households: pd.DataFrame,
                   minutes: ArrayLike, *, thresholds_min: Sequence[float] = (5, 10, 15),
                   workers: pd.DataFrame | None = None, weights: ArrayLike | None = None,
                   settings: dict[str, Any] | None = None) -> CoverageStats:
    """Households within each threshold, per unit of every level (see :class:`CoverageStats`).

    ``minutes`` holds each household's minutes to its nearest site (``inf`` when none is
    reachable). ``workers`` (from :func:`wangge.geo.io.workers.read_workers`) has ``grid_code`` and
    ``full_time``. ``weights`` counts residents instead of households (default 1 each).
    ``settings`` (e.g. speed, method of the catchments) is copied into the answer.
    """
    levels = _unit_levels(units)
    mins = np.asarray(minutes, dtype=float)
    n = len(households)
    thresholds = tuple(float(t) for t in thresholds_min)
    problems = []
    if mins.shape != (n,):
        problems.append(("分钟数应每户一个", f"minutes must hold one value per household ({n})"))
    if not thresholds or sorted(thresholds) != list(thresholds) or min(thresholds) <= 0:
        problems.append(("阈值应为递增的正数", "thresholds must be increasing positive numbers"))
    present = [c for c in LEVEL_COLUMNS if c in households.columns]
    if not present:
        problems.append(("住户缺少单元编码列（microgrid、grid、community、street）",
                         "households lack code columns (microgrid, grid, community, street)"))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        problems.append(("权重应每户一个", "weights must hold one value per household"))
    if problems:
        raise InputError("无法统计覆盖：" + "；".join(p[0] for p in problems),
                         "Cannot compute coverage: " + "; ".join(p[1] for p in problems))

    codes = units["code"].astype(str).to_numpy()
    index = pd.Index(codes)
    m = len(codes)
    total = np.zeros(m)
    within = np.zeros((len(thresholds), m))
    level_values = np.array([lv.value for lv in levels], dtype=object)
    # Which threshold band each household falls in (len(thresholds) = beyond all of them).
    band = np.searchsorted(np.asarray(thresholds), np.where(np.isnan(mins), np.inf, mins), side="left")
    finest = present[-1]
    for col in present:
        pos = index.get_indexer(households[col].to_numpy(dtype=object))
        ok = pos >= 0
        # Only count a household for units of the level its column names.
        ok[ok] = level_values[pos[ok]] == col
        p, b, ww = pos[ok], band[ok], w[ok]
        total += np.bincount(p, weights=ww, minlength=m)
        per_band = np.bincount(p * (len(thresholds) + 1) + b, weights=ww,
                               minlength=m * (len(thresholds) + 1)).reshape(m, -1)
        within += np.cumsum(per_band[:, :len(thresholds)], axis=1).T
    unassigned = int((index.get_indexer(households[finest].to_numpy(dtype=object)) < 0).sum())

    table = pd.DataFrame({"code": codes, "level": level_values,
                          "parent_code": units["parent_code"].to_numpy(dtype=object)})
    if "name" in units.columns:
        table.insert(1, "name", units["name"].to_numpy(dtype=object))
    integral = weights is None
    table["households"] = total.astype(np.int64) if integral else total
    with np.errstate(invalid="ignore", divide="ignore"):
        for t, row in zip(thresholds, within, strict=True):
            label = f"{t:g}"
            table[f"within_{label}"] = row.astype(np.int64) if integral else row
            table[f"share_{label}"] = np.where(total > 0, row / total, np.nan)
    table["uncovered"] = table["households"] - table[f"within_{thresholds[-1]:g}"]
    if workers is not None:
        _add_workers(table, units, levels, workers)
    info = {"thresholds_min": list(thresholds), "weights": "households" if integral else "weights",
            **(settings or {})}
    table.attrs.update(info)
    return CoverageStats(table=table, thresholds_min=thresholds, households=n, unassigned=unassigned,
                         settings=info)


def coverage_from_catchments(units: gpd.GeoDataFrame | pd.DataFrame, households: pd.DataFrame,
                             catchments: Any, *, workers: pd.DataFrame | None = None,
                             weights: ArrayLike | None = None) -> CoverageStats:
    """:func:`coverage_stats` with the minutes, thresholds and settings of a
    :class:`wangge.geo.coverage.catchment.Catchments` (method, speed), so the answer says how it
    was computed."""
    settings = {"method": catchments.method, "speed_kmh": catchments.speed_kmh}
    return coverage_stats(units, households, catchments.household_minutes,
                          thresholds_min=tuple(catchments.thresholds_min), workers=workers,
                          weights=weights, settings=settings)


def _add_workers(table: pd.DataFrame, units: pd.DataFrame, levels: NDArray[np.object_],
                 workers: pd.DataFrame) -> None:
    """Full-time and all workers per unit (a grid's workers count for its ancestors too)."""
    missing = [c for c in ("grid_code", "full_time") if c not in workers.columns]
    if missing:
        raise InputError(f"网格员数据缺少列：{'、'.join(missing)}", f"The workers lack columns: {missing}")
    codes = table["code"].to_numpy(dtype=object)
    index = pd.Index(codes)
    parent = index.get_indexer(table["parent_code"].to_numpy(dtype=object))
    m = len(codes)
    pos = index.get_indexer(workers["grid_code"].astype(str).to_numpy(dtype=object))
    full = workers["full_time"].to_numpy(dtype=bool)
    ok = pos >= 0
    full_count = np.bincount(pos[ok], weights=full[ok], minlength=m)
    all_count = np.bincount(pos[ok], minlength=m).astype(float)
    # Push counts up the hierarchy, finest level first (a unit's parent is one level up).
    for lv in reversed(ORDER):
        rows = np.flatnonzero((levels == lv) & (parent >= 0))
        if lv is Level.MICROGRID or not len(rows):
            continue
        np.add.at(full_count, parent[rows], full_count[rows])
        np.add.at(all_count, parent[rows], all_count[rows])
    table["full_time_workers"] = full_count.astype(np.int64)
    table["workers"] = all_count.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["households_per_worker"] = np.where(full_count > 0,
                                                  table["households"].to_numpy() / full_count, np.nan)
    table["no_full_time_worker"] = (levels == Level.GRID) & (full_count == 0)
    table.attrs["workers_unknown_grid"] = int((~ok).sum())


def uncovered_households(households: pd.DataFrame, minutes: ArrayLike, *, threshold_min: float = 15,
                         id_column: str = "external_id") -> pd.DataFrame:
    """The households farther than ``threshold_min`` from every site, with their codes, lon/lat
    and minutes (``inf`` when no site is reachable), farthest first."""
    mins = np.asarray(minutes, dtype=float)
    if mins.shape != (len(households),):
        raise InputError("分钟数应每户一个。", "minutes must hold one value per household.")
    out = np.flatnonzero(~(mins <= threshold_min))
    cols = [c for c in (id_column, "lon", "lat", *LEVEL_COLUMNS) if c in households.columns]
    frame = households.iloc[out][cols].copy()
    frame["minutes"] = mins[out]
    frame = frame.sort_values("minutes", ascending=False, kind="stable")
    frame.attrs["threshold_min"] = threshold_min
    return frame


def uncovered_areas(units: gpd.GeoDataFrame, catchment_polygons: gpd.GeoDataFrame | None, *,
                    minutes: float = 15, levels: Sequence[str] | None = None,
                    min_area_m2: float = 1.0) -> gpd.GeoDataFrame:
    """Each unit minus the union of the ``minutes`` catchment polygons, in EPSG:4490.

    ``catchment_polygons``: ``Catchments.covered()`` (the union in pieces, fast) or
    ``Catchments.polygons`` (columns ``minutes, geometry``; None or empty: nothing covered).
    Returns ``code, level, area_m2, unit_area_m2, share, geometry`` for units whose uncovered part
    measures at least ``min_area_m2`` (areas in the Gauss–Krüger zone of the units). Each unit
    meets only the pieces near it, clipped to its box (:func:`_minus_nearby`).
    """
    unit_levels = _unit_levels(units)
    sel = np.ones(len(units), dtype=bool)
    if levels is not None:
        wanted = {parse_level(v) for v in levels}
        sel = np.array([lv in wanted for lv in unit_levels], dtype=bool)
    geoms = np.asarray(units.geometry.to_numpy(), dtype=object)[sel]
    codes = units["code"].astype(str).to_numpy()[sel]
    lv_values = np.array([lv.value for lv in unit_levels[sel]], dtype=object)
    polys = np.zeros(0, dtype=object)
    if catchment_polygons is not None and len(catchment_polygons):
        cp = catchment_polygons
        if "minutes" in cp.columns:
            cp = cp[np.isclose(cp["minutes"].to_numpy(dtype=float), minutes)]
        polys = np.asarray(cp.geometry.to_numpy(), dtype=object)
        polys = polys[~shapely.is_empty(polys)]
    rest = _minus_nearby(geoms, polys)
    metric = metric_crs_of(geoms)
    areas = area_m2(rest, metric)
    unit_areas = area_m2(geoms, metric)
    keep = areas >= min_area_m2
    frame = gpd.GeoDataFrame({"code": codes[keep], "level": lv_values[keep], "area_m2": areas[keep],
                              "unit_area_m2": unit_areas[keep],
                              "share": areas[keep] / np.where(unit_areas[keep] > 0, unit_areas[keep], 1)},
                             geometry=list(rest[keep]), crs=STORAGE_CRS)
    frame.attrs["minutes"] = minutes
    return frame


def _minus_nearby(geoms: NDArray[np.object_], polys: NDArray[np.object_]) -> NDArray[np.object_]:
    """``geoms[i]`` minus the union of ``polys``, each unit against only the polygons whose box
    meets its own, clipped to that box: one union of the whole (seconds for the demo's
    catchments) and cutting every unit out of it (seconds more) are avoided."""
    rest = geoms.copy()
    if not len(polys) or not len(geoms):
        return rest
    ui, pi = shapely.STRtree(polys).query(geoms)
    if not len(ui):  # no catchment near any unit: every unit is uncovered whole
        return rest
    order = np.argsort(ui, kind="stable")
    ui, pi = ui[order], pi[order]
    bounds = np.flatnonzero(np.r_[True, np.diff(ui) != 0, True])
    boxes = shapely.bounds(geoms)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        u = int(ui[a])
        near = shapely.clip_by_rect(polys[pi[a:b]], *boxes[u])
        rest[u] = shapely.difference(geoms[u], shapely.union_all(near))
    return rest


def gap_polygons(report: Report) -> gpd.GeoDataFrame:
    """The boundary gaps of a validation report (findings with rule ``"gap"``), EPSG:4490.

    Columns ``codes`` (the parent unit, or empty between streets), ``level``, ``severity``,
    ``area_m2``, ``geometry``. Households in a gap belong to no unit at that level: coverage
    answers list them with the gaps rather than silently leaving them out.
    """
    rows = [f for f in report.findings if f.rule == "gap" and f.geometry is not None]
    return gpd.GeoDataFrame({
        "codes": [",".join(f.codes) for f in rows],
        "level": [f.level for f in rows],
        "severity": [f.severity for f in rows],
        "area_m2": np.array([f.size if f.size is not None else np.nan for f in rows], dtype=float),
    }, geometry=[f.geometry for f in rows], crs=STORAGE_CRS)


def households_by_level(units: pd.DataFrame, microgrid_codes: ArrayLike) -> pd.DataFrame:
    """Codes of every level for households known by their micro-grid (the parent chain)."""
    parent = dict(zip(units["code"].astype(str), units["parent_code"], strict=True))
    level_of = {str(c): parse_level(v) for c, v in zip(units["code"], units["level"], strict=True)}
    out: dict[str, list[Any]] = {c: [] for c in LEVEL_COLUMNS}
    cache: dict[Any, dict[str, Any]] = {}
    for code in np.asarray(microgrid_codes, dtype=object):
        if code not in cache:
            chain: dict[str, Any] = dict.fromkeys(LEVEL_COLUMNS)
            c = None if code is None else str(code)
            while c is not None and c in level_of:
                lv = level_of[c]
                if lv is None:
                    break
                chain[lv.value] = c
                p = parent.get(c)
                c = None if p is None or p != p else str(p)
            cache[code] = chain
        for col in LEVEL_COLUMNS:
            out[col].append(cache[code][col])
    return pd.DataFrame(out, dtype=object)
