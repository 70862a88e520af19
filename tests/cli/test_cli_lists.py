"""The list verbs (workers, sites, gazetteer, network, keys, users): Chinese headers, no
personal data, within 100 columns."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from rich.cells import cell_len
from typer.testing import CliRunner

from tests.hierarchy import X0, Y0, D, hierarchy
from tests.review_world import gazetteer, load_world
from wangge.cli.app import app
from wangge.store import open_store


@pytest.fixture
def world(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'wangge.db'}"
    with open_store(url) as store:
        load_world(store, tmp_path)
        grids = [u.code for u in hierarchy().itertuples() if u.level == "grid"]
        workers = pd.DataFrame({"worker_id": [f"W{i}" for i in range(len(grids))],
                                "grid_code": grids, "full_time": [i % 2 == 0 for i in range(len(grids))]})
        personal = pd.DataFrame({"worker_id": workers["worker_id"], "name": "王五",
                                 "phone": "13900000000"})
        store.replace_workers(workers, personal)
        store.create_gazetteer(*gazetteer(), source="第二版 标准地址.xlsx")
        edges = gpd.GeoDataFrame({"u": [0, 1], "v": [1, 2], "length_m": [150.0, 150.0]},
                                 geometry=[shapely.LineString([(X0, Y0), (X0 + D, Y0)]),
                                           shapely.LineString([(X0 + D, Y0), (X0 + 2 * D, Y0)])],
                                 crs="EPSG:4490")
        store.create_network(edges, release_id=1, source="streets.gpkg",
                             dropped={"components": 1, "edges": 3, "length_m": 20.0})
    runner = CliRunner()
    env = {"WANGGE_DATABASE_URL": url, "COLUMNS": "160"}

    def invoke(*args: object):
        result = runner.invoke(app, [str(a) for a in args], env=env)
        assert result.exit_code == 0, result.output
        assert max(cell_len(line) for line in result.output.splitlines()) <= 100, result.output
        return result.output

    return invoke, grids


def test_workers_list_without_personal_data(world):
    run, grids = world
    out = run("workers", "list")
    assert "工号" in out and "网格名称" in out and "专职" in out
    assert all(g in out for g in grids)
    assert "王五" not in out and "13900000000" not in out
    assert f"共 {len(grids)} 人" in out
    one = run("workers", "list", "--grid", grids[0])
    assert grids[0] in one and grids[1] not in one and "共 1 人" in one
    community = hierarchy().query("level == 'grid'")["parent_code"].iloc[0]
    under = run("workers", "list", "--grid", community)
    expected = hierarchy().query("level == 'grid' and parent_code == @community")["code"]
    assert f"共 {len(expected)} 人" in under
    en = run("--lang", "en", "workers", "list")
    assert "worker id" in en and "full-time" in en and "工号" not in en


def test_unknown_grid_is_refused(world, tmp_path):
    result = CliRunner().invoke(app, ["workers", "list", "--grid", "999"],
                                env={"WANGGE_DATABASE_URL": f"sqlite:///{tmp_path / 'wangge.db'}"})
    assert result.exit_code == 2 and "999" in result.output


def test_gazetteer_and_network_versions(world):
    run, _ = world
    out = run("gazetteer", "list")
    assert "地名地址库版本" in out and "小区" in out and "楼栋" in out
    rows = [line for line in out.splitlines() if "test" in line or "标准地址" in line]
    assert len(rows) == 2 and "✓" in rows[1] and "✓" not in rows[0]
    net = run("network", "list")
    assert "步行路网" in net and "streets.gpkg" in net and "0.3" in net and "舍弃路段" in net


def test_sites_keys_users_lists_have_chinese_headers(world):
    run, _ = world
    assert "在用站点 0 个" in run("sites", "list")
    run("keys", "create", "12345 热线派单系统")
    keys = run("keys", "list")
    assert "前缀" in keys and "角色" in keys and "12345 热线派单系统" in keys
    assert "wg_" in keys  # the shown prefix, never the key
    users = run("users", "list")
    assert "用户名" in users
