"""Two versions of the boundaries over each other: the one before dashed, the one after drawn
over it with the units that changed filled, each with its households before and after.

Used for a plan against its base and for any two releases.
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np

from wangge.maps import labels
from wangge.maps.base import finish, new_map
from wangge.maps.remote import Remote, RemoteLevel
from wangge.maps.style import Legend, UnitStyle
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import check_units, level_name, tolerance, unit_layer, unit_props

BEFORE = "#636363"
UNCHANGED = "#2c7fb8"
CHANGED = "#d7301f"


def compare(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, *, level: str = "grid",
            changed: set[str] | frozenset[str] = frozenset(),
            households_before: Mapping[str, int] | None = None,
            households_after: Mapping[str, int] | None = None, lang: str = "zh",
            tiles: str | Basemap = "auto", tianditu_key: str | None = None,
            assets: str | None = None, remote_before: Remote | None = None,
            remote_after: Remote | None = None) -> folium.Map:
    """``after`` drawn over ``before`` (both EPSG:4490) at ``level``; ``changed`` codes filled.

    A large level is loaded in tiles: ``before`` from ``remote_before``, and the unchanged
    units of ``after`` from ``remote_after`` (a release holding them as they are in
    ``after``), while the changed units, the reason for the page, stay in it.
    """
    check_units(before, "before")
    check_units(after, "after")
    m, bm = new_map(labels.text("compare_title", lang), lang=lang, tiles=tiles,
                    tianditu_key=tianditu_key)
    old = before[before["level"].astype(str) == level]
    new = after[after["level"].astype(str) == level]
    hb, ha = households_before or {}, households_after or {}
    name = level_name(level, lang)
    before_name = f"{labels.text('before', lang)}：{name}"
    if remote_before is not None and remote_before.wants(len(old)):
        group = folium.FeatureGroup(name=before_name).add_to(m)
        RemoteLevel(m, group, remote_before, level=level, style=BEFORE_STYLE, level_name=name)
    else:
        unit_layer(old, bm, name=before_name,
                   props=unit_props(old, {c: {"h": hb.get(c)} for c in old["code"].astype(str)}),
                   style=BEFORE_STYLE, tolerance_m=tolerance(level)).add_to(m)
    after_name = f"{labels.text('after', lang)}：{name}"
    codes = new["code"].astype(str)
    if remote_after is not None and remote_after.wants(len(new)):
        group = folium.FeatureGroup(name=after_name).add_to(m)
        # The tiles' copies of changed (or removed) units are not drawn: the page's own are.
        RemoteLevel(m, group, remote_after, level=level, style=AFTER_STYLE, level_name=name,
                    skip=sorted(changed | (set(old["code"].astype(str)) - set(codes))))
        hit = new[codes.isin(changed).to_numpy()]
        if len(hit):
            shown = unit_layer(hit, bm, name=after_name, props=unit_props(
                hit, {c: {"h": ha.get(c), "x": 1} for c in hit["code"].astype(str)}),
                style=AFTER_STYLE, tolerance_m=tolerance(level))
            for child in list(shown._children.values()):
                group.add_child(child)
    else:
        unit_layer(new, bm, name=after_name,
                   props=unit_props(new, {c: {"h": ha.get(c), "x": 1 if c in changed else None}
                                          for c in codes}),
                   style=AFTER_STYLE, tolerance_m=tolerance(level)).add_to(m)
    Legend(labels.text("legend", lang), [
        (BEFORE, labels.text("before", lang), "line"),
        (UNCHANGED, labels.text("after", lang), "line"),
        (CHANGED, labels.text("changed_units", lang, count=len(changed & set(new["code"]))),
         "box"),
    ]).add_to(m)
    geoms = np.concatenate([np.asarray(old.geometry.values, dtype=object),
                            np.asarray(new.geometry.values, dtype=object)])
    return finish(m, display_geoms(geoms, bm), assets=assets)


BEFORE_STYLE = UnitStyle.of({"color": BEFORE, "weight": 2.5, "dashArray": "6 5", "fill": False,
                             "opacity": 0.9})
AFTER_STYLE = UnitStyle.of({"color": UNCHANGED, "weight": 2, "opacity": 0.95, "fill": False,
                            "fillColor": CHANGED, "fillOpacity": 0.0}, flag_key="x",
                           flagged={"color": CHANGED, "fill": True, "fillOpacity": 0.35})
