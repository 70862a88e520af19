"""Read grid workers (网格员) from CSV, Excel (.xlsx) or JSON, keeping personal data apart.

One row a worker: a worker id, the code of the grid served, whether full-time (专职) or
part-time (兼职), and personal fields (name, phone). The personal fields go to a separate table
(``personal``) that only entitled roles see; they are never logged and never quoted in an error
message: a problem names the row, the worker id and the field, not the value.

Like a site list, a worker list with any bad row is refused with every problem listed at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wangge.geo.errors import FieldMappingError, InputError
from wangge.geo.io.sites import SiteProblem
from wangge.geo.io.table import DEFAULT_LIMITS, TableLimits, read_table, text

__all__ = ["PERSONAL", "Workers", "parse_full_time", "read_workers"]

COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "worker_id": ("worker_id", "id", "工号", "网格员编号", "人员编号", "编号"),
    "grid_code": ("grid_code", "grid", "网格编码", "所属网格", "所属网格编码", "网格代码", "网格编号"),
    "full_time": ("full_time", "fulltime", "是否专职", "专职", "类型", "人员类型", "岗位类型", "岗位"),
    "name": ("name", "姓名", "网格员姓名", "名字"),
    "phone": ("phone", "联系电话", "电话", "手机", "手机号", "手机号码"),
}
PERSONAL = ("name", "phone")
_SHOWN = 20

_FULL_TIME = {"true", "yes", "y", "1", "是", "专职", "专职网格员", "full-time", "full_time", "fulltime",
              "full"}
_PART_TIME = {"false", "no", "n", "0", "否", "兼职", "兼职网格员", "part-time", "part_time", "parttime",
              "part"}


def parse_full_time(value: Any) -> bool | None:
    """True for 专职/是/yes/1, False for 兼职/否/no/0, None otherwise."""
    if isinstance(value, bool):
        return value
    key = (text(value) or "").lower()
    if not key:
        return None
    return True if key in _FULL_TIME else False if key in _PART_TIME else None


@dataclass
class Workers:
    """Workers (``worker_id, grid_code, full_time, row``) and their personal data apart
    (``worker_id, name, phone``)."""

    workers: pd.DataFrame
    personal: pd.DataFrame
    mapping: dict[str, str | None]
    row_count: int

    def __repr__(self) -> str:  # never show personal data, even in a debugger or a log line
        return f"Workers({len(self.workers)} workers, personal data for {len(self.personal)})"


def read_workers(path: str | Path, *, columns: dict[str, str] | None = None,
                 grid_codes: Any = None, display_name: str | None = None,
                 limits: TableLimits = DEFAULT_LIMITS) -> Workers:
    """Read a worker list; refuse it, listing every bad row (no personal values), if any is bad.

    ``grid_codes`` (optional, e.g. the grid codes of the release) makes an unknown grid a problem.
    A list past ``limits`` is refused (:class:`wangge.geo.errors.TableTooLarge`).
    """
    path = Path(path)
    name = display_name or path.name
    table = read_table(path, name, limits=limits, json_keys=("workers", "records"))
    available = {str(c).strip().lower(): str(c) for c in table.columns}
    override = columns or {}
    mapping: dict[str, str | None] = {}
    for target, candidates in COLUMN_CANDIDATES.items():
        if target in override:
            key = override[target].strip().lower()
            if key not in available:
                raise FieldMappingError(f"网格员文件中没有列“{override[target]}”（用于 {target}）。",
                                        f"Column {override[target]!r} (for {target}) is not in the "
                                        "worker file.", field=override[target])
            mapping[target] = available[key]
        else:
            mapping[target] = next((available[c] for c in candidates if c in available), None)
    absent = [t for t in ("worker_id", "grid_code", "full_time") if mapping[t] is None]
    if absent:
        raise FieldMappingError(f"网格员文件缺少必需的列：{'、'.join(absent)}。",
                                f"The worker file lacks required columns: {', '.join(absent)}.",
                                missing=absent, columns=list(available.values()))
    known = None if grid_codes is None else {str(c) for c in grid_codes}

    def col(target: str) -> list[Any]:
        src = mapping.get(target)
        return list(table[src]) if src is not None else [None] * len(table)

    cols = {t: col(t) for t in COLUMN_CANDIDATES}
    problems: list[SiteProblem] = []
    workers: list[dict[str, Any]] = []
    personal: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for k in range(len(table)):
        row = k + 2
        wid = text(cols["worker_id"][k])

        def bad(fld: str, rule: str, zh: str, en: str, wid: str | None = wid, row: int = row) -> None:
            problems.append(SiteProblem(row, wid, rule, f"第 {row} 行 {fld}：{zh}",
                                        f"row {row}, {fld}: {en}", field=fld))

        start = len(problems)
        if wid is None:
            bad("worker_id", "missing", "缺少网格员编号。", "no worker id.")
        elif wid in seen:
            bad("worker_id", "duplicate", f"编号 {wid} 与第 {seen[wid]} 行重复。",
                f"worker id {wid} repeats row {seen[wid]}.")
        else:
            seen[wid] = row
        grid = text(cols["grid_code"][k])
        if grid is None:
            bad("grid_code", "missing", "缺少网格编码。", "no grid code.")
        elif known is not None and grid not in known:
            bad("grid_code", "unknown", f"网格 {grid} 不存在。", f"grid {grid} does not exist.")
        full = parse_full_time(cols["full_time"][k])
        if full is None:
            bad("full_time", "unknown", "应为 专职/兼职（或 是/否）。",
                "must be full-time/part-time (专职/兼职, yes/no).")
        phone = text(cols["phone"][k])
        if phone is not None and sum(ch.isdigit() for ch in phone) not in range(7, 16):
            bad("phone", "bad_phone", "电话号码位数不对（此处不显示号码）。",
                "phone number has the wrong number of digits (value not shown).")
        if len(problems) == start:
            workers.append({"worker_id": wid, "grid_code": grid, "full_time": bool(full), "row": row})
            person = {"name": text(cols["name"][k]), "phone": phone}
            if any(person.values()):
                personal.append({"worker_id": wid, **person})
    if problems:
        rows = sorted({p.row for p in problems})
        shown = problems[:_SHOWN]
        raise InputError(
            f"网格员文件 {name} 有 {len(rows)} 行不合格，未导入：" + "；".join(p.message_zh for p in shown),
            f"The worker file {name} has {len(rows)} bad rows and was not imported: "
            + "; ".join(p.message_en for p in shown),
            problems=[p.as_dict() for p in problems], bad_rows=rows, row_count=len(table))
    frame = pd.DataFrame(workers, columns=["worker_id", "grid_code", "full_time", "row"])
    frame["full_time"] = frame["full_time"].astype(bool)
    return Workers(workers=frame,
                   personal=pd.DataFrame(personal, columns=["worker_id", *PERSONAL], dtype=object),
                   mapping=mapping, row_count=len(table))
