"""``wangge plans``: a plan drafted, edited, undone, shown and published from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.hierarchy import hierarchy
from wangge.cli.app import app
from wangge.geo.io.boundaries import write_units
from wangge.store import open_store


def test_plan_from_the_command_line(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'db' / 'wangge.db'}"
    env = {"WANGGE_DATABASE_URL": url, "COLUMNS": "200"}

    def run(*args: str):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    assert run("import", write_units(hierarchy(), tmp_path / "good.gpkg")).exit_code == 0
    made = run("plans", "new", "合并网格")
    assert made.exit_code == 0 and "方案 1" in made.output
    # grids 320902001001001 and …002 are the two grids of the first community
    merge = json.dumps({"op": "merge", "units": ["320902001001001", "320902001001002"]})
    edited = run("plans", "edit", "1", merge)
    assert edited.exit_code == 0, edited.output
    assert "删除" in edited.output and "320902001001002" in edited.output
    bad = run("plans", "edit", "1", "{not json")
    assert bad.exit_code != 0 and "JSON" in bad.output
    official = run("plans", "edit", "1", json.dumps({"op": "rename", "unit": "320902001001",
                                                     "name": "新名"}))
    assert official.exit_code != 0 and "管理员" in official.output
    assert run("plans", "undo", "1").exit_code == 0
    assert run("plans", "redo", "1").exit_code == 0
    proposal = run("plans", "partition", "1", "320902001002", "--min", "1", "--max", "5")
    assert proposal.exit_code == 0 and "无法满足" in proposal.output   # no households at all
    micro = run("plans", "partition", "1", "320902001002001")
    assert micro.exit_code != 0 and "楼栋" in micro.output
    shown = run("plans", "show", "1")
    assert shown.exit_code == 0 and "1 次编辑" in shown.output
    published = run("plans", "publish", "1", "--effective-date", "2099-01-01")
    assert published.exit_code == 0, published.output
    assert "2099-01-01" in published.output
    listed = run("plans", "list")
    assert "已发布" in listed.output
    with open_store(url) as store:
        actions = [e["action"] for e in store.audit_entries(limit=20)]
        releases = store.releases()
    assert "publish plan" in actions and "edit plan" in actions
    assert releases[0].scheduled and len(releases) == 2
