"""一标三实 over HTTP and the command line, on both backends: a standard address table, then
housing and population registers; personal fields never served."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests import yibiao_world as world
from tests.api.conftest import api_client
from tests.hierarchy import hierarchy
from wangge.cli.app import app
from wangge.geo.io.boundaries import write_units
from wangge.store import open_store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client, url: str, path: Path, **form: str):
    with path.open("rb") as f:
        return client.post(url, files={"file": (path.name, f.read(), XLSX)}, data=form)


def test_standard_addresses_housing_population_over_http(store_url: str, tmp_path):
    with open_store(store_url) as store:
        store.create_release(hierarchy(), source="test", make_current=True)
    with api_client(store_url) as client:
        r = _upload(client, "/v1/gazetteer/standard-addresses",
                    world.standard_addresses(tmp_path / "标准地址.xlsx"))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["codes"] == 10 and body["gazetteer"]["building_count"] == 3
        assert [p["reason"] for p in body["problems"]] == [
            "duplicate_code", "missing_code", "bad_coordinates", "no_place"]
        assert body["problems"][0]["message"].startswith("第 12 行")

        r = _upload(client, "/v1/households/import", world.housing(tmp_path / "实有房屋.xlsx"),
                    kind="housing")
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "housing" and r.json()["inserted"] == 4
        r = _upload(client, "/v1/households/import", world.population(tmp_path / "实有人口.xlsx"),
                    kind="population")
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["inserted"], body["updated"], body["unchanged"]) == (1, 2, 0)
        assert sorted(body["ids"]["updated"]) == ["FW001", "FW002"]
        assert body["assignment"]["mode"] == "incremental"
        assert all(w not in r.text for w in world.PERSONAL_TEXT)
        r = client.get("/v1/units/320902001/households")
        assert r.status_code == 200 and {h["external_id"] for h in r.json()["households"]} == {
            "FW001", "FW002", "FW003", "FW004", "FW006"}
        assert all(w not in r.text for w in world.PERSONAL_TEXT)
        r = _upload(client, "/v1/households/import", world.housing(tmp_path / "h.xlsx"),
                    kind="units")
        assert r.status_code == 422


def test_cli_import_standard_and_population(tmp_path: Path):
    runner = CliRunner()
    env = {"WANGGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'wangge.db'}", "COLUMNS": "200"}

    def run(*args: object):
        return runner.invoke(app, [str(a) for a in args], env=env)

    assert run("import", write_units(hierarchy(), tmp_path / "units.gpkg")).exit_code == 0
    out = run("gazetteer", "import-standard", world.standard_addresses(tmp_path / "标准地址.xlsx"))
    assert out.exit_code == 0, out.output
    assert "地址编码 10 个" in out.output and "第 12 行" in out.output
    out = run("households", "import", world.population(tmp_path / "实有人口.xlsx"),
              "--kind", "population")
    assert out.exit_code == 0, out.output
    assert "新增 3" in out.output and "按地址编码 2" in out.output
    assert all(w not in out.output for w in world.PERSONAL_TEXT)
    out = run("households", "import", world.population(tmp_path / "实有人口.xlsx"),
              "--kind", "population")
    assert out.exit_code == 0, out.output
    assert "未变 3" in out.output and "只分配" not in out.output
