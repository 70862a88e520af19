"""Point layers: households (clustered, or a heat map when many) and service sites."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster, HeatMap
from folium.template import Template
from numpy.typing import ArrayLike, NDArray

from wangge.maps import labels
from wangge.maps.base import display_points, js_props
from wangge.maps.tiles import Basemap

HEAT_ABOVE = 5000  # households: clustered markers up to this many, a heat map above
HEAT_CELL_DEG = 0.0002  # about 20 m: a heat map's households are counted per cell this size,
HEAT_MAX_CELLS = 8000   # or twice, four times... as large, until there are no more cells than this

_CLUSTER = """function (cluster) {
  var n = cluster.getChildCount();
  var size = n < 10 ? 26 : n < 100 ? 32 : 40;
  return L.divIcon({html: "<div style='background:%s'>" + n + "</div>", className: "wg-cluster",
                    iconSize: L.point(size, size)});
}"""
_DOT = """function (row) {
  return L.circleMarker(new L.LatLng(row[0], row[1]),
    {radius: 4, color: "%s", weight: 1, fillColor: "%s", fillOpacity: 0.8});
}"""


def lonlat_array(points: ArrayLike | gpd.GeoSeries | gpd.GeoDataFrame | None) -> NDArray[np.float64]:
    """An (n, 2) lon/lat array from an array, or from point geometries (EPSG:4490)."""
    if points is None:
        return np.empty((0, 2))
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = np.asarray(points.geometry.values if isinstance(points, gpd.GeoDataFrame)
                           else points.values, dtype=object)
        return shapely.get_coordinates(geoms).reshape(-1, 2) if len(geoms) else np.empty((0, 2))
    arr = np.asarray(points, dtype=float)
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError("points must be an (n, 2) array of lon, lat")
    return arr[:, :2]


def heat_cells(latlon: NDArray[np.float64]) -> NDArray[np.float64]:
    """[lat, lon, households] per cell: what a heat map draws, carried as cells, not people.

    Leaflet.heat sums the points in each of its own cells (a few pixels) anyway, so cells of
    about 20 m change nothing a reader sees; a city's many households get larger cells (each
    doubling quarters their number) so a page never carries more than HEAT_MAX_CELLS.
    """
    size = HEAT_CELL_DEG
    while True:
        cells, counts = np.unique(np.round(latlon / size).astype(np.int64), axis=0,
                                  return_counts=True)
        if len(cells) <= HEAT_MAX_CELLS:
            return np.column_stack([np.round(cells * size, 6), counts])
        size *= 2


def household_layer(points: ArrayLike | gpd.GeoSeries | gpd.GeoDataFrame | None, bm: Basemap, *,
                    name: str, colour: str = "#3182bd", heat_above: int = HEAT_ABOVE,
                    show: bool = True, cells: NDArray[np.float64] | None = None
                    ) -> folium.FeatureGroup:
    """Households as clustered dots, or as a heat map when there are more than ``heat_above``.

    ``cells``: the :func:`heat_cells` of ``points`` (EPSG:4490) when the caller keeps them.
    Only positions reach the page: no names, addresses or care levels.
    """
    xy = lonlat_array(points)
    xy = xy[np.isfinite(xy).all(axis=1)]
    group = folium.FeatureGroup(name=f"{name} ({len(xy):,})", show=show)
    if len(xy) == 0:
        return group
    if len(xy) > heat_above:
        if cells is None:
            cells = heat_cells(xy[:, ::-1])
        lon, lat = display_points(cells[:, 1], cells[:, 0], bm)
        weighted = np.column_stack([lat, lon, cells[:, 2]]).tolist()
        # One hue (the layer's colour, from light to full), so the heat agrees with the legend.
        HeatMap(weighted, radius=12, blur=15, min_opacity=0.3,
                gradient={0.2: "#ffffff", 0.5: colour + "88", 1.0: colour}).add_to(group)
    else:
        lon, lat = display_points(xy[:, 0], xy[:, 1], bm)
        latlon = np.column_stack([lat, lon]).tolist()
        FastMarkerCluster(latlon, callback=_DOT % (colour, colour), disableClusteringAtZoom=18,
                          chunkedLoading=True, icon_create_function=_CLUSTER % colour).add_to(group)
    return group


SITE_RADIUS = {"centre": 9}  # pixels; any other kind: SITE_RADIUS_DEFAULT
SITE_RADIUS_DEFAULT = 6


class _Sites(MacroElement):
    """The browser side of :func:`site_layer`: one canvas circle per site from compact rows
    ``[lat, lon, kind index, name, popup rows]``, and one tooltip and one popup bound to the
    whole layer (built for the site under the pointer), so a city's thousands of sites cost
    a few bytes and no objects each. Each circle keeps ``feature.properties`` (``n`` name,
    ``k`` kind, ``x`` popup rows) like the GeoJSON layers."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var group = {{ this.group_name }}, cfg = {{ this.config|tojson }};
          cfg.rows.forEach(function (r) {
            var kind = cfg.kinds[r[2]];
            var dot = L.circleMarker([r[0], r[1]], {radius: kind[2], color: "#ffffff",
              weight: 2, fill: true, fillColor: kind[1], fillOpacity: 0.95});
            dot.feature = {type: "Feature", properties: {n: r[3], k: kind[0], x: r[4]}};
            group.addLayer(dot);
          });
          group.bindTooltip(function (dot) { return wg.esc(dot.feature.properties.n); },
                            {direction: "top"});
          group.bindPopup(function (dot) {
            var p = dot.feature.properties;
            return wg.head(p.n) + wg.rows([[wg.t.kind, wg.t[p.k] || p.k]].concat(p.x || []));
          }, {maxWidth: 300});
        })();
        {% endmacro %}
    """)

    def __init__(self, group: folium.FeatureGroup, kinds: list[list[Any]],
                 rows: list[list[Any]]) -> None:
        super().__init__()
        self._name = "Sites"
        self.group_name = group.get_name()
        self.config = {"kinds": kinds, "rows": rows}
        group.add_child(self)


def site_layer(sites: gpd.GeoDataFrame | None, bm: Basemap, *, name: str, lang: str,
               colours: dict[str, str], default_kind: str = "station",
               extra: Sequence[tuple[str, str]] = (), show: bool = True) -> folium.FeatureGroup:
    """Service sites as circle markers: centres larger than stations, each kind its colour.

    ``sites`` has point geometries and optional ``name``, ``kind`` (centre/station) and the
    columns named in ``extra`` as (column, label key) for the popup.
    """
    group = folium.FeatureGroup(name=name, show=show)
    if sites is None or len(sites) == 0:
        return group
    xy = lonlat_array(sites.geometry)
    lon, lat = display_points(xy[:, 0], xy[:, 1], bm)
    lat, lon = np.round(lat, 6).tolist(), np.round(lon, 6).tolist()
    given = sites["kind"].astype(str).tolist() if "kind" in sites else [default_kind] * len(sites)
    found = [k if k in colours else default_kind for k in given]
    order = list(dict.fromkeys(found))
    kinds = [[k, colours[k], SITE_RADIUS.get(k, SITE_RADIUS_DEFAULT)] for k in order]
    index = {k: i for i, k in enumerate(order)}
    names = sites["name"].astype(str).tolist() if "name" in sites else [""] * len(sites)
    columns = [(sites[column].tolist(), labels.text(key, lang)) for column, key in extra
               if column in sites]
    rows = []
    for i, kind in enumerate(found):
        shown = names[i] or (labels.text(kind, lang) if kind in labels.TEXTS else kind)
        popup = [[label, js_props(values[i])] for values, label in columns
                 if js_props(values[i]) is not None]  # the kind's row is added in the browser
        rows.append([lat[i], lon[i], index[kind], shown, popup or None])
    _Sites(group, kinds, rows)
    return group
