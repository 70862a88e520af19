"""A tiny 一标三实 world for tests: .xlsx files with Chinese headers as grid offices receive them
— a standard address table (标准地址) over the hand-built hierarchy of tests/hierarchy.py, a
housing register (实有房屋) and a population register (实有人口) citing its address codes.

Micro-grid ``i`` is the 0.003° square ``i`` in a row from (120.20, 33.40); the compounds sit
in cells 0 (和平花园), 3 (幸福小区) and 5 (新都路88号, a door without a compound).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tests.hierarchy import X0, Y0, D

PROVINCE, CITY, DISTRICT, STREET, COMMUNITY = "江苏省", "盐城市", "亭湖区", "先锋街道", "一社区"


def centre(i: int, dx: float = 0.0) -> tuple[float, float]:
    return round(X0 + (i + 0.5) * D + dx, 7), round(Y0 + 0.5 * D, 7)


def write_xlsx(path: Path, headers: list[str], rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


ADDRESS_HEADERS = ["地址编码", "标准地址", "省", "市", "区县", "街道（乡镇）", "社区（村）", "街路巷",
                   "门牌号", "小区", "楼栋号", "单元号", "楼层", "户室号", "经度", "纬度"]


def _address(code: str, road: str | None, door: str | None, compound: str | None,
             building: str | None = None, unit: str | None = None, floor: str | None = None,
             room: str | None = None, at: tuple[float, float] | None = None) -> list[Any]:
    parts = [PROVINCE, CITY, DISTRICT, STREET, road or "", door or "", compound or "",
             building or "", unit or "", room or ""]
    full = "".join(parts)
    lon, lat = at if at is not None else (None, None)
    return [code, full, PROVINCE, CITY, DISTRICT, STREET, COMMUNITY, road, door, compound,
            building, unit, floor, room, lon, lat]


# Address codes: 19 digits in the layout of GB/T 39609 (division, street/compound, building,
# unit/room), invented for the test.
HEPING = "3209020010010010000"
HEPING_1 = "3209020010010010100"
HEPING_1_101 = "3209020010010010111"
HEPING_1_102 = "3209020010010010112"
HEPING_1_201 = "3209020010010010121"
HEPING_2_301 = "3209020010010010231"
HEPING_2_302 = "3209020010010010232"
XINGFU_3 = "3209020010010020300"
XINGFU_3_501 = "3209020010010020351"
XINDU_88 = "3209020010010030000"


def standard_addresses(path: Path) -> Path:
    """14 rows: 10 good (three places, four buildings, rooms), 4 bad."""
    rows = [
        _address(HEPING, "人民路", "1号", "和平花园", at=centre(0)),
        _address(HEPING_1, "人民路", "1号", "和平花园", "1幢", at=centre(0, -0.0008)),
        _address(HEPING_1_101, "人民路", "1号", "和平花园", "1幢", "1单元", "1层", "101室"),
        _address(HEPING_1_102, "人民路", "1号", "和平花园", "1幢", "1单元", "1层", "102室"),
        _address(HEPING_1_201, "人民路", "1号", "和平花园", "1幢", "2单元", "2层", "201室"),
        # building 2: rooms only, each with the building's coordinates
        _address(HEPING_2_301, "人民路", "1号", "和平花园", "2幢", "1单元", "3层", "301室",
                 at=centre(0, 0.0008)),
        _address(HEPING_2_302, "人民路", "1号", "和平花园", "2幢", "1单元", "3层", "302室",
                 at=centre(0, 0.0008)),
        _address(XINGFU_3, None, None, "幸福小区", "三号楼", at=centre(3)),
        _address(XINGFU_3_501, None, None, "幸福小区", "三号楼", "第一单元", "5层", "501"),
        _address(XINDU_88, "新都路", "88号", "无", at=centre(5)),
        # bad: the same code again, no code, coordinates not numbers, no place at all
        _address(XINDU_88, "新都路", "90号", None, at=centre(5)),
        _address("", "新都路", "92号", None, at=centre(5)),
        _address("3209020010010040000", "新都路", "94号", None, at=("东经120度", "33.4")),
        _address("3209020010010050000", None, None, None, "1幢", at=centre(6)),
    ]
    return write_xlsx(path, ADDRESS_HEADERS, rows)


HOUSING_HEADERS = ["房屋编码", "地址编码", "房屋地址", "居住人数", "房屋类型", "房主姓名"]


def housing(path: Path) -> Path:
    """Four dwellings (by address code, by a code the gazetteer lacks plus text, by text) and
    two bad rows; the owner's name is in the file but never read."""
    rows = [
        ["FW001", HEPING_1_101, "人民路1号和平花园1幢1单元101室", 3, "住宅", "房主甲"],
        ["FW002", None, "亭湖区幸福小区3栋1单元501室", 2, "住宅", "房主乙"],
        ["FW003", "9999999999999999999", "新都路88号", 1, "商住", "房主丙"],
        ["FW004", HEPING_2_301, "人民路1号和平花园2幢1单元301室", None, "住宅", None],
        ["FW001", HEPING_1_102, "重复", 1, "住宅", None],
        ["FW005", HEPING_1_201, "人民路1号和平花园1幢2单元201室", "若干", "住宅", None],
    ]
    return write_xlsx(path, HOUSING_HEADERS, rows)


POPULATION_HEADERS = ["姓名", "公民身份号码", "与户主关系", "联系电话", "居住地址", "房屋编码",
                      "地址编码", "人员类型"]
# Obviously fake personal data: the province code 99 does not exist, phones start with 10.
HEAD_NAME, HEAD_ID, HEAD_PHONE = "户主甲", "990902198001010011", "100-0000-0001"


def population(path: Path) -> Path:
    """Seven residents in three households (FW001 of three, FW002 of two without a head
    marked, FW006 new), and two bad rows (no dwelling code; the same person twice)."""
    rows = [
        ["配偶甲", "990902198202020022", "配偶", "100-0000-0002",
         "人民路1号和平花园1幢1单元101室", "FW001", HEPING_1_101, "户籍人口"],
        [HEAD_NAME, HEAD_ID, "户主", HEAD_PHONE, "人民路1号和平花园1幢1单元101室", "FW001",
         HEPING_1_101, "户籍人口"],
        ["子女甲", "990902201003030033", "子女", None, "人民路1号和平花园1幢1单元101室", "FW001",
         HEPING_1_101, "户籍人口"],
        ["租户乙", "990902199004040044", None, "100-0000-0004", "亭湖区幸福小区3栋1单元501室",
         "FW002", None, "流动人口"],
        ["租户丙", "990902199105050055", None, None, "亭湖区幸福小区3栋1单元501室", "FW002", None,
         "流动人口"],
        ["住户丁", "990902197006060066", "本人", "100-0000-0006", "人民路1号和平花园2幢1单元302室",
         "FW006", HEPING_2_302, "户籍人口"],
        ["无房戊", "990902197107070077", "户主", None, "城东某处", None, None, "流动人口"],
        ["重复己", "990902198202020022", "配偶", None, "人民路1号和平花园1幢1单元101室", "FW001",
         HEPING_1_101, "户籍人口"],
    ]
    return write_xlsx(path, POPULATION_HEADERS, rows)


PERSONAL_TEXT = ("配偶甲", "990902198202020022", HEAD_NAME, HEAD_ID, HEAD_PHONE, "租户乙",
                 "990902199004040044", "住户丁", "无房戊", "990902197107070077", "重复己",
                 "房主甲", "房主乙")
