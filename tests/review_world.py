"""A tiny world for the review worklist: the hand-built hierarchy of tests/hierarchy.py, a
gazetteer of five compounds in its micro-grids, and a register of a dozen households written as
people write them (typos, missing buildings, a one-character neighbour, stray coordinates).

Cells are 0.003° squares in a row from (120.20, 33.40); compound i sits in cell ``CELL[i]``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from tests.hierarchy import X0, Y0, D, hierarchy
from wangge.store import Store

# compound id, name, cell, road, door number, buildings
COMPOUNDS = [
    ("C1", "和平花园", 0, "人民路", "1", 4),
    ("C2", "和平家园", 1, None, None, 3),
    ("C3", "幸福小区", 3, None, None, 5),
    ("C4", "新都小区", 5, "新都路", "88", 2),
    ("C5", "阳光花园", 6, None, None, 2),
]
CELL = {cid: cell for cid, _, cell, *_ in COMPOUNDS}

# 户号, 地址, 经度, 纬度 (WGS-84 = CGCS2000 here), 户人数, 户主姓名, 联系电话
REGISTER = [
    ("H01", "和平花园1栋2单元301", None, None, 3, "张一", "13900000001"),
    ("H02", "幸福小区2栋", None, None, 2, "王二", "13900000002"),
    ("H03", "幸福小去3栋", None, None, 1, "李三", "13900000003"),        # typo
    ("H04", "新都小区9栋", None, None, 4, "赵四", "13900000004"),        # no such building
    ("H05", "城东老街口", None, None, 2, "钱五", "13900000005"),         # nothing to match
    ("H06", "阳光花园1栋", X0 + 2.5 * D, Y0 + 0.5 * D, 3, "孙六", "13900000006"),  # far
    ("H07", "", 120.30, 33.45, 1, "周七", "13900000007"),              # outside every unit
    ("H08", "和平园2栋", None, None, 2, "吴八", "13900000008"),          # close to two names
    ("H09", "新都路88号", None, None, 3, "郑九", "13900000009"),
    ("H10", "幸福小区5栋1单元101", None, None, 2, "冯十", "13900000010"),
    ("H11", "和平家园3栋", None, None, 5, "陈十一", "13900000011"),
    ("H12", "=HYPERLINK(\"x\")幸福小区1栋", None, None, 1, "褚十二", "13900000012"),
]


def gazetteer() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compounds (polygons inside their cells) and buildings (points in a row inside them)."""
    crow, brow = [], []
    for cid, name, cell, road, door, n in COMPOUNDS:
        x0 = X0 + cell * D
        crow.append({"compound_id": cid, "name": name, "road": road, "road_number": door,
                     "geometry": shapely.box(x0 + 0.1 * D, Y0 + 0.1 * D, x0 + 0.9 * D,
                                             Y0 + 0.9 * D)})
        for k in range(1, n + 1):
            brow.append({"building_id": f"B{cid[1:]}{k:02d}", "compound_id": cid,
                         "number": str(k), "units": 2, "floors": 6,
                         "geometry": shapely.Point(x0 + 0.15 * D * k, Y0 + 0.5 * D)})
    return (gpd.GeoDataFrame(crow, crs="EPSG:4490"), gpd.GeoDataFrame(brow, crs="EPSG:4490"))


def write_register(path: Path, rows: list[tuple] = REGISTER) -> Path:
    """The register as a CSV with Chinese headers."""
    lines = ["户号,地址,经度,纬度,户人数,户主姓名,联系电话"]
    for ext, address, lon, lat, size, name, phone in rows:
        quoted = '"' + address.replace('"', '""') + '"'
        lines.append(",".join([ext, quoted, "" if lon is None else repr(lon),
                               "" if lat is None else repr(lat), str(size), name, phone]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_world(store: Store, folder: Path) -> int:
    """Boundaries as the current release, the gazetteer, and the register in two imports
    (一月.csv: H01–H08, 二月.csv: H09–H12). Returns the release id."""
    from wangge.geocode.match import MatchConfig
    from wangge.households import import_register

    # The vague addresses of this tiny world score between 0.8 and 0.9: a stricter trust
    # threshold than the default keeps them in the queue the tests work through.
    strict = MatchConfig(trusted_score=0.9)
    release = store.create_release(hierarchy(), source="test", make_current=True)
    store.create_gazetteer(*gazetteer(), source="test")
    import_register(store, write_register(folder / "一月.csv", REGISTER[:8]), match_config=strict)
    import_register(store, write_register(folder / "二月.csv", REGISTER[8:]), match_config=strict)
    return release.id
