"""CSV the service writes, safe to open in a spreadsheet.

Identifiers and addresses come from users, and a spreadsheet runs a cell that begins with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one of them) as a formula:
``=cmd|' /C calc'!A0`` in an id would run on the desk of whoever opens the answer. The store
keeps what was given; only what is written out is neutralised, by the usual rule of putting
an apostrophe before such a text cell. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_STARTS = frozenset(FORMULA_STARTS)


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will read it as text: text that would start a formula gets
    a leading apostrophe; everything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_column(values: Sequence[Any]) -> Sequence[Any]:
    """A column with :func:`safe_cell` applied (the same object when no cell needs it)."""
    if not any(isinstance(v, str) and v[:1] in _STARTS for v in values):
        return values
    return [safe_cell(v) for v in values]


def csv_bytes(header: Sequence[str], columns: Sequence[Sequence[Any]], *,
              made_here: Collection[str] = ()) -> bytes:
    """UTF-8 CSV of ``columns`` (one sequence per column, equally long) under ``header``,
    lines ended by CRLF as RFC 4180 has it (so a CR inside a cell is quoted too).

    Every column is neutralised except those named in ``made_here``: values the service made
    itself (statuses, unit codes, numbers), which skip the scan — a million-row answer would
    otherwise pay for it on every column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_column(list(header)))
    rows: Iterable[tuple[Any, ...]] = zip(
        *(c if h in made_here else safe_column(c) for h, c in zip(header, columns, strict=True)),
        strict=True)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
