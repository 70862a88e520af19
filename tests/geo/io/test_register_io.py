"""Household registers in real formats: bad rows reported row by row, good rows kept."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from wangge.geo import chinacoords
from wangge.geo.errors import FieldMappingError, FileFormatError
from wangge.geo.io.register import as_lonlat, read_register

ROWS = [
    # 户编号, 地址, 经度, 纬度, 坐标系, 户人数, 户主姓名, 联系电话
    ["H001", "亭湖区人民中路88号和平花园3栋2单元1201室", "", "", "", "3", "王某某", "13900000001"],
    ["H002", "和平花园3栋1单元101室", "120.1601", "33.3802", "GCJ-02", "2", "", ""],
    ["H003", "", "120.1602", "33.3803", "WGS-84", "4", "", ""],
    ["H004", "和平花园5栋", "abc", "33.38", "", "1", "", ""],          # unparseable coordinates
    ["H005", "和平花园6栋", "120.16", "33.38", "北京54", "1", "", ""],  # unknown CRS
    ["H006", "", "", "", "", "2", "", ""],                             # no address, no coordinates
    ["H001", "重复的户", "", "", "", "2", "", ""],                      # duplicate id
    ["H007", "和平花园7栋", "33.38", "120.16", "", "2", "", ""],       # swapped
    ["H008", "和平花园8栋", "120.1603", "33.3804", "百度", "5", "李某", ""],
]
HEADER = ["户编号", "地址", "经度", "纬度", "坐标系", "户人数", "户主姓名", "联系电话"]


def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=HEADER)


@pytest.fixture(params=["csv-gbk", "csv-utf8", "xlsx", "json"])
def register_file(request, tmp_path):
    df = frame()
    if request.param == "csv-gbk":
        path = tmp_path / "register.csv"
        df.to_csv(path, index=False, encoding="gb18030")
    elif request.param == "csv-utf8":
        path = tmp_path / "register.csv"
        df.to_csv(path, index=False, encoding="utf-8-sig")
    elif request.param == "xlsx":
        path = tmp_path / "register.xlsx"
        df.to_excel(path, index=False)
    else:
        path = tmp_path / "register.json"
        path.write_text(json.dumps(df.to_dict("records"), ensure_ascii=False), encoding="utf-8")
    return path


def test_good_rows_kept_bad_rows_reported_row_by_row(register_file):
    reg = read_register(register_file)
    assert reg.row_count == 9
    assert list(reg.records["external_id"]) == ["H001", "H002", "H003", "H008"]
    problems = {(p.row, p.reason) for p in reg.problems}
    assert problems == {(5, "bad_coordinates"), (6, "unknown_crs"), (7, "no_location"),
                        (8, "duplicate_id"), (9, "bad_coordinates")}
    swapped = next(p for p in reg.problems if p.row == 9)
    assert "swapped" in swapped.message_en and "第 9 行" in swapped.message_zh
    assert list(reg.records["crs"]) == [None, "GCJ-02", "WGS-84", "BD-09"]
    assert reg.mapping["external_id"] == "户编号" and reg.mapping["size"] == "户人数"


def test_personal_fields_are_kept_apart(register_file):
    reg = read_register(register_file)
    assert "name" not in reg.records.columns and "phone" not in reg.records.columns
    assert set(reg.personal["external_id"]) == {"H001", "H008"}
    assert reg.personal.set_index("external_id").loc["H001", "phone"] == "13900000001"


def test_coordinates_converted_to_storage(register_file):
    reg = read_register(register_file)
    lon, lat = as_lonlat(reg.records)
    assert np.isnan(lon[0])
    expect = chinacoords.gcj02_to_wgs84(120.1601, 33.3802)
    assert (lon[1], lat[1]) == pytest.approx(expect, abs=1e-9)
    assert (lon[2], lat[2]) == (120.1602, 33.3803)
    assert (lon[3], lat[3]) == pytest.approx(chinacoords.bd09_to_wgs84(120.1603, 33.3804), abs=1e-9)


def test_column_override_and_missing_columns(tmp_path):
    df = pd.DataFrame({"HH": ["a", "b"], "ADDR": ["x", "y"]})
    path = tmp_path / "r.csv"
    df.to_csv(path, index=False)
    with pytest.raises(FieldMappingError):
        read_register(path)
    reg = read_register(path, columns={"external_id": "HH", "address": "ADDR"})
    assert list(reg.records["address"]) == ["x", "y"]


def test_unreadable_files(tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text("{not json")
    with pytest.raises(FileFormatError):
        read_register(bad)
    with pytest.raises(FileFormatError):
        read_register(tmp_path / "r.txt")


def test_problems_echo_hostile_cells_briefly(tmp_path):
    path = tmp_path / "long.csv"
    huge = "9" * 100_000
    path.write_text("户号,地址,经度,纬度,坐标系,户人数\n"
                    f"A1,某地,{huge},33.4,,\nA2,某地,120.1,33.4,{huge},\nA3,某地,,,,{huge}\n",
                    encoding="utf-8")
    problems = read_register(path).problems
    assert [p.reason for p in problems] == ["bad_coordinates", "unknown_crs", "bad_size"]
    assert all(len(p.message_zh) < 200 and len(p.message_en) < 250 for p in problems)


def test_household_sizes_as_registers_write_them(tmp_path):
    rows = [["S1", "和平花园1栋", "三口"], ["S2", "和平花园2栋", "3人"], ["S3", "和平花园3栋", "两口人"],
            ["S4", "和平花园4栋", "３"], ["S5", "和平花园5栋", "十二"], ["S6", "和平花园6栋", "很多"],
            ["S7", "和平花园7栋", ""]]
    path = tmp_path / "sizes.csv"
    pd.DataFrame(rows, columns=["户号", "地址", "户人数"]).to_csv(path, index=False)
    register = read_register(path)
    sizes = dict(zip(register.records["external_id"], register.records["size"], strict=True))
    assert sizes["S1"] == 3 and sizes["S2"] == 3 and sizes["S3"] == 2 and sizes["S4"] == 3
    assert sizes["S5"] == 12 and pd.isna(sizes["S7"])
    (bad,) = register.problems
    assert bad.external_id == "S6" and "很多" in bad.message_zh and bad.reason == "bad_size"
    assert bad.row == 7
