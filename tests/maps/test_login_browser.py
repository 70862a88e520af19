"""Logging in from a real headless Chromium against a real server: the login form, every map
page opened without any header, an edit in the planner's editor (the page sends the CSRF token
itself), logging out, and a forged cross-site POST refused.

The server is uvicorn on loopback over a small demo district (3 households per micro-grid, the
demo's sites); tiles are off and no request leaves the machine. The only credentials the browser
ever has are the ones typed into the login form.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from tests.api.conftest import SMALL_DEMO
from tests.api.test_api_plans import _with_households
from tests.maps.conftest import READY_JS, SCREENSHOTS, VIEWPORT
from tests.maps.test_editor_browser import IDLE, _community
from tests.serving import served as serve
from wangge.api.app import create_app
from wangge.demo.district import build_demo
from wangge.demo.sites import build_demo_sites
from wangge.settings import Settings
from wangge.store import open_store

PASSWORD = "correct horse 8"


@pytest.fixture(scope="module")
def login_site(tmp_path_factory, assets_dir) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('login') / 'wangge.db'}"
    units = build_demo(**SMALL_DEMO)
    with open_store(url) as store:
        store.create_release(units, source="demo", make_current=True,
                             effective_date=date(2026, 1, 1))
        store.import_sites(build_demo_sites(units), source="demo")
        store.create_user("planner", "planner", PASSWORD)
        _, admin = store.create_key("login test admin", "admin")
    _with_households(url, units)
    app = create_app(Settings(database_url=url, _env_file=None, map_tiles="none"))
    with serve(app) as base:
        yield {"base": base, "units": units, "admin": admin, "url": url}


class Browser:
    """A fresh browser profile (no cookies, no headers added) with what it requested and logged."""

    def __init__(self, browser: Any, site: dict[str, Any], allow: tuple[str, ...] = ()) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.site = site
        self.errors: list[str] = []
        self.writes: list[tuple[str, str, dict[str, str]]] = []
        allowed = (site["base"], *allow)

        def route(r: Any) -> None:
            (r.continue_ if r.request.url.startswith(allowed) else r.abort)()

        self.page.route("**/*", route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", lambda r: self.writes.append((r.method, r.url, r.headers))
                     if r.method not in ("GET", "HEAD") else None)

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.site["base"] + path)
        self.page.evaluate(READY_JS)
        return response

    def log_in(self, name: str, password: str = PASSWORD) -> None:
        self.page.fill("#name", name)
        self.page.fill("#password", password)
        self.page.click("#submit")

    def cookie(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.context.cookies() if c["name"] == name), None)

    def close(self) -> None:
        self.context.close()


def _api(site: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=site["base"], headers={"X-API-Key": site["admin"]}, timeout=60)


def test_log_in_open_every_map_page_edit_and_log_out(browser, login_site):
    units = login_site["units"]
    grid = units.loc[units["level"] == "grid", "code"].iloc[0]
    community, grids = _community(units)
    b = Browser(browser, login_site)
    # no key, no cookie: the map page sends the browser to the login form, Chinese first
    first = b.goto("/maps/overview?tiles=none")
    assert first.status == 200 and "/login?next=" in b.page.url
    assert b.page.inner_text("h1") == "登录"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    b.page.screenshot(path=str(SCREENSHOTS / "login-form.png"))
    b.log_in("planner", "not the password")
    b.page.wait_for_selector(".msg.error")
    assert "用户名或密码错误" in b.page.inner_text(".msg.error") and b.cookie("wangge_session") is None
    b.log_in("planner")
    b.page.wait_for_url("**/maps/overview?tiles=none")
    session, csrf = b.cookie("wangge_session"), b.cookie("wangge_csrf")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]
    assert not csrf["httpOnly"] and csrf["sameSite"] == "Lax"
    assert b.page.evaluate("document.cookie").startswith("wangge_csrf=")   # the session: hidden

    for path in ("/maps/", "/maps/overview?tiles=none", f"/maps/units/{grid}?tiles=none",
                 "/maps/validation?tiles=none", "/maps/coverage?tiles=none", "/maps/plans"):
        response = b.goto(path)
        assert response.status == 200 and b.page.url == login_site["base"] + path, path
    b.goto("/maps/")
    assert "已登录：planner" in b.page.inner_text(".account")
    b.page.screenshot(path=str(SCREENSHOTS / "login-landing.png"))

    # the plans page starts a plan, and the editor locks a grid: writes with the CSRF header
    b.goto("/maps/plans")
    b.page.wait_for_selector("#new-plan:not([hidden])")
    b.page.fill("#new-title", "浏览器登录")
    b.page.click("#new-plan button")
    b.page.wait_for_url("**/maps/plans/*")
    b.page.wait_for_function(IDLE, timeout=30_000)
    pid = int(b.page.url.rsplit("/", 1)[1].split("?")[0])
    b.goto(f"/maps/plans/{pid}?community={community}")
    b.page.wait_for_function(IDLE, timeout=30_000)
    b.page.click(f'#bars .bar-row[data-code="{grids[1]}"]')
    b.page.click("#lock")
    b.page.wait_for_function(IDLE, timeout=30_000)
    assert b.page.inner_text("#lock") == "解锁"
    writes = [(m, u.split(login_site["base"])[1], h) for m, u, h in b.writes
              if u.startswith(login_site["base"] + "/v1/")]
    assert [(m, u) for m, u, _ in writes] == [("POST", "/v1/plans"),
                                              ("POST", f"/v1/plans/{pid}/edits")]
    assert all(h.get("x-csrf-token") == csrf["value"] and "x-api-key" not in h
               for _, _, h in writes)
    with _api(login_site) as api:
        assert [e["op"] for e in api.get(f"/v1/plans/{pid}/edits").json()] == [
            {"op": "lock", "units": [grids[1]]}]
        audit = api.get("/v1/audit").json()
    mine = [e for e in audit if e["action"].startswith("POST /v1/plans")]
    assert len(mine) == 2 and all(e["detail"]["user"] == "planner" and e["status"] < 300
                                  for e in mine)
    assert [e["detail"]["result"] for e in audit if e["action"] == "login"] == [
        "ok", "wrong_password"]

    # log out from the landing page; the maps then lead to the login form again
    b.goto("/maps/")
    b.page.click("#logout")
    b.page.wait_for_url("**/logout")
    b.page.click("#submit")
    b.page.wait_for_url("**/login?out=1")
    assert "已退出登录" in b.page.inner_text(".msg.info")
    assert b.cookie("wangge_session") is None and b.cookie("wangge_csrf") is None
    for path in ("/maps/overview?tiles=none", f"/maps/plans/{pid}"):
        b.goto(path)
        assert "/login?next=" in b.page.url, path
    # nothing logged but the browser's own line for the wrong password's answer (401)
    assert b.errors == ["Failed to load resource: the server responded with a status of 401 "
                        "(Unauthorized)"]
    b.close()


def test_a_forged_cross_site_post_is_refused(browser, login_site, site):
    """Another origin's page makes the logged-in browser post to the API: without the CSRF
    token it is refused (403); from another site the SameSite cookie is not even sent (401)."""
    evil_base, root = site
    base = login_site["base"]
    (root / "forged.html").write_text(
        '<!DOCTYPE html><html><body><form id="f" method="post" enctype="text/plain" '
        f'action="{base}/v1/plans"><input name=\'{{"title": "forged", "x": "\' value=\'"}}\'>'
        '</form><script>document.getElementById("f").submit();</script></body></html>',
        encoding="utf-8")
    other_site = evil_base.replace("127.0.0.1", "localhost")
    b = Browser(browser, login_site, allow=(evil_base, other_site))
    b.goto("/login")
    b.log_in("planner")
    b.page.wait_for_url("**/maps/")
    for origin, status, code in ((evil_base, 403, "csrf_failed"),
                                 (other_site, 401, "unauthenticated")):
        with b.page.expect_response(lambda r: r.url == f"{base}/v1/plans") as answer:
            b.page.goto(f"{origin}/forged.html")
        assert answer.value.status == status, origin
        assert answer.value.json()["code"] == code
    with _api(login_site) as api:
        assert "forged" not in {p["title"] for p in api.get("/v1/plans").json()}
        refused = [e for e in api.get("/v1/audit").json() if e["action"] == "POST /v1/plans"
                   and e["status"] == 403]
    assert refused and refused[0]["detail"]["user"] == "planner"
    b.close()
