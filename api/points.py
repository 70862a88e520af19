"""Reading the points of a batch membership request: JSON, GeoJSON or CSV, in input order.

A point that cannot be read (missing, not a number, not a Point) is kept in its place with NaN
coordinates, so its answer says ``invalid`` rather than the whole request failing; a body that
is not JSON/GeoJSON/CSV at all is refused with a clear error. A CSV goes through the table
reader, its row limit the batch's own; more points than the batch allows is refused the same way
whatever the body's form (``payload_too_large``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd
from numpy.typing import NDArray

from wangge.geo.errors import FileFormatError, InputError, TableTooLarge, TooLarge
from wangge.geo.io.table import TableLimits, read_table

LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
ID_NAMES = ("id", "编号", "name")
_CSV_NAME = "batch.csv"  # how the table reader's messages call a CSV body


@dataclass
class Points:
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    ids: list[Any] | None
    crs: str | None            # given in the body (JSON "crs"), else None
    addresses: list[str] | None = None


def _pairs(values: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    try:
        xy = np.asarray(values, dtype=np.float64)
        if xy.ndim == 2 and xy.shape[1] == 2:
            return xy[:, 0].copy(), xy[:, 1].copy()
    except (TypeError, ValueError):
        pass
    lon = np.full(len(values), np.nan)
    lat = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)) and len(v) == 2 and all(
                isinstance(c, (int, float)) and not isinstance(c, bool) for c in v):
            lon[i], lat[i] = v
    return lon, lat


def _numbers(*columns: list[Any]) -> bool:
    """True when every value is a number (the fast path of the columnar form)."""
    try:
        for column in columns:
            np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return not any(isinstance(v, bool) for column in columns for v in column[:1])


def _geojson(doc: dict[str, Any]) -> Points:
    features = doc.get("features")
    if not isinstance(features, list):
        raise FileFormatError("GeoJSON 须为含 features 的 FeatureCollection。",
                              "GeoJSON must be a FeatureCollection with features.")
    coords = []
    ids = []
    for f in features:
        geom = f.get("geometry") if isinstance(f, dict) else None
        ok = isinstance(geom, dict) and geom.get("type") == "Point"
        coords.append(geom.get("coordinates", [None])[:2] if ok else None)
        ids.append(f.get("id") if isinstance(f, dict) else None)
    lon, lat = _pairs(coords)
    return Points(lon, lat, ids if any(i is not None for i in ids) else None, None)


def parse_json(body: bytes) -> Points:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FileFormatError("请求体不是有效的 JSON。", "The request body is not valid JSON.",
                              position=exc.pos) from None
    if not isinstance(doc, dict):
        raise InputError('JSON 须为对象，如 {"points": [[经度, 纬度], …]}。',
                         'JSON must be an object such as {"points": [[lon, lat], …]}.')
    crs = doc.get("crs")
    if crs is not None and not isinstance(crs, str):
        raise InputError("crs 须为字符串，如 \"GCJ-02\"。", "crs must be a string such as \"GCJ-02\".")
    if doc.get("type") == "FeatureCollection":
        points = _geojson(doc)
        points.crs = crs
        return points
    ids = doc.get("ids")
    if "addresses" in doc:
        addresses = doc["addresses"]
        if not isinstance(addresses, list):
            raise InputError("addresses 须为地址字符串的数组。", "addresses must be an array of strings.")
        n = len(addresses)
        texts = [a if isinstance(a, str) else "" for a in addresses]
        points = Points(np.full(n, np.nan), np.full(n, np.nan), ids, crs, texts)
    elif isinstance(doc.get("points"), list):
        lon, lat = _pairs(doc["points"])
        points = Points(lon, lat, ids, crs)
    elif isinstance(doc.get("lon"), list) and isinstance(doc.get("lat"), list):
        if len(doc["lon"]) != len(doc["lat"]):
            raise InputError("lon 与 lat 数组长度不同。", "The lon and lat arrays differ in length.",
                             lon=len(doc["lon"]), lat=len(doc["lat"]))
        lon, lat = _pairs(list(zip(doc["lon"], doc["lat"], strict=True))) \
            if not _numbers(doc["lon"], doc["lat"]) else (
                np.asarray(doc["lon"], dtype=np.float64), np.asarray(doc["lat"], dtype=np.float64))
        points = Points(lon, lat, ids, crs)
    else:
        raise InputError('JSON 须含 "points"（[[经度, 纬度], …]）、"lon" 与 "lat" 数组或 "addresses"，'
                         "或为 GeoJSON。",
                         'JSON needs "points" ([[lon, lat], …]), "lon" and "lat" arrays or '
                         '"addresses", or be GeoJSON.')
    if ids is not None and (not isinstance(ids, list) or len(ids) != len(points.lon)):
        raise InputError("ids 须为与点数相同长度的数组。", "ids must be an array as long as the points.")
    return points


def parse_csv(body: bytes, max_points: int) -> Points:
    """UTF-8 or GB18030 (bytes that are neither read as U+FFFD), at most ``max_points`` rows."""
    try:
        table = read_table(body, _CSV_NAME, limits=TableLimits(max_rows=max_points),
                           encoding_errors="replace")
    except TableTooLarge as exc:
        if exc.detail["limit"] != "rows":
            raise
        raise _too_many(max_points, exc.detail["found"], at_least=True) from None
    names = {c.strip().lower(): c for c in table.columns}
    lon_col = next((names[n] for n in LON_NAMES if n in names), None)
    lat_col = next((names[n] for n in LAT_NAMES if n in names), None)
    if lon_col is None or lat_col is None:
        raise FileFormatError("CSV 须有经度、纬度列（lon/lat、经度/纬度）。",
                              "The CSV needs longitude and latitude columns (lon/lat).",
                              columns=list(table.columns))
    id_col = next((names[n] for n in ID_NAMES if n in names), None)
    lon = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(dtype=np.float64)
    lat = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(dtype=np.float64)
    ids = table[id_col].tolist() if id_col else None
    return Points(lon, lat, ids, None)


def _too_many(max_points: int, count: int, *, at_least: bool = False) -> TooLarge:
    zh, en = ("至少 ", "at least ") if at_least else (" ", "")
    return TooLarge(f"一次最多查询 {max_points:,} 个点，本次{zh}{count:,} 个。",
                    f"At most {max_points:,} points per request; got {en}{count:,}.",
                    limit=max_points, count=count, **({"at_least": True} if at_least else {}))


def parse_points(body: bytes, content_type: str, max_points: int) -> Points:
    """The points of a batch request body, by its content type."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        points = parse_csv(body, max_points)
    elif kind in ("application/json", "application/geo+json", ""):
        points = parse_json(body)
    else:
        raise FileFormatError(f"不支持的内容类型“{kind}”：请用 JSON、GeoJSON 或 CSV。",
                              f"Unsupported content type '{kind}': send JSON, GeoJSON or CSV.",
                              content_type=kind)
    if len(points.lon) > max_points:
        raise _too_many(max_points, len(points.lon))
    return points
