"""The review worklist on SQLite and PostGIS: filters and counts, candidates, export, decisions
kept and reused at the next import."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from tests.review_world import REGISTER, load_world, write_register
from wangge.geo.errors import CoordinateRangeError, InputError, NotFound
from wangge.households import LOW_SCORE_FLAG as HOUSEHOLDS_LOW_SCORE
from wangge.households import current_matcher, import_register
from wangge.review import (
    LOW_SCORE_FLAG,
    REASONS,
    Decider,
    address_sha256,
    build_filter,
    export_csv,
    export_table,
    export_xlsx,
    parse_reasons,
    resolve,
    worklist,
)
from wangge.store import Store

C1, C2 = "320902001001", "320902001002"          # the two communities of tests/hierarchy.py


@pytest.fixture
def world(store: Store, tmp_path):
    return load_world(store, tmp_path)


def _ids(page: dict) -> list[str]:
    return [h["external_id"] for h in page["households"]]


def test_reasons_are_one_table_in_both_languages():
    assert LOW_SCORE_FLAG == HOUSEHOLDS_LOW_SCORE
    for r in REASONS.values():
        assert r.zh and r.en and r.hint_zh and r.hint_en
    assert parse_reasons("无法定位,outside") == ("unlocated", "outside")
    assert parse_reasons(["Doubtful address match"]) == (LOW_SCORE_FLAG,)
    with pytest.raises(InputError) as err:
        parse_reasons("maybe")
    assert "maybe" in err.value.message_zh and "unlocated" in err.value.message_en


def test_worklist_counts_filters_and_pages(store: Store, world):
    rid = world
    everything = worklist(store, rid, build_filter(store, rid))
    # unlocated first, then outside, then flagged; by id within each
    assert _ids(everything) == ["H05", "H12", "H07", "H01", "H03", "H04", "H06", "H08", "H11"]
    assert everything["total"] == 9
    counts = {r["code"]: r["count"] for r in everything["reasons"]}
    assert counts == {"unlocated": 2, "outside": 1, "coordinates_far_from_address": 1,
                      LOW_SCORE_FLAG: 5}
    assert [r["zh"] for r in everything["reasons"]][:2] == ["无法定位", "不在任何网格内"]
    assert {s["source"]: s["count"] for s in everything["sources"]} == {"一月.csv": 7, "二月.csv": 2}
    h01 = everything["households"][3]
    assert h01["reasons"] == [{"code": LOW_SCORE_FLAG, "zh": "地址匹配可信度低",
                               "en": "doubtful address match"}]
    assert not {"name", "phone", "id_number", "flags", "household_id"} & set(h01)

    low = worklist(store, rid, build_filter(store, rid, reasons="地址匹配可信度低"))
    assert _ids(low) == ["H01", "H03", "H04", "H08", "H11"] and low["total"] == 5
    # the counts per reason ignore the reason filter, so a person sees the others too
    assert {r["code"]: r["count"] for r in low["reasons"]} == counts
    two = worklist(store, rid, build_filter(store, rid, reasons=["unlocated", "outside"]))
    assert _ids(two) == ["H05", "H12", "H07"]

    # a unit: its households, and those outside every unit whose nearest micro-grid is in it
    assert _ids(worklist(store, rid, build_filter(store, rid, unit=C1))) == [
        "H01", "H03", "H06", "H08", "H11"]
    assert _ids(worklist(store, rid, build_filter(store, rid, unit=C2))) == ["H07", "H04"]
    grid = worklist(store, rid, build_filter(store, rid, unit="320902001001001"))
    assert _ids(grid) == ["H01", "H08", "H11"]

    feb = worklist(store, rid, build_filter(store, rid, source="二月.csv"))
    assert _ids(feb) == ["H12", "H11"]
    band = worklist(store, rid, build_filter(store, rid, min_score=0.8, max_score=0.9))
    assert _ids(band) == ["H01", "H04", "H11"]

    page = worklist(store, rid, build_filter(store, rid), limit=3, offset=3)
    assert _ids(page) == ["H01", "H03", "H04"] and page["total"] == 9


def test_filter_arguments_are_checked_together(store: Store, world):
    rid = world
    with pytest.raises(InputError) as err:
        build_filter(store, rid, reasons="perhaps", min_score=1.5, max_score=-1)
    assert "perhaps" in err.value.message_en and "min_score" in err.value.message_en \
        and "max_score" in err.value.message_zh
    with pytest.raises(InputError):
        build_filter(store, rid, min_score=0.9, max_score=0.5)
    with pytest.raises(NotFound):
        build_filter(store, rid, unit="999")


def test_candidates_start_with_the_matchers_choice(store: Store, world):
    rid = world
    matcher = current_matcher(store)
    page = worklist(store, rid, build_filter(store, rid), matcher=matcher)
    rows = {h["external_id"]: h for h in page["households"]}
    assert rows["H05"]["candidates"] == [] and rows["H07"]["candidates"] == []
    for ext in ("H01", "H03", "H04", "H06", "H08", "H11"):
        assert rows[ext]["candidates"][0]["id"] == rows[ext]["matched_id"]
    h01 = rows["H01"]["candidates"]
    assert [c["id"] for c in h01] == ["B101", "B201"]   # 和平花园 and its neighbour 和平家园
    assert h01[0]["components"] == ["name", "building"]
    assert h01[1]["components"] == ["name_close", "building"] and h01[1]["score"] < h01[0]["score"]
    assert "和平花园" in h01[0]["evidence_zh"] and "和平花园" in h01[0]["evidence_en"]
    h08 = rows["H08"]["candidates"]                      # 和平园: close to both names alike
    assert {c["id"] for c in h08} == {"B102", "B202"} and h08[0]["score"] == h08[1]["score"]
    assert rows["H04"]["candidates"][0]["kind"] == "compound"   # no building 9 in 新都小区


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_csv_and_xlsx(store: Store, world):
    rid = world
    matcher = current_matcher(store)
    table = export_table(store, rid, build_filter(store, rid), matcher=matcher)
    rows = _csv_rows(export_csv(table))
    assert rows[0][:3] == ["住户编号", "核查原因", "地址"]
    assert rows[1][:3] == ["household id", "reasons", "address"]
    body = {r[0]: dict(zip(rows[1], r, strict=True)) for r in rows[2:]}
    assert list(body) == ["H05", "H12", "H07", "H01", "H03", "H04", "H06", "H08", "H11"]
    assert body["H12"]["address"].startswith("'=HYPERLINK")        # never a formula
    assert body["H01"]["reasons"] == "地址匹配可信度低" and body["H07"]["status"] == "网格外"
    assert body["H01"]["candidate 1 id"] == "B101" and body["H01"]["candidate 2 id"] == "B201"
    assert body["H01"]["candidate 1 matched on"] == "小区名、楼栋"
    assert not {"户主姓名", "联系电话"} & set(rows[0])
    assert "13900000001" not in str(rows)

    english = _csv_rows(export_csv(export_table(store, rid, build_filter(store, rid),
                                                matcher=matcher, lang="en"), "en"))
    assert english[0][:2] == ["household id", "reasons"] and english[1][0] == "H05"
    assert dict(zip(english[0], english[4], strict=True))["reasons"] == "doubtful address match"

    personal = export_table(store, rid, build_filter(store, rid, reasons="unlocated"),
                            matcher=matcher, personal=True)
    prow = _csv_rows(export_csv(personal))
    assert prow[0][-3:] == ["户主姓名", "联系电话", "身份证号"]
    assert prow[2][-3:-1] == ["钱五", "13900000005"]

    wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(table)))
    sheet = wb["待核查"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "住户编号" and values[1][0] == "household id"
    cell = next(c for c in sheet["C"] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")   # text, as written
    assert sheet.freeze_panes == "B3"
    tally = list(wb["原因统计"].iter_rows(values_only=True))
    assert ("地址匹配可信度低", LOW_SCORE_FLAG, 5) in tally
    en_wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(
        export_table(store, rid, build_filter(store, rid), lang="en"), "en")))
    assert next(en_wb["review"].iter_rows(values_only=True))[0] == "household id"


def test_resolve_by_candidate_and_by_point(store: Store, world):
    rid = world
    cli = Decider("cli")
    done = resolve(store, "H08", candidate="B202", decider=cli)
    assert done["decision"] == "candidate" and done["grid"] == "320902001001001"
    assert done["microgrid"] == "320902001001001002" and done["release_id"] == rid
    # a point in GCJ-02 is converted at the edge: it lands in the micro-grid it means
    point = resolve(store, "H05", lon=120.2165 + 0.0055, lat=33.4015 - 0.0023, crs="GCJ-02",
                    decider=Decider("planner key", key_id=7, role="planner"))
    assert point["microgrid"] == "320902001002001002"
    assert abs(point["lon"] - 120.2165) < 0.002 and point["lon"] != 120.2165 + 0.0055

    left = worklist(store, rid, build_filter(store, rid))
    assert "H08" not in _ids(left) and "H05" not in _ids(left) and left["total"] == 7
    hh = store.households().set_index("external_id")
    assert hh.loc["H08", "located_by"] == "review" and hh.loc["H08", "matched_id"] == "B202"
    assert hh.loc["H08", "flags"] is None and pd.isna(hh.loc["H05", "matched_id"])
    assert "H08" in store.households_of(rid, "320902001001001002", _microgrid())["external_id"] \
        .tolist()

    kept = store.review_decisions().set_index("external_id")
    assert kept.loc["H08", "decision"] == "candidate" and kept.loc["H08", "entry_id"] == "B202"
    assert kept.loc["H05", "given_crs"] == "GCJ-02" and kept.loc["H05", "role"] == "planner"
    assert kept.loc["H05", "decided_by"] == "planner key"
    assert kept.loc["H05", "address_sha256"] == address_sha256("城东老街口")
    assert kept.loc["H08", "decided_at"].tzinfo is not None


def _microgrid():
    from wangge.geo.levels import Level
    return Level.MICROGRID


def test_resolve_refuses_what_it_cannot_do(store: Store, world):
    cli = Decider("cli")
    with pytest.raises(InputError):
        resolve(store, "H05", decider=cli)
    with pytest.raises(InputError):
        resolve(store, "H05", candidate="B101", lon=120.2, lat=33.4, decider=cli)
    with pytest.raises(InputError):
        resolve(store, "H05", lon=120.2, decider=cli)
    with pytest.raises(NotFound):
        resolve(store, "H05", candidate="B999", decider=cli)
    with pytest.raises(NotFound):
        resolve(store, "NOBODY", candidate="B101", decider=cli)
    with pytest.raises(CoordinateRangeError):
        resolve(store, "H05", lon=33.4, lat=120.2, decider=cli)       # swapped
    with pytest.raises(InputError) as outside:
        resolve(store, "H07", lon=120.30, lat=33.45, decider=cli)     # in no micro-grid
    assert "不在" in outside.value.message_zh and "no micro-grid" in outside.value.message_en
    assert store.review_decisions().empty
    assert store.households().set_index("external_id").loc["H07", "lon"] == 120.30


def test_decisions_are_reused_at_the_next_import(store: Store, world, tmp_path):
    rid = world
    resolve(store, "H08", candidate="B202", decider=Decider("cli"))
    resolve(store, "H05", lon=120.2165, lat=33.4015, decider=Decider("cli"))
    resolve(store, "H11", candidate="B101", decider=Decider("cli"))
    resolve(store, "H11", candidate="C2", decider=Decider("cli"))  # changed their mind: C2 wins
    # the same households again, every one changed (a new size): located afresh…
    rows = [(e, a, x, y, s + 1, n, p) for e, a, x, y, s, n, p in REGISTER]
    rows[7] = ("H08", "和平园二栋", None, None, 9, "吴八", "13900000008")   # a new address text
    import_register(store, write_register(tmp_path / "三月.csv", rows))
    hh = store.households().set_index("external_id")
    # …but the same address text gets the decided location, and stays out of review
    assert hh.loc["H05", "located_by"] == "review" and hh.loc["H05", "lon"] == 120.2165
    assert hh.loc["H11", "located_by"] == "review" and hh.loc["H11", "matched_id"] == "C2"
    assert hh.loc["H08", "located_by"] == "address" and hh.loc["H08", "flags"] == [LOW_SCORE_FLAG]
    queue = _ids(worklist(store, rid, build_filter(store, rid), limit=100))
    assert "H05" not in queue and "H11" not in queue and "H08" in queue
    c2 = store.gazetteer_points(["C2"]).iloc[0]
    assert (hh.loc["H11", "lon"], hh.loc["H11", "lat"]) == (c2["lon"], c2["lat"])
