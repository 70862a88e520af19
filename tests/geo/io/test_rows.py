"""The row loop every list reader shares: numbering, ids given once, the refusal listing all."""

from __future__ import annotations

import pandas as pd
import pytest

from wangge.geo.errors import FieldMappingError, InputError
from wangge.geo.io.rows import RowProblems, columns_of, map_columns


def test_rows_numbered_ids_once_and_refused_with_every_problem():
    problems = RowProblems()
    kept = []
    for line in problems.rows(["a", " ", "a", "b"]):
        line.unique(label=("编号", "id"), missing=("缺少编号。", "no id."), field="id")
        if line.key == "b":
            line.bad("size", "bad_size", "不合理。", "not plausible.")
        if line.ok:
            kept.append(line.number)
    assert kept == [2]
    assert [(p.row, p.external_id, p.reason, p.field) for p in problems.items] == [
        (3, None, "missing", "id"), (4, "a", "duplicate", "id"), (5, "b", "bad_size", "size")]
    assert problems.items[1].message_en == "row 4, id: id a repeats row 2."
    with pytest.raises(InputError) as info:
        problems.refuse("x.csv", ("名单", "list"), 4)
    assert info.value.detail["bad_rows"] == [3, 4, 5] and "3 bad rows" in info.value.message_en
    assert [p["field"] for p in info.value.detail["problems"]] == ["id", "id", "size"]
    RowProblems().refuse("x.csv", ("名单", "list"), 0)  # nothing wrong: no refusal


def test_a_problem_without_field_has_none_in_its_dict():
    problems = RowProblems()
    next(problems.rows([None])).unique(label=("编号", "id"), missing=("缺少编号。", "no id."),
                                       reasons=("missing_id", "duplicate_id"))
    assert problems.items[0].as_dict() == {"row": 2, "external_id": None, "reason": "missing_id",
                                           "message": "第 2 行：缺少编号。", "message_en": "row 2: no id."}


def test_columns_mapped_by_candidates_or_by_the_user():
    table = pd.DataFrame({"编号": ["1"], "Name": ["x"], "__lon": ["120"]})
    candidates = {"id": ("id", "编号"), "name": ("name",), "lon": ("lon", "__lon")}
    mapping = map_columns(table.columns, candidates, {}, ("名单", "the list"))
    assert mapping == {"id": "编号", "name": "Name", "lon": None}
    assert columns_of(table, mapping) == {"id": ["1"], "name": ["x"], "lon": [None]}
    with pytest.raises(FieldMappingError, match="not in the list. Columns: 编号, Name"):
        map_columns(table.columns, candidates, {"id": "NOPE"}, ("名单", "the list"))
