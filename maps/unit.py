"""One unit close up: its boundary, its sub-units, its households and nearby service sites."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from numpy.typing import ArrayLike

from wangge.maps import labels
from wangge.maps.base import finish, new_map
from wangge.maps.points import HEAT_ABOVE, household_layer, site_layer
from wangge.maps.style import LEVEL_LINE, SITE_COLOURS, Legend, Title, UnitStyle
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import (
    add_level,
    check_crs,
    check_units,
    level_name,
    unit_layer,
    unit_props,
)

BOUNDARY_COLOUR = "#08306b"
HOUSEHOLD_COLOUR = "#3182bd"


def unit(unit_row: Mapping[str, Any] | gpd.GeoDataFrame, children: gpd.GeoDataFrame | None = None,
         households_lonlat: ArrayLike | gpd.GeoSeries | None = None,
         sites: gpd.GeoDataFrame | None = None, *, lang: str = "zh",
         tiles: str | Basemap = "auto", tianditu_key: str | None = None,
         link: Callable[[str], str] | None = None, heat_above: int = HEAT_ABOVE,
         assets: str | None = None) -> folium.Map:
    """The map of one unit (a row, or a one-row GeoDataFrame, with code, name, level, geometry).

    ``children`` are its sub-units (EPSG:4490), each with a popup and ``link(code)``;
    ``households_lonlat`` an (n, 2) lon/lat array (or points) drawn as clustered dots, or as a
    heat map above ``heat_above``; ``sites`` service sites (points, optional ``name`` and
    ``kind`` = centre/station).
    """
    if isinstance(unit_row, gpd.GeoDataFrame):
        check_units(unit_row, "unit")
        if len(unit_row) != 1:
            raise ValueError("unit_row must hold exactly one unit")
        frame = unit_row
    else:
        frame = gpd.GeoDataFrame([dict(unit_row)], geometry="geometry", crs="EPSG:4490")
        check_units(frame, "unit")
    row = frame.iloc[0]
    title = f"{row['name']}（{row['code']}）" if lang == "zh" else f"{row['name']} ({row['code']})"
    m, bm = new_map(title, lang=lang, tiles=tiles, tianditu_key=tianditu_key)
    level = str(row["level"])
    legend: list[tuple[str, str, str]] = [
        (BOUNDARY_COLOUR, f"{labels.text('boundary', lang)} · {level_name(level, lang)}", "line")]
    if children is not None and len(children):
        check_units(children, "children")
        child_level = str(children["level"].iloc[0])
        # Children's names from the unit's own zoom on (the page opens fitted to the unit).
        add_level(m, children, bm, child_level, name=level_name(child_level, lang),
                  props=lambda r: unit_props(r, link=link), style=_child_style(child_level),
                  min_zoom=0.0, max_zoom=30.0)
        legend.append((LEVEL_LINE.get(child_level, ("#555555", 1.0))[0],
                       labels.text("children_of", lang, level=level_name(child_level, lang),
                                   count=len(children)), "line"))
    unit_layer(frame, bm, name=f"{labels.text('boundary', lang)} · {level_name(level, lang)}",
               props=unit_props(frame), style=_boundary_style, tolerance_m=0.0,
               ids=[str(row["code"])]).add_to(m)
    if households_lonlat is not None:
        layer = household_layer(households_lonlat, bm, name=labels.text("households_layer", lang),
                                colour=HOUSEHOLD_COLOUR, heat_above=heat_above)
        layer.add_to(m)
        heat = any(type(c).__name__ == "HeatMap" for c in layer._children.values())
        legend.append((HOUSEHOLD_COLOUR, labels.text("households_heat" if heat else
                                                     "households_layer", lang), "dot"))
    if sites is not None and len(sites):
        check_crs(sites, "sites")
        site_layer(sites, bm, name=labels.text("sites", lang), lang=lang,
                   colours=SITE_COLOURS).add_to(m)
        kinds = set(sites["kind"].astype(str)) if "kind" in sites else {"station"}
        legend += [(SITE_COLOURS[k], labels.text(k, lang), "dot") for k in ("centre", "station")
                   if k in kinds]
    Title(labels.text("unit_heading", lang, name=row["name"]),
          labels.text("unit_detail", lang, level=level_name(f"{level}_one" if f"{level}_one" in labels.TEXTS
                                                 else level, lang),
                      code=row["code"])).add_to(m)
    Legend(labels.text("legend", lang), legend).add_to(m)
    m.options["zoom_snap"] = 0.25
    m.options["zoom_delta"] = 0.5
    return finish(m, display_geoms(np.asarray(frame.geometry.values, dtype=object), bm),
                  assets=assets)


def _child_style(level: str) -> UnitStyle:
    """Children outlined in their level's colour, at least 1.5 px (on a close-up map even
    micro-grids are read), filled invisibly so a click anywhere inside opens the popup."""
    colour, weight = LEVEL_LINE.get(level, ("#555555", 1.0))
    return UnitStyle.of({"color": colour, "weight": max(1.5, weight), "fill": True,
                         "fillOpacity": 0.0, "opacity": 0.9})


def _boundary_style(_feature: dict[str, Any]) -> dict[str, Any]:
    return {"color": BOUNDARY_COLOUR, "weight": 3, "fill": False, "opacity": 1.0}
