"""Read the registers of actual housing and population (实有房屋、实有人口, the "三实" of
一标三实) as household registers.

- **Housing** (实有房屋): one row per dwelling with its dwelling code (房屋编码), the standard
  address code it hangs on (地址编码), its address (房屋地址) and optionally coordinates and the
  number of people living there (居住人数). A dwelling is a household; its id is the dwelling code.
  Owner and tenant fields are not read: nothing downstream needs them (data minimisation).
- **Population** (实有人口): one row per resident with name (姓名), ID number (公民身份号码),
  relation to the head (与户主关系), phone (联系电话), residence address (居住地址) and the
  dwelling, address code or household number they belong to. Residents are grouped into
  households by the first of 房屋编码 / 地址编码 / 户号 the table has (or the column mapped to
  ``external_id``): the household's size is the number of its residents in the table, its address
  and address code the head's (else the first resident's), and its personal fields (kept apart,
  as for every register) the head's — 户主/本人, or codes 0 (census), 01/02 (GB/T 4761) — else
  the first resident's. Other residents' names and numbers are not kept.

Header names follow the census forms (第七次全国人口普查: 姓名, 与户主关系, 公民身份号码) and
the public-security and grid-system layouts of the 实有人口/实有房屋 registers. Both readers give
a :class:`wangge.geo.io.register.Register`, so they are imported exactly like any register. Row
problems never repeat a name, phone or ID number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wangge.geo.errors import FieldMappingError, echo
from wangge.geo.io.register import PERSONAL, Register, register_of, row_coordinates
from wangge.geo.io.rows import RowProblems, canonical_crs, columns_of, map_columns
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, read_table, text
from wangge.geo.numerals import people

__all__ = ["HOUSING_COLUMNS", "POPULATION_COLUMNS", "read_housing", "read_population"]

_DWELLING = ("房屋编码", "房屋编号", "房屋代码", "房屋id", "dwelling_code", "house_code")
_ADDRESS_CODE = ("地址编码", "标准地址编码", "地址代码", "标准地址代码", "address_code")
_HOUSEHOLD_NO = ("户号", "户编号", "户口编号", "household_no")
_COORDS = {"lon": ("lon", "lng", "longitude", "经度"), "lat": ("lat", "latitude", "纬度"),
           "crs": ("crs", "坐标系", "坐标系统")}

HOUSING_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": _DWELLING,
    "building_id": _ADDRESS_CODE,
    "address": ("房屋地址", "标准地址", "房屋坐落", "坐落", "地址", "详细地址", "address"),
    **_COORDS,
    "size": ("居住人数", "实住人数", "在住人数", "人数", "户人数", "size"),
}
POPULATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "dwelling": _DWELLING,
    "building_id": _ADDRESS_CODE,
    "household_no": _HOUSEHOLD_NO,
    "address": ("居住地址", "现住址", "现居住地址", "实际居住地址", "居住地详址", "居住地",
                "标准地址", "房屋地址", "地址", "address"),
    **_COORDS,
    "name": ("姓名", "name"),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "证件号码", "id_number"),
    "phone": ("联系电话", "手机号码", "手机号", "联系方式", "电话", "phone"),
    "relation": ("与户主关系", "家庭关系", "关系", "relation"),
}
# 与户主关系 values meaning the head of the household: words, the census code 0 and the
# GB/T 4761 codes 01 (本人) and 02 (户主).
HEAD = frozenset({"户主", "本人", "户主本人", "0", "00", "01", "02"})


def _shown(columns: list[str]) -> str:
    return "、".join(c for c in columns if not c.startswith("__"))


def read_housing(path: str | Path, *, columns: dict[str, str] | None = None,
                 default_crs: str = "WGS-84", display_name: str | None = None,
                 limits: TableLimits = DEFAULT_LIMITS) -> Register:
    """A 实有房屋 table as a register: one household per dwelling (its 房屋编码)."""
    path = Path(path)
    name = display_name or path.name
    table = read_table(path, name, limits=limits, json_keys=("housing", "records"))
    headers = [str(c) for c in table.columns]
    mapping = map_columns(headers, HOUSING_COLUMNS, columns or {}, ("房屋表", "the housing table"))
    if mapping["external_id"] is None:
        raise FieldMappingError(
            f"找不到房屋编码列。现有列：{_shown(headers)}；请指定 external_id=列名。",
            f"No dwelling code column found. Columns: {', '.join(headers)}; map one with "
            "external_id=COLUMN.")
    if mapping["address"] is None and mapping["building_id"] is None and mapping["lon"] is None:
        raise FieldMappingError("房屋表既没有地址、地址编码，也没有经纬度列。",
                                "The housing table has no address, address code or coordinates.")
    default = canonical_crs(default_crs)
    cols = columns_of(table, mapping)
    problems = RowProblems()
    records: list[dict[str, Any]] = []
    for k, line in enumerate(problems.rows(cols["external_id"])):
        if not line.unique(label=("房屋编码", "dwelling code"),
                           missing=("缺少房屋编码。", "no dwelling code."),
                           reasons=("missing_id", "duplicate_id")):
            continue
        point = row_coordinates(line, cols["lon"][k], cols["lat"][k], cols["crs"][k], default)
        if point is None:
            continue
        address, code = text(cols["address"][k]), text(cols["building_id"][k])
        if address is None and code is None and point[0] is None:
            line.bad(None, "no_location", "既没有地址、地址编码，也没有坐标。",
                     "neither an address, an address code nor coordinates.")
            continue
        size = _size(line, cols["size"][k])
        if size is False:
            continue
        records.append({"row": line.number, "external_id": line.key, "address": address,
                        "lon": point[0], "lat": point[1], "crs": point[2], "building_id": code,
                        "size": size})
    register_mapping = {f: mapping.get(f) for f in
                        ("external_id", "address", "lon", "lat", "crs", "building_id", "size")}
    return register_of(records, [], problems,
                       {**register_mapping, **dict.fromkeys(PERSONAL)}, len(table))


def _size(line: Any, cell: Any) -> int | None | bool:
    """A dwelling's number of residents; False (reported) if it is not a plausible number."""
    try:
        size = people(cell)
    except ValueError:
        size = -1
    if size is None:
        return None
    if not 0 <= size <= 100:
        line.bad(None, "bad_size", f"居住人数“{echo(cell)}”不是合理的人数（应如 3、三口、3人）。",
                 f"number of residents {echo(cell)!r} is not a plausible count (e.g. 3, 三口, 3人).")
        return False
    return size


def read_population(path: str | Path, *, columns: dict[str, str] | None = None,
                    default_crs: str = "WGS-84", display_name: str | None = None,
                    limits: TableLimits = DEFAULT_LIMITS) -> Register:
    """A 实有人口 table as a register: residents grouped into households (see the module)."""
    path = Path(path)
    name = display_name or path.name
    table = read_table(path, name, limits=limits, json_keys=("population", "records"))
    headers = [str(c) for c in table.columns]
    override = dict(columns or {})
    key_column = override.pop("external_id", None)
    mapping = map_columns(headers, POPULATION_COLUMNS, override, ("人口表", "the population table"))
    if key_column is not None:
        found = {h.strip().lower(): h for h in headers}.get(key_column.strip().lower())
        if found is None:
            raise FieldMappingError(
                f"人口表中没有列“{key_column}”（用于 external_id）。现有列：{_shown(headers)}",
                f"Column {key_column!r} (for external_id) is not in the population table. "
                f"Columns: {', '.join(headers)}", field=key_column)
        key = found
    else:
        key = mapping["dwelling"] or mapping["building_id"] or mapping["household_no"]
    if key is None:
        raise FieldMappingError(
            f"人口表中找不到房屋编码、地址编码或户号列，无法把人归到住户。现有列：{_shown(headers)}",
            "The population table has no dwelling code, address code or household number "
            f"column to group residents into households. Columns: {', '.join(headers)}")
    default = canonical_crs(default_crs)
    cols = columns_of(table, {**mapping, "key": key})
    problems = RowProblems()
    households: dict[str, dict[str, Any]] = {}
    people: dict[str, int] = {}  # ID number -> the row that gave it (never shown)
    for k, line in enumerate(problems.rows(cols["key"])):
        if line.key is None:
            line.bad(None, "missing_id", f"缺少{key}，无法归到住户。",
                     f"no {key}: the resident cannot be put in a household.")
            continue
        point = row_coordinates(line, cols["lon"][k], cols["lat"][k], cols["crs"][k], default)
        if point is None:
            continue
        person = {t: text(cols[t][k]) for t in PERSONAL}
        if person["id_number"] is not None:
            first = people.setdefault(person["id_number"].upper(), line.number)
            if first != line.number:
                line.bad(None, "duplicate_person", f"与第 {first} 行是同一人（公民身份号码相同）。",
                         f"the same person as row {first} (same ID number).")
                continue
        relation = (text(cols["relation"][k]) or "").replace(" ", "")
        resident = {"row": line.number, "address": text(cols["address"][k]),
                    "building_id": text(cols["building_id"][k]), "lon": point[0],
                    "lat": point[1], "crs": point[2], "head": relation in HEAD, **person}
        households.setdefault(line.key, {"residents": []})["residents"].append(resident)
    records: list[dict[str, Any]] = []
    personal: list[dict[str, Any]] = []
    for ext, entry in households.items():
        residents = entry["residents"]
        heads = [r for r in residents if r["head"]]
        first = heads[0] if heads else residents[0]
        ordered = [first, *(r for r in residents if r is not first)]
        pick = {f: next((r[f] for r in ordered if r[f] is not None), None)
                for f in ("address", "building_id")}
        placed = next((r for r in ordered if r["lon"] is not None), None)
        if pick["address"] is None and pick["building_id"] is None and placed is None:
            for r in residents:
                problems.add(r["row"], ext, "no_location",
                             "该住户既没有居住地址、地址编码，也没有坐标。",
                             "the household has neither an address, an address code nor "
                             "coordinates.")
            continue
        records.append({"row": first["row"], "external_id": ext, **pick,
                        "lon": placed["lon"] if placed else None,
                        "lat": placed["lat"] if placed else None,
                        "crs": placed["crs"] if placed else None, "size": len(residents)})
        if any(first[t] is not None for t in PERSONAL):
            personal.append({"external_id": ext, **{t: first[t] for t in PERSONAL}})
    problems.items.sort(key=lambda p: p.row)
    register_mapping: dict[str, str | None] = {
        "external_id": key, "address": mapping["address"], "lon": mapping["lon"],
        "lat": mapping["lat"], "crs": mapping["crs"], "building_id": mapping["building_id"],
        "size": key, **{t: mapping[t] for t in PERSONAL}}
    return register_of(records, personal, problems, register_mapping, len(table))
