"""Reading 一标三实 tables with Chinese headers: the standard address table as a gazetteer, the
housing and population registers as household registers; bad rows reported in Chinese and
English, never with a name, phone or ID number."""

from __future__ import annotations

import pytest

from tests import yibiao_world as world
from wangge.geo.errors import FieldMappingError
from wangge.geo.io.population import read_housing, read_population
from wangge.geo.io.standard_address import address_part, read_standard_addresses
from wangge.geocode.gazetteer import Gazetteer


@pytest.mark.parametrize(("value", "kind", "expected"), [
    ("3幢", "building", "3"), ("三号楼", "building", "3"), ("Ａ座", "building", "A"),
    ("12#", "building", "12"), ("第二单元", "unit", "2"), ("十二层", "floor", "12"),
    ("1201室", "room", "1201"), ("88号", "door", "88"), ("88-1号", "door", "88-1"),
    ("无", "building", None), ("", "room", None), (3.0, "unit", "3"), ("二十一", "floor", "21"),
])
def test_address_parts(value, kind, expected):
    assert address_part(value, kind) == expected


def test_standard_address_table_becomes_a_gazetteer(tmp_path):
    table = read_standard_addresses(world.standard_addresses(tmp_path / "标准地址.xlsx"))
    assert table.row_count == 14 and table.codes == 10
    assert table.mapping["code"] == "地址编码" and table.mapping["street"] == "街道（乡镇）"
    assert table.mapping["room"] == "户室号" and table.mapping["lon"] == "经度"
    reasons = {p.row: p.reason for p in table.problems}
    assert reasons == {12: "duplicate_code", 13: "missing_code", 14: "bad_coordinates",
                       15: "no_place"}
    for p in table.problems:
        assert p.message_zh.startswith(f"第 {p.row} 行") and p.message_en.startswith(f"row {p.row}")
    compounds = table.compounds.set_index("name")
    assert sorted(compounds.index) == ["和平花园", "幸福小区", "新都路88号"]
    heping = compounds.loc["和平花园"]
    assert heping["compound_id"] == world.HEPING and heping["codes"] == [world.HEPING]
    assert (heping["road"], heping["road_number"]) == ("人民路", "1")
    assert (heping["street"], heping["community"]) == (world.STREET, world.COMMUNITY)
    assert compounds.loc["新都路88号", "road_number"] == "88"
    buildings = table.buildings.set_index("building_id")
    one = buildings.loc[world.HEPING_1]
    assert one["number"] == "1" and one["units"] == 2 and one["floors"] == 2
    assert set(one["codes"]) == {world.HEPING_1, world.HEPING_1_101, world.HEPING_1_102,
                                 world.HEPING_1_201}
    assert (one.geometry.x, one.geometry.y) == pytest.approx(world.centre(0, -0.0008))
    # building 2 has no row of its own: a derived id, its rooms' point
    two = table.buildings[table.buildings["number"] == "2"].iloc[0]
    assert two["building_id"].startswith("B") and set(two["codes"]) == {world.HEPING_2_301,
                                                                        world.HEPING_2_302}
    assert (two.geometry.x, two.geometry.y) == pytest.approx(world.centre(0, 0.0008))
    three = table.buildings[table.buildings["compound_id"] == world.XINGFU_3].empty
    assert three  # 幸福小区 has no door row: its id is derived, its building is 3
    xingfu = compounds.loc["幸福小区"]
    assert table.buildings[table.buildings["compound_id"] == xingfu["compound_id"]]["number"] \
        .tolist() == ["3"]
    Gazetteer(table.compounds, table.buildings)  # the matcher accepts it


def test_a_compound_without_any_coordinates_is_reported(tmp_path):
    rows = [world._address("1", "新都路", "1号", "无名小区", "1栋"),
            world._address("2", "新都路", "1号", "无名小区", "2栋"),
            world._address("3", "新都路", "3号", None, at=world.centre(5))]
    path = world.write_xlsx(tmp_path / "a.xlsx", world.ADDRESS_HEADERS, rows)
    table = read_standard_addresses(path)
    assert [(p.row, p.reason) for p in table.problems] == [(2, "no_coordinates"),
                                                          (3, "no_coordinates")]
    assert table.compounds["name"].tolist() == ["新都路3号"]


def test_standard_address_table_needs_codes_and_places(tmp_path):
    path = world.write_xlsx(tmp_path / "a.xlsx", ["标准地址", "小区"], [["x", "y"]])
    with pytest.raises(FieldMappingError) as err:
        read_standard_addresses(path)
    assert "地址编码" in err.value.message_zh and "address code" in err.value.message_en
    path = world.write_xlsx(tmp_path / "b.xlsx", ["编码", "名称"], [["1", "y"]])
    with pytest.raises(FieldMappingError):
        read_standard_addresses(path, columns={"code": "编码"})  # no compound, no road and door
    table = read_standard_addresses(path, columns={"code": "编码", "compound": "名称"})
    assert [p.reason for p in table.problems] == ["no_coordinates"]


def test_housing_register(tmp_path):
    reg = read_housing(world.housing(tmp_path / "实有房屋.xlsx"))
    assert reg.row_count == 6
    assert [(p.row, p.reason) for p in reg.problems] == [(6, "duplicate_id"), (7, "bad_size")]
    records = reg.records.set_index("external_id")
    assert list(records.index) == ["FW001", "FW002", "FW003", "FW004"]
    assert records.loc["FW001", "building_id"] == world.HEPING_1_101
    assert records.loc["FW001", "size"] == 3 and records.loc["FW004", "size"] is None
    assert reg.personal.empty  # owners are not read
    assert reg.mapping["name"] is None and reg.mapping["size"] == "居住人数"
    assert all(w not in p.message_zh + p.message_en for p in reg.problems
               for w in world.PERSONAL_TEXT)


def test_population_register_groups_residents_into_households(tmp_path):
    reg = read_population(world.population(tmp_path / "实有人口.xlsx"))
    assert reg.row_count == 8
    assert [(p.row, p.reason) for p in reg.problems] == [(8, "missing_id"),
                                                         (9, "duplicate_person")]
    for p in reg.problems:  # no name, phone or ID number in any message
        assert all(w not in p.message_zh + p.message_en for w in world.PERSONAL_TEXT)
    records = reg.records.set_index("external_id")
    assert records["size"].to_dict() == {"FW001": 3, "FW002": 2, "FW006": 1}
    assert records.loc["FW001", "building_id"] == world.HEPING_1_101
    assert records.loc["FW002", "building_id"] is None
    assert records.loc["FW002", "address"] == "亭湖区幸福小区3栋1单元501室"
    people = reg.personal.set_index("external_id")
    # the head's fields (户主 / 本人), else the first resident's
    assert people.loc["FW001"].tolist() == [world.HEAD_NAME, world.HEAD_PHONE, world.HEAD_ID]
    assert people.loc["FW002", "name"] == "租户乙" and people.loc["FW006", "name"] == "住户丁"
    assert reg.mapping["external_id"] == "房屋编码" and reg.mapping["id_number"] == "公民身份号码"


def test_population_grouped_by_another_column(tmp_path):
    reg = read_population(world.population(tmp_path / "p.xlsx"),
                          columns={"external_id": "地址编码"})
    assert set(reg.records["external_id"]) == {world.HEPING_1_101, world.HEPING_2_302}
    with pytest.raises(FieldMappingError):
        read_population(world.population(tmp_path / "p.xlsx"), columns={"external_id": "户号"})
    path = world.write_xlsx(tmp_path / "q.xlsx", ["姓名", "居住地址"], [["某", "某处"]])
    with pytest.raises(FieldMappingError) as err:
        read_population(path)
    assert "房屋编码" in err.value.message_zh
