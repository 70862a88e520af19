"""Import -> store -> export gives back the same geometries (within 1 cm), on both backends."""

from __future__ import annotations

import pytest
import shapely

from tests.hierarchy import hierarchy
from wangge.boundaries import check_file, store_checked
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.crs import parse_crs
from wangge.geo.io.boundaries import read_units, write_units
from wangge.store import Store

CM_IN_DEG = 0.01 / 111_000


@pytest.mark.parametrize("source_suffix,source_crs", [(".geojson", "EPSG:4490"), (".gpkg", "EPSG:4549"),
                                                      (".gpkg", "GCJ-02")])
@pytest.mark.parametrize("export_suffix,export_crs", [(".gpkg", "EPSG:4490"), (".geojson", "GCJ-02")])
def test_import_store_export_round_trip(store: Store, tmp_path, source_suffix, source_crs,
                                        export_suffix, export_crs):
    truth = hierarchy()
    source = write_units(truth, tmp_path / f"in{source_suffix}", crs=source_crs)
    offset = parse_crs(source_crs).offset is not None
    checked = check_file(source, ValidationConfig(), crs=source_crs if offset else None)
    assert checked.report.ok, checked.report.findings
    info = store_checked(store, checked, source=source.name, make_current=True)
    out = write_units(store.units(info.id), tmp_path / f"out{export_suffix}", crs=export_crs)
    back = read_units(out, crs=export_crs if parse_crs(export_crs).offset else None).frame
    by_code = dict(zip(back["code"], back.geometry, strict=True))
    assert set(by_code) == set(truth["code"])
    for code, geom in zip(truth["code"], truth.geometry, strict=True):
        assert shapely.hausdorff_distance(geom, by_code[code]) < CM_IN_DEG, code
