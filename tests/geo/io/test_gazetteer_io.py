"""Reading a gazetteer from real files: GeoPackage compounds, CSV buildings, GCJ-02 input."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from wangge.geo import chinacoords
from wangge.geo.errors import FieldMappingError
from wangge.geo.io.gazetteer import read_gazetteer


@pytest.fixture
def files(tmp_path):
    compounds = gpd.GeoDataFrame({"小区编号": ["C1", "C2"], "小区名称": ["和平花园", "文峰新村"],
                                  "道路": ["人民中路", "解放南路"], "门牌号": ["88", "12"]},
                                 geometry=[shapely.box(120.2, 33.4, 120.201, 33.401),
                                           shapely.Point(120.21, 33.41)], crs="EPSG:4326")
    cpath = tmp_path / "compounds.gpkg"
    pyogrio.write_dataframe(compounds, cpath)
    bpath = tmp_path / "buildings.csv"
    pd.DataFrame({"楼栋编号": ["B1", "B2"], "小区编号": ["C1", "C2"], "楼号": ["3", "1"],
                  "经度": ["120.2005", "120.2101"], "纬度": ["33.4005", "33.4101"]}
                 ).to_csv(bpath, index=False)
    return cpath, bpath


def test_reads_chinese_columns_and_csv_points(files):
    compounds, buildings = read_gazetteer(*files)
    assert list(compounds["name"]) == ["和平花园", "文峰新村"]
    assert list(compounds["road_number"]) == ["88", "12"]
    assert list(buildings["number"]) == ["3", "1"]
    assert buildings.crs.to_epsg() == 4490
    assert buildings.geometry.iloc[0].x == pytest.approx(120.2005)


def test_gcj02_input_is_converted(files):
    _, buildings = read_gazetteer(*files, crs="GCJ-02")
    lon, lat = chinacoords.gcj02_to_wgs84(120.2005, 33.4005)
    assert (buildings.geometry.iloc[0].x, buildings.geometry.iloc[0].y) == pytest.approx(
        (lon, lat), abs=1e-9)


def test_unknown_compound_is_refused(files, tmp_path):
    cpath, _ = files
    bad = tmp_path / "b.csv"
    pd.DataFrame({"building_id": ["B9"], "compound_id": ["C404"], "lon": [120.2],
                  "lat": [33.4]}).to_csv(bad, index=False)
    with pytest.raises(FieldMappingError, match="C404"):
        read_gazetteer(cpath, bad)
