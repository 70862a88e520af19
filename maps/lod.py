"""Levels of detail: a level's units cut into map tiles, simplified for each zoom.

A page at city scale cannot carry every unit of every level: twenty thousand micro-grids are
tens of megabytes of coordinates, and the browser would draw them all even where they are
specks. Instead a large level is served in tiles (:class:`LevelTiles`) and the page asks for
the tiles in view (:class:`wangge.maps.remote.RemoteLevel`): at each zoom every unit is
simplified as a coverage (shared borders still meet) by about half a pixel, and coordinates
are rounded to what a pixel shows, so a tile of the whole city at zoom 10 weighs what a few
streets do at zoom 16.

Tiles are 512 pixels wide and numbered like the usual XYZ scheme (Web Mercator, ``x`` east,
``y`` south), so at zoom ``z`` there are 2**(z - 1) of them across. A tile holds every unit
whose box meets it, whole (not clipped): a unit is sent once per tile it touches and the
browser keeps one copy by its code.
"""

from __future__ import annotations

import copy
import gzip
import json
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from threading import Lock
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.maps.simplify import rounded, simplify_coverage

TILE_PX = 512
MIN_ZOOM, MAX_ZOOM = 1, 20
# Past this zoom a tile of the level at ``max_data_zoom`` is drawn larger (Leaflet's
# maxNativeZoom): the units are at their display tolerance there already.
DATA_ZOOM = 16
EARTH_M = 2 * math.pi * 6_378_137.0  # Web Mercator's circumference at the equator
KEPT_TILES = 512  # encoded tiles kept per level (a city at zoom 14 is about 300)


def metres_per_pixel(zoom: float, lat: float) -> float:
    """Ground size of a (256-pixel-tile) screen pixel at ``zoom`` and latitude ``lat``."""
    return EARTH_M * math.cos(math.radians(lat)) / (256 * 2 ** zoom)


def decimals_for(zoom: int) -> int:
    """Decimal places of a degree that keep rounding under a pixel at ``zoom`` (4 at 9, 6 at 16)."""
    return int(min(6, max(3, math.ceil(math.log10(256 * 2 ** zoom / 360.0)))))


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of 512-pixel tile ``x``, ``y`` at zoom ``z``."""
    n = 2 ** (z - 1)

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """The (x, y) of every 512-pixel tile at zoom ``z`` that meets ``bounds`` (degrees)."""
    n = 2 ** (z - 1)

    def column(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return min(n - 1, max(0, int(y)))

    west, south, east, north = bounds
    return [(x, y) for x in range(column(west), column(east) + 1)
            for y in range(row(north), row(south) + 1)]


def valid_tile(z: int, x: int, y: int) -> bool:
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        return False
    n = 2 ** (z - 1)
    return 0 <= x < n and 0 <= y < n


class LevelTiles:
    """The units of one level, in the display CRS, ready to be cut into tiles.

    ``geoms`` are display geometries (already shifted for the base map, not simplified);
    ``properties`` one small dict per unit, ``ids`` the units' codes. ``tolerance_m`` is the
    level's finest display tolerance (what the inline page would use). Simplified geometries
    are computed once per zoom, on first use, and shared by every tile of that zoom.

    With ``clip``, shapes are cut at the tile's edges instead of sent whole: for lines that
    can span a city (a service circle's outline), whose pieces then meet edge to edge.
    """

    def __init__(self, geoms: ArrayLike, properties: Sequence[Mapping[str, Any]],
                 ids: Sequence[str], tolerance_m: float, *, clip: bool = False) -> None:
        arr = np.asarray(geoms, dtype=object)
        keep = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if arr.size else \
            np.zeros(0, dtype=bool)
        self.geoms = arr[keep]
        self.properties = [dict(p) for p, k in zip(properties, keep, strict=True) if k]
        self.ids = [str(i) for i, k in zip(ids, keep, strict=True) if k]
        self.tolerance_m = tolerance_m
        self.clip = clip
        self.tree = shapely.STRtree(self.geoms)
        bounds = shapely.total_bounds(self.geoms) if len(self.geoms) else (0.0, 0.0, 0.0, 0.0)
        self.bounds = tuple(float(b) for b in bounds)
        self.lat = (self.bounds[1] + self.bounds[3]) / 2
        anchors = shapely.point_on_surface(self.geoms)
        self.anchors = np.column_stack([shapely.get_y(anchors), shapely.get_x(anchors)])
        self._zooms: dict[int, NDArray[np.object_]] = {}
        self._zoom_lock = Lock()
        self._tiles: OrderedDict[tuple[int, int, int], tuple[bytes, bytes]] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self.geoms)

    def with_properties(self, by_id: Mapping[str, Mapping[str, Any]]) -> LevelTiles:
        """The same units with other properties (what a role entitled to more sees), by id:
        the geometries, their index and their simplified forms are shared, only tiles are
        cut again. A unit missing from ``by_id`` gets none."""
        other = copy.copy(self)
        other.properties = [dict(by_id.get(i, {})) for i in self.ids]
        other._tiles = OrderedDict()
        other._lock = Lock()
        return other

    def simplified(self, zoom: int) -> NDArray[np.object_]:
        """Every unit simplified by half a pixel at ``zoom`` (at least the level's tolerance)."""
        zoom = min(zoom, DATA_ZOOM)
        with self._zoom_lock:    # shared with the copies of with_properties
            if zoom not in self._zooms:
                # Pixels here are those of 512-pixel tiles at ``zoom``: 256-pixel zoom + 1.
                tol = max(self.tolerance_m, 0.5 * metres_per_pixel(zoom + 1, self.lat))
                self._zooms[zoom] = rounded(simplify_coverage(self.geoms, tol),
                                            decimals_for(zoom + 1))
            return self._zooms[zoom]

    def tile(self, z: int, x: int, y: int, *, gzipped: bool = False) -> bytes:
        """The GeoJSON of tile ``z/x/y`` (or its gzip), made once and kept (the last
        :data:`KEPT_TILES`): a page's tiles are asked for again by every visitor."""
        key = (z, x, y)
        with self._lock:
            kept = self._tiles.get(key)
            if kept is not None:
                self._tiles.move_to_end(key)
        if kept is None:
            made = self._make_tile(z, x, y)
            kept = (made, gzip.compress(made, compresslevel=5, mtime=0))
            with self._lock:
                self._tiles[key] = kept
                while len(self._tiles) > KEPT_TILES:
                    self._tiles.popitem(last=False)
        return kept[1] if gzipped else kept[0]

    def _make_tile(self, z: int, x: int, y: int) -> bytes:
        """The GeoJSON FeatureCollection of tile ``z/x/y`` (UTF-8 bytes).

        Each feature's properties get ``a``: where its name is written ([lat, lon], a point
        inside it).
        """
        west, south, east, north = tile_bounds(z, x, y)
        box = shapely.box(west, south, east, north)
        hits = np.sort(self.tree.query(box))
        features = []
        if len(hits):
            geoms = self.simplified(z)
            places = decimals_for(min(z, DATA_ZOOM) + 1)
            for i in hits:
                geom = geoms[i]
                if self.clip and geom is not None:
                    geom = rounded(np.array([shapely.clip_by_rect(geom, west, south, east, north)],
                                            dtype=object), places)[0]
                if geom is None or shapely.is_empty(geom):
                    continue
                props = dict(self.properties[i])
                props["a"] = [round(float(self.anchors[i, 0]), places),
                              round(float(self.anchors[i, 1]), places)]
                fid = f"{self.ids[i]}@{x}/{y}" if self.clip else self.ids[i]
                features.append({"type": "Feature", "id": fid,
                                 "geometry": shapely.geometry.mapping(geom), "properties": props})
        text = json.dumps({"type": "FeatureCollection", "features": features},
                          ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")
