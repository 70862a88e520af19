"""Plans through the API on both backends: create, edit with impact, refusals that change
nothing, locks, undo/redo that survive a restart, roles, status."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from tests.api.conftest import api_client, load_release
from wangge.store import open_store


def _with_households(store_url: str, units) -> None:
    """Households at the representative points of every micro-grid (3 each)."""
    micro = units[units["level"] == "microgrid"]
    pts = shapely.point_on_surface(micro.geometry.values)
    lon = np.repeat(shapely.get_x(pts), 3)
    lat = np.repeat(shapely.get_y(pts), 3)
    frame = pd.DataFrame({"external_id": [f"H{i:05d}" for i in range(len(lon))],
                          "address": None, "given_lon": lon, "given_lat": lat,
                          "given_crs": "EPSG:4490", "building_ref": None, "size": 2,
                          "lon": lon, "lat": lat, "located_by": "coordinates",
                          "match_level": None, "match_score": None, "matched_id": None,
                          "flags": None})
    with open_store(store_url) as store:
        store.upsert_households(frame, frame.iloc[:0][["external_id"]].assign(
            name=None, phone=None, id_number=None), source="test")


def _two_grids(units):
    grids = units[units["level"] == "grid"]
    community = grids["parent_code"].value_counts().index[0]
    a, b = grids[grids["parent_code"] == community]["code"].iloc[:2]
    micro = units[(units["level"] == "microgrid") & (units["parent_code"] == b)]["code"].tolist()
    return community, a, b, micro


def test_plan_edits_impact_undo_and_restart(store_url, small_units):
    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    community, a, b, micro = _two_grids(small_units)
    with api_client(store_url, "planner") as client:
        plan = client.post("/v1/plans", json={"title": "调整"}).json()
        pid = plan["id"]
        assert plan["status"] == "draft" and plan["edits"] == 0
        moved = client.post(f"/v1/plans/{pid}/edits",
                            json={"op": "move", "units": micro[:1], "to": a})
        assert moved.status_code == 200, moved.text
        answer = moved.json()
        assert answer["moves"]["households"] == 3
        assert answer["moves"]["from_to"] == [{"from": b, "to": a, "households": 3, "residents": 6}]
        assert list(answer["recoded"]) == micro[:1]
        assert all(not f["severity"] == "error" for f in answer["findings"])
        # official boundary: a planner may not merge communities' ground away
        refused = client.post(f"/v1/plans/{pid}/edits", json={"op": "rename", "unit": community,
                                                              "name": "新社区"})
        assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
        locked = client.post(f"/v1/plans/{pid}/edits", json={"op": "lock", "units": [a]})
        assert locked.status_code == 200
        blocked = client.post(f"/v1/plans/{pid}/edits", json={"op": "merge", "units": [b, a]})
        assert blocked.status_code == 409 and "锁定" in blocked.json()["message"]
        bad = client.post(f"/v1/plans/{pid}/edits", json={"op": "teleport"})
        assert bad.status_code == 400
        log = client.get(f"/v1/plans/{pid}/edits").json()
        assert [e["op"]["op"] for e in log] == ["move", "lock"]
        assert client.post(f"/v1/plans/{pid}/undo").status_code == 200
        impact = client.get(f"/v1/plans/{pid}/impact").json()
        assert impact["moves"]["households"] == 3
    # a new process: the plan is replayed from the log, undone edit included (redo works)
    with api_client(store_url, "planner") as client:
        info = client.get(f"/v1/plans/{pid}").json()
        assert info["edits"] == 1 and info["undone"] == 1
        assert info["summary"]["can_redo"] is True
        redone = client.post(f"/v1/plans/{pid}/redo").json()
        assert redone["op"]["op"] == "lock"
        units = client.get(f"/v1/plans/{pid}/units", params={"level": "grid"}).json()
        codes = {f["properties"]["code"] for f in units["features"]}
        assert a in codes and b in codes
        assert client.post(f"/v1/plans/{pid}/submit").json()["status"] == "submitted"
        late = client.post(f"/v1/plans/{pid}/edits", json={"op": "unlock", "units": [a]})
        assert late.status_code == 409
    with api_client(store_url, "viewer") as client:
        assert client.get(f"/v1/plans/{pid}").status_code == 200
        assert client.post("/v1/plans", json={"title": "x"}).status_code == 403


def test_admin_may_move_ground_across_communities(store_url, small_units):
    load_release(store_url, small_units)
    grids = small_units[small_units["level"] == "grid"]
    micro = small_units[small_units["level"] == "microgrid"]
    # a micro-grid and a grid of another community that it touches
    communities = dict(zip(grids["code"], grids["parent_code"], strict=True))
    tree = shapely.STRtree(grids.geometry.values)
    pairs = ((code, grids["code"].iloc[j])
             for code, parent, geom in zip(micro["code"], micro["parent_code"], micro.geometry,
                                           strict=True)
             for j in tree.query(geom, predicate="touches")
             if communities[grids["code"].iloc[j]] != communities[parent])
    code, across = next(pairs)
    op = {"op": "move", "units": [code], "to": across}
    with api_client(store_url, "planner") as client:
        pid = client.post("/v1/plans", json={"title": "跨社区"}).json()["id"]
        assert client.post(f"/v1/plans/{pid}/edits", json=op).status_code == 403
    with api_client(store_url, "admin") as client:
        answer = client.post(f"/v1/plans/{pid}/edits", json=op).json()
        assert len(answer["official_changed"]) >= 2
        assert not [f for f in client.get(f"/v1/plans/{pid}/findings").json()
                    if f["severity"] == "error"]


def test_publish_schedules_refuses_errors_and_rebases(store_url, small_units):
    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    grids = small_units[small_units["level"] == "grid"]
    by_community = grids.groupby("parent_code")["code"].apply(list)
    (c1, g1), (c2, g2) = [(c, g) for c, g in by_community.items() if len(g) >= 2][:2]
    micro = small_units[small_units["level"] == "microgrid"]
    m1 = micro[micro["parent_code"] == g1[1]]["code"].tolist()
    with api_client(store_url, "planner") as planner:
        first = planner.post("/v1/plans", json={"title": "甲"}).json()["id"]
        second = planner.post("/v1/plans", json={"title": "乙"}).json()["id"]
        clash = planner.post("/v1/plans", json={"title": "丙"}).json()["id"]
        assert planner.post(f"/v1/plans/{first}/edits",
                            json={"op": "move", "units": m1[:1], "to": g1[0]}).status_code == 200
        assert planner.post(f"/v1/plans/{second}/edits",
                            json={"op": "merge", "units": g2[:2]}).status_code == 200
        assert planner.post(f"/v1/plans/{clash}/edits",
                            json={"op": "merge", "units": g1[:2]}).status_code == 200
        assert planner.post(f"/v1/plans/{first}/submit").status_code == 200
        assert planner.post(f"/v1/plans/{first}/publish").status_code == 403
    with api_client(store_url, "admin") as admin:
        base = admin.get("/v1/releases").json()[0]["id"]
        done = admin.post(f"/v1/plans/{first}/publish").json()
        release = done["release"]
        assert release["id"] != base and release["is_current"] and done["plan"]["status"] == "published"
        assert done["assignment"]["found"] == 3 * len(micro)
        moved_unit = admin.get(f"/v1/units/{m1[0]}", params={"release": release["id"]})
        assert moved_unit.status_code == 404       # recoded under its new grid
        # the second plan's base is no longer current, but it touches another community: rebased
        later = admin.post(f"/v1/plans/{second}/publish",
                           json={"effective_date": "2099-01-01"}).json()
        assert later["rebased_from"] == base and later["release"]["scheduled"] is True
        assert admin.get("/v1/releases").json()[0]["state"] == "scheduled"
        # the third changed the same grids as the first: refused, with the units both changed
        refused = admin.post(f"/v1/plans/{clash}/publish")
        assert refused.status_code == 409
        assert g1[0] in refused.json()["detail"]["conflicts"]
        assert admin.get(f"/v1/plans/{clash}").json()["base_release_id"] == base


def test_publish_refused_while_the_plan_has_errors(store_url, small_units):
    load_release(store_url, small_units)
    grids = small_units[small_units["level"] == "grid"]
    grid = grids.iloc[0]
    shrunk = shapely.buffer(grid.geometry, -0.002)     # gives up ground at the community's edge
    with api_client(store_url, "admin") as admin:
        pid = admin.post("/v1/plans", json={"title": "缩小"}).json()["id"]
        answer = admin.post(f"/v1/plans/{pid}/edits", json={
            "op": "reshape", "unit": grid["code"],
            "outline": shapely.geometry.mapping(shrunk)}).json()
        assert any("gap" in n["message_en"] for n in answer["notes"])
        refused = admin.post(f"/v1/plans/{pid}/publish")
        assert refused.status_code == 422 and refused.json()["code"] == "validation_failed"
        assert admin.get(f"/v1/plans/{pid}").json()["status"] == "draft"
        assert len(admin.get("/v1/releases").json()) == 1


def test_partition_proposal_accepted_as_regroup(store_url, small_units):
    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    grids = small_units[small_units["level"] == "grid"]
    micro = small_units[small_units["level"] == "microgrid"]
    per_community = micro["parent_code"].map(dict(zip(grids["code"], grids["parent_code"],
                                                      strict=True))).value_counts()
    community = per_community.index[0]
    with api_client(store_url, "planner") as client:
        pid = client.post("/v1/plans", json={"title": "自动划分"}).json()["id"]
        ask = {"community": community, "min": 6, "max": 12}
        proposal = client.post(f"/v1/plans/{pid}/partition", json=ask).json()
        assert proposal["verdict"] == "feasible", proposal["reasons"]
        assert all(6 <= g["households"] <= 12 for g in proposal["grids"])
        assert client.get(f"/v1/plans/{pid}").json()["edits"] == 0      # a proposal changes nothing
        accepted = client.post(f"/v1/plans/{pid}/edits", json={
            "op": "regroup", "community": community, "groups": proposal["groups"]})
        assert accepted.status_code == 200, accepted.text
        impact = client.get(f"/v1/plans/{pid}/impact").json()
        assert impact["moves"]["households"] == proposal["moved"]
        impossible = client.post(f"/v1/plans/{pid}/partition",
                                 json={**ask, "min": 1000, "max": 1200}).json()
        assert impossible["verdict"] == "infeasible"
        assert impossible["reasons"] and impossible["reasons"][0]["message"]


def test_compare_two_releases(store_url, small_units):
    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    community, a, b, micro = _two_grids(small_units)
    with api_client(store_url, "admin") as client:
        pid = client.post("/v1/plans", json={"title": "比较"}).json()["id"]
        client.post(f"/v1/plans/{pid}/edits", json={"op": "move", "units": micro[:2], "to": a})
        published = client.post(f"/v1/plans/{pid}/publish").json()["release"]["id"]
        base = client.get(f"/v1/plans/{pid}").json()["base_release_id"]
        diff = client.get(f"/v1/releases/{base}/compare/{published}").json()
        assert set(micro[:2]) <= set(diff["removed"]) and len(diff["added"]) == 2
        assert {a, b} <= set(diff["changed"])
        assert diff["moves"]["from_to"] == [{"from": b, "to": a, "households": 6, "residents": 12}]
        same = client.get(f"/v1/releases/{base}/compare/{base}").json()
        assert same["moves"]["households"] == 0 and not same["changed"]
        page = client.get("/maps/compare", params={"from": base, "to": published, "tiles": "none"})
        assert page.status_code == 200 and "<title>方案对比</title>" in page.text
        assert json.dumps("有变化的单元（2 个）")[1:-1] in page.text
        other = client.post("/v1/plans", json={"title": "再调"}).json()["id"]
        client.post(f"/v1/plans/{other}/edits", json={"op": "merge", "units": [a, b]})
        plan_page = client.get(f"/maps/plans/{other}/compare", params={"lang": "en", "tiles": "none"})
        assert plan_page.status_code == 200 and "Changed units (1)" in plan_page.text
        assert client.get("/maps/plans/999/compare").status_code == 404


def test_two_service_processes_editing_one_plan_stay_in_step(store_url, small_units):
    """Two services (as two worker processes) over one store: each sees the other's edits."""
    from wangge.plans import PlanService
    from wangge.settings import Settings

    load_release(store_url, small_units)
    community, a, b, micro = _two_grids(small_units)
    settings = Settings(database_url=store_url, _env_file=None)
    with open_store(store_url) as store:
        one, two = PlanService(store, settings), PlanService(store, settings)
        pid = one.create("两个进程").id
        one.edit(pid, {"op": "move", "units": micro[:1], "to": a}, admin=False)
        two.summary(pid)                                # two now holds the plan in memory
        one.edit(pid, {"op": "move", "units": micro[1:2], "to": a}, admin=False)
        # two's session is stale: it replays before answering, and its edit lands on top
        answer = two.edit(pid, {"op": "rename", "unit": a, "name": "甲网格"}, admin=False)
        assert answer["seq"] == 3
        assert two.summary(pid)["edits"] == 3
        one.undo(pid)                                   # one reloads, undoes the rename
        grids = two.units(pid, "grid")
        assert grids.set_index("code").loc[a, "name"] != "甲网格"
        assert [e.undone for e in store.plan_edits(pid)] == [False, False, True]


def test_random_edits_through_the_store_replay_exactly(store_url, small_units):
    """Every kind of edit, stored on this backend: the level stays valid after each, undo
    restores exactly, and a fresh service replaying the log arrives at the very same plan."""
    from wangge.demo.edits import random_edit
    from wangge.geo.boundaries.validate import validate
    from wangge.geo.errors import WanggeError
    from wangge.plans import PlanService
    from wangge.settings import Settings

    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    settings = Settings(database_url=store_url, _env_file=None)

    def snapshot(service: PlanService, pid: int) -> dict:
        frame = service.units(pid)
        return {c: (n, p, shapely.to_wkb(g)) for c, n, p, g in
                zip(frame["code"], frame["name"], frame["parent_code"], frame.geometry, strict=True)}

    rng = np.random.default_rng(11)
    kinds = set()
    with open_store(store_url) as store:
        service = PlanService(store, settings)
        pid = service.create("随机编辑").id
        for _ in range(16):
            before = snapshot(service, pid)
            with service._session(pid) as session:
                op = random_edit(session, rng, admin=True)
            try:
                service.edit(pid, op, admin=True)
            except WanggeError:
                assert snapshot(service, pid) == before
                continue
            kinds.add(op["op"])
            errors = [f for f in validate(service.units(pid)).findings if f.severity == "error"]
            assert not errors or all(f.rule == "gap" for f in errors), op["op"]
            if rng.random() < 0.3:
                service.undo(pid)
                assert snapshot(service, pid) == before, f"undo of {op['op']}"
                service.redo(pid)
        live = snapshot(service, pid)
        replayed = snapshot(PlanService(store, settings), pid)
    assert replayed == live
    assert len(kinds) >= 5


def test_microgrid_proposal_accepted_as_subdivide(store_url, small_units):
    load_release(store_url, small_units)
    _with_households(store_url, small_units)      # 3 households at one place per micro-grid
    micro = small_units[small_units["level"] == "microgrid"]
    grid = micro["parent_code"].value_counts().index[0]
    count = int((micro["parent_code"] == grid).sum())
    with api_client(store_url, "planner") as client:
        pid = client.post("/v1/plans", json={"title": "微网格"}).json()["id"]
        both = client.post(f"/v1/plans/{pid}/partition", json={"community": "x", "grid": grid})
        assert both.status_code == 400
        proposal = client.post(f"/v1/plans/{pid}/partition",
                               json={"grid": grid, "min": 6, "max": 9}).json()
        assert proposal["verdict"] == "feasible", proposal["reasons"]
        assert all(6 <= n <= 9 for n in proposal["households"].values())
        assert len(proposal["parts"]) < count             # places of 3 grouped by 2 or 3
        answer = client.post(f"/v1/plans/{pid}/edits", json={
            "op": "subdivide", "unit": grid, "parts": proposal["parts"]}).json()
        assert answer["moves"]["households"] == 0         # the grid's households stay in it
        assert not [f for f in answer["findings"] if f["severity"] == "error"]
        stats = client.get(f"/v1/plans/{pid}/stats",
                           params={"level": "microgrid", "within": grid}).json()
        assert sorted(s["households"] for s in stats) == sorted(proposal["households"].values())


def test_edit_geometry_in_gcj02_is_converted_at_the_edge(store_url, small_units):
    from wangge.geo.crs import from_storage, parse_crs

    load_release(store_url, small_units)
    grid = small_units[small_units["level"] == "grid"].iloc[0]
    c = shapely.centroid(grid.geometry)
    line = shapely.LineString([(c.x - 0.5, c.y - 0.004), (c.x + 0.5, c.y + 0.004)])
    shifted = from_storage(np.array([line], dtype=object), parse_crs("GCJ-02"))[0]
    with api_client(store_url, "planner") as client:
        plain = client.post("/v1/plans", json={"title": "经纬度"}).json()["id"]
        gcj = client.post("/v1/plans", json={"title": "GCJ-02"}).json()["id"]
        a = client.post(f"/v1/plans/{plain}/edits", json={
            "op": "split", "unit": grid["code"], "line": shapely.geometry.mapping(line)}).json()
        b = client.post(f"/v1/plans/{gcj}/edits", params={"crs": "GCJ-02"}, json={
            "op": "split", "unit": grid["code"], "line": shapely.geometry.mapping(shifted)}).json()
        assert a["created"] == b["created"] and len(a["created"]) == 1
        logged = client.get(f"/v1/plans/{gcj}/edits").json()[0]["op"]["line"]["coordinates"]
        assert np.allclose(logged, shapely.get_coordinates(line), atol=1e-6)
        bad = client.post(f"/v1/plans/{gcj}/edits", params={"crs": "nonsense"}, json={
            "op": "rename", "unit": grid["code"], "name": "x"})
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_crs"


def test_editor_opens_without_gcj02_tiles_by_default(store_url, small_units):
    load_release(store_url, small_units)
    with api_client(store_url, "planner", map_tiles="amap") as client:
        pid = client.post("/v1/plans", json={"title": "底图"}).json()["id"]
        page = client.get(f"/maps/plans/{pid}").text
        assert "autonavi" not in page and json.dumps("该底图为 GCJ-02")[1:-1] not in page
        asked = client.get(f"/maps/plans/{pid}", params={"tiles": "amap"}).text
        assert json.dumps("该底图为 GCJ-02")[1:-1] in asked or "该底图为 GCJ-02" in asked


def test_plans_start_from_one_base_until_the_households_change(store_url, small_units):
    """Every plan over a release starts from one base session (built once, warmed at start);
    a household write, from any process, makes the next plan start from a new base."""
    from wangge.plans import PlanService
    from wangge.settings import Settings

    load_release(store_url, small_units)
    _with_households(store_url, small_units)
    community, a, b, micro = _two_grids(small_units)
    settings = Settings(database_url=store_url, _env_file=None)
    with open_store(store_url) as store:
        service = PlanService(store, settings)
        service.warm()
        base = service.base_session(1)
        first, second = service.create("甲").id, service.create("乙").id
        service.edit(first, {"op": "move", "units": micro[:1], "to": a}, admin=False)
        assert service.summary(second)["edits"] == 0
        sessions = service._sessions
        assert sessions[first].households.points is base.households.points
        assert sessions[second].households.points is base.households.points
        assert not base.done and base.verify() == []
        assert service.base_session(1) is base                 # plan edits are not writes to it
        upsert = small_units[small_units["level"] == "microgrid"].iloc[:1]
        _with_households(store_url, upsert)                     # H00000..2 moved
        assert service.base_session(1) is not base
        third = service.create("丙").id
        assert service._sessions.get(third) is None
        service.summary(third)
        assert service._sessions[third].households.points is not base.households.points
