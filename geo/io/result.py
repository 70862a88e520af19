"""What a reader of boundary files and site lists gives back: the table read, and how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

__all__ = ["ReadResult"]


@dataclass
class ReadResult:
    """A file read into one of wangge's tables (units, sites), and how it was read."""

    frame: gpd.GeoDataFrame
    source_crs: str                      # the coordinate system the file was read in
    mapping: dict[str, str | None]       # target field -> the file's field (None: absent)
    count: int                           # features (boundary file) or data rows (site list) read
    notes: list[str] = field(default_factory=list)
