"""``wangge users …``: accounts for people who log in from a browser (systems use keys)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from wangge.cli.common import console, load_settings, open_store, print_list, say, user_errors, when

users_app = typer.Typer(help="浏览器登录账户：新建、列出、停用、改密码 / accounts for browser logins",
                        no_args_is_help=True)

PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="从标准输入读取密码（一行）/ read the password from standard input")]


def _password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice (never echoed)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(say("密码", "Password"), hide_input=True,
                        confirmation_prompt=say("再次输入密码", "Repeat the password"))


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="用户名（登录时输入）/ the name to log in with")],
    role: Annotated[str, typer.Option(help="角色：viewer、integrator、planner 或 admin"
                                           " / role: viewer, integrator, planner or admin")] = "viewer",
    password_stdin: PasswordStdin = False,
) -> None:
    """新建账户（密码输入两次，只保存其 scrypt 散列）/ Make an account."""
    from wangge.store.access import check_role
    from wangge.store.users import check_name, check_password, name_taken

    with user_errors():
        name = check_name(name)
        check_role(role)
        store = open_store(load_settings())
        if store.has_user(name):          # refused before the password is asked
            raise name_taken(name)
        password = check_password(_password(password_stdin))
        user = store.create_user(name, role, password)
    console.print(say(f"已新建账户 {user.name}（{user.role}），可在 /login 登录。",
                      f"Made account {user.name} ({user.role}); log in at /login."))


@users_app.command("list")
def users_list() -> None:
    """列出全部账户（不含密码）/ List the accounts (never the passwords)."""
    with user_errors():
        users = open_store(load_settings()).users()
    print_list(say("登录账户", "Accounts"),
               [("编号", "id", {"justify": "right"}), ("用户名", "name", {"ratio": 1}),
                ("角色", "role", {}), ("创建时间", "created", {"no_wrap": True}),
                ("上次登录", "last login", {"no_wrap": True}),
                ("停用时间", "disabled", {"no_wrap": True})],
               [[str(u.id), u.name, u.role, when(u.created_at), when(u.last_login_at),
                 when(u.disabled_at)] for u in users])


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="用户名 / account name")]) -> None:
    """停用账户，其会话立即结束 / Disable an account; its sessions end at once."""
    with user_errors():
        user = open_store(load_settings()).disable_user(name)
    console.print(say(f"已停用账户 {user.name}，其会话已结束。",
                      f"Disabled {user.name}; its sessions have ended."))


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Argument(help="用户名 / account name")]) -> None:
    """重新启用账户 / Enable a disabled account again."""
    with user_errors():
        user = open_store(load_settings()).enable_user(name)
    console.print(say(f"已启用账户 {user.name}。", f"Enabled {user.name}."))


@users_app.command("passwd")
def users_passwd(name: Annotated[str, typer.Argument(help="用户名 / account name")],
                 password_stdin: PasswordStdin = False) -> None:
    """设置新密码，其会话全部结束 / Set a new password; the account's sessions end."""
    from wangge.store.users import check_password

    with user_errors():
        store = open_store(load_settings())
        store.user(name)  # a name that does not exist is refused before the password is asked
        user = store.set_password(name, check_password(_password(password_stdin)))
    console.print(say(f"已更新 {user.name} 的密码，其会话已结束。",
                      f"Changed the password of {user.name}; its sessions have ended."))
