"""The CRS gate: parsing, conversions, metric zones, plausibility checks."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wangge.geo.crs import (
    STORAGE,
    STORAGE_CRS,
    check_plausible_lonlat,
    frame_to_storage,
    from_storage,
    is_storage_crs,
    lonlat_to_metric,
    metric_crs_for,
    metric_to_lonlat,
    parse_bbox,
    parse_crs,
    to_metric,
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


def test_coordinate_arrays_to_metric_and_back_agree_with_geometries():
    lon = np.array([[120.1, 120.25], [120.3, np.nan]])
    lat = np.array([[33.3, 33.35], [33.4, 33.4]])
    metric = metric_crs_for(120.2)
    x, y = lonlat_to_metric(lon, lat, metric)
    assert x.shape == lon.shape and np.isnan(x[1, 1]) and np.isnan(y[1, 1])
    ok = np.isfinite(lon)
    pts = to_metric(shapely.points(lon[ok], lat[ok]), metric)
    assert np.array_equal(shapely.get_coordinates(pts), np.column_stack([x[ok], y[ok]]))
    back_lon, back_lat = metric_to_lonlat(x, y, metric)
    assert np.allclose(back_lon[ok], lon[ok], atol=1e-9) and np.allclose(back_lat[ok], lat[ok], atol=1e-9)


def test_is_storage_crs():
    assert is_storage_crs(STORAGE_CRS) and is_storage_crs("EPSG:4490")
    assert not is_storage_crs(None) and not is_storage_crs(4326) and not is_storage_crs(4549)


def test_frame_to_storage_converts_only_other_crs():
    pts = [shapely.Point(120.2, 33.4)]
    stored = gpd.GeoDataFrame({"a": [1]}, geometry=pts, crs=STORAGE_CRS)
    assert frame_to_storage(stored) is stored
    naive = gpd.GeoSeries(pts)
    assert frame_to_storage(naive) is naive
    metric = stored.to_crs(4549)
    back = frame_to_storage(metric)
    assert back.crs.equals(STORAGE_CRS) and list(back["a"]) == [1]
    assert shapely.distance(back.geometry.iloc[0], pts[0]) < 1e-9
