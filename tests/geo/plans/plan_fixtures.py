"""One street of the demo district with its households: a plan small enough to edit often."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from wangge.geo.plans.households import PlanHouseholds


def one_street(units: gpd.GeoDataFrame, register: object, street_index: int = 0
               ) -> tuple[gpd.GeoDataFrame, PlanHouseholds]:
    """The subtree of one street and the households (true places) inside it."""
    street = units[units["level"] == "street"]["code"].iloc[street_index]
    frame = units[units["code"].str.startswith(street)].reset_index(drop=True)
    truth: pd.DataFrame = register.truth  # type: ignore[attr-defined]
    inside = truth["microgrid_code"].astype(str).str.startswith(street).to_numpy()
    sizes = register.households["size"].to_numpy()  # type: ignore[attr-defined]
    households = PlanHouseholds(truth["lon"].to_numpy()[inside], truth["lat"].to_numpy()[inside],
                                np.asarray(sizes)[inside])
    return frame, households
