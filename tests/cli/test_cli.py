"""The ``wangge`` command line on the embedded SQLite default, with real files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from tests.hierarchy import M1, X0, Y0, D, cell, hierarchy, set_geom
from wangge.cli.app import app
from wangge.geo.io.boundaries import write_units
from wangge.store import open_store


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    env = {"WANGGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'wangge.db'}", "COLUMNS": "200"}

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], env=env)

    return invoke


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + 1.5 * D, Y0 + D))
    return {"good": write_units(hierarchy(), tmp_path / "good.gpkg"),
            "broken": write_units(set_geom(hierarchy(), M1, grown), tmp_path / "broken.geojson")}


def test_validate_good_and_broken(run, files, tmp_path):
    ok = run("validate", files["good"])
    assert ok.exit_code == 0, ok.output
    assert "0 个错误" in ok.output
    bad = run("validate", files["broken"], "--json", tmp_path / "r.json")
    assert bad.exit_code == 1
    assert "同级重叠" in bad.output and M1 in bad.output and "1 个错误" in bad.output
    assert '"rule": "overlap"' in (tmp_path / "r.json").read_text(encoding="utf-8")
    en = run("--lang", "en", "validate", files["broken"])
    assert "overlap" in en.output and "1 errors" in en.output


def test_import_export_releases_publish(run, files, tmp_path):
    refused = run("import", files["broken"])
    assert refused.exit_code == 1 and "未写入任何数据" in refused.output
    draft = run("import", files["broken"], "--draft")
    assert draft.exit_code == 0 and "草稿" in draft.output
    assert run("publish", "1").exit_code == 1
    good = run("import", files["good"], "--effective-date", "2026-11-01", "--note", "首版")
    assert good.exit_code == 0 and "版本 2" in good.output
    listing = run("releases")
    assert listing.exit_code == 0 and "当前" in listing.output and "草稿" in listing.output
    out = tmp_path / "grids.gpkg"
    exported = run("export", out, "--level", "网格", "--crs", "GCJ-02")
    assert exported.exit_code == 0, exported.output
    assert len(pyogrio.read_dataframe(out)) == 4
    missing = run("export", tmp_path / "x.gpkg", "--release", "99")
    assert missing.exit_code == 2 and "99" in missing.output


def test_publish_with_a_future_effective_date_schedules_it(run, files):
    assert run("import", files["good"], "--effective-date", "2026-11-01").exit_code == 0
    assert run("import", files["good"], "--draft").exit_code == 0
    planned = run("publish", "2", "--effective-date", "2099-01-01")
    assert planned.exit_code == 0, planned.output
    assert "2099-01-01 零点" in planned.output and "仍为 1" in planned.output
    listing = run("releases")
    assert "待生效" in listing.output and "当前" in listing.output
    assert "scheduled" in run("--lang", "en", "releases").output
    assert run("publish", "2", "--effective-date", "2099-13-01").exit_code == 2
    moved = run("publish", "1", "--effective-date", "2099-01-01")  # has been in force
    assert moved.exit_code == 2 and "不带日期发布" in moved.output
    again = run("publish", "1")
    assert again.exit_code == 0 and "版本 1 已设为当前版本" in again.output
    imported = run("import", files["good"], "--effective-date", "2099-02-01")
    assert imported.exit_code == 0 and "2099-02-01 起生效" in imported.output


def test_bad_input_is_a_clear_message(run, tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a\n1\n")
    r = run("validate", bad)
    assert r.exit_code == 2 and "不支持的文件格式" in r.output
    r = run("import", tmp_path / "missing.gpkg")
    assert r.exit_code == 2 and "文件不存在" in r.output


def test_repair_reports_changes(run, tmp_path):
    eps = 2e-8
    shrunk = write_units(set_geom(hierarchy(), M1, shapely.box(X0, Y0, X0 + D - eps, Y0 + D)),
                         tmp_path / "sliver.gpkg")
    r = run("validate", shrunk, "--repair")
    assert r.exit_code == 0 and "修复" in r.output and "并入" in r.output


def test_demo_builds_loads_and_shows_the_broken_variant(run, tmp_path):
    r = run("demo", "--out", tmp_path / "demo", "--households", "2000")
    assert r.exit_code == 0, r.output
    assert "7 个街道" in r.output and "1976 个微网格" in r.output
    assert "已导入为版本 1（当前版本）" in r.output
    assert (tmp_path / "demo" / "tinghu_demo_broken.gpkg").exists()
    assert "编码重复" in r.output and "几何无效" in r.output
    assert "2000 户" in r.output and "已分配到版本 1" in r.output
    assert (tmp_path / "demo" / "households.csv").exists()
    assert "网格员" in r.output and "专职" in r.output
    stages = [line.split()[1] for line in r.output.splitlines() if line.strip().startswith("✓")]
    assert stages == ["生成", "校验并导入版本", "含有错误的版本：6", "生成", "读取", "比对", "定位", "写入",
                      "分配", "网格员", "路网", "计算"], r.output
    assert "✓ 读取 2,000 行" in r.output
    assert "完成：演示区 2,367 个单元、2,000 户，版本 1，用时" in r.output
    lines = r.output.splitlines()
    key = next(line for line in lines if line.startswith("wg_"))
    password = lines[next(i for i, line in enumerate(lines) if "浏览器登录" in line) + 1].strip()
    with open_store(f"sqlite:///{tmp_path / 'db' / 'wangge.db'}") as store:
        assert store.key_for(key).role == "admin"
        assert 0.9 * 314 < len(store.workers()) < 1.2 * 314
        assert store.check_login("demo", password, "127.0.0.1").ok          # a browser login
        assert store.user("demo").role == "admin"
    counts = run("households", "counts", "--level", "street")
    assert counts.exit_code == 0 and "街道" in counts.output
    review = run("households", "review")
    assert review.exit_code == 0
    listing = run("households", "list", "320902001")
    assert listing.exit_code == 0 and "phone" not in listing.output
    personal = run("households", "list", "320902001", "--show-personal")
    assert personal.exit_code == 0 and "phone" in personal.output


def test_bad_date_and_report_folder(run, files, tmp_path):
    r = run("import", files["good"], "--effective-date", "2024-13-01")
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    out = tmp_path / "new" / "folder" / "r.json"
    assert run("validate", files["good"], "--json", out).exit_code == 0 and out.exists()


def test_keys_create_list_revoke(run, tmp_path):
    made = run("keys", "create", "热线派单", "--role", "integrator")
    assert made.exit_code == 0, made.output
    key = next(line for line in made.output.splitlines() if line.startswith("wg_"))
    listed = run("keys", "list")
    assert "热线派单" in listed.output and key not in listed.output
    assert run("keys", "revoke", "1").exit_code == 0
    with open_store(f"sqlite:///{tmp_path / 'db' / 'wangge.db'}") as store:
        assert store.keys()[0].revoked_at is not None and store.key_for(key) is None
    assert run("keys", "revoke", "7").exit_code == 2
    bad = run("keys", "create", "x", "--role", "boss")
    assert bad.exit_code == 2 and "未知角色" in bad.output


def test_workers_import_checks_grids_and_keeps_contacts_apart(run, files, tmp_path):
    assert run("import", files["good"]).exit_code == 0
    grids = [u for u in hierarchy().itertuples() if u.level == "grid"]
    roster = tmp_path / "workers.csv"
    rows = [f"W{i},{g.code},是,王五,13900000000" for i, g in enumerate(grids)]
    roster.write_text("工号,网格编码,是否专职,姓名,电话\n" + "\n".join(rows) + "\n", encoding="utf-8")
    ok = run("workers", "import", roster)
    assert ok.exit_code == 0, ok.output
    assert f"{len(grids)}/{len(grids)}" in ok.output and "王五" not in ok.output
    roster.write_text("工号,网格编码,是否专职,姓名,电话\nW1,999,是,王五,139\n", encoding="utf-8")
    bad = run("workers", "import", roster)
    assert bad.exit_code == 2 and "王五" not in bad.output and "139" not in bad.output


def test_map_files_for_a_release_and_a_broken_file(run, files, tmp_path):
    assert run("import", files["good"]).exit_code == 0
    out = tmp_path / "maps"
    r = run("map", "overview", "--out", out / "o.html", "--tiles", "none")
    assert r.exit_code == 0, r.output
    assert "leaflet" in (out / "o.html").read_text(encoding="utf-8")
    assert run("map", "validation", files["broken"], "--out", out / "v.html").exit_code == 0
    page = (out / "v.html").read_text(encoding="utf-8")
    assert "重叠" in page or json.dumps("重叠")[1:-1] in page  # the overlap's layer is drawn
    bad = run("map", "overview", "--out", out / "x.html", "--tiles", "google")
    assert bad.exit_code == 2 and "未知底图" in bad.output


def test_sites_import_move_retire_history(run, files, tmp_path):
    assert run("import", files["good"]).exit_code == 0
    good = tmp_path / "sites.csv"
    good.write_text("编号,名称,类型,经度,纬度,所属单元,开放时间\n"
                    f"S1,一号中心,党群服务中心,{X0 + 0.001},{Y0 + 0.001},320902001001,周一至周五 9:00-17:00\n"
                    f"S2,二号驿站,驿站,{X0 + 0.013},{Y0 + 0.002},320902001002,全天\n",
                    encoding="utf-8")
    r = run("sites", "import", good, "--crs", "CGCS2000")
    assert r.exit_code == 0, r.output
    assert "站点 2 个" in r.output and "党群服务中心 1" in r.output
    assert run("sites", "move", "S2", X0 + 0.014, Y0 + 0.002, "--crs", "CGCS2000").exit_code == 0
    assert run("sites", "retire", "S1").exit_code == 0
    listed = run("sites", "list")
    assert "S2" in listed.output and "S1" not in listed.output
    history = run("sites", "history", "S2")
    assert history.exit_code == 0 and history.output.count("二号驿站") == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,名称,类型,经度,纬度,所属单元\n"
                   f"S3,三号,驿站,{X0},{Y0},999\n", encoding="utf-8")
    refused = run("sites", "import", bad, "--crs", "CGCS2000")
    assert refused.exit_code == 1 and "未导入" in refused.output
    assert "S2" in run("sites", "list").output  # the refused list changed nothing
    assert run("sites", "retire", "S1").exit_code == 2


def test_network_import_coverage_and_suggestion(run, files, tmp_path):
    assert run("import", files["good"]).exit_code == 0
    sites = tmp_path / "sites.csv"
    sites.write_text("编号,名称,类型,经度,纬度,所属单元\n"
                     f"S1,一号中心,中心,{X0 + 0.001},{Y0 + 0.0015},320902001001\n", encoding="utf-8")
    assert run("sites", "import", sites, "--crs", "CGCS2000").exit_code == 0
    straight = run("coverage", "--level", "grid")
    assert straight.exit_code == 0, straight.output
    assert "直线距离" in straight.output and "各网格服务圈覆盖" in straight.output
    streets = []
    for i in range(9):  # a ladder of streets along the row of micro-grids
        x = X0 + i * D
        streets.append(shapely.LineString([(x, Y0), (x, Y0 + D)]))
        if i < 8:
            streets += [shapely.LineString([(x, Y0), (x + D, Y0)]),
                        shapely.LineString([(x, Y0 + D), (x + D, Y0 + D)])]
    lines = tmp_path / "streets.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame(geometry=streets, crs="EPSG:4490"), lines)
    imported = run("network", "import", lines)
    assert imported.exit_code == 0, imported.output
    assert "25 段" in imported.output and "舍弃不连通的 0 块" in imported.output
    bad = run("network", "import", tmp_path / "nothing.gpkg")
    assert bad.exit_code == 2 and "不存在" in bad.output


def test_oversized_or_damaged_tables_are_clear_messages(run, tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["XFD1048576"] = "external_id", "end"  # 17 billion cells if padded
    bomb = tmp_path / "bomb.xlsx"
    wb.save(bomb)
    r = run("households", "import", bomb)
    assert r.exit_code == 2 and "bomb.xlsx 过大" in r.output and "16,384" in r.output, r.output
    r = run("--lang", "en", "workers", "import", bomb)
    assert r.exit_code == 2 and "too large" in r.output and "the limit is 200" in r.output
    half = tmp_path / "half.xlsx"
    half.write_bytes(bomb.read_bytes()[:2_000])
    r = run("households", "import", half)
    assert r.exit_code == 2 and "无法读取 Excel 文件 half.xlsx" in r.output, r.output
