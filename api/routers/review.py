"""The review queue as a worklist: filter, page, count, export, resolve (see :mod:`wangge.review`).

Staff read it (viewers, planners, admins); planners and admins resolve. Personal fields are
never served here, as in every household route: an export carries locations, reasons and
candidates, not names or phones.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from wangge.api.auth import STAFF, Writer, require
from wangge.api.deps import ReleaseDep, StoreDep
from wangge.geo.errors import NotFound
from wangge.geo.index.hierarchy import HierarchyIndex
from wangge.geocode.match import Matcher
from wangge.review import (
    Decider,
    build_filter,
    export_csv,
    export_table,
    export_xlsx,
    resolve,
    worklist,
)
from wangge.store import Store
from wangge.store.review import ReviewFilter

router = APIRouter(tags=["households"], dependencies=[Depends(require(STAFF))])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filter(
    store: StoreDep, release: ReleaseDep,
    reason: Annotated[list[str] | None, Query(
        description="核查原因（可重复或用逗号分隔）：unlocated 无法定位、outside 不在任何网格内、"
                    "coordinates_far_from_address 坐标与地址不符、low_match_score 地址匹配可信度低；"
                    "中文名称也可 / reason codes or their Chinese or English names")] = None,
    unit: Annotated[str | None, Query(max_length=64, description=(
        "单元编码（任一层级）：该单元内的住户，以及最近微网格在其中的网格外住户 / a unit code"))]
    = None,
    source: Annotated[str | None, Query(max_length=500, description="导入文件名 / the import")]
    = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, description="最低匹配得分")] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1, description="最高匹配得分")] = None,
) -> ReviewFilter:
    return build_filter(store, release.id, reasons=reason, unit=unit, source=source,
                        min_score=min_score, max_score=max_score)


FilterDep = Annotated[ReviewFilter, Depends(_filter)]
LangQuery = Annotated[Literal["zh", "en"], Query(
    description="表头语言：zh 中文表头加一行英文表头，en 仅英文 / header language")]


def _matcher(request: Request) -> Matcher | None:
    try:
        return request.app.state.membership.matcher()
    except NotFound:
        return None


def _index(request: Request, store: Store) -> HierarchyIndex | None:
    """The membership index of the current release, if this process holds it."""
    try:
        current = request.app.state.membership.current()
    except NotFound:
        return None
    return current.hierarchy if current.release.id == store.current_release_id() else None


@router.get("/households/review", summary="待核查住户（可筛选、分页、按原因计数）/ the review worklist")
def review(request: Request, store: StoreDep, release: ReleaseDep, filt: FilterDep,
           limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
           offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0) -> dict:
    """一页待核查住户，每户附原因（中英文）和候选位置；``reasons`` 为各原因户数（不受原因筛选影响）。
    / One page of the worklist with each household's reasons and candidates, and the count per
    reason (under every filter but the reason)."""
    return worklist(store, release.id, filt, limit=limit, offset=offset,
                    matcher=_matcher(request))


def _attachment(name_zh: str, ascii_name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                                   f"filename*=UTF-8''{quote(name_zh)}"}


@router.get("/households/review/export.xlsx", summary="导出待核查住户（Excel）/ export as .xlsx",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_review_xlsx(request: Request, store: StoreDep, release: ReleaseDep, filt: FilterDep,
                       lang: LangQuery = "zh") -> Response:
    """每户一行及其候选；另有一张各原因户数表。不含个人信息。/ One row per household with its
    candidates, and a sheet of counts per reason. No personal data."""
    table = export_table(store, release.id, filt, matcher=_matcher(request), lang=lang)
    return Response(export_xlsx(table, lang), media_type=XLSX,
                    headers=_attachment(f"待核查住户-版本{release.id}.xlsx",
                                        f"review-{release.id}.xlsx"))


@router.get("/households/review/export.csv", summary="导出待核查住户（CSV）/ export as CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_review_csv(request: Request, store: StoreDep, release: ReleaseDep, filt: FilterDep,
                      lang: LangQuery = "zh") -> Response:
    """UTF-8（带 BOM）CSV，每户一行及其候选；以 = + - @ 开头的文本加撇号，不会被当作公式。不含个人信息。
    / UTF-8 CSV (with BOM), one row per household with its candidates, formula-safe. No
    personal data."""
    table = export_table(store, release.id, filt, matcher=_matcher(request), lang=lang)
    return Response(export_csv(table, lang), media_type="text/csv; charset=utf-8",
                    headers=_attachment(f"待核查住户-版本{release.id}.csv",
                                        f"review-{release.id}.csv"))


class Resolution(BaseModel):
    """A person's decision: a candidate (building or compound id) or a point with its CRS."""

    candidate: str | None = Field(None, max_length=200, description="楼栋或小区编号 / gazetteer id",
                                  examples=["B000123"])
    lon: float | None = Field(None, description="经度（或投影坐标 x）/ longitude or x")
    lat: float | None = Field(None, description="纬度（或投影坐标 y）/ latitude or y")
    crs: str = Field("WGS-84", max_length=100,
                     description="坐标系：WGS-84、CGCS2000、GCJ-02、BD-09 或 EPSG 编码")


@router.post("/households/{external_id}/resolve",
             summary="核查处理：选择候选或取点，重新定位并分配到当前版本 / resolve a household")
def resolve_household(principal: Writer, request: Request, store: StoreDep, external_id: str,
                      body: Resolution) -> dict:
    """决定会被保存；下次导入同一住户且地址文字不变时直接采用，不再进入待核查。
    / The decision is kept and reused when the same household comes again with the same
    address text."""
    return resolve(store, external_id, candidate=body.candidate, lon=body.lon, lat=body.lat,
                   crs=body.crs, index=_index(request, store),
                   decider=Decider(principal.name, principal.key_id, principal.role))
