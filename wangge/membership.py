"""Membership: which street, community, grid and micro-grid a point is in, from memory.

A :class:`MembershipIndex` holds one release's
:class:`wangge.geo.index.hierarchy.HierarchyIndex`, every unit's name and level, and the grid
workers (ids only; contacts stay in the store). It is immutable:
a :class:`MembershipService` builds a new one beside the old and swaps one reference when
another release becomes current, so a request, which takes the reference once, is answered
from one release only. Each service process polls the store's current release id (one small
query every ``poll_s`` seconds), so every worker of a multi-process deployment follows, a
release scheduled for a day included: the first poll of that China day switches to it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wangge.geo.errors import NotFound
from wangge.geo.index.hierarchy import STATUSES, HierarchyIndex
from wangge.geo.levels import ORDER
from wangge.geocode.match import MatchConfig, Matcher
from wangge.households import current_matcher
from wangge.store import ReleaseInfo, Store
from wangge.store.errors import StoreUnavailable

log = logging.getLogger("wangge.membership")

LEVELS = [lv.value for lv in ORDER]          # street, community, grid, microgrid
_CACHED_RELEASES = 3                         # indexes of past releases kept for as_of


@dataclass(frozen=True)
class MembershipIndex:
    """Everything a lookup in one release needs, built once."""

    release: ReleaseInfo
    hierarchy: HierarchyIndex = field(repr=False)
    names: dict[str, str] = field(repr=False)            # code -> name
    levels: dict[str, str] = field(repr=False)           # code -> level
    workers: dict[str, list[dict[str, Any]]] = field(repr=False)  # grid code -> [{worker_id, full_time}]
    extents: dict[str, tuple[float, float, float, float]] = field(repr=False)  # level -> bbox
    _chain: list[list[dict[str, str]]] = field(repr=False)  # finest unit index -> its chain

    @classmethod
    def load(cls, store: Store, release: ReleaseInfo) -> MembershipIndex:
        units = store.units(release.id)
        hierarchy = HierarchyIndex.build(units)
        codes = units["code"].astype(str).tolist()
        names = dict(zip(codes, units["name"].astype(str), strict=True))
        levels = dict(zip(codes, units["level"].astype(str), strict=True))
        roster = store.workers()
        workers: dict[str, list[dict[str, Any]]] = {}
        for row in roster.itertuples(index=False):
            workers.setdefault(row.grid_code, []).append(
                {"worker_id": row.worker_id, "full_time": bool(row.full_time)})
        finest = hierarchy.indexes[hierarchy.finest]
        chains = hierarchy.chains[hierarchy.finest]
        chain = []
        for i in range(len(finest.codes)):
            links = [chains[lv][i] for lv in LEVELS if lv in chains]
            chain.append([{"level": levels[c], "code": c, "name": names[c]}
                          for c in links if c is not None])
        extents = {str(lv): tuple(float(v) for v in frame.total_bounds)
                   for lv, frame in units.groupby("level")}
        return cls(release=release, hierarchy=hierarchy, names=names, levels=levels,
                   workers=workers, extents=extents, _chain=chain)

    def one(self, lon: float, lat: float) -> dict[str, Any]:
        """The answer for one point (EPSG:4490): status, chain, nearest unit if outside."""
        finest = self.hierarchy.indexes[self.hierarchy.finest]
        where = int(finest.locate(np.array([lon]), np.array([lat]))[0])
        if where >= 0:
            chain = self._chain[where]
            return {"status": "found", "chain": chain, "nearest": None}
        found = self.many(np.array([lon]), np.array([lat]))
        status = STATUSES[int(found["status"][0])]
        chain = [{"level": lv, "code": c, "name": self.names[c]}
                 for lv in LEVELS if (c := found[lv][0]) is not None]
        near = found["nearest_code"][0]
        nearest = None if near is None else {
            "code": near, "name": self.names[near], "level": self.levels[near],
            "distance_m": round(float(found["nearest_m"][0]), 2)}
        return {"status": status, "chain": chain, "nearest": nearest}

    def many(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> dict[str, NDArray[Any]]:
        """Arrays for many points: the four level codes, status, nearest code and metres."""
        return self.hierarchy.assign_arrays(lon, lat)

    def grid_workers(self, chain: list[dict[str, str]]) -> list[dict[str, Any]]:
        grid = next((link["code"] for link in chain if link["level"] == "grid"), None)
        return list(self.workers.get(grid, [])) if grid else []


class MembershipService:
    """The current index of one process, refreshed when the store's current release changes."""

    def __init__(self, store: Store, *, poll_s: float = 2.0,
                 match_config: MatchConfig | None = None) -> None:
        self._store = store
        self._poll_s = poll_s
        self._match_config = match_config
        self._current: MembershipIndex | None = None
        self._matcher: Matcher | None = None
        self._gazetteer_id: int | None = None
        self.on_refresh: list[Any] = []        # callables run after every poll (e.g. key cache)
        self._watched: tuple[int | None, str | None] = (None, None)
        self._past: OrderedDict[int, MembershipIndex] = OrderedDict()
        self._lock = threading.Lock()          # one build at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- reading ------------------------------------------------------------------------
    def current(self) -> MembershipIndex:
        index = self._current
        if index is None:
            raise NotFound("还没有当前版本，无法查询所属网格。",
                           "There is no current release to look memberships up in.")
        return index

    def matcher(self) -> Matcher:
        matcher = self._matcher
        if matcher is None:
            raise NotFound("还没有地址库，无法按地址查询；请先导入地址库。",
                           "There is no gazetteer to match addresses against; import one first.")
        return matcher

    def as_of(self, day: date) -> MembershipIndex:
        """The index of the release in force on ``day`` (built on first use): a past day's, or
        a future day's, the release scheduled by then; NotFound saying why if there is none."""
        release = self._store.release_in_force(day, as_of=day.isoformat())
        current = self._current
        if current is not None and current.release.id == release.id:
            return current
        with self._lock:
            index = self._past.get(release.id)
            if index is None:
                index = MembershipIndex.load(self._store, release)
                self._past[release.id] = index
                while len(self._past) > _CACHED_RELEASES:
                    self._past.popitem(last=False)
            self._past.move_to_end(release.id)
            return index

    # ---- refreshing ---------------------------------------------------------------------
    def refresh(self) -> bool:
        """Rebuild if the current release or the roster changed; True if it swapped."""
        watched = (self._store.current_release_id(), self._store.workers_version())
        if watched == self._watched:
            return False
        with self._lock:
            release = self._store.release(watched[0]) if watched[0] is not None else None
            index = MembershipIndex.load(self._store, release) if release else None
            self._current = index           # one reference swap: requests see old or new
            self._watched = watched
        log.info("membership index now on release %s", watched[0])
        return True

    def refresh_matcher(self) -> None:
        """Rebuild the address matcher if another gazetteer became current."""
        try:
            gazetteer_id: int | None = self._store.gazetteer_info().id
        except NotFound:
            gazetteer_id = None
        if gazetteer_id != self._gazetteer_id:
            self._matcher = current_matcher(self._store, self._match_config) \
                if gazetteer_id is not None else None
            self._gazetteer_id = gazetteer_id

    def start(self) -> None:
        """Load now, then poll in a daemon thread until :meth:`stop`."""
        self._poll_once()
        self._thread = threading.Thread(target=self._poll, name="membership-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll(self) -> None:
        """Poll until stopped. Nothing ends the loop: while the store is unavailable the last
        index keeps serving, the outage is logged once, and polling resumes where it was."""
        failing: str | None = None           # what the last failed poll said, logged once
        while not self._stop.wait(self._poll_s):
            try:
                self._poll_once()
            except StoreUnavailable as exc:
                if failing is None:
                    log.warning("store unavailable (%s); still serving release %s, retrying "
                                "every %s s", exc.message_en, self._watched[0], self._poll_s)
                failing = "unavailable"
            except Exception as exc:  # a bug or bad data: loud, but once while it repeats
                if failing != repr(exc):
                    log.exception("membership refresh failed; still serving release %s",
                                  self._watched[0])
                failing = repr(exc)
            else:
                if failing is not None:
                    log.warning("membership refresh works again; serving release %s",
                                self._watched[0])
                failing = None

    def _poll_once(self) -> None:
        self.refresh()
        self.refresh_matcher()
        for hook in self.on_refresh:
            hook()
