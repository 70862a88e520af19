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

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wangge.geo.coverage.sites import check_hours, parse_kind, sites_frame
from wangge.geo.crs import CHINA_BOUNDS, lonlat_to_storage, parse_crs
from wangge.geo.errors import CRSError, FieldMappingError, FileFormatError, echo
from wangge.geo.io.result import ReadResult
from wangge.geo.io.rows import RowProblems, canonical_crs, columns_of, map_columns
from wangge.geo.io.table import (
    DEFAULT_LIMITS,
    GEOMETRY_TYPE,
    POINT_LAT,
    POINT_LON,
    TableLimits,
    number,
    read_table,
    text,
)

__all__ = ["COLUMN_CANDIDATES", "read_sites"]

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
_WHAT = ("站点文件", "site file")


def _map_columns(columns: list[str], override: dict[str, str], geojson: bool) -> dict[str, str | None]:
    mapping = map_columns(columns, COLUMN_CANDIDATES, override, ("站点文件", "the site file"))
    available = [str(c) for c in columns if not str(c).startswith("__")]
    if geojson:
        mapping["lon"], mapping["lat"] = POINT_LON, POINT_LAT
    absent = [t for t in REQUIRED if mapping[t] is None]
    if mapping["kind"] is None and mapping["name"] is None:
        absent.append("kind")
    if absent:
        raise FieldMappingError(
            f"站点文件缺少必需的列：{'、'.join(absent)}。现有列：{'、'.join(available)}",
            f"The site file lacks required columns: {', '.join(absent)}. Columns: "
            f"{', '.join(available)}", missing=absent, columns=available)
    return mapping


def read_sites(path: str | Path, *, crs: object = "WGS-84", columns: dict[str, str] | None = None,
               display_name: str | None = None, limits: TableLimits = DEFAULT_LIMITS) -> ReadResult:
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
    table = read_table(path, name, limits=limits, json_keys=("sites", "records"), features=True)
    geojson = POINT_LON in table.columns
    if len(table) == 0:
        raise FileFormatError(f"站点文件 {name} 没有数据行。", f"{name} has no rows.")
    mapping = _map_columns([str(c) for c in table.columns], columns or {}, geojson)
    source = parse_crs(crs)
    geographic = source.is_geographic
    minx, miny, maxx, maxy = CHINA_BOUNDS

    cols = columns_of(table, mapping)
    problems = RowProblems()
    rows: list[dict[str, Any]] = []
    first_row = 1 if geojson else 2  # a spreadsheet's header is row 1; features count from 1
    for k, line in enumerate(problems.rows(cols["site_id"], first_row)):
        row, sid = line.number, line.key
        line.unique(label=("站点编号", "site id"),
                    missing=("缺少站点编号。", "no site id."), field="site_id")
        label = text(cols["name"][k])
        raw_kind = text(cols["kind"][k])
        kind = parse_kind(raw_kind, label)
        if kind is None:
            if raw_kind is None:
                line.bad("kind", "missing", "缺少站点类型（党群服务中心 或 驿站）。",
                         "no kind (centre or station).")
            else:
                line.bad("kind", "unknown", f"类型“{echo(raw_kind)}”无法识别（应为 党群服务中心 或 驿站）。",
                         f"kind {echo(raw_kind)!r} unknown (use centre/党群服务中心 or station/驿站).")
        unit = text(cols["unit_code"][k])
        if unit is None:
            line.bad("unit_code", "missing", "缺少所属单元编码。", "no owning unit code.")
        hours = text(cols["hours"][k])
        why = check_hours(hours)
        if why:
            line.bad("hours", why, f"开放时间“{echo(hours)}”无法识别（如 周一至周五 9:00-17:00）。",
                     f"opening hours {echo(hours)!r} not understood (e.g. 周一至周五 9:00-17:00).")
        lon = lat = None
        row_crs = None
        if geojson and cols["lon"][k] is None:
            shape = table[GEOMETRY_TYPE].iloc[k] if GEOMETRY_TYPE in table else None
            line.bad("geometry", "not_point", f"几何应为点（实为 {shape or '空'}）。",
                     f"geometry must be a Point (got {shape or 'none'}).")
        else:
            try:
                lon, lat = number(cols["lon"][k]), number(cols["lat"][k])
            except (TypeError, ValueError):
                given = f"{echo(cols['lon'][k])}, {echo(cols['lat'][k])}"
                line.bad("lon/lat", "not_number", f"坐标“{given}”不是数字。",
                         f"coordinates {given!r} are not numbers.")
            else:
                if lon is None or lat is None:
                    line.bad("lon/lat", "missing", "缺少经度或纬度。", "longitude or latitude missing.")
                elif not (math.isfinite(lon) and math.isfinite(lat)):
                    line.bad("lon/lat", "not_number", "坐标不是有限数。", "coordinates are not finite.")
                    lon = lat = None
            raw_crs = text(cols["crs"][k])
            if raw_crs is not None:
                try:
                    row_crs = canonical_crs(raw_crs)
                except CRSError:
                    line.bad("crs", "unknown",
                             f"坐标系“{echo(raw_crs)}”无法识别（应为 WGS-84、CGCS2000、GCJ-02、BD-09）。",
                             f"coordinate system {echo(raw_crs)!r} unknown "
                             "(use WGS-84, CGCS2000, GCJ-02, BD-09).")
            if lon is not None and lat is not None and (row_crs is not None or geographic) \
                    and not (minx <= lon <= maxx and miny <= lat <= maxy):
                swapped = minx <= lat <= maxx and miny <= lon <= maxy
                line.bad("lon/lat", "outside_china",
                         f"坐标 ({lon}, {lat}) 不在中国境内" + ("，像是经纬度写反了。" if swapped else "。"),
                         f"coordinates ({lon}, {lat}) are outside China"
                         + (" (longitude/latitude swapped?)." if swapped else "."))
        if line.ok:
            rows.append({"row": row, "site_id": sid, "kind": kind, "name": label, "unit_code": unit,
                         "hours": hours, "lon": lon, "lat": lat, "crs": row_crs})
    problems.refuse(name, _WHAT, len(table))
    frame = pd.DataFrame(rows)
    lon_s, lat_s = lonlat_to_storage(frame["lon"].to_numpy(dtype=float),
                                     frame["lat"].to_numpy(dtype=float),
                                     [c if c is not None else source for c in frame["crs"]])
    outside = ~((lon_s >= minx) & (lon_s <= maxx) & (lat_s >= miny) & (lat_s <= maxy)) \
        | ~np.isfinite(lon_s + lat_s)
    for at in np.flatnonzero(outside).tolist():  # e.g. metres read with another projected CRS
        r = int(frame["row"].iloc[at])
        problems.add(r, frame["site_id"].iloc[at], "outside_china",
                     f"按 {source.label} 换算后不在中国境内。",
                     f"outside China when read as {source.label}.", field="lon/lat")
    problems.refuse(name, _WHAT, len(table))
    sites = sites_frame(frame, lon_s, lat_s)
    notes = [f"{int((frame['crs'].notna()).sum())} rows with their own coordinate system"] \
        if frame["crs"].notna().any() else []
    return ReadResult(frame=sites, source_crs=source.label, mapping=mapping, count=len(table),
                      notes=notes)
