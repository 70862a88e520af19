"""The district overview: the four levels as layers, one of them shaded by a chosen figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd

from wangge.geo.errors import InputError
from wangge.maps import labels
from wangge.maps.base import finish, new_map
from wangge.maps.remote import Remote
from wangge.maps.style import LEVEL_LINE, Title, UnitStyle, classes_legend, classify
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import (
    add_level,
    check_units,
    level_name,
    levels_present,
    outline_style,
    unit_props,
)

SHADES = ("households", "per_worker", "coverage")


@dataclass(frozen=True)
class UnitCounts:
    """Figures of one unit. Units without their own figures get the sum of their children's."""

    households: int | None = None
    residents: int | None = None
    covered: int | None = None  # households inside the service circle


def overview(units: gpd.GeoDataFrame, counts: Mapping[str, UnitCounts | Mapping[str, Any]] | None = None,
             workers: Mapping[str, Sequence[str]] | None = None, *, shade: str = "households",
             level: str = "grid", lang: str = "zh", tiles: str | Basemap = "auto",
             tianditu_key: str | None = None, show_workers: bool = False,
             link: Callable[[str], str] | None = None, assets: str | None = None,
             remote: Remote | None = None) -> folium.Map:
    """The overview map of a district's units (EPSG:4490: code, name, level, parent_code).

    ``counts`` maps unit codes to :class:`UnitCounts` (or dicts with the same keys); parents
    without figures of their own get their children's sums. ``workers`` maps a unit code
    (usually a grid) to its grid workers' names: the popup shows how many, and the names only
    when ``show_workers`` is True (they are personal data; otherwise they never reach the page).
    ``level`` is shaded by ``shade``: ``households``, ``per_worker`` (households per grid
    worker) or ``coverage`` (share of households inside the service circle). ``link(code)``
    gives each popup a drill-down link. ``assets``: base URL of local Leaflet files.
    ``remote``: where large levels are loaded from in tiles (:mod:`wangge.maps.remote`); their
    properties are then :func:`figures` served by the API, not inlined.
    """
    check_units(units)
    if shade not in SHADES:
        raise InputError(f"未知着色方式“{shade}”，可选：{'、'.join(SHADES)}。",
                         f"Unknown shading {shade!r}; choose one of {', '.join(SHADES)}.",
                         shade=shade)
    present = levels_present(units)
    if level not in present:
        raise InputError(f"数据中没有层级“{level}”。", f"No units of level {level!r}.",
                         level=level, levels=present)
    m, bm = new_map(labels.text("overview_title", lang), lang=lang, tiles=tiles,
                    tianditu_key=tianditu_key)
    figures = unit_figures(units, counts or {}, workers or {}, show_workers)
    key = {"households": "h", "per_worker": "k", "coverage": "v"}[shade]
    shaded = units[units["level"].astype(str) == level]
    values = [figures.get(c, {}).get(key) for c in shaded["code"].astype(str)]
    classes = classify(values, "coverage" if shade == "coverage" else "load",
                       percent=shade == "coverage")

    colour, weight = LEVEL_LINE.get(level, ("#555555", 1.0))
    fill = UnitStyle.of({"color": colour, "weight": weight, "opacity": 0.9, "fillOpacity": 0.65},
                        fill_key=key, classes=classes)

    # Top-down, so the layer control lists the levels in order and the outlines of the levels
    # above are drawn over the shading; outline-only levels have no fill, so clicks inside a
    # unit reach the shaded layer. The top level, the one below it and the shaded level are on;
    # each level's names appear from its zoom on and fine outlines are thin at district zoom.
    on = {present[0], present[min(1, len(present) - 1)], level}
    for lv in present:
        rows = units[units["level"].astype(str) == lv]
        add_level(m, rows, bm, lv, name=level_name(lv, lang),
                  props=lambda r: unit_props(r, figures, link),
                  style=fill if lv == level else outline_style(lv), show=lv in on,
                  weight=LEVEL_LINE.get(lv, ("", 1.0))[1], remote=remote)
    Title(labels.text("overview_title", lang),
          labels.text(f"shade_{shade}", lang) + " · " + level_name(level, lang)).add_to(m)
    classes_legend(labels.text(f"shade_{shade}", lang), classes,
                   labels.text("no_data", lang)).add_to(m)
    # Fractional zoom steps, so fitting the district fills the window instead of leaving up to
    # half of it empty (Leaflet otherwise rounds the fitted zoom down to a whole level).
    m.options["zoom_snap"] = 0.25
    m.options["zoom_delta"] = 0.5
    return finish(m, display_geoms(units.geometry.values, bm), assets=assets)


def unit_figures(units: gpd.GeoDataFrame, counts: Mapping[str, UnitCounts | Mapping[str, Any]],
             workers: Mapping[str, Sequence[str]], show_workers: bool) -> dict[str, dict[str, Any]]:
    """Per unit code: h households, r residents, c covered, w workers, k per worker, v share."""
    codes = units["code"].astype(str).tolist()
    parent = dict(zip(codes, units["parent_code"].where(units["parent_code"].notna(), None)
                      if "parent_code" in units else [None] * len(codes), strict=True))
    depth = {c: 0 for c in codes}
    for c in codes:  # depth from the parent chain, so any number of levels aggregates
        p, d, seen = parent.get(c), 0, set()
        while p is not None and p in parent and p not in seen:
            seen.add(p)
            d += 1
            p = parent.get(p)
        depth[c] = d
    own: dict[str, dict[str, float]] = {}
    for code, value in counts.items():
        given = value if isinstance(value, Mapping) else value.__dict__
        own[str(code)] = {k: given[k] for k in ("households", "residents", "covered")
                          if given.get(k) is not None}
    for code, names in workers.items():
        own.setdefault(str(code), {})["workers"] = len(names)
    total: dict[str, dict[str, float]] = {c: dict(own.get(c, {})) for c in codes}
    for c in sorted(codes, key=lambda x: -depth[x]):  # children before parents
        p = parent.get(c)
        if p is None or p not in total:
            continue
        for k, amount in total[c].items():
            if k not in own.get(p, {}):
                total[p][k] = total[p].get(k, 0) + amount
    out: dict[str, dict[str, Any]] = {}
    for c in codes:
        t = total[c]
        f: dict[str, Any] = {}
        if "households" in t:
            f["h"] = int(t["households"])
        if "residents" in t:
            f["r"] = int(t["residents"])
        if "workers" in t:
            f["w"] = int(t["workers"])
        if t.get("workers") and "households" in t:
            f["k"] = round(t["households"] / t["workers"], 1)
        if t.get("households") and "covered" in t:
            f["v"] = round(t["covered"] / t["households"], 4)
        if show_workers and c in workers:
            f["p"] = [str(n) for n in workers[c]]
        out[c] = f
    return out
