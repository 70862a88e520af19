"""Grid workers: import a roster (checked against the current release's grids) into the store."""

from __future__ import annotations

from pathlib import Path

from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits
from wangge.geo.io.workers import read_workers
from wangge.store import Store


def import_workers(store: Store, path: str | Path, *, columns: dict[str, str] | None = None,
                   display_name: str | None = None,
                   limits: TableLimits = DEFAULT_LIMITS) -> dict[str, int]:
    """Replace the roster with the file's; refused whole (every bad row listed) if any row is bad.

    Grid codes must be grids of the current release when there is one.
    """
    current = store.current_release()
    grids = None
    if current is not None:
        grids = store.units(current.id, level="grid")["code"].tolist()
    roster = read_workers(path, columns=columns, grid_codes=grids, display_name=display_name,
                          limits=limits)
    stored = store.replace_workers(roster.workers[["worker_id", "grid_code", "full_time"]],
                                   roster.personal)
    full_time = int(roster.workers["full_time"].sum())
    return {"workers": stored, "full_time": full_time,
            "grids_covered": int(roster.workers["grid_code"].nunique()),
            "grids_in_release": len(grids) if grids is not None else 0}
