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

from wangge.geo.crs import CHINA_BOUNDS, lonlat_to_storage
from wangge.geo.errors import CRSError, FieldMappingError, echo
from wangge.geo.io.rows import Row, RowProblem, RowProblems, canonical_crs, columns_of, map_columns
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, number, read_table, text
from wangge.geo.numerals import people

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


@dataclass
class Register:
    """The good rows, split into location data and personal data, and the bad rows."""

    records: pd.DataFrame          # external_id, address, lon, lat, crs, building_id, size, row
    personal: pd.DataFrame         # external_id, name, phone, id_number (only rows that have any)
    problems: list[RowProblem] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)
    row_count: int = 0


def _map_columns(columns: list[str], override: dict[str, str]) -> dict[str, str | None]:
    mapping = map_columns(columns, COLUMN_CANDIDATES, override, ("名册", "the register"))
    available = [str(c) for c in columns]
    if mapping["external_id"] is None:
        raise FieldMappingError(
            f"找不到住户编号列。现有列：{'、'.join(available)}；请指定 external_id=列名。",
            f"No household id column found. Columns: {', '.join(available)}; map one "
            "with external_id=COLUMN.")
    if mapping["address"] is None and (mapping["lon"] is None or mapping["lat"] is None):
        raise FieldMappingError("名册既没有地址列，也没有经纬度列。",
                                "The register has neither an address column nor coordinates.")
    return mapping


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

    cols = columns_of(table, mapping)
    records: list[dict[str, Any]] = []
    personal: list[dict[str, Any]] = []
    problems = RowProblems()
    for k, line in enumerate(problems.rows(cols["external_id"])):
        row, ext = line.number, line.key
        if not line.unique(label=("住户编号", "household id"),
                           missing=("缺少住户编号。", "no household id."),
                           reasons=("missing_id", "duplicate_id")):
            continue
        address = text(cols["address"][k])
        point = row_coordinates(line, cols["lon"][k], cols["lat"][k], cols["crs"][k], default)
        if point is None:
            continue
        lon, lat, crs = point
        if address is None and lon is None:
            line.bad(None, "no_location", "既没有地址也没有坐标。", "neither an address nor coordinates.")
            continue
        try:
            size = people(cols["size"][k])
        except ValueError:
            size = -1
        if size is not None and not 0 <= size <= 100:
            shown = echo(cols["size"][k])
            line.bad(None, "bad_size", f"户人数“{shown}”不是合理的人数（应如 3、三口、3人）。",
                     f"household size {shown!r} is not a plausible count (e.g. 3, 三口, 3人).")
            continue
        records.append({"row": row, "external_id": ext, "address": address, "lon": lon, "lat": lat,
                        "crs": crs, "building_id": text(cols["building_id"][k]),
                        "size": size})
        person = {t: text(cols[t][k]) for t in PERSONAL}
        if any(person.values()):
            personal.append({"external_id": ext, **person})
    return register_of(records, personal, problems, mapping, len(table))


def register_of(records: list[dict[str, Any]], personal: list[dict[str, Any]],
                problems: RowProblems, mapping: dict[str, str | None], row_count: int
                ) -> Register:
    """A :class:`Register` from good rows (``row`` and :data:`LOCATION` fields; ``external_id``
    and :data:`PERSONAL` fields) read by any reader of household tables."""
    rec = pd.DataFrame(records, columns=["row", *LOCATION], dtype=object)
    rec["lon"] = rec["lon"].astype(float)
    rec["lat"] = rec["lat"].astype(float)
    per = pd.DataFrame(personal, columns=["external_id", *PERSONAL], dtype=object)
    return Register(records=rec, personal=per, problems=problems.items, mapping=mapping,
                    row_count=row_count)


def row_coordinates(line: Row, lon_cell: Any, lat_cell: Any, crs_cell: Any, default: str
                    ) -> tuple[float | None, float | None, str | None] | None:
    """A row's longitude, latitude and CRS label (all None when it gives none); None, with the
    problem recorded on ``line``, when they are not numbers, only one is given, they lie
    outside China or the CRS is unknown (``default`` when the row names none)."""
    try:
        lon, lat = number(lon_cell), number(lat_cell)
    except ValueError:
        given = f"{echo(lon_cell)}, {echo(lat_cell)}"
        line.bad(None, "bad_coordinates", f"坐标“{given}”不是数字。",
                 f"coordinates {given!r} are not numbers.")
        return None
    if (lon is None) != (lat is None):
        line.bad(None, "bad_coordinates", "经度和纬度只填了一个。",
                 "only one of longitude and latitude given.")
        return None
    if lon is None or lat is None:
        return None, None, None
    minx, miny, maxx, maxy = CHINA_BOUNDS
    if not (math.isfinite(lon) and math.isfinite(lat)
            and minx <= lon <= maxx and miny <= lat <= maxy):
        swapped = minx <= lat <= maxx and miny <= lon <= maxy
        line.bad(None, "bad_coordinates",
                 f"坐标 ({lon}, {lat}) 不在中国境内" + ("，像是经纬度写反了。" if swapped else "。"),
                 f"coordinates ({lon}, {lat}) are outside China"
                 + (" (longitude/latitude swapped?)." if swapped else "."))
        return None
    raw_crs = text(crs_cell)
    try:
        crs = canonical_crs(raw_crs) if raw_crs else default
    except CRSError:
        shown = echo(raw_crs)
        line.bad(None, "unknown_crs",
                 f"坐标系“{shown}”无法识别（应为 WGS-84、CGCS2000、GCJ-02、BD-09）。",
                 f"coordinate system {shown!r} unknown (use WGS-84, CGCS2000, GCJ-02, BD-09).")
        return None
    return lon, lat, crs


def as_lonlat(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Given coordinates of the records converted to storage lon/lat (NaN where none)."""
    return lonlat_to_storage(records["lon"].to_numpy(dtype=float),
                             records["lat"].to_numpy(dtype=float),
                             records["crs"].to_numpy(dtype=object))
