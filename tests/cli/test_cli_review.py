"""``wangge households review`` / ``resolve`` on SQLite: a readable table within 100 columns,
filters, export with personal data only when asked (and audited), decisions."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from tests.review_world import load_world
from wangge.cli.app import app
from wangge.store import open_store


@pytest.fixture
def world(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'wangge.db'}"
    with open_store(url) as store:
        load_world(store, tmp_path)
    runner = CliRunner()
    env = {"WANGGE_DATABASE_URL": url, "COLUMNS": "160"}

    def invoke(*args: object):
        return runner.invoke(app, [str(a) for a in args], env=env)

    return invoke, url


def test_review_table_is_chinese_and_fits_100_columns(world):
    run, _ = world
    r = run("households", "review")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 100, r.output   # CJK: two cells each
    assert "待核查 9 户" in r.output and "地址匹配可信度低 5" in r.output
    assert "住户编号" in r.output and "最可能的候选" in r.output
    assert "B101 和平花园1栋" in r.output and "0.90 (+1)" in r.output
    assert "['low_match_score']" not in r.output
    assert "13900000001" not in r.output and "张一" not in r.output

    en = run("--lang", "en", "households", "review", "--reason", "outside")
    assert en.exit_code == 0 and "1 households to review" in en.output
    assert "outside every grid" in en.output and "H07" in en.output and "H01" not in en.output

    page = run("households", "review", "--unit", "320902001001", "--min-score", "0.8",
               "--limit", "1")
    assert page.exit_code == 0 and "H01" in page.output and "--offset 1" in page.output
    feb = run("households", "review", "--source", "二月.csv")
    assert "H11" in feb.output and "H01" not in feb.output
    bad = run("households", "review", "--reason", "whatever")
    assert bad.exit_code == 2 and "whatever" in bad.output


def test_export_personal_only_when_asked_and_audited(world, tmp_path):
    run, url = world
    out = tmp_path / "待核查.xlsx"
    r = run("households", "review", "--export", out, "--reason", "low_match_score")
    assert r.exit_code == 0 and "已导出 5 户" in r.output
    rows = list(openpyxl.load_workbook(out)["待核查"].iter_rows(values_only=True))
    assert rows[0][0] == "住户编号" and len(rows) == 2 + 5 and "联系电话" not in rows[0]

    plain = tmp_path / "r.csv"
    assert run("--lang", "en", "households", "review", "--export", plain).exit_code == 0
    header = next(csv.reader(io.StringIO(plain.read_text(encoding="utf-8-sig"))))
    assert header[0] == "household id" and "phone" not in header

    with open_store(url) as store:
        assert not store.audit_entries()
    personal = tmp_path / "personal.csv"
    r = run("households", "review", "--export", personal, "--show-personal")
    assert r.exit_code == 0 and "审计" in r.output
    text = personal.read_text(encoding="utf-8-sig")
    assert "联系电话" in text and "13900000001" in text
    with open_store(url) as store:
        entry = store.audit_entries()[0]
    assert entry["role"] == "cli" and entry["detail"] == {"release_id": 1, "households": 9}
    assert "13900000001" not in str(entry)

    assert run("households", "review", "--show-personal").exit_code == 2
    assert run("households", "review", "--export", tmp_path / "x.pdf").exit_code == 2


def test_resolve_by_candidate_and_point(world):
    run, url = world
    r = run("households", "resolve", "H08", "--candidate", "B202")
    assert r.exit_code == 0, r.output
    assert "已处理 H08" in r.output and "320902001001001002" in r.output
    p = run("households", "resolve", "H05", "--lon", "120.222", "--lat", "33.3992",
            "--crs", "GCJ-02")
    assert p.exit_code == 0 and "取点" in p.output
    assert run("households", "resolve", "H07", "--lon", "120.30", "--lat", "33.45").exit_code == 2
    assert run("households", "resolve", "H07").exit_code == 2
    listing = run("households", "review")
    assert "待核查 7 户" in listing.output and "H08" not in listing.output
    with open_store(url) as store:
        kept = store.review_decisions()
    assert kept["external_id"].tolist() == ["H08", "H05"] and set(kept["decided_by"]) == {"cli"}


def test_import_names_the_households_it_could_not_locate(world, tmp_path):
    from tests.review_world import REGISTER, write_register

    invoke, _ = world
    rows = [("N01", "城西无名巷", None, None, 2, "", ""), *REGISTER[1:3]]
    path = write_register(tmp_path / "三月.csv", rows)
    out = invoke("households", "import", path)
    assert out.exit_code == 0, out.output
    assert "无法定位（见 wangge households review --reason 无法定位）：N01" in out.output
