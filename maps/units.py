"""Units as map layers: checks on the input table, per-unit properties, one layer per level.

Shared by the overview, unit, coverage and validation maps. Properties carried to the page are
kept minimal and short-keyed: ``c`` code, ``n`` name, ``h`` households, ``r`` residents,
``v`` coverage share, ``w`` grid workers (count), ``p`` their names (only when asked),
``u`` drill-down link. Tooltips and popups are built in the browser from these with escaping.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template
from folium.utilities import JsCode

from wangge.geo.crs import is_storage_crs
from wangge.geo.errors import InputError
from wangge.geo.levels import ORDER
from wangge.maps import labels
from wangge.maps.base import display, js_props
from wangge.maps.remote import Remote, RemoteLevel
from wangge.maps.simplify import TOLERANCE_M, feature_collection
from wangge.maps.style import FULL_WEIGHT_FROM, LABEL_ZOOMS, LEVEL_LINE, UnitStyle
from wangge.maps.tiles import Basemap

REQUIRED = ("code", "name", "level", "geometry")

UNIT_EVENTS = JsCode("wg.unitEvents")  # defined with the page's helpers (maps/base.py)


def check_units(units: gpd.GeoDataFrame, name: str = "units") -> None:
    """Refuse a units table without the needed columns or not in EPSG:4490."""
    problems = [f"column {c!r} missing" for c in REQUIRED if c not in units.columns]
    if not is_storage_crs(units.crs):
        problems.append(f"CRS must be EPSG:4490, got {units.crs}")
    if problems:
        raise InputError(f"{name} 不能用于制图：" + "；".join(problems),
                         f"{name} cannot be mapped: " + "; ".join(problems), table=name)


def check_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str) -> None:
    if not is_storage_crs(frame.crs):
        raise InputError(f"{name} 的坐标系必须是 EPSG:4490，收到 {frame.crs}。",
                         f"{name} must be in EPSG:4490, got {frame.crs}.", table=name)


def safe_url(url: str | None) -> str | None:
    """A drill-down link if it is relative or http(s); anything else (javascript:...) refused."""
    if url is None:
        return None
    text = str(url).strip()
    head = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" in head and not text.lower().startswith(("http://", "https://")):
        raise ValueError(f"link must be relative or http(s): {text!r}")
    return text


def unit_layer(units: gpd.GeoDataFrame, bm: Basemap, *, name: str, props: Sequence[dict[str, Any]],
               style: Callable[[dict[str, Any]], dict[str, Any]], tolerance_m: float,
               show: bool = True, ids: Sequence[str] | None = None) -> folium.FeatureGroup:
    """A FeatureGroup holding one GeoJson layer of ``units`` with tooltips and popups."""
    geoms = display(units.geometry.values, bm, tolerance_m)
    data = feature_collection(geoms, props, ids=list(ids) if ids is not None else
                              [str(i) for i in range(len(units))])
    group = folium.FeatureGroup(name=name, show=show)
    if data["features"]:
        folium.GeoJson(data, style_function=style, on_each_feature=UNIT_EVENTS, control=False,
                       smooth_factor=0.5).add_to(group)
    return group


def unit_props(units: gpd.GeoDataFrame, extra: Mapping[str, Mapping[str, Any]] | None = None,
               link: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
    """Minimal properties per unit: code, name, level, then ``extra[code]`` and the link."""
    out = []
    for code, name, level in zip(units["code"].astype(str), units["name"].astype(str),
                                 units["level"].astype(str), strict=True):
        p: dict[str, Any] = {"c": code, "n": name, "l": level}
        for key, value in (extra or {}).get(code, {}).items():
            value = js_props(value)
            if value is not None:
                p[key] = value
        if link is not None:
            url = safe_url(link(code))
            if url:
                p["u"] = url
        out.append(p)
    return out


def outline_style(level: str, fill: bool = False) -> UnitStyle:
    colour, weight = LEVEL_LINE.get(level, ("#555555", 1.0))
    return UnitStyle.of({"color": colour, "weight": weight, "fill": fill, "fillOpacity": 0.0,
                         "opacity": 0.9})


def level_name(level: str, lang: str) -> str:
    return labels.text(level, lang) if level in labels.TEXTS else level


def tolerance(level: str) -> float:
    return TOLERANCE_M.get(level, min(TOLERANCE_M.values()))


def levels_present(units: gpd.GeoDataFrame) -> list[str]:
    present = set(units["level"].astype(str))
    ordered = [lv.value for lv in ORDER if lv.value in present]
    return ordered + sorted(present - set(ordered))


class ZoomBehaviour(MacroElement):
    """Names and line weight of one level that follow the zoom.

    The names (at each unit's inner point, escaped in the browser) are on the map while the
    zoom is in ``[min_zoom, max_zoom)`` and the level's layer is switched on; where names would
    overlap, the one drawn first (larger units, coarser levels) wins, so a dense centre shows
    a few readable names instead of a pile. The outline weight is ``weight`` from
    ``full_from`` on and shrinks by half every two zoom levels below (to a quarter at most).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }}, group = {{ this.group }};
          var shapes = {{ this.geojson }}, data = {{ this.data_json }};
          var labels = L.layerGroup(), cls = {{ this.css_class|tojson }};
          function addLabel(lat, lon, name) {
            L.marker([lat, lon], {interactive: false, keyboard: false, icon: L.divIcon({
              className: "wg-label " + cls, iconSize: null, html: "<span>" + wg.esc(name) + "</span>"
            })}).addTo(labels);
          }
          // A level loaded in tiles names its units as they arrive (maps/remote.py).
          group.on("wg:loaded", function (e) {
            {% if this.dynamic %}e.features.forEach(function (f) {
              var p = f.properties; if (p.a) { addLabel(p.a[0], p.a[1], p.n); }
            });{% endif %}
            update();
          });
          group.on("wg:reset", function () { labels.clearLayers(); });
          labels._wgLevel = {{ this.level|tojson }};
          data.forEach(function (d) { addLabel(d[0], d[1], d[2]); });
          map._wgLabels = (map._wgLabels || []).concat([labels]);
          function declutter() {
            var taken = [];
            map._wgLabels.forEach(function (g) {
              if (!map.hasLayer(g)) { return; }
              g.eachLayer(function (m) {
                var el = m.getElement(); if (!el) { return; }
                var span = el.firstChild, p = map.latLngToContainerPoint(m.getLatLng());
                var w = span.offsetWidth, h = span.offsetHeight;
                var box = [p.x - w / 2 - 2, p.y - h / 2 - 1, p.x + w / 2 + 2, p.y + h / 2 + 1];
                var free = taken.every(function (b) {
                  return box[2] < b[0] || box[0] > b[2] || box[3] < b[1] || box[1] > b[3];
                });
                el.style.visibility = free ? "visible" : "hidden";
                if (free) { taken.push(box); }
              });
            });
          }
          map._wgDeclutter = declutter;
          function update() {
            var z = map.getZoom(), on = map.hasLayer(group) && z >= {{ this.min_zoom }}
              && z < {{ this.max_zoom }};
            if (on && !map.hasLayer(labels)) { labels.addTo(map); }
            if (!on && map.hasLayer(labels)) { map.removeLayer(labels); }
            {% if this.weight %}
            var f = Math.min(1, Math.max(0.25, Math.pow(2, (z - {{ this.full_from }}) / 2)));
            if (shapes) { shapes.setStyle({weight: {{ this.weight }} * f}); }
            {% endif %}
            map._wgDeclutter();
          }
          map.on("zoomend overlayadd overlayremove", update);
          map.whenReady(update);
        })();
        {% endmacro %}
    """)

    def __init__(self, group: folium.FeatureGroup, units: gpd.GeoDataFrame, bm: Basemap, *,
                 level: str, weight: float | None = None, min_zoom: float | None = None,
                 max_zoom: float | None = None, dynamic: bool = False) -> None:
        super().__init__()
        self._name = "ZoomBehaviour"
        lo, hi = LABEL_ZOOMS.get(level, (15.0, 30.0))
        self.level = level
        self.min_zoom = lo if min_zoom is None else min_zoom
        self.max_zoom = hi if max_zoom is None else max_zoom
        self.full_from = FULL_WEIGHT_FROM.get(level, 15.0)
        self.weight = weight
        self.css_class = f"wg-label-{level}"
        self.group = group.get_name()
        self.dynamic = dynamic  # names come with the tiles of a remote level
        shapes = [c for c in group._children.values() if isinstance(c, folium.GeoJson | RemoteLevel)]
        self.geojson = shapes[0].get_name() if shapes else "null"
        geoms = display(units.geometry.values, bm)
        order = np.argsort(-shapely.area(geoms), kind="stable")  # larger units named first
        points = shapely.point_on_surface(geoms[order])
        names = units["name"].astype(str).to_numpy()[order]
        data = [[round(float(p.y), 6), round(float(p.x), 6), str(n)]
                for p, n in zip(points, names, strict=True) if not p.is_empty]
        # Names as UTF-8 (half the size of \u escapes); <, > and & escaped so no name can
        # close the script or open a comment.
        self.data_json = (json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                          .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def add_level(m: folium.Map, units: gpd.GeoDataFrame, bm: Basemap, level: str, *, name: str,
              props: Callable[[gpd.GeoDataFrame], Sequence[dict[str, Any]]], style: UnitStyle,
              show: bool = True, labels_on: bool = True, weight: float | None = None,
              min_zoom: float | None = None, max_zoom: float | None = None,
              remote: Remote | None = None) -> folium.FeatureGroup:
    """One level as a layer with its names by zoom and its outline weight by zoom.

    With ``remote`` and more units than it inlines, the units are not in the page: the layer
    loads them in tiles from the API (:mod:`wangge.maps.remote`), and ``props`` is not called.
    """
    tiled = remote is not None and remote.wants(len(units))
    if tiled:
        group = folium.FeatureGroup(name=name, show=show)
        group.add_to(m)
        RemoteLevel(m, group, remote, level=level, style=style, level_name=name)
    else:
        group = unit_layer(units, bm, name=name, props=props(units), style=style,
                           tolerance_m=tolerance(level), show=show,
                           ids=list(units["code"].astype(str)))
        group.add_to(m)
    if labels_on or weight:
        ZoomBehaviour(group, units if labels_on and not tiled else units.iloc[0:0], bm,
                      level=level, weight=weight, min_zoom=min_zoom, max_zoom=max_zoom,
                      dynamic=tiled and labels_on).add_to(m)
    return group
