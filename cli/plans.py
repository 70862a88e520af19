"""``wangge plans …``: planners' drafts from the command line (the machine's administrator).

The same service as the API: edits checked and logged, impact after each, auto-partition,
publication with an effective date. Every write is recorded in the audit log (role ``cli``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wangge.cli.common import (
    Stages,
    console,
    load_settings,
    open_store,
    parse_day,
    print_findings,
    say,
    step,
    user_errors,
)
from wangge.cli.households import print_assignment
from wangge.geo.errors import InputError

plans_app = typer.Typer(help="规划方案：草稿、编辑、影响、自动划分、发布 / plans: drafts, edits, impact, "
                                  "auto-partition, publishing", no_args_is_help=True)

_PLAN = Annotated[int, typer.Argument(help="方案编号 / plan id", min=1)]


def _service() -> Any:
    from wangge.plans import PlanService

    settings = load_settings()
    return PlanService(open_store(settings), settings)


def _audit(service: Any, action: str, plan_id: int, detail: dict[str, Any] | None = None) -> None:
    service.store.audit(action, key_id=None, role="cli", target=f"plan {plan_id}", status=200,
                        detail=detail)


def _moves(moves: dict[str, Any], title: str) -> None:
    table = Table(title=f"{title}：{moves['households']} 户 / {moves['residents']} 人")
    for col in (say("原网格", "from"), say("新网格", "to"), say("户数", "households"),
                say("人数", "residents")):
        table.add_column(col)
    for row in moves["from_to"][:30]:
        table.add_row(str(row["from"]), str(row["to"]), str(row["households"]),
                      str(row["residents"]))
    console.print(table)


def _answer(answer: dict[str, Any]) -> None:
    plan = answer["plan"]
    console.print(say(f"用时 {answer['ms']} 毫秒；方案：{plan['errors']} 个错误，{plan['warnings']} 个警告，"
                      f"户数偏少网格 {plan.get('grid_low', 0)} 个，偏多 {plan.get('grid_high', 0)} 个。",
                      f"{answer['ms']} ms; plan: {plan['errors']} errors, {plan['warnings']} warnings, "
                      f"grids below range {plan.get('grid_low', 0)}, above {plan.get('grid_high', 0)}."))
    for key, zh in (("created", "新建"), ("deleted", "删除")):
        if answer[key]:
            console.print(say(f"{zh}：", f"{key}: ") + "、".join(answer[key]))
    if answer["recoded"]:
        console.print(say("改编码：", "recoded: ") + "，".join(f"{a}→{b}" for a, b in
                                                        answer["recoded"].items()))
    for note in answer["notes"]:
        console.print(say(note["message"], note["message_en"]))
    if "moves" in answer:
        _moves(answer["moves"], say("调整住户", "households moving"))
    if answer["findings"]:
        print_findings(answer["findings"])


@plans_app.command("list")
def list_plans() -> None:
    """全部方案 / every plan."""
    with user_errors():
        plans = open_store(load_settings()).plans()
    table = Table(title=say("规划方案", "Plans"))
    for col in ("id", say("标题", "title"), say("状态", "status"), say("基础版本", "base"),
                say("编辑", "edits"), say("发布版本", "release"), say("更新", "updated")):
        table.add_column(col)
    for p in plans:
        d = p.as_dict()
        table.add_row(str(p.id), p.title, say(d["status_zh"], p.status), str(p.base_release_id),
                      str(p.edits), str(p.published_release_id or ""), d["updated_at"][:19])
    console.print(table)


@plans_app.command("new")
def new_plan(title: Annotated[str, typer.Argument(help="标题 / title")],
             base: Annotated[int | None, typer.Option("--base", help="基础版本，默认当前版本"
                                                                     " / release to start from (default:"
                                                                     " the current one)")] = None
             ) -> None:
    """从一个版本新建方案 / start a plan from a release."""
    with user_errors():
        service = _service()
        info = service.create(title, base, author="cli")
        _audit(service, "create plan", info.id)
    console.print(say(f"方案 {info.id}（基于版本 {info.base_release_id}）已建立。",
                      f"Plan {info.id} (over release {info.base_release_id}) created."))


@plans_app.command("edit")
def edit(plan_id: _PLAN,
         op: Annotated[str, typer.Argument(help='编辑（JSON），如 {"op": "merge", "units": [...]}；'
                                                "或 @文件.json / the edit as JSON, or @file.json")],
         admin: Annotated[bool, typer.Option("--admin", help="以管理员身份（可改官方边界）"
                                                             "/ as an administrator (may change official"
                                                             " boundaries)")] = False
         ) -> None:
    """编辑方案并显示影响 / apply one edit and show its impact."""
    with user_errors():
        text = Path(op[1:]).read_text(encoding="utf-8") if op.startswith("@") else op
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"编辑不是有效的 JSON：{exc.msg}。", f"The edit is not JSON: {exc.msg}.") \
                from exc
        service = _service()
        with step(say("正在编辑…", "Editing…")):
            answer = service.edit(plan_id, parsed, admin=admin, author="cli")
        _audit(service, "edit plan", plan_id, {"op": parsed.get("op"), "seq": answer.get("seq")})
    _answer(answer)


@plans_app.command("undo")
def undo(plan_id: _PLAN) -> None:
    """撤销上一次编辑 / undo the last edit."""
    with user_errors():
        service = _service()
        answer = service.undo(plan_id)
        _audit(service, "undo plan edit", plan_id)
    _answer(answer)


@plans_app.command("redo")
def redo(plan_id: _PLAN) -> None:
    """重做 / redo."""
    with user_errors():
        service = _service()
        answer = service.redo(plan_id)
        _audit(service, "redo plan edit", plan_id)
    _answer(answer)


@plans_app.command("show")
def show(plan_id: _PLAN) -> None:
    """方案相对基础版本的影响 / the plan against its base."""
    with user_errors():
        service = _service()
        with step(say("正在计算…", "Computing…")):
            impact = service.impact(plan_id)
            findings = service.findings(plan_id)
    plan = impact["plan"]
    console.print(say(f"方案 {plan_id}：{plan['edits']} 次编辑，改动 {len(impact['changed'])} 个单元，"
                      f"删除 {len(impact['removed'])} 个；{plan['errors']} 个错误，"
                      f"{plan['warnings']} 个警告。",
                      f"Plan {plan_id}: {plan['edits']} edits, {len(impact['changed'])} units changed, "
                      f"{len(impact['removed'])} removed; {plan['errors']} errors, "
                      f"{plan['warnings']} warnings."))
    if "moves" in impact:
        _moves(impact["moves"], say("相对基础版本调整的住户", "households moving against the base"))
    if findings:
        print_findings(findings)


@plans_app.command("partition")
def partition(plan_id: _PLAN,
              code: Annotated[str, typer.Argument(help="社区编码（划分网格）或网格编码（划分微网格）"
                                                       "/ community code (grids) or grid code"
                                                       " (micro-grids)")],
              minimum: Annotated[int | None, typer.Option("--min", help="每格最少户数"
                                                                        " / fewest households a"
                                                                        " unit")] = None,
              maximum: Annotated[int | None, typer.Option("--max", help="每格最多户数"
                                                                        " / most households a unit")] = None,
              accept: Annotated[bool, typer.Option("--accept", help="接受建议（作为一次编辑）"
                                                                    "/ accept the proposal (as one"
                                                                    " edit)")] = False
              ) -> None:
    """自动划分：社区的网格，或网格的微网格（以楼栋为单位）/ propose grids for a community or
    micro-grids for a grid (and accept with --accept)."""
    with user_errors():
        service = _service()
        is_grid = code in set(service.units(plan_id, "grid", code)["code"].astype(str))
        with step(say("正在划分…", "Partitioning…")):
            proposal = service.propose_microgrids(plan_id, code, minimum=minimum, maximum=maximum) \
                if is_grid else service.propose(plan_id, code, minimum=minimum, maximum=maximum)
        verdict = {"feasible": "可行", "infeasible": "无法满足", "unsolved": "未能全部满足"}
        console.print(say(f"{code}：{verdict[proposal['verdict']]}；调整 {proposal['moved']} 户；"
                          f"用时 {proposal['seconds']} 秒。",
                          f"{code}: {proposal['verdict']}; {proposal['moved']} households move; "
                          f"{proposal['seconds']} s."))
        for reason in proposal["reasons"]:
            console.print(say(reason["message"], reason["message_en"]))
        table = Table(title=say("建议的微网格" if is_grid else "建议的网格",
                                "Proposed micro-grids" if is_grid else "Proposed grids"))
        for col in (say("单元", "unit"), say("户数", "households")):
            table.add_column(col)
        rows = proposal["households"].items() if is_grid else \
            ((g["slot"], g["households"]) for g in proposal["grids"])
        for slot, households in rows:
            table.add_row(str(slot), str(households))
        console.print(table)
        if accept:
            op = {"op": "subdivide", "unit": code, "parts": proposal["parts"]} if is_grid else \
                {"op": "regroup", "community": code, "groups": proposal["groups"]}
            answer = service.edit(plan_id, op, admin=False, author="cli")
            _audit(service, "edit plan", plan_id, {"op": op["op"], "seq": answer.get("seq")})
            _answer(answer)


@plans_app.command("publish")
def publish(plan_id: _PLAN,
            effective_date: Annotated[str | None, typer.Option(
                "--effective-date", help="生效日期 YYYY-MM-DD，默认今天；晚于今天则定时生效"
                                         " / effective date YYYY-MM-DD (default: today; later:"
                                         " scheduled)")] = None
            ) -> None:
    """发布方案为新版本 / publish the plan as a release."""
    with user_errors():
        service = _service()
        with Stages([1]) as stages, stages.stage(
                f"校验方案 {plan_id}、发布为新版本、把住户分配到新版本…",
                f"Validating plan {plan_id}, publishing it, assigning the households…"):
            done = service.publish(plan_id, parse_day(effective_date))
            release = done["release"]
            stages.did(f"发布为版本 {release['id']}（{release['unit_count']:,} 个单元），"
                       f"分配 {done['assignment']['assigned']:,} 户",
                       f"published as release {release['id']} ({release['unit_count']:,} units), "
                       f"assigned {done['assignment']['assigned']:,} households")
        _audit(service, "publish plan", plan_id, {"release_id": done["release"]["id"]})
    console.print(say(f"方案 {plan_id} 已发布为版本 {release['id']}，{release['effective_date']} 起生效。",
                      f"Plan {plan_id} published as release {release['id']}, in force from "
                      f"{release['effective_date']}."))
    if done["rebased_from"]:
        console.print(say(f"（已从版本 {done['rebased_from']} 换基到当前版本。）",
                          f"(Rebased from release {done['rebased_from']} onto the current one.)"))
    print_assignment(done["assignment"])
    stages.finish(f"方案 {plan_id} 发布为版本 {release['id']}，分配 {done['assignment']['assigned']:,} 户",
                  f"plan {plan_id} published as release {release['id']}, "
                  f"{done['assignment']['assigned']:,} households assigned")


@plans_app.command("submit")
def submit(plan_id: _PLAN) -> None:
    """提交审核 / submit for publication."""
    with user_errors():
        service = _service()
        service.set_status(plan_id, "submitted")
        _audit(service, "submit plan", plan_id)
    console.print(say(f"方案 {plan_id} 已提交。", f"Plan {plan_id} submitted."))


@plans_app.command("abandon")
def abandon(plan_id: _PLAN) -> None:
    """放弃方案 / abandon the plan."""
    with user_errors():
        service = _service()
        service.set_status(plan_id, "abandoned")
        _audit(service, "abandon plan", plan_id)
    console.print(say(f"方案 {plan_id} 已放弃。", f"Plan {plan_id} abandoned."))
