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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wangge.gcpause import gc_paused
from wangge.geo.errors import NotFound
from wangge.geo.index.hierarchy import HierarchyIndex
from wangge.geo.io.register import as_lonlat, read_register
from wangge.geo.io.rows import RowProblem
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits
from wangge.geocode.gazetteer import Gazetteer
from wangge.geocode.match import FAR_FLAG, MatchConfig, Matcher
from wangge.review import apply_decisions
from wangge.store import Store

LOW_SCORE_FLAG = "low_match_score"


@dataclass
class RegisterImport:
    """What an import did, row problems included."""

    rows: int
    imported: int
    inserted: int
    updated: int
    located: dict[str, int]
    problems: list[RowProblem] = field(default_factory=list)
    assignment: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "inserted": self.inserted,
                "updated": self.updated, "located": self.located,
                "problems": [p.as_dict() for p in self.problems],
                "assignment": self.assignment}


def current_matcher(store: Store, config: MatchConfig | None = None) -> Matcher | None:
    """A matcher over the store's current gazetteer, or None if there is none yet."""
    try:
        _, compounds, buildings = store.gazetteer()
    except NotFound:
        return None
    return Matcher(Gazetteer(compounds, buildings), config)


def locate(records: pd.DataFrame, matcher: Matcher | None) -> pd.DataFrame:
    """Household rows for the store: given coordinates, match results, location and flags."""
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
    if matcher is not None:
        addresses = [a if isinstance(a, str) else "" for a in records["address"]]
        with gc_paused():
            m = matcher.match_many(addresses, lon=given_lon, lat=given_lat, crs="CGCS2000")
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


def import_register(store: Store, path: str | Path, *, columns: dict[str, str] | None = None,
                    default_crs: str = "WGS-84", display_name: str | None = None,
                    match_config: MatchConfig | None = None,
                    limits: TableLimits = DEFAULT_LIMITS) -> RegisterImport:
    """Read, locate, store (update by external id) and assign to the current release."""
    name = display_name or Path(path).name
    register = read_register(path, columns=columns, default_crs=default_crs, display_name=name,
                             limits=limits)
    households = locate(register.records, current_matcher(store, match_config))
    households = apply_decisions(store, households)  # people's decisions: wangge.review
    counts = store.upsert_households(households, register.personal, source=name)
    located = households["located_by"].value_counts(dropna=False)
    summary = {"coordinates": int(located.get("coordinates", 0)),
               "address": int(located.get("address", 0)),
               "unlocated": int(households["located_by"].isna().sum()),
               "flagged": int(households["flags"].notna().sum())}
    current = store.current_release()
    assignment = assign_release(store, current.id) if current is not None else None
    return RegisterImport(rows=register.row_count, imported=len(households),
                          inserted=counts["inserted"], updated=counts["updated"],
                          located=summary, problems=register.problems, assignment=assignment)


def assign_release(store: Store, release_id: int) -> dict[str, Any]:
    """(Re)assign every household to the units of a release; store moves vs the previous one."""
    units = store.units(release_id)
    households = store.households()
    lon = households["lon"].to_numpy(dtype=float)
    lat = households["lat"].to_numpy(dtype=float)
    result = HierarchyIndex.build(units).assign(lon, lat)
    table = pd.DataFrame({"household_id": households["id"].to_numpy()})
    for col in ("microgrid", "grid", "community", "street", "nearest_code"):
        table[col] = result[col].to_numpy(dtype=object)
    table["nearest_m"] = result["nearest_m"].to_numpy(dtype=float)
    status = result["status"].to_numpy(dtype=object)
    table["status"] = np.where(np.isfinite(lon) & np.isfinite(lat),
                               np.where(status == "found", "found", "outside"), "unlocated")
    earlier = [r for r in store.assigned_releases() if r < release_id]
    compare_to = earlier[-1] if earlier else None
    saved = store.save_assignments(release_id, table, compare_to=compare_to)
    by_status = table["status"].value_counts()
    return {"release_id": release_id, "compared_to": compare_to, **saved,
            **{s: int(by_status.get(s, 0)) for s in ("found", "outside", "unlocated")}}
