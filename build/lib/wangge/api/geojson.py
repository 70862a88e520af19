"""GeoJSON responses built from unit tables (never by string formatting)."""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import shapely
from fastapi.responses import JSONResponse

GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def feature(row: dict[str, Any], release_id: int) -> dict[str, Any]:
    geom = row.pop("geometry")
    props = {k: _clean(v) for k, v in row.items()}
    props["release_id"] = release_id
    if isinstance(props.get("attrs"), str):
        props["attrs"] = json.loads(props["attrs"])
    return {"type": "Feature", "id": props["code"], "properties": props,
            "geometry": shapely.geometry.mapping(geom) if geom is not None else None}


def feature_collection(units: gpd.GeoDataFrame, release_id: int, **members: Any) -> dict[str, Any]:
    rows = units.to_dict("records") if len(units) else []
    return {"type": "FeatureCollection", **members,
            "features": [feature(dict(r), release_id) for r in rows]}
