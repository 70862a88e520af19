"""``wangge users …``: accounts for browser logins, made and changed from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from wangge.cli.app import app
from wangge.store import open_store

PASSWORD = "correct horse 8"


def test_users_add_list_disable_passwd(tmp_path):
    url = f"sqlite:///{tmp_path / 'db' / 'wangge.db'}"
    env = {"WANGGE_DATABASE_URL": url, "COLUMNS": "200"}
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None):
        return runner.invoke(app, list(args), env=env, input=stdin)

    made = run("users", "add", "zhang", "--role", "planner", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.exit_code == 0, made.output
    assert "zhang" in made.output and PASSWORD not in made.output      # typed twice, not echoed
    mistyped = run("users", "add", "li", stdin=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert mistyped.exit_code == 0 and "li" in mistyped.output         # asked again
    assert run("users", "add", "wang", "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    assert run("users", "add", "zhao", "--password-stdin", stdin="short\n").exit_code == 2
    duplicate = run("users", "add", "zhang", "--password-stdin", stdin=PASSWORD + "\n")
    assert duplicate.exit_code == 2 and "已存在" in duplicate.output
    assert run("users", "add", "zhao", "--role", "boss").exit_code == 2    # before any prompt
    listed = run("users", "list")
    assert listed.exit_code == 0 and all(n in listed.output for n in ("zhang", "li", "wang"))
    assert "scrypt" not in listed.output and "planner" in listed.output

    with open_store(url) as store:
        assert [u.role for u in store.users()] == ["planner", "viewer", "viewer"]
        token = store.start_session(store.user("zhang").id)
    assert run("users", "passwd", "zhang", "--password-stdin", stdin="brand new pass\n").exit_code == 0
    assert run("users", "disable", "wang").exit_code == 0
    assert run("users", "disable", "nobody").exit_code == 2
    assert run("--lang", "en", "users", "passwd", "nobody").output.count("does not exist") == 1
    with open_store(url) as store:
        assert store.session_count() == 0 and token                     # passwd ended it
        assert store.check_login("zhang", "brand new pass", "cli").ok
        assert store.check_login("wang", PASSWORD, "cli").reason == "disabled"
    assert run("users", "enable", "wang").exit_code == 0
