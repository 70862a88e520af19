"""Read service-site lists (GeoJSON, CSV, Excel .xlsx, JSON) into the site table of
:mod:`wangge.geo.coverage.sites`.

A site list is short and every row matters: unlike a household register, a list with any bad
row is refused, with every problem reported at once (row number as a spreadsheet shows it, the
field, the rule), so the office can fix the file and send it again. Column headers may be
English or Chinese (名称, 类型, 经度, 纬度, 所属单元/社区编码, 开放时间…). Coordinates go through
:mod:`wangge.geo.crs`: WGS-84 and CGCS2000 as they are, GCJ-02 and BD-09 (AMap, Baidu pickers) when
declared, for the whole file (``crs=``) or per row (a 坐标系 column).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from wangge.geo.coverage.sites import check_hours, parse_kind, sites_frame
from wangge.geo.crs import CHINA_BOUNDS, lonlat_to_storage, parse_crs
from wangge.geo.errors import CRSError, FieldMappingError, FileFormatError, InputError, echo
from wangge.geo.io.register import RowProblem, canonical_crs
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, check_records, number, read_table, text

__all__ = ["COLUMN_CANDIDATES", "SiteProblem", "SitesRead", "read_sites"]

COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "site_id": ("site_id", "id", "编号", "站点编号", "站点id", "阵地编号", "站点编码", "编码"),
    "name": ("name", "名称", "站点名称", "阵地名称"),
    "kind": ("kind", "type", "类型", "站点类型", "类别", "阵地类型"),
    "unit_code": ("unit_code", "unit", "所属单元", "所属单元编码", "所属社区编码", "社区编码",
                  "所属网格编码", "单元编码", "所属编码", "community_code"),
    "hours": ("hours", "opening_hours", "开放时间", "服务时间", "办公时间"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "坐标系", "坐标系统"),
}
REQUIRED = ("site_id", "unit_code", "lon", "lat")
_SHOWN = 20  # problems spelled out in the message; all of them are in ``detail``


@dataclass(frozen=True)
class SiteProblem(RowProblem):
    """A bad row: its number, the site id (if any), the field and the rule it breaks."""

    field: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "field": self.field}


@dataclass
class SitesRead:
    """A site list read into the site table, and how it was read."""

    sites: gpd.GeoDataFrame
    source_crs: str
    mapping: dict[str, str | None]
    row_count: int
    notes: list[str] = field(default_factory=list)


def _geojson_table(path: Path, name: str, limits: TableLimits) -> pd.DataFrame:
    """Rows of a GeoJSON FeatureCollection of points (lon, lat in ``__lon, __lat``), or of a JSON
    list of objects."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, OSError) as exc:
        raise FileFormatError(f"无法读取站点文件 {name}：不是有效的 JSON。",
                              f"Cannot read the site file {name}: not valid JSON.") from exc
    if isinstance(data, list):
        if not all(isinstance(r, dict) for r in data):
            raise FileFormatError(f"站点文件 {name} 应为对象列表。", f"{name} must be a list of objects.")
        check_records(name, data, limits)
        return pd.DataFrame(data).astype(object)
    if not isinstance(data, dict):
        raise FileFormatError(f"站点文件 {name} 格式不符。", f"{name} is not in the expected form.")
    if data.get("type") != "FeatureCollection":
        rows = data.get("sites", data.get("records"))
        if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
            check_records(name, rows, limits)
            return pd.DataFrame(rows).astype(object)
        raise FileFormatError(f"站点文件 {name} 应为 GeoJSON 要素集合或对象列表。",
                              f"{name} must be a GeoJSON FeatureCollection or a list of objects.")
    rows = []
    for feature in data.get("features") or []:
        props = dict(feature.get("properties") or {}) if isinstance(feature, dict) else {}
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list) \
                and len(coords) >= 2:
            props["__lon"], props["__lat"] = coords[0], coords[1]
        else:
            props["__lon"] = props["__lat"] = None
            props["__geometry"] = geom.get("type") if isinstance(geom, dict) else None
        rows.append(props)
    if not rows:
        raise FileFormatError(f"文件 {name} 没有任何要素。", f"{name} has no features.")
    check_records(name, rows, limits)
    return pd.DataFrame(rows).astype(object)


def _map_columns(columns: list[str], override: dict[str, str], geojson: bool) -> dict[str, str | None]:
    available = {str(c).strip().lower(): str(c) for c in columns if not str(c).startswith("__")}
    mapping: dict[str, str | None] = {}
    for target, candidates in COLUMN_CANDIDATES.items():
        if target in override:
            src = override[target].strip().lower()
            if src not in available:
                raise FieldMappingError(
                    f"站点文件中没有列“{override[target]}”（用于 {target}）。现有列："
                    f"{'、'.join(available.values())}",
                    f"Column {override[target]!r} (for {target}) is not in the site file. Columns: "
                    f"{', '.join(available.values())}", field=override[target])
            mapping[target] = available[src]
        else:
            mapping[target] = next((available[c] for c in candidates if c in available), None)
    if geojson:
        mapping["lon"], mapping["lat"] = "__lon", "__lat"
    absent = [t for t in REQUIRED if mapping[t] is None]
    if mapping["kind"] is None and mapping["name"] is None:
        absent.append("kind")
    if absent:
        raise FieldMappingError(
            f"站点文件缺少必需的列：{'、'.join(absent)}。现有列：{'、'.join(available.values())}",
            f"The site file lacks required columns: {', '.join(absent)}. Columns: "
            f"{', '.join(available.values())}", missing=absent, columns=list(available.values()))
    return mapping


def read_sites(path: str | Path, *, crs: object = "WGS-84", columns: dict[str, str] | None = None,
               display_name: str | None = None, limits: TableLimits = DEFAULT_LIMITS) -> SitesRead:
    """Read a site list; refuse it, listing every bad row, if any row is bad.

    ``crs`` is the system of the coordinates (WGS-84, CGCS2000, GCJ-02, BD-09, or a projected
    CRS such as EPSG:4549 for x/y in metres); a 坐标系 column overrides it per row (lon/lat
    systems only). GeoJSON takes its points from the geometries (RFC 7946: WGS-84 unless ``crs``
    says otherwise). ``columns`` maps target fields (``site_id, name, kind, unit_code, hours,
    lon, lat, crs``) to the file's headers. Raises :class:`InputError` with ``detail["problems"]``,
    :class:`wangge.geo.errors.TableTooLarge` for a list past ``limits``.
    """
    path = Path(path)
    name = display_name or path.name
    if not path.exists():
        raise FileFormatError(f"文件不存在：{name}", f"File not found: {name}")
    suffix = path.suffix.lower()
    geojson = suffix in (".geojson", ".json")
    table = _geojson_table(path, name, limits) if geojson else read_table(path, name, limits=limits)
    geojson = geojson and "__lon" in table.columns
    if len(table) == 0:
        raise FileFormatError(f"站点文件 {name} 没有数据行。", f"{name} has no rows.")
    mapping = _map_columns([str(c) for c in table.columns], columns or {}, geojson)
    source = parse_crs(crs)
    geographic = source.is_geographic
    minx, miny, maxx, maxy = CHINA_BOUNDS

    def col(target: str) -> list[Any]:
        src = mapping.get(target)
        return list(table[src]) if src is not None else [None] * len(table)

    cols = {t: col(t) for t in COLUMN_CANDIDATES}
    problems: list[SiteProblem] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    first_row = 1 if geojson else 2  # a spreadsheet's header is row 1; features count from 1
    for k in range(len(table)):
        row = k + first_row
        sid = text(cols["site_id"][k])

        def bad(fld: str, rule: str, zh: str, en: str, sid: str | None = sid, row: int = row) -> None:
            problems.append(SiteProblem(row, sid, rule, f"第 {row} 行 {fld}：{zh}",
                                        f"row {row}, {fld}: {en}", field=fld))

        start = len(problems)
        if sid is None:
            bad("site_id", "missing", "缺少站点编号。", "no site id.")
        elif sid in seen:
            bad("site_id", "duplicate", f"站点编号 {sid} 与第 {seen[sid]} 行重复。",
                f"site id {sid} repeats row {seen[sid]}.")
        else:
            seen[sid] = row
        label = text(cols["name"][k])
        raw_kind = text(cols["kind"][k])
        kind = parse_kind(raw_kind, label)
        if kind is None:
            if raw_kind is None:
                bad("kind", "missing", "缺少站点类型（党群服务中心 或 驿站）。",
                    "no kind (centre or station).")
            else:
                bad("kind", "unknown", f"类型“{echo(raw_kind)}”无法识别（应为 党群服务中心 或 驿站）。",
                    f"kind {echo(raw_kind)!r} unknown (use centre/党群服务中心 or station/驿站).")
        unit = text(cols["unit_code"][k])
        if unit is None:
            bad("unit_code", "missing", "缺少所属单元编码。", "no owning unit code.")
        hours = text(cols["hours"][k])
        why = check_hours(hours)
        if why:
            bad("hours", why, f"开放时间“{echo(hours)}”无法识别（如 周一至周五 9:00-17:00）。",
                f"opening hours {echo(hours)!r} not understood (e.g. 周一至周五 9:00-17:00).")
        lon = lat = None
        row_crs = None
        if geojson and cols["lon"][k] is None:
            shape = table["__geometry"].iloc[k] if "__geometry" in table else None
            bad("geometry", "not_point", f"几何应为点（实为 {shape or '空'}）。",
                f"geometry must be a Point (got {shape or 'none'}).")
        else:
            try:
                lon, lat = number(cols["lon"][k]), number(cols["lat"][k])
            except (TypeError, ValueError):
                given = f"{echo(cols['lon'][k])}, {echo(cols['lat'][k])}"
                bad("lon/lat", "not_number", f"坐标“{given}”不是数字。",
                    f"coordinates {given!r} are not numbers.")
            else:
                if lon is None or lat is None:
                    bad("lon/lat", "missing", "缺少经度或纬度。", "longitude or latitude missing.")
                elif not (math.isfinite(lon) and math.isfinite(lat)):
                    bad("lon/lat", "not_number", "坐标不是有限数。", "coordinates are not finite.")
                    lon = lat = None
            raw_crs = text(cols["crs"][k])
            if raw_crs is not None:
                try:
                    row_crs = canonical_crs(raw_crs)
                except CRSError:
                    bad("crs", "unknown",
                        f"坐标系“{echo(raw_crs)}”无法识别（应为 WGS-84、CGCS2000、GCJ-02、BD-09）。",
                        f"coordinate system {echo(raw_crs)!r} unknown (use WGS-84, CGCS2000, GCJ-02, BD-09).")
            if lon is not None and lat is not None and (row_crs is not None or geographic) \
                    and not (minx <= lon <= maxx and miny <= lat <= maxy):
                swapped = minx <= lat <= maxx and miny <= lon <= maxy
                bad("lon/lat", "outside_china",
                    f"坐标 ({lon}, {lat}) 不在中国境内" + ("，像是经纬度写反了。" if swapped else "。"),
                    f"coordinates ({lon}, {lat}) are outside China"
                    + (" (longitude/latitude swapped?)." if swapped else "."))
        if len(problems) == start:
            rows.append({"row": row, "site_id": sid, "kind": kind, "name": label, "unit_code": unit,
                         "hours": hours, "lon": lon, "lat": lat, "crs": row_crs})
    if problems:
        _refuse(name, problems, len(table))
    frame = pd.DataFrame(rows)
    lon_s, lat_s = lonlat_to_storage(frame["lon"].to_numpy(dtype=float),
                                     frame["lat"].to_numpy(dtype=float),
                                     [c if c is not None else source for c in frame["crs"]])
    outside = ~((lon_s >= minx) & (lon_s <= maxx) & (lat_s >= miny) & (lat_s <= maxy)) \
        | ~np.isfinite(lon_s + lat_s)
    for at in np.flatnonzero(outside).tolist():  # e.g. metres read with another projected CRS
        r = int(frame["row"].iloc[at])
        problems.append(SiteProblem(r, frame["site_id"].iloc[at], "outside_china",
                                    f"第 {r} 行 lon/lat：按 {source.label} 换算后不在中国境内。",
                                    f"row {r}, lon/lat: outside China when read as {source.label}.",
                                    field="lon/lat"))
    if problems:
        _refuse(name, problems, len(table))
    sites = sites_frame(frame, lon_s, lat_s)
    notes = [f"{int((frame['crs'].notna()).sum())} rows with their own coordinate system"] \
        if frame["crs"].notna().any() else []
    return SitesRead(sites=sites, source_crs=source.label, mapping=mapping, row_count=len(table),
                     notes=notes)


def _refuse(name: str, problems: list[SiteProblem], row_count: int) -> None:
    shown = problems[:_SHOWN]
    more_zh = f"；另有 {len(problems) - _SHOWN} 处" if len(problems) > _SHOWN else ""
    more_en = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    rows = sorted({p.row for p in problems})
    raise InputError(
        f"站点文件 {name} 有 {len(rows)} 行不合格，未导入：" + "；".join(p.message_zh for p in shown)
        + more_zh,
        f"The site file {name} has {len(rows)} bad rows and was not imported: "
        + "; ".join(p.message_en for p in shown) + more_en,
        problems=[p.as_dict() for p in problems], bad_rows=rows, row_count=row_count)
