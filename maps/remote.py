"""Large levels loaded in tiles from the API instead of inlined in the page.

:class:`Remote` says where a page's tiles come from and which levels are large enough to go
there; :class:`RemoteLevel` is the browser side: a Leaflet grid of 1,024-pixel tiles (the
service's 512-pixel tiles one zoom out) whose
tiles are not pictures but GeoJSON (see :mod:`wangge.maps.lod`). Each tile's units are added to
one ``L.GeoJSON`` in the level's layer, drawn with the level's :class:`UnitStyle`, kept once by
code, replaced when the zoom changes, and named on the map like inline levels. Nothing is
fetched while the level is switched off or the map is zoomed out past the level's first zoom.

``window.wgPending`` counts tiles on their way, for tests and the page benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from wangge.maps import labels
from wangge.maps.lod import DATA_ZOOM
from wangge.maps.style import UnitStyle

# A level with more units than this goes to tiles when the page can fetch them: the demo's
# 1,976 micro-grids do, its 314 grids do not; in a city ten times its size grids and
# communities do too.
REMOTE_ABOVE = 500
# Below these zooms a tiled level is not fetched (its units would be specks): the page says
# "zoom in" instead.
REMOTE_MIN_ZOOM: dict[str, int] = {"street": 1, "community": 1, "grid": 9, "microgrid": 12}


@dataclass(frozen=True)
class Remote:
    """Where the tiles of a page's large levels are: ``url`` holds ``{level}``, and the page
    fills in ``{z}``, ``{x}``, ``{y}``. ``link`` is the drill-down link with ``{c}`` for the
    unit's code (None: no link). Levels with more than ``above`` units are tiled."""

    url: str
    lang: str = "zh"
    link: str | None = None
    above: int = REMOTE_ABOVE

    def wants(self, n_units: int) -> bool:
        return n_units > self.above

    def level_url(self, level: str) -> str:
        return self.url.replace("{level}", level)


class RemoteLevel(MacroElement):
    """The tiles of one level, drawn into ``group`` (a folium FeatureGroup)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
          var map = {{ this.map_name }}, group = {{ this.group_name }};
          var cfg = {{ this.config|tojson }};
          var events = cfg.areas ? function (feature, layer) {
            layer.bindTooltip(wg.esc(cfg.title), {sticky: true});
          } : wg.unitEvents;
          var shapes = L.geoJSON(null, {style: wg.style(cfg.spec), onEachFeature: events,
                                        smoothFactor: 0.5}).addTo(group);
          var seen = {}, shown = null, skip = {};
          (cfg.skip || []).forEach(function (c) { skip[c] = true; });
          window.wgPending = window.wgPending || 0;
          function reset() {
            shapes.clearLayers(); seen = {}; shown = null;
            group.fire("wg:reset", {level: cfg.level});
          }
          var Tiles = L.GridLayer.extend({
            createTile: function (coords, done) {
              var tile = document.createElement("div"), grid = this;
              if (coords.z < cfg.minZoom) { setTimeout(function () { done(null, tile); }, 0); return tile; }
              // 1,024-pixel tiles at map zoom z are the service's 512-pixel tiles of zoom z - 1.
              var url = cfg.url.replace("{z}", coords.z - 1).replace("{x}", coords.x)
                .replace("{y}", coords.y);
              window.wgPending++;
              fetch(url, {credentials: "same-origin"}).then(function (r) {
                if (!r.ok) { throw new Error(String(r.status)); }
                return r.json();
              }).then(function (data) {
                wg.soon(function () {
                  window.wgPending--;
                  done(null, tile);
                  if (coords.z !== grid._tileZoom) { return; }  // a zoom the map has left
                  if (shown !== coords.z) { reset(); shown = coords.z; }
                  var fresh = data.features.filter(function (f) {
                    if (seen[f.id] || skip[f.id]) { return false; }
                    seen[f.id] = true;
                    if (cfg.link) { f.properties.u = cfg.link.replace("{c}", encodeURIComponent(f.id)); }
                    return true;
                  });
                  shapes.addData({type: "FeatureCollection", features: fresh});
                  group.fire("wg:loaded", {level: cfg.level, features: fresh});
                  wg.note(cfg.level + ":error", null);
                });
              }).catch(function (e) {
                window.wgPending--;
                done(null, tile);
                wg.note(cfg.level + ":error", cfg.failed + " (" + e.message + ")");
              });
              return tile;
            }
          });
          // No minZoom/maxZoom here: Leaflet would take them as the map's own zoom limits.
          // Large tiles (a screen takes about six): fewer requests, fewer units sent twice.
          var tiles = new Tiles({tileSize: 1024, maxNativeZoom: cfg.dataZoom + 1, keepBuffer: 0,
                                 updateWhenZooming: false});
          // Added once the page's script has run, so the first tiles asked for are those of
          // the view the page opens at (fitted to its units), not of the map's first zoom;
          // counted as pending until then, so "nothing pending" means the tiles in view came.
          window.wgPending++;
          setTimeout(function () { group.addLayer(tiles); window.wgPending--; }, 0);
          function hint() {
            var far = map.hasLayer(group) && map.getZoom() < cfg.minZoom;
            if (map.getZoom() < cfg.minZoom && shown !== null) { reset(); }
            wg.note(cfg.level + ":zoom", far ? cfg.zoomIn : null);
          }
          map.on("zoomend overlayadd overlayremove", hint);
          map.whenReady(hint);
          return shapes;
        })();
        {% endmacro %}
    """)

    def __init__(self, m: folium.Map, group: folium.FeatureGroup, remote: Remote, *, level: str,
                 style: UnitStyle, level_name: str = "", areas: bool = False,
                 skip: list[str] | None = None) -> None:
        """``level`` names the tiled layer (a unit level, or an area layer such as
        ``catchment-15``); ``areas``: shapes with ``level_name`` as their tooltip, not units;
        ``skip``: codes whose copies in the tiles are not drawn (the page has its own)."""
        super().__init__()
        self._name = "RemoteLevel"
        self.map_name, self.group_name = m.get_name(), group.get_name()
        min_zoom = REMOTE_MIN_ZOOM.get(level, 1)
        self.config: dict[str, Any] = {
            "level": level, "url": remote.level_url(level), "link": None if areas else remote.link,
            "areas": areas, "title": level_name, "skip": skip or [],
            "spec": style.spec(),
            "minZoom": min_zoom, "dataZoom": DATA_ZOOM,
            "zoomIn": labels.text("zoom_in_for", remote.lang, level=level_name or level, zoom=min_zoom),
            "failed": labels.text("tiles_failed", remote.lang, level=level_name or level)}
        group.add_child(self)
