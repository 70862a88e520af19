"""Site lists and worker lists in real formats: good files read, bad rows all reported, files refused."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from wangge.geo import chinacoords
from wangge.geo.coverage.sites import check_hours, check_sites, parse_kind, sites_frame
from wangge.geo.errors import FieldMappingError, InputError
from wangge.geo.io.sites import read_sites
from wangge.geo.io.workers import read_workers

HEADER = ["编号", "名称", "类型", "所属单元", "开放时间", "经度", "纬度", "坐标系"]
GOOD = [
    ["S1", "和平社区党群服务中心", "党群服务中心", "320902001001", "周一至周五 9:00-17:00", "120.1601",
     "33.3802", ""],
    ["S2", "第1网格驿站", "驿站", "320902001001001", "每天 8点-20点", "120.1611", "33.3812", "GCJ-02"],
    ["S3", "暖心驿站", "station", "320902001001002", "", "120.1621", "33.3822", "百度"],
    ["S4", "文峰社区服务中心", "", "320902001002", "全天开放", "120.1631", "33.3832", ""],  # kind from name
]
BAD = [
    ["S1", "重复", "驿站", "320902001001", "", "120.17", "33.38", ""],          # row 6: duplicate id
    ["S6", "小卖部", "商店", "320902001001", "", "120.17", "33.38", ""],         # row 7: unknown kind
    ["S7", "某驿站", "驿站", "", "随缘", "120.17", "33.38", ""],                  # row 8: no unit, bad hours
    ["S8", "某驿站", "驿站", "320902001001", "", "33.38", "120.17", ""],         # row 9: swapped
    ["", "某驿站", "驿站", "320902001001", "", "abc", "33.38", "北京54"],        # row 10: id, number, crs
]


def write(df: pd.DataFrame, tmp_path, fmt: str):
    if fmt == "csv-gbk":
        path = tmp_path / "sites.csv"
        df.to_csv(path, index=False, encoding="gb18030")
    elif fmt == "csv-utf8":
        path = tmp_path / "sites.csv"
        df.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "xlsx":
        path = tmp_path / "sites.xlsx"
        df.to_excel(path, index=False)
    else:
        path = tmp_path / "sites.geojson"
        features = []
        for rec in df.to_dict(orient="records"):
            lon, lat = rec.pop("经度"), rec.pop("纬度")
            try:
                geom = {"type": "Point", "coordinates": [float(lon), float(lat)]}
            except ValueError:
                geom = {"type": "Point", "coordinates": [lon, lat]}
            features.append({"type": "Feature", "properties": rec, "geometry": geom})
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                   ensure_ascii=False), encoding="utf-8")
    return path


FORMATS = ["csv-gbk", "csv-utf8", "xlsx", "geojson"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_good_sites(fmt, tmp_path):
    path = write(pd.DataFrame(GOOD, columns=HEADER), tmp_path, fmt)
    read = read_sites(path)
    sites = read.frame
    assert list(sites["site_id"]) == ["S1", "S2", "S3", "S4"]
    assert list(sites["kind"]) == ["centre", "station", "station", "centre"]
    assert sites.crs.to_epsg() == 4490
    assert sites["hours"].iloc[2] is None
    assert read.mapping["unit_code"] == "所属单元"
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    # Row 1 taken as is; GCJ-02 and BD-09 rows converted back to WGS-84/CGCS2000.
    assert (x[0], y[0]) == pytest.approx((120.1601, 33.3802))
    gx, gy = chinacoords.wgs84_to_gcj02(np.array([x[1]]), np.array([y[1]]))
    assert (gx[0], gy[0]) == pytest.approx((120.1611, 33.3812), abs=1e-6)
    bx, by = chinacoords.wgs84_to_bd09(np.array([x[2]]), np.array([y[2]]))
    assert (bx[0], by[0]) == pytest.approx((120.1621, 33.3822), abs=1e-6)
    assert abs(x[1] - 120.1611) > 1e-3  # the offset is hundreds of metres


def test_whole_file_crs(tmp_path):
    rows = [r[:-1] + [""] for r in GOOD[:1]]
    gx, gy = chinacoords.wgs84_to_gcj02(np.array([120.16]), np.array([33.38]))
    rows[0][5], rows[0][6] = f"{gx[0]:.8f}", f"{gy[0]:.8f}"
    path = write(pd.DataFrame(rows, columns=HEADER), tmp_path, "csv-utf8")
    sites = read_sites(path, crs="GCJ-02").frame
    assert (sites.geometry.x[0], sites.geometry.y[0]) == pytest.approx((120.16, 33.38), abs=1e-6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_rows_all_reported(fmt, tmp_path):
    path = write(pd.DataFrame(GOOD + BAD, columns=HEADER), tmp_path, fmt)
    with pytest.raises(InputError) as info:
        read_sites(path)
    problems = info.value.detail["problems"]
    first = 2 if fmt != "geojson" else 1  # header is spreadsheet row 1; features count from 1
    got = {(p["row"] - first, p["field"], p["reason"]) for p in problems}
    n = len(GOOD)
    expected = {(n, "site_id", "duplicate"), (n + 1, "kind", "unknown"), (n + 2, "unit_code", "missing"),
                (n + 2, "hours", "no_time"), (n + 3, "lon/lat", "outside_china"),
                (n + 4, "site_id", "missing"), (n + 4, "crs", "unknown")}
    if fmt == "geojson":  # "abc" is not a coordinate in GeoJSON either
        expected.add((n + 4, "lon/lat", "not_number"))
    else:
        expected.add((n + 4, "lon/lat", "not_number"))
    assert got == expected
    assert info.value.detail["bad_rows"] == sorted({p["row"] for p in problems})
    assert "写反" in info.value.message_zh and "swapped" in info.value.message_en


def test_missing_columns_refused(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"名称": ["x"], "经度": ["120.1"], "纬度": ["33.3"]}).to_csv(path, index=False)
    with pytest.raises(FieldMappingError) as info:
        read_sites(path)
    assert set(info.value.detail["missing"]) == {"site_id", "unit_code"}


def test_projected_crs(tmp_path):
    path = write(pd.DataFrame([GOOD[0][:5] + ["500000", "3694000", ""]], columns=HEADER), tmp_path,
                 "csv-utf8")
    sites = read_sites(path, crs="EPSG:4549").frame  # CGCS2000 GK CM 120E, metres
    assert sites.geometry.x[0] == pytest.approx(120.0, abs=1e-6)
    assert 33.3 < sites.geometry.y[0] < 33.4


def test_kind_and_hours_words():
    assert parse_kind("党群服务中心") == "centre" and parse_kind("暖心驿站") == "station"
    assert parse_kind("", "某某社区党群服务中心") == "centre" and parse_kind("商店") is None
    assert check_hours("周一至周五 9:00-17:00") is None and check_hours("8点半-17点") is None
    assert check_hours("24小时") is None and check_hours("随缘") == "no_time"
    assert check_hours("9:00-25:00") == "bad_time" and check_hours(None) is None


def test_check_sites_frame():
    units = gpd.GeoDataFrame({"code": ["A", "A1"], "level": ["community", "grid"],
                              "parent_code": [None, "A"]},
                             geometry=[shapely.box(120, 33, 120.1, 33.1), shapely.box(120, 33, 120.05, 33.1)],
                             crs=4490)
    sites = sites_frame(pd.DataFrame({
        "site_id": ["s1", "s1", "s3", "s4"], "kind": ["centre", "station", "shop", "station"],
        "name": ["a", "b", "c", "d"], "unit_code": ["A", "A1", "A1", "ZZ"],
        "hours": [None, "9:00-17:00", "???", None]}),
        [120.02, 120.07, 120.01, 120.01], [33.05, 33.05, 33.05, 33.05])
    found = {(f.rule, f.codes, f.severity) for f in check_sites(sites, units)}
    assert found == {("duplicate_id", ("s1",), "error"), ("unknown_kind", ("s3",), "error"),
                     ("bad_hours", ("s3",), "error"), ("outside_unit", ("s1",), "warning"),
                     ("unknown_unit", ("s4",), "error")}
    assert check_sites(sites.drop(columns="kind"))[0].rule == "missing_column"


# --- workers ---------------------------------------------------------------------------------

WORKER_HEADER = ["工号", "网格编码", "类型", "姓名", "手机号"]
WORKERS = [
    ["W1", "G1", "专职", "张三", "13900000001"],
    ["W2", "G1", "兼职", "李四", ""],
    ["W3", "G2", "是", "", ""],
]


@pytest.mark.parametrize("fmt", ["csv-gbk", "xlsx", "json"])
def test_workers_personal_split(fmt, tmp_path):
    df = pd.DataFrame(WORKERS, columns=WORKER_HEADER)
    if fmt == "json":
        path = tmp_path / "w.json"
        path.write_text(json.dumps({"workers": df.to_dict(orient="records")}, ensure_ascii=False),
                        encoding="utf-8")
    elif fmt == "xlsx":
        path = tmp_path / "w.xlsx"
        df.to_excel(path, index=False)
    else:
        path = tmp_path / "w.csv"
        df.to_csv(path, index=False, encoding="gb18030")
    read = read_workers(path, grid_codes=["G1", "G2"])
    assert list(read.workers.columns) == ["worker_id", "grid_code", "full_time", "row"]
    assert read.workers["full_time"].tolist() == [True, False, True]
    assert read.personal.to_dict(orient="records") == [
        {"worker_id": "W1", "name": "张三", "phone": "13900000001"},
        {"worker_id": "W2", "name": "李四", "phone": None}]
    assert "张三" not in repr(read) and "1390" not in repr(read)


def test_workers_bad_rows_never_echo_personal_data(tmp_path):
    rows = WORKERS + [["W1", "G9", "临时", "王五", "12"], ["", "", "专职", "赵六", "1390000000199999"]]
    path = tmp_path / "w.csv"
    pd.DataFrame(rows, columns=WORKER_HEADER).to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_workers(path, grid_codes=["G1", "G2"])
    got = {(p["row"], p["field"], p["reason"]) for p in info.value.detail["problems"]}
    assert got == {(5, "worker_id", "duplicate"), (5, "grid_code", "unknown"), (5, "full_time", "unknown"),
                   (5, "phone", "bad_phone"), (6, "worker_id", "missing"), (6, "grid_code", "missing"),
                   (6, "phone", "bad_phone")}
    text = json.dumps(info.value.as_dict(), ensure_ascii=False)
    for secret in ("王五", "赵六", "1390000000199999"):
        assert secret not in text
