"""The one reader of vector files: GeoJSON, GeoPackage, Shapefile (zipped or not), through pyogrio.

A file is given as a path or as its bytes, with the name messages call it by (an upload's own
name, never a temporary path). One layer is read: the one named, else the first; a file with
several layers says which it holds in ``frame.attrs["layers"]`` so that the caller can tell the
user which was read. Every refusal is a :class:`~wangge.geo.errors.FileFormatError` naming the
file (and the layer, where one was chosen) and why: missing, unsupported suffix, damaged or not
in its format, no such layer, no features.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio

from wangge.geo.errors import FileFormatError, echo

__all__ = ["DRIVERS", "read_vector"]

log = logging.getLogger("wangge.io")

DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".zip": "ESRI Shapefile",
           ".shp": "ESRI Shapefile"}
_PATH = re.compile(r"(?<![\w/])/(?:[\w.+-]+/)+[\w.+-]*")  # an absolute path (GDAL's /vsimem/…)


def read_vector(source: str | Path | bytes, name: str, *, layer: str | None = None
                ) -> gpd.GeoDataFrame:
    """One layer of a vector file as a GeoDataFrame in the file's CRS (None if it declares none).

    ``attrs["layer"]`` is the layer read, ``attrs["layers"]`` every layer of the file.
    """
    target = source if isinstance(source, bytes) else _gdal_path(Path(source), name)
    try:
        layers = [str(n) for n in pyogrio.list_layers(target)[:, 0]]
    except Exception as exc:  # GDAL raises several types for unreadable files
        raise _unreadable(name, None, exc, target) from exc
    chosen = layer if layer is not None else (layers[0] if layers else None)
    if chosen is None:
        raise FileFormatError(f"文件 {name} 没有任何图层。", f"{name} has no layers.", file=name)
    if chosen not in layers:
        raise FileFormatError(
            f"文件 {name} 中没有图层“{echo(chosen)}”；现有图层：{'、'.join(layers)}。",
            f"{name} has no layer {echo(chosen)!r}; its layers: {', '.join(layers)}.",
            file=name, layer=chosen, layers=layers)
    try:
        # NaN coordinates make shapely warn while it builds them; the CRS gate refuses them,
        # naming the feature, after reading.
        with np.errstate(invalid="ignore"):
            frame = pyogrio.read_dataframe(target, layer=layers.index(chosen))
    except Exception as exc:  # GDAL raises several types for unreadable files
        raise _unreadable(name, chosen if len(layers) > 1 else None, exc, target) from exc
    if len(frame) == 0:
        where = f"（图层 {chosen}）" if len(layers) > 1 else ""
        raise FileFormatError(f"文件 {name}{where}没有任何要素。",
                              f"{name}{f' (layer {chosen})' if len(layers) > 1 else ''} has no "
                              "features.", file=name, layer=chosen)
    frame.attrs["layer"], frame.attrs["layers"] = chosen, layers
    return frame


def _gdal_path(path: Path, name: str) -> str:
    """The path as GDAL opens it (a zipped Shapefile through ``/vsizip/``), once it exists and
    has a suffix read here."""
    if not path.exists():
        raise FileFormatError(f"文件不存在：{name}", f"File not found: {name}", file=name)
    suffix = path.suffix.lower()
    if suffix not in DRIVERS:
        raise FileFormatError(
            f"不支持的文件格式“{suffix}”，支持 GeoJSON、GeoPackage、zip 压缩的 Shapefile。",
            f"Unsupported file type {suffix!r}: use GeoJSON, GeoPackage or zipped Shapefile.",
            file=name)
    return f"/vsizip/{path}" if suffix == ".zip" else str(path)


def _unreadable(name: str, layer: str | None, exc: Exception, target: str | bytes
                ) -> FileFormatError:
    """GDAL's own words go to the log, and to ``detail["reason"]`` with the file's name in place
    of its path (a temporary path is nobody's business)."""
    log.info("cannot read %s: %s", name, exc)
    reason = str(exc)
    if isinstance(target, str):
        reason = reason.replace(target, name).replace(target.removeprefix("/vsizip/"), name)
    reason = _PATH.sub(name, reason)
    where_zh, where_en = (f"（图层 {layer}）", f" (layer {layer})") if layer else ("", "")
    return FileFormatError(f"无法读取文件 {name}{where_zh}：文件损坏或不是所支持的格式。",
                           f"Cannot read {name}{where_en}: the file is damaged or not a supported "
                           "format.", file=name, layer=layer, reason=echo(reason, 200))
