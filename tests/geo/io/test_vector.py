"""The one vector reader on real files: GeoPackage and zipped Shapefile written by pyogrio,
GeoJSON as bytes, layer choice, and files that cannot be read."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from contextlib import closing

import geopandas as gpd
import pyogrio
import pytest
import shapely

from wangge.geo.errors import FileFormatError
from wangge.geo.io.vector import read_vector


def _frame(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [f"32090200{i}" for i in range(n)], "名称": ["甲", "乙", "丙"][:n]},
                            geometry=[shapely.box(120 + i * 0.01, 33, 120.01 + i * 0.01, 33.01)
                                      for i in range(n)], crs="EPSG:4490")


def test_geopackage_round_trip(tmp_path):
    path = tmp_path / "units.gpkg"
    pyogrio.write_dataframe(_frame(), path, layer="units")
    frame = read_vector(path, "units.gpkg")
    assert list(frame["code"]) == list(_frame()["code"]) and list(frame["名称"]) == ["甲", "乙", "丙"]
    assert frame.crs.to_epsg() == 4490 and frame.attrs["layer"] == "units"
    assert shapely.equals_exact(frame.geometry.values, _frame().geometry.values, 1e-12).all()


def test_zipped_shapefile(tmp_path):
    pyogrio.write_dataframe(_frame(), tmp_path / "units.shp", encoding="UTF-8")
    archive = tmp_path / "units.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("units.*"):
            if part != archive:
                z.write(part, part.name)
    frame = read_vector(archive, "单元.zip")
    assert list(frame["code"]) == list(_frame()["code"]) and frame.crs.to_epsg() == 4490


def test_geojson_bytes():
    body = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "1"},
         "geometry": {"type": "Point", "coordinates": [120.1, 33.3]}}]}).encode()
    frame = read_vector(body, "上传.geojson")
    assert list(frame["code"]) == ["1"] and frame.geometry.iloc[0].equals(shapely.Point(120.1, 33.3))


def test_several_layers_first_or_named(tmp_path):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(_frame(1), path, layer="a")
    pyogrio.write_dataframe(_frame(2), path, layer="b")
    first = read_vector(path, "two.gpkg")  # no warning: the layer is chosen here
    assert len(first) == 1 and first.attrs["layer"] == "a" and first.attrs["layers"] == ["a", "b"]
    assert len(read_vector(path, "two.gpkg", layer="b")) == 2
    with pytest.raises(FileFormatError) as info:
        read_vector(path, "two.gpkg", layer="c")
    assert "two.gpkg" in info.value.message_zh and "“c”" in info.value.message_zh
    assert info.value.detail["layers"] == ["a", "b"] and "a, b" in info.value.message_en


def test_empty_layer_and_layerless_geopackage(tmp_path):
    path = tmp_path / "empty.gpkg"
    pyogrio.write_dataframe(_frame().iloc[:0], path, layer="units")
    with pytest.raises(FileFormatError, match="empty.gpkg has no features"):
        read_vector(path, "empty.gpkg")
    layerless = tmp_path / "layerless.gpkg"  # GDAL does not open a GeoPackage without layers
    pyogrio.write_dataframe(_frame(), layerless, layer="gone", layer_options={"SPATIAL_INDEX": "NO"})
    with closing(sqlite3.connect(layerless)) as db, db:
        db.execute("DROP TABLE gone")
        for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents"):
            db.execute(f"DELETE FROM {table} WHERE table_name = 'gone'")
    with pytest.raises(FileFormatError) as info:
        read_vector(layerless, "layerless.gpkg")
    assert "Cannot read layerless.gpkg" in info.value.message_en


def test_corrupt_missing_and_unsupported_files(tmp_path):
    corrupt = tmp_path / "upload.gpkg"
    corrupt.write_bytes(b"PK\x03\x04 not a geopackage at all" * 10)
    with pytest.raises(FileFormatError) as info:
        read_vector(corrupt, "我的网格.gpkg")
    error = info.value
    assert "我的网格.gpkg" in error.message_zh and "damaged" in error.message_en
    assert str(tmp_path) not in json.dumps(error.as_dict(), ensure_ascii=False)
    assert "我的网格.gpkg" in error.detail["reason"]
    with pytest.raises(FileFormatError, match="not found"):
        read_vector(tmp_path / "missing.gpkg", "missing.gpkg")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="Unsupported"):
        read_vector(tmp_path / "x.csv", "x.csv")
    with pytest.raises(FileFormatError, match="Cannot read"):
        read_vector(b"{not json", "x.geojson")
