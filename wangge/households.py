"""Household workflows shared by the CLI and the API: import a register, locate, assign.

Locating a household:
- coordinates given with the record are used (converted from their CRS to CGCS2000) and
  cross-checked against the address when both exist: far apart means a flag for review;
- otherwise the address is matched against the current gazetteer; a match below the trusted
  score is used but flagged, so no household lands in a grid silently on a doubtful match;
- a household with neither goes to the review queue as "unlocated".
Assigning: every located household gets its micro-grid, grid, community and street in a release
by the boundary rule of :mod:`wangge.geo.index.hierarchy`; the moves against the previous assigned release are
stored with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wangge.gcpause import gc_paused
from wangge.geo.errors import InputError, NotFound, echo
from wangge.geo.index.hierarchy import HierarchyIndex
from wangge.geo.io.population import read_housing, read_population
from wangge.geo.io.register import Register, as_lonlat, read_register
from wangge.geo.io.rows import RowProblem
from wangge.geo.io.standard_address import read_standard_addresses
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits
from wangge.geo.levels import ORDER
from wangge.geocode.gazetteer import Gazetteer
from wangge.geocode.match import FAR_FLAG, MatchConfig, Matcher, distance_m
from wangge.review import apply_decisions
from wangge.store import Store

LOW_SCORE_FLAG = "low_match_score"
ADDRESS_CODE_LEVEL = "address_code"  # match_level of a household found by its address code
LISTED_IDS = 50  # ids named per kind (new, changed, unchanged, unlocated) in an import's summary

# What a re-import is compared on, as the register's records name it (stored as given_lon,
# given_lat, given_crs, building_ref): any difference, personal fields included, is a change.
_COMPARED = ("address", "lon", "lat", "crs", "building_id", "size")
_STORED_AS = {"lon": "given_lon", "lat": "given_lat", "crs": "given_crs",
              "building_id": "building_ref"}
_PERSONAL = ("name", "phone", "id_number")


@dataclass
class RegisterImport:
    """What an import did, row problems included.

    ``updated`` counts the households whose content changed; ``unchanged`` those imported again
    as they were (left untouched: not located again, not re-assigned). ``ids`` names them
    (``inserted``, ``updated``, ``unchanged``; at most :data:`LISTED_IDS` each)."""

    rows: int
    imported: int
    inserted: int
    updated: int
    located: dict[str, int]
    problems: list[RowProblem] = field(default_factory=list)
    assignment: dict[str, Any] | None = None
    unchanged: int = 0
    ids: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "register"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "imported": self.imported,
                "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "ids": self.ids, "located": self.located,
                "problems": [p.as_dict() for p in self.problems],
                "assignment": self.assignment}


def current_matcher(store: Store, config: MatchConfig | None = None) -> Matcher | None:
    """A matcher over the store's current gazetteer, or None if there is none yet."""
    try:
        _, compounds, buildings = store.gazetteer()
    except NotFound:
        return None
    return Matcher(Gazetteer(compounds, buildings), config)


@dataclass(frozen=True)
class AddressCodes:
    """Address codes of the gazetteer (标准地址编码) and building ids, to the entry they name:
    a building (its own id, or the code of the building, a unit or a room in it) or a compound
    (the code of its door or of the compound itself)."""

    entry: dict[str, str]                     # code -> building or compound id
    point: dict[str, tuple[float, float]]     # code -> lon, lat (EPSG:4490)

    @classmethod
    def of(cls, gazetteer: Gazetteer, compounds: pd.DataFrame,
           buildings: pd.DataFrame) -> AddressCodes:
        """From a gazetteer and the frames it was built from (``codes`` columns: lists)."""
        entry: dict[str, str] = {}
        point: dict[str, tuple[float, float]] = {}
        for ids, xy, frame in ((gazetteer.compound_ids, gazetteer.compound_xy, compounds),
                               (gazetteer.building_ids, gazetteer.building_xy, buildings)):
            lists = frame["codes"].tolist() if "codes" in frame.columns else [None] * len(ids)
            for k, (eid, codes) in enumerate(zip(ids, lists, strict=True)):
                where = (float(xy[k, 0]), float(xy[k, 1]))
                for code in [eid, *(codes if isinstance(codes, list) else [])]:
                    entry[str(code)] = eid
                    point[str(code)] = where
        return cls(entry, point)


def current_locator(store: Store, config: MatchConfig | None = None
                    ) -> tuple[Matcher, AddressCodes] | None:
    """The matcher and the address codes of the store's current gazetteer (read once), or
    None if there is no gazetteer yet."""
    try:
        _, compounds, buildings = store.gazetteer()
    except NotFound:
        return None
    gazetteer = Gazetteer(compounds, buildings)
    return Matcher(gazetteer, config), AddressCodes.of(gazetteer, compounds, buildings)


def locate(records: pd.DataFrame, matcher: Matcher | None,
           codes: AddressCodes | None = None) -> pd.DataFrame:
    """Household rows for the store: given coordinates, match results, location and flags.

    A household whose building reference (``building_id``: a standard address code or a
    building id) is in ``codes`` is found by it (level ``address_code``, score 1); the others'
    addresses go to the matcher."""
    given_lon, given_lat = as_lonlat(records)
    has_coords = np.isfinite(given_lon) & np.isfinite(given_lat)
    n = len(records)
    out = pd.DataFrame({
        "external_id": records["external_id"].to_numpy(dtype=object),
        "address": records["address"].to_numpy(dtype=object),
        "given_lon": records["lon"].to_numpy(dtype=float),
        "given_lat": records["lat"].to_numpy(dtype=float),
        "given_crs": records["crs"].to_numpy(dtype=object),
        "building_ref": records["building_id"].to_numpy(dtype=object),
        "size": records["size"].to_numpy(dtype=object),
    })
    lon, lat = given_lon.copy(), given_lat.copy()
    level = np.full(n, None, dtype=object)
    score = np.full(n, np.nan)
    matched = np.full(n, None, dtype=object)
    flags: list[list[str]] = [[] for _ in range(n)]
    by_code = np.zeros(n, dtype=bool)
    if codes is not None:
        refs = records["building_id"].tolist()
        by_code = np.array([isinstance(r, str) and r in codes.entry for r in refs], dtype=bool)
        for i in np.flatnonzero(by_code):
            code = refs[i]
            level[i], score[i], matched[i] = ADDRESS_CODE_LEVEL, 1.0, codes.entry[code]
            if not has_coords[i]:
                lon[i], lat[i] = codes.point[code]
            elif distance_m(*codes.point[code], given_lon[i], given_lat[i]) > (
                    matcher.config.far_threshold_m if matcher is not None
                    else MatchConfig().far_threshold_m):
                flags[i].append(FAR_FLAG)
    if matcher is not None and not by_code.all():
        addresses = [a if isinstance(a, str) and not c else ""
                     for a, c in zip(records["address"], by_code, strict=True)]
        with gc_paused():
            m = matcher.match_many(addresses, lon=given_lon, lat=given_lat, crs="CGCS2000")
        m.loc[by_code, "level"] = "none"
        m.loc[by_code, "flag"] = None
        found = (m["level"] != "none").to_numpy()
        level[found] = m["level"].to_numpy(dtype=object)[found]
        score[found] = m["score"].to_numpy()[found]
        matched[found] = m["entry_id"].to_numpy(dtype=object)[found]
        use_match = found & ~has_coords
        lon[use_match] = m["lon"].to_numpy()[use_match]
        lat[use_match] = m["lat"].to_numpy()[use_match]
        far = (m["flag"] == FAR_FLAG).to_numpy()
        doubtful = use_match & ~m["trusted"].to_numpy(dtype=bool)
        for i in np.flatnonzero(far):
            flags[i].append(FAR_FLAG)
        for i in np.flatnonzero(doubtful):
            flags[i].append(LOW_SCORE_FLAG)
    located = np.isfinite(lon) & np.isfinite(lat)
    out["lon"], out["lat"] = np.where(located, lon, np.nan), np.where(located, lat, np.nan)
    out["located_by"] = np.where(has_coords, "coordinates",
                                 np.where(located, "address", None)).astype(object)
    out["match_level"], out["match_score"], out["matched_id"] = level, score, matched
    out["flags"] = [f or None for f in flags]
    return out


# Kinds of household table: the register as offices keep it, and the 实有房屋 / 实有人口 registers.
REGISTER_KINDS = {"register": read_register, "housing": read_housing,
                  "population": read_population}


# Told when a stage of an import ends: its name and how many rows or households it handled
# ("read", "compare", "locate", "store", "assign"); for progress displays (the CLI's).
ImportProgress = Callable[[str, int], None]


def import_register(store: Store, path: str | Path, *, columns: dict[str, str] | None = None,
                    default_crs: str = "WGS-84", display_name: str | None = None,
                    match_config: MatchConfig | None = None,
                    limits: TableLimits = DEFAULT_LIMITS, kind: str = "register",
                    progress: ImportProgress | None = None) -> RegisterImport:
    """Read a household table and store what changed: see :func:`import_households`.

    ``kind``: ``register`` (one row a household), ``housing`` (实有房屋: one row a dwelling) or
    ``population`` (实有人口: one row a resident, grouped into households); see
    :mod:`wangge.geo.io.register` and :mod:`wangge.geo.io.population`. ``progress``: see
    :func:`import_households`."""
    if kind not in REGISTER_KINDS:
        raise InputError(f"未知的名册类型“{echo(kind)}”（应为 register、housing、population）。",
                         f"Unknown register kind {echo(kind)!r} (use register, housing, "
                         "population).", kind=echo(kind))
    name = display_name or Path(path).name
    register = REGISTER_KINDS[kind](path, columns=columns, default_crs=default_crs,
                                    display_name=name, limits=limits)
    if progress is not None:
        progress("read", register.row_count)
    return import_households(store, register, source=name, match_config=match_config, kind=kind,
                             progress=progress)


@dataclass
class StandardAddressImport:
    """What importing a standard address table (标准地址) as the gazetteer did."""

    rows: int
    codes: int
    gazetteer: dict[str, Any]
    problems: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "codes": self.codes, "gazetteer": self.gazetteer,
                "problems": [p.as_dict() for p in self.problems]}


def import_standard_addresses(store: Store, path: str | Path, *,
                              columns: dict[str, str] | None = None,
                              default_crs: str = "CGCS2000", display_name: str | None = None,
                              limits: TableLimits = DEFAULT_LIMITS) -> StandardAddressImport:
    """Read a standard address table and store it as the new current gazetteer: its compounds
    and buildings, with the address codes registers are matched by first. Bad rows are
    reported and left out; a table with no good row is refused (the gazetteer stays)."""
    name = display_name or Path(path).name
    table = read_standard_addresses(path, columns=columns, default_crs=default_crs,
                                    display_name=name, limits=limits)
    if table.compounds.empty:
        shown = "；".join(p.message_zh for p in table.problems[:10])
        raise InputError(f"标准地址表 {name} 没有可导入的地址。{shown}",
                         f"The address table {name} has no address that can be imported. "
                         + "; ".join(p.message_en for p in table.problems[:10]),
                         problems=[p.as_dict() for p in table.problems], row_count=table.row_count)
    Gazetteer(table.compounds, table.buildings)  # the matcher's own checks, before storing
    info = store.create_gazetteer(table.compounds, table.buildings, source=name)
    return StandardAddressImport(rows=table.row_count, codes=table.codes,
                                 gazetteer=info.as_dict(), problems=table.problems)


def import_households(store: Store, register: Register, *, source: str,
                      match_config: MatchConfig | None = None, kind: str = "register",
                      progress: ImportProgress | None = None) -> RegisterImport:
    """Store the households of a register that are new or changed, locate and assign just those.

    A household imported again with the same content (address, coordinates and their CRS,
    building reference, size, personal fields) is left untouched: not located again, not
    re-assigned. A column the file does not have leaves the stored value as it is (a housing
    table without names keeps the names a population table gave); an empty cell clears it.
    New and changed households are located and assigned to the current release: if it already
    has assignments, only theirs are replaced (and their moves against the release before it
    stored again); else every household is assigned (:func:`assign_release`). ``progress`` is
    told as each stage ends.
    """
    tell = progress or (lambda stage, count: None)
    records, personal = register.records, register.personal
    stored, stored_personal = store.stored_households(records["external_id"].tolist())
    records, personal = _fill_absent(records, personal, stored, stored_personal,
                                     register.mapping)
    status = _changes(records, personal, stored, stored_personal)
    todo = records[status != "unchanged"].reset_index(drop=True)
    tell("compare", len(records))
    ids = {s: records["external_id"][status == s].tolist()
           for s in ("inserted", "updated", "unchanged")}
    located_summary = {"coordinates": 0, "address": 0, ADDRESS_CODE_LEVEL: 0, "review": 0,
                       "unlocated": 0, "flagged": 0}
    assignment = None
    if len(todo):
        locator = current_locator(store, match_config)
        households = (locate(todo, *locator) if locator is not None else locate(todo, None))
        households = apply_decisions(store, households)  # people's decisions: wangge.review
        tell("locate", len(households))
        names = set(todo["external_id"])
        store.upsert_households(households, personal[personal["external_id"].isin(names)],
                                source=source)
        tell("store", len(households))
        by = households["located_by"].value_counts(dropna=False)
        located_summary = {
            "coordinates": int(by.get("coordinates", 0)), "address": int(by.get("address", 0)),
            ADDRESS_CODE_LEVEL: int((households["match_level"] == ADDRESS_CODE_LEVEL).sum()),
            "review": int(by.get("review", 0)),
            "unlocated": int(households["located_by"].isna().sum()),
            "flagged": int(households["flags"].notna().sum())}
        ids["unlocated"] = households.loc[households["located_by"].isna(), "external_id"].tolist()
        current = store.current_release()
        if current is not None:
            if store.has_assignments(current.id):
                hid = store.household_ids(households["external_id"].tolist())
                points = pd.DataFrame({
                    "id": [hid[e] for e in households["external_id"]],
                    "lon": households["lon"].to_numpy(dtype=float),
                    "lat": households["lat"].to_numpy(dtype=float)})
                assignment = assign_households(store, current.id, points)
            else:
                assignment = assign_release(store, current.id)
            tell("assign", int(assignment["assigned"]))
    return RegisterImport(rows=register.row_count, imported=len(records),
                          inserted=len(ids["inserted"]), updated=len(ids["updated"]),
                          unchanged=len(ids["unchanged"]), located=located_summary,
                          problems=register.problems, assignment=assignment,
                          ids={k: v[:LISTED_IDS] for k, v in ids.items()}, kind=kind)


def _given(mapping: dict[str, str | None]) -> set[str]:
    """The register's fields the file has a column for (coordinates and their CRS as one)."""
    has = {f for f, src in mapping.items() if src is not None}
    if {"lon", "lat"} <= has:
        has |= {"crs"}
    else:
        has -= {"lon", "lat", "crs"}
    return has


def _fill_absent(records: pd.DataFrame, personal: pd.DataFrame, stored: pd.DataFrame,
                 stored_personal: pd.DataFrame, mapping: dict[str, str | None]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fields the file has no column for, taken from the stored households it names."""
    given = _given(mapping)
    absent = [f for f in _COMPARED if f not in given]
    records = records.copy()
    if absent and len(stored):
        known = stored.set_index("external_id")
        at = records["external_id"].isin(known.index).to_numpy()
        rows = records.loc[at, "external_id"]
        for f in absent:
            values = known[_STORED_AS.get(f, f)].reindex(rows).to_numpy(dtype=object)
            if f in ("lon", "lat"):
                values = values.astype(float)
            column = records[f].astype(float if f in ("lon", "lat") else object)
            column[at] = values
            records[f] = column
    absent_personal = [f for f in _PERSONAL if f not in given]
    if absent_personal and len(stored_personal):
        kept = stored_personal.set_index("external_id")[absent_personal]
        merged = records[["external_id"]].merge(personal, on="external_id", how="left")
        merged = merged.set_index("external_id")
        for f in absent_personal:
            merged[f] = kept[f].reindex(merged.index).to_numpy(dtype=object)
        merged = merged.reset_index()
        has_any = merged[list(_PERSONAL)].notna().any(axis=1)
        personal = merged[has_any].reset_index(drop=True).astype(object)
    return records, personal


def _changes(records: pd.DataFrame, personal: pd.DataFrame, stored: pd.DataFrame,
             stored_personal: pd.DataFrame) -> np.ndarray:
    """Per record: ``inserted`` (not stored), ``updated`` (stored, some field differs) or
    ``unchanged``."""
    ext = records["external_id"]
    mine = records[["external_id", *_COMPARED]].merge(personal, on="external_id", how="left")
    theirs = (stored[["external_id", *(_STORED_AS.get(f, f) for f in _COMPARED)]]
              .set_axis(["external_id", *_COMPARED], axis=1)
              .merge(stored_personal, on="external_id", how="left")
              .set_index("external_id").reindex(ext))
    known = ext.isin(stored["external_id"]).to_numpy()
    same = np.ones(len(records), dtype=bool)
    for f in (*_COMPARED, *_PERSONAL):
        if f in ("lon", "lat", "size"):
            a = pd.to_numeric(mine[f], errors="coerce").to_numpy(dtype=float)
            b = pd.to_numeric(theirs[f], errors="coerce").to_numpy(dtype=float)
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            a = mine[f].astype(object).where(mine[f].notna(), None).to_numpy(dtype=object)
            b = theirs[f].astype(object).where(theirs[f].notna(), None).to_numpy(dtype=object)
            same &= np.array([x == y for x, y in zip(a, b, strict=True)], dtype=bool)
    return np.where(~known, "inserted", np.where(same, "unchanged", "updated")).astype(object)


def assign_release(store: Store, release_id: int) -> dict[str, Any]:
    """(Re)assign every household to the units of a release; store moves vs the previous one."""
    units = store.units(release_id)
    households = store.households()
    lon = households["lon"].to_numpy(dtype=float)
    lat = households["lat"].to_numpy(dtype=float)
    result = HierarchyIndex.build(units).assign(lon, lat)
    table = _assignment_table(households["id"].to_numpy(), lon, lat, result)
    compare_to = _compared_release(store, release_id)
    saved = store.save_assignments(release_id, table, compare_to=compare_to)
    by_status = table["status"].value_counts()
    return {"release_id": release_id, "compared_to": compare_to, "mode": "full", **saved,
            **{s: int(by_status.get(s, 0)) for s in ("found", "outside", "unlocated")}}


def assign_households(store: Store, release_id: int, households: pd.DataFrame) -> dict[str, Any]:
    """Assign some households (``id``, ``lon``, ``lat``) to a release whose other households are
    assigned already: their assignments (and moves against the release before) are replaced,
    nobody else's. Answers as :func:`assign_release` does, for these households.

    The units are those near the points (:func:`_units_near`), by the same index and boundary
    rule as a full assignment, so each household gets what :func:`assign_release` would give it.
    """
    lon = households["lon"].to_numpy(dtype=float)
    lat = households["lat"].to_numpy(dtype=float)
    result = _assign_near(store, release_id, lon, lat)
    table = _assignment_table(households["id"].to_numpy(), lon, lat, result)
    compare_to = _compared_release(store, release_id)
    saved = store.save_assignments_of(release_id, table, compare_to=compare_to)
    by_status = table["status"].value_counts()
    return {"release_id": release_id, "compared_to": compare_to, "mode": "incremental",
            **saved, **{s: int(by_status.get(s, 0)) for s in ("found", "outside", "unlocated")}}


# Units within this margin of a point are enough to assign it (degrees: at least 460 m up to
# latitude 33°, about 390 m at 45°); points are taken in cells of this size, at most
# _NEAR_CELLS of them (more, and one box around all the points is read).
_NEAR_DEG = 0.005
_NEAR_CELLS = 64


def _assign_near(store: Store, release_id: int, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """:meth:`HierarchyIndex.assign` of the points against the release's units near them.

    Every unit that covers a point intersects the box around it, so found points get the
    units the whole release would give them. A point outside every unit gets the nearest of
    the units read; that is the nearest of all when it lies within the margin (units farther
    away cannot be nearer). Otherwise — a point farther out, or no unit of the finest level
    near — the index of all units answers."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    finest = _finest_level(store, release_id)
    if ok.any() and finest is not None:
        cells = np.unique(np.floor(np.column_stack([lon[ok], lat[ok]]) / _NEAR_DEG), axis=0)
        if len(cells) > _NEAR_CELLS:
            boxes = [(lon[ok].min() / _NEAR_DEG, lat[ok].min() / _NEAR_DEG,
                      lon[ok].max() / _NEAR_DEG, lat[ok].max() / _NEAR_DEG)]
        else:
            boxes = [(x, y, x + 1, y + 1) for x, y in cells]
        frames = [store.units(release_id, bbox=(
            max(float(x0 - 1) * _NEAR_DEG, -180.0), max(float(y0 - 1) * _NEAR_DEG, -90.0),
            min(float(x1 + 1) * _NEAR_DEG, 180.0), min(float(y1 + 1) * _NEAR_DEG, 90.0)))
            for x0, y0, x1, y1 in boxes]
        units = pd.concat(frames, ignore_index=True).drop_duplicates("code", ignore_index=True)
        units = _with_ancestors(store, release_id, units)
        if (units["level"] == finest).any():
            result = HierarchyIndex.build(units).assign(lon, lat)
            reach = _NEAR_DEG * 111_000.0 * np.cos(np.radians(min(
                89.0, float(np.abs(lat[ok]).max()) + _NEAR_DEG)))
            away = ok & (result["status"] != "found").to_numpy()
            near = result["nearest_m"].to_numpy(dtype=float)[away]
            if np.all(np.isfinite(near) & (near <= reach)):
                return result
    return HierarchyIndex.build(store.units(release_id)).assign(lon, lat)


def _finest_level(store: Store, release_id: int) -> str | None:
    counts = store.release(release_id).counts
    present = [lv.value for lv in ORDER if counts.get(lv.value)]
    return present[-1] if present else None


def _with_ancestors(store: Store, release_id: int, units: pd.DataFrame) -> pd.DataFrame:
    """``units`` and every unit above them (the chains of codes need the parents)."""
    frames = [units]
    have = set(units["code"])
    wanted = {p for p in units["parent_code"] if isinstance(p, str)} - have
    while wanted:
        parents = store.units(release_id, codes=sorted(wanted))
        if parents.empty:
            break
        frames.append(parents)
        have |= set(parents["code"])
        wanted = {p for p in parents["parent_code"] if isinstance(p, str)} - have
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else units


def _assignment_table(household_ids: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                      result: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``assignments`` from the index's answer for the households' points."""
    table = pd.DataFrame({"household_id": household_ids})
    for col in ("microgrid", "grid", "community", "street", "nearest_code"):
        table[col] = result[col].to_numpy(dtype=object)
    table["nearest_m"] = result["nearest_m"].to_numpy(dtype=float)
    status = result["status"].to_numpy(dtype=object)
    table["status"] = np.where(np.isfinite(lon) & np.isfinite(lat),
                               np.where(status == "found", "found", "outside"), "unlocated")
    return table


def _compared_release(store: Store, release_id: int) -> int | None:
    """The assigned release before ``release_id`` that moves are stored against."""
    earlier = [r for r in store.assigned_releases() if r < release_id]
    return earlier[-1] if earlier else None
