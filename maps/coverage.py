"""Service-circle coverage: sites, their 5/10/15-minute catchments, what they leave uncovered.

Takes plain GeoDataFrames (EPSG:4490), so it does not depend on how catchments are computed.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike

from wangge.maps import labels
from wangge.maps.base import display, finish, new_map
from wangge.maps.points import household_layer, site_layer
from wangge.maps.simplify import feature_collection
from wangge.maps.style import CATCHMENT_COLOURS, SITE_COLOURS, Legend
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import (
    check_crs,
    check_units,
    level_name,
    outline_style,
    tolerance,
    unit_layer,
    unit_props,
)

_AREA_EVENTS = folium.JsCode("""
function (feature, layer) { layer.bindTooltip(wg.esc(feature.properties.t), {sticky: true}); }
""")


def coverage(units: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, catchments: gpd.GeoDataFrame,
             uncovered_households: ArrayLike | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
             uncovered_areas: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
             gaps: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
             suggested_sites: gpd.GeoDataFrame | None = None, *, lang: str = "zh",
             tiles: str | Basemap = "osm", tianditu_key: str | None = None,
             assets: str | None = None) -> folium.Map:
    """The coverage map.

    ``units``: the units to outline (any levels; code, name, level, geometry).
    ``sites``: points with optional ``name`` and ``kind`` (``centre`` or ``station``).
    ``catchments``: ``minutes`` (5, 10, 15...) and polygon geometry — the sites' catchments or,
    cheaper, their union in pieces (``Catchments.covered()``); one toggleable layer per
    ``minutes`` value, the union of its rows.
    ``uncovered_households``: points (or an (n, 2) lon/lat array); ``uncovered_areas`` and
    ``gaps`` (boundary gaps): polygons; ``suggested_sites``: points with optional ``rank`` and
    ``gain`` (households newly covered).
    """
    check_units(units)
    for frame, name in ((sites, "sites"), (catchments, "catchments"), (uncovered_areas, "uncovered_areas"),
                        (gaps, "gaps"), (suggested_sites, "suggested_sites"),
                        (uncovered_households if isinstance(uncovered_households, gpd.GeoSeries
                                                            | gpd.GeoDataFrame) else None,
                         "uncovered_households")):
        if frame is not None:
            check_crs(frame, name)
    if "minutes" not in catchments:
        raise ValueError("catchments need a 'minutes' column")
    m, bm = new_map(labels.text("coverage_title", lang), lang=lang, tiles=tiles,
                    tianditu_key=tianditu_key)
    levels = list(dict.fromkeys(units["level"].astype(str)))
    for lv in levels:
        rows = units[units["level"].astype(str) == lv]
        unit_layer(rows, bm, name=f"{labels.text('units', lang)} · {level_name(lv, lang)}",
                   props=unit_props(rows), style=outline_style(lv), tolerance_m=tolerance(lv),
                   show=lv == levels[-1], ids=list(rows["code"].astype(str))).add_to(m)
    legend: list[tuple[str, str, str]] = []
    # Largest circle first, so the smaller ones are drawn over it.
    for minutes in sorted({int(v) for v in catchments["minutes"]}, reverse=True):
        rows = catchments[catchments["minutes"].astype(int) == minutes]
        merged = shapely.union_all(np.asarray(rows.geometry.values, dtype=object))
        colour = CATCHMENT_COLOURS.get(minutes, "#66c2a5")
        label = labels.text("catchment", lang, minutes=minutes)
        _areas([merged], bm, label, {"color": colour, "weight": 1, "fillColor": colour,
                                     "fillOpacity": 0.35}, show=True).add_to(m)
        legend.append((colour, label, "box"))
    for frame, key, colour, dash in ((uncovered_areas, "uncovered_areas", "#d7301f", None),
                                     (gaps, "gaps", "#ff7f00", "4 3")):
        if frame is not None and len(frame):
            style = {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.3,
                     "dashArray": dash}
            _areas(np.asarray(frame.geometry.values, dtype=object), bm, labels.text(key, lang),
                   style).add_to(m)
            legend.append((colour, labels.text(key, lang), "box"))
    if uncovered_households is not None:
        household_layer(uncovered_households, bm, name=labels.text("uncovered_households", lang),
                        colour="#cb181d").add_to(m)
        legend.append(("#cb181d", labels.text("uncovered_households", lang), "dot"))
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
    Legend(labels.text("legend", lang), legend).add_to(m)
    return finish(m, display_geoms(np.asarray(units.geometry.values, dtype=object), bm),
                  assets=assets)


def _areas(geoms: Any, bm: Basemap, name: str, style: dict[str, Any],
           show: bool = True) -> folium.FeatureGroup:
    """Polygons of one kind as one layer, each with ``name`` as its tooltip."""
    arr = display(np.asarray(geoms, dtype=object), bm)
    data = feature_collection(arr, [{"t": name}] * len(arr), ids=[str(i) for i in range(len(arr))])
    group = folium.FeatureGroup(name=name, show=show)
    if data["features"]:
        folium.GeoJson(data, style_function=lambda _f: dict(style), on_each_feature=_AREA_EVENTS,
                       control=False).add_to(group)
    return group
