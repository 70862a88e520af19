"""Matching against a small hand-built gazetteer: levels, scores, reasons, cross-check."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from wangge.geo import chinacoords
from wangge.geo.crs import STORAGE_CRS, lonlat_to_storage
from wangge.geo.errors import InputError
from wangge.geocode.gazetteer import Gazetteer
from wangge.geocode.match import (
    FAR_FLAG,
    MatchConfig,
    Matcher,
    MatchLevel,
    cross_check,
    cross_check_many,
    distance_m,
)
from wangge.geocode.parse import parse

DEG_PER_M = 1 / 111_320.0


def _box(lon: float, lat: float, half_m: float = 60.0) -> shapely.Polygon:
    d = half_m * DEG_PER_M
    return shapely.box(lon - d, lat - d, lon + d, lat + d)


# name, road, door, street, centre, kind, floors, units, buildings
COMPOUNDS = [
    ("和平花园", "人民中路", "88", "文峰街道", (120.160, 33.380), "polygon", 18, 2, 3),
    ("和平家园", "人民中路", "90", "文峰街道", (120.163, 33.380), "polygon", 11, 2, 2),
    ("和安花园", "解放南路", "12", "文峰街道", (120.170, 33.370), "polygon", 11, 2, 2),
    ("锦绣新村", "解放南路", "15", "五星街道", (120.180, 33.390), "point", 6, 3, 4),
    ("春晖苑", "开放大道", "188", "五星街道", (120.190, 33.395), "point", 11, 2, 1),
]
VILLAGES = [("永丰村", "1", "南洋镇", (120.30, 33.45), 5), ("永丰村", "2", "南洋镇", (120.31, 33.45), 5),
            ("红星村", "1", "南洋镇", (120.33, 33.46), 3)]


def _gazetteer_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    comp_rows, build_rows = [], []
    for i, (name, road, door, street, (lon, lat), kind, floors, units, n) in enumerate(COMPOUNDS):
        cid = f"C{i + 1}"
        geom = _box(lon, lat) if kind == "polygon" else shapely.Point(lon, lat)
        comp_rows.append({"compound_id": cid, "name": name, "road": road, "road_number": door,
                          "street": street, "district": "亭湖区", "city": "盐城市",
                          "category": "compound", "kind": kind, "geometry": geom})
        for b in range(1, n + 1):
            build_rows.append({"building_id": f"{cid}-B{b}", "compound_id": cid, "number": str(b),
                               "units": units, "floors": floors,
                               "geometry": shapely.Point(lon + (b - 2) * 30 * DEG_PER_M, lat)})
    for k, (village, group, street, (lon, lat), n) in enumerate(VILLAGES):
        cid = f"V{k + 1}"
        comp_rows.append({"compound_id": cid, "name": f"{village}{group}组", "street": street,
                          "district": "亭湖区", "city": "盐城市", "category": "village",
                          "village": village, "group": group, "kind": "point",
                          "geometry": shapely.Point(lon, lat)})
        for h in range(1, n + 1):
            build_rows.append({"building_id": f"{cid}-H{h}", "compound_id": cid, "number": str(h),
                               "geometry": shapely.Point(lon + h * 25 * DEG_PER_M, lat)})
    return (gpd.GeoDataFrame(comp_rows, crs=STORAGE_CRS),
            gpd.GeoDataFrame(build_rows, crs=STORAGE_CRS))


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(*_gazetteer_frames())


@pytest.fixture
def matcher(gazetteer: Gazetteer) -> Matcher:
    return Matcher(gazetteer)


def test_exact_building(matcher: Matcher) -> None:
    r = matcher.match("江苏省盐城市亭湖区文峰街道人民中路88号和平花园3栋2单元1201室")
    assert r.level == MatchLevel.EXACT_BUILDING
    assert r.building_id == r.entry_id == "C1-B3"
    assert r.compound_id == "C1"
    assert r.trusted and r.score >= 0.95
    assert (r.lon, r.lat) == pytest.approx((120.160 + 30 * DEG_PER_M, 33.380))
    assert "门牌“人民中路88号”一致" in r.reason_zh
    assert "door number 人民中路88号 agrees" in r.reason_en


def test_messy_exact_building(matcher: Matcher) -> None:
    r = matcher.match("盐城市 亭湖区 人民中路８８号 和平花园（东门） 三号楼二单元１２０１室")
    assert (r.level, r.building_id, r.trusted) == (MatchLevel.EXACT_BUILDING, "C1-B3", True)


def test_typo_confirmed_by_door(matcher: Matcher) -> None:
    r = matcher.match("文峰街道人民中路88号和苹花园2栋1单元301室")
    assert r.level == MatchLevel.FUZZY_BUILDING
    assert r.building_id == "C1-B2"
    assert r.trusted
    assert "相近" in r.reason_zh


def test_typo_without_corroboration_goes_to_review(matcher: Matcher) -> None:
    # 和X花园 is one character from both 和平花园 and 和安花园: nothing says which.
    r = matcher.match("和苹花园1栋1单元301室")
    assert r.building_id in {"C1-B1", "C3-B1"}
    assert not r.trusted
    assert "另一候选" in r.reason_zh and "another candidate" in r.reason_en


def test_typo_that_spells_another_name_is_caught_by_the_door(matcher: Matcher) -> None:
    # 和平家园 exists (door 90), but the door says 88: the address meant 和平花园.
    r = matcher.match("人民中路88号和平家园3栋2单元301室")
    assert r.building_id == "C1-B3"
    assert r.level == MatchLevel.FUZZY_BUILDING


def test_missing_compound_found_by_door(matcher: Matcher) -> None:
    r = matcher.match("江苏省盐城市亭湖区文峰街道人民中路88号3栋2单元1201室")
    assert (r.level, r.building_id, r.trusted) == (MatchLevel.FUZZY_BUILDING, "C1-B3", True)
    assert "按门牌" in r.reason_zh


def test_road_and_number_only(matcher: Matcher) -> None:
    r = matcher.match("人民中路88号")
    assert r.level == MatchLevel.ROAD_NUMBER
    assert r.entry_id == r.compound_id == "C1" and r.building_id is None


def test_compound_without_building(matcher: Matcher) -> None:
    r = matcher.match("锦绣新村")
    assert r.level == MatchLevel.COMPOUND
    assert r.entry_id == "C4" and r.building_id is None
    assert (r.lon, r.lat) == pytest.approx((120.180, 33.390))


def test_building_not_in_compound(matcher: Matcher) -> None:
    r = matcher.match("锦绣新村9栋1单元101室")
    assert r.level == MatchLevel.COMPOUND and r.entry_id == "C4"
    assert not r.trusted
    assert "没有“9栋”" in r.reason_zh


def test_impossible_floor_lowers_the_score(matcher: Matcher) -> None:
    fine = matcher.match("解放南路15号锦绣新村1栋3单元602室")
    high = matcher.match("解放南路15号锦绣新村1栋3单元1202室")   # a six-storey block
    assert fine.trusted and fine.building_id == high.building_id == "C4-B1"
    assert high.score < fine.score and not high.trusted
    assert "没有这个单元或楼层" in high.reason_zh


def test_nothing(matcher: Matcher) -> None:
    for text in ("北京市朝阳区建国路100号博瀚大厦5栋1单元101室", "", "随便写的"):
        r = matcher.match(text)
        assert r.level == MatchLevel.NONE
        assert (r.score, r.entry_id, r.lon, r.trusted) == (0.0, None, None, False)
        assert r.reason_zh.startswith("未能定位") and r.reason_en.startswith("Not located")


def test_contradicting_parts_are_not_trusted(matcher: Matcher) -> None:
    other_street = matcher.match("五星街道和平花园3栋2单元1201室")
    assert other_street.building_id == "C1-B3" and not other_street.trusted
    other_district = matcher.match("北京市朝阳区和平花园3栋2单元1201室")
    assert not other_district.trusted
    other_door = matcher.match("解放南路15号和平花园1栋1单元101室")   # 15号 is 锦绣新村
    assert not other_door.trusted
    assert "属于另一处“锦绣新村”" in other_door.reason_zh or "锦绣新村" in other_door.reason_zh


def test_a_typo_that_spells_a_neighbour_at_its_door_means_the_neighbour(matcher: Matcher) -> None:
    # 解放南路12号 is 和安花园, one character from the 和平花园 written.
    r = matcher.match("解放南路12号和平花园1栋1单元101室")
    assert (r.building_id, r.level, r.trusted) == ("C3-B1", MatchLevel.FUZZY_BUILDING, True)


def test_villages(matcher: Matcher) -> None:
    r = matcher.match("江苏省盐城市亭湖区南洋镇永丰村2组3号")
    assert (r.level, r.building_id, r.trusted) == (MatchLevel.EXACT_BUILDING, "V2-H3", True)
    r = matcher.match("南洋镇永丰村三村民小组3号")   # the village has no group 3
    assert r.level == MatchLevel.NONE and "没有第3组" in r.reason_zh
    r = matcher.match("南洋镇永峰村2组3号")          # one wrong character
    assert (r.level, r.building_id) == (MatchLevel.FUZZY_BUILDING, "V2-H3")


def test_parsed_address_gives_the_same_result(matcher: Matcher) -> None:
    text = "人民中路88号和平花园3-2-1201"
    by_text = matcher.match(text)
    by_parsed = matcher.match(parse(text))
    assert (by_parsed.level, by_parsed.building_id, by_parsed.score) == \
        (by_text.level, by_text.building_id, by_text.score)


def test_match_many(matcher: Matcher) -> None:
    texts = ["人民中路88号和平花园3栋2单元1201室", "锦绣新村", "没有的地方", "南洋镇永丰村1组2号"]
    frame = matcher.match_many(texts)
    assert list(frame.columns) == ["address", "level", "score", "trusted", "entry_id",
                                   "building_id", "compound_id", "lon", "lat", "reason_zh",
                                   "reason_en", "given_lon", "given_lat", "distance_m", "flag"]
    assert frame["address"].tolist() == texts
    assert frame["level"].tolist() == ["exact_building", "compound", "none", "exact_building"]
    assert frame["entry_id"].fillna("").tolist() == ["C1-B3", "C4", "", "V1-H2"]
    for text, row in zip(texts, frame.itertuples(), strict=True):
        single = matcher.match(text)
        assert (row.score, row.reason_zh) == (single.score, single.reason_zh)
    assert frame["flag"].isna().all()
    assert matcher.match_many([]).empty


def test_cross_check_flags_far_coordinates(matcher: Matcher) -> None:
    r = matcher.match("人民中路88号和平花园3栋2单元1201室")
    assert cross_check(r, r.lon, r.lat + 20 * DEG_PER_M) is None
    assert cross_check(r, r.lon, r.lat + 500 * DEG_PER_M) == FAR_FLAG
    assert cross_check(r, None, None) is None
    assert cross_check(matcher.match("没有的地方"), 120.0, 33.0) is None
    flags = cross_check_many([120.0, 120.0, np.nan], [33.0, 33.0, 33.0],
                             [120.0, 120.01, 120.0], [33.0005, 33.0, 33.0], threshold_m=150)
    assert flags.tolist() == [None, FAR_FLAG, None]


def test_match_many_converts_and_cross_checks_coordinates(gazetteer: Gazetteer) -> None:
    matcher = Matcher(gazetteer, MatchConfig(far_threshold_m=100.0))
    text = "人民中路88号和平花园3栋2单元1201室"
    lon, lat = 120.160 + 30 * DEG_PER_M, 33.380
    glon, glat = chinacoords.wgs84_to_gcj02(lon, lat)
    blon, blat = chinacoords.wgs84_to_bd09(lon, lat)
    frame = matcher.match_many(
        [text] * 5,
        lon=[lon, glon, blon, glon, np.nan], lat=[lat, glat, blat, glat, np.nan],
        crs=["WGS-84", "GCJ-02", "BD-09", "WGS-84", None])   # row 4: GCJ-02 labelled WGS-84
    assert frame["given_lon"].iloc[:3].to_numpy() == pytest.approx([lon] * 3, abs=1e-6)
    assert frame["distance_m"].iloc[:3].max() < 1.0
    assert frame["flag"].fillna("").tolist() == ["", "", "", FAR_FLAG, ""]
    assert frame["trusted"].tolist() == [True, True, True, False, True]
    assert frame["reason_zh"].iloc[3].startswith("需人工核对：给定坐标距匹配位置")
    assert np.isnan(frame["distance_m"].iloc[4])


def test_lonlat_to_storage_and_distance() -> None:
    x, y = lonlat_to_storage([120.1, 120.2], [33.3, 33.4], "EPSG:4490")
    assert x.tolist() == [120.1, 120.2] and y.tolist() == [33.3, 33.4]
    gx, gy = chinacoords.wgs84_to_gcj02(120.1, 33.3)
    x, y = lonlat_to_storage([gx], [gy], "GCJ-02")
    assert (x[0], y[0]) == pytest.approx((120.1, 33.3), abs=1e-7)
    with pytest.raises(ValueError):
        lonlat_to_storage([1.0, 2.0], [1.0, 2.0], ["WGS-84"])
    assert distance_m(120.0, 33.0, 120.0, 33.001)[()] == pytest.approx(111.2, abs=0.2)


def test_gazetteer_reports_every_problem() -> None:
    compounds, buildings = _gazetteer_frames()
    compounds = compounds.drop(columns=["name"])
    with pytest.raises(InputError) as err:
        Gazetteer(compounds, buildings.drop(columns=["number"]))
    assert len(err.value.detail["problems"]) == 2
    compounds, buildings = _gazetteer_frames()
    buildings.loc[0, "compound_id"] = "nowhere"
    buildings.loc[1, "building_id"] = buildings.loc[2, "building_id"]
    with pytest.raises(InputError) as err:
        Gazetteer(compounds, buildings)
    assert any("duplicate" in p for p in err.value.detail["problems"])
    with pytest.raises(InputError):
        Gazetteer(compounds.set_crs(None, allow_override=True), _gazetteer_frames()[1])


def test_gazetteer_takes_other_crs() -> None:
    compounds, buildings = _gazetteer_frames()
    gaz = Gazetteer(compounds.to_crs(4549), buildings.to_crs(4549))
    assert gaz.building_xy[0] == pytest.approx(np.asarray(buildings.geometry.iloc[0].coords[0]),
                                               abs=1e-8)
