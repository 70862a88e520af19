"""Service sites: import a list (checked against the current release), add, move, retire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from wangge.geo.boundaries.findings import ERROR
from wangge.geo.coverage.sites import check_sites, parse_kind
from wangge.geo.crs import point_to_storage
from wangge.geo.errors import ValidationFailed
from wangge.geo.io.sites import read_sites
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits
from wangge.store import Store


def _units(store: Store):  # noqa: ANN202
    current = store.current_release()
    return None if current is None else store.units(current.id)


def _refuse_errors(findings: list[Any]) -> list[dict[str, Any]]:
    errors = [f for f in findings if f.severity == ERROR]
    if errors:
        raise ValidationFailed(f"站点表有 {len(errors)} 处错误，未导入。",
                               f"The site list has {len(errors)} errors; nothing was imported.",
                               report={"findings": [f.as_dict(with_geometry=False) for f in findings]})
    return [f.as_dict(with_geometry=False) for f in findings]


def import_sites(store: Store, path: str | Path, *, crs: str = "WGS-84",
                 columns: dict[str, str] | None = None, display_name: str | None = None,
                 replace: bool = True, limits: TableLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Read, check and store a site list: all of it, or (any error) nothing."""
    read = read_sites(path, crs=crs, columns=columns, display_name=display_name, limits=limits)
    warnings = _refuse_errors(check_sites(read.frame, _units(store)))
    count = store.import_sites(read.frame, source=display_name or Path(path).name, replace=replace)
    kinds = read.frame["kind"].value_counts()
    return {"sites": count, "centres": int(kinds.get("centre", 0)),
            "stations": int(kinds.get("station", 0)), "warnings": warnings}


def add_site(store: Store, *, site_id: str, kind: str, name: str, lon: float, lat: float,
             crs: str = "WGS-84", unit_code: str | None = None, hours: str | None = None,
             source: str) -> None:
    x, y = point_to_storage(lon, lat, crs)
    site = {"site_id": site_id, "kind": parse_kind(kind, name) or kind, "name": name,
            "unit_code": unit_code, "hours": hours, "geometry": shapely.Point(x, y)}
    frame = gpd.GeoDataFrame([site], geometry="geometry", crs="EPSG:4490")
    _refuse_errors(check_sites(frame, None))
    store.add_site(site, source=source)


def move_site(store: Store, site_id: str, *, lon: float, lat: float, crs: str = "WGS-84",
              source: str) -> None:
    x, y = point_to_storage(lon, lat, crs)
    store.change_site(site_id, source=source, lon=x, lat=y)
