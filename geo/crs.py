"""The one gate for coordinates: parse a CRS, convert to and from storage, pick a metric CRS.

Every coordinate conversion of wangge goes through the public functions here: geometries
(:func:`transform`, :func:`to_metric`), coordinate arrays (:func:`xy_to_storage`,
:func:`lonlat_to_metric`) and GeoDataFrames (:func:`frame_to_storage`); pyproj transformers are
built here only, once per CRS pair.

Storage is CGCS2000 longitude/latitude (EPSG:4490). Lengths and areas are measured in a
CGCS2000 3-degree Gauss–Krüger zone chosen from the data's longitude. GCJ-02 and BD-09, which
pyproj does not know, are handled here too (see :mod:`wangge.geo.chinacoords`), explicitly and only
at the edges: import, export and map tiles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.geo import chinacoords
from wangge.geo.errors import CoordinateRangeError, CRSError, echo

if TYPE_CHECKING:
    import geopandas as gpd

    Frame = TypeVar("Frame", gpd.GeoDataFrame, gpd.GeoSeries)

STORAGE_EPSG = 4490
STORAGE_CRS = pyproj.CRS.from_epsg(STORAGE_EPSG)

# Mainland China with a margin, in lon/lat (the extent of CGCS2000 GK zones 75E..135E).
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)

_ALIASES = {
    "wgs84": "EPSG:4326", "wgs-84": "EPSG:4326", "wgs 84": "EPSG:4326",
    "cgcs2000": "EPSG:4490", "cgcs-2000": "EPSG:4490",
}
_OFFSET_ALIASES = {"gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "mars": "gcj02",
                   "amap": "gcj02", "tencent": "gcj02",
                   "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09"}

ACCEPTED_FORMS = ("EPSG:4490", "4326", "CGCS2000", "WGS84", "GCJ-02", "BD-09",
                  "EPSG:4549 (CGCS2000 GK)", "EPSG:32650 (UTM)", "WKT / PROJ string")


@dataclass(frozen=True)
class SourceCRS:
    """A coordinate system wangge can read or write.

    ``offset`` is ``"gcj02"`` or ``"bd09"`` for the Chinese offset systems (whose underlying
    pyproj CRS is WGS-84 lon/lat), else ``None``.
    """

    crs: pyproj.CRS
    offset: str | None = None

    @property
    def label(self) -> str:
        if self.offset:
            return {"gcj02": "GCJ-02", "bd09": "BD-09"}[self.offset]
        epsg = self.crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else self.crs.name

    @property
    def is_geographic(self) -> bool:
        return bool(self.crs.is_geographic)


STORAGE = SourceCRS(STORAGE_CRS)


def parse_crs(value: object) -> SourceCRS:
    """Turn a user's CRS (EPSG code, alias, WKT, pyproj.CRS) into a :class:`SourceCRS`."""
    if isinstance(value, SourceCRS):
        return value
    if isinstance(value, pyproj.CRS):
        return SourceCRS(value)
    return _parse_text(str(value))


@lru_cache(maxsize=128)
def _parse_text(value: str) -> SourceCRS:
    """Text forms, cached: the API parses the same few CRS names on every request."""
    text = value.strip()
    key = text.lower()
    if key in _OFFSET_ALIASES:
        return SourceCRS(pyproj.CRS.from_epsg(4326), _OFFSET_ALIASES[key])
    text = _ALIASES.get(key, text)
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        crs = pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        shown = echo(value)
        raise CRSError(
            f"无法识别的坐标系“{shown}”。可接受的写法：{'、'.join(ACCEPTED_FORMS)}",
            f"Unknown coordinate reference system {shown!r}. Accepted forms: "
            f"{', '.join(ACCEPTED_FORMS)}",
            crs=shown,
        ) from exc
    return SourceCRS(_horizontal_earth(crs, value))


def _horizontal_earth(crs: pyproj.CRS, value: object) -> pyproj.CRS:
    """Accept only 2D horizontal systems on the Earth (geographic or projected)."""
    if crs.is_compound:
        crs = crs.sub_crs_list[0]
    ellipsoid = crs.ellipsoid
    on_earth = ellipsoid is not None and abs(ellipsoid.semi_major_metre - 6_378_137.0) < 20_000
    if not (crs.is_geographic or crs.is_projected) or crs.is_geocentric or not on_earth:
        shown = echo(value)
        raise CRSError(
            f"坐标系“{shown}”不是地球上的平面或经纬度坐标系（{crs.type_name}），无法用于边界数据。",
            f"CRS {shown!r} is not a horizontal geographic or projected system on the Earth "
            f"({crs.type_name}); boundaries cannot be in it.", crs=shown)
    return crs


@lru_cache(maxsize=64)
def _is_storage_lonlat(crs: pyproj.CRS) -> bool:
    """CGCS2000 or WGS-84 lon/lat: storage coordinates as they are. PROJ itself converts
    between the two with a no-op (they differ by centimetres, and no shift is defined), but a
    pyproj Transformer costs 100+ ms to set up again in every new thread."""
    return crs.equals(STORAGE_CRS) or crs.equals(pyproj.CRS.from_epsg(4326))


@lru_cache(maxsize=64)
def _transformer(src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _xy_func(fn: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Callable[[np.ndarray], np.ndarray]:
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def _pyproj_func(src: pyproj.CRS, dst: pyproj.CRS) -> Callable[[np.ndarray], np.ndarray]:
    return _xy_func(_transformer(src, dst).transform)


def transform(geoms: NDArray[np.object_] | shapely.Geometry, src: SourceCRS,
              dst: SourceCRS) -> NDArray[np.object_]:
    """Transform shapely geometries from ``src`` to ``dst`` (vectorised over all coordinates)."""
    arr = np.asarray(geoms, dtype=object)
    if src == dst:
        return arr
    # Everything passes through WGS-84/CGCS2000 lon/lat, which are the same for mapping purposes.
    steps: list[Callable[[np.ndarray], np.ndarray]] = []
    if src.offset is not None:
        check_plausible_lonlat(arr, src)  # the offsets are defined for lon/lat in China only
    if src.offset == "gcj02":
        steps.append(_xy_func(chinacoords.gcj02_to_wgs84))
    elif src.offset == "bd09":
        steps.append(_xy_func(chinacoords.bd09_to_wgs84))
    elif not src.crs.equals(STORAGE_CRS):
        steps.append(_pyproj_func(src.crs, STORAGE_CRS))
    if dst.offset == "gcj02":
        steps.append(_xy_func(chinacoords.wgs84_to_gcj02))
    elif dst.offset == "bd09":
        steps.append(_xy_func(chinacoords.wgs84_to_bd09))
    elif not dst.crs.equals(STORAGE_CRS):
        steps.append(_pyproj_func(STORAGE_CRS, dst.crs))
    out = arr
    try:
        for step in steps:
            out = shapely.transform(out, step)
    except (pyproj.exceptions.ProjError, shapely.errors.GEOSException) as exc:
        raise CoordinateRangeError(
            f"坐标无法从 {src.label} 换算到 {dst.label}，请检查坐标系和坐标值。",
            f"Coordinates cannot be converted from {src.label} to {dst.label}; check the CRS and "
            "the coordinate values.", source_crs=src.label, target_crs=dst.label) from exc
    if not np.isfinite(shapely.get_coordinates(out)).all():
        raise CoordinateRangeError(
            f"部分坐标无法从 {src.label} 换算到 {dst.label}（超出该坐标系的有效范围）。",
            f"Some coordinates cannot be converted from {src.label} to {dst.label} (outside the "
            "system's area of use).", source_crs=src.label, target_crs=dst.label)
    return np.asarray(out, dtype=object)


def to_storage(geoms: NDArray[np.object_], src: SourceCRS) -> NDArray[np.object_]:
    """Geometries from ``src`` to storage lon/lat (see :func:`transform`)."""
    return transform(geoms, src, STORAGE)


def from_storage(geoms: NDArray[np.object_], dst: SourceCRS) -> NDArray[np.object_]:
    """Storage lon/lat geometries to ``dst`` (see :func:`transform`)."""
    return transform(geoms, STORAGE, dst)


def metric_crs_for(lon: float) -> pyproj.CRS:
    """CGCS2000 3-degree Gauss–Krüger zone (EPSG:4534–4554, CM 75E..135E) nearest ``lon``.

    Outside China's zones, the WGS-84 UTM zone of ``lon`` (northern hemisphere).
    """
    cm = round(lon / 3.0) * 3
    if 75 <= cm <= 135:
        return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)
    zone = int((lon + 180) // 6) % 60 + 1
    return pyproj.CRS.from_epsg(32600 + zone)


def metric_crs_of(geoms: NDArray[np.object_]) -> pyproj.CRS:
    """The metric CRS for storage-CRS geometries, from the centre of their extent."""
    geoms = np.asarray(geoms, dtype=object)
    minx, _, maxx, _ = shapely.total_bounds(geoms) if geoms.size else (np.nan,) * 4
    if not np.isfinite(minx):
        return metric_crs_for(120.0)
    return metric_crs_for((minx + maxx) / 2.0)


def to_metric(geoms: NDArray[np.object_], metric: pyproj.CRS) -> NDArray[np.object_]:
    """Project storage-CRS geometries into ``metric`` for lengths and areas."""
    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object),
                                        _pyproj_func(STORAGE_CRS, metric)), dtype=object)


def from_metric(geoms: NDArray[np.object_], metric: pyproj.CRS) -> NDArray[np.object_]:
    """Metric geometries in ``metric`` back to storage lon/lat."""
    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object),
                                        _pyproj_func(metric, STORAGE_CRS)), dtype=object)


def lonlat_to_metric(lon: ArrayLike, lat: ArrayLike, metric: pyproj.CRS,
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Storage lon/lat coordinate arrays to metres in ``metric`` (same shape; NaN stays NaN).

    The transformer of each CRS pair is built once and kept, so catchments and the point
    index can call this for every batch."""
    x, y = _transformer(STORAGE_CRS, metric).transform(np.asarray(lon, dtype=float),
                                                       np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def metric_to_lonlat(x: ArrayLike, y: ArrayLike, metric: pyproj.CRS,
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinate arrays in metres in ``metric`` to storage lon/lat (cached transformer too)."""
    lon, lat = _transformer(metric, STORAGE_CRS).transform(np.asarray(x, dtype=float),
                                                           np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def is_storage_crs(crs: object) -> bool:
    """Whether ``crs`` (a GeoDataFrame's ``.crs``, or any form pyproj reads) is the storage CRS;
    ``None`` (no CRS declared) is not."""
    return crs is not None and pyproj.CRS.from_user_input(crs).equals(STORAGE_CRS)


def frame_to_storage(frame: Frame) -> Frame:
    """A GeoDataFrame or GeoSeries in the storage CRS.

    Converted when it declares another CRS; returned as it is when it declares the storage CRS
    or none (its coordinates are then taken as storage lon/lat)."""
    if frame.crs is None or frame.crs.equals(STORAGE_CRS):
        return frame
    return frame.to_crs(STORAGE_CRS)


def check_plausible_lonlat(geoms: NDArray[np.object_], declared: SourceCRS,
                           where: str = "") -> None:
    """Refuse storage-CRS geometries that cannot be in China, saying the likely cause.

    Call after conversion to storage; ``declared`` is the CRS the user said the data was in.
    For a geographic ``declared`` CRS, call it on the coordinates as read too, before any
    conversion: NaN, infinite and absurd values (1e300, longitude 5000) are refused here, naming
    the feature (counting from 1), before pyproj or GEOS measure anything.
    """
    arr = np.asarray(geoms, dtype=object)
    coords = shapely.get_coordinates(arr)
    if len(coords) == 0:
        return
    x, y = coords[:, 0], coords[:, 1]
    minx, miny, maxx, maxy = CHINA_BOUNDS
    bad = ~((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))  # NaN compares False: bad
    if not bad.any():
        return
    i = int(np.argmax(bad))
    px, py = float(x[i]), float(y[i])
    feature = int(shapely.get_coordinates(arr, return_index=True)[1][i]) + 1
    at = f"({short_number(px)}, {short_number(py)})"  # 1e308 is not 309 digits
    if not (np.isfinite(px) and np.isfinite(py)):
        zh = f"坐标 {at} 不是有限的数（NaN 或无穷），无法使用。"
        en = f"Coordinate {at} is not a finite number (NaN or infinity); it cannot be used."
    elif minx <= py <= maxx and miny <= px <= maxy:
        zh = (f"坐标 {at} 的经度和纬度像是写反了（应为 经度, 纬度）。")
        en = (f"Coordinate {at} looks like latitude/longitude swapped "
              "(expected longitude, latitude).")
    elif declared.is_geographic and (abs(px) > 180 or abs(py) > 90) and max(abs(px), abs(py)) > 1e8:
        zh = (f"坐标 {at} 超出经纬度范围（经度 ±180，纬度 ±90），也远大于任何投影坐标；"
              f"按声明的坐标系 {declared.label} 无法使用，请检查文件。")
        en = (f"Coordinate {at} is beyond ±180 longitude / ±90 latitude and far too large for "
              f"projected metres; it cannot be read as {declared.label}. Check the file.")
    elif declared.is_geographic and (abs(px) > 180 or abs(py) > 90):
        zh = (f"坐标 {at} 不是经纬度，像是以米为单位的投影坐标；"
              f"声明的坐标系 {declared.label} 是地理坐标系。请指定正确的投影坐标系（如 EPSG:4549）。")
        en = (f"Coordinate {at} is not longitude/latitude; it looks like projected "
              f"metres but the declared CRS {declared.label} is geographic. Give the right "
              "projected CRS (e.g. EPSG:4549).")
    else:
        zh = (f"坐标 {at} 按声明的坐标系 {declared.label} 换算后不在中国境内，"
              "请检查坐标系。")
        en = (f"Coordinate {at} is outside China when read as "
              f"{declared.label}; check the declared CRS.")
    raise CoordinateRangeError(f"第 {feature} 个要素：{zh}", f"Feature {feature}: {en}", where=where,
                               feature=feature, coordinate=[_json_number(px), _json_number(py)],
                               bad_coordinates=int(bad.sum()), declared_crs=declared.label)


def _json_number(v: float) -> float | str:
    """A coordinate for an error's detail, which is JSON: NaN and infinity as text."""
    return v if np.isfinite(v) else str(v)


def short_number(value: float) -> str:
    """A number as a short echo (at most about 12 characters, whatever was sent)."""
    value = float(value)
    return f"{value:.10g}" if np.isfinite(value) else str(value)


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``minlon,minlat,maxlon,maxlat`` (EPSG:4490); shared by the API and the CLI."""
    if value is None or value == "":
        return None
    shown = echo(value)
    try:
        parts = tuple(float(v) for v in str(value).split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or not all(np.isfinite(parts)) \
            or not (parts[0] <= parts[2] and parts[1] <= parts[3]):
        raise CoordinateRangeError(
            f"bbox 应为四个有限的数：最小经度,最小纬度,最大经度,最大纬度，收到“{shown}”。",
            f"bbox must be four finite numbers minlon,minlat,maxlon,maxlat; got {shown!r}.",
            bbox=shown)
    if not (-180 <= parts[0] <= 180 and -180 <= parts[2] <= 180
            and -90 <= parts[1] <= 90 and -90 <= parts[3] <= 90):
        raise CoordinateRangeError(f"bbox 超出经纬度范围：“{shown}”。",
                                   f"bbox outside longitude/latitude range: {shown!r}.",
                                   bbox=shown)
    return parts  # type: ignore[return-value]


def in_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which storage lon/lat points lie within :data:`CHINA_BOUNDS` (NaN: no)."""
    minx, miny, maxx, maxy = CHINA_BOUNDS
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def point_to_storage(x: float, y: float, crs: object = "WGS-84") -> tuple[float, float]:
    """One location given by a user (API parameter, CLI argument) in storage lon/lat, checked.

    Refused with :class:`CoordinateRangeError`, echoing the input briefly: values that are not
    finite numbers, longitude/latitude beyond ±180/±90 in a geographic CRS (swapped axes and
    projected metres named as the likely cause), and points that fall outside China.
    """
    source = parse_crs(crs)
    given = f"({short_number(x)}, {short_number(y)})"
    detail = {"coordinate": [short_number(x), short_number(y)], "crs": source.label}
    if not (np.isfinite(x) and np.isfinite(y)):
        raise CoordinateRangeError(f"坐标 {given} 不是有限的数。",
                                   f"Coordinates {given} are not finite numbers.", **detail)
    minx, miny, maxx, maxy = CHINA_BOUNDS
    if source.is_geographic and not (-180 <= x <= 180 and -90 <= y <= 90):
        if minx <= y <= maxx and miny <= x <= maxy:
            zh, en = "经度和纬度像是写反了（应为 经度, 纬度）", "longitude and latitude look swapped"
        elif 1e3 <= max(abs(x), abs(y)) <= 1e8:
            zh, en = (f"像是以米为单位的投影坐标，而 {source.label} 是经纬度；"
                      "请指定投影坐标系（如 EPSG:4549）",
                      f"they look like projected metres, but {source.label} is longitude/latitude; "
                      "give the projected CRS (e.g. EPSG:4549)")
        else:
            zh, en = "超出经纬度范围（经度 ±180，纬度 ±90）", "beyond ±180 longitude / ±90 latitude"
        raise CoordinateRangeError(f"坐标 {given} 无效：{zh}。", f"Coordinates {given} are invalid: "
                                   f"{en}.", **detail)
    lon, lat = xy_to_storage(np.array([x], dtype=float), np.array([y], dtype=float), source)
    if in_china(lon, lat)[0]:
        return float(lon[0]), float(lat[0])
    swapped = source.is_geographic and minx <= y <= maxx and miny <= x <= maxy
    zh = f"坐标 {given}（{source.label}）在中国境外" + ("，像是经纬度写反了。" if swapped else "。")
    en = (f"Coordinates {given} ({source.label}) are outside China"
          + (" (longitude/latitude swapped?)." if swapped else "."))
    raise CoordinateRangeError(zh, en, **detail)


# Edges are straight in lon/lat, where the data defines them; a long edge projected by its end
# points alone would be a different line. Densifying first keeps measurement true to topology.
_MEASURE_STEP_DEG = 0.0005  # ~50 m


def measurable(geoms: NDArray[np.object_], metric: pyproj.CRS) -> NDArray[np.object_]:
    """Storage-CRS geometries densified and projected into ``metric``, ready to measure."""
    dense = shapely.segmentize(np.asarray(geoms, dtype=object), _MEASURE_STEP_DEG)
    return to_metric(dense, metric)


def area_m2(geoms: NDArray[np.object_], metric: pyproj.CRS | None = None) -> NDArray[np.float64]:
    """Areas in m² of storage-CRS geometries, measured in a Gauss–Krüger zone."""
    geoms = np.asarray(geoms, dtype=object)
    return np.asarray(shapely.area(measurable(geoms, metric or metric_crs_of(geoms))))


def length_m(geoms: NDArray[np.object_], metric: pyproj.CRS | None = None) -> NDArray[np.float64]:
    """Lengths (perimeters for polygons) in m of storage-CRS geometries."""
    geoms = np.asarray(geoms, dtype=object)
    return np.asarray(shapely.length(measurable(geoms, metric or metric_crs_of(geoms))))


def xy_to_storage(x: NDArray[np.float64], y: NDArray[np.float64],
                  src: SourceCRS) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinate arrays (e.g. a million households) from ``src`` to storage lon/lat."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if src.offset == "gcj02":
        return chinacoords.gcj02_to_wgs84(x, y)
    if src.offset == "bd09":
        return chinacoords.bd09_to_wgs84(x, y)
    if _is_storage_lonlat(src.crs):
        return x, y
    lon, lat = _transformer(src.crs, STORAGE_CRS).transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def lonlat_to_storage(x: NDArray[np.float64], y: NDArray[np.float64],
                      crs: object | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates to storage lon/lat, with one CRS for all or one per row (labels or None).

    Rows whose CRS is None are taken as storage coordinates; NaN stays NaN.
    """
    x = np.asarray(x, dtype=float).copy()
    y = np.asarray(y, dtype=float).copy()
    if crs is None:
        return x, y
    if isinstance(crs, (str, int, SourceCRS, pyproj.CRS)):
        rows = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        x[rows], y[rows] = xy_to_storage(x[rows], y[rows], parse_crs(crs))
        return x, y
    labels = np.asarray(list(crs), dtype=object)
    if len(labels) != len(x):
        raise ValueError("crs must be one value or one per coordinate")
    for label in {v for v in labels if v is not None and not (isinstance(v, float) and np.isnan(v))}:
        rows = np.flatnonzero((labels == label) & np.isfinite(x) & np.isfinite(y))
        if len(rows):
            x[rows], y[rows] = xy_to_storage(x[rows], y[rows], parse_crs(label))
    return x, y


# ---- OGC API CRS identifiers (OGC API – Features Part 2) ------------------------------------
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
STORAGE_URI = f"http://www.opengis.net/def/crs/EPSG/0/{STORAGE_EPSG}"
WGS84_URI = "http://www.opengis.net/def/crs/EPSG/0/4326"
OGC_CRS_URIS = (CRS84_URI, STORAGE_URI, WGS84_URI)


@dataclass(frozen=True)
class OgcCRS:
    """A CRS named by an OGC URI, and whether its axis order is latitude first (EPSG:4490
    and 4326 are; CRS84 is longitude first)."""

    uri: str
    crs: SourceCRS
    lat_first: bool


def parse_ogc_crs(value: str | None) -> OgcCRS:
    """An OGC CRS URI (or its ``[EPSG:4490]``-style short form) among those wangge serves."""
    if value is None or value.strip() in ("", CRS84_URI, "[OGC:CRS84]"):
        return OgcCRS(CRS84_URI, SourceCRS(pyproj.CRS.from_epsg(4326)), lat_first=False)
    text = value.strip()
    for uri, epsg in ((STORAGE_URI, STORAGE_EPSG), (WGS84_URI, 4326)):
        if text in (uri, f"[EPSG:{epsg}]"):
            return OgcCRS(uri, SourceCRS(pyproj.CRS.from_epsg(epsg)), lat_first=True)
    shown = echo(value)
    raise CRSError(f"不支持的坐标系“{shown}”；可用：{'、'.join(OGC_CRS_URIS)}",
                   f"Unsupported CRS {shown!r}; supported: {', '.join(OGC_CRS_URIS)}",
                   crs=shown, supported=list(OGC_CRS_URIS))


def swap_axes(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Geometries with x and y exchanged (lon/lat <-> lat/lon axis order)."""
    return np.asarray(shapely.transform(geoms, lambda xy: xy[:, ::-1]), dtype=object)


# The user-defined CRS written for an offset system: WGS 84's ellipsoid and axes, a datum named
# for the offset. ``OFFSET_NAMES`` is how a file's CRS is recognised when read back.
OFFSET_WKT = ('GEOGCRS["{label}",DATUM["{label} (WGS 84 with the {label} offset; no EPSG code)",'
              'ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],'
              'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],'
              'AXIS["geodetic longitude (Lon)",east,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
              'AXIS["geodetic latitude (Lat)",north,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],'
              'REMARK["{label}: WGS 84 shifted by the published {label} algorithm (up to ~700 m); '
              'not WGS 84, not CGCS2000"]]')
OFFSET_NAMES = ("GCJ-02", "BD-09")


def offset_crs(label: str) -> pyproj.CRS:
    """The user-defined CRS a file in GCJ-02 or BD-09 declares (GeoPackage exports): named for
    the offset system, never an EPSG code, so no reader takes it for WGS-84."""
    return pyproj.CRS.from_wkt(OFFSET_WKT.format(label=label))
