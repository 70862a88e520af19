"""一标三实 imports on SQLite and PostGIS: a standard address table becomes the gazetteer, the
housing and population registers become households found by address code first (then by text),
assigned to micro-grids; personal fields kept apart and never in a message."""

from __future__ import annotations

import pytest

from tests import yibiao_world as world
from tests.hierarchy import hierarchy
from wangge.geo.errors import InputError
from wangge.geo.levels import Level
from wangge.households import ADDRESS_CODE_LEVEL, import_register, import_standard_addresses
from wangge.store import Store


@pytest.fixture
def world_store(store: Store, tmp_path):
    release = store.create_release(hierarchy(), source="test", make_current=True)
    result = import_standard_addresses(store, world.standard_addresses(tmp_path / "标准地址.xlsx"))
    return release, result


def test_standard_addresses_become_the_gazetteer(store: Store, world_store):
    _, result = world_store
    assert result.rows == 14 and result.codes == 10 and len(result.problems) == 4
    info = result.gazetteer
    assert info["compound_count"] == 3 and info["building_count"] == 3 and info["is_current"]
    _, compounds, buildings = store.gazetteer()
    stored = buildings.set_index("building_id")
    assert set(stored.loc[world.HEPING_1, "codes"]) == {
        world.HEPING_1, world.HEPING_1_101, world.HEPING_1_102, world.HEPING_1_201}
    assert compounds.set_index("compound_id").loc[world.HEPING, "codes"] == [world.HEPING]


def test_a_table_with_no_good_row_is_refused(store: Store, tmp_path):
    path = world.write_xlsx(tmp_path / "bad.xlsx", world.ADDRESS_HEADERS,
                            [world._address("", "新都路", "1号", None, at=world.centre(1))])
    with pytest.raises(InputError) as err:
        import_standard_addresses(store, path)
    assert "标准地址表" in err.value.message_zh and err.value.detail["problems"]


def test_housing_then_population(store: Store, world_store, tmp_path):
    release, _ = world_store
    rid = release.id
    housing = import_register(store, world.housing(tmp_path / "实有房屋.xlsx"), kind="housing")
    assert housing.kind == "housing" and housing.inserted == 4 and len(housing.problems) == 2
    hh = store.households().set_index("external_id")
    # by address code first: the room's building, score 1, trusted
    assert hh.loc["FW001", "match_level"] == ADDRESS_CODE_LEVEL
    assert hh.loc["FW001", "matched_id"] == world.HEPING_1 and hh.loc["FW001", "match_score"] == 1
    assert hh.loc["FW004", "match_level"] == ADDRESS_CODE_LEVEL  # a room of building 2
    # then by text: no code (FW002), or a code the gazetteer lacks (FW003)
    assert hh.loc["FW002", "match_level"] != ADDRESS_CODE_LEVEL
    assert hh.loc["FW003", "match_level"] == "road_number" or \
        hh.loc["FW003", "match_level"] == "compound"
    assert housing.located[ADDRESS_CODE_LEVEL] == 2 and housing.located["unlocated"] == 0
    micro = {r["external_id"]: r["microgrid"] for code in ("320902001",)
             for r in store.households_of(rid, code, Level.STREET, limit=100)
             .to_dict("records")}
    assert micro["FW001"] == micro["FW004"] == "320902001001001001"  # cell 0
    assert micro["FW002"] == "320902001001002002"  # cell 3
    assert micro["FW003"] == "320902001002001002"  # cell 5

    population = import_register(store, world.population(tmp_path / "实有人口.xlsx"),
                                 kind="population")
    assert population.kind == "population"
    assert (population.inserted, population.updated, population.unchanged) == (1, 2, 0)
    assert population.ids["inserted"] == ["FW006"]
    assert sorted(population.ids["updated"]) == ["FW001", "FW002"]
    assert population.assignment["mode"] == "incremental" and population.assignment["assigned"] == 3
    for p in population.problems:
        assert all(w not in p.message_zh + p.message_en for w in world.PERSONAL_TEXT)
    hh = store.households().set_index("external_id")
    assert hh.loc["FW001", "size"] == 3 and hh.loc["FW002", "size"] == 2
    assert hh.loc["FW006", "matched_id"].startswith("B")  # building 2, found by its room's code
    personal = store.households_of(rid, "320902001", Level.STREET, personal=True, limit=100)
    people = personal.set_index("external_id")
    assert people.loc["FW001", "name"] == world.HEAD_NAME
    assert people.loc["FW001", "id_number"] == world.HEAD_ID
    assert people.loc["FW003", "name"] is None  # housing gave no names
    plain = store.households_of(rid, "320902001", Level.STREET, limit=100)
    assert "name" not in plain.columns and "id_number" not in plain.columns

    # the same tables again: nothing changes; housing has no names and leaves them as they are
    again = import_register(store, world.population(tmp_path / "实有人口.xlsx"), kind="population")
    assert (again.updated, again.unchanged, again.assignment) == (0, 3, None)
    housing_again = import_register(store, world.housing(tmp_path / "实有房屋.xlsx"),
                                    kind="housing")
    assert housing_again.updated == 0 and housing_again.unchanged == 4
    people = store.households_of(rid, "320902001", Level.STREET, personal=True,
                                 limit=100).set_index("external_id")
    assert people.loc["FW001", "name"] == world.HEAD_NAME


def test_unknown_kind_is_refused(store: Store, world_store, tmp_path):
    with pytest.raises(InputError) as err:
        import_register(store, world.housing(tmp_path / "h.xlsx"), kind="units")
    assert "register、housing、population" in err.value.message_zh
