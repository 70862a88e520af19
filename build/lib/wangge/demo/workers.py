"""The demo's grid workers: one full-time worker for most grids, a few grids with only a
part-time one or none at all (the gaps the coverage answers must show). Names and phones are
synthetic and obviously fake, like the demo register's (see demo/register.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from wangge.demo.register import _personal

PART_TIME_SHARE = 0.04   # grids whose only worker is part-time
VACANT_SHARE = 0.03      # grids with no worker
SECOND_SHARE = 0.10      # grids with a second (part-time) worker


def build_workers(units: gpd.GeoDataFrame, *, seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(workers, personal)``: ``worker_id, grid_code, full_time`` and ``worker_id, name, phone``."""
    rng = np.random.default_rng([seed, 4])
    grids = units.loc[units["level"] == "grid", "code"].astype(str).to_numpy()
    draw = rng.random(len(grids))
    staffed = grids[draw >= VACANT_SHARE]
    full = draw[draw >= VACANT_SHARE] >= VACANT_SHARE + PART_TIME_SHARE
    second = staffed[rng.random(len(staffed)) < SECOND_SHARE]
    grid_code = np.concatenate([staffed, second])
    full_time = np.concatenate([full, np.zeros(len(second), dtype=bool)])
    ids = [f"WG{i + 1:05d}" for i in range(len(grid_code))]
    workers = pd.DataFrame({"worker_id": ids, "grid_code": grid_code, "full_time": full_time})
    fake = _personal(len(ids), rng)
    personal = pd.DataFrame({"worker_id": ids, "name": fake["name"], "phone": fake["phone"]})
    return workers, personal
