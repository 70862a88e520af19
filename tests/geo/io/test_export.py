"""Exports as GDAL reads them: the declared CRS is right for every choice (GCJ-02 and BD-09
included: never WGS-84/CRS84), a GeoPackage has one layer per level in GPKG 1.2, Chinese field
names and level values on request, and every file reads back to the same units within 1 cm."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely

from tests.hierarchy import hierarchy
from wangge.geo.chinacoords import wgs84_to_bd09, wgs84_to_gcj02
from wangge.geo.errors import InputError
from wangge.geo.io.boundaries import export_units, read_units

CM_IN_DEG = 0.01 / 111_000
LEVELS = ["street", "community", "grid", "microgrid"]
# every CRS the export offers: (choice, what GDAL must report as declared, or None)
CHOICES = [("EPSG:4490", "EPSG:4490"), ("EPSG:4326", "EPSG:4326"), ("OGC:CRS84", "OGC:CRS84"),
           ("EPSG:4549", "EPSG:4549"), ("GCJ-02", None), ("BD-09", None)]
OFFSETS = {"GCJ-02": wgs84_to_gcj02, "BD-09": wgs84_to_bd09}


def _declared(info_crs: str | None) -> pyproj.CRS | None:
    return pyproj.CRS.from_user_input(info_crs) if info_crs else None


def _same_units(truth, back) -> None:
    by_code = dict(zip(back["code"], back.geometry, strict=True))
    assert set(by_code) == set(truth["code"])
    assert dict(zip(back["code"], back["level"], strict=True)) == \
        dict(zip(truth["code"], truth["level"], strict=True))
    for code, geom in zip(truth["code"], truth.geometry, strict=True):
        assert shapely.hausdorff_distance(geom, by_code[code]) < CM_IN_DEG, code


@pytest.mark.parametrize("choice,declared", CHOICES)
def test_geopackage_declares_the_crs_one_layer_per_level(tmp_path, choice, declared):
    truth = hierarchy()
    path = tmp_path / "units.gpkg"
    assert export_units(truth, path, crs=choice) == LEVELS
    assert [str(name) for name in pyogrio.list_layers(path)[:, 0]] == LEVELS
    for level in LEVELS:
        info = pyogrio.read_info(path, layer=level)
        assert info["features"] == int((truth["level"] == level).sum())
        crs = _declared(info["crs"])
        if declared is not None:
            assert crs == pyproj.CRS.from_user_input(declared), (choice, info["crs"])
        else:  # a user-defined CRS named for the offset system, never WGS 84
            assert crs.name == choice and crs.to_epsg() is None
            assert not crs.equals(pyproj.CRS.from_epsg(4326))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200         # GPKG 1.2
        if declared is None:
            org, name = db.execute("SELECT organization, srs_name FROM gpkg_spatial_ref_sys "
                                   "WHERE srs_id >= 100000").fetchone()
            assert org.upper() == "NONE" and name == choice
    back = read_units(path)  # no --crs needed, GCJ-02 included: the file says what it is
    if declared is None:
        assert back.source_crs == choice
    assert any("one per level" in note for note in back.notes)
    _same_units(truth, back.frame)


@pytest.mark.parametrize("choice,declared", CHOICES)
def test_geojson_declares_the_crs_or_none_for_offset_systems(tmp_path, choice, declared):
    truth = hierarchy()
    path = tmp_path / "units.geojson"
    export_units(truth, path, crs=choice)
    doc = json.loads(path.read_text(encoding="utf-8"))
    if declared is None:
        assert "crs" not in doc  # never CRS84: QGIS would put it ~500 m off
        assert doc["coordinate_system"] == choice and doc["crs_declared"] is False
        assert f"--crs {choice}" in doc["description"] and "无 EPSG 代码" in doc["description"]
        # the coordinates really are the offset ones
        x, y = shapely.get_coordinates(truth.geometry.iloc[0])[0]
        ox, oy = OFFSETS[choice](np.array([x]), np.array([y]))
        first = doc["features"][0]["geometry"]["coordinates"][0][0]
        assert first == pytest.approx([ox[0], oy[0]], abs=1e-9)
        back = read_units(path)  # wangge reads its own marker; other tools see no CRS
        assert back.source_crs == choice and any("declares no CRS" in n for n in back.notes)
        assert read_units(path, crs=choice).source_crs == choice
    else:
        assert _declared(pyogrio.read_info(path)["crs"]) == pyproj.CRS.from_user_input(declared)
        back = read_units(path)
    _same_units(truth, back.frame)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_chinese_field_names_and_level_values(tmp_path, suffix):
    truth = hierarchy()
    path = tmp_path / f"units{suffix}"
    layers = export_units(truth, path, crs="GCJ-02", fields="zh")
    if suffix == ".gpkg":
        assert layers == ["街道", "社区", "网格", "微网格"]
    raw = pyogrio.read_dataframe(path, layer=layers[-1] if suffix == ".gpkg" else None)
    assert {"编码", "名称", "层级", "上级编码", "属性"} <= set(raw.columns)
    assert set(raw["层级"]) <= {"街道", "社区", "网格", "微网格"} and "微网格" in set(raw["层级"])
    back = read_units(path, crs="GCJ-02" if suffix == ".geojson" else None)
    assert back.mapping["code"] == "编码" and back.mapping["level"] == "层级"
    _same_units(truth, back.frame)


def test_unknown_field_style_is_refused(tmp_path):
    with pytest.raises(InputError, match="en or zh") as refused:
        export_units(hierarchy(), tmp_path / "x.gpkg", fields="fr")
    assert "en 或 zh" in refused.value.message_zh
