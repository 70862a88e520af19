"""Plans: planners' drafts of new boundaries, edited one checked edit at a time.

Staff read plans; planners and administrators create and edit them. Only an administrator's
edit may change an official (street or community) boundary. Every write is audited by the
guard (who, what, status). Geometry in edits is GeoJSON in CGCS2000 lon/lat.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, status
from pydantic import BaseModel, Field

from wangge.api.auth import STAFF, Admin, Writer, require
from wangge.api.deps import StoreDep
from wangge.api.geojson import GeoJSONResponse, feature_collection
from wangge.geo.errors import InputError
from wangge.geo.plans.edits import op_to_storage
from wangge.plans import PlanService

router = APIRouter(tags=["plans"], dependencies=[Depends(require(STAFF))])

_ID = Annotated[int, Query(ge=1, le=2_147_483_647)]


def _plans(request: Request) -> PlanService:
    return request.app.state.plans


PlansDep = Annotated[PlanService, Depends(_plans)]


class PlanCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200, examples=["2027 年网格调整"])
    base_release: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                     description="基础版本，默认当前版本 / base release, current by default")


_EDIT_EXAMPLES = {
    "move": {"summary": "把微网格划入另一网格 / paint micro-grids into a grid",
             "value": {"op": "move", "units": ["320902001001001001"], "to": "320902001001002"}},
    "merge": {"summary": "合并网格 / merge grids",
              "value": {"op": "merge", "units": ["320902001001001", "320902001001002"]}},
    "split": {"summary": "沿线分割网格 / split a grid along a line",
              "value": {"op": "split", "unit": "320902001001001", "cut": False,
                        "line": {"type": "LineString",
                                 "coordinates": [[120.05, 33.46], [120.07, 33.47]]}}},
    "lock": {"summary": "锁定 / lock", "value": {"op": "lock", "units": ["320902001001001"]}},
}


@router.post("/plans", status_code=status.HTTP_201_CREATED,
             summary="新建方案（复制一个版本）/ start a plan from a release")
def create_plan(principal: Writer, plans: PlansDep, body: PlanCreate) -> dict:
    return plans.create(body.title, body.base_release, author=principal.name).as_dict()


@router.get("/plans", summary="全部方案 / every plan, newest first")
def list_plans(store: StoreDep, status_: Annotated[
        Literal["draft", "submitted", "published", "abandoned"] | None,
        Query(alias="status")] = None) -> list[dict]:
    return [p.as_dict() for p in store.plans(status_)]


@router.get("/plans/{plan_id}", summary="一个方案及其概况 / a plan and its summary")
def get_plan(plan_id: int, plans: PlansDep, store: StoreDep) -> dict:
    info = store.plan(plan_id)
    return {**info.as_dict(), "summary": plans.summary(plan_id)}


@router.post("/plans/{plan_id}/edits",
             summary="编辑方案，返回校验与影响 / apply an edit; answers its validation and impact",
             description="编辑类型 / edits: move, merge, split, reshape, create, delete, rename, "
                         "recode, lock, unlock. 被拒绝的编辑不改变方案。 / A refused edit changes "
                         "nothing.")
def edit_plan(plan_id: int, principal: Writer, plans: PlansDep,
              op: Annotated[dict[str, Any], Body(openapi_examples=_EDIT_EXAMPLES)],
              crs: Annotated[str, Query(max_length=200, description=(
                  "编辑中几何（line、outline、parts）的坐标系，如 GCJ-02；默认 CGCS2000 经纬度 / the "
                  "CRS of the edit's geometries, e.g. GCJ-02; default CGCS2000 lon/lat"))] = "EPSG:4490"
              ) -> dict:
    return plans.edit(plan_id, op_to_storage(op, crs), admin=principal.role == "admin",
                      author=principal.name)


@router.post("/plans/{plan_id}/undo", summary="撤销上一次编辑 / undo the last edit")
def undo(plan_id: int, _: Writer, plans: PlansDep) -> dict:
    return plans.undo(plan_id)


@router.post("/plans/{plan_id}/redo", summary="重做 / redo the last undone edit")
def redo(plan_id: int, _: Writer, plans: PlansDep) -> dict:
    return plans.redo(plan_id)


class PartitionAsk(BaseModel):
    community: str | None = Field(default=None, min_length=1, max_length=64,
                                  examples=["320902001004"],
                                  description="划分该社区的网格 / grids for this community")
    grid: str | None = Field(default=None, min_length=1, max_length=64,
                             description="以楼栋为单位划分该网格的微网格 / micro-grids for this "
                                         "grid, buildings as atoms")
    min: int | None = Field(default=None, ge=0, le=100_000,
                            description="每格最少户数，默认设置值 / fewest households per unit")
    max: int | None = Field(default=None, ge=1, le=100_000,
                            description="每格最多户数，默认设置值 / most households per unit")


@router.post("/plans/{plan_id}/partition",
             summary="自动划分（建议，不改变方案）/ propose grids for a community, or micro-grids "
                     "for a grid",
             description="给 community：微网格连片组成网格，每格户数在 [min, max] 内、小区不拆分、尽量少"
                         "调整住户；接受：把 groups 作为 regroup 编辑提交。给 grid：以楼栋为单位重划其微"
                         "网格；接受：把 parts 作为 subdivide 编辑提交。无法满足时 verdict 为 infeasible "
                         "并说明原因。 / With community: contiguous grids of micro-grids within [min, "
                         "max] households, compounds whole, few households moved; accept by sending "
                         "the groups as a regroup edit. With grid: its micro-grids drawn again from "
                         "its buildings; accept by sending the parts as a subdivide edit. When the "
                         "bounds cannot be met the verdict is infeasible with the reasons.")
def partition(plan_id: int, _: Writer, plans: PlansDep, body: PartitionAsk) -> dict:
    if (body.community is None) == (body.grid is None):
        raise InputError("请给出 community（划分网格）或 grid（划分微网格）之一。",
                         "Give either 'community' (to propose grids) or 'grid' (micro-grids).")
    if body.grid is not None:
        return plans.propose_microgrids(plan_id, body.grid, minimum=body.min, maximum=body.max)
    return plans.propose(plan_id, str(body.community), minimum=body.min, maximum=body.max)


@router.get("/plans/{plan_id}/edits", summary="编辑记录 / the plan's log of edits")
def plan_log(plan_id: int, store: StoreDep) -> list[dict]:
    return [{"seq": e.seq, "op": e.op, "admin": e.admin, "undone": e.undone, "author": e.author,
             "at": e.at.isoformat()} for e in store.plan_edits(plan_id)]


@router.get("/plans/{plan_id}/impact",
            summary="方案相对基础版本的影响 / the plan against its base: changes and who moves")
def plan_impact(plan_id: int, plans: PlansDep) -> dict:
    return plans.impact(plan_id)


@router.get("/plans/{plan_id}/stats",
            summary="单元统计：户数与范围、连通、紧凑度 / per-unit households against the range, "
                    "contiguity, compactness")
def plan_stats(plan_id: int, plans: PlansDep,
               level: Annotated[Literal["grid", "microgrid", "community", "street"], Query()] = "grid",
               within: Annotated[str | None, Query(max_length=64, description="只要该单元下的 / "
                                                   "only the units under this one")] = None
               ) -> list[dict]:
    return plans.stats(plan_id, level, within)


@router.get("/plans/{plan_id}/findings", summary="方案的校验结果 / the plan's validation findings")
def plan_findings(plan_id: int, plans: PlansDep) -> list[dict]:
    return plans.findings(plan_id)


@router.get("/plans/{plan_id}/units", response_class=GeoJSONResponse,
            summary="方案中的单元（GeoJSON）/ the plan's units as GeoJSON")
def plan_units(plan_id: int, plans: PlansDep, level: Annotated[
        Literal["street", "community", "grid", "microgrid"] | None, Query()] = None,
        within: Annotated[str | None, Query(max_length=64, description="只要该单元及其下级 / only "
                                            "this unit and the units under it")] = None
        ) -> GeoJSONResponse:
    return GeoJSONResponse(feature_collection(plans.units(plan_id, level, within), 0,
                                              plan_id=plan_id))


@router.post("/plans/{plan_id}/submit", summary="提交审核 / submit for publication")
def submit(plan_id: int, _: Writer, plans: PlansDep) -> dict:
    return plans.set_status(plan_id, "submitted").as_dict()


@router.post("/plans/{plan_id}/reopen", summary="退回草稿 / back to draft")
def reopen(plan_id: int, _: Writer, plans: PlansDep) -> dict:
    return plans.set_status(plan_id, "draft").as_dict()


@router.post("/plans/{plan_id}/abandon", summary="放弃方案 / abandon the plan")
def abandon(plan_id: int, _: Writer, plans: PlansDep) -> dict:
    return plans.set_status(plan_id, "abandoned").as_dict()


class PlanPublish(BaseModel):
    effective_date: date | None = Field(
        default=None, description="生效日期（中国日期），默认今天；晚于今天则定时生效 / the China "
                                  "date it comes into force; a later date schedules it")


@router.post("/plans/{plan_id}/publish",
             summary="发布方案为新版本（管理员）/ publish the plan as a release (admins)",
             description="有错误时拒绝；基础版本已不是当前版本时，若当前版本没有改动方案改动的单元则自动"
                         "换基，否则拒绝并列出冲突单元。 / Refused while it has errors; rebased onto "
                         "the current release when that changed none of the plan's units, else "
                         "refused with the units both changed.")
def publish(plan_id: int, _: Admin, plans: PlansDep,
            body: Annotated[PlanPublish | None, Body()] = None) -> dict:
    return plans.publish(plan_id, body.effective_date if body else None)
