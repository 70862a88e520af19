"""Long commands show their stages with counts and times, and end with one summary line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.review_world import REGISTER, load_world, write_register
from wangge.cli.app import app
from wangge.cli.common import Stages, seconds
from wangge.store import open_store


@pytest.fixture
def world(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'wangge.db'}"
    with open_store(url) as store:
        load_world(store, tmp_path)
    runner = CliRunner()

    def invoke(*args: object):
        result = runner.invoke(app, [str(a) for a in args],
                               env={"WANGGE_DATABASE_URL": url, "COLUMNS": "120"})
        assert result.exit_code == 0, result.output
        return result.output

    return invoke, tmp_path


def test_register_import_shows_its_stages_and_a_summary(world):
    run, folder = world
    register = write_register(folder / "三月.csv", [*REGISTER[:3], ("H99", *REGISTER[3][1:])])
    out = run("households", "import", register)
    stages = [line.strip() for line in out.splitlines() if line.strip().startswith("✓")]
    assert [s.split()[1] for s in stages] == ["读取", "比对", "定位", "写入", "分配"], out
    assert stages[0].startswith("✓ 读取 4 行") and stages[2].startswith("✓ 定位 1 户")
    assert all(s.endswith("秒") for s in stages)
    done = out.splitlines()[-1]
    assert done.startswith("完成：导入 三月.csv 4 行（新增 1，变化 0，未变 3") and done.endswith("秒。")
    en = run("--lang", "en", "households", "import", register)
    assert "✓ read 4 rows" in en and "Done: imported 三月.csv, 4 rows (0 new" in en


def test_assign_and_its_summary(world):
    run, _ = world
    out = run("households", "assign")
    assert "✓ 分配 " in out and out.splitlines()[-1].startswith("完成：分配 ")


def test_stages_log_the_summary(caplog):
    with caplog.at_level("INFO", logger="wangge.cli"), Stages([1, 3]) as stages:
        with stages.stage("甲…", "A…"):
            stages.did("甲 2 个", "2 of A")
        stages.begin("乙…", "B…")
        stages.end("乙", "B")
        stages.finish("甲乙", "A and B")
    assert stages.progress.tasks[0].completed == 4
    assert caplog.records[-1].getMessage().startswith("A and B in ")
    assert seconds(192.4) == "3 分 12 秒" and seconds(4.25) == "4.2 秒"
