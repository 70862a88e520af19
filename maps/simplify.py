"""Geometries made light for display: simplified with shared borders kept, coordinates rounded.

Each level is a coverage (its units tile their parent), so it is simplified as one with GEOS's
``coverage_simplify``: every shared edge is simplified once, and both neighbours get the same
result, so borders still meet on the map. The tolerance is in metres, applied in the data's
Gauss–Krüger zone; simplification only removes vertices, so every vertex drawn is a stored one.

Coordinates are rounded to :data:`DECIMALS` = 6 decimal degrees, about 0.1 m: below a pixel at
the highest zoom (about 0.3 m at zoom 19 in China) and far below the simplification tolerance,
so rounding never shows, while a drawn vertex stays within 1e-6° of its stored position (which
the map tests check). Five decimals (about 1 m) would save about 8 % of the page and lose that check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from wangge.geo.crs import from_metric, metric_crs_of, to_metric

DECIMALS = 6

# Display tolerance per level, in metres: about a pixel at the zoom where the level is read.
TOLERANCE_M: dict[str, float] = {"street": 12.0, "community": 6.0, "grid": 3.0, "microgrid": 1.5}


def simplify_coverage(geoms: ArrayLike, tolerance_m: float) -> NDArray[np.object_]:
    """Storage-CRS polygons simplified by ``tolerance_m`` metres, shared edges kept identical.

    Lines (a shape's outline) are simplified each on its own. Falls back to simplifying each
    polygon on its own (topology of each kept, borders between
    them not guaranteed) when the polygons are not a valid coverage, as in a release with
    overlaps; invalid or empty geometries are returned unchanged.
    """
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0 or tolerance_m <= 0:
        return arr
    out = arr.copy()
    present = ~shapely.is_missing(arr) & ~shapely.is_empty(arr)
    lines = present & np.isin(shapely.get_type_id(arr), (1, 2, 5))
    if lines.any():  # outlines drawn as lines: each simplified on its own
        metric = metric_crs_of(arr[lines])
        out[lines] = from_metric(shapely.simplify(to_metric(arr[lines], metric), tolerance_m),
                                 metric)
    ok = present & shapely.is_valid(arr) & np.isin(shapely.get_type_id(arr), (3, 6))
    if not ok.any():
        return out
    metric = metric_crs_of(arr[ok])
    projected = to_metric(arr[ok], metric)
    if shapely.coverage_is_valid(projected):
        simple = shapely.coverage_simplify(projected, tolerance_m, simplify_boundary=True)
    else:
        simple = shapely.simplify(projected, tolerance_m, preserve_topology=True)
    out[ok] = from_metric(simple, metric)
    return out


def rounded(geoms: ArrayLike, decimals: int = DECIMALS) -> NDArray[np.object_]:
    """Geometries with coordinates rounded to ``decimals`` decimal places."""
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return arr
    return np.asarray(shapely.transform(arr, lambda c: np.round(c, decimals)), dtype=object)


def feature_collection(geoms: ArrayLike, properties: Sequence[Mapping[str, Any]],
                       ids: Sequence[str] | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection dict of display geometries with (minimal) properties.

    Geometries should already be in the display CRS and rounded; features without geometry
    are left out.
    """
    arr = np.asarray(geoms, dtype=object)
    features = []
    for i, (geom, props) in enumerate(zip(arr, properties, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        feature: dict[str, Any] = {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                                   "properties": dict(props)}
        if ids is not None:
            feature["id"] = ids[i]
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}
