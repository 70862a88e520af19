"""Service sites (服务阵地): community centres and grid stations, and checks of a site table.

A site is one row of a GeoDataFrame in EPSG:4490 with columns ``site_id`` (a stable string),
``kind`` (``"centre"`` 党群服务中心 or ``"station"`` 驿站), ``name``, ``unit_code`` (the unit that
runs it), ``hours`` (free text such as ``周一至周五 9:00-17:00``, or None) and a point geometry.
Files are read by :mod:`wangge.geo.io.sites`; :func:`check_sites` reports what is wrong with a table as
:class:`wangge.geo.boundaries.findings.Finding` objects, all at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.geo.boundaries.findings import ERROR, WARNING, Finding
from wangge.geo.crs import STORAGE_CRS

__all__ = ["COLUMNS", "KINDS", "KIND_ZH", "check_hours", "check_sites", "parse_kind", "sites_frame"]

COLUMNS = ["site_id", "kind", "name", "unit_code", "hours", "geometry"]
KINDS = ("centre", "station")
KIND_ZH = {"centre": "党群服务中心", "station": "驿站"}

# Words used for each kind in site lists (compared case-insensitively, whole value).
_KIND_WORDS = {
    "centre": ("centre", "center", "中心", "服务中心", "党群服务中心", "社区党群服务中心",
               "社区服务中心", "党群中心", "便民服务中心"),
    "station": ("station", "驿站", "网格驿站", "党群服务驿站", "暖心驿站", "服务站", "站点",
                "服务驿站", "网格服务站", "红色驿站"),
}
_KIND_OF = {w.lower(): k for k, words in _KIND_WORDS.items() for w in words}

# Opening hours: times like 9:00, 09：30, 8点, 17时 and ranges between them; or whole-day words.
_TIME = re.compile(r"(\d{1,2})\s*(?:[:：]\s*(\d{2})|[点时](?:\s*(\d{1,2})\s*分?)?)")
_ALWAYS = re.compile(r"24\s*小时|全天|全年无休|常年开放|预约|不定时|always|24/7|24h", re.IGNORECASE)


def parse_kind(value: object, name: object = None) -> str | None:
    """``"centre"`` or ``"station"`` for a kind word (English or Chinese), else None.

    Without a kind, a name ending in 中心 or 驿站/服务站 says which it is.
    """
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    text = text.strip().lower()
    if text:
        return _KIND_OF.get(text)
    label = str(name or "").strip()
    if label.endswith("中心"):
        return "centre"
    if label.endswith(("驿站", "服务站")):
        return "station"
    return None


def check_hours(text: str | None) -> str | None:
    """Why free-text opening hours cannot be right (None when plausible or absent).

    Loose by design: any text naming a time of day (``9:00``, ``8点``, ``17时30分``) with hours
    0–24 and minutes 0–59, or a whole-day word (``全天``, ``24小时``, ``预约``), passes.
    """
    if text is None or not str(text).strip():
        return None
    value = str(text)
    if _ALWAYS.search(value):
        return None
    times = _TIME.findall(value)
    if not times:
        return "no_time"
    for hour, minute, minute_zh in times:
        mm = minute or minute_zh or "0"
        if int(hour) > 24 or int(mm) > 59 or (int(hour) == 24 and int(mm) > 0):
            return "bad_time"
    return None


def sites_frame(rows: pd.DataFrame | dict[str, object], lon: object, lat: object) -> gpd.GeoDataFrame:
    """A site table (see :data:`COLUMNS`) from its attribute columns and storage lon/lat."""
    frame = pd.DataFrame(rows)
    for col in COLUMNS[:-1]:
        if col not in frame:
            frame[col] = None
    attrs = frame[COLUMNS[:-1]].astype(object)
    attrs = attrs.where(attrs.notna(), None)
    return gpd.GeoDataFrame(attrs,
                            geometry=gpd.points_from_xy(np.asarray(lon, dtype=float),
                                                        np.asarray(lat, dtype=float)),
                            crs=STORAGE_CRS)


def check_sites(sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None = None) -> list[Finding]:
    """Everything wrong with a site table, at once.

    Errors: missing or duplicate ``site_id``, unknown ``kind``, missing or empty geometry (or not
    a point), implausible opening hours. With ``units`` (columns ``code, geometry``): an unknown
    ``unit_code`` is an error, a site outside its unit a warning (a centre may sit just across a
    road from its community), and a community with no centre a warning.
    """
    findings: list[Finding] = []
    missing = [c for c in ("site_id", "kind", "unit_code", "geometry") if c not in sites.columns]
    if missing:
        return [Finding("missing_column", ERROR, (), f"站点表缺少列：{'、'.join(missing)}",
                        f"The site table lacks columns: {', '.join(missing)}")]
    ids = sites["site_id"].to_numpy(dtype=object)
    geoms = np.asarray(sites.geometry.to_numpy(), dtype=object)

    def add(rule: str, severity: str, i: int, zh: str, en: str) -> None:
        sid = ids[i]
        g = geoms[i]
        where = (float(g.x), float(g.y)) if isinstance(g, shapely.Point) and not g.is_empty else None
        findings.append(Finding(rule, severity, (str(sid),) if sid is not None else (),
                                f"站点 {sid}：{zh}", f"site {sid}: {en}", location=where))

    seen: dict[str, int] = {}
    for i, sid in enumerate(ids):
        if sid is None or (isinstance(sid, float) and np.isnan(sid)) or not str(sid).strip():
            add("missing_id", ERROR, i, f"第 {i + 1} 个站点没有编号。", f"site #{i + 1} has no id.")
        elif str(sid) in seen:
            add("duplicate_id", ERROR, i, f"编号与第 {seen[str(sid)] + 1} 个站点重复。",
                f"id repeats site #{seen[str(sid)] + 1}.")
        else:
            seen[str(sid)] = i
    for i, kind in enumerate(sites["kind"]):
        if kind not in KINDS:
            add("unknown_kind", ERROR, i, f"类型“{kind}”无法识别（应为 党群服务中心 或 驿站）。",
                f"kind {kind!r} unknown (use centre or station).")
    point = np.array([isinstance(g, shapely.Point) and not g.is_empty for g in geoms], dtype=bool)
    for j in np.flatnonzero(~point):
        add("not_point", ERROR, int(j), "没有有效的点位。", "has no valid point.")
    if "hours" in sites.columns:
        for i, hours in enumerate(sites["hours"]):
            why = check_hours(hours)
            if why:
                add("bad_hours", ERROR, i, f"开放时间“{hours}”无法识别。", f"opening hours {hours!r} "
                    "not understood.")
    if units is not None:
        findings.extend(_check_against_units(sites, units, point, add))
    return findings


def _check_against_units(sites: gpd.GeoDataFrame, units: gpd.GeoDataFrame, point: np.ndarray,
                         add: Callable[[str, str, int, str, str], None]) -> list[Finding]:
    codes = units["code"].astype(str).to_numpy()
    index = pd.Index(codes)
    unit_codes = sites["unit_code"].to_numpy(dtype=object)
    pos = index.get_indexer([None if c is None else str(c) for c in unit_codes])
    for i in np.flatnonzero(pos < 0):
        add("unknown_unit", ERROR, int(i), f"所属单元“{unit_codes[i]}”不存在。",
            f"owning unit {unit_codes[i]!r} does not exist.")
    check = np.flatnonzero((pos >= 0) & point)
    unit_geoms = np.asarray(units.geometry.to_numpy(), dtype=object)
    pts = np.asarray(sites.geometry.to_numpy(), dtype=object)
    inside = shapely.covers(unit_geoms[pos[check]], pts[check])
    for i in check[~inside]:
        add("outside_unit", WARNING, int(i), f"点位不在所属单元 {unit_codes[i]} 内。",
            f"point lies outside its unit {unit_codes[i]}.")
    extra: list[Finding] = []
    if "level" in units.columns:
        communities = units.loc[units["level"].astype(str) == "community", "code"].astype(str)
        has_centre = set(np.asarray(unit_codes, dtype=object)[np.asarray(sites["kind"] == "centre")])
        for code in communities:
            if code not in has_centre:
                extra.append(Finding("no_centre", WARNING, (code,), f"社区 {code} 没有党群服务中心。",
                                     f"community {code} has no service centre.", level="community"))
    return extra
