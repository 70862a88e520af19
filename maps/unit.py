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
from wangge.maps.style import SITE_COLOURS
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import check_crs, check_units, level_name, outline_style, unit_layer, unit_props


def unit(unit_row: Mapping[str, Any] | gpd.GeoDataFrame, children: gpd.GeoDataFrame | None = None,
         households_lonlat: ArrayLike | gpd.GeoSeries | None = None,
         sites: gpd.GeoDataFrame | None = None, *, lang: str = "zh",
         tiles: str | Basemap = "osm", tianditu_key: str | None = None,
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
    if children is not None and len(children):
        check_units(children, "children")
        child_level = str(children["level"].iloc[0])
        unit_layer(children, bm, name=level_name(child_level, lang), props=unit_props(children, link=link),
                   style=outline_style(child_level, fill=True), tolerance_m=0.5,
                   ids=list(children["code"].astype(str))).add_to(m)
    unit_layer(frame, bm, name=f"{labels.text('boundary', lang)} · {level_name(level, lang)}",
               props=unit_props(frame), style=_boundary_style, tolerance_m=0.0,
               ids=[str(row["code"])]).add_to(m)
    if households_lonlat is not None:
        household_layer(households_lonlat, bm, name=labels.text("households_layer", lang),
                        heat_above=heat_above).add_to(m)
    if sites is not None and len(sites):
        check_crs(sites, "sites")
        site_layer(sites, bm, name=labels.text("sites", lang), lang=lang,
                   colours=SITE_COLOURS).add_to(m)
    return finish(m, display_geoms(np.asarray(frame.geometry.values, dtype=object), bm),
                  assets=assets)


def _boundary_style(_feature: dict[str, Any]) -> dict[str, Any]:
    return {"color": "#08306b", "weight": 3, "fill": False, "opacity": 1.0}
