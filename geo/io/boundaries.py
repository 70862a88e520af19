"""Read boundary files into wangge's unit table and write them back out.

Formats: GeoJSON, GeoPackage and zipped Shapefile (through pyogrio/GDAL). The unit table is a
GeoDataFrame in EPSG:4490 with columns ``code, name, level, parent_code, attrs, geometry``.
Field names are matched against common English and Chinese names unless the user maps them.

GCJ-02 and BD-09 have no EPSG code, so no file can declare them the standard way. Written here,
a GeoPackage declares a user-defined CRS named ``GCJ-02`` (or ``BD-09``: WGS 84's ellipsoid, a
datum whose name says it is offset), which desktop GIS shows by name and this module reads back
as that system; a GeoJSON declares no CRS at all (never CRS84) and says so in its description.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.crs import (
    OFFSET_NAMES,
    STORAGE_CRS,
    SourceCRS,
    check_plausible_lonlat,
    from_storage,
    offset_crs,
    parse_crs,
    to_storage,
)
from wangge.geo.errors import FieldMappingError, FileFormatError, InputError
from wangge.geo.io.result import ReadResult
from wangge.geo.io.vector import DRIVERS, read_vector
from wangge.geo.levels import NAMES_ZH, ORDER, Level, parse_level

COLUMNS = ["code", "name", "level", "parent_code", "attrs", "geometry"]
# ``fields="zh"``: field names and level values in Chinese (read back by the same candidates).
ZH_FIELDS = {"code": "编码", "name": "名称", "level": "层级", "parent_code": "上级编码",
             "attrs": "属性"}
FIELD_STYLES = ("en", "zh")
# GeoPackage 1.2: what GDAL 3.6 and QGIS LTR read without a version warning (GDAL 3.12 writes 1.4).
GPKG_VERSION = "1.2"

_OFFSET_NOTE = {
    "GPKG": ("坐标为 {label}（有偏移的坐标系，无 EPSG 代码），声明为名为 {label} 的自定义坐标系，"
             "不是 WGS-84/CGCS2000。 / Coordinates are {label} (an offset system with no EPSG code), "
             "declared as a user-defined CRS named {label}: not WGS-84/CGCS2000."),
    "GeoJSON": ("坐标为 {label}（有偏移的坐标系，无 EPSG 代码），本文件不声明坐标系；请勿当作 "
                "WGS-84/CGCS2000 使用，导入时请指定 --crs {label}。 / Coordinates are {label} (an "
                "offset system with no EPSG code); this file declares no CRS: do not read it as "
                "WGS-84/CGCS2000; import it with --crs {label}."),
}

# Personal data does not belong in boundary files: attributes whose names or values look like a
# person's name, phone or ID number are not stored (workers are imported on their own, with
# access control). The notes of the read say which fields were left out.
_PERSONAL_NAME = re.compile(
    r"姓名|名字|联系人|负责人|网格员|楼栋长|电话|手机|联系方式|身份证|证件|"
    r"phone|mobile|tel|contact|person|worker|id_?(card|number|no)", re.IGNORECASE)
_PERSONAL_VALUE = re.compile(r"(?<![0-9])(1[3-9][0-9]{9}|[1-9][0-9]{16}[0-9Xx])(?![0-9])")
_MAX_EXACT_FLOAT = 2**53

# Candidate source field names per target field, tried case-insensitively in this order.
FIELD_CANDIDATES: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "代码", "单元编码", "网格编码", "区划代码", "行政区划代码", "bm", "id"),
    "name": ("name", "名称", "单元名称", "网格名称", "区划名称", "mc"),
    "parent_code": ("parent_code", "parent_cod", "parent", "上级编码", "父级编码", "所属编码",
                    "上级代码", "上级区划代码", "sjbm"),
    "level": ("level", "层级", "级别", "单元层级", "类型", "jb"),
}


def read_units(path: str | Path, *, crs: object | None = None,
               fields: dict[str, str] | None = None, level: str | None = None,
               layer: str | None = None, config: ValidationConfig | None = None,
               display_name: str | None = None) -> ReadResult:
    """Read a boundary file; refuse it with a clear message if it cannot be what it claims.

    ``crs`` overrides the file's CRS (needed for GCJ-02/BD-09, which files cannot declare).
    ``fields`` maps target fields (code, name, parent_code, level) to the file's field names.
    ``level`` applies one level to every feature when the file has no level field.
    ``display_name`` is the name shown in messages (an upload's own name, not a temp path).
    """
    path = Path(path)
    name = display_name or path.name
    df = read_vector(path, name, layer=layer)
    by_level = _level_layers(df.attrs["layers"]) if layer is None and level is None else None
    if by_level is not None:  # one layer per level: all of them, as one table
        parts = [read_units(path, crs=crs, fields=fields, level=lv.value, layer=lay, config=config,
                            display_name=display_name) for lay, lv in by_level.items()]
        frame = gpd.GeoDataFrame(pd.concat([p.frame for p in parts], ignore_index=True),
                                 crs=STORAGE_CRS)
        return ReadResult(frame=frame[COLUMNS], source_crs=parts[0].source_crs,
                          mapping=parts[0].mapping, count=len(frame),
                          notes=[f"read the layers {', '.join(by_level)}, one per level",
                                 *dict.fromkeys(n for p in parts for n in p.notes)])
    notes: list[str] = []
    if layer is None and len(df.attrs["layers"]) > 1:
        notes.append(f"the file has layers {', '.join(df.attrs['layers'])}; read the first, "
                     f"{df.attrs['layer']}")
    source = _source_crs(df, crs, path, name, notes)
    mapping = _map_fields(df.columns, fields or {})
    units = _normalise(df, mapping, level, config or ValidationConfig(), name, notes)
    geoms = _gated_to_storage(np.asarray(units.geometry.values, dtype=object), source, name)
    units = gpd.GeoDataFrame(units.drop(columns="geometry"), geometry=list(geoms), crs=STORAGE_CRS)
    return ReadResult(frame=units[COLUMNS], source_crs=source.label, mapping=mapping,
                      count=len(units), notes=notes)


def _gated_to_storage(geoms: np.ndarray, source: SourceCRS, name: str) -> np.ndarray:
    """Geometries converted to storage, through the CRS gate before and after.

    Lon/lat as read is checked first, so NaN, infinite or absurd values (1e300, longitude 5000)
    are refused with the feature named before pyproj or GEOS see them.
    """
    if source.is_geographic:
        check_plausible_lonlat(geoms, source, where=name)
    out = to_storage(geoms, source)
    check_plausible_lonlat(out, source, where=name)
    return out


def _source_crs(df: gpd.GeoDataFrame, crs: object | None, path: Path, name: str,
                notes: list[str]) -> SourceCRS:
    suffix = path.suffix
    geojson = suffix.lower() in (".geojson", ".json")
    declared = _declared_offset(df.crs) or (_geojson_offset(path) if geojson else None)
    if crs is not None:
        source = parse_crs(crs)
        if df.crs is not None and source.offset is None and not source.crs.equals(df.crs):
            notes.append(f"file declares {declared or df.crs.to_string()}, read as {source.label} "
                         "as requested")
        return source
    if declared is not None:
        if geojson:
            notes.append(f"the file says its coordinates are {declared} (it declares no CRS)")
        return parse_crs(declared)
    if df.crs is not None:
        return parse_crs(df.crs)
    if geojson:
        return parse_crs(4326)  # RFC 7946: GeoJSON without a crs member is WGS-84
    raise InputError(
        f"文件 {name} 没有声明坐标系，请用 --crs 指定（如 EPSG:4490、GCJ-02）。",
        f"{name} declares no CRS; give one with --crs (e.g. EPSG:4490, GCJ-02).")


def _declared_offset(crs: pyproj.CRS | None) -> str | None:
    """``"GCJ-02"``/``"BD-09"`` when a file declares the CRS :func:`offset_crs` writes."""
    if crs is None or not crs.is_geographic:
        return None
    return next((label for label in OFFSET_NAMES if crs.name == label), None)


_GEOJSON_OFFSET = re.compile(r'"coordinate_system"\s*:\s*"(GCJ-02|BD-09)"')


def _geojson_offset(path: Path) -> str | None:
    """The offset system a GeoJSON written by :func:`write_units` names in its head, if any
    (its ``coordinate_system`` member precedes the features; only the first 4 KB are read)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096).decode("utf-8", "ignore")
    except OSError:
        return None
    found = _GEOJSON_OFFSET.search(head.split('"features"', 1)[0])
    return found.group(1) if found else None


def _level_layers(layers: list[str]) -> dict[str, Level] | None:
    """Layers named after levels (``street``… or ``街道``…), as an export by level writes them."""
    named: dict[str, Level] = {}
    for layer in layers:
        lv = parse_level(layer)
        if lv is None or layer not in (lv.value, lv.zh):
            return None
        named[layer] = lv
    return named if len(named) > 1 else None


def _map_fields(columns: pd.Index, override: dict[str, str]) -> dict[str, str | None]:
    available = {str(c).lower(): str(c) for c in columns if c != "geometry"}
    unknown_targets = set(override) - set(FIELD_CANDIDATES)
    if unknown_targets:
        raise FieldMappingError(
            f"未知的目标字段：{'、'.join(sorted(unknown_targets))}；可映射 code、name、parent_code、level。",
            f"Unknown target fields {sorted(unknown_targets)}; map code, name, parent_code, level.")
    mapping: dict[str, str | None] = {}
    for target, candidates in FIELD_CANDIDATES.items():
        if target in override:
            src = override[target]
            if src.lower() not in available:
                raise FieldMappingError(
                    f"文件中没有字段“{src}”（用于 {target}）。现有字段：{'、'.join(available.values())}",
                    f"Field {src!r} (for {target}) is not in the file. Fields: "
                    f"{', '.join(available.values())}", field=src)
            mapping[target] = available[src.lower()]
            continue
        mapping[target] = next((available[c.lower()] for c in candidates if c.lower() in available),
                               None)
    if mapping["code"] is None:
        raise FieldMappingError(
            f"找不到编码字段。现有字段：{'、'.join(available.values())}；请用 --field code=字段名 指定。",
            f"No code field found. Fields: {', '.join(available.values())}; "
            "map one with --field code=NAME.")
    return mapping


def _normalise(df: gpd.GeoDataFrame, mapping: dict[str, str | None], level: str | None,
               config: ValidationConfig, name: str, notes: list[str]) -> gpd.GeoDataFrame:
    code_col = mapping["code"]
    assert code_col is not None
    _refuse_inexact_codes(df, [c for c in (code_col, mapping["parent_code"]) if c], name)
    codes = [_text(v) for v in df[code_col]]
    raw_names = [_text(v) for v in df[mapping["name"]]] if mapping["name"] else [None] * len(df)
    names = [n or c for n, c in zip(raw_names, codes, strict=True)]
    if mapping["name"] and any(n is None for n in raw_names):
        notes.append("features without a name are named by their code")
    parents = [_text(v) for v in df[mapping["parent_code"]]] if mapping["parent_code"] else \
        [None] * len(df)
    fixed_level = None
    if level is not None:
        fixed_level = parse_level(level)
        if fixed_level is None:
            raise InputError(f"无法识别的层级“{level}”，应为 {'/'.join(lv.zh for lv in ORDER)}。",
                             f"Unknown level {level!r}; use one of {', '.join(ORDER)}.")
    levels: list[str | None] = []
    problems: list[str] = []
    for i, code in enumerate(codes):
        if not code:
            problems.append(f"第 {i + 1} 个要素缺少编码 / feature {i + 1} has no code")
        raw = df[mapping["level"]].iloc[i] if mapping["level"] else None
        lv: Level | None = fixed_level or parse_level(raw) if raw is not None else fixed_level
        if lv is None and raw is None and code:
            lv = config.level_from_code(code)
        # An unparseable level is kept as written: validation reports it with the unit's code.
        levels.append(lv.value if lv else (_text(raw) or None))
        if levels[-1] is None and code:
            problems.append(f"要素 {code} 无法确定层级 / feature {code}: level unknown")
    if problems:
        shown = problems[:20]
        more = f"（另有 {len(problems) - 20} 处）" if len(problems) > 20 else ""
        raise FieldMappingError(
            f"{name} 有 {len(problems)} 个要素无法读取：" + "；".join(shown) + more
            + "。可用 --level 指定层级，或用 --field level=字段名 映射层级字段。",
            f"{name}: {len(problems)} features cannot be read: " + "; ".join(shown),
            problems=problems)
    used = {c for c in mapping.values() if c}
    extra = [c for c in df.columns if c not in used and c != "geometry"]
    personal = [c for c in extra if _PERSONAL_NAME.search(str(c))]
    if personal:
        notes.append(f"personal fields not stored: {', '.join(map(str, personal))}")
    extra = [c for c in extra if c not in personal]
    attrs = [_attrs(df, extra, i) for i in range(len(df))]
    dropped = sorted({k for a in attrs for k in a.pop("_personal_", [])})
    if dropped:
        notes.append(f"values that look like phone or ID numbers not stored, in: {', '.join(dropped)}")
    return gpd.GeoDataFrame({"code": codes, "name": names, "level": levels, "parent_code": parents,
                             "attrs": attrs}, geometry=df.geometry.values, crs=df.crs)


def _refuse_inexact_codes(df: pd.DataFrame, columns: list[str], name: str) -> None:
    """Codes stored as floating point lose digits past 2**53 (18-digit codes do): refuse them."""
    for col in columns:
        values = df[col]
        if pd.api.types.is_float_dtype(values) and (values.abs() >= _MAX_EXACT_FLOAT).any():
            raise FieldMappingError(
                f"{name} 的字段“{col}”以浮点数保存编码，长编码的末几位已经丢失；请把编码存为文本字段。",
                f"{name}: field {col!r} stores codes as floating point numbers, which loses the "
                "last digits of long codes; store codes as text.", field=col)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # codes read as numbers from a Shapefile
    text = str(value).strip()
    return text or None


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    return value


def _clean_json(value: Any) -> Any:
    """JSON-safe value: non-finite floats become None, containers are cleaned through."""
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return _json_value(value)


def _attrs(df: pd.DataFrame, columns: list[str], i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in columns:
        value = _json_value(df[c].iloc[i])
        if c in ("attrs", ZH_FIELDS["attrs"]) and isinstance(value, (str, dict)):
            try:
                parsed = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                # wangge's own export: free attributes as one JSON field
                for key, item in parsed.items():
                    clean = _clean_json(item)
                    if isinstance(clean, str) and _PERSONAL_VALUE.search(clean) \
                            or _PERSONAL_NAME.search(str(key)):
                        out.setdefault("_personal_", []).append(str(key))
                    elif clean is not None:
                        out[str(key)] = clean
                continue
        if isinstance(value, str) and _PERSONAL_VALUE.search(value):
            out.setdefault("_personal_", []).append(str(c))
            continue
        if value is not None:
            out[c] = value
    return out


def write_units(units: gpd.GeoDataFrame, path: str | Path, *, crs: object = "EPSG:4490",
                layer: str | None = None, add_layer: bool = False, fields: str = "en") -> Path:
    """Write a unit table (EPSG:4490) to GeoJSON or GeoPackage in the requested CRS.

    The file is replaced, unless ``add_layer``: then ``layer`` is added to an existing
    GeoPackage (a plan's export writes one layer per level). ``fields="zh"`` names the fields
    编码, 名称, 层级 (街道/社区/网格/微网格), 上级编码, 属性.

    GCJ-02/BD-09: a GeoPackage declares the user-defined CRS of :func:`offset_crs`; a GeoJSON
    declares none and says so in its description (see the module docstring).
    """
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver not in ("GeoJSON", "GPKG"):
        raise FileFormatError(f"导出仅支持 .geojson 和 .gpkg，收到“{path.suffix}”。",
                              f"Export writes .geojson or .gpkg, not {path.suffix!r}.")
    if fields not in FIELD_STYLES:
        raise InputError(f"字段名样式应为 en 或 zh，收到“{fields}”。",
                         f"Field names are en or zh, not {fields!r}.", fields=fields)
    target = parse_crs(crs)
    geoms = from_storage(np.asarray(units.geometry.values, dtype=object), target)
    table = pd.DataFrame({
        "code": units["code"].astype(str), "name": units["name"].astype(str),
        "level": units["level"].astype(str),
        "parent_code": [p if isinstance(p, str) else None for p in units["parent_code"]],
        "attrs": [json.dumps(_clean_json(a or {}), ensure_ascii=False, sort_keys=True)
                  for a in units.get("attrs", [None] * len(units))],
    })
    if fields == "zh":
        zh_level = {lv.value: lv.zh for lv in ORDER}
        table["level"] = [zh_level.get(v, v) for v in table["level"]]
        table = table.rename(columns=ZH_FIELDS)
    declared: pyproj.CRS | None = target.crs
    description = f"wangge boundary units, {target.label}"
    if target.offset is not None:
        declared = offset_crs(target.label) if driver == "GPKG" else None
        description = _OFFSET_NOTE[driver].format(label=target.label)
    out = gpd.GeoDataFrame(table, geometry=list(shapely.force_2d(geoms)), crs=declared)
    path.parent.mkdir(parents=True, exist_ok=True)
    adding = add_layer and driver == "GPKG" and path.exists()
    if path.exists() and not adding:
        path.unlink()
    kwargs: dict[str, Any] = {"layer_options": {"DESCRIPTION": description}}
    if driver == "GPKG":
        kwargs["layer"] = layer or "units"
        if not adding:
            kwargs["dataset_options"] = {"VERSION": GPKG_VERSION}
    elif target.offset is not None:  # a foreign member that machines can read, too
        kwargs["layer_options"]["FOREIGN_MEMBERS_COLLECTION"] = json.dumps(
            {"coordinate_system": target.label, "crs_declared": False})
    with warnings.catch_warnings():  # no CRS is the point for an offset GeoJSON (see above)
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        pyogrio.write_dataframe(out, path, driver=driver, promote_to_multi=False, **kwargs)
    return path


def export_units(units: gpd.GeoDataFrame, path: str | Path, *, crs: object = "EPSG:4490",
                 fields: str = "en") -> list[str]:
    """Write units for people and desktop GIS; returns the layers written.

    A GeoPackage gets one layer per level present (``street``…, or ``街道``… with
    ``fields="zh"``), each in the file's one CRS; :func:`read_units` reads such a file back
    whole. A GeoJSON is one collection with the level as a field.
    """
    path = Path(path)
    if DRIVERS.get(path.suffix.lower()) != "GPKG":
        write_units(units, path, crs=crs, fields=fields)
        return [path.stem]
    if path.exists():
        path.unlink()
    layers = []
    for lv in ORDER:
        part = units[units["level"] == lv.value]
        if len(part):
            name = NAMES_ZH[lv] if fields == "zh" else lv.value
            write_units(part, path, crs=crs, layer=name, add_layer=True, fields=fields)
            layers.append(name)
    return layers


def read_extent(path: str | Path, *, crs: object | None = None) -> shapely.Geometry:
    """Read any polygon file (e.g. a district boundary) as one geometry in EPSG:4490."""
    path = Path(path)
    df = read_vector(path, path.name)
    source = _source_crs(df, crs, path, path.name, [])
    geoms = _gated_to_storage(np.asarray(df.geometry.values, dtype=object), source, path.name)
    area = shapely.union_all(geoms)
    if shapely.get_dimensions(area) != 2 or shapely.is_empty(area):
        raise FileFormatError(f"{path.name} 不是面状边界，不能作为区县范围。",
                              f"{path.name} holds no polygons; it cannot be a district extent.")
    return shapely.make_valid(area)
