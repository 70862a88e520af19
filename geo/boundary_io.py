"""Read boundary files into wangge's unit table and write them back out.

Formats: GeoJSON, GeoPackage and zipped Shapefile (through pyogrio/GDAL). The unit table is a
GeoDataFrame in EPSG:4490 with columns ``code, name, level, parent_code, attrs, geometry``.
Field names are matched against common English and Chinese names unless the user maps them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import STORAGE_CRS, SourceCRS, check_plausible_lonlat, from_storage, parse_crs, to_storage
from geo.errors import FieldMappingError, FileFormatError, InputError
from geo.levels import ORDER, Level, parse_level
from geo.rules import ValidationConfig

COLUMNS = ["code", "name", "level", "parent_code", "attrs", "geometry"]

# Candidate source field names per target field, tried case-insensitively in this order.
FIELD_CANDIDATES: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "代码", "单元编码", "网格编码", "区划代码", "行政区划代码", "bm", "id"),
    "name": ("name", "名称", "单元名称", "网格名称", "区划名称", "mc"),
    "parent_code": ("parent_code", "parent", "上级编码", "父级编码", "所属编码", "上级代码",
                    "上级区划代码", "sjbm"),
    "level": ("level", "层级", "级别", "单元层级", "类型", "jb"),
}

DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".zip": "ESRI Shapefile",
           ".shp": "ESRI Shapefile"}


@dataclass
class ReadResult:
    """A file read into the unit table, and how it was read."""

    units: gpd.GeoDataFrame
    source_crs: str
    mapping: dict[str, str | None]
    feature_count: int
    notes: list[str] = field(default_factory=list)


def _gdal_path(path: Path) -> str:
    if path.suffix.lower() == ".zip":
        return f"/vsizip/{path}"
    return str(path)


def read_units(path: str | Path, *, crs: object | None = None,
               fields: dict[str, str] | None = None, level: str | None = None,
               layer: str | None = None, config: ValidationConfig | None = None) -> ReadResult:
    """Read a boundary file; refuse it with a clear message if it cannot be what it claims.

    ``crs`` overrides the file's CRS (needed for GCJ-02/BD-09, which files cannot declare).
    ``fields`` maps target fields (code, name, parent_code, level) to the file's field names.
    ``level`` applies one level to every feature when the file has no level field.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"文件不存在：{path}", f"File not found: {path}", path=str(path))
    if path.suffix.lower() not in DRIVERS:
        raise FileFormatError(
            f"不支持的文件格式“{path.suffix}”，支持 GeoJSON、GeoPackage、zip 压缩的 Shapefile。",
            f"Unsupported file type {path.suffix!r}: use GeoJSON, GeoPackage or zipped Shapefile.",
            path=str(path))
    try:
        df = pyogrio.read_dataframe(_gdal_path(path), layer=layer)
    except Exception as exc:  # GDAL raises several types for unreadable files
        raise FileFormatError(f"无法读取文件 {path.name}：{exc}", f"Cannot read {path.name}: {exc}",
                              path=str(path)) from exc
    notes: list[str] = []
    source = _source_crs(df, crs, path, notes)
    mapping = _map_fields(df.columns, fields or {})
    units = _normalise(df, mapping, level, config or ValidationConfig(), path)
    geoms = to_storage(np.asarray(units.geometry.values, dtype=object), source)
    check_plausible_lonlat(geoms, source, where=path.name)
    units = gpd.GeoDataFrame(units.drop(columns="geometry"), geometry=list(geoms), crs=STORAGE_CRS)
    return ReadResult(units=units[COLUMNS], source_crs=source.label, mapping=mapping,
                      feature_count=len(units), notes=notes)


def _source_crs(df: gpd.GeoDataFrame, crs: object | None, path: Path, notes: list[str]) -> SourceCRS:
    if crs is not None:
        source = parse_crs(crs)
        if df.crs is not None and source.offset is None and not source.crs.equals(df.crs):
            notes.append(f"file declares {df.crs.to_string()}, read as {source.label} as requested")
        return source
    if df.crs is not None:
        return parse_crs(df.crs)
    if path.suffix.lower() in (".geojson", ".json"):
        return parse_crs(4326)  # RFC 7946: GeoJSON without a crs member is WGS-84
    raise InputError(
        f"文件 {path.name} 没有声明坐标系，请用 --crs 指定（如 EPSG:4490、GCJ-02）。",
        f"{path.name} declares no CRS; give one with --crs (e.g. EPSG:4490, GCJ-02).",
        path=str(path))


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
               config: ValidationConfig, path: Path) -> gpd.GeoDataFrame:
    code_col = mapping["code"]
    assert code_col is not None
    codes = [_text(v) for v in df[code_col]]
    names = [_text(v) for v in df[mapping["name"]]] if mapping["name"] else codes
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
            f"{path.name} 有 {len(problems)} 个要素无法读取：" + "；".join(shown) + more
            + "。可用 --level 指定层级，或用 --field level=字段名 映射层级字段。",
            f"{path.name}: {len(problems)} features cannot be read: " + "; ".join(shown),
            problems=problems)
    used = {c for c in mapping.values() if c}
    extra = [c for c in df.columns if c not in used and c != "geometry"]
    attrs = [_attrs(df, extra, i) for i in range(len(df))]
    return gpd.GeoDataFrame({"code": codes, "name": names, "level": levels, "parent_code": parents,
                             "attrs": attrs}, geometry=df.geometry.values, crs=df.crs)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # codes read as numbers from a Shapefile
    text = str(value).strip()
    return text or None


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    return value


def _attrs(df: pd.DataFrame, columns: list[str], i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in columns:
        value = _json_value(df[c].iloc[i])
        if c == "attrs" and isinstance(value, (str, dict)):
            try:
                parsed = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                out.update(parsed)  # wangge's own export: free attributes as one JSON field
                continue
        if value is not None:
            out[c] = value
    return out


def write_units(units: gpd.GeoDataFrame, path: str | Path, *, crs: object = "EPSG:4490",
                layer: str | None = None) -> Path:
    """Write a unit table (EPSG:4490) to GeoJSON or GeoPackage in the requested CRS.

    GCJ-02/BD-09 output carries WGS-84 as its declared CRS (no file format can declare the
    offset systems) and says so in the layer description.
    """
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver not in ("GeoJSON", "GPKG"):
        raise FileFormatError(f"导出仅支持 .geojson 和 .gpkg，收到“{path.suffix}”。",
                              f"Export writes .geojson or .gpkg, not {path.suffix!r}.")
    target = parse_crs(crs)
    geoms = from_storage(np.asarray(units.geometry.values, dtype=object), target)
    table = pd.DataFrame({
        "code": units["code"].astype(str), "name": units["name"].astype(str),
        "level": units["level"].astype(str),
        "parent_code": [p if isinstance(p, str) else None for p in units["parent_code"]],
        "attrs": [json.dumps(a or {}, ensure_ascii=False, sort_keys=True)
                  for a in units.get("attrs", [None] * len(units))],
    })
    out = gpd.GeoDataFrame(table, geometry=list(shapely.force_2d(geoms)), crs=target.crs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    kwargs: dict[str, Any] = {}
    if driver == "GPKG":
        kwargs["layer"] = layer or "units"
        kwargs["layer_options"] = {"DESCRIPTION": f"wangge boundary units, {target.label}"}
    pyogrio.write_dataframe(out, path, driver=driver, promote_to_multi=False, **kwargs)
    return path


def read_extent(path: str | Path, *, crs: object | None = None) -> shapely.Geometry:
    """Read any polygon file (e.g. a district boundary) as one geometry in EPSG:4490."""
    path = Path(path)
    try:
        df = pyogrio.read_dataframe(_gdal_path(path), read_geometry=True)
    except Exception as exc:  # GDAL raises several types for unreadable files
        raise FileFormatError(f"无法读取文件 {path.name}：{exc}", f"Cannot read {path.name}: {exc}",
                              path=str(path)) from exc
    source = _source_crs(df, crs, path, [])
    geoms = to_storage(np.asarray(df.geometry.values, dtype=object), source)
    check_plausible_lonlat(geoms, source, where=path.name)
    return shapely.union_all(geoms)
