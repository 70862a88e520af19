"""``wangge export`` (on the embedded SQLite default, as tests/cli/test_cli.py: the command
leaves its store to process exit): one layer per level, Chinese fields, the offset systems
declared truthfully (GeoPackage) or not at all (GeoJSON, with a note), and the file imports back."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pyproj
import pytest
from typer.testing import CliRunner

from tests.hierarchy import hierarchy
from wangge.cli.app import app
from wangge.geo.io.boundaries import write_units


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()
    env = {"WANGGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'wangge.db'}", "COLUMNS": "200"}

    def invoke(*args: object):
        return runner.invoke(app, [str(a) for a in args], env=env)

    return invoke


def test_export_gcj02_geopackage_in_chinese_and_back(run, tmp_path: Path):
    assert run("import", write_units(hierarchy(), tmp_path / "good.gpkg")).exit_code == 0
    out = tmp_path / "亭湖区.gpkg"
    done = run("export", out, "--crs", "GCJ-02", "--fields", "zh")
    assert done.exit_code == 0, done.output
    assert "街道、社区、网格、微网格" in done.output
    assert [str(n) for n in pyogrio.list_layers(out)[:, 0]] == ["街道", "社区", "网格", "微网格"]
    assert pyproj.CRS.from_user_input(pyogrio.read_info(out, layer="网格")["crs"]).name == "GCJ-02"
    # validating the export needs no --crs: the GeoPackage says GCJ-02 itself
    again = run("validate", out)
    assert again.exit_code == 0 and "0 个错误" in again.output, again.output

    geojson = tmp_path / "grids.geojson"
    one = run("--lang", "en", "export", geojson, "--crs", "GCJ-02", "--level", "网格")
    assert one.exit_code == 0 and "declares no CRS" in one.output, one.output
    doc = json.loads(geojson.read_text(encoding="utf-8"))
    assert "crs" not in doc and {f["properties"]["level"] for f in doc["features"]} == {"grid"}
    bad = run("export", tmp_path / "x.gpkg", "--fields", "fr")
    assert bad.exit_code != 0 and "en 或 zh" in bad.output
