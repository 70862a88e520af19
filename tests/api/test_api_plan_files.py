"""A plan to and from desktop GIS on both backends: the GeoPackage export (a layer per level,
CGCS2000), an edited file imported back as edits, refusals that change nothing; the editor's
per-unit figures."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import shapely

from tests.api.conftest import api_client, load_release
from tests.api.test_api_plans import _two_grids, _with_households


def _export(client, pid: int, tmp_path) -> tuple[object, dict[str, gpd.GeoDataFrame]]:
    got = client.get(f"/v1/plans/{pid}/export.gpkg")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/geopackage+sqlite3"
    assert f"plan-{pid}.gpkg" in got.headers["content-disposition"]
    path = tmp_path / "plan.gpkg"
    path.write_bytes(got.content)
    layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    return path, {name: gpd.read_file(path, layer=name) for name in layers}


def _upload(client, pid: int, path):
    return client.post(f"/v1/plans/{pid}/import",
                       files={"file": (path.name, path.read_bytes(), "application/octet-stream")})


def _units(client, pid: int, level: str) -> gpd.GeoDataFrame:
    fc = client.get(f"/v1/plans/{pid}/units", params={"level": level}).json()
    return gpd.GeoDataFrame.from_features(fc["features"], crs=4490)


def _neighbours(micro: gpd.GeoDataFrame, grid: str) -> tuple[str, str]:
    """Two micro-grids of ``grid`` sharing an edge."""
    mine = micro[micro["parent_code"] == grid]
    for a, ga in zip(mine["code"], mine.geometry, strict=True):
        for b, gb in zip(mine["code"], mine.geometry, strict=True):
            if a < b and shapely.length(shapely.intersection(ga.boundary, gb.boundary)) > 1e-5:
                return a, b
    raise AssertionError(f"no neighbours in {grid}")


def test_export_has_a_layer_per_level_and_import_makes_edits(store_url, small_units, tmp_path):
    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    community, a, b, micro_b = _two_grids(small_units)
    with api_client(store_url, "planner") as client:
        pid = client.post("/v1/plans", json={"title": "桌面编辑"}).json()["id"]
        path, layers = _export(client, pid, tmp_path)
        assert list(layers) == ["street", "community", "grid", "microgrid"]
        for level, frame in layers.items():
            assert frame.crs.to_epsg() == 4490
            assert sorted(frame["code"]) == sorted(
                small_units.loc[small_units["level"] == level, "code"])
        # the editor's figures for the community's grids
        stats = client.get(f"/v1/plans/{pid}/stats", params={"within": community}).json()
        assert {s["code"] for s in stats} >= {a, b}
        assert all(s["level"] == "grid" and s["range"] == [300, 500] for s in stats)
        assert sum(s["households"] for s in stats) == 3 * int(
            (small_units["parent_code"].isin([s["code"] for s in stats])).sum())
        # the same file back: nothing to do
        same = _upload(client, pid, path)
        assert same.status_code == 200, same.text
        assert same.json()["applied"] == 0

        # in "QGIS": one micro-grid of b goes to a; another one grows into its neighbour
        micro = layers["microgrid"]
        moved = micro_b[0]
        micro.loc[micro["code"] == moved, "parent_code"] = a
        grow, shrink = _neighbours(micro, a)
        g, n = (micro.loc[micro["code"] == c].geometry.iloc[0] for c in (grow, shrink))
        bite = shapely.intersection(n, shapely.buffer(g, 0.0008))
        micro.loc[micro["code"] == grow, "geometry"] = shapely.union(g, bite)
        micro.loc[micro["code"] == grow, "name"] = "河畔微网格"
        edited = tmp_path / "edited.gpkg"
        pyogrio.write_dataframe(micro, edited, layer="microgrid", driver="GPKG")
        answer = _upload(client, pid, edited)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [e["op"] for e in body["edits"]] == ["move", "rename", "reshape"]
        assert body["edits"][0]["units"] == [moved]
        assert body["plan"]["can_undo"] and body["plan"]["errors"] == 0
        now = _units(client, pid, "microgrid").set_index("code")
        new_code = body["edits"][0]["recoded"][moved]
        assert now.loc[new_code, "parent_code"] == a
        assert now.loc[grow, "name"] == "河畔微网格"
        assert now.loc[grow].geometry.area > g.area * 1.01
        assert now.loc[shrink].geometry.area < n.area * 0.99
        log = client.get(f"/v1/plans/{pid}/edits").json()
        assert [e["op"]["op"] for e in log] == ["move", "rename", "reshape"]
        impact = client.get(f"/v1/plans/{pid}/impact").json()
        assert {"from": b, "to": a, "households": 3, "residents": 6} in impact["moves"]["from_to"]


def test_import_refusals_change_nothing(store_url, small_units, tmp_path):
    load_release(store_url, small_units)
    grids = small_units[small_units["level"] == "grid"]
    with api_client(store_url, "planner") as client:
        pid = client.post("/v1/plans", json={"title": "拒绝"}).json()["id"]
        path, layers = _export(client, pid, tmp_path)
        micro = layers["microgrid"]
        # codes the plan does not have, and a repeated code: every problem at once
        bad = micro.copy()
        bad.loc[0, "code"] = "999999999999999999"
        bad.loc[2, "code"] = bad.loc[1, "code"]
        odd = tmp_path / "odd.geojson"
        pyogrio.write_dataframe(bad, odd, driver="GeoJSON")
        refused = _upload(client, pid, odd)
        assert refused.status_code == 400, refused.text
        detail = refused.json()["detail"]
        assert detail["unknown"] == ["999999999999999999"] and detail["repeated"] == [bad.loc[1, "code"]]
        assert "方案中没有这些单元" in refused.json()["message"]
        # a planner moving ground across communities: the edit is refused, the import too
        first = micro["code"].iloc[0]
        parent = micro["parent_code"].iloc[0]
        community = grids.set_index("code").loc[parent, "parent_code"]
        away = grids[grids["parent_code"] != community]["code"].iloc[0]
        across = micro.copy()
        across.loc[0, "parent_code"] = away
        across.loc[1, "name"] = "新名字"
        far = tmp_path / "across.gpkg"
        pyogrio.write_dataframe(across, far, layer="microgrid", driver="GPKG")
        refused = _upload(client, pid, far)
        assert refused.status_code == 403, refused.text
        assert "导入被拒绝" in refused.json()["message"] and first in refused.json()["message"]
        assert client.get(f"/v1/plans/{pid}/edits").json() == []
        # not a boundary file at all
        junk = client.post(f"/v1/plans/{pid}/import",
                           files={"file": ("x.gpkg", b"not a geopackage", "application/octet-stream")})
        assert junk.status_code == 400 and junk.json()["code"] == "file_format"
    with api_client(store_url, "viewer") as client:
        assert client.get(f"/v1/plans/{pid}/export.gpkg").status_code == 200
        assert _upload(client, pid, path).status_code == 403
