"""Maps from the store: gather a release's units, counts, workers and findings, and hand them to
the folium builders in ``maps/``. Used by the API (``/maps/…``) and the CLI (``wangge map``).

Who may see what is the caller's decision: ``show_workers`` puts workers' names (personal
data) on the page and is only passed True for entitled roles, after auditing the read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import folium
import geopandas as gpd
import numpy as np

from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.levels import Level
from wangge.maps.base import render_html
from wangge.maps.overview import overview
from wangge.maps.remote import REMOTE_ABOVE, Remote
from wangge.maps.unit import unit
from wangge.maps.validation import validation
from wangge.store import Store

MAX_UNIT_HOUSEHOLDS = 50_000


@dataclass(frozen=True)
class MapOptions:
    """How a page is drawn. ``link`` is the drill-down link of a unit, ``{c}`` standing for its
    code. ``tile_url`` (served pages only) is where large levels are loaded from in tiles, with
    ``{release}``, ``{kind}``, ``{level}``, ``{z}``, ``{x}`` and ``{y}`` to fill in; without it
    (a written file) every level is inlined."""

    lang: str = "zh"
    tiles: str = "auto"
    tianditu_key: str | None = None
    assets: str | None = None       # base URL of local Leaflet files; None: public CDN
    link: str | None = None
    tile_url: str | None = None
    inline_units: int = REMOTE_ABOVE

    def link_to(self) -> Callable[[str], str] | None:
        template = self.link
        return None if template is None else (lambda code: template.replace("{c}", code))

    def remote(self, release_id: int, kind: str) -> Remote | None:
        if self.tile_url is None:
            return None
        url = self.tile_url.replace("{release}", str(release_id)).replace("{kind}", kind)
        return Remote(url, lang=self.lang, link=self.link, above=self.inline_units)


def page_options(settings: Any, assets: str | None, lang: str = "zh",
                 tiles: str | None = None) -> MapOptions:
    """How the service draws its pages: ``tiles`` (default: the settings'), links and tiles
    under ``/maps``, Leaflet from ``assets`` (None: the public CDN)."""
    chosen = tiles or settings.map_tiles
    query = urlencode({"lang": lang, "tiles": chosen})
    return MapOptions(lang=lang, tiles=chosen,
                      tianditu_key=settings.tianditu_key.get_secret_value() or None,
                      assets=assets, link=f"/maps/units/{{c}}?{query}",
                      tile_url="/maps/tiles/{release}/{kind}/{level}/{z}/{x}/{y}.json?"
                               + urlencode({"tiles": chosen}),
                      inline_units=settings.map_inline_units)


def overview_inputs(store: Store, release_id: int, show_workers: bool, *,
                    units: gpd.GeoDataFrame | None = None
                    ) -> tuple[gpd.GeoDataFrame, dict[str, dict[str, int]], dict[str, list[str]]]:
    """The units of a release, their household counts and their full-time workers (ids, or
    names when ``show_workers``): what the overview shades and shows."""
    units = store.units(release_id) if units is None else units
    counts = {}
    if release_id in store.assigned_releases():
        table = store.unit_counts(release_id)
        counts = {r.code: {"households": int(r.households), "residents": int(r.residents)}
                  for r in table.itertuples(index=False)}
    roster = store.workers()
    full = roster[roster["full_time"]]
    workers: dict[str, list[str]] = {}
    if show_workers:
        for grid in sorted(set(full["grid_code"])):
            workers[grid] = [c["name"] or c["worker_id"] for c in store.worker_contacts(grid)
                             if c["full_time"]]
    else:
        for row in full.itertuples(index=False):
            workers.setdefault(row.grid_code, []).append(row.worker_id)
    return units, counts, workers


def overview_map(store: Store, release_id: int, options: MapOptions, *, shade: str = "households",
                 level: str = "grid", show_workers: bool = False) -> folium.Map:
    units, counts, workers = overview_inputs(store, release_id, show_workers)
    return overview(units, counts, workers, shade=shade, level=level, lang=options.lang,
                    tiles=options.tiles, tianditu_key=options.tianditu_key,
                    show_workers=show_workers, link=options.link_to(), assets=options.assets,
                    remote=options.remote(release_id, "overview"))


def unit_map(store: Store, release_id: int, code: str, options: MapOptions) -> folium.Map:
    row = store.unit(release_id, code)
    children = store.units(release_id, parent_code=code)
    households = None
    if release_id in store.assigned_releases():
        found = store.households_of(release_id, code, Level(row["level"].iloc[0]),
                                    limit=MAX_UNIT_HOUSEHOLDS)
        xy = found[["lon", "lat"]].to_numpy(dtype=float)
        households = xy[np.isfinite(xy).all(axis=1)]
    return unit(row, children if len(children) else None, households, lang=options.lang,
                tiles=options.tiles, tianditu_key=options.tianditu_key, link=options.link_to(),
                assets=options.assets)


def compare_map(store: Store, first: int, second: int, options: MapOptions,
                level: str = "grid") -> folium.Map:
    """Release ``second`` drawn over release ``first``, changed units filled."""
    from wangge.compare import changed_codes
    from wangge.maps.compare import compare

    before, after = store.units(first), store.units(second)
    assigned = set(store.assigned_releases())

    def counts(release_id: int) -> dict[str, int]:
        if release_id not in assigned:
            return {}
        table = store.unit_counts(release_id)
        return dict(zip(table["code"].astype(str), table["households"].astype(int), strict=True))

    return compare(before, after, level=level, changed=changed_codes(before, after),
                   households_before=counts(first), households_after=counts(second),
                   lang=options.lang, tiles=options.tiles, tianditu_key=options.tianditu_key,
                   assets=options.assets, remote_before=options.remote(first, "overview"),
                   remote_after=options.remote(second, "overview"))


def validation_map(store: Store, release_id: int, options: MapOptions,
                   config: ValidationConfig) -> folium.Map:
    units = store.units(release_id)
    report = validate(units, config)
    return validation(units, report, lang=options.lang, tiles=options.tiles,
                      tianditu_key=options.tianditu_key, assets=options.assets,
                      remote=options.remote(release_id, "plain"))


def coverage_map(store: Store, release_id: int, options: MapOptions, settings: Any, *,
                 cache: Any, suggest_k: int = 0) -> folium.Map:
    """Sites, their catchments per threshold, uncovered households and areas, boundary gaps,
    and ``suggest_k`` suggested new sites."""
    from wangge.coverage import suggest
    from wangge.maps.coverage import draw

    cov = cache.get(store, release_id, settings)
    suggested = None
    if suggest_k:
        suggested = suggest(cov, k=suggest_k, minutes=max(cov.catchments.thresholds_min),
                            settings=settings)
    units = cov.units[cov.units["level"].isin(["street", "community", "grid"])]
    # Grids shaded by the share of their households within each threshold (CoverageStats).
    return draw(units, cov.sites, coverage_drawing(store, release_id, cov, settings), suggested,
                unit_stats=cov.stats.table, shade_level="grid", lang=options.lang,
                tiles=options.tiles, tianditu_key=options.tianditu_key, assets=options.assets,
                remote=options.remote(release_id, "coverage"))


class _PerCoverage:
    """Values derived from the latest coverage seen (the one :class:`CoverageCache` keeps), at
    most ``size`` of them, least recently used dropped first; thread-safe. A newer coverage
    replaces them all: what was drawn from an old coverage must not keep it alive (a city's
    is over a gigabyte)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cov: Any = None
        self._kept: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, cov: Any, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if self._cov is cov and key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        value = make()
        with self._lock:
            if self._cov is not cov:
                self._cov, self._kept = cov, OrderedDict()
            self._kept[key] = value
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value


_DRAWINGS = _PerCoverage(1)
_PAGES = _PerCoverage(8)


def coverage_drawing(store: Store, release_id: int, cov: Any, settings: Any) -> Any:
    """The merged outlines, uncovered households and ground, and gaps of a coverage
    (:func:`wangge.maps.coverage.prepare`), made once per coverage and kept with it: the
    coverage page and its tiles draw from the same one. The last two coverages are kept."""
    from wangge.coverage import gaps, uncovered
    from wangge.maps.coverage import prepare

    def make() -> Any:
        people, areas = uncovered(cov)
        return prepare(cov.catchments.covered(), people[["lon", "lat"]].to_numpy(dtype=float),
                       areas, gaps(store, release_id, settings))

    return _DRAWINGS.get(cov, (), make)


def coverage_html(store: Store, release_id: int, options: MapOptions, settings: Any, *,
                  cache: Any, suggest_k: int = 0) -> str:
    """The served coverage page (:func:`coverage_map` rendered), kept per coverage, options
    and ``suggest_k``: it holds no personal data, so every role is sent the same page, and a
    city's page (half a second to draw) is drawn once until its coverage changes."""
    cov = cache.get(store, release_id, settings)
    return _PAGES.get(cov, (options, suggest_k), lambda: render_html(coverage_map(
        store, release_id, options, settings, cache=cache, suggest_k=suggest_k)))


def warm(store: Store, settings: Any, coverage_cache: Any, tile_cache: Any = None,
         assets: str | None = None) -> bool:
    """Fill the caches the map pages of the current release read: its household counts per
    unit, its coverage with the coverage map's drawing and its page (default options), and,
    with ``tile_cache``, the tiled levels of the overview and coverage pages at the zooms a
    district or a city opens at. Run in the background when a service starts
    (``warm_maps``); a failure is logged and answered False, never raised (the pages compute
    what they need when they are opened)."""
    from wangge.warmup import warmed

    def work() -> None:
        current = store.current_release()
        if current is None:
            return                 # nothing to prepare yet
        release = current.id
        if release in store.assigned_releases():
            store.unit_counts(release)
        kinds = ["overview"]
        if len(store.sites()):
            cov = coverage_cache.get(store, release, settings)
            coverage_drawing(store, release, cov, settings)
            coverage_html(store, release, page_options(settings, assets), settings,
                          cache=coverage_cache)
            kinds.append("coverage")
        if tile_cache is not None:
            _warm_tiles(store, release, kinds, settings, coverage_cache, tile_cache)

    return warmed("地图缓存", "map caches", work)


WARM_ZOOMS = (8, 9, 10, 11)  # service zooms of the first view of a district or a city


def _warm_tiles(store: Store, release_id: int, kinds: list[str], settings: Any,
                coverage_cache: Any, tile_cache: Any) -> None:
    """The tiles pages fetch at first on the default base map, at :data:`WARM_ZOOMS`: streets
    to grids where over the inline limit (micro-grids only come from zoom 12), as a viewer
    sees them and, for the overview (and the compare pages drawn over it), as a role that sees
    workers' names does; and the coverage map's circle outlines."""
    from wangge.map_tiles import level_tiles
    from wangge.maps.lod import tiles_covering
    from wangge.maps.tiles import basemap

    options = page_options(settings, None)
    bm = basemap(options.tiles, options.tianditu_key)
    sizes = store.units(release_id)["level"].astype(str).value_counts()
    levels = [lv for lv in ("street", "community", "grid") if sizes.get(lv, 0) > options.inline_units]
    circles = [f"catchment-{int(m)}" for m in settings.thresholds()]  # the coverage map's
    for kind in kinds:
        for level in levels + (circles if kind == "coverage" else []):
            for names in (False, True) if kind == "overview" else (False,):
                prepared = level_tiles(store, release_id, kind, level, bm, cache=tile_cache,
                                       coverage=coverage_cache, settings=settings,
                                       show_workers=names)
                for z in WARM_ZOOMS:
                    for x, y in tiles_covering(prepared.bounds, z):
                        prepared.tile(z, x, y)
