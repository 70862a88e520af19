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
from wangge.maps.style import Legend
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
            assets: str | None = None) -> folium.Map:
    """``after`` drawn over ``before`` (both EPSG:4490) at ``level``; ``changed`` codes filled."""
    check_units(before, "before")
    check_units(after, "after")
    m, bm = new_map(labels.text("compare_title", lang), lang=lang, tiles=tiles,
                    tianditu_key=tianditu_key)
    old = before[before["level"].astype(str) == level]
    new = after[after["level"].astype(str) == level]
    hb, ha = households_before or {}, households_after or {}
    name = level_name(level, lang)
    unit_layer(old, bm, name=f"{labels.text('before', lang)}：{name}",
               props=unit_props(old, {c: {"h": hb.get(c)} for c in old["code"].astype(str)}),
               style=lambda _f: {"color": BEFORE, "weight": 2.5, "dashArray": "6 5",
                                 "fill": False, "opacity": 0.9},
               tolerance_m=tolerance(level)).add_to(m)
    unit_layer(new, bm, name=f"{labels.text('after', lang)}：{name}",
               props=unit_props(new, {c: {"h": ha.get(c), "x": 1 if c in changed else None}
                                      for c in new["code"].astype(str)}),
               style=_after_style, tolerance_m=tolerance(level)).add_to(m)
    Legend(labels.text("legend", lang), [
        (BEFORE, labels.text("before", lang), "line"),
        (UNCHANGED, labels.text("after", lang), "line"),
        (CHANGED, labels.text("changed_units", lang, count=len(changed & set(new["code"]))),
         "box"),
    ]).add_to(m)
    geoms = np.concatenate([np.asarray(old.geometry.values, dtype=object),
                            np.asarray(new.geometry.values, dtype=object)])
    return finish(m, display_geoms(geoms, bm), assets=assets)


def _after_style(feature: dict) -> dict:
    hit = bool(feature["properties"].get("x"))
    return {"color": CHANGED if hit else UNCHANGED, "weight": 2, "opacity": 0.95,
            "fill": hit, "fillColor": CHANGED, "fillOpacity": 0.35 if hit else 0.0}
