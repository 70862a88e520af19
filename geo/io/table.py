"""Read a table (CSV, Excel .xlsx/.xlsm, JSON, GeoJSON points) into a frame of strings, within limits.

The one reader of every table the service takes in: household registers, worker rosters, site
lists, gazetteer CSVs, batches of points. The first row is the header; every cell comes back as
a string (``""`` for an empty CSV or Excel cell, missing for a JSON key that is absent or null).
Where asked (``features=True``), a GeoJSON FeatureCollection is a table too: a row a feature, its
properties the cells, a Point's coordinates in the columns :data:`POINT_LON` and
:data:`POINT_LAT` as given (``"abc"`` stays ``"abc"``, for the row check to report), any other
geometry's type in :data:`GEOMETRY_TYPE`.

A table is refused (:class:`~wangge.geo.errors.TableTooLarge`, ``detail["limit"]`` saying which) before
it can fill the memory:

- an .xlsx is a zip: the members' uncompressed sizes and compression ratios are checked before
  anything is inflated (zip bombs);
- the sheet's declared range (``<dimension ref=…>``) is checked, then the sheet is streamed once
  to find the cells that really hold a value, stopping at the first one past a limit, whatever
  the declared range says (it may lie or be missing); only that box is then read. A stray cell at
  XFD1048576 is thus refused in milliseconds instead of padding 17 billion empty cells;
- a CSV's header is counted on the raw bytes (however long the line), then at most the rows the
  limits allow are parsed; a JSON list is counted before a frame is built.

A damaged, truncated or non-zip .xlsx is a :class:`~wangge.geo.errors.FileFormatError`.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, NoReturn
from xml.etree import ElementTree
from xml.parsers import expat

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.exceptions import InvalidFileException

from wangge.geo.errors import FileFormatError, TableTooLarge

__all__ = ["DEFAULT_LIMITS", "GEOMETRY_TYPE", "POINT_LAT", "POINT_LON", "TableLimits",
           "check_records", "number", "read_table", "text"]

POINT_LON, POINT_LAT, GEOMETRY_TYPE = "__lon", "__lat", "__geometry"


@dataclass(frozen=True)
class TableLimits:
    """How large a table may be; the application's settings build one (``WANGGE_TABLE_*``)."""

    max_rows: int = 2_000_000            # data rows, the header not counted
    max_columns: int = 200
    max_cells: int = 50_000_000          # data rows × columns
    max_unzipped_bytes: int = 500 << 20  # all members of an .xlsx together, uncompressed
    max_zip_ratio: float = 100.0         # uncompressed / compressed, per member above 1 MiB

    def __post_init__(self) -> None:
        if min(self.max_rows, self.max_columns, self.max_cells, self.max_unzipped_bytes) < 1 \
                or not self.max_zip_ratio >= 1:
            raise ValueError(f"table limits must be positive: {self}")


DEFAULT_LIMITS = TableLimits()

_RATIO_FROM = 1 << 20  # smaller members are harmless whatever their ratio
_LABELS = {"rows": ("数据行数", "data rows"), "columns": ("列数", "columns"),
           "cells": ("单元格数", "cells"), "unzipped_bytes": ("解压后字节数", "uncompressed bytes"),
           "ratio": ("压缩比", "compression ratio")}
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "  # expat's namespace form
_ROW, _CELL, _VALUE, _INLINE = (_MAIN + t for t in ("row", "c", "v", "is"))
_DIGITS = "0123456789"
# What a damaged or hostile .xlsx makes zipfile, zlib, expat, ElementTree or openpyxl raise.
_BROKEN_XLSX = (zipfile.BadZipFile, zlib.error, expat.ExpatError, ElementTree.ParseError, EOFError,
                OSError, KeyError, IndexError, TypeError, ValueError, AttributeError,
                OverflowError, InvalidFileException)


def text(value: Any) -> str | None:
    """A cell as stripped text; None for empty, null or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    out = str(value).strip()
    return out or None


def number(value: Any) -> float | None:
    """A cell as a number (a Chinese or European decimal comma accepted); None for empty.

    Raises ValueError for text that is not a number."""
    out = text(value)
    if out is None:
        return None
    return float(out.replace("，", ".").replace(",", "."))


_Source = Path | bytes  # a file, or its bytes


def read_table(source: str | Path | bytes, name: str, *, limits: TableLimits = DEFAULT_LIMITS,
               json_keys: Sequence[str] = ("records",), features: bool = False,
               encoding_errors: Literal["strict", "replace"] = "strict") -> pd.DataFrame:
    """The table in ``source``, a path or the file's bytes, as a frame of strings; ``name`` is
    how messages call it and, for bytes, says the format by its suffix.

    CSV in UTF-8 (with or without BOM) or GB18030/GBK (``encoding_errors="replace"`` reads bytes
    that are neither as U+FFFD instead of refusing the table); Excel .xlsx/.xlsm (first sheet);
    JSON as a list of objects or an object holding that list under one of ``json_keys`` (first
    found); with ``features``, .json and .geojson may be a GeoJSON FeatureCollection too.
    Raises :class:`TableTooLarge` past ``limits``, :class:`FileFormatError` for a missing,
    unsupported or unreadable file.
    """
    if isinstance(source, bytes):
        suffix = Path(name).suffix.lower()
    else:
        source = Path(source)
        suffix = source.suffix.lower()
        if not source.exists():
            raise FileFormatError(f"文件不存在：{name}", f"File not found: {name}")
    if suffix == ".csv":
        return _read_csv(source, name, limits, encoding_errors)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(source, name, limits)
    if suffix == ".json" or features and suffix == ".geojson":
        return _read_json(source, name, limits, json_keys, features)
    raise FileFormatError(f"不支持的表格格式“{suffix}”，支持 CSV、Excel（.xlsx）和 JSON。",
                          f"Unsupported table format {suffix!r}: use CSV, Excel (.xlsx) or JSON.")


def check_records(name: str, rows: list[dict[str, Any]], limits: TableLimits) -> None:
    """Refuse a list of JSON objects (rows) with too many rows, keys (columns) or cells."""
    _check_size(name, len(rows), 0, limits)
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
        if len(keys) > limits.max_columns:
            _refuse(name, "columns", limits.max_columns, len(keys), at_least=True)
    _check_size(name, len(rows), len(keys), limits)


def _refuse(name: str, limit: str, maximum: float, found: float, *, at_least: bool = False,
            **detail: Any) -> NoReturn:
    zh, en = _LABELS[limit]
    shown, cap = (f"{found:,.1f}", f"{maximum:,.1f}") if limit == "ratio" else \
        (f"{found:,}", f"{maximum:,}")
    where_zh = where_en = ""
    if "declared" in detail:
        where_zh = f"（按工作表声明的范围 {detail['declared']}）"
        where_en = f" (as the sheet's declared range {detail['declared']} says)"
    elif "member" in detail:
        where_zh = f"（{detail['member']}，疑似压缩炸弹）"
        where_en = f" (in {detail['member']}: a zip bomb?)"
    raise TableTooLarge(
        f"表格 {name} 过大，未读取：{zh}{'至少' if at_least else '为'} {shown}，上限 {cap}{where_zh}。",
        f"The table {name} is too large and was not read: {en} {'at least ' if at_least else ''}"
        f"{shown}, the limit is {cap}{where_en}.",
        limit=limit, max=maximum, found=found, **({"at_least": True} if at_least else {}), **detail)


def _check_size(name: str, rows: int, columns: int, limits: TableLimits, *, at_least: bool = False,
                **detail: Any) -> None:
    if columns > limits.max_columns:
        _refuse(name, "columns", limits.max_columns, columns, at_least=at_least, **detail)
    if rows > limits.max_rows:
        _refuse(name, "rows", limits.max_rows, rows, at_least=at_least, **detail)
    if rows * columns > limits.max_cells:
        _refuse(name, "cells", limits.max_cells, rows * columns, at_least=at_least, **detail)


def _open(source: _Source) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _zipped(source: _Source) -> Path | IO[bytes]:
    """What zipfile and openpyxl open: the path itself (they close what they open), or the bytes."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _broken(name: str) -> FileFormatError:
    return FileFormatError(f"无法读取表格 {name}：文件损坏、不完整或格式不符。",
                           f"Cannot read the table {name}: damaged, truncated or not in the "
                           "expected form.")


# --- CSV -----------------------------------------------------------------------------------------

_CSV_SPECIAL = re.compile(rb'[",\r\n]')


def _csv_width(source: _Source, limit: int) -> int:
    """Fields in the header record, counted on the bytes (``,``, ``"`` and line ends are single
    bytes in UTF-8 and GB18030 alike); stops one past ``limit``, however long the line. Empty
    lines before the header are skipped, as pandas skips them."""
    fields, quoted, seen = 1, False, False
    offset = line_start = 0
    with _open(source) as f:
        while chunk := f.read(1 << 16):
            if not seen and chunk.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
                line_start = 3
            seen = True
            for match in _CSV_SPECIAL.finditer(chunk):
                char, at = match.group(), offset + match.start()
                if char == b'"':
                    quoted = not quoted  # an escaped "" toggles twice
                elif quoted:
                    continue
                elif char == b",":
                    fields += 1
                    if fields > limit:
                        return fields
                elif fields == 1 and at == line_start:  # an empty line: not the header yet
                    line_start = at + 1
                else:
                    return fields
            offset += len(chunk)
    return fields if seen else 0


def _read_csv(source: _Source, name: str, limits: TableLimits, errors: str) -> pd.DataFrame:
    width = _csv_width(source, limits.max_columns)
    _check_size(name, 0, width, limits, at_least=width > limits.max_columns)
    allowed = min(limits.max_rows, limits.max_cells // max(width, 1))
    # Chinese CSVs are often GBK-encoded; what is not UTF-8 is read as GB18030.
    for encoding, on_error in (("utf-8-sig", "strict"), ("gb18030", errors)):
        try:
            with _open(source) as f:
                table = pd.read_csv(f, dtype=str, keep_default_na=False, encoding=encoding,
                                    encoding_errors=on_error, nrows=allowed + 1)
        except UnicodeDecodeError:
            continue
        except (ValueError, OSError) as exc:
            raise _broken(name) from exc
        _check_size(name, len(table), len(table.columns), limits, at_least=len(table) > allowed)
        return table
    raise _broken(name)


# --- JSON ----------------------------------------------------------------------------------------

def _read_json(source: _Source, name: str, limits: TableLimits, keys: Sequence[str],
               features: bool) -> pd.DataFrame:
    try:
        with _open(source) as f:
            data = json.loads(f.read().decode("utf-8-sig"))
    except (ValueError, OSError) as exc:
        raise FileFormatError(f"无法读取表格 {name}：不是有效的 JSON。",
                              f"Cannot read the table {name}: not valid JSON.") from exc
    if features and isinstance(data, dict) and data.get("type") == "FeatureCollection":
        rows = _feature_rows(data.get("features"))
    else:
        rows = next((data[k] for k in keys if k in data), None) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        wanted, also = "、".join(keys), ("，或 GeoJSON 要素集合", ", or be a GeoJSON FeatureCollection")
        raise FileFormatError(f"表格 {name} 应为对象列表（或以 {wanted} 为键的对象列表"
                              f"{also[0] if features else ''}）。",
                              f"{name} must be a list of objects (or hold one under "
                              f"{', '.join(keys)}{also[1] if features else ''}).")
    check_records(name, rows, limits)
    return pd.DataFrame([{k: None if v is None else str(v) for k, v in row.items()} for row in rows],
                        dtype=str)


def _feature_rows(features: Any) -> Any:
    """A row a feature (properties, and where the geometry is) or, for no list, ``features``."""
    if not isinstance(features, list):
        return features
    rows = []
    for feature in features:
        props = dict(feature.get("properties") or {}) if isinstance(feature, dict) else {}
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if isinstance(geom, dict) and geom.get("type") == "Point" and isinstance(coords, list) \
                and len(coords) >= 2:
            props[POINT_LON], props[POINT_LAT] = coords[0], coords[1]
        else:
            props[POINT_LON] = props[POINT_LAT] = None
            props[GEOMETRY_TYPE] = geom.get("type") if isinstance(geom, dict) else None
        rows.append(props)
    return rows


# --- Excel ---------------------------------------------------------------------------------------

def _read_xlsx(source: _Source, name: str, limits: TableLimits) -> pd.DataFrame:
    try:
        _check_zip(source, name, limits)
        book = load_workbook(_zipped(source), read_only=True, data_only=True, keep_links=False)
        try:
            if not book.worksheets:
                raise _broken(name)
            sheet = book.worksheets[0]
            if sheet.max_row is not None and sheet.max_column is not None:
                declared = sheet.calculate_dimension()
                _check_size(name, sheet.max_row - 1, sheet.max_column, limits, declared=declared)
            # The sheet's XML as openpyxl itself opens it (no public accessor).
            with sheet._get_source() as xml:
                last_row, last_col, errors = _scan_sheet(xml, name, limits)
            if last_row == 0:
                return pd.DataFrame()
            box = sheet.iter_rows(min_row=1, max_row=last_row, min_col=1, max_col=last_col,
                                  values_only=True)
            data = _excel_rows(box, errors, last_row, last_col)
        finally:
            book.close()
    except _BROKEN_XLSX as exc:
        raise FileFormatError(f"无法读取 Excel 文件 {name}：文件损坏、不完整或不是 .xlsx 文件。",
                              f"Cannot read the Excel file {name}: damaged, truncated or not an "
                              ".xlsx file.") from exc
    return _frame(data)


def _check_zip(source: _Source, name: str, limits: TableLimits) -> None:
    """Refuse before inflating anything: total uncompressed size, compression ratio per member.

    zipfile stops at a member's declared size (and then fails its CRC), so the sizes cannot lie.
    """
    with zipfile.ZipFile(_zipped(source)) as archive:
        members = archive.infolist()
    for info in members:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FROM and ratio > limits.max_zip_ratio:
            _refuse(name, "ratio", limits.max_zip_ratio, round(ratio, 1), member=info.filename)
    total = sum(info.file_size for info in members)
    if total > limits.max_unzipped_bytes:
        _refuse(name, "unzipped_bytes", limits.max_unzipped_bytes, total)


def _scan_sheet(source: IO[bytes], name: str, limits: TableLimits
                ) -> tuple[int, int, set[tuple[int, int]]]:
    """Last row and column holding a value, and the error cells (#N/A…), streamed once; refused at
    the first value past a limit."""
    scan = _SheetScan(name, limits)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = scan.start  # start tags only: the scan must be cheap
    parser.ParseFile(source)
    return scan.last_row, scan.last_col, scan.errors


class _SheetScan:
    """Rows and cells numbered as openpyxl numbers them (``r`` attributes, else counting on). A
    cell holds a value when it has a ``<v>`` (even an empty one: an upper bound, trimmed after
    reading) or an inline string; cells with a style only do not count, so a stray formatted cell
    far away is not data."""

    def __init__(self, name: str, limits: TableLimits) -> None:
        self.name, self.limits = name, limits
        self.row = self.col = self.last_row = self.last_col = 0
        self.error = False
        self.errors: set[tuple[int, int]] = set()

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _CELL:
            ref = attrs.get("r")
            self.col = column_index_from_string(ref.rstrip(_DIGITS)) if ref else self.col + 1
            self.error = attrs.get("t") == "e"
        elif tag == _VALUE or tag == _INLINE:
            self.value()
        elif tag == _ROW:
            ref = attrs.get("r")
            self.row, self.col = (int(float(ref)) if ref else self.row + 1), 0

    def value(self) -> None:
        row, col, limits = self.row, self.col, self.limits
        if col > limits.max_columns:
            _refuse(self.name, "columns", limits.max_columns, col, at_least=True)
        if row - 1 > limits.max_rows:
            _refuse(self.name, "rows", limits.max_rows, row - 1, at_least=True)
        self.last_row, self.last_col = max(self.last_row, row), max(self.last_col, col)
        if (self.last_row - 1) * self.last_col > limits.max_cells:
            _refuse(self.name, "cells", limits.max_cells, (self.last_row - 1) * self.last_col,
                    at_least=True)
        if self.error:
            self.errors.add((row, col))


def _excel_rows(rows: Iterable[tuple[Any, ...]], errors: set[tuple[int, int]], last_row: int,
                last_col: int) -> list[list[str | None]]:
    """Cells as pandas' read_excel(dtype=str) gave them: ``""`` when empty, whole numbers without
    ``.0``, dates as ``2024-01-02 00:00:00``, error cells missing; trailing empty rows and columns
    dropped."""
    out: list[list[str | None]] = []
    for r, values in enumerate(rows, start=1):
        if r > last_row:
            break
        cells: list[str | None] = [_excel_text(v) for v in values]
        out.append(cells + [""] * (last_col - len(cells)))
    for r, c in errors:
        if r <= len(out):
            out[r - 1][c - 1] = None
    while out and all(v == "" for v in out[-1]):
        out.pop()
    width = max((max((i + 1 for i, v in enumerate(row) if v != ""), default=0) for row in out),
                default=0)
    return [row[:width] for row in out]


def _excel_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame(data: list[list[str | None]]) -> pd.DataFrame:
    """First row the header (blank → ``Unnamed: i``, repeats → ``name.1``), as pandas names them."""
    if not data:
        return pd.DataFrame()
    header, body = data[0], data[1:]
    return pd.DataFrame(body, columns=list(_dedup(f"Unnamed: {i}" if not h else h
                                                  for i, h in enumerate(header))), dtype=str)


def _dedup(names: Iterable[str]) -> Iterator[str]:
    counts: dict[str, int] = {}
    for name in names:
        count = counts.get(name, 0)
        while count:
            counts[name] = count + 1
            name = f"{name}.{count}"
            count = counts.get(name, 0)
        counts[name] = count + 1
        yield name
