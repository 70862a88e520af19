"""The CRS gate: parsing, conversions, metric zones, plausibility checks."""

import numpy as np
import pytest
import shapely

from wangge.geo.crs import (
    STORAGE,
    check_plausible_lonlat,
    from_storage,
    metric_crs_for,
    parse_bbox,
    parse_crs,
    to_storage,
    transform,
)
from wangge.geo.errors import CoordinateRangeError, CRSError


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

