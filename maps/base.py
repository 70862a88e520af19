"""The frame every map shares: a canvas-rendered Leaflet map, tiles, texts, layer control.

Builders call :func:`new_map` first and :func:`finish` last; in between they add layers whose
geometries went through :func:`display` (simplify, shift to the tiles' system, round).
"""

from __future__ import annotations

import html
import json
from typing import Any, cast

import folium
import numpy as np
import shapely
from branca.element import Figure, MacroElement
from folium.template import Template
from numpy.typing import ArrayLike, NDArray

from wangge.maps import labels
from wangge.maps.assets import inline, use_assets
from wangge.maps.simplify import rounded, simplify_coverage
from wangge.maps.style import add_css
from wangge.maps.tiles import Basemap, add_tiles, basemap, display_geoms, display_xy

# Browser helpers used by every layer's tooltip and popup: HTML escaping and a key/value
# table. User data (names, codes, messages) only ever reaches the page through wg.esc.
_HELPERS_JS = """
window.wg = {
  t: %s,
  esc: function (s) {
    return String(s === undefined || s === null ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  },
  rows: function (rows) {
    return '<table class="wg-t">' + rows.filter(function (r) {
      return r[1] !== undefined && r[1] !== null && r[1] !== "";
    }).map(function (r) {
      return "<tr><th>" + wg.esc(r[0]) + "</th><td>" + wg.esc(r[1]) + "</td></tr>";
    }).join("") + "</table>";
  },
  head: function (s) { return '<div class="wg-h">' + wg.esc(s) + "</div>"; },
  link: function (url, label) {
    return url ? '<a href="' + wg.esc(url) + '" target="_top">' + wg.esc(label) + "</a>" : "";
  },
  num: function (v) { return v === undefined || v === null ? "" : Number(v).toLocaleString(); },
  pct: function (v) {
    return v === undefined || v === null ? "" : (100 * v).toFixed(1) + "%%";
  }
};
wg.note = function (key, text) {
  // One box for notes that come and go (zoom in to see a level, tiles that failed to load).
  var map = wg.map, box = wg._notes;
  if (!map) { return; }
  if (!box) {
    box = wg._notes = L.control({position: "bottomleft"});
    box.onAdd = function () { return L.DomUtil.create("div", "wg-note"); };
    box.addTo(map);
    box.items = {};
  }
  if (text) { box.items[key] = text; } else { delete box.items[key]; }
  var el = box.getContainer(), keys = Object.keys(box.items);
  el.style.display = keys.length ? "" : "none";
  el.innerHTML = keys.map(function (k) { return wg.esc(box.items[k]); }).join("<br>");
};
wg.soon = (function () {
  // Work to run once the tiles on their way have all come (or 200 ms after the first waiting
  // piece): a page's tiles then reach the canvas together and it is drawn once, not once per
  // tile. Callers count themselves in window.wgPending until their piece has run.
  var queue = [], timer = null;
  function flush() {
    clearTimeout(timer); timer = null;
    var now = queue; queue = [];
    now.forEach(function (f) {
      try { f(); } catch (e) { setTimeout(function () { throw e; }, 0); }  // the rest still run
    });
  }
  return function (f) {
    queue.push(f);
    if (queue.length >= (window.wgPending || 0)) { flush(); }
    else if (!timer) { timer = setTimeout(flush, 200); }
  };
})();
wg.colour = function (fill, v) {
  if (v === undefined || v === null || !isFinite(v) || !fill.colours.length) { return fill.none; }
  var i = 0;
  while (i < fill.colours.length - 1 && v >= fill.edges[i + 1]) { i++; }
  return fill.colours[i];
};
wg.style = function (spec) {
  return function (feature) {
    var p = feature.properties || {}, s = Object.assign({}, spec.base);
    if (spec.fill) { s.fillColor = wg.colour(spec.fill, p[spec.fill.key]); }
    if (spec.flag && p[spec.flag.key]) { Object.assign(s, spec.flag.style); }
    return s;
  };
};
wg.unitEvents = function (feature, layer) {
  var p = feature.properties;
  layer.bindTooltip(wg.esc(p.c) + " " + wg.esc(p.n), {sticky: true});
  layer.bindPopup(function () { return wg.unit(p); }, {maxWidth: 320});
};
wg.unit = function (p) {
  var t = wg.t, perWorker = "";
  if (p.h !== undefined && p.w) { perWorker = Math.round(p.h / p.w).toLocaleString(); }
  return wg.head(p.n) + wg.rows([
    [t.code, p.c], [t.level, t[p.l]], [t.households, wg.num(p.h)], [t.residents, wg.num(p.r)],
    [t.worker_count, p.w === undefined ? "" : p.w + " " + t.persons],
    [t.workers, p.p ? p.p.join("、") : ""], [t.per_worker, perWorker],
    [t.coverage, wg.pct(p.v)]]) + wg.link(p.u, t.details);
};
"""


class _Helpers(MacroElement):
    _template = Template("""
        {% macro script(this, kwargs) %}{{ this.js }}
wg.map = {{ this._parent.get_name() }};{% endmacro %}
    """)

    def __init__(self, lang: str) -> None:
        super().__init__()
        self._name = "WgHelpers"
        texts = json.dumps(labels.table(list(labels.TEXTS), lang), ensure_ascii=False)
        self.js = _HELPERS_JS % texts.replace("</", "<\\/")


def new_map(title: str, *, lang: str = "zh", tiles: str | Basemap = "auto",
            tianditu_key: str | None = None) -> tuple[folium.Map, Basemap]:
    """An empty map with the base map's tiles, a scale bar, texts and styles; and the base map."""
    labels.check_lang(lang)
    bm = tiles if isinstance(tiles, Basemap) else basemap(tiles, tianditu_key)
    m = folium.Map(location=(35.0, 105.0), zoom_start=5, tiles=None, control_scale=True,
                   prefer_canvas=True, max_zoom=bm.max_zoom)
    # folium gives max_zoom to tile layers only; clustering needs it on the map itself, and
    # without tiles (offline) there is no tile layer to take it from.
    m.options["max_zoom"] = bm.max_zoom
    root = cast(Figure, m.get_root())
    root.title = html.escape(title)
    root.header.add_child(folium.Element(
        f'<meta http-equiv="Content-Language" content="{"zh-CN" if lang == "zh" else "en"}">'),
        name="wg_lang")
    add_tiles(m, bm)
    add_css(m)
    if not bm.layers:  # no tiles: a plain, light background instead of Leaflet's grey
        root.header.add_child(
            folium.Element("<style>.folium-map.leaflet-container { background: #f4f3ef; }</style>"),
            name="wg_background")
    _Helpers(lang).add_to(m)
    return m, bm


def display(geoms: ArrayLike, bm: Basemap, tolerance_m: float = 0.0) -> NDArray[np.object_]:
    """Storage geometries ready to draw: simplified (as a coverage), shifted, rounded."""
    simple = simplify_coverage(geoms, tolerance_m) if tolerance_m > 0 else np.asarray(geoms, object)
    return rounded(display_geoms(simple, bm))


def display_points(lon: ArrayLike, lat: ArrayLike, bm: Basemap,
                   decimals: int = 6) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, y = display_xy(lon, lat, bm)
    return np.round(x, decimals), np.round(y, decimals)


def finish(m: folium.Map, bounds_geoms: ArrayLike, *, assets: str | None = None,
           layer_control: bool = True) -> folium.Map:
    """Add the layer control, open at the extent of ``bounds_geoms`` (display CRS), link assets.

    ``assets`` is the base URL of the local Leaflet files (see :mod:`wangge.maps.assets`), or None
    for the public CDN.
    """
    arr = np.asarray(bounds_geoms, dtype=object)
    arr = arr[~shapely.is_missing(arr)] if arr.size else arr
    if arr.size:
        minx, miny, maxx, maxy = shapely.total_bounds(arr)
        if np.isfinite([minx, miny, maxx, maxy]).all():
            m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
            m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    if layer_control:
        control = folium.LayerControl(collapsed=False, position="topright").add_to(m)
        _FoldOnSmallScreens(control).add_to(m)
    return use_assets(m, assets)


class _FoldOnSmallScreens(MacroElement):
    """The layer list open on a desktop, folded to its button on a phone (where, open, it
    covers a good part of the map); a tap opens it."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        if (window.matchMedia("(max-width: 640px)").matches) {
          {{ this.control }}.remove();
          {{ this.control }}.options.collapsed = true;
          {{ this.control }}.addTo({{ this._parent.get_name() }});
        }
        {% endmacro %}
    """)

    def __init__(self, control: folium.LayerControl) -> None:
        super().__init__()
        self._name = "FoldOnSmallScreens"
        self.control = control.get_name()


def render_html(m: folium.Map, *, self_contained: bool = True) -> str:
    """The complete HTML page of a map (what the API returns and the CLI writes).

    With ``self_contained`` (the default) links to the public CDN are replaced by the local
    Leaflet files' content (:func:`wangge.maps.assets.inline`), so a written file works with no
    network; pages linking a local folder (the API's ``/maps/assets``, ``--assets``) keep their
    links. Without the local files the page keeps the CDN links and a warning is logged.
    """
    page = str(m.get_root().render())
    return inline(page) if self_contained else page


def js_props(value: Any) -> Any:
    """A property value as JSON can carry it (numpy scalars to Python, NaN to None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
