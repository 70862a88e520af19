"""``wangge keys …`` and ``wangge workers …``: API keys and the grid workers' roster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wangge.cli.common import console, load_settings, open_store, parse_fields, say, user_errors

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
    table = Table(title=say("API 密钥", "API keys"))
    for col in ("id", "prefix", "name", "role", "created_at", "revoked_at"):
        table.add_column(col)
    for k in keys:
        d = k.as_dict()
        table.add_row(*(str(d[c] or "") for c in ("id", "prefix", "name", "role", "created_at",
                                                   "revoked_at")))
    console.print(table)


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
