"""Real-form notations and the failure classes of issue 14, with our own examples (not corpus lines)."""

from __future__ import annotations

import pytest

from wangge.geocode.parse import ParsedAddress, parse

_KEYS = ("province", "city", "district", "street", "community", "road", "road_number", "compound",
         "building", "unit", "written_floor", "room", "village", "group", "house_number")


def fields(parsed: ParsedAddress) -> dict[str, str | None]:
    return {k: getattr(parsed, k) for k in _KEYS if getattr(parsed, k) is not None}


@pytest.mark.parametrize(("raw", "expected"), [
    # a province or city without its suffix, glued to the next name: nothing after it lost
    ("江苏盐城亭湖区文峰街道和平花园3栋2单元1201室",
     {"province": "江苏", "city": "盐城", "district": "亭湖区", "street": "文峰街道",
      "compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("山东济南市历下区泉城路18号",
     {"province": "山东", "city": "济南市", "district": "历下区", "road": "泉城路",
      "road_number": "18"}),
    ("辽宁省大连经济技术开发区海青里7栋-1-3-2号",
     {"province": "辽宁省", "city": "大连", "compound": "海青里", "building": "7", "unit": "1",
      "written_floor": "3", "room": "2"}),
    # a county-level city is a district, not a city
    ("江苏省丹阳市云阳街道新桥花园2栋301室",
     {"province": "江苏省", "district": "丹阳市", "street": "云阳街道", "compound": "新桥花园",
      "building": "2", "room": "301"}),
    # 吉林市 is a city, not the province 吉林
    ("吉林市船营区松江路9号", {"city": "吉林市", "district": "船营区", "road": "松江路",
                               "road_number": "9"}),
    # villages and groups as a level
    ("南洋镇王庄村三组12号", {"street": "南洋镇", "village": "王庄村", "group": "3",
                              "house_number": "12"}),
    ("南洋镇王庄村", {"street": "南洋镇", "village": "王庄村"}),
    ("南洋镇王庄村28号", {"street": "南洋镇", "village": "王庄村", "house_number": "28"}),
    ("新洋镇东风居委会后园组", {"street": "新洋镇", "community": "东风居委会", "group": "后园"}),
    ("新洋镇东风社区5组", {"street": "新洋镇", "community": "东风社区", "group": "5"}),
    # 社区/居委会 names; bracketed text that is the address
    ("文峰街道和平社区居委会【幸福家园5-2-301】",
     {"street": "文峰街道", "community": "和平社区居委会", "compound": "幸福家园", "building": "5",
      "unit": "2", "room": "301"}),
    ("解放路12号（工商银行宿舍2幢1层103室）",
     {"road": "解放路", "road_number": "12", "compound": "工商银行宿舍", "building": "2",
      "written_floor": "1", "room": "103"}),
    ("幸福家园3栋1201室(和平社区)", {"community": "和平社区", "compound": "幸福家园",
                                    "building": "3", "room": "1201"}),
    # compound names ending in a number; building numbers with a dash
    ("幸福二区5-12号楼", {"compound": "幸福二区", "building": "5-12"}),
    ("幸福二区5-2-301", {"compound": "幸福二区", "building": "5", "unit": "2", "room": "301"}),
    ("阳光三期2-1幢2单元902室", {"compound": "阳光三期", "building": "2-1", "unit": "2",
                                 "room": "902"}),
    # the notations registers mix
    ("和平花园3-2-1201", {"compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("和平花园3栋2单元1201", {"compound": "和平花园", "building": "3", "unit": "2",
                              "room": "1201"}),
    ("和平花园三号楼二单元1201室", {"compound": "和平花园", "building": "3", "unit": "2",
                                    "room": "1201"}),
    ("和平花园3#2-1201", {"compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("和平花园3幢", {"compound": "和平花园", "building": "3"}),
    ("和平花园B12幢1单元6层东户", {"compound": "和平花园", "building": "B12", "unit": "1",
                                   "written_floor": "6", "room": "东户"}),
    ("和平花园8#楼1-6-2号房", {"compound": "和平花园", "building": "8", "unit": "1",
                               "written_floor": "6", "room": "2"}),
    ("和平花园12-1-3-4号", {"compound": "和平花园", "building": "12", "unit": "1",
                            "written_floor": "3", "room": "4"}),
    ("建设路5号院3号楼8层806", {"road": "建设路", "road_number": "5", "compound": "5号院",
                                "building": "3", "written_floor": "8", "room": "806"}),
    # the Northeast's unit-floor-door after a door number
    ("沈阳市和平区南京街21-3号(2-5-1)",
     {"city": "沈阳市", "district": "和平区", "road": "南京街", "road_number": "21-3",
      "unit": "2", "written_floor": "5", "room": "1"}),
    ("青年路139号6单元2层1号", {"road": "青年路", "road_number": "139", "unit": "6",
                                "written_floor": "2", "room": "1"}),
    # door numbers with 之/附/甲乙
    ("成都市青羊区青华路35号附1号", {"city": "成都市", "district": "青羊区", "road": "青华路",
                                     "road_number": "35附1"}),
    ("厦门市思明区湖滨南路88号之三", {"city": "厦门市", "district": "思明区", "road": "湖滨南路",
                                      "road_number": "88之三"}),
    ("北京市西城区月坛北街甲12号", {"province": "北京市", "district": "西城区", "road": "月坛北街",
                                    "road_number": "甲12"}),
    ("沈阳市皇姑区黄河北大街262乙号", {"city": "沈阳市", "district": "皇姑区",
                                       "road": "黄河北大街", "road_number": "262乙"}),
    # 地下室, 车库, 商铺: the room is read, the word kept
    ("和平花园3栋地下室", {"compound": "和平花园", "building": "3"}),
    ("和平花园A2幢20号车库", {"compound": "和平花园", "building": "A2", "room": "20"}),
    ("和平花园商铺7号", {"compound": "和平花园", "room": "7"}),
    # full-width digits and letters
    ("和平花园Ａ３栋１单元１０２室", {"compound": "和平花园", "building": "A3", "unit": "1",
                                     "room": "102"}),
    # a road, its section and the side of it
    ("红星路一段35号", {"road": "红星路一段", "road_number": "35"}),
    ("东升路南侧8号4单元1204号", {"road": "东升路", "road_number": "8", "unit": "4",
                                  "room": "1204"}),
    # a door number written with a dash before the building
    ("民主路85-1栋2单元902室", {"road": "民主路", "road_number": "85", "building": "1",
                                "unit": "2", "room": "902"}),
])
def test_forms(raw: str, expected: dict[str, str]) -> None:
    assert fields(parse(raw)) == expected


@pytest.mark.parametrize(("raw", "kept"), [
    ("和平花园3栋地下室", ("地下室",)),
    ("和平花园A2幢20号车库", ("车库",)),
    ("和平花园3栋1201室(自主申报)", ("自主申报",)),
    ("江苏省南通经济技术开发区新开路6号", ("经济技术开发区",)),
    ("东升路南侧8号", ("南侧",)),
])
def test_unknown_text_is_kept(raw: str, kept: tuple[str, ...]) -> None:
    assert parse(raw).rest == kept


@pytest.mark.parametrize("raw", [
    "和平花园3栋", "江苏盐城亭湖区和平花园3栋", "辽宁省大连经济技术开发区海青里7栋",
    "城市花园3栋", "高新技术产业开发区和平花园3栋", "南京市江宁经济技术开发区天元路8号",
    "新疆乌鲁木齐高新区北京路9号", "江南水乡景园2号楼",
])
def test_no_administrative_name_is_invented(raw: str) -> None:
    parsed = parse(raw)
    for key in ("province", "city", "district", "street"):
        value = getattr(parsed, key)
        assert value is None or value in raw, (key, value)
    assert parsed.district is None or "开发" not in parsed.district


def test_floor_from_room_or_as_written() -> None:
    assert parse("和平花园3栋2单元1201室").floor == 12
    assert parse("和平花园3栋2单元6层2号").floor == 6
    assert parse("和平花园3栋东户").floor is None


def test_matcher_says_which_components_it_used() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from wangge.geocode.gazetteer import Gazetteer
    from wangge.geocode.match import Matcher

    compounds = gpd.GeoDataFrame(
        {"compound_id": ["c1"], "name": ["和平花园"], "road": ["人民中路"], "road_number": ["88"],
         "street": ["文峰街道"]}, geometry=[Point(120.16, 33.35)], crs="EPSG:4490")
    buildings = gpd.GeoDataFrame(
        {"building_id": ["b3"], "compound_id": ["c1"], "number": ["3"], "units": [2],
         "floors": [18]}, geometry=[Point(120.1601, 33.3501)], crs="EPSG:4490")
    matcher = Matcher(Gazetteer(compounds, buildings))
    result = matcher.match("江苏盐城亭湖区文峰街道和平社区人民中路88号和平花园3栋2单元1201室")
    assert result.building_id == "b3" and result.trusted
    assert result.components == ("city", "district", "street", "road", "door", "compound",
                                 "building", "unit", "floor")
    assert result.ignored == ("province", "community")
    assert matcher.match("和平花园【3-2-1201】").building_id == "b3"
