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

from wangge.geo.errors import FieldMappingError
from wangge.geo.io.rows import RowProblems, columns_of, map_columns
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
    mapping = map_columns(table.columns, COLUMN_CANDIDATES, columns or {},
                          ("网格员文件", "the worker file"))
    absent = [t for t in ("worker_id", "grid_code", "full_time") if mapping[t] is None]
    if absent:
        raise FieldMappingError(f"网格员文件缺少必需的列：{'、'.join(absent)}。",
                                f"The worker file lacks required columns: {', '.join(absent)}.",
                                missing=absent, columns=[str(c) for c in table.columns])
    known = None if grid_codes is None else {str(c) for c in grid_codes}

    cols = columns_of(table, mapping)
    problems = RowProblems()
    workers: list[dict[str, Any]] = []
    personal: list[dict[str, Any]] = []
    for k, line in enumerate(problems.rows(cols["worker_id"])):
        row, wid = line.number, line.key
        line.unique(label=("编号", "worker id"),
                    missing=("缺少网格员编号。", "no worker id."), field="worker_id")
        grid = text(cols["grid_code"][k])
        if grid is None:
            line.bad("grid_code", "missing", "缺少网格编码。", "no grid code.")
        elif known is not None and grid not in known:
            line.bad("grid_code", "unknown", f"网格 {grid} 不存在。", f"grid {grid} does not exist.")
        full = parse_full_time(cols["full_time"][k])
        if full is None:
            line.bad("full_time", "unknown", "应为 专职/兼职（或 是/否）。",
                     "must be full-time/part-time (专职/兼职, yes/no).")
        phone = text(cols["phone"][k])
        if phone is not None and sum(ch.isdigit() for ch in phone) not in range(7, 16):
            line.bad("phone", "bad_phone", "电话号码位数不对（此处不显示号码）。",
                     "phone number has the wrong number of digits (value not shown).")
        if line.ok:
            workers.append({"worker_id": wid, "grid_code": grid, "full_time": bool(full), "row": row})
            person = {"name": text(cols["name"][k]), "phone": phone}
            if any(person.values()):
                personal.append({"worker_id": wid, **person})
    problems.refuse(name, ("网格员文件", "worker file"), len(table))
    frame = pd.DataFrame(workers, columns=["worker_id", "grid_code", "full_time", "row"])
    frame["full_time"] = frame["full_time"].astype(bool)
    return Workers(workers=frame,
                   personal=pd.DataFrame(personal, columns=["worker_id", *PERSONAL], dtype=object),
                   mapping=mapping, row_count=len(table))
