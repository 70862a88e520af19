"""Parsing hand-written, real-style addresses into their components; nothing is invented."""

from __future__ import annotations

import pytest

from wangge.geocode.parse import ParsedAddress, parse


def fields(parsed: ParsedAddress) -> dict[str, str | None]:
    return {k: getattr(parsed, k) for k in (
        "province", "city", "district", "street", "community", "road", "road_number", "compound",
        "building", "unit", "room", "village", "group", "house_number")
        if getattr(parsed, k) is not None}


def test_canonical_address() -> None:
    parsed = parse("江苏省盐城市亭湖区文峰街道人民中路88号和平花园3栋2单元1201室")
    assert fields(parsed) == {
        "province": "江苏省", "city": "盐城市", "district": "亭湖区", "street": "文峰街道",
        "road": "人民中路", "road_number": "88", "compound": "和平花园", "building": "3",
        "unit": "2", "room": "1201"}
    assert parsed.floor == 12


@pytest.mark.parametrize(("raw", "expected"), [
    # prefixes left out: they stay unknown
    ("盐城市亭湖区人民中路88号和平花园3栋2单元1201室",
     {"city": "盐城市", "district": "亭湖区", "road": "人民中路", "road_number": "88",
      "compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("文峰街道和平花园3栋2单元1201室",
     {"street": "文峰街道", "compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("和平小区3栋", {"compound": "和平小区", "building": "3"}),
    # full-width, building words, spaces, noise: same parts
    ("盐城市 亭湖区 人民中路８８号 和平花园（东门） ３号楼２单元１２０１室",
     {"city": "盐城市", "district": "亭湖区", "road": "人民中路", "road_number": "88",
      "compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    # unit and room with dashes, 单元 or 室 left out
    ("和平花园3-2-1201", {"compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("和平花园3栋2-1201", {"compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("和平花园3栋2单元1201", {"compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    ("和平花园3栋1201室", {"compound": "和平花园", "building": "3", "room": "1201"}),
    ("和平花园3-1201", {"compound": "和平花园", "building": "3", "room": "1201"}),
    # 号 vs -: the door number written with a dash or bare
    ("人民中路88-和平花园3栋", {"road": "人民中路", "road_number": "88", "compound": "和平花园",
                                "building": "3"}),
    ("人民中路88和平花园3栋", {"road": "人民中路", "road_number": "88", "compound": "和平花园",
                               "building": "3"}),
    # no compound: the door, then the building
    ("人民中路88号3栋2单元1201室", {"road": "人民中路", "road_number": "88", "building": "3",
                                    "unit": "2", "room": "1201"}),
    ("人民中路88-3-2-1201", {"road": "人民中路", "road_number": "88", "building": "3",
                              "unit": "2", "room": "1201"}),
    ("人民中路88号", {"road": "人民中路", "road_number": "88"}),
    ("开放大道188号锦绣新村1栋", {"road": "开放大道", "road_number": "188", "compound": "锦绣新村",
                                  "building": "1"}),
    # Chinese numerals
    ("和平花园三栋二单元1201室", {"compound": "和平花园", "building": "3", "unit": "2", "room": "1201"}),
    # a compound name that looks like a city or a street: not taken for one
    ("城市花园3栋", {"compound": "城市花园", "building": "3"}),
    ("金街花园3栋", {"compound": "金街花园", "building": "3"}),
    # villages: group and house number
    ("江苏省盐城市亭湖区海福街道永丰村3组15号",
     {"province": "江苏省", "city": "盐城市", "district": "亭湖区", "street": "海福街道",
      "village": "永丰村", "group": "3", "house_number": "15"}),
    ("永丰村三组15号", {"village": "永丰村", "group": "3", "house_number": "15"}),
    ("永丰村3村民小组15", {"village": "永丰村", "group": "3", "house_number": "15"}),
    ("南洋镇永丰村3队15号", {"street": "南洋镇", "village": "永丰村", "group": "3",
                             "house_number": "15"}),
    # a community written in the address
    ("文峰街道和平社区和平花园3栋", {"street": "文峰街道", "community": "和平社区",
                                     "compound": "和平花园", "building": "3"}),
    # elsewhere in China
    ("北京市朝阳区建国路100号某某大厦", {"province": "北京市", "district": "朝阳区", "road": "建国路",
                                         "road_number": "100", "compound": "某某大厦"}),
])
def test_parse(raw: str, expected: dict[str, str]) -> None:
    assert fields(parse(raw)) == expected


def test_nothing_to_parse() -> None:
    assert fields(parse("")) == {}
    assert parse("和平花园").floor is None
