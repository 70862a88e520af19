"""The one table reader: refuses oversized and hostile tables early, reads real ones as before."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from wangge.geo.errors import FileFormatError, TableTooLarge
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, number, read_table, text
from wangge.settings import Settings

SHEET = "xl/worksheets/sheet1.xml"


def bomb(path: Path) -> Path:
    """4.9 KB on disk; a reader that pads rows and columns makes 17 billion cells of it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "external_id"
    ws["XFD1048576"] = "end"
    wb.save(path)
    return path


def rewrite_sheet(src: Path, dst: Path, change: Callable[[bytes], bytes]) -> Path:
    """A copy of ``src`` whose first sheet's XML went through ``change``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(data) if info.filename == SHEET else data)
    return dst


def no_dimension(xml: bytes) -> bytes:
    return re.sub(rb"<dimension [^>]*/>", b"", xml)


def refused(path: Path, limits: TableLimits = DEFAULT_LIMITS) -> dict:
    with pytest.raises(TableTooLarge) as info:
        read_table(path, path.name, limits=limits)
    assert info.value.code == "too_large" and info.value.as_dict()["code"] == "too_large"
    assert path.name in info.value.message_zh and path.name in info.value.message_en
    return info.value.detail


# --- Excel: bombs and lies ---------------------------------------------------------------------

def test_far_cell_refused_by_the_declared_range(tmp_path):
    detail = refused(bomb(tmp_path / "bomb.xlsx"))
    assert detail == {"limit": "columns", "max": 200, "found": 16_384, "declared": "A1:XFD1048576"}


@pytest.mark.parametrize("spoof", [no_dimension, lambda x: x.replace(b"A1:XFD1048576", b"A1:B2")],
                         ids=["missing", "lying"])
def test_far_cell_refused_while_streaming_whatever_the_dimension_says(tmp_path, spoof):
    path = rewrite_sheet(bomb(tmp_path / "bomb.xlsx"), tmp_path / "spoofed.xlsx", spoof)
    assert refused(path) == {"limit": "columns", "max": 200, "found": 16_384, "at_least": True}


def test_far_row_refused_while_streaming(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A1048576"] = "external_id", "far"
    wb.save(tmp_path / "tall.xlsx")
    limits = TableLimits(max_rows=1_000)
    assert refused(tmp_path / "tall.xlsx", limits)["declared"] == "A1:A1048576"
    spoofed = rewrite_sheet(tmp_path / "tall.xlsx", tmp_path / "spoofed.xlsx", no_dimension)
    assert refused(spoofed, limits) == {"limit": "rows", "max": 1_000, "found": 1_048_575,
                                        "at_least": True}


def test_cells_limit(tmp_path):
    pd.DataFrame({f"c{i}": range(20) for i in range(10)}).to_excel(tmp_path / "t.xlsx", index=False)
    detail = refused(tmp_path / "t.xlsx", TableLimits(max_cells=150))
    assert detail["limit"] == "cells" and detail["found"] == 200


def test_formatted_empty_cells_far_away_are_not_data(tmp_path):
    pd.DataFrame({"id": ["a", "b"]}).to_excel(tmp_path / "t.xlsx", index=False)
    styled = b'<row r="900000"><c r="XFD900000" s="0"/></row>'
    path = rewrite_sheet(tmp_path / "t.xlsx", tmp_path / "styled.xlsx",
                         lambda x: no_dimension(x).replace(b"</sheetData>", styled + b"</sheetData>"))
    table = read_table(path, path.name, limits=TableLimits(max_rows=10))
    assert table.to_dict("list") == {"id": ["a", "b"]}


def test_zip_bomb_member_refused_before_inflating(tmp_path):
    padded = rewrite_sheet(bomb(tmp_path / "bomb.xlsx"), tmp_path / "padded.xlsx",
                           lambda x: x.replace(b"</worksheet>", b" " * (8 << 20) + b"</worksheet>"))
    detail = refused(padded)
    assert detail["limit"] == "ratio" and detail["member"] == SHEET and detail["found"] > 100
    assert refused(tmp_path / "bomb.xlsx", TableLimits(max_unzipped_bytes=10_000))["limit"] \
        == "unzipped_bytes"


@pytest.mark.parametrize("damage", ["truncated", "not_a_zip", "not_a_workbook", "bad_xml",
                                    "huge_row_number"])
def test_damaged_xlsx_is_a_file_format_error(tmp_path, damage):
    good = tmp_path / "good.xlsx"
    pd.DataFrame({"id": range(500), "v": ["值"] * 500}).to_excel(good, index=False)
    path = tmp_path / "damaged.xlsx"
    if damage == "truncated":
        data = good.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "not_a_zip":
        path.write_text("id,name\n1,x\n", encoding="utf-8")
    elif damage == "not_a_workbook":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("readme.txt", "hello")
    elif damage == "huge_row_number":  # r="1e400" is infinity as a float
        rewrite_sheet(good, path, lambda x: x.replace(b'<row r="2"', b'<row r="1e400"', 1))
    else:
        rewrite_sheet(good, path, lambda x: x[: len(x) // 2])
    with pytest.raises(FileFormatError) as info:
        read_table(path, "名册.xlsx")
    assert info.value.code == "file_format" and "名册.xlsx" in info.value.message_zh


# --- Excel: real tables read as pandas.read_excel(dtype=str) read them -------------------------

def test_xlsx_cells_read_as_before(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["户编号", "人数", "户编号", None, 2024, "公式", "日期"])
    ws.append(["H1", 3, 1.5, True, "x", "=1+1", datetime(2024, 1, 2, 3, 4)])
    ws.append([None] * 7)
    ws.append(["H3", 120.0, "", 0.1, 1e20, None, None])
    ws["B3"] = "#N/A placeholder"
    wb.save(tmp_path / "t.xlsx")
    path = rewrite_sheet(tmp_path / "t.xlsx", tmp_path / "errors.xlsx",  # an error cell, as Excel
                         lambda x: re.sub(rb'<c r="B3"[^>]*>.*?</c>', b'<c r="B3" t="e"><v>#N/A</v></c>',
                                          x))
    expected = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    expected.columns = [str(c) for c in expected.columns]
    table = read_table(path, path.name)
    pd.testing.assert_frame_equal(table, expected)
    assert list(table.columns) == ["户编号", "人数", "户编号.1", "Unnamed: 3", "2024", "公式", "日期"]
    assert table.iloc[0].tolist() == ["H1", "3", "1.5", "True", "x", "", "2024-01-02 03:04:00"]
    assert pd.isna(table.iloc[1, 1]) and table.iloc[2, 1] == "120"


def test_trailing_empty_rows_and_columns_dropped(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name"])
    ws.append(["1", None])
    ws["D9"] = ""  # written as an empty string cell
    wb.save(tmp_path / "t.xlsx")
    assert read_table(tmp_path / "t.xlsx", "t.xlsx").to_dict("list") == {"id": ["1"], "name": [""]}


# --- CSV and JSON ------------------------------------------------------------------------------

def test_gbk_and_utf8_csv(tmp_path):
    frame = pd.DataFrame({"户编号": ["H1", "H2"], "地址": ["和平花园3栋", ""]})
    for encoding in ("gb18030", "utf-8-sig"):
        frame.to_csv(tmp_path / "r.csv", index=False, encoding=encoding)
        pd.testing.assert_frame_equal(read_table(tmp_path / "r.csv", "r.csv"), frame.astype(str))


def test_csv_limits(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b'"a,b",' + b"," * (5 << 20) + b"\n1\n")  # one 5 MB header line
    assert refused(wide) == {"limit": "columns", "max": 200, "found": 201, "at_least": True}
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('"名,称"\n"x\n,y"\n', encoding="utf-8")  # separators inside quotes
    assert read_table(quoted, "quoted.csv").to_dict("list") == {"名,称": ["x\n,y"]}
    tall = tmp_path / "tall.csv"
    tall.write_text("id,v\n" + "".join(f"{i},x\n" for i in range(50)), encoding="utf-8")
    assert refused(tall, TableLimits(max_rows=10)) == {"limit": "rows", "max": 10, "found": 11,
                                                      "at_least": True}
    assert refused(tall, TableLimits(max_cells=30))["limit"] == "cells"
    assert len(read_table(tall, "tall.csv", limits=TableLimits(max_rows=50))) == 50
    # empty lines before the header do not hide its width from the cell limit (pandas skips them)
    blank = tmp_path / "blank.csv"
    blank.write_text("\r\n\n" + ",".join(f"c{i}" for i in range(20)) + "\n"
                     + ("1," * 19 + "1\n") * 10, encoding="utf-8")
    assert refused(blank, TableLimits(max_cells=100)) == {"limit": "cells", "max": 100,
                                                          "found": 120, "at_least": True}


def test_json_list_or_keyed_list(tmp_path):
    rows = [{"id": "a", "n": 3, "ok": True}, {"id": "b", "x": None}]
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"households": rows}), encoding="utf-8")
    table = read_table(path, "r.json", json_keys=("households", "records"))
    assert table["n"].tolist()[0] == "3" and table["ok"].tolist()[0] == "True"
    assert [text(v) for v in table["x"]] == [None, None]
    with pytest.raises(FileFormatError):
        read_table(path, "r.json")  # only "records" by default
    path.write_text(json.dumps(rows * 6), encoding="utf-8")
    assert refused(path, TableLimits(max_rows=10))["limit"] == "rows"
    path.write_text(json.dumps([{f"k{i}": i for i in range(12)}]), encoding="utf-8")
    assert refused(path, TableLimits(max_columns=10))["limit"] == "columns"


def test_bytes_read_as_the_file_their_name_says(tmp_path):
    rows = [{"户编号": "H1", "地址": "和平花园3栋"}, {"户编号": "H2", "地址": "x"}]
    for name in ("r.csv", "r.xlsx", "r.json"):
        path = tmp_path / name
        if name.endswith(".csv"):
            pd.DataFrame(rows).to_csv(path, index=False, encoding="gb18030")
        elif name.endswith(".xlsx"):
            pd.DataFrame(rows).to_excel(path, index=False)
        else:
            path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        frame = read_table(path.read_bytes(), name)
        pd.testing.assert_frame_equal(frame, read_table(path, name))
        assert frame.to_dict("records") == rows
    with pytest.raises(TableTooLarge) as info:
        read_table(b"id\n" + b"1\n" * 11, "batch.csv", limits=TableLimits(max_rows=10))
    assert info.value.detail["limit"] == "rows" and "batch.csv" in info.value.message_en


def test_undecodable_csv_refused_or_read_with_replacement_characters():
    body = "编号,地址\n".encode("gb18030") + b"\x81\x20,x\n"  # neither UTF-8 nor GB18030
    with pytest.raises(FileFormatError):
        read_table(body, "r.csv")
    table = read_table(body, "r.csv", encoding_errors="replace")
    assert table.to_dict("list") == {"编号": ["\ufffd "], "地址": ["x"]}


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        read_table(tmp_path / "none.csv", "none.csv")
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(FileFormatError, match="Unsupported"):
        read_table(tmp_path / "r.txt", "r.txt")


def test_cell_helpers():
    assert text("  x ") == "x" and text("") is None and text(float("nan")) is None and text(3) == "3"
    assert number("120，5") == 120.5 and number("33,5") == 33.5 and number(" ") is None
    with pytest.raises(ValueError):
        number("abc")


def test_limits_from_settings():
    limits = Settings(_env_file=None, table_max_rows=5, table_max_columns=6, table_max_cells=7,
                      table_max_unzipped_mb=2, table_max_zip_ratio=50).table_limits()
    assert limits == TableLimits(max_rows=5, max_columns=6, max_cells=7,
                                 max_unzipped_bytes=2 << 20, max_zip_ratio=50.0)
    assert Settings(_env_file=None).table_limits() == TableLimits()
    with pytest.raises(ValueError):
        TableLimits(max_rows=0)
