"""Read a standard address table (标准地址, the "一标" of 一标三实) into a gazetteer.

A grid office's standard address table has one row per address, each with its address code
(地址编码), at the level of a door (门牌: road and door number, or a compound), a building
(楼栋), a unit (单元) or a room (户室), and usually its coordinates. Headers are Chinese and
vary by system; the fields recognised (``COLUMN_CANDIDATES``, the user's own mapping first) follow
the published layouts: GB/T 39609-2020 地名地址地理编码规则 (division, street/lane/compound,
building/door, unit/room), the unified standard address of DB42/T 2175-2024 and the field lists of
district address-coding projects (省/市/区/镇街/社区/小区/楼栋/单元/户室楼层/户室 with 经纬度).

The rows become the gazetteer the matcher reads: **compounds** (a 小区 by its name within its
street and community; without one, the door ``人民路88号`` itself) and their **buildings**
(楼栋号), each with the address codes of its rows in ``codes`` (a building: its own, its
units' and rooms'; a compound: those of its door rows), so that registers citing a code are
found by it. A building's point is its own row's coordinates, else the mean of its rooms', else
its compound's; a compound's its own row's, else the mean of all its rows'. Values such as
``3幢``, ``三号楼``, ``2单元``, ``12层``, ``1201室`` and ``无`` (none) are read as ``3``, ``3``,
``2``, ``12``, ``1201`` and empty. Bad rows are reported row by row (Chinese and English) and left out.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.geo.crs import STORAGE_CRS, lonlat_to_storage
from wangge.geo.errors import FieldMappingError
from wangge.geo.io.register import row_coordinates
from wangge.geo.io.rows import RowProblem, RowProblems, canonical_crs, columns_of, map_columns
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, read_table, text

__all__ = ["COLUMN_CANDIDATES", "StandardAddresses", "address_part", "read_standard_addresses"]

# Target field -> headers seen in standard address tables (case-insensitive), tried in order.
COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "code": ("address_code", "code", "地址编码", "标准地址编码", "地址代码", "地址编号",
             "标准地址代码", "地址唯一码", "地址id", "标准地址id"),
    "address": ("standard_address", "address", "标准地址", "标准地址名称", "地址全称", "完整地址",
                "地址名称", "详细地址", "地址"),
    "province": ("province", "省", "省份", "省（自治区、直辖市）", "省(自治区、直辖市)", "所属省"),
    "city": ("city", "市", "地市", "城市", "市（州）", "市(州)", "所属市"),
    "district": ("district", "county", "区县", "区（县）", "区(县)", "县（市、区）", "县(市、区)",
                 "区", "县", "所属区县"),
    "street": ("street", "town", "街道", "街道（乡镇）", "街道(乡镇)", "乡镇（街道）", "乡镇(街道)",
               "镇街", "乡镇", "所属街道"),
    "community": ("community", "社区", "社区（村）", "社区(村)", "村（社区）", "村(社区)",
                  "居委会", "村居委会", "所属社区"),
    "road": ("road", "街路巷", "街路巷名称", "道路", "路名", "街巷"),
    "door": ("door", "road_number", "门牌号", "门牌", "门楼牌号", "门（楼）牌号", "门(楼)牌号"),
    "compound": ("compound", "residential_quarters", "小区", "小区名称", "小区（院落）",
                 "小区(院落)", "院落", "院落名称"),
    "building": ("building", "楼栋号", "楼栋", "楼号", "幢号", "楼幢号", "楼址", "建筑物"),
    "unit": ("unit", "单元号", "单元"),
    "floor": ("floor", "room_floor", "楼层", "所在楼层", "户室楼层", "层"),
    "room": ("room", "户室号", "户室", "房间号", "室号", "房号"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "坐标系", "坐标系统"),
}
_ADMIN = ("province", "city", "district", "street", "community")

# Level words written after (or 第 before) a number, per field; longest first.
_SUFFIXES = {
    "building": ("号楼", "栋", "幢", "座", "楼", "号", "#"),
    "unit": ("单元", "门", "号"),
    "floor": ("层", "楼", "f"),
    "room": ("室", "户", "号"),
    "door": ("号",),
}
_NONE = {"无", "/", "-", "—", "——", "－", "空", "null", "none", "nan"}
_CN = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}


def _cn_number(value: str) -> str:
    """``三`` → ``3``, ``十二`` → ``12``, ``二十`` → ``20`` (up to 99); other text unchanged."""
    if not value or any(c not in _CN and c != "十" for c in value):
        return value
    if "十" not in value:
        return "".join(str(_CN[c]) for c in value)
    tens, _, ones = value.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return value
    return str((_CN[tens] if tens else 1) * 10 + (_CN[ones] if ones else 0))


def address_part(value: Any, kind: str) -> str | None:
    """A building, unit, floor, room or door number as the gazetteer keeps it (``3幢`` → ``3``,
    ``第二单元`` → ``2``, ``Ａ座`` → ``A``); None for empty or ``无``."""
    raw = text(value)
    if raw is None:
        return None
    out = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if out.endswith(".0") and out[:-2].isdigit():  # numbers read from a spreadsheet as floats
        out = out[:-2]
    if out.lower() in _NONE:
        return None
    if out.startswith("第"):
        out = out[1:]
    for suffix in _SUFFIXES.get(kind, ()):
        if out.lower().endswith(suffix) and len(out) > len(suffix):
            out = out[: -len(suffix)]
            break
    return _cn_number(out) or None


@dataclass
class StandardAddresses:
    """A standard address table as a gazetteer (EPSG:4490), and the rows left out."""

    compounds: gpd.GeoDataFrame   # compound_id, name, road, road_number, admin names, codes
    buildings: gpd.GeoDataFrame   # building_id, compound_id, number, units, floors, codes
    problems: list[RowProblem] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)
    row_count: int = 0
    codes: int = 0                # address codes kept (rows imported)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _key_id(prefix: str, key: Sequence[str | None]) -> str:
    digest = hashlib.sha1("\x1f".join(k or "" for k in key).encode()).hexdigest()[:12]
    return f"{prefix}{digest}"


def _mapping(columns: list[str], override: dict[str, str]) -> dict[str, str | None]:
    mapping = map_columns(columns, COLUMN_CANDIDATES, override, ("标准地址表", "the address table"))
    shown = [c for c in columns if not c.startswith("__")]
    if mapping["code"] is None:
        raise FieldMappingError(
            f"找不到地址编码列。现有列：{'、'.join(shown)}；请指定 code=列名。",
            f"No address code column found. Columns: {', '.join(shown)}; map one with code=COLUMN.")
    if mapping["compound"] is None and (mapping["road"] is None or mapping["door"] is None):
        raise FieldMappingError(
            "标准地址表既没有小区列，也没有街路巷和门牌号列。",
            "The address table has neither a compound column nor road and door number columns.")
    return mapping


def read_standard_addresses(path: str | Path, *, columns: dict[str, str] | None = None,
                            default_crs: str = "CGCS2000", display_name: str | None = None,
                            limits: TableLimits = DEFAULT_LIMITS) -> StandardAddresses:
    """Read a standard address table (CSV, Excel, JSON) into compounds and buildings.

    Every row needs its address code (once) and a place: a compound, or a road and door number.
    Coordinates are in ``default_crs`` unless a row names its own (坐标系); a compound none of
    whose rows has coordinates cannot be placed and its rows are reported."""
    path = Path(path)
    name = display_name or path.name
    table = read_table(path, name, limits=limits, json_keys=("addresses", "records"))
    mapping = _mapping([str(c) for c in table.columns], columns or {})
    default = canonical_crs(default_crs)
    cols = columns_of(table, mapping)
    problems = RowProblems()
    good: list[dict[str, Any]] = []
    for k, line in enumerate(problems.rows(cols["code"])):
        if not line.unique(label=("地址编码", "address code"),
                           missing=("缺少地址编码。", "no address code."),
                           reasons=("missing_code", "duplicate_code")):
            continue
        point = row_coordinates(line, cols["lon"][k], cols["lat"][k], cols["crs"][k], default)
        if point is None:
            continue
        row = {"row": line.number, "code": line.key, "lon": point[0], "lat": point[1],
               "crs": point[2], **{f: text(cols[f][k]) for f in (*_ADMIN, "address", "road")},
               "compound": text(cols["compound"][k]), "door": address_part(cols["door"][k], "door"),
               **{f: address_part(cols[f][k], f) for f in ("building", "unit", "floor", "room")}}
        if row["compound"] is not None and row["compound"] in _NONE:
            row["compound"] = None
        if row["compound"] is None and (row["road"] is None or row["door"] is None):
            line.bad(None, "no_place", "既没有小区，也没有街路巷和门牌号，无法归入地名库。",
                     "neither a compound nor a road and door number: cannot be placed.")
            continue
        if row["building"] is None and (row["unit"] or row["room"]):
            line.bad(None, "no_building", "有单元或户室却没有楼栋号。",
                     "a unit or room without a building number.")
            continue
        good.append(row)
    rows = pd.DataFrame(good, columns=["row", "code", "lon", "lat", "crs", *_ADMIN, "address",
                                       "road", "compound", "door", "building", "unit", "floor",
                                       "room"])
    compounds, buildings, kept = _gazetteer(rows, problems)
    return StandardAddresses(compounds, buildings, problems.items, mapping, len(table), kept)


def _most(values: pd.Series) -> int | None:
    """The highest of the numbers given (units or floors of a building); None if any given is
    not a number (``A``, ``B1``) or none is given."""
    given = values.dropna()
    numbers = pd.to_numeric(given, errors="coerce")
    if not len(given) or numbers.isna().any():
        return None
    return int(numbers.max())


def _gazetteer(rows: pd.DataFrame, problems: RowProblems
               ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int]:
    """Compounds and buildings from the good rows; compounds that cannot be placed reported."""
    lon, lat = lonlat_to_storage(rows["lon"].to_numpy(dtype=float),
                                 rows["lat"].to_numpy(dtype=float),
                                 rows["crs"].to_numpy(dtype=object))
    rows = rows.assign(x=lon, y=lat)
    rows["ckey"] = [(_str(s), _str(c), n) if isinstance(n, str) else (_str(s), _str(c), f"{r}{d}号")
                    for s, c, n, r, d in zip(rows["street"], rows["community"], rows["compound"],
                                             rows["road"], rows["door"], strict=True)]
    compounds: list[dict[str, Any]] = []
    buildings: list[dict[str, Any]] = []
    kept = 0
    for ckey, group in rows.groupby("ckey", sort=False):
        own = group[group["building"].isna()]
        placed = group[np.isfinite(group["x"]) & np.isfinite(group["y"])]
        if placed.empty:
            for r in group["row"]:
                problems.add(int(r), str(group.loc[group["row"] == r, "code"].iloc[0]),
                             "no_coordinates",
                             f"“{ckey[2]}”的各行都没有坐标，无法定位。",
                             f"no row of {ckey[2]!r} has coordinates: it cannot be placed.")
            continue
        own_placed = own[np.isfinite(own["x"]) & np.isfinite(own["y"])]
        where = own_placed if len(own_placed) else placed
        cx, cy = float(where["x"].mean()), float(where["y"].mean())
        first = group.iloc[0]
        cid = own["code"].iloc[0] if len(own) == 1 else _key_id("C", ckey)
        named = group["compound"].dropna()
        doors = group.dropna(subset=["road", "door"])
        compounds.append({
            "compound_id": str(cid), "name": str(named.iloc[0]) if len(named) else str(ckey[2]),
            "road": doors["road"].iloc[0] if len(doors) else None,
            "road_number": doors["door"].iloc[0] if len(doors) else None,
            **{f: _str(first[f]) for f in _ADMIN},
            "category": "compound", "codes": [str(c) for c in own["code"]],
            "geometry": shapely.Point(cx, cy)})
        kept += len(group)
        for number, bgroup in group.dropna(subset=["building"]).groupby("building", sort=False):
            bown = bgroup[bgroup["unit"].isna() & bgroup["room"].isna() & bgroup["floor"].isna()]
            bplaced = bgroup[np.isfinite(bgroup["x"]) & np.isfinite(bgroup["y"])]
            bown_placed = bown[np.isfinite(bown["x"]) & np.isfinite(bown["y"])]
            src = bown_placed if len(bown_placed) else bplaced
            bx, by = ((float(src["x"].mean()), float(src["y"].mean())) if len(src)
                      else (cx, cy))
            units, floors = _most(bgroup["unit"]), _most(bgroup["floor"])
            buildings.append({
                "building_id": str(bown["code"].iloc[0]) if len(bown) == 1
                else _key_id("B", (*ckey, str(number))),
                "compound_id": str(cid), "number": str(number),
                "units": units, "floors": floors,
                "codes": [str(c) for c in bgroup["code"]],
                "geometry": shapely.Point(bx, by)})
    ccols = ["compound_id", "name", "road", "road_number", *_ADMIN, "category", "codes",
             "geometry"]
    bcols = ["building_id", "compound_id", "number", "units", "floors", "codes", "geometry"]
    return (gpd.GeoDataFrame(pd.DataFrame(compounds, columns=ccols), geometry="geometry",
                             crs=STORAGE_CRS),
            gpd.GeoDataFrame(pd.DataFrame(buildings, columns=bcols), geometry="geometry",
                             crs=STORAGE_CRS),
            kept)
