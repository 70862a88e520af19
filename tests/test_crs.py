"""The CRS gate: parsing, conversions, metric zones, plausibility checks."""

import numpy as np
import pyproj
import pytest
import shapely

from geo.crs import (
    STORAGE,
    check_plausible_lonlat,
    from_storage,
    metric_crs_for,
    parse_bbox,
    parse_crs,
    to_storage,
    transform,
)
from geo.errors import CoordinateRangeError, CRSError


@pytest.mark.parametrize("value,label", [
    ("EPSG:4490", "EPSG:4490"), (4326, "EPSG:4326"), ("4549", "EPSG:4549"),
    ("cgcs2000", "EPSG:4490"), ("WGS84", "EPSG:4326"), ("GCJ-02", "GCJ-02"), ("bd09", "BD-09"),
    ("EPSG:32651", "EPSG:32651"),
])
def test_parse_crs_accepts_common_forms(value, label):
    assert parse_crs(value).label == label


def test_parse_crs_error_lists_accepted_forms():
    with pytest.raises(CRSError) as exc:
        parse_crs("mars-grid")
    assert "GCJ-02" in exc.value.message_zh and "EPSG:4490" in exc.value.message_en


def test_metric_zone_for_tinghu_is_gk_120():
    assert metric_crs_for(120.3).to_epsg() == 4549
    assert metric_crs_for(116.4).to_epsg() == 4548
    assert metric_crs_for(10.0).to_epsg() == 32632  # outside China: UTM


@pytest.mark.parametrize("crs", ["EPSG:4549", "EPSG:32651", "GCJ-02", "BD-09", "EPSG:4326"])
def test_round_trip_through_any_crs_within_a_millimetre(crs):
    poly = shapely.Polygon([(120.1, 33.3), (120.2, 33.3), (120.2, 33.4), (120.1, 33.3)])
    src = parse_crs(crs)
    there = from_storage(np.array([poly], dtype=object), src)
    back = to_storage(there, src)[0]
    assert shapely.hausdorff_distance(poly, back) * 111_000 < 0.001


def test_gcj_to_bd_goes_through_storage():
    pt = np.array([shapely.Point(120.2, 33.4)], dtype=object)
    gcj = from_storage(pt, parse_crs("gcj02"))
    bd_direct = from_storage(pt, parse_crs("bd09"))
    bd_via = transform(gcj, parse_crs("gcj02"), parse_crs("bd09"))
    assert shapely.distance(bd_direct[0], bd_via[0]) < 1e-9


def test_plausibility_names_the_likely_cause():
    wgs = parse_crs(4326)
    with pytest.raises(CoordinateRangeError, match="swapped"):
        check_plausible_lonlat([shapely.Point(33.4, 120.2)], wgs)
    with pytest.raises(CoordinateRangeError, match="metres"):
        check_plausible_lonlat([shapely.Point(518_000, 3_697_000)], wgs)
    with pytest.raises(CoordinateRangeError, match="outside China"):
        check_plausible_lonlat([shapely.Point(2.35, 48.85)], wgs)
    check_plausible_lonlat([shapely.Point(120.2, 33.4)], STORAGE)


def test_parse_bbox():
    assert parse_bbox("120,33,121,34") == (120.0, 33.0, 121.0, 34.0)
    assert parse_bbox(None) is None
    for bad in ("120,33,121", "121,33,120,34", "a,b,c,d", "120,33,121,95"):
        with pytest.raises(CoordinateRangeError):
            parse_bbox(bad)


def test_metric_to_storage_runs_equals_pyproj():
    """The per-run cubic gives pyproj's lon/lat to 1e-9°, and a run too wide for it is left to
    pyproj (the check catches it)."""
    from geo.crs import STORAGE_CRS, metric_to_storage_runs

    metric = pyproj.CRS.from_epsg(4549)
    rng = np.random.default_rng(5)
    centres = np.column_stack([rng.uniform(450_000, 550_000, 40), rng.uniform(3.6e6, 3.8e6, 40)])
    sizes = rng.integers(1, 400, 40)
    run = np.repeat(np.arange(40), sizes)
    x = centres[run, 0] + rng.uniform(-1500, 1500, len(run))
    y = centres[run, 1] + rng.uniform(-1500, 1500, len(run))
    x[run == 3] = np.linspace(100_000, 900_000, (run == 3).sum())    # 800 km wide: no cubic fits
    starts = np.cumsum(sizes) - sizes
    lon, lat = metric_to_storage_runs(x, y, starts, metric)
    ref_lon, ref_lat = pyproj.Transformer.from_crs(metric, STORAGE_CRS, always_xy=True).transform(x, y)
    assert np.abs(lon - ref_lon).max() <= 1e-9 and np.abs(lat - ref_lat).max() <= 1e-9
    empty = metric_to_storage_runs(np.empty(0), np.empty(0), np.empty(0, dtype=np.intp), metric)
    assert len(empty[0]) == 0
