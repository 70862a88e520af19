"""The tiles of large map levels, from the store: what ``/maps/tiles/…`` serves.

A page drawn at city scale inlines its small levels and names a tile URL for the large ones
(:mod:`wangge.maps.remote`); the browser then asks for the tiles in view. Each tile carries the
same properties the page would have inlined, for the page that asked (``kind``):

- ``plain``: code, name and level (validation map);
- ``overview``: the overview's figures per unit (households, residents, grid workers, per
  worker, coverage; workers' names only for roles entitled to them);
- ``coverage``: each unit's households and shares within 5/10/15 minutes.

A service process keeps the prepared levels (geometry shifted for the base map and simplified
per zoom on first use) while what they show is current: a release's units never change, and
the figures are keyed by the store's revision counters (households and workers; for coverage
also sites and networks), so a level is prepared again as soon as any process writes to what
it shows, and replaces the one it was prepared from. A page's burst of requests for a level
not yet prepared prepares it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from wangge.geo.errors import InputError, NotFound
from wangge.maps.lod import LevelTiles
from wangge.maps.tiles import Basemap, display_geoms
from wangge.maps.units import level_name, tolerance, unit_props
from wangge.store import Store

KINDS = ("plain", "overview", "coverage")
LEVELS = ("street", "community", "grid", "microgrid")
MAX_LEVELS = 24  # prepared levels kept per process (each is one level of one release)


class TileCache:
    """Prepared levels, one per key (which level of which release, for which page and role),
    least recently used dropped first. Each is kept with the revision of what it shows (the
    store's counters it depends on): asked for with another revision, it is prepared again and
    replaces the old one, which no request asks for any more. A level being prepared is
    prepared once: other requests for it wait for that and take its result."""

    def __init__(self, max_levels: int = MAX_LEVELS) -> None:
        self.max_levels = max_levels
        self._levels: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], LevelTiles]] = \
            OrderedDict()
        self._building: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def _get(self, key: tuple[Any, ...], revision: tuple[Any, ...]) -> LevelTiles | None:
        hit = self._levels.get(key)
        if hit is None or hit[0] != revision:
            return None
        self._levels.move_to_end(key)
        return hit[1]

    def level(self, key: tuple[Any, ...], build: Callable[[], LevelTiles],
              revision: tuple[Any, ...] = ()) -> LevelTiles:
        with self._lock:
            hit = self._get(key, revision)
            if hit is not None:
                return hit
            building = self._building.setdefault((key, revision), threading.Lock())
        with building:  # other levels are served meanwhile
            with self._lock:
                hit = self._get(key, revision)
            if hit is not None:
                return hit
            try:
                built = build()
            finally:
                with self._lock:
                    self._building.pop((key, revision), None)
            with self._lock:
                kept = self._levels.get(key)
                # A request that read the counters just before a write may finish after the
                # level for that write was stored: it is answered, but does not replace it.
                if kept is None or not _newer(kept[0], revision):
                    self._levels[key] = (revision, built)
                    self._levels.move_to_end(key)
                while len(self._levels) > self.max_levels:
                    self._levels.popitem(last=False)
        return built

    def levels(self) -> dict[tuple[Any, ...], LevelTiles]:
        """The levels kept now, by key."""
        with self._lock:
            return {key: tiles for key, (_, tiles) in self._levels.items()}


def _newer(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether revision ``a`` comes after ``b``: the store's counters only go up."""
    if a == b or len(a) != len(b):
        return False
    try:
        return all(x >= y for x, y in zip(a, b, strict=True))
    except TypeError:       # not comparable (None for a counter never written): not newer
        return False


def level_tiles(store: Store, release_id: int, kind: str, level: str, bm: Basemap, *,
                cache: TileCache, coverage: Any = None, settings: Any = None,
                show_workers: bool = False) -> LevelTiles:
    """The prepared units of ``level`` in release ``release_id`` for a page of ``kind``."""
    if kind not in KINDS:
        raise InputError(f"未知的图层类型“{kind}”，可选：{'、'.join(KINDS)}。",
                         f"Unknown layer kind {kind!r}; choose one of {', '.join(KINDS)}.",
                         kind=kind)
    revisions = store.revisions() if kind != "plain" else {}
    if kind == "coverage":
        cov = coverage.get(store, release_id, settings)  # as current as the revisions read
        return cache.level((release_id, kind, level, bm.offset),
                           lambda: _coverage_level(store, release_id, cov, settings, level, bm),
                           tuple(revisions.items()))
    shown = (revisions.get("households"), revisions.get("workers"))
    plain = cache.level((release_id, kind, level, bm.offset, False),
                        lambda: _store_level(store, release_id, kind, level, bm), shown)
    if not show_workers:
        return plain
    # Workers' names for a role entitled to them: the same prepared shapes, other properties.
    return cache.level((release_id, kind, level, bm.offset, True),
                       lambda: _store_level(store, release_id, kind, level, bm, shapes=plain),
                       shown)


def _store_level(store: Store, release_id: int, kind: str, level: str, bm: Basemap, *,
                 shapes: LevelTiles | None = None) -> LevelTiles:
    """The units of ``level`` with what a page of ``kind`` shows of them; with ``shapes`` (the
    same level prepared for a viewer), those shapes with workers' names among the figures."""
    from wangge.map_pages import overview_inputs
    from wangge.maps.overview import unit_figures

    units = store.units(release_id)
    rows = units[units["level"].astype(str) == level]
    if not len(rows):
        raise NotFound(f"版本 {release_id} 没有{level_name(level, 'zh')}。",
                       f"Release {release_id} has no units of level {level}.",
                       release_id=release_id, level=level)
    figures = None
    show_workers = shapes is not None
    if kind == "overview":
        _, counts, workers = overview_inputs(store, release_id, show_workers, units=units)
        figures = unit_figures(units, counts, workers, show_workers)
    props = unit_props(rows, figures)
    if shapes is not None:
        return shapes.with_properties(dict(zip(rows["code"].astype(str), props, strict=True)))
    return _prepared(rows, props, level, bm)


def _coverage_level(store: Store, release_id: int, cov: Any, settings: Any, layer: str,
                    bm: Basemap) -> LevelTiles:
    """A unit level with its shares, or one of the coverage map's area layers:
    ``catchment-<minutes>`` (a circle's outline, as lines cut at tile edges) or ``ground``
    (uncovered ground near households)."""
    from wangge.map_pages import coverage_drawing
    from wangge.maps.coverage import CATCHMENT_TOLERANCE_M, shares

    if layer in LEVELS:
        units = cov.units
        rows = units[units["level"].astype(str) == layer]
        figures = shares(rows, cov.stats.table, sorted({int(t) for t in cov.catchments.thresholds_min}))
        return _prepared(rows, unit_props(rows, figures), layer, bm)
    drawing = coverage_drawing(store, release_id, cov, settings)
    if layer == "ground":
        geoms, tolerance_m, clip = drawing.ground, 5.0, False
    elif layer.startswith("catchment-") and layer[10:].isdigit() \
            and int(layer[10:]) in drawing.thresholds:
        geoms, tolerance_m, clip = drawing.outline_lines(int(layer[10:])), CATCHMENT_TOLERANCE_M, True
    else:
        raise NotFound(f"覆盖地图没有图层“{layer}”。", f"The coverage map has no layer {layer!r}.",
                       layer=layer)
    ids = [str(i) for i in range(len(geoms))]
    return LevelTiles(display_geoms(geoms, bm), [{} for _ in ids], ids, tolerance_m, clip=clip)


def _prepared(rows: Any, props: list[dict[str, Any]], level: str, bm: Basemap) -> LevelTiles:
    return LevelTiles(display_geoms(rows.geometry.values, bm), props,
                      list(rows["code"].astype(str)), tolerance(level))
