"""Read an OGC API – Features layer with GDAL's OAPIF driver (pyogrio's GDAL), in its own process.

pyogrio holds the GIL while GDAL fetches pages, so the driver cannot talk to a uvicorn served
from a thread of the test process: tests run this file as a child process instead. Argument:
one JSON object (url, header_file, and optionally layer, bbox, where, open_options, list);
prints one JSON object with what was read.
"""

from __future__ import annotations

import json
import sys

import pyogrio


def main(args: dict) -> dict:
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": args["header_file"]})
    url = args["url"]
    if args.get("list"):
        return {"layers": [str(name) for name in pyogrio.list_layers(url)[:, 0]]}
    options = args.get("open_options", {})
    bbox = tuple(args["bbox"]) if args.get("bbox") else None
    df = pyogrio.read_dataframe(url, layer=args["layer"], bbox=bbox, where=args.get("where"), **options)
    first = df.geometry.iloc[0].exterior.coords[0] if len(df) else None
    return {"count": len(df), "codes": sorted(df["code"]), "names": sorted(set(df["name"])),
            "columns": [c for c in df.columns if c != "geometry"],
            "epsg": df.crs.to_epsg() if df.crs is not None else None,
            "first_xy": list(first) if first else None,
            "release_ids": sorted({int(r) for r in df["release_id"]}) if len(df) else []}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1])), ensure_ascii=False))
