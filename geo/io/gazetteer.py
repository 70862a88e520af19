"""Read a gazetteer (compounds and buildings) from GeoJSON, GeoPackage or CSV.

Compounds (小区, village groups) are polygons or points; buildings (楼栋) are points, in a
spatial file or a CSV with longitude/latitude columns. Any CRS the CRS gate knows, GCJ-02 and
BD-09 included (say so with ``crs``); everything is converted to EPSG:4490 here.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from wangge.geo.crs import STORAGE_CRS, check_plausible_lonlat, parse_crs, to_storage
from wangge.geo.errors import FieldMappingError, FileFormatError
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, read_table
from wangge.geo.io.vector import DRIVERS, read_vector

COMPOUND_FIELDS = {
    "compound_id": ("compound_id", "小区编号", "小区编码", "编号", "id"),
    "name": ("name", "小区名称", "名称", "小区"),
    "road": ("road", "道路", "路名", "街路巷"),
    "road_number": ("road_number", "门牌号", "门牌", "号"),
}
BUILDING_FIELDS = {
    "building_id": ("building_id", "楼栋编号", "楼栋编码", "编号", "id"),
    "compound_id": ("compound_id", "小区编号", "小区编码", "所属小区"),
    "number": ("number", "楼号", "栋号", "楼栋号"),
}
_LON = ("lon", "lng", "longitude", "经度", "x")
_LAT = ("lat", "latitude", "纬度", "y")


def _rename(frame: pd.DataFrame, fields: dict[str, tuple[str, ...]], name: str) -> pd.DataFrame:
    available = {str(c).strip().lower(): c for c in frame.columns if c != "geometry"}
    renames = {}
    for target, candidates in fields.items():
        src = next((available[c.lower()] for c in candidates if c.lower() in available), None)
        if src is not None:
            renames[src] = target
    out = frame.rename(columns=renames)
    required = [t for t in fields if t not in ("road", "road_number", "number")]
    missing = [t for t in required if t not in out.columns]
    if missing:
        raise FieldMappingError(
            f"{name} 缺少字段 {'、'.join(missing)}。现有字段：{'、'.join(map(str, available.values()))}",
            f"{name} lacks fields {missing}. Fields: {', '.join(map(str, available.values()))}")
    return out


def _read(path: Path, crs: object | None, limits: TableLimits) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = read_table(path, path.name, limits=limits)
        cols = {str(c).strip().lower(): c for c in table.columns}
        lon = next((cols[c] for c in _LON if c in cols), None)
        lat = next((cols[c] for c in _LAT if c in cols), None)
        if lon is None or lat is None:
            raise FieldMappingError(f"{path.name} 没有经度/纬度列。",
                                    f"{path.name} has no longitude/latitude columns.")
        try:
            x, y = table[lon].astype(float).to_numpy(), table[lat].astype(float).to_numpy()
        except ValueError as exc:
            raise FileFormatError(f"{path.name} 的经纬度不是数字。",
                                  f"{path.name}: longitude/latitude are not numbers.") from exc
        frame = gpd.GeoDataFrame(table.drop(columns=[lon, lat]), geometry=shapely.points(x, y),
                                 crs=None)
        source = parse_crs(crs if crs is not None else 4326)
    elif suffix in DRIVERS:
        frame = read_vector(path, path.name)
        source = parse_crs(crs if crs is not None else (frame.crs or 4326))
    else:
        raise FileFormatError(f"不支持的格式“{suffix}”（支持 GeoJSON、GeoPackage、CSV）。",
                              f"Unsupported format {suffix!r} (use GeoJSON, GeoPackage, CSV).")
    if len(frame) == 0:
        raise FileFormatError(f"{path.name} 没有任何记录。", f"{path.name} has no records.")
    geoms = to_storage(np.asarray(frame.geometry.values, dtype=object), source)
    check_plausible_lonlat(geoms, source, where=path.name)
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(geoms), crs=STORAGE_CRS)


def read_gazetteer(compounds_path: str | Path, buildings_path: str | Path, *,
                   crs: object | None = None, limits: TableLimits = DEFAULT_LIMITS
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compounds and buildings, renamed to the gazetteer's columns, in EPSG:4490.

    A CSV past ``limits`` is refused (:class:`wangge.geo.errors.TableTooLarge`)."""
    cpath, bpath = Path(compounds_path), Path(buildings_path)
    compounds = _rename(_read(cpath, crs, limits), COMPOUND_FIELDS, cpath.name)
    buildings = _rename(_read(bpath, crs, limits), BUILDING_FIELDS, bpath.name)
    kinds = set(shapely.get_type_id(np.asarray(buildings.geometry.values, dtype=object)))
    if kinds - {0}:
        raise FileFormatError(f"{bpath.name} 中的楼栋应为点。",
                              f"{bpath.name}: buildings must be points.")
    for frame, key in ((compounds, "compound_id"), (buildings, "building_id")):
        frame[key] = frame[key].astype(str)
        repeated = frame[key][frame[key].duplicated()].unique()
        if len(repeated):
            raise FieldMappingError(f"编号重复：{'、'.join(repeated[:10])}",
                                    f"Repeated ids: {', '.join(repeated[:10])}")
    buildings["compound_id"] = buildings["compound_id"].astype(str)
    unknown = set(buildings["compound_id"]) - set(compounds["compound_id"])
    if unknown:
        shown = "、".join(sorted(unknown)[:10])
        raise FieldMappingError(f"楼栋所属小区不存在：{shown}",
                                f"Buildings refer to unknown compounds: {shown}")
    return compounds, buildings
