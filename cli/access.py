"""``wangge keys …`` and ``wangge workers …``: API keys and the grid workers' roster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wangge.cli.common import (
    console,
    load_settings,
    open_store,
    parse_fields,
    print_list,
    say,
    user_errors,
    when,
)

keys_app = typer.Typer(help="API 密钥：新建、列出、吊销"
                            " / API keys: create, list, revoke", no_args_is_help=True)
workers_app = typer.Typer(help="网格员名册：导入、列出"
                               " / grid workers' roster: import, list", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="用途或使用方，如“12345 热线”"
                                             " / who or what uses the key, e.g. the 12345 hotline")],
    role: Annotated[str, typer.Option(help="角色：viewer、integrator、planner 或 admin"
                                           " / role: viewer, integrator, planner or admin")] = "integrator",
) -> None:
    """新建密钥（只显示这一次）/ Make a key; it is shown only once."""
    with user_errors():
        record, key = open_store(load_settings()).create_key(name, role)
    console.print(say(f"密钥 {record.id}（{record.role}，{record.name}）：", f"Key {record.id} "
                      f"({record.role}, {record.name}):"))
    console.print(key, markup=False, highlight=False)
    console.print(say("请妥善保存：服务只保存其散列，无法再次显示。",
                      "Keep it safe: only its hash is stored; it cannot be shown again."))


@keys_app.command("list")
def keys_list() -> None:
    """列出全部密钥（不含密钥本身）/ List keys (never the secrets)."""
    with user_errors():
        keys = open_store(load_settings()).keys()
    print_list(say("API 密钥", "API keys"),
               [("编号", "id", {"justify": "right"}), ("前缀", "prefix", {"no_wrap": True}),
                ("名称", "name", {"ratio": 1}), ("角色", "role", {}),
                ("创建时间", "created", {"no_wrap": True}), ("吊销时间", "revoked", {"no_wrap": True})],
               [[str(k.id), k.prefix, k.name, k.role, when(k.created_at), when(k.revoked_at)]
                for k in keys])


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="密钥编号 / key id")]) -> None:
    """吊销密钥（各服务进程在下次轮询时生效）/ Revoke a key."""
    with user_errors():
        record = open_store(load_settings()).revoke_key(key_id)
    console.print(say(f"已吊销密钥 {record.id}（{record.name}）。",
                      f"Revoked key {record.id} ({record.name})."))


@workers_app.command("import")
def workers_import(
    file: Annotated[Path, typer.Argument(help="名册：CSV、Excel（.xlsx）或 JSON"
                                              " / roster: CSV, Excel (.xlsx) or JSON")],
    field: Annotated[list[str] | None, typer.Option("--field", help="列映射 worker_id=工号，可重复"
                                                                    " / column mapping FIELD=COLUMN, e.g."
                                                                    " worker_id=工号; repeatable")]
    = None,
) -> None:
    """导入网格员名册（整体替换；姓名电话作为个人信息单独保存）/ Import the workers' roster."""
    from wangge.workers import import_workers

    with user_errors():
        settings = load_settings()
        result = import_workers(open_store(settings), file, columns=parse_fields(field),
                                limits=settings.table_limits())
    console.print(say(
        f"网格员 {result['workers']} 人（专职 {result['full_time']}），覆盖 {result['grids_covered']}"
        f"/{result['grids_in_release']} 个网格。",
        f"{result['workers']} workers ({result['full_time']} full-time) in "
        f"{result['grids_covered']}/{result['grids_in_release']} grids."))


@workers_app.command("list")
def workers_list(
    grid: Annotated[str | None, typer.Option(
        "--grid", help="网格编码，或街道、社区编码（其下全部网格）"
                       " / a grid code, or a street or community code (every grid under it)")] = None,
    release: Annotated[int | None, typer.Option(
        help="网格名称取自的版本，默认当前版本 / release the grid names come from (default: the current one)"
    )] = None,
) -> None:
    """列出网格员名册（不含姓名、电话）/ The workers' roster, without personal data."""
    with user_errors():
        store = open_store(load_settings())
        workers = store.workers()
        rid = store.release_or_current(release).id
        units = store.units(rid)[["code", "name", "level", "parent_code"]]
        if grid is not None:
            codes = _grids_under(units, grid)
            if not codes:
                from wangge.geo.errors import NotFound

                raise NotFound(f"版本 {rid} 中没有单元 {grid}。", f"Release {rid} has no unit {grid}.")
            workers = workers[workers["grid_code"].isin(codes)]
    names = dict(zip(units["code"], units["name"], strict=True))
    full_time = int(workers["full_time"].sum())
    print_list(say(f"网格员（版本 {rid} 的网格）", f"Grid workers (grids of release {rid})"),
               [("工号", "worker id", {"no_wrap": True}), ("网格编码", "grid code", {"no_wrap": True}),
                ("网格名称", "grid name", {"ratio": 1}), ("专职", "full-time", {"justify": "center"})],
               [[str(w.worker_id), str(w.grid_code),
                 names.get(w.grid_code, say("（不在此版本中）", "(not in this release)")),
                 say("是", "yes") if w.full_time else say("否", "no")]
                for w in workers.itertuples(index=False)])
    console.print(say(f"共 {len(workers)} 人，专职 {full_time} 人，分布在 "
                      f"{workers['grid_code'].nunique()} 个网格。",
                      f"{len(workers)} workers, {full_time} full-time, in "
                      f"{workers['grid_code'].nunique()} grids."))


def _grids_under(units, code: str) -> set[str]:  # noqa: ANN001
    """The grid codes of ``code`` (a grid) or of every grid under it (a street or community)."""
    children: dict[str, list[str]] = {}
    for child, parent in zip(units["code"], units["parent_code"], strict=True):
        children.setdefault(parent, []).append(child)
    level = dict(zip(units["code"], units["level"], strict=True))
    if code not in level:
        return set()
    found, todo = set(), [code]
    while todo:
        current = todo.pop()
        if level[current] == "grid":
            found.add(current)
        else:
            todo.extend(children.get(current, []))
    return found
