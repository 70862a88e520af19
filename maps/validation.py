"""The problems of a release drawn where they are, coloured by rule, explained in Chinese.

Each finding is drawn by its own geometry when it has one (the overlap or gap piece), plus a
marker at its location, because a 350 m² piece is invisible at district zoom; a finding with a
location only (an invalid ring, a duplicate code) gets the marker alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.template import Template

from wangge.geo.boundaries.findings import RULES_ZH, Finding, Report
from wangge.maps import labels
from wangge.maps.base import display, display_points, finish, new_map
from wangge.maps.remote import Remote
from wangge.maps.simplify import feature_collection
from wangge.maps.style import RULE_COLOURS, RULE_OTHER, Legend
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import (
    add_level,
    check_units,
    level_name,
    levels_present,
    outline_style,
    unit_props,
)

_FINDING_JS = """
wg.finding = function (p) {
  var t = wg.t;
  return wg.head(p.r) + wg.rows([[t.severity, p.s], [t.units_involved, p.c],
    [t.size, p.z]]) + "<div>" + wg.esc(p.m) + "</div>";
};
"""
_FINDING_EVENTS = folium.JsCode("""
function (feature, layer) {
  var p = feature.properties;
  layer.bindTooltip(wg.esc(p.r) + "：" + wg.esc(p.c), {sticky: true});
  layer.bindPopup(function () { return wg.finding(p); }, {maxWidth: 360});
}
""")


class _FindingPopup(folium.MacroElement):
    _template = Template("""{% macro script(this, kwargs) %}""" + _FINDING_JS
                                + """{% endmacro %}""")


def rule_name(rule: str, lang: str) -> str:
    return RULES_ZH.get(rule, rule) if lang == "zh" else rule.replace("_", " ")


def validation(units: gpd.GeoDataFrame, findings: Report | Iterable[Finding], *, lang: str = "zh",
               tiles: str | Basemap = "auto", tianditu_key: str | None = None,
               assets: str | None = None, remote: Remote | None = None) -> folium.Map:
    """The validation map of ``units`` (EPSG:4490) and the findings of
    :func:`wangge.geo.boundaries.validate.validate`.

    One layer per rule (named with its Chinese name and count), coloured by rule; units drawn
    as outlines per level, the levels that have findings shown; large levels loaded in tiles
    from ``remote`` when given.
    """
    check_units(units)
    items = list(findings.findings if isinstance(findings, Report) else findings)
    m, bm = new_map(labels.text("validation_title", lang), lang=lang, tiles=tiles,
                    tianditu_key=tianditu_key)
    _FindingPopup().add_to(m)
    present = levels_present(units)
    involved = {f.level for f in items if f.level}
    for lv in present:
        rows = units[units["level"].astype(str) == lv]
        add_level(m, rows, bm, lv, name=level_name(lv, lang), props=unit_props,
                  style=outline_style(lv), show=lv == present[0] or lv in involved,
                  labels_on=False, remote=remote)
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in items:
        by_rule[f.rule].append(f)
    legend = []
    for rule, group_items in by_rule.items():
        colour = RULE_COLOURS.get(rule, RULE_OTHER)
        name = f"{rule_name(rule, lang)} ({len(group_items)})"
        _finding_layer(group_items, bm, name, colour, lang).add_to(m)
        legend.append((colour, name, "dot"))
    if not legend:
        legend.append(("#1a9641", labels.text("no_findings", lang), "dot"))
    Legend(labels.text("findings", lang), legend).add_to(m)
    return finish(m, display_geoms(np.asarray(units.geometry.values, dtype=object), bm),
                  assets=assets)


def _props(f: Finding, lang: str) -> dict[str, Any]:
    size = ""
    if f.size is not None and np.isfinite(f.size):
        unit = labels.SIZE_UNITS.get(f.size_unit or "", ("", ""))[0 if lang == "zh" else 1]
        size = f"{f.size:,.1f} {unit}".strip()
    return {"r": rule_name(f.rule, lang),
            "s": labels.text(f.severity, lang) if f.severity in labels.TEXTS else f.severity,
            "c": "、".join(f.codes) if lang == "zh" else ", ".join(f.codes),
            "z": size, "m": f.message_zh if lang == "zh" else f.message_en}


def _finding_layer(items: list[Finding], bm: Basemap, name: str, colour: str,
                   lang: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name)
    shapes = [(f.geometry, _props(f, lang)) for f in items
              if f.geometry is not None and not shapely.is_empty(f.geometry)
              and shapely.get_type_id(f.geometry) != 0]
    if shapes:
        geoms = display(np.array([g for g, _ in shapes], dtype=object), bm)
        data = feature_collection(geoms, [p for _, p in shapes],
                                  ids=[str(i) for i in range(len(shapes))])
        folium.GeoJson(data, style_function=lambda _f: {
            "color": colour, "weight": 3, "fillColor": colour, "fillOpacity": 0.6},
            on_each_feature=_FINDING_EVENTS, control=False).add_to(group)
    points = []
    for f in items:
        where = f.location
        if where is None and f.geometry is not None and not shapely.is_empty(f.geometry):
            c = shapely.get_coordinates(shapely.point_on_surface(f.geometry))[0]
            where = (float(c[0]), float(c[1]))
        if where is not None:
            points.append((where, _props(f, lang)))
    if points:
        lon, lat = display_points([p[0][0] for p in points], [p[0][1] for p in points], bm)
        data = feature_collection(shapely.points(lon, lat), [p for _, p in points],
                                  ids=[str(i) for i in range(len(points))])
        folium.GeoJson(data, marker=folium.CircleMarker(radius=8), style_function=lambda _f: {
            "color": "#ffffff", "weight": 2, "fill": True, "fillColor": colour, "fillOpacity": 0.95},
            on_each_feature=_FINDING_EVENTS, control=False).add_to(group)
    return group
