"""Base maps, and the one place where data is shifted into the base map's coordinate system.

Stored data is CGCS2000 lon/lat (EPSG:4490), which equals WGS-84 to centimetres. OpenStreetMap
and Tianditu tiles are drawn in WGS-84/CGCS2000, so data goes on them unchanged. AMap (高德) and
Tencent (腾讯) tiles are drawn in GCJ-02, so data must be moved by the GCJ-02 offset (100–700 m)
before it is drawn on them, or everything lands off its streets. Every builder passes its
geometries and points through :func:`display_geoms` / :func:`display_xy` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import numpy as np
from numpy.typing import ArrayLike, NDArray

from wangge.geo import chinacoords
from wangge.geo.crs import from_storage, parse_crs
from wangge.geo.errors import InputError


@dataclass(frozen=True)
class TileSource:
    """One tile layer of a base map (Tianditu has two: roads and their labels)."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """A base-map choice: its tile layers and the coordinate system they are drawn in.

    ``offset`` is ``"gcj02"`` for tiles in GCJ-02, ``None`` for WGS-84/CGCS2000 tiles.
    ``layers`` is empty for ``none`` (a plain background, works offline).
    """

    name: str
    label_zh: str
    label_en: str
    layers: tuple[TileSource, ...]
    offset: str | None = None

    @property
    def max_zoom(self) -> int:
        return max((t.max_zoom for t in self.layers), default=19)

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


_OSM = TileSource(
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    subdomains="abc", max_zoom=19)
_AMAP = TileSource(
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}",
    '&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a>', subdomains="1234", max_zoom=18)
# Tencent numbers tile rows from the south (TMS): Leaflet's {-y}.
_TENCENT = TileSource(
    "https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&type=vector&styleid=0",
    '&copy; <a href="https://map.qq.com/">腾讯地图 Tencent</a>', subdomains="0123", max_zoom=18)
_TIANDITU_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
_TIANDITU = ("https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")

TILE_CHOICES = ("osm", "amap", "tencent", "tianditu", "none")
# The default base map: one that loads in mainland China. tile.openstreetmap.org is often slow or
# unreachable there, so ``osm`` is a choice, never the default.
AUTO = "auto"


def resolve_tiles(name: str, key: str | None = None) -> str:
    """``auto`` made concrete: ``tianditu`` when a Tianditu key is configured, else ``amap``
    (GCJ-02 tiles: data are shifted when drawn, see :func:`display_geoms`). Other names as given."""
    if name != AUTO:
        return name
    return "tianditu" if key else "amap"


def basemap(name: str = AUTO, key: str | None = None) -> Basemap:
    """The base map called ``name`` (one of :data:`TILE_CHOICES`, or ``auto``: see
    :func:`resolve_tiles`); Tianditu needs its ``key``."""
    name = resolve_tiles(name, key)
    if name == "osm":
        return Basemap("osm", "OpenStreetMap", "OpenStreetMap", (_OSM,))
    if name == "amap":
        return Basemap("amap", "高德地图", "AMap", (_AMAP,), offset="gcj02")
    if name == "tencent":
        return Basemap("tencent", "腾讯地图", "Tencent Maps", (_TENCENT,), offset="gcj02")
    if name == "tianditu":
        if not key or not key.isalnum():
            raise InputError("天地图底图需要有效的开发者密钥（tk）。",
                             "Tianditu tiles need a valid developer key (tk).", tiles=name)
        layers = tuple(TileSource(_TIANDITU.format(layer=layer, key=key), _TIANDITU_ATTR,
                                  subdomains="01234567", max_zoom=18)
                       for layer in ("vec", "cva"))
        return Basemap("tianditu", "天地图", "Tianditu", layers)
    if name == "none":
        return Basemap("none", "无底图", "No base map", ())
    raise InputError(f"未知底图“{name}”，可选：{'、'.join(TILE_CHOICES)}。",
                     f"Unknown base map {name!r}; choose one of {', '.join(TILE_CHOICES)}.",
                     tiles=name)


def add_tiles(m: folium.Map, bm: Basemap) -> None:
    """Put the base map's tile layers on ``m`` (not listed in the layer control)."""
    for i, layer in enumerate(bm.layers):
        folium.TileLayer(tiles=layer.url, attr=layer.attribution, name=f"{bm.name}{i}",
                         subdomains=layer.subdomains, max_zoom=layer.max_zoom,
                         max_native_zoom=layer.max_zoom, control=False,
                         overlay=i > 0).add_to(m)


def display_geoms(geoms: ArrayLike, bm: Basemap) -> NDArray[np.object_]:
    """Storage (EPSG:4490) geometries moved into the coordinate system ``bm`` is drawn in."""
    arr = np.asarray(geoms, dtype=object)
    if bm.offset is None or arr.size == 0:
        return arr
    return from_storage(arr, parse_crs(bm.offset))


def display_xy(lon: ArrayLike, lat: ArrayLike,
               bm: Basemap) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Storage lon/lat arrays (households, sites) moved like :func:`display_geoms`."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if bm.offset == "gcj02":
        return chinacoords.wgs84_to_gcj02(lon, lat)
    if bm.offset is not None:  # pragma: no cover - no other offset base map is offered
        raise ValueError(bm.offset)
    return lon, lat


__all__ = ["AUTO", "TILE_CHOICES", "Basemap", "TileSource", "add_tiles", "basemap",
           "display_geoms", "display_xy", "resolve_tiles"]
