"""Reading and writing real files: GeoJSON, GeoPackage, zipped Shapefile, any CRS, field names."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from tests.hierarchy import hierarchy
from wangge.geo.crs import from_storage, parse_crs
from wangge.geo.errors import CoordinateRangeError, FieldMappingError, FileFormatError, InputError
from wangge.geo.io.boundaries import read_units, write_units

CM_IN_DEG = 0.01 / 111_000


def max_shift(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> float:
    return max(shapely.hausdorff_distance(x, y) for x, y in zip(a.geometry, b.geometry, strict=True))


@pytest.mark.parametrize("suffix,crs", [(".geojson", "EPSG:4490"), (".gpkg", "EPSG:4490"),
                                        (".gpkg", "EPSG:4549"), (".gpkg", "GCJ-02"),
                                        (".geojson", "BD-09"), (".gpkg", "EPSG:32651")])
def test_write_then_read_round_trip(tmp_path, suffix, crs):
    units = hierarchy()
    units["attrs"] = [{"户数": i, "type": "urban"} for i in range(len(units))]
    path = write_units(units, tmp_path / f"out{suffix}", crs=crs)
    offset = crs in ("GCJ-02", "BD-09")
    read = read_units(path, crs=crs if offset else None)
    assert read.source_crs == crs
    assert list(read.frame["code"]) == list(units["code"])
    assert list(read.frame["level"]) == list(units["level"])
    assert list(read.frame["attrs"]) == list(units["attrs"])
    assert max_shift(units, read.frame) < CM_IN_DEG


def test_zipped_gbk_shapefile_with_chinese_fields_and_projected_crs(tmp_path):
    units = hierarchy()
    metric = from_storage(np.asarray(units.geometry.values, dtype=object), parse_crs(4549))
    df = gpd.GeoDataFrame({"编码": units["code"], "名称": units["name"],
                           "上级编码": units["parent_code"], "层级": units["level"]},
                          geometry=list(metric), crs="EPSG:4549")
    shp = tmp_path / "grids.shp"
    pyogrio.write_dataframe(df, shp, encoding="GBK")  # Chinese shapefiles are commonly GBK
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in tmp_path.glob("grids.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    read = read_units(archive)
    assert read.mapping == {"code": "编码", "name": "名称", "parent_code": "上级编码", "level": "层级"}
    assert read.source_crs == "EPSG:4549"
    assert list(read.frame["name"]) == list(units["name"])
    assert max_shift(units, read.frame) < CM_IN_DEG


def test_explicit_field_mapping_and_level_from_code(tmp_path):
    units = hierarchy()
    df = gpd.GeoDataFrame({"WGBM": units["code"], "WGMC": units["name"], "SJ": units["parent_code"]},
                          geometry=units.geometry, crs="EPSG:4490")
    path = tmp_path / "custom.gpkg"
    pyogrio.write_dataframe(df, path)
    with pytest.raises(FieldMappingError, match="code"):
        read_units(path)  # no known code field
    read = read_units(path, fields={"code": "WGBM", "name": "WGMC", "parent_code": "SJ"})
    assert list(read.frame["level"]) == list(units["level"])  # from code length (9/12/15/18)
    with pytest.raises(FieldMappingError, match="NOPE"):
        read_units(path, fields={"code": "NOPE"})


def test_one_level_for_the_whole_file(tmp_path):
    units = hierarchy().query("level == 'grid'")
    df = gpd.GeoDataFrame({"code": ["A1", "A2", "A3", "A4"]}, geometry=units.geometry.values,
                          crs="EPSG:4490")
    path = tmp_path / "g.geojson"
    pyogrio.write_dataframe(df, path)
    assert set(read_units(path, level="网格").frame["level"]) == {"grid"}
    with pytest.raises(FieldMappingError, match="level"):
        read_units(path)
    with pytest.raises(InputError):
        read_units(path, level="floor")


def _geojson(tmp_path, coords, name="f.geojson"):
    fc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "320902001", "level": "street"},
        "geometry": {"type": "Polygon", "coordinates": [coords]}}]}
    path = tmp_path / name
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def test_refuses_metres_declared_as_degrees(tmp_path):
    path = _geojson(tmp_path, [[518000, 3697000], [519000, 3697000], [519000, 3698000],
                               [518000, 3697000]])
    with pytest.raises(CoordinateRangeError) as exc:
        read_units(path)
    assert "metres" in exc.value.message_en and "EPSG:4549" in exc.value.message_zh


def test_refuses_swapped_lon_lat(tmp_path):
    path = _geojson(tmp_path, [[33.4, 120.2], [33.4, 120.3], [33.5, 120.3], [33.4, 120.2]])
    with pytest.raises(CoordinateRangeError, match="swapped"):
        read_units(path)


def test_refuses_outside_china(tmp_path):
    path = _geojson(tmp_path, [[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]])
    with pytest.raises(CoordinateRangeError, match="outside China"):
        read_units(path)


def test_gcj02_declared_explicitly_is_converted(tmp_path):
    square = [[120.2, 33.4], [120.21, 33.4], [120.21, 33.41], [120.2, 33.4]]
    path = _geojson(tmp_path, square)
    plain = read_units(path).frame.geometry.iloc[0]
    gcj = read_units(path, crs="gcj02").frame.geometry.iloc[0]
    shift_m = shapely.distance(shapely.centroid(plain), shapely.centroid(gcj)) * 100_000
    assert 100 < shift_m < 700


def test_unsupported_and_unreadable_files(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="csv"):
        read_units(bad)
    broken = tmp_path / "x.geojson"
    broken.write_text("{not json")
    with pytest.raises(FileFormatError):
        read_units(broken)
    with pytest.raises(FileFormatError):
        read_units(tmp_path / "missing.gpkg")


def test_gpkg_without_crs_needs_explicit_crs(tmp_path):
    units = hierarchy()
    path = tmp_path / "nocrs.gpkg"
    no_crs = gpd.GeoDataFrame({"code": units["code"]}, geometry=list(units.geometry))
    with pytest.warns(UserWarning, match="crs"):
        pyogrio.write_dataframe(no_crs, path)
    with pytest.raises(InputError, match="--crs"):
        read_units(path)
    assert len(read_units(path, crs="EPSG:4490").frame) == len(units)


def test_codes_stored_as_floats_are_refused_not_corrupted(tmp_path):
    units = hierarchy().query("level == 'microgrid'")
    df = gpd.GeoDataFrame({"code": units["code"].astype(float), "level": units["level"]},
                          geometry=list(units.geometry), crs="EPSG:4490")
    path = tmp_path / "float_codes.gpkg"
    pyogrio.write_dataframe(df, path)
    with pytest.raises(FieldMappingError, match="text"):
        read_units(path)


def test_truncated_shapefile_field_name_is_recognised(tmp_path):
    units = hierarchy()
    df = gpd.GeoDataFrame({"code": units["code"], "name": units["name"], "level": units["level"],
                           "parent_code": units["parent_code"]}, geometry=list(units.geometry),
                          crs="EPSG:4490")
    shp = tmp_path / "u.shp"
    with pytest.warns(RuntimeWarning, match="parent_cod"):
        pyogrio.write_dataframe(df, shp)
    archive = tmp_path / "u.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in tmp_path.glob("u.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    read = read_units(archive)
    assert read.mapping["parent_code"] == "parent_cod"
    assert list(read.frame["parent_code"].fillna("")) == list(units["parent_code"].fillna(""))


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4326"])
@pytest.mark.parametrize("bad,words", [
    ("1e300", "far too large"), ("1e308", "far too large"), ("-1e308", "far too large"),
    ("5000", "metres"), ("NaN", "not a finite number"), ("Infinity", "not a finite number"),
])
def test_absurd_coordinates_are_stopped_at_the_crs_gate(tmp_path, crs, bad, words):
    # Written by hand: GDAL reads NaN and Infinity in GeoJSON. The gate refuses the file with the
    # feature named before anything is projected or measured (and without hanging).
    good = '{"type": "Feature", "properties": {"code": "320902001", "level": "street"}, ' \
           '"geometry": {"type": "Polygon", "coordinates": [[[120.2, 33.4], [120.3, 33.4], ' \
           '[120.3, 33.5], [120.2, 33.4]]]}}'
    absurd = good.replace("320902001", "320902002").replace("[120.3, 33.5]", f"[{bad}, 33.5]")
    epsg = crs.split(":")[1]
    path = tmp_path / "absurd.geojson"
    path.write_text('{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
                    f'{{"name": "urn:ogc:def:crs:EPSG::{epsg}"}}}}, "features": [{good}, {absurd}]}}',
                    encoding="utf-8")
    with pytest.raises(CoordinateRangeError) as exc:
        read_units(path)
    err = exc.value
    assert words in err.message_en and "Feature 2" in err.message_en
    assert "第 2 个要素" in err.message_zh and err.detail["feature"] == 2
    assert len(err.message_en) < 300  # a 1e308 is not printed with 300 digits
    json.dumps(err.as_dict(), allow_nan=False)  # the API can send it
