"""Colours, class breaks and legends shared by the maps.

Choropleths use a few classes (quantile breaks rounded to readable numbers) rather than a
continuous ramp: a grid office reads "which grids are in the top class", and a legend of five
swatches says that in Chinese without a JavaScript colour library.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import folium
import numpy as np
from branca.element import Figure, MacroElement
from folium.template import Template

# Sequential ramps, light to dark (ColorBrewer YlOrRd and a red-to-green ramp for coverage).
RAMPS: dict[str, tuple[str, ...]] = {
    "load": ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    "coverage": ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"),
}
NO_DATA = "#bdbdbd"
LEVEL_LINE: dict[str, tuple[str, float]] = {  # outline colour and weight per level
    "street": ("#08306b", 3.0), "community": ("#2171b5", 2.0), "grid": ("#4292c6", 1.2),
    "microgrid": ("#6baed6", 0.6)}
# Colours per validation rule (anything else: RULE_OTHER).
RULE_COLOURS: dict[str, str] = {
    "overlap": "#e31a1c", "gap": "#ff7f00", "invalid_geometry": "#6a3d9a",
    "outside_parent": "#1f78b4", "duplicate_code": "#b15928", "sliver": "#33a02c",
    "area_out_of_range": "#fb9a99", "no_children": "#a6cee3", "missing_parent": "#cab2d6",
    "unknown_parent": "#cab2d6", "wrong_parent_level": "#cab2d6", "code_format": "#fdbf6f",
}
RULE_OTHER = "#000000"
SITE_COLOURS = {"centre": "#c51b7d", "station": "#4d9221", "suggested": "#2166ac"}
# Catchment outlines: one hue from dark (5 min) to light (15 min), drawn as lines over the
# coverage shading so the 5/10/15-minute edges stay legible.
CATCHMENT_COLOURS = {5: "#3f007d", 10: "#6a51a3", 15: "#9e9ac8"}
CATCHMENT_DASH = {5: None, 10: "6 4", 15: "2 4"}
UNCOVERED_COLOUR = "#252525"  # dark, apart from the red-to-green coverage ramp
# Zooms between which each level's names are written on the map (labels of coarser levels win
# where they would overlap), and the zoom from which its outline has its full weight (thinner
# below, so the fine levels do not merge into a dark blob at district zoom).
LABEL_ZOOMS: dict[str, tuple[float, float]] = {
    "street": (0.0, 11.5), "community": (10.0, 14.5), "grid": (12.5, 17.0), "microgrid": (15.0, 30.0)}
FULL_WEIGHT_FROM: dict[str, float] = {"street": 0.0, "community": 11.0, "grid": 13.0,
                                      "microgrid": 15.0}


@dataclass(frozen=True)
class Classes:
    """Class breaks of a choropleth: ``edges`` has one more item than ``colours``."""

    edges: tuple[float, ...]
    colours: tuple[str, ...]
    percent: bool = False

    def colour(self, value: float | None) -> str:
        if value is None or not math.isfinite(value) or not self.colours:
            return NO_DATA
        i = int(np.searchsorted(self.edges[1:-1], value, side="right"))
        return self.colours[min(i, len(self.colours) - 1)]

    def labels(self) -> list[str]:
        def fmt(v: float) -> str:
            return f"{v * 100:.0f}%" if self.percent else f"{v:,.0f}"
        return [f"{fmt(a)} – {fmt(b)}" for a, b in zip(self.edges[:-1], self.edges[1:], strict=True)]


@dataclass(frozen=True)
class UnitStyle:
    """How a layer of units is drawn, as data: Leaflet path options, a fill colour taken from a
    property by class breaks, and options that apply when a flag property is set.

    The same object styles inline layers (folium calls it per feature, in Python) and layers
    loaded in tiles (:meth:`spec` goes to the page, where ``wg.style`` does the same in the
    browser), so a level looks the same however it reaches the page.
    """

    base: tuple[tuple[str, object], ...]
    fill_key: str | None = None
    classes: Classes | None = None
    flag_key: str | None = None
    flagged: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, base: dict[str, object], *, fill_key: str | None = None,
           classes: Classes | None = None, flag_key: str | None = None,
           flagged: dict[str, object] | None = None) -> UnitStyle:
        return cls(tuple(base.items()), fill_key, classes, flag_key, tuple((flagged or {}).items()))

    def __call__(self, feature: dict) -> dict:
        props = feature.get("properties") or {}
        out = dict(self.base)
        if self.fill_key is not None and self.classes is not None:
            out["fillColor"] = self.classes.colour(props.get(self.fill_key))
        if self.flag_key is not None and props.get(self.flag_key):
            out.update(dict(self.flagged))
        return out

    def spec(self) -> dict:
        """What ``wg.style`` in the page needs (JSON)."""
        out: dict = {"base": dict(self.base)}
        if self.fill_key is not None and self.classes is not None:
            out["fill"] = {"key": self.fill_key, "edges": list(self.classes.edges),
                           "colours": list(self.classes.colours), "none": NO_DATA}
        if self.flag_key is not None:
            out["flag"] = {"key": self.flag_key, "style": dict(self.flagged)}
        return out


def classify(values: Sequence[float | None], ramp: str = "load", *, percent: bool = False,
             k: int = 5) -> Classes:
    """Quantile classes of ``values`` (None/NaN ignored), fewer when values repeat.

    Coverage shares (``percent``) use fixed breaks 0–20–40–60–80–100 %, comparable between
    districts; counts use quantiles rounded to two significant figures.
    """
    colours = RAMPS[ramp]
    if percent:
        return Classes((0.0, 0.2, 0.4, 0.6, 0.8, 1.0), colours, percent=True)
    arr = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return Classes((), ())
    qs = np.quantile(arr, np.linspace(0, 1, k + 1))
    inner = sorted({_round2(q) for q in qs[1:-1]} - {_round2(qs[0])})
    edges = (float(np.floor(qs[0])), *[e for e in inner if qs[0] < e < qs[-1]], float(np.ceil(qs[-1])))
    if len(edges) < 2 or edges[-1] <= edges[0]:
        edges = (edges[0], edges[0] + 1)
    n = len(edges) - 1
    picked = tuple(colours[round(i * (len(colours) - 1) / max(n - 1, 1))] for i in range(n))
    return Classes(edges, picked)


def _round2(x: float) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    digits = 1 - int(math.floor(math.log10(abs(x))))
    return float(round(x, digits))


class Legend(MacroElement):
    """A legend box in a corner of the map: a title and coloured swatches with their labels.

    ``items`` are (colour, label, shape) with shape ``"box"``, ``"line"`` or ``"dot"``.
    Texts are escaped here; the box is an ordinary Leaflet control, so no extra library.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "wg-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, title: str, items: Sequence[tuple[str, str, str]],
                 position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.position = position
        rows = "".join(
            f'<div class="wg-row"><i class="wg-{shape}" style="background:{html.escape(colour)};'
            f'border-color:{html.escape(colour)}"></i>{html.escape(label)}</div>'
            for colour, label, shape in items)
        self.html = f'<div class="wg-title">{html.escape(title)}</div>{rows}'


class Title(MacroElement):
    """A title box at the top of the map: a heading and an optional second line (escaped)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var title = L.control({position: "topleft"});
            title.onAdd = function () {
                var div = L.DomUtil.create("div", "wg-map-title");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            title.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, heading: str, detail: str = "") -> None:
        super().__init__()
        self._name = "Title"
        self.html = f'<div class="wg-heading">{html.escape(heading)}</div>' + (
            f'<div class="wg-detail">{html.escape(detail)}</div>' if detail else "")


def classes_legend(title: str, classes: Classes, no_data: str) -> Legend:
    items = [(c, label, "box") for c, label in zip(classes.colours, classes.labels(), strict=True)]
    return Legend(title, [*items, (NO_DATA, no_data, "box")])


CSS = """
.wg-legend { background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei",
  "PingFang SC", sans-serif; max-width: 240px; }
.wg-legend .wg-title { font-weight: bold; margin-bottom: 2px; }
.wg-legend i { display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: -1px; opacity: .85; border: 1px solid; box-sizing: border-box; }
.wg-legend i.wg-line { height: 0; border-width: 2px 0 0 0; background: none !important; }
.wg-legend i.wg-dot { width: 10px; height: 10px; border-radius: 50%; }
.wg-t th { text-align: left; padding-right: 8px; font-weight: normal; color: #555;
  white-space: nowrap; }
.wg-t td { font-weight: bold; }
.wg-h { font-weight: bold; font-size: 13px; margin-bottom: 4px; }
.wg-cluster div { width: 100%; height: 100%; border-radius: 50%; color: #fff; opacity: .85;
  display: flex; align-items: center; justify-content: center; font: bold 11px sans-serif;
  box-shadow: 0 0 0 4px rgba(255,255,255,.5); }
.wg-map-title { background: rgba(255,255,255,.92); padding: 4px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 420px; }
.wg-map-title .wg-heading { font-weight: bold; font-size: 16px; }
.wg-map-title .wg-detail { font-size: 12px; color: #444; }
.wg-label { pointer-events: none; }
.wg-note { background: rgba(255,255,255,.92); padding: 4px 8px; border-radius: 4px;
  font-size: 13px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.wg-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font-size: 12px; color: #222; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
.wg-label-street span { font-size: 15px; font-weight: bold; color: #08306b; }
.wg-label-community span { font-size: 13px; font-weight: bold; color: #08519c; }
.wg-label-microgrid span { font-size: 11px; color: #444; }
.wg-shares { background: rgba(255,255,255,.92); padding: 4px 8px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; }
.wg-shares label { margin-right: 6px; cursor: pointer; }
.leaflet-container { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC",
  sans-serif; }
"""


def add_css(m: folium.Map) -> None:
    cast(Figure, m.get_root()).header.add_child(folium.Element(f"<style>{CSS}</style>"),
                                                name="wg_css")
