"""Match parsed addresses against the gazetteer, with a score and a reason a person can read.

Candidates for an address come from three places: the compound (or village) name looked up
exactly, the names close to it (rapidfuzz, and the known one-character neighbours of an exact
name, since a typo of one compound's name can be another's exact name), and the door number
(road + number). Each candidate is then weighed against everything else the address says:

=========================  ==========================================================  ======
evidence                   effect on the candidate's score                             weight
=========================  ==========================================================  ======
name written exactly       starting score                                              0.97
… but one character away   starting score (another compound's typo could read so)      0.85
  from another name
name close (similarity s)  starting score 0.9 × s (one typo in four characters: 0.68)
no name, door found        starting score                                              0.90
door number agrees         remaining doubt (1 − score) × 0.2                           0.2
road agrees (no door)      doubt × 0.6                                                 0.6
street/town agrees         doubt × 0.7                                                 0.7
building or house found,   doubt × 0.7                                                 0.7
  unit and floor possible
door belongs to another    score × 0.5                                                 0.5
road differs               score × 0.6                                                 0.6
street/town differs        score × 0.5                                                 0.5
district or city differs   score × 0.4                                                 0.4
road unknown               score × 0.9                                                 0.9
name differs from door's   score × 0.4                                                 0.4
building not found         score × 0.85 (the match stays at compound level)            0.85
unit or floor impossible   score × 0.6                                                 0.6
another candidate whose    score × 0.7                                                 0.7
  odds are within a factor
  exp(0.5) of the best's
=========================  ==========================================================  ======

The best candidate gives the result. Its level: ``exact_building`` (building found, name written
exactly), ``fuzzy_building`` (building found, name close or only the door written),
``compound`` (compound found by name, building not), ``road_number`` (door found, no name, no
building) or ``none``. A result is *trusted* when its score reaches ``MatchConfig.trusted_score``
and no flag is raised; everything else goes to review. The weights were set on the demo register
(``benchmarks/geocode_demo.py`` prints the figures) so that no wrong building scores as trusted;
the application's threshold (``WANGGE_GEOCODE_TRUSTED_SCORE``), 0.8, was chosen from precision
by score band (``benchmarks/address_corpus.py
--calibrate``): every wrong building scores below 0.6, every band from 0.6 up is 100 % right, and
0.8 keeps two bands of margin while sending a tenth as many right matches to review as 0.9 did
(the default of ``MatchConfig`` too).
Whatever its score, a match whose written building is not found, or whose unit or floor the
building cannot have, is not trusted.

Given coordinates are cross-checked (:func:`cross_check`): farther than
``MatchConfig.far_threshold_m`` from the matched point raises ``coordinates_far_from_address``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wangge.geo.crs import lonlat_to_storage
from wangge.geocode.gazetteer import FuzzyHit, Gazetteer, admin_key
from wangge.geocode.normalize import normalize
from wangge.geocode.parse import Head, ParsedAddress, Tail, parse_head, split_tail

__all__ = ["FAR_FLAG", "MatchConfig", "MatchLevel", "MatchResult", "Matcher", "cross_check",
           "cross_check_many", "distance_m"]

FAR_FLAG = "coordinates_far_from_address"
_EARTH_RADIUS_M = 6_371_008.8


class MatchLevel(StrEnum):
    """How precisely an address was located, best first."""

    EXACT_BUILDING = "exact_building"
    FUZZY_BUILDING = "fuzzy_building"
    COMPOUND = "compound"
    ROAD_NUMBER = "road_number"
    NONE = "none"


@dataclass(frozen=True)
class Candidate:
    """One gazetteer entry an address may mean (see :meth:`Matcher.candidates`): the compound's
    and building's positions in the gazetteer, how the name was found, the evidence weighed,
    and the parsed halves of the address."""

    score: float
    compound: int
    building: int | None
    how: str
    evidence: tuple[_Ev, ...]
    head: Head
    tail: Tail


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds of the matcher; the application's settings build one."""

    trusted_score: float = 0.8       # at or above, and without a flag: trusted; below: review
    far_threshold_m: float = 150.0   # given coordinates farther than this from the match: flagged
    fuzzy_cutoff: float = 60.0       # rapidfuzz ratio (0..100) for a name to be a candidate
    max_candidates: int = 40         # fuzzy candidates kept per name
    # A runner-up whose odds are within this factor of the best's makes the match ambiguous
    # (exp(0.5) ≈ 1.65: a best 0.93 against a runner-up at 0.89 or more).
    ambiguity_log_odds: float = 0.5


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The result for one address; ``entry_id`` is the building id, else the compound id."""

    address: str
    level: MatchLevel
    score: float
    entry_id: str | None
    building_id: str | None
    compound_id: str | None
    lon: float | None
    lat: float | None
    reason_zh: str
    reason_en: str
    flag: str | None = None
    trusted: bool = False
    # Which parsed components the match weighed, and which it read but did not use.
    components: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


# --- evidence ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)
class _Ev:
    """One piece of evidence for a candidate: its text and its effect on the score.

    Compared and hashed by identity: evidence objects are cached and shared.
    """

    zh: str
    en: str
    doubt: float = 1.0    # < 1: corroborates (multiplies the remaining doubt)
    factor: float = 1.0   # < 1: contradicts (multiplies the score)


_EXACT, _EXACT_NEAR, _FUZZY, _DOOR = "exact", "exact_near", "fuzzy", "door"
_START = {_EXACT: 0.97, _EXACT_NEAR: 0.85, _DOOR: 0.90}
_FUZZY_START = 0.9
_DOOR_AGREES, _ROAD_AGREES, _STREET_AGREES, _FOUND = 0.2, 0.6, 0.7, 0.7
_DOOR_OTHER, _ROAD_DIFFERS, _STREET_DIFFERS, _ADMIN_DIFFERS = 0.5, 0.6, 0.5, 0.4
_ROAD_UNKNOWN, _NAME_DIFFERS, _BUILDING_MISSING, _FLAT_IMPOSSIBLE, _AMBIGUOUS = 0.9, 0.4, 0.85, 0.6, 0.7


@dataclass(frozen=True, slots=True, eq=False)
class _Candidate:
    """A compound (or village group) an address head may mean, with the head's evidence.

    ``doubt`` and ``factor`` fold the head's evidence; ``upper`` is the best score the candidate
    can reach once its building is found (resolutions keep candidates sorted by it).
    """

    compound: int
    how: str                      # _EXACT, _EXACT_NEAR, _FUZZY or _DOOR
    start: float
    evidence: tuple[_Ev, ...]
    doubt: float = 1.0
    factor: float = 1.0
    upper: float = 1.0

    @classmethod
    def make(cls, compound: int, how: str, start: float,
             evidence: tuple[_Ev, ...]) -> _Candidate:
        doubt, factor = 1.0 - start, 1.0
        for ev in evidence:
            doubt *= ev.doubt
            factor *= ev.factor
        return cls(compound, how, start, evidence, doubt, factor, (1.0 - doubt * _FOUND) * factor)


class _Row(NamedTuple):
    """A match result without its address (shared by the addresses that resolve alike)."""

    level: MatchLevel
    score: float
    entry_id: str | None
    building_id: str | None
    compound_id: str | None
    lon: float | None
    lat: float | None
    reason_zh: str
    reason_en: str
    trusted: bool


@dataclass(frozen=True, slots=True, eq=False)
class _Resolution:
    """Everything the head of an address says: candidates, or why there are none."""

    candidates: tuple[_Candidate, ...]
    failure: tuple[str, str] | None = None
    rural: bool = False

    @property
    def none_row(self) -> _Row:
        zh, en = self.failure or ("无法定位", "not located")
        return _Row(MatchLevel.NONE, 0.0, None, None, None, None, None, f"未能定位：{zh}。",
                    f"Not located: {en}.", False)


@dataclass
class _Caches:
    resolved: dict[tuple[Head, str, str | None], _Resolution] = field(default_factory=dict)
    fuzzy: dict[tuple[str, str], tuple[FuzzyHit, ...]] = field(default_factory=dict)
    building_ev: dict[tuple[int, bool], _Ev] = field(default_factory=dict)
    rows: dict[tuple[object, ...], _Row] = field(default_factory=dict)
    admin_ev: dict[tuple[str | None, ...], tuple[_Ev, ...]] = field(default_factory=dict)


_CACHE_LIMIT = 500_000


class Matcher:
    """Matches addresses against one :class:`Gazetteer`; keeps caches of heads it has seen."""

    def __init__(self, gazetteer: Gazetteer, config: MatchConfig | None = None) -> None:
        self.gazetteer = gazetteer
        self.config = config or MatchConfig()
        self._caches = _Caches()

    # --- public API ---------------------------------------------------------------------------

    def match(self, address: str | ParsedAddress) -> MatchResult:
        """Match one address (text, or already parsed)."""
        if isinstance(address, ParsedAddress):
            head, tail = _halves(address)
            text = address.normalized
        else:
            text = address
            head_text, tail = split_tail(normalize(address))
            head = parse_head(head_text)
        key = (head, tail.kind, tail.group)
        self._prefetch_fuzzy([key])
        row = self._finish(self._resolve(key), tail)
        used, ignored = _components(head, tail, row.level)
        return MatchResult(text, *row[:-1], flag=None, trusted=row.trusted, components=used,
                           ignored=ignored)

    def candidates(self, address: str, k: int = 3) -> list[Candidate]:
        """Up to ``k`` gazetteer entries ``address`` may mean, best first, each scored as
        :meth:`match` scores its best one (the same evidence and weights, before the ambiguity
        penalty the best gets when another comes close): the first is the match's own choice.
        For people choosing among them (the review worklist)."""
        head_text, tail = split_tail(normalize(address))
        head = parse_head(head_text)
        key = (head, tail.kind, tail.group)
        self._prefetch_fuzzy([key])
        scored = []
        for cand in self._resolve(key).candidates:
            j, ev = self._building_evidence(cand.compound, tail)
            score = (1.0 - cand.doubt) * cand.factor if ev is None else \
                (1.0 - cand.doubt * ev.doubt) * cand.factor * ev.factor
            evidence = cand.evidence if ev is None else (*cand.evidence, ev)
            scored.append(Candidate(round(score, 4), cand.compound, j, cand.how, evidence, head,
                                    tail))
        scored.sort(key=lambda c: (-c.score, c.compound))
        return scored[:k]

    def match_many(self, addresses: Sequence[str], *, lon: ArrayLike | None = None,
                   lat: ArrayLike | None = None,
                   crs: Sequence[str | None] | str | None = None) -> pd.DataFrame:
        """Match many addresses; one row per address, in order.

        Columns: ``address, level, score, trusted, entry_id, building_id, compound_id, lon,
        lat`` (the matched point, EPSG:4490), ``reason_zh, reason_en``, and from the given
        coordinates (``lon``, ``lat`` in ``crs``, one CRS or one per row; NaN where absent,
        converted to EPSG:4490): ``given_lon, given_lat, distance_m, flag``.
        """
        texts = [a if isinstance(a, str) else "" for a in addresses]
        halves = [split_tail(normalize(t)) for t in texts]
        keys = [(parse_head(h), tail.kind, tail.group) for h, tail in halves]
        self._prefetch_fuzzy(keys)
        resolve, finish = self._resolve, self._finish
        rows = [finish(resolve(k), tail) for k, (_, tail) in zip(keys, halves, strict=True)]
        level, score, entry, building, compound, x, y, zh, en, trusted = (
            zip(*rows, strict=True) if rows else ((),) * len(_Row._fields))
        frame = pd.DataFrame({
            "address": texts,
            "level": [lv.value for lv in level],
            "score": np.array(score, dtype=float),
            "trusted": np.array(trusted, dtype=bool),
            "entry_id": list(entry),
            "building_id": list(building),
            "compound_id": list(compound),
            "lon": np.array([np.nan if v is None else v for v in x], dtype=float),
            "lat": np.array([np.nan if v is None else v for v in y], dtype=float),
            "reason_zh": list(zh),
            "reason_en": list(en),
        })
        n = len(frame)
        given_lon = np.full(n, np.nan)
        given_lat = np.full(n, np.nan)
        if lon is not None and lat is not None:
            given_lon, given_lat = lonlat_to_storage(lon, lat, crs)
        frame["given_lon"] = given_lon
        frame["given_lat"] = given_lat
        frame["distance_m"] = distance_m(frame["lon"].to_numpy(), frame["lat"].to_numpy(),
                                         given_lon, given_lat)
        far = frame["distance_m"].to_numpy() > self.config.far_threshold_m
        frame["flag"] = _flags(far)
        if far.any():
            threshold = self.config.far_threshold_m
            frame.loc[far, "trusted"] = False
            frame.loc[far, "reason_zh"] = [
                f"需人工核对：给定坐标距匹配位置{d:.0f}米，超过{threshold:.0f}米。{r}"
                for d, r in zip(frame["distance_m"][far], frame["reason_zh"][far], strict=True)]
            frame.loc[far, "reason_en"] = [
                f"Needs review: the given coordinates are {d:.0f} m from the match, more than "
                f"{threshold:.0f} m. {r}"
                for d, r in zip(frame["distance_m"][far], frame["reason_en"][far], strict=True)]
        return frame

    # --- head: candidates ---------------------------------------------------------------------

    def _prefetch_fuzzy(self, keys: Sequence[tuple[Head, str, str | None]]) -> None:
        """Run the fuzzy search once, in bulk, for every name that is not known exactly."""
        gaz, caches = self.gazetteer, self._caches
        wanted: dict[str, set[str]] = {"compound": set(), "village": set()}
        for head, kind, _ in keys:
            name = head.name(kind)
            if name is None:
                continue
            which = "village" if kind == "rural" else "compound"
            index = gaz.by_village if which == "village" else gaz.by_name
            if name not in index and (which, name) not in caches.fuzzy:
                wanted[which].add(name)
        cutoff = self.config.fuzzy_cutoff
        for which, search in (("compound", gaz.fuzzy_compounds), ("village", gaz.fuzzy_villages)):
            names = sorted(wanted[which])
            if names:
                for name, hits in zip(names, search(names, cutoff), strict=True):
                    caches.fuzzy[(which, name)] = hits[: self.config.max_candidates]

    def _resolve(self, key: tuple[Head, str, str | None]) -> _Resolution:
        cache = self._caches.resolved
        found = cache.get(key)
        if found is None:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            head, kind, group = key
            found = self._resolve_rural(head, group) if kind == "rural" else self._resolve_urban(head)
            cache[key] = found
        return found

    def _name_hits(self, which: str, name: str) -> list[tuple[str, str, float]]:
        """(name, how, similarity) of the names ``name`` may mean: exact, its neighbours, fuzzy."""
        gaz = self.gazetteer
        index = gaz.by_village if which == "village" else gaz.by_name
        if name in index:
            near = gaz.neighbours.get(name, ())
            hits = [(name, _EXACT_NEAR if near else _EXACT, 1.0)]
            hits += [(h.name, _FUZZY, h.score) for h in near]
            return hits
        fuzzy = self._caches.fuzzy.get((which, name))
        if fuzzy is None:
            self._prefetch_fuzzy([(Head(rest=name), "rural" if which == "village" else "urban", None)])
            fuzzy = self._caches.fuzzy[(which, name)]
        return [(h.name, _FUZZY, h.score) for h in fuzzy]

    def _admin_evidence(self, head: Head, c: int) -> tuple[_Ev, ...]:
        gaz = self.gazetteer
        key = (head.street, head.district, head.city, gaz.streets[c], gaz.districts[c],
               gaz.cities[c])
        found = self._caches.admin_ev.get(key)
        if found is not None:
            return found
        out: list[_Ev] = []
        street = _admin_key(head.street)
        if street is not None and gaz.streets[c] is not None:
            if street == gaz.streets[c]:
                out.append(_Ev(f"街道/镇“{head.street}”一致", f"street/town {head.street} agrees",
                               doubt=_STREET_AGREES))
            else:
                known = gaz.street_names[c]
                out.append(_Ev(f"街道/镇“{head.street}”与该处所在的“{known}”不符",
                               f"street/town {head.street} differs from {known}",
                               factor=_STREET_DIFFERS))
        for given, key_c, known, zh, en in (
                (head.district, gaz.districts[c], gaz.district_names[c], "区县", "district"),
                (head.city, gaz.cities[c], gaz.city_names[c], "城市", "city")):
            admin = _admin_key(given)
            if admin is not None and key_c is not None and admin != key_c:
                out.append(_Ev(f"{zh}“{given}”与“{known}”不符", f"{en} {given} differs from {known}",
                               factor=_ADMIN_DIFFERS))
        self._caches.admin_ev[key] = found = tuple(out)
        return found

    def _road_evidence(self, head: Head, c: int, door: tuple[int, ...]) -> list[_Ev]:
        gaz = self.gazetteer
        road, number = head.road, head.road_number
        if road is None:
            return []
        where = f"{road}{number}号" if number else road
        if door:
            if c in door:
                return [_Ev(f"门牌“{where}”一致", f"door number {where} agrees", doubt=_DOOR_AGREES)]
            other = gaz.compound_label(door[0])
            return [_Ev(f"门牌“{where}”属于另一处“{other}”", f"door number {where} belongs to {other}",
                        factor=_DOOR_OTHER)]
        if road not in gaz.known_roads:
            return [_Ev(f"道路“{road}”不在地名库中", f"road {road} is not in the gazetteer",
                        factor=_ROAD_UNKNOWN)]
        if gaz.roads[c] is None:
            return []
        if road == gaz.roads[c]:
            return [_Ev(f"道路“{road}”一致", f"road {road} agrees", doubt=_ROAD_AGREES)]
        return [_Ev(f"道路“{road}”与该小区所在的“{gaz.roads[c]}”不符",
                    f"road {road} differs from the compound's road {gaz.roads[c]}",
                    factor=_ROAD_DIFFERS)]

    def _resolve_urban(self, head: Head) -> _Resolution:
        gaz = self.gazetteer
        door: tuple[int, ...] = ()
        if head.road is not None and head.road_number is not None:
            door = gaz.by_door.get((head.road, head.road_number), ())
        door_set = frozenset(door)
        candidates: dict[int, _Candidate] = {}
        name = head.name("urban")
        if name is not None:
            hits = self._name_hits("compound", name)
            # An exact name whose door agrees needs no look at its one-character neighbours:
            # they would all carry "door belongs to another" and cannot come close.
            settled = bool(door) and hits[0][1] != _FUZZY and \
                not door_set.isdisjoint(gaz.by_name[hits[0][0]]) if hits else False
            for hit_name, how, sim in hits:
                if how == _FUZZY and settled:
                    break
                if how == _FUZZY:
                    start = _FUZZY_START * sim
                    ev = _Ev(f"小区名“{name}”与“{hit_name}”相近（相似度{sim:.0%}）",
                             f"compound name {name} is close to {hit_name} (similarity {sim:.0%})")
                elif how == _EXACT_NEAR:
                    start = _START[how]
                    ev = _Ev(f"小区名“{name}”完全匹配，但与其他小区名仅差一字",
                             f"compound name {name} matches exactly, but is one character from "
                             "another compound's name")
                else:
                    start = _START[how]
                    ev = _Ev(f"小区名“{name}”完全匹配", f"compound name {name} matches exactly")
                for c in gaz.by_name[hit_name]:
                    candidates[c] = _Candidate.make(c, how, start, (
                        ev, *self._road_evidence(head, c, door), *self._admin_evidence(head, c)))
        for c in door:
            if c in candidates:
                continue
            where = f"{head.road}{head.road_number}号"
            found = _Ev(f"按门牌“{where}”找到“{gaz.names[c]}”", f"door number {where} is {gaz.names[c]}")
            evidence: tuple[_Ev, ...] = (found, *self._admin_evidence(head, c))
            if name is not None:
                evidence += (_Ev(f"但地址写的小区名是“{name}”", f"but the address names the compound {name}",
                                 factor=_NAME_DIFFERS),)
            candidates[c] = _Candidate.make(c, _DOOR, _START[_DOOR], evidence)
        if candidates:
            return _Resolution(_by_upper(candidates.values()))
        return _Resolution((), self._urban_failure(head))

    def _urban_failure(self, head: Head) -> tuple[str, str]:
        gaz = self.gazetteer
        parts_zh, parts_en = [], []
        name = head.name("urban")
        if name is not None:
            parts_zh.append(f"小区名“{name}”在地名库中找不到相近的名称")
            parts_en.append(f"no compound name in the gazetteer is close to {name}")
        if head.road is not None:
            where = f"{head.road}{head.road_number}号" if head.road_number else head.road
            if head.road not in gaz.known_roads:
                parts_zh.append(f"道路“{head.road}”不在地名库中")
                parts_en.append(f"road {head.road} is not in the gazetteer")
            else:
                parts_zh.append(f"门牌“{where}”在地名库中找不到")
                parts_en.append(f"door number {where} is not in the gazetteer")
        if not parts_zh:
            parts_zh.append("地址中没有可识别的小区名、村名或门牌")
            parts_en.append("the address names no compound, village or door number")
        return "；".join(parts_zh), "; ".join(parts_en)

    def _resolve_rural(self, head: Head, group: str | None) -> _Resolution:
        gaz = self.gazetteer
        name = head.name("rural")
        if name is None:
            return _Resolution((), ("地址中没有村名", "the address names no village"), rural=True)
        candidates: list[_Candidate] = []
        missing_group: list[str] = []
        for hit_name, how, sim in self._name_hits("village", name):
            c = gaz.by_village_group.get((hit_name, group or ""))
            if c is None:
                missing_group.append(hit_name)
                continue
            if how == _FUZZY:
                start = _FUZZY_START * sim
                ev = _Ev(f"村名“{name}”与“{hit_name}”相近（相似度{sim:.0%}）",
                         f"village name {name} is close to {hit_name} (similarity {sim:.0%})")
            else:
                start = _START[how]
                near = "，但与其他村名仅差一字" if how == _EXACT_NEAR else ""
                near_en = ", but is one character from another village's name" if near else ""
                ev = _Ev(f"村名“{name}”完全匹配{near}", f"village name {name} matches exactly{near_en}")
            group_ev = _Ev(f"“{hit_name}{group}组”存在", f"group {group} of {hit_name} exists")
            candidates.append(_Candidate.make(c, how, start,
                                              (ev, group_ev, *self._admin_evidence(head, c))))
        if candidates:
            return _Resolution(_by_upper(candidates), rural=True)
        if missing_group:
            return _Resolution((), (f"“{missing_group[0]}”没有第{group}组",
                                    f"{missing_group[0]} has no group {group}"), rural=True)
        return _Resolution((), (f"村名“{name}”在地名库中找不到相近的名称",
                                f"no village name in the gazetteer is close to {name}"), rural=True)

    # --- tail: building, score, result --------------------------------------------------------

    def _building_evidence(self, c: int, tail: Tail) -> tuple[int | None, _Ev | None]:
        gaz = self.gazetteer
        number = tail.house_number if tail.kind == "rural" else tail.building
        if number is None:
            return None, None
        j = gaz.by_building.get((c, number))
        if j is None:
            key_missing = (-1 - c, number)
            ev = self._caches.building_ev.get(key_missing)  # type: ignore[arg-type]
            if ev is None:
                word = f"{number}号" if tail.kind == "rural" else f"{number}栋"
                ev = _Ev(f"“{gaz.compound_label(c)}”没有“{word}”",
                         f"{gaz.compound_label(c)} has no building {word}", factor=_BUILDING_MISSING)
                self._caches.building_ev[key_missing] = ev  # type: ignore[index]
            return None, ev
        possible = True
        if tail.kind == "urban":
            units, floors = gaz.building_units[j], gaz.building_floors[j]
            if units and tail.unit is not None:
                unit = tail.unit_number
                possible = unit is None or 1 <= unit <= units
            if possible and floors and (tail.room is not None or tail.floor is not None):
                floor = tail.floor_number
                possible = floor is None or 1 <= floor <= floors
        ev = self._caches.building_ev.get((j, possible))
        if ev is None:
            label = gaz.label(j)
            if possible:
                ev = _Ev(f"“{label}”存在", f"building {label} exists", doubt=_FOUND)
            else:
                ev = _Ev(f"“{label}”存在，但没有这个单元或楼层（{gaz.building_units[j]}个单元、"
                         f"{gaz.building_floors[j]}层）",
                         f"building {label} exists but has no such unit or floor "
                         f"({gaz.building_units[j]} units, {gaz.building_floors[j]} floors)",
                         factor=_FLAT_IMPOSSIBLE)
            self._caches.building_ev[(j, possible)] = ev
        return j, ev

    def _finish(self, resolution: _Resolution, tail: Tail) -> _Row:
        """The result row of an address whose head resolved to ``resolution``."""
        if not resolution.candidates:
            return resolution.none_row
        margin = self.config.ambiguity_log_odds
        best: tuple[float, _Candidate, int | None, _Ev | None] | None = None
        second: tuple[float, _Candidate, int | None, _Ev | None] | None = None
        floor = -1.0     # candidates whose upper bound is below cannot come close to the best
        for cand in resolution.candidates:   # by decreasing upper bound
            if cand.upper < floor:
                break
            j, ev = self._building_evidence(cand.compound, tail)
            if ev is None:
                score = (1.0 - cand.doubt) * cand.factor
            else:
                score = (1.0 - cand.doubt * ev.doubt) * cand.factor * ev.factor
            entry = (score, cand, j, ev)
            if best is None or score > best[0]:
                best, second = entry, best
                floor = _expit(_logit(score) - margin)
            elif second is None or score > second[0]:
                second = entry
        assert best is not None
        score, cand, j, ev = best
        rival = second if second is not None and second[0] >= floor else None
        if rival is not None:
            score *= _AMBIGUOUS
        key = (cand, ev, j, None if rival is None else (rival[1], rival[2], rival[0]), score)
        row = self._caches.rows.get(key)
        if row is None:
            if len(self._caches.rows) > _CACHE_LIMIT:
                self._caches.rows.clear()
            row = self._caches.rows[key] = self._row(round(score, 4), cand, j, ev, rival)
        return row

    def _row(self, score: float, cand: _Candidate, j: int | None, ev: _Ev | None,
             rival: tuple[float, _Candidate, int | None, _Ev | None] | None) -> _Row:
        gaz = self.gazetteer
        c = cand.compound
        # A building written but not found, or a flat it cannot have, is never trusted, whatever
        # the score: the household would be placed on a guess.
        trusted = score >= self.config.trusted_score and (ev is None or ev.factor == 1.0)
        if j is not None:
            level = MatchLevel.EXACT_BUILDING if cand.how in (_EXACT, _EXACT_NEAR) \
                else MatchLevel.FUZZY_BUILDING
            x, y = gaz.building_xy[j]
            building_id: str | None = gaz.building_ids[j]
        else:
            level = MatchLevel.ROAD_NUMBER if cand.how == _DOOR else MatchLevel.COMPOUND
            x, y = gaz.compound_xy[c]
            building_id = None
        evidence = cand.evidence if ev is None else (*cand.evidence, ev)
        if rival is not None:
            other = gaz.compound_label(rival[1].compound)
            if rival[2] is not None:
                other += gaz.label(rival[2])
            evidence = (*evidence, _Ev(f"另一候选“{other}”得分接近（{rival[0]:.2f}）",
                                       f"another candidate, {other}, scores nearly as high "
                                       f"({rival[0]:.2f})"))
        target = gaz.compound_label(c) + ("" if j is None else gaz.label(j))
        verdict_zh, verdict_en = ("可信", "trusted") if trusted else ("需人工核对", "needs review")
        reason_zh = (f"{verdict_zh}：定位到“{target}”（{_LEVEL_ZH[level]}，得分{score:.2f}）：" +
                     "；".join(e.zh for e in evidence) + "。")
        reason_en = (f"{verdict_en}: located at {target} ({level.value}, score {score:.2f}): " +
                     "; ".join(e.en for e in evidence) + ".")
        return _Row(level, score, building_id or gaz.compound_ids[c], building_id,
                    gaz.compound_ids[c], float(x), float(y), reason_zh, reason_en, trusted)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _by_upper(candidates: Iterable[_Candidate]) -> tuple[_Candidate, ...]:
    """Candidates by decreasing upper bound, ties by compound (deterministic)."""
    return tuple(sorted(candidates, key=lambda c: (-c.upper, c.compound)))


_admin_key = lru_cache(maxsize=4096)(admin_key)

_LEVEL_ZH = {MatchLevel.EXACT_BUILDING: "楼栋精确匹配", MatchLevel.FUZZY_BUILDING: "楼栋模糊匹配",
             MatchLevel.COMPOUND: "小区级", MatchLevel.ROAD_NUMBER: "门牌级", MatchLevel.NONE: "未定位"}


def _components(head: Head, tail: Tail, level: MatchLevel) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The components a match weighed (in the order of the address) and those it did not."""
    if level == MatchLevel.NONE:
        return (), tuple(k for k in ("province", "city", "district", "street", "community")
                         if getattr(head, k) is not None)
    rural = tail.kind == "rural"
    present = {
        "city": head.city, "district": head.district, "street": head.street, "road": head.road,
        "door": head.road_number, "village" if rural else "compound": head.name(tail.kind),
        "group": tail.group if rural else None,
        "house_number" if rural else "building": tail.house_number if rural else tail.building,
        "unit": tail.unit, "floor": tail.floor if tail.floor is not None else (
            tail.room if tail.floor_number is not None else None)}
    used = tuple(k for k, v in present.items() if v is not None)
    ignored = tuple(k for k in ("province", "community") if getattr(head, k) is not None)
    ignored += tuple(f"rest:{text}" for text in head.extra)
    return used, ignored


def _halves(parsed: ParsedAddress) -> tuple[Head, Tail]:
    """The head and tail of an already parsed address."""
    rural = parsed.village is not None or parsed.group is not None
    head = Head(parsed.province, parsed.city, parsed.district, parsed.street, parsed.community,
                parsed.road, parsed.road_number, parsed.village if rural else parsed.compound)
    if rural:
        return head, Tail("rural", group=parsed.group, house_number=parsed.house_number,
                          room=parsed.room, floor=parsed.written_floor)
    if parsed.building is not None or parsed.unit is not None or parsed.room is not None:
        return head, Tail("urban", parsed.building, parsed.unit, parsed.room,
                          floor=parsed.written_floor)
    return head, Tail()


# --- coordinates ------------------------------------------------------------------------------

def distance_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike,
               lat2: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance in metres (haversine; NaN where a coordinate is missing)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(2.0 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def cross_check_many(match_lon: ArrayLike, match_lat: ArrayLike, lon: ArrayLike, lat: ArrayLike,
                     threshold_m: float = MatchConfig.far_threshold_m) -> NDArray[np.object_]:
    """``FAR_FLAG`` where the given point (EPSG:4490) is farther than ``threshold_m`` from the
    matched point, else None (also where either point is missing)."""
    return _flags(distance_m(match_lon, match_lat, lon, lat) > threshold_m)


def _flags(far: NDArray[np.bool_]) -> NDArray[np.object_]:
    out = np.full(len(far), None, dtype=object)
    out[far] = FAR_FLAG
    return out


def cross_check(match: MatchResult, lon: float | None, lat: float | None,
                threshold_m: float = MatchConfig.far_threshold_m) -> str | None:
    """The flag for one match and its given coordinates (already in EPSG:4490), or None."""
    if match.lon is None or match.lat is None or lon is None or lat is None:
        return None
    flag = cross_check_many([match.lon], [match.lat], [lon], [lat], threshold_m)[0]
    return None if flag is None else str(flag)

