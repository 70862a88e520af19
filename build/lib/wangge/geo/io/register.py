"""Read a household register (CSV, Excel .xlsx, JSON) into clean records and row-by-row problems.

A register is what a district office sends: one row a household, Chinese column headers as a rule.
Good rows are kept; every bad row is reported with its row number (as a spreadsheet shows it)
and why, and left out. Personal fields (name, phone, ID number) are read into a separate table
so that they never travel with the location data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wangge.geo.crs import CHINA_BOUNDS, lonlat_to_storage, parse_crs
from wangge.geo.errors import CRSError, FieldMappingError, echo
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, number, read_table, text

# Target field -> header names seen in registers (case-insensitive), tried in order.
COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "id", "户编号", "户号", "住户编号", "编号", "序号"),
    "address": ("address", "地址", "住址", "详细地址", "现住址", "居住地址", "房屋地址"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "坐标系", "坐标系统"),
    "building_id": ("building_id", "楼栋编号", "楼栋id", "楼栋编码"),
    "size": ("size", "household_size", "人数", "户人数", "家庭人口", "人口数", "在住人数"),
    "name": ("name", "户主姓名", "姓名", "户主"),
    "phone": ("phone", "联系电话", "电话", "手机", "手机号"),
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
}
PERSONAL = ("name", "phone", "id_number")
LOCATION = ("external_id", "address", "lon", "lat", "crs", "building_id", "size")


@dataclass(frozen=True)
class RowProblem:
    """Why a row of the register was left out."""

    row: int  # as a spreadsheet numbers it: the header is row 1
    external_id: str | None
    reason: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "external_id": self.external_id, "reason": self.reason,
                "message": self.message_zh, "message_en": self.message_en}


@dataclass
class Register:
    """The good rows, split into location data and personal data, and the bad rows."""

    records: pd.DataFrame          # external_id, address, lon, lat, crs, building_id, size, row
    personal: pd.DataFrame         # external_id, name, phone, id_number (only rows that have any)
    problems: list[RowProblem] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)
    row_count: int = 0


def _map_columns(columns: list[str], override: dict[str, str]) -> dict[str, str | None]:
    available = {str(c).strip().lower(): str(c) for c in columns}
    mapping: dict[str, str | None] = {}
    for target, candidates in COLUMN_CANDIDATES.items():
        if target in override:
            src = override[target]
            if src.strip().lower() not in available:
                raise FieldMappingError(
                    f"名册中没有列“{src}”（用于 {target}）。现有列：{'、'.join(available.values())}",
                    f"Column {src!r} (for {target}) is not in the register. Columns: "
                    f"{', '.join(available.values())}", field=src)
            mapping[target] = available[src.strip().lower()]
        else:
            mapping[target] = next((available[c] for c in candidates if c in available), None)
    if mapping["external_id"] is None:
        raise FieldMappingError(
            f"找不到住户编号列。现有列：{'、'.join(available.values())}；请指定 external_id=列名。",
            f"No household id column found. Columns: {', '.join(available.values())}; map one "
            "with external_id=COLUMN.")
    if mapping["address"] is None and (mapping["lon"] is None or mapping["lat"] is None):
        raise FieldMappingError("名册既没有地址列，也没有经纬度列。",
                                "The register has neither an address column nor coordinates.")
    return mapping


_CRS_ALIASES = {"wgs84": "WGS-84", "wgs-84": "WGS-84", "gps": "WGS-84", "4326": "WGS-84",
                "epsg:4326": "WGS-84", "cgcs2000": "CGCS2000", "4490": "CGCS2000",
                "epsg:4490": "CGCS2000", "gcj02": "GCJ-02", "gcj-02": "GCJ-02", "高德": "GCJ-02",
                "腾讯": "GCJ-02", "火星": "GCJ-02", "bd09": "BD-09", "bd-09": "BD-09",
                "百度": "BD-09"}


def canonical_crs(value: str) -> str:
    """One of WGS-84, CGCS2000, GCJ-02, BD-09 (the systems a register may use), else CRSError."""
    key = value.strip().lower()
    if key in _CRS_ALIASES:
        return _CRS_ALIASES[key]
    parsed = parse_crs(value)
    epsg = parsed.crs.to_epsg()
    if parsed.offset is None and epsg in (4326, 4490):
        return "WGS-84" if epsg == 4326 else "CGCS2000"
    raise CRSError(f"住户坐标只接受 WGS-84、CGCS2000、GCJ-02、BD-09，收到“{echo(value)}”。",
                   f"Household coordinates must be WGS-84, CGCS2000, GCJ-02 or BD-09; got {echo(value)!r}.")


def read_register(path: str | Path, *, columns: dict[str, str] | None = None,
                  default_crs: str = "WGS-84", display_name: str | None = None,
                  limits: TableLimits = DEFAULT_LIMITS) -> Register:
    """Read a register; bad rows become :class:`RowProblem` entries, good rows records.

    A register past ``limits`` is refused whole (:class:`wangge.geo.errors.TableTooLarge`)."""
    path = Path(path)
    name = display_name or path.name
    table = read_table(path, name, limits=limits, json_keys=("households", "records"))
    mapping = _map_columns([str(c) for c in table.columns], columns or {})
    default = canonical_crs(default_crs)
    minx, miny, maxx, maxy = CHINA_BOUNDS

    def col(target: str) -> list[Any]:
        src = mapping.get(target)
        return list(table[src]) if src is not None else [None] * len(table)

    cols = {t: col(t) for t in COLUMN_CANDIDATES}
    records: list[dict[str, Any]] = []
    personal: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for k in range(len(table)):
        row = k + 2
        ext = text(cols["external_id"][k])

        def bad(reason: str, zh: str, en: str, ext: str | None = ext, row: int = row) -> None:
            problems.append(RowProblem(row, ext, reason, f"第 {row} 行：{zh}", f"row {row}: {en}"))

        if ext is None:
            bad("missing_id", "缺少住户编号。", "no household id.")
            continue
        if ext in seen:
            bad("duplicate_id", f"住户编号 {ext} 与第 {seen[ext]} 行重复。",
                f"household id {ext} repeats row {seen[ext]}.")
            continue
        seen[ext] = row
        address = text(cols["address"][k])
        try:
            lon, lat = number(cols["lon"][k]), number(cols["lat"][k])
        except ValueError:
            given = f"{echo(cols['lon'][k])}, {echo(cols['lat'][k])}"
            bad("bad_coordinates", f"坐标“{given}”不是数字。", f"coordinates {given!r} are not numbers.")
            continue
        if (lon is None) != (lat is None):
            bad("bad_coordinates", "经度和纬度只填了一个。", "only one of longitude and latitude given.")
            continue
        crs = None
        if lon is not None and lat is not None:
            if not (math.isfinite(lon) and math.isfinite(lat)
                    and minx <= lon <= maxx and miny <= lat <= maxy):
                swapped = minx <= lat <= maxx and miny <= lon <= maxy
                bad("bad_coordinates",
                    f"坐标 ({lon}, {lat}) 不在中国境内" + ("，像是经纬度写反了。" if swapped else "。"),
                    f"coordinates ({lon}, {lat}) are outside China"
                    + (" (longitude/latitude swapped?)." if swapped else "."))
                continue
            raw_crs = text(cols["crs"][k])
            try:
                crs = canonical_crs(raw_crs) if raw_crs else default
            except CRSError:
                shown = echo(raw_crs)
                bad("unknown_crs", f"坐标系“{shown}”无法识别（应为 WGS-84、CGCS2000、GCJ-02、BD-09）。",
                    f"coordinate system {shown!r} unknown (use WGS-84, CGCS2000, GCJ-02, BD-09).")
                continue
        if address is None and lon is None:
            bad("no_location", "既没有地址也没有坐标。", "neither an address nor coordinates.")
            continue
        try:
            size = number(cols["size"][k])
        except ValueError:
            size = None
        if size is not None and not (math.isfinite(size) and 0 <= size <= 100):
            shown = echo(cols["size"][k])
            bad("bad_size", f"户人数“{shown}”不合理。", f"household size {shown!r} is not plausible.")
            continue
        records.append({"row": row, "external_id": ext, "address": address, "lon": lon, "lat": lat,
                        "crs": crs, "building_id": text(cols["building_id"][k]),
                        "size": None if size is None else int(size)})
        person = {t: text(cols[t][k]) for t in PERSONAL}
        if any(person.values()):
            personal.append({"external_id": ext, **person})
    rec = pd.DataFrame(records, columns=["row", *LOCATION], dtype=object)
    rec["lon"] = rec["lon"].astype(float)
    rec["lat"] = rec["lat"].astype(float)
    per = pd.DataFrame(personal, columns=["external_id", *PERSONAL], dtype=object)
    return Register(records=rec, personal=per, problems=problems, mapping=mapping,
                    row_count=len(table))


def as_lonlat(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Given coordinates of the records converted to storage lon/lat (NaN where none)."""
    return lonlat_to_storage(records["lon"].to_numpy(dtype=float),
                             records["lat"].to_numpy(dtype=float),
                             records["crs"].to_numpy(dtype=object))
