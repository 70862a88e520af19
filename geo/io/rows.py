"""Row by row: what every reader of a list (household register, site list, worker roster) does
with the rows of its table.

- :func:`map_columns` finds the table's header for each target field (candidates tried in
  order, case-insensitively; the user's own mapping first);
- :meth:`RowProblems.rows` walks the rows, each a :class:`Row` that records what is wrong with it
  (:class:`RowProblem`: its number as a spreadsheet shows it, the row's id, the field, the rule)
  and checks that its id is given once; :meth:`RowProblems.refuse` refuses a list with any bad
  row, every problem listed;
- :func:`canonical_crs` reads the coordinate system a row may name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from wangge.geo.crs import parse_crs
from wangge.geo.errors import CRSError, FieldMappingError, InputError, echo
from wangge.geo.io.table import text

__all__ = ["Row", "RowProblem", "RowProblems", "canonical_crs", "columns_of", "map_columns"]

_SHOWN = 20  # problems spelled out in a refusal; all of them are in ``detail["problems"]``


@dataclass(frozen=True)
class RowProblem:
    """Why a row was left out (a register) or the list refused (sites, workers)."""

    row: int  # as a spreadsheet numbers it: the header is row 1 (GeoJSON features count from 1)
    external_id: str | None  # the row's own id: household, site or worker
    reason: str
    message_zh: str
    message_en: str
    field: str | None = None  # the field at fault, where the list names one

    def as_dict(self) -> dict[str, Any]:
        out = {"row": self.row, "external_id": self.external_id, "reason": self.reason,
               "message": self.message_zh, "message_en": self.message_en}
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class Row:
    """One row under check: its number, its id, and the problems found in it so far."""

    number: int
    key: str | None
    problems: RowProblems
    start: int

    def bad(self, field: str | None, reason: str, zh: str, en: str) -> None:
        self.problems.add(self.number, self.key, reason, zh, en, field)

    def unique(self, *, label: tuple[str, str], missing: tuple[str, str],
               field: str | None = None, reasons: tuple[str, str] = ("missing", "duplicate")
               ) -> bool:
        """True for an id given and not seen before; else a problem (``missing`` its message,
        ``label`` how a repeat names the id) and False."""
        if self.key is None:
            self.bad(field, reasons[0], *missing)
            return False
        first = self.problems.seen.setdefault(self.key, self.number)
        if first != self.number:
            self.bad(field, reasons[1], f"{label[0]} {self.key} 与第 {first} 行重复。",
                     f"{label[1]} {self.key} repeats row {first}.")
            return False
        return True

    @property
    def ok(self) -> bool:
        """No problem found in this row."""
        return len(self.problems) == self.start


class RowProblems:
    """The problems of one list's rows, in reading order, and the ids seen so far."""

    def __init__(self) -> None:
        self.items: list[RowProblem] = []
        self.seen: dict[str, int] = {}  # id -> the row that first gave it

    def __len__(self) -> int:
        return len(self.items)

    def add(self, row: int, key: str | None, reason: str, zh: str, en: str,
            field: str | None = None) -> None:
        """A problem of ``row``; the message starts with the row (and the field) it is about."""
        at_zh, at_en = (f"第 {row} 行 {field}：", f"row {row}, {field}: ") if field else \
            (f"第 {row} 行：", f"row {row}: ")
        self.items.append(RowProblem(row, key, reason, at_zh + zh, at_en + en, field))

    def rows(self, ids: Iterable[Any], first: int = 2) -> Iterator[Row]:
        """A :class:`Row` for every row, numbered from ``first`` (the header is row 1 of a
        spreadsheet; GeoJSON features count from 1), its id the text of ``ids``."""
        for number, key in enumerate(ids, start=first):
            yield Row(number, text(key), self, len(self.items))

    def refuse(self, name: str, what: tuple[str, str], row_count: int) -> None:
        """Raise :class:`InputError` listing every problem if there is any (``what`` names the
        kind of list: 站点文件 / the site file)."""
        if not self.items:
            return
        shown = self.items[:_SHOWN]
        more = len(self.items) - _SHOWN
        rows = sorted({p.row for p in self.items})
        raise InputError(
            f"{what[0]} {name} 有 {len(rows)} 行不合格，未导入："
            + "；".join(p.message_zh for p in shown) + (f"；另有 {more} 处" if more > 0 else ""),
            f"The {what[1]} {name} has {len(rows)} bad rows and was not imported: "
            + "; ".join(p.message_en for p in shown) + (f"; and {more} more" if more > 0 else ""),
            problems=[p.as_dict() for p in self.items], bad_rows=rows, row_count=row_count)


def map_columns(columns: Iterable[object], candidates: Mapping[str, tuple[str, ...]],
                override: Mapping[str, str], what: tuple[str, str]) -> dict[str, str | None]:
    """Target field -> the table's header: the user's mapping (``override``) where given, else
    the first candidate present (case-insensitive), else None. A mapped header that is not in
    the table is a :class:`FieldMappingError` naming the headers there are (``what`` names the
    file: 名册 / the register). Headers starting with ``__`` are the reader's own, not offered."""
    available = {str(c).strip().lower(): str(c) for c in columns if not str(c).startswith("__")}
    mapping: dict[str, str | None] = {}
    for target, names in candidates.items():
        if target in override:
            src = override[target]
            if src.strip().lower() not in available:
                raise FieldMappingError(
                    f"{what[0]}中没有列“{src}”（用于 {target}）。现有列：{'、'.join(available.values())}",
                    f"Column {src!r} (for {target}) is not in {what[1]}. Columns: "
                    f"{', '.join(available.values())}", field=src)
            mapping[target] = available[src.strip().lower()]
        else:
            mapping[target] = next((available[c] for c in names if c in available), None)
    return mapping


def columns_of(table: pd.DataFrame, mapping: Mapping[str, str | None]) -> dict[str, list[Any]]:
    """Target field -> its column's values, or Nones where the table has no such column."""
    return {t: list(table[src]) if src is not None else [None] * len(table)
            for t, src in mapping.items()}


_CRS_ALIASES = {"wgs84": "WGS-84", "wgs-84": "WGS-84", "gps": "WGS-84", "4326": "WGS-84",
                "epsg:4326": "WGS-84", "cgcs2000": "CGCS2000", "4490": "CGCS2000",
                "epsg:4490": "CGCS2000", "gcj02": "GCJ-02", "gcj-02": "GCJ-02", "高德": "GCJ-02",
                "腾讯": "GCJ-02", "火星": "GCJ-02", "bd09": "BD-09", "bd-09": "BD-09",
                "百度": "BD-09"}


def canonical_crs(value: str) -> str:
    """One of WGS-84, CGCS2000, GCJ-02, BD-09 (the systems a row may use), else CRSError."""
    key = value.strip().lower()
    if key in _CRS_ALIASES:
        return _CRS_ALIASES[key]
    parsed = parse_crs(value)
    epsg = parsed.crs.to_epsg()
    if parsed.offset is None and epsg in (4326, 4490):
        return "WGS-84" if epsg == 4326 else "CGCS2000"
    raise CRSError(f"住户坐标只接受 WGS-84、CGCS2000、GCJ-02、BD-09，收到“{echo(value)}”。",
                   f"Household coordinates must be WGS-84, CGCS2000, GCJ-02 or BD-09; got {echo(value)!r}.")
