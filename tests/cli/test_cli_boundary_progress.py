"""validate, import and gazetteer import show their stages with counts, then one summary line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from tests.hierarchy import M1, X0, Y0, D, cell, hierarchy, set_geom
from tests.review_world import gazetteer
from wangge.boundaries import check_file
from wangge.cli.app import _check_in_stages, app
from wangge.cli.common import Stages
from wangge.geo.io.boundaries import write_units
from wangge.settings import Settings

UNITS = len(hierarchy())


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    env = {"WANGGE_DATABASE_URL": f"sqlite:///{tmp_path / 'wangge.db'}", "COLUMNS": "200"}

    def invoke(*args: object, code: int = 0) -> str:
        result = runner.invoke(app, [str(a) for a in args], env=env)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + 1.5 * D, Y0 + D))
    sliver = shapely.box(X0, Y0, X0 + D - 2e-8, Y0 + D)
    return {"good": write_units(hierarchy(), tmp_path / "good.gpkg"),
            "broken": write_units(set_geom(hierarchy(), M1, grown), tmp_path / "broken.geojson"),
            "sliver": write_units(set_geom(hierarchy(), M1, sliver), tmp_path / "sliver.gpkg")}


def stage_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("✓")]


def summary(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(("完成：", "Done: ")))


def test_validate_a_file_shows_reading_and_validating(run, files, tmp_path):
    out = run("validate", files["good"])
    stages = stage_lines(out)
    assert [s.split()[1] for s in stages] == ["读取", "校验"], out
    assert stages[0].startswith(f"✓ 读取 {UNITS} 个单元（EPSG:4490）")
    assert stages[1].startswith(f"✓ 校验 {UNITS} 个单元：0 个错误，0 个警告")
    assert all(s.endswith("秒") for s in stages)
    done = summary(out)
    assert done.startswith(f"完成：校验 good.gpkg 的 {UNITS} 个单元（0 个错误，0 个警告），用时 ")
    assert done.endswith("秒。")

    report = tmp_path / "r.json"
    bad = run("validate", files["broken"], "--json", report, code=1)  # exit code kept
    assert f"✓ 校验 {UNITS} 个单元：1 个错误" in bad
    assert summary(bad).startswith(f"完成：校验 broken.geojson 的 {UNITS} 个单元（1 个错误")
    payload = json.loads(report.read_text(encoding="utf-8"))  # the JSON report is untouched
    assert payload["report"]["findings"][0]["rule"] == "overlap"
    assert "✓" not in report.read_text(encoding="utf-8")

    en = run("--lang", "en", "validate", files["broken"], code=1)
    assert [s.split()[1] for s in stage_lines(en)] == ["read", "validated"], en
    assert f"✓ read {UNITS} units (EPSG:4490)" in en
    assert f"✓ validated {UNITS} units: 1 errors, 0 warnings" in en
    assert summary(en).startswith(f"Done: validated broken.geojson, {UNITS} units (1 errors")
    assert summary(en).endswith(" s.")


def test_validate_with_repair_and_extent_has_their_stages(run, files, tmp_path):
    district = write_units(hierarchy().iloc[:1], tmp_path / "district.gpkg")  # too small
    out = run("validate", files["sliver"], "--repair", "--extent", district, code=1)
    assert [s.split()[1] for s in stage_lines(out)] == ["读取区县边界", "读取", "修复", "校验"], out
    assert "✓ 修复 1 处，拒绝 0 处" in out and "并入" in out
    assert summary(out).startswith("完成：校验 sliver.gpkg 的 ")


def test_validate_a_stored_release(run, files):
    run("import", files["good"])
    out = run("validate", "--release", "1")
    assert [s.split()[1] for s in stage_lines(out)] == ["读取版本", "校验"], out
    assert f"✓ 读取版本 1 的 {UNITS} 个单元" in out
    assert summary(out).startswith(f"完成：校验版本 1 的 {UNITS} 个单元（0 个错误，0 个警告），用时 ")
    en = run("--lang", "en", "validate", "--release", "1")
    assert f"✓ read the {UNITS} units of release 1" in en
    assert summary(en).startswith(f"Done: validated release 1, {UNITS} units (0 errors")


def test_import_shows_reading_validating_storing(run, files):
    out = run("import", files["good"])
    stages = stage_lines(out)
    assert [s.split()[1] for s in stages] == ["读取", "校验", "写入版本"], out
    assert stages[2].startswith(f"✓ 写入版本 1（{UNITS} 个单元）")
    assert "已导入版本 1（当前版本）" in out
    done = summary(out)
    assert done.startswith(f"完成：导入 good.gpkg 为版本 1（当前版本），{UNITS} 个单元，0 个警告，用时 ")
    assert done.endswith("秒。") and out.rstrip().endswith(done)

    refused = run("import", files["broken"], code=1)  # refused: no store stage, no summary
    assert [s.split()[1] for s in stage_lines(refused)] == ["读取", "校验"], refused
    assert "未写入任何数据" in refused and "完成：" not in refused

    en = run("--lang", "en", "import", files["sliver"], "--repair", "--draft")
    assert [s.split()[1] for s in stage_lines(en)] == ["read", "made", "validated", "stored"], en
    assert "✓ made 1 repairs, refused 0" in en and f"✓ stored release 2 ({UNITS} units)" in en
    assert en.index("repair ") < en.index("Done: ")  # the repairs are listed
    assert summary(en).startswith(f"Done: imported sliver.gpkg as release 2 (draft), {UNITS} units")


def test_check_in_stages_is_check_file(files):
    config = Settings().validation_config()
    for path, repair in ((files["broken"], False), (files["sliver"], True)):
        with Stages([1, 1, 1]) as stages:
            staged = _check_in_stages(stages, path, config, crs=None, fields={}, level=None,
                                      do_repair=repair, extent=None)
        whole = check_file(path, config, do_repair=repair)
        assert staged.as_dict(with_geometry=False) | {"report": None} == \
            whole.as_dict(with_geometry=False) | {"report": None}
        assert [f.as_dict(with_geometry=False) for f in staged.report.findings] == \
            [f.as_dict(with_geometry=False) for f in whole.report.findings]
        assert staged.units.geometry.equals(whole.units.geometry)


def test_gazetteer_import_shows_its_stages(run, tmp_path):
    compounds, buildings = gazetteer()
    cpath, bpath = tmp_path / "小区.geojson", tmp_path / "楼栋.geojson"
    compounds.to_file(cpath, driver="GeoJSON")
    buildings.to_file(bpath, driver="GeoJSON")
    c, b = len(compounds), len(buildings)
    out = run("gazetteer", "import", cpath, bpath)
    stages = stage_lines(out)
    assert [s.split()[1] for s in stages] == ["读取", "检查", "写入地名地址库"], out
    assert stages[0].startswith(f"✓ 读取 {c} 个小区、{b} 栋楼")
    assert stages[2].startswith(f"✓ 写入地名地址库 1（{c} 个小区、{b} 栋楼）")
    done = summary(out)
    assert done.startswith(f"完成：导入地名地址库 1（{c} 个小区，{b} 栋楼），用时 ") and done.endswith("秒。")
    en = run("--lang", "en", "gazetteer", "import", cpath, bpath)
    assert [s.split()[1] for s in stage_lines(en)] == ["read", "checked", "stored"], en
    assert f"✓ stored gazetteer 2 ({c} compounds, {b} buildings)" in en
    assert summary(en).startswith(f"Done: imported gazetteer 2 ({c} compounds, {b} buildings) in ")
