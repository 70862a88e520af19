"""Service-circle coverage, led by households and grids.

What a leader needs first is where the households beyond the service circle live and which
grids they belong to: grids are shaded by the share of their households within 15 minutes (a
switch on the map shades by 5 or 10 minutes instead), uncovered households are clustered, and
the 5/10/15-minute circles are drawn as outlines so the shading stays readable under them.
Uncovered ground is shown only where uncovered households live (within ``near_m`` of one), in
a layer that starts switched off: rural ground without households is not a gap in service.

Takes plain GeoDataFrames (EPSG:4490), so it does not depend on how catchments are computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template
from numpy.typing import ArrayLike, NDArray

from wangge.geo.crs import from_metric, lonlat_to_metric, metric_crs_of, to_metric
from wangge.maps import labels
from wangge.maps.base import display, finish, new_map
from wangge.maps.points import HEAT_ABOVE, heat_cells, household_layer, lonlat_array, site_layer
from wangge.maps.remote import Remote, RemoteLevel
from wangge.maps.simplify import feature_collection
from wangge.maps.style import (
    CATCHMENT_COLOURS,
    CATCHMENT_DASH,
    LEVEL_LINE,
    NO_DATA,
    SITE_COLOURS,
    UNCOVERED_COLOUR,
    Classes,
    Legend,
    Title,
    UnitStyle,
    classify,
)
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import (
    add_level,
    check_crs,
    check_units,
    level_name,
    levels_present,
    outline_style,
    unit_props,
)

NEAR_M = 150.0
# A circle's outline or the uncovered ground with more vertices than this is loaded in tiles
# when the page can fetch them (the demo's circles have about 20,000 each).
AREA_INLINE_COORDS = 10_000  # uncovered ground is shown within this distance of an uncovered household
# Catchment edges are simplified by this much: they come from walking times along a network
# with a buffer of tens of metres, so finer detail is noise, and it was most of the page.
CATCHMENT_TOLERANCE_M = 10.0
# Holes in a circle and islands of it smaller than this are left out of its outline (a city
# block's courtyard, a bit of path): at the zooms where they would be seen they are noise.
SPECK_M2 = 10_000.0
GROUND_COLOUR = "#fb6a4a"
GAP_COLOUR = "#ff7f00"

_AREA_EVENTS = folium.JsCode("""
function (feature, layer) { layer.bindTooltip(wg.esc(feature.properties.t), {sticky: true}); }
""")


@dataclass(frozen=True)
class CoverageDrawing:
    """What the coverage map draws besides units and sites, prepared once per coverage (the
    merges are the slow part): per threshold the outline of everything within it (specks
    left out), the uncovered households (lon/lat), uncovered ground near them, boundary gaps.
    All EPSG:4490."""

    thresholds: tuple[int, ...]
    outlines: dict[int, shapely.Geometry]
    households: NDArray[np.float64]
    ground: NDArray[np.object_]
    gaps: NDArray[np.object_]
    households_given: bool = True
    household_cells: NDArray[np.float64] | None = None  # heat_cells of households, when many

    def outline_lines(self, minutes: int) -> NDArray[np.object_]:
        """The outline of ``minutes`` as its rings (LineStrings): what is drawn."""
        geom = self.outlines.get(minutes)
        if geom is None or geom.is_empty:
            return np.empty(0, dtype=object)
        return shapely.get_parts(shapely.boundary(geom))


def prepare(catchments: gpd.GeoDataFrame,
            uncovered_households: ArrayLike | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
            uncovered_areas: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
            gaps: gpd.GeoDataFrame | gpd.GeoSeries | None = None, *,
            near_m: float = NEAR_M) -> CoverageDrawing:
    """The :class:`CoverageDrawing` of catchments (``minutes`` and polygons), uncovered
    households and areas, and gaps (see :func:`coverage` for each)."""
    for frame, name in ((catchments, "catchments"), (uncovered_areas, "uncovered_areas"),
                        (gaps, "gaps"),
                        (uncovered_households if isinstance(uncovered_households, gpd.GeoSeries
                                                            | gpd.GeoDataFrame) else None,
                         "uncovered_households")):
        if frame is not None:
            check_crs(frame, name)
    if "minutes" not in catchments:
        raise ValueError("catchments need a 'minutes' column")
    thresholds = tuple(sorted({int(v) for v in catchments["minutes"]}))
    minutes = catchments["minutes"].astype(int).to_numpy()
    geoms = np.asarray(catchments.geometry.values, dtype=object)
    outlines = {t: _without_specks(shapely.union_all(geoms[minutes == t])) for t in thresholds}
    xy = lonlat_array(uncovered_households)
    xy = xy[np.isfinite(xy).all(axis=1)]
    ground = np.empty(0, dtype=object)
    if uncovered_areas is not None and len(uncovered_areas):
        ground = near_households(np.asarray(uncovered_areas.geometry.values, dtype=object), xy,
                                 near_m)
    holes = np.asarray(gaps.geometry.values, dtype=object) if gaps is not None and len(gaps) \
        else np.empty(0, dtype=object)
    cells = heat_cells(xy[:, ::-1]) if len(xy) > HEAT_ABOVE else None
    return CoverageDrawing(thresholds, outlines, xy, ground, holes,
                           households_given=uncovered_households is not None,
                           household_cells=cells)


def coverage(units: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, catchments: gpd.GeoDataFrame,
             uncovered_households: ArrayLike | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
             uncovered_areas: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
             gaps: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
             suggested_sites: gpd.GeoDataFrame | None = None, *,
             unit_stats: pd.DataFrame | None = None, shade_level: str = "grid",
             near_m: float = NEAR_M, lang: str = "zh", tiles: str | Basemap = "auto",
             tianditu_key: str | None = None, assets: str | None = None) -> folium.Map:
    """The coverage map.

    ``units``: the units to draw (any levels; code, name, level, geometry); ``shade_level``
    (default ``grid``, else the finest level given) is shaded by coverage share.
    ``unit_stats``: per unit ``code``, ``households`` and ``within_<m>`` (households within
    ``m`` minutes, for each threshold) — :attr:`CoverageStats.table`; without it the units are
    outlines only.
    ``sites``: points with optional ``name`` and ``kind`` (``centre`` or ``station``).
    ``catchments``: ``minutes`` (5, 10, 15...) and polygon geometry — the sites' catchments or,
    cheaper, their union in pieces (``Catchments.covered()``); one toggleable outline layer per
    ``minutes`` value.
    ``uncovered_households``: points (or an (n, 2) lon/lat array); ``uncovered_areas``:
    polygons, drawn only within ``near_m`` metres of an uncovered household (off at first);
    ``gaps`` (boundary gaps): polygons; ``suggested_sites``: points with optional ``rank`` and
    ``gain`` (households newly covered).

    The same as :func:`draw` of :func:`prepare`, for callers that draw a coverage once.
    """
    drawing = prepare(catchments, uncovered_households, uncovered_areas, gaps, near_m=near_m)
    return draw(units, sites, drawing, suggested_sites, unit_stats=unit_stats,
                shade_level=shade_level, lang=lang, tiles=tiles, tianditu_key=tianditu_key,
                assets=assets)


def draw(units: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, drawing: CoverageDrawing,
         suggested_sites: gpd.GeoDataFrame | None = None, *,
         unit_stats: pd.DataFrame | None = None, shade_level: str = "grid", lang: str = "zh",
         tiles: str | Basemap = "auto", tianditu_key: str | None = None,
         assets: str | None = None, remote: Remote | None = None) -> folium.Map:
    """The coverage map of a prepared :class:`CoverageDrawing` (see :func:`coverage`).

    ``remote``: where large layers are loaded from in tiles: unit levels (their properties
    then :func:`shares` served by the API), and the circles' outlines and the uncovered ground
    when they have more than :data:`AREA_INLINE_COORDS` vertices.
    """
    check_units(units)
    for frame, name in ((sites, "sites"), (suggested_sites, "suggested_sites")):
        if frame is not None:
            check_crs(frame, name)
    thresholds = list(drawing.thresholds)
    m, bm = new_map(labels.text("coverage_title", lang), lang=lang, tiles=tiles,
                    tianditu_key=tianditu_key)
    present = levels_present(units)
    shaded_level = shade_level if shade_level in present else present[-1]
    figures = shares(units, unit_stats, thresholds)
    classes = classify([], "coverage", percent=True)
    legend: list[tuple[str, str, str]] = []
    if figures:
        legend += [(c, f"{labels.text('share_covered', lang)} {label}", "box")
                   for c, label in zip(classes.colours, classes.labels(), strict=True)]
        legend.append((NO_DATA, labels.text("no_data", lang), "box"))
    shares_group = None
    for lv in present:
        rows = units[units["level"].astype(str) == lv]
        weight = LEVEL_LINE.get(lv, ("", 1.0))[1]
        if lv == shaded_level and figures:
            style = _share_style(classes, f"s{thresholds[-1]}", lv)
            name = labels.text("grid_shares", lang, minutes=thresholds[-1])
            shares_group = add_level(m, rows, bm, lv, name=name,
                                     props=lambda r: unit_props(r, figures), style=style,
                                     weight=weight, remote=remote)
        else:
            add_level(m, rows, bm, lv, name=level_name(lv, lang), props=unit_props,
                      style=outline_style(lv), weight=weight, labels_on=lv != "microgrid",
                      remote=remote)
    # Circles as outlines, largest first; the 5-minute edge is solid and the darkest.
    for minutes in reversed(thresholds):
        colour = CATCHMENT_COLOURS.get(minutes, "#807dba")
        label = labels.text("catchment", lang, minutes=minutes)
        _areas(m, drawing.outline_lines(minutes), bm, label, outline_style_of(minutes, thresholds),
               layer=f"catchment-{minutes}", remote=remote,
               tolerance_m=CATCHMENT_TOLERANCE_M)
        legend.append((colour, labels.text("catchment_edge", lang, minutes=minutes), "line"))
    if len(drawing.ground):
        _areas(m, drawing.ground, bm, labels.text("uncovered_areas", lang), GROUND_STYLE,
               layer="ground", remote=remote, show=False, tolerance_m=5.0)
        legend.append((GROUND_COLOUR, labels.text("uncovered_areas", lang), "box"))
    if len(drawing.gaps):
        _areas(m, drawing.gaps, bm, labels.text("gaps", lang), GAP_STYLE)
        legend.append((GAP_COLOUR, labels.text("gaps", lang), "box"))
    xy = drawing.households
    if drawing.households_given:
        household_layer(xy, bm, name=labels.text("uncovered_households", lang),
                        colour=UNCOVERED_COLOUR, cells=drawing.household_cells).add_to(m)
        legend.append((UNCOVERED_COLOUR, labels.text("uncovered_households", lang), "dot"))
    site_layer(sites, bm, name=labels.text("sites", lang), lang=lang,
               colours=SITE_COLOURS).add_to(m)
    legend += [(SITE_COLOURS["centre"], labels.text("centre", lang), "dot"),
               (SITE_COLOURS["station"], labels.text("station", lang), "dot")]
    if suggested_sites is not None and len(suggested_sites):
        suggested = suggested_sites.copy()
        suggested["kind"] = "suggested"
        if "name" not in suggested:
            suggested["name"] = [f"{labels.text('suggested_sites', lang)} {r}" for r in
                                 (suggested["rank"] if "rank" in suggested
                                  else range(1, len(suggested) + 1))]
        site_layer(suggested, bm, name=labels.text("suggested_sites", lang), lang=lang,
                   colours={"suggested": SITE_COLOURS["suggested"]}, default_kind="suggested",
                   extra=(("rank", "rank"), ("gain", "gain"))).add_to(m)
        legend.append((SITE_COLOURS["suggested"], labels.text("suggested_sites", lang), "dot"))
    shaded_codes = set(units.loc[units["level"].astype(str) == shaded_level, "code"].astype(str))
    total = sum(f.get("h", 0) for c, f in figures.items() if c in shaded_codes)
    detail = (labels.text("uncovered_households", lang) + f" {len(xy):,}"
              + (f" / {labels.text('households', lang)} {total:,}" if total else ""))
    Title(labels.text("coverage_title", lang), detail).add_to(m)
    if shares_group is not None:
        ShareSwitch(shares_group, thresholds, classes, lang).add_to(m)
    Legend(labels.text("legend", lang), legend).add_to(m)
    m.options["zoom_snap"] = 0.25
    m.options["zoom_delta"] = 0.5
    return finish(m, display_geoms(np.asarray(units.geometry.values, dtype=object), bm),
                  assets=assets)


def near_households(areas: NDArray[np.object_], lonlat: NDArray[np.float64],
                    near_m: float) -> NDArray[np.object_]:
    """The parts of ``areas`` (EPSG:4490) within ``near_m`` metres of a point of ``lonlat``.

    Buffers are merged once and each merged piece meets only the areas whose box it touches
    (an STRtree query), so the cost follows the households, not the district's size.
    """
    areas = areas[~shapely.is_empty(areas) & ~shapely.is_missing(areas)]
    if not len(areas) or not len(lonlat) or near_m <= 0:
        return np.empty(0, dtype=object)
    metric = metric_crs_of(areas)
    x, y = lonlat_to_metric(lonlat[:, 0], lonlat[:, 1], metric)
    near = shapely.get_parts(shapely.union_all(shapely.buffer(shapely.points(x, y), near_m,
                                                              quad_segs=4)))
    areas_m = to_metric(areas, metric)
    hit_near, hit_area = shapely.STRtree(areas_m).query(near, predicate="intersects")
    pieces = shapely.intersection(near[hit_near], areas_m[hit_area])
    pieces = pieces[~shapely.is_empty(pieces) & (shapely.area(pieces) >= 1.0)]
    if not len(pieces):
        return np.empty(0, dtype=object)
    merged = shapely.get_parts(shapely.union_all(pieces))
    return from_metric(merged, metric)


def _without_specks(geom: shapely.Geometry, min_m2: float = SPECK_M2) -> shapely.Geometry:
    """``geom`` (EPSG:4490) without parts and holes smaller than ``min_m2``."""
    if geom is None or geom.is_empty:
        return geom
    metric = metric_crs_of(np.array([geom], dtype=object))
    parts = shapely.get_parts(to_metric(np.array([geom], dtype=object), metric))
    kept = []
    for part in parts:
        if shapely.get_type_id(part) != 3 or part.area < min_m2:
            continue
        holes = [r for r in part.interiors if shapely.Polygon(r).area >= min_m2]
        kept.append(shapely.Polygon(part.exterior, holes))
    if not kept:
        return shapely.Polygon()
    return from_metric(np.array([shapely.MultiPolygon(kept)], dtype=object), metric)[0]


def shares(units: gpd.GeoDataFrame, stats: pd.DataFrame | None,
            thresholds: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Per unit code: ``h`` households, ``i<m>`` households within m minutes, ``s<m>`` their
    share, and ``v`` the share within the last threshold (what the popup shows as coverage)."""
    if stats is None or not len(stats):
        return {}
    wanted = set(units["code"].astype(str))
    stats = stats[stats["code"].astype(str).isin(wanted)]  # a city's table has every level
    out: dict[str, dict[str, Any]] = {}
    for row in stats.to_dict("records"):
        code, total = str(row["code"]), row.get("households")
        if code not in wanted or total is None or not math.isfinite(float(total)):
            continue
        f: dict[str, Any] = {"h": int(total)}
        for t in thresholds:
            within = row.get(f"within_{t:g}")
            if within is not None and math.isfinite(float(within)):
                f[f"i{t}"] = int(within)
                if total:
                    f[f"s{t}"] = round(float(within) / float(total), 4)
        if f"s{thresholds[-1]}" in f:
            f["v"] = f[f"s{thresholds[-1]}"]
        out[code] = f
    return out


def _share_style(classes: Classes, key: str, level: str) -> UnitStyle:
    weight = LEVEL_LINE.get(level, ("#555555", 1.0))[1]
    return UnitStyle.of({"color": "#ffffff", "weight": weight, "opacity": 0.9, "fillOpacity": 0.6},
                        fill_key=key, classes=classes)


def outline_style_of(minutes: int, thresholds: list[int]) -> UnitStyle:
    """A circle's outline: one hue, darker and solid for the shortest walk."""
    return UnitStyle.of({"color": CATCHMENT_COLOURS.get(minutes, "#807dba"),
                         "weight": 2.5 if minutes == thresholds[0] else 2,
                         "dashArray": CATCHMENT_DASH.get(minutes), "fill": False,
                         "opacity": 0.95})


GROUND_STYLE = UnitStyle.of({"color": GROUND_COLOUR, "weight": 1, "fillColor": GROUND_COLOUR,
                             "fillOpacity": 0.35})
GAP_STYLE = UnitStyle.of({"color": GAP_COLOUR, "weight": 2, "fillColor": GAP_COLOUR,
                          "fillOpacity": 0.3, "dashArray": "4 3"})


def _areas(m: folium.Map, geoms: Any, bm: Basemap, name: str, style: UnitStyle, *,
           layer: str | None = None, remote: Remote | None = None, show: bool = True,
           tolerance_m: float = 0.0) -> folium.FeatureGroup:
    """Shapes of one kind (polygons or outlines) as one layer, each with ``name`` as its
    tooltip; loaded in tiles from ``remote`` (as ``layer``) when they have more than
    :data:`AREA_INLINE_COORDS` vertices."""
    arr = np.asarray(geoms, dtype=object)
    group = folium.FeatureGroup(name=name, show=show)
    group.add_to(m)
    if remote is not None and layer is not None and \
            int(shapely.get_num_coordinates(arr).sum()) > AREA_INLINE_COORDS:
        RemoteLevel(m, group, remote, level=layer, style=style, level_name=name, areas=True)
        return group
    shown = display(arr, bm, tolerance_m)
    data = feature_collection(shown, [{"t": name}] * len(shown),
                              ids=[str(i) for i in range(len(shown))])
    if data["features"]:
        folium.GeoJson(data, style_function=style, on_each_feature=_AREA_EVENTS,
                       control=False).add_to(group)
    return group


class ShareSwitch(MacroElement):
    """A box that says how grids are shaded and switches between the thresholds (5/10/15 min).

    Switching restyles the shaded layer in the browser from its ``s<m>`` properties and rewrites
    each grid's tooltip (name, share, households not covered), so no geometry is sent twice.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }}, group = {{ this.group }};
          var cfg = {{ this.config|tojson }}, shapes = null;
          group.eachLayer(function (l) { if (l instanceof L.GeoJSON) shapes = l; });
          function colour(v) {
            if (v === undefined || v === null) return cfg.none;
            var i = 0; while (i < cfg.colours.length - 1 && v >= cfg.edges[i + 1]) i++;
            return cfg.colours[i];
          }
          var box = L.control({position: "topleft"});
          box.onAdd = function () {
            var div = L.DomUtil.create("div", "wg-shares");
            div.innerHTML = "<b>" + wg.esc(cfg.title) + "</b> " + cfg.minutes.map(function (t, i) {
              return '<label><input type="radio" name="wg-share" value="' + t + '"'
                + (t === cfg.initial ? " checked" : "") + "> " + wg.esc(cfg.names[i]) + "</label>";
            }).join("");
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.on(div, "change", function (e) { show(Number(e.target.value)); });
            return div;
          };
          function show(t) {
            map._wgShare = t;
            if (!shapes) return;
            shapes.eachLayer(function (l) {
              var p = l.feature.properties, s = p["s" + t], within = p["i" + t];
              l.setStyle({fillColor: colour(s)});
              l.setTooltipContent("<b>" + wg.esc(p.n) + "</b><br>" + wg.esc(cfg.share) + " "
                + (s === undefined ? wg.esc(cfg.noData) : wg.pct(s))
                + (within !== undefined && p.h !== undefined ? "<br>" + wg.esc(cfg.uncovered)
                   + " " + wg.num(p.h - within) : "")
                + "<br>" + wg.esc(cfg.households) + " " + wg.num(p.h));
            });
          }
          box.addTo(map);
          map.whenReady(function () { show(cfg.initial); });
        })();
        {% endmacro %}
    """)

    def __init__(self, group: folium.FeatureGroup, thresholds: Sequence[int], classes: Classes,
                 lang: str) -> None:
        super().__init__()
        self._name = "ShareSwitch"
        self.group = group.get_name()
        self.config = {
            "minutes": list(thresholds), "initial": thresholds[-1],
            "names": [labels.text("minutes_short", lang, minutes=t) for t in thresholds],
            "title": labels.text("shares_within", lang),
            "edges": list(classes.edges), "colours": list(classes.colours), "none": NO_DATA,
            "noData": labels.text("no_data", lang),
            "share": labels.text("share_covered", lang),
            "uncovered": labels.text("uncovered_count", lang),
            "households": labels.text("households", lang)}


