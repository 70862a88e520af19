"""The gazetteer: residential compounds (小区) and village groups (村组), their buildings and houses.

It is what addresses are matched against, held in memory as plain arrays and dictionaries:

- compound names, normalised like addresses, to the compounds carrying them (exact lookup);
- village name and group number to the village group;
- road and door number (``人民中路`` + ``88``) to the compound at that door;
- compound and building number (``"3"``) to the building, with its units and floors if known;
- a fuzzy search over compound and village names with rapidfuzz (``process.cdist``), and for each
  name the other names that are close to it (a typo of one may be the exact name of the other).

Data shape (GeoDataFrames in, any CRS that :mod:`wangge.geo.crs` knows, stored in EPSG:4490):

``compounds``: ``compound_id``, ``name``, ``geometry`` (Polygon or Point) required; optional
``road``, ``road_number``, ``street``, ``district``, ``city``, ``province``, ``category``
(``"compound"`` or ``"village"``), ``village`` and ``group`` (for a village group, whose buildings
are its houses), ``kind``, ``microgrid_code``.

``buildings``: ``building_id``, ``compound_id``, ``number`` (``"3"``; a village house's number),
``geometry`` (Point) required; optional ``units``, ``floors``, ``label``, ``microgrid_code``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from wangge.geo.crs import STORAGE, check_plausible_lonlat, parse_crs, to_storage
from wangge.geo.errors import InputError
from wangge.geocode.normalize import normalize

__all__ = ["BUILDING_COLUMNS", "COMPOUND_COLUMNS", "FuzzyHit", "Gazetteer", "admin_key"]

COMPOUND_COLUMNS = ("compound_id", "name", "geometry")
BUILDING_COLUMNS = ("building_id", "compound_id", "number", "geometry")
_OPTIONAL_TEXT = ("road", "road_number", "street", "district", "city", "province", "village",
                  "group", "category")

# Two names are neighbours when one wrong, missing or extra character turns one into the other
# (和平花园 / 和平家园): a typo of one may be written exactly as the other.
NEIGHBOUR_EDITS = 1
_CHUNK = 2048


def admin_key(name: str | None) -> str | None:
    """A street/town or district name without its level word, for comparison (文峰街道 → 文峰)."""
    if not name:
        return None
    text = normalize(name)
    for suffix in ("街道办事处", "街道", "镇", "乡", "区", "县", "市", "省"):
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            return text[: -len(suffix)]
    return text


@dataclass(frozen=True, slots=True)
class FuzzyHit:
    """A compound or village name close to a query, with its similarity 0..1 (rapidfuzz ratio)."""

    name: str
    score: float


def _text(frame: pd.DataFrame, column: str) -> list[str | None]:
    if column not in frame.columns:
        return [None] * len(frame)
    out: list[str | None] = []
    for value in frame[column].tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        else:
            text = str(value).strip()
            if text.endswith(".0") and text[:-2].isdigit():  # numbers read from CSV as floats
                text = text[:-2]
            out.append(normalize(text) if text else None)
    return out


def _ints(frame: pd.DataFrame, column: str) -> NDArray[np.int64]:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=np.int64)
    values = pd.to_numeric(frame[column], errors="coerce").fillna(0)
    return values.to_numpy(dtype=np.int64)


def _storage_points(frame: gpd.GeoDataFrame, what: str) -> NDArray[np.float64]:
    if frame.crs is None:
        raise InputError(f"{what}没有坐标系。", f"The {what} have no CRS.", layer=what)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    source = parse_crs(frame.crs)
    if not source.crs.equals(STORAGE.crs) or source.offset:
        geoms = to_storage(geoms, source)
    check_plausible_lonlat(geoms, source, where=what)
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    return shapely.get_coordinates(points.astype(object))


class Gazetteer:
    """Compounds, village groups and their buildings, indexed for address matching."""

    def __init__(self, compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> None:
        self._check(compounds, buildings)
        n = len(compounds)
        self.compound_ids: list[str] = [str(v) for v in compounds["compound_id"]]
        self.names: list[str] = [normalize(str(v)) for v in compounds["name"]]
        text = {col: _text(compounds, col) for col in _OPTIONAL_TEXT}
        self.roads, self.road_numbers = text["road"], text["road_number"]
        # Names as written (for reasons) and without their level word (for comparison).
        self.street_names, self.district_names = text["street"], text["district"]
        self.city_names = text["city"]
        self.streets = [admin_key(s) for s in text["street"]]
        self.districts = [admin_key(s) for s in text["district"]]
        self.cities = [admin_key(s) for s in text["city"]]
        self.villages, self.groups = text["village"], text["group"]
        self.is_village = np.array([c == "village" or v is not None
                                    for c, v in zip(text["category"], self.villages, strict=True)])
        self.compound_xy = _storage_points(compounds, "小区")

        position = {cid: i for i, cid in enumerate(self.compound_ids)}
        self.building_ids: list[str] = [str(v) for v in buildings["building_id"]]
        self.building_compound = np.array([position[str(c)] for c in buildings["compound_id"]],
                                          dtype=np.intp)
        self.building_numbers: list[str] = [t or "" for t in _text(buildings, "number")]
        self.building_units = _ints(buildings, "units")
        self.building_floors = _ints(buildings, "floors")
        self.building_xy = _storage_points(buildings, "楼栋")
        self.buildings_per_compound = np.bincount(self.building_compound, minlength=n)

        self.by_name: dict[str, tuple[int, ...]] = {}
        self.by_village: dict[str, tuple[int, ...]] = {}
        self.by_village_group: dict[tuple[str, str], int] = {}
        self.by_door: dict[tuple[str, str], tuple[int, ...]] = {}
        for i in range(n):
            if self.is_village[i]:
                village = self.villages[i] or self.names[i]
                self.by_village[village] = (*self.by_village.get(village, ()), i)
                group = self.groups[i]
                if group is not None:
                    self.by_village_group[(village, group)] = i
            else:
                self.by_name[self.names[i]] = (*self.by_name.get(self.names[i], ()), i)
            road, number = self.roads[i], self.road_numbers[i]
            if road is not None and number is not None:
                self.by_door[(road, number)] = (*self.by_door.get((road, number), ()), i)
        self.known_roads = frozenset(r for r in self.roads if r is not None)
        self.by_building: dict[tuple[int, str], int] = {
            (int(c), num): j for j, (c, num) in
            enumerate(zip(self.building_compound, self.building_numbers, strict=True))}

        self.compound_names = sorted(self.by_name)
        self.village_names = sorted(self.by_village)
        self.neighbours: dict[str, tuple[FuzzyHit, ...]] = {}
        for names in (self.compound_names, self.village_names):
            self.neighbours.update(self._neighbours(names))

    @staticmethod
    def _check(compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> None:
        """Report every problem of the two layers at once."""
        problems: list[str] = []
        for what, frame, required, key in (("compounds", compounds, COMPOUND_COLUMNS, "compound_id"),
                                           ("buildings", buildings, BUILDING_COLUMNS, "building_id")):
            missing = [c for c in required if c not in frame.columns]
            if missing:
                problems.append(f"{what}: missing columns {missing}")
                continue
            dup = frame[key].astype(str)
            if dup.duplicated().any():
                problems.append(f"{what}: duplicate {key} {sorted(dup[dup.duplicated()].unique())[:5]}")
            if frame[key].isna().any():
                problems.append(f"{what}: empty {key} in {int(frame[key].isna().sum())} rows")
        if not problems:
            known = set(compounds["compound_id"].astype(str))
            orphans = sorted(set(buildings["compound_id"].astype(str)) - known)
            if orphans:
                problems.append(f"buildings: unknown compound_id {orphans[:5]}")
            names = compounds["name"]
            if names.isna().any() or (names.astype(str).str.strip() == "").any():
                problems.append("compounds: empty name")
            types = shapely.get_type_id(np.asarray(buildings.geometry.values, dtype=object))
            if (types != 0).any():
                problems.append(f"buildings: {int((types != 0).sum())} geometries are not points")
        if problems:
            raise InputError("地名库数据有误：" + "；".join(problems),
                             "The gazetteer is invalid: " + "; ".join(problems), problems=problems)

    def __len__(self) -> int:
        return len(self.compound_ids)

    @staticmethod
    def _search(queries: Sequence[str], choices: Sequence[str],
                cutoff: float) -> list[tuple[FuzzyHit, ...]]:
        """For each query, the choices scoring at least ``cutoff`` (0..100), best first."""
        out: list[tuple[FuzzyHit, ...]] = []
        if not choices:
            return [()] * len(queries)
        for start in range(0, len(queries), _CHUNK):
            block = queries[start:start + _CHUNK]
            scores = process.cdist(block, choices, scorer=fuzz.ratio, score_cutoff=cutoff,
                                   dtype=np.float32, workers=1)
            for row in scores:
                hit = np.flatnonzero(row >= cutoff)
                order = hit[np.argsort(-row[hit], kind="stable")]
                out.append(tuple(FuzzyHit(choices[k], float(row[k]) / 100.0) for k in order))
        return out

    @staticmethod
    def _neighbours(names: Sequence[str]) -> dict[str, tuple[FuzzyHit, ...]]:
        """For each name, the other names at most ``NEIGHBOUR_EDITS`` edits away."""
        out: dict[str, tuple[FuzzyHit, ...]] = {}
        for start in range(0, len(names), _CHUNK):
            block = names[start:start + _CHUNK]
            edits = process.cdist(block, names, scorer=Levenshtein.distance,
                                  score_cutoff=NEIGHBOUR_EDITS, dtype=np.int32, workers=1)
            for name, row in zip(block, edits, strict=True):
                close = [names[int(k)] for k in np.flatnonzero(row <= NEIGHBOUR_EDITS)
                         if names[int(k)] != name]
                hits = sorted((FuzzyHit(other, fuzz.ratio(name, other) / 100.0) for other in close),
                              key=lambda h: (-h.score, h.name))
                out[name] = tuple(hits)
        return out

    def fuzzy_compounds(self, queries: Sequence[str], cutoff: float) -> list[tuple[FuzzyHit, ...]]:
        """Compound names close to each of ``queries`` (normalised), best first."""
        return self._search(queries, self.compound_names, cutoff)

    def fuzzy_villages(self, queries: Sequence[str], cutoff: float) -> list[tuple[FuzzyHit, ...]]:
        """Village names close to each of ``queries`` (normalised), best first."""
        return self._search(queries, self.village_names, cutoff)

    def label(self, building: int) -> str:
        """How a building is written: ``3栋`` in a compound, ``15号`` in a village."""
        number = self.building_numbers[building]
        return f"{number}号" if self.is_village[self.building_compound[building]] else f"{number}栋"

    def compound_label(self, compound: int) -> str:
        if self.is_village[compound] and self.groups[compound] is not None:
            return f"{self.villages[compound] or self.names[compound]}{self.groups[compound]}组"
        return self.names[compound]
