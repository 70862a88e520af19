"""Logging in from a browser, on both backends: the login page, session cookies, CSRF on writes,
expiry, throttling, logout and the audit log — and API keys working exactly as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

from tests.api.conftest import load_release, make_key
from wangge.api.app import create_app
from wangge.demo.workers import build_workers
from wangge.settings import Settings
from wangge.store import open_store

PASSWORD = "correct horse 8"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@contextmanager
def browser(store_url: str, base_url: str = "http://testserver", **settings: Any
            ) -> Iterator[TestClient]:
    """A client with no key, keeping cookies like a browser; accounts zhang (admin), li (viewer)."""
    with open_store(store_url) as store:
        if not store.has_user("zhang"):
            store.create_user("zhang", "admin", PASSWORD)
            store.create_user("li", "viewer", PASSWORD)
    app = create_app(Settings(database_url=store_url, _env_file=None, **settings))
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield client


def login(client: TestClient, name: str = "zhang", password: str = PASSWORD,
          next_path: str = "/maps/", **headers: str) -> Any:
    return client.post("/login", data={"name": name, "password": password, "next": next_path},
                       headers=headers)


def cookie_lines(response: Any) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in response.headers.get_list("set-cookie")}


def logins(client: TestClient) -> list[dict[str, Any]]:
    return [e for e in client.app.state.store.audit_entries(limit=1000) if e["action"] == "login"]


def test_map_pages_send_browsers_to_the_login_page_and_the_api_keeps_401(store_url):
    with browser(store_url) as client:
        page = client.get("/maps/overview?lang=en&tiles=none", headers=HTML)
        assert page.status_code == 303
        assert page.headers["location"] == \
            "/login?next=%2Fmaps%2Foverview%3Flang%3Den%26tiles%3Dnone&lang=en"
        form = client.get(page.headers["location"])
        assert form.status_code == 200 and 'name="password"' in form.text
        assert 'value="/maps/overview?lang=en&amp;tiles=none"' in form.text and "Log in" in form.text
        assert "登录" in client.get("/login").text and "<script" not in form.text
        for path, headers in (("/v1/units", HTML), ("/maps/", {}), ("/maps/", {"Accept": "*/*"})):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 401, path
            assert answer.json()["code"] == "unauthenticated"
            assert "登录" in answer.json()["message"]


def test_logging_in_sets_the_session_cookies_and_opens_the_pages(store_url):
    with browser(store_url) as client:
        done = login(client, next_path="/maps/plans?lang=en")
        assert done.status_code == 303 and done.headers["location"] == "/maps/plans?lang=en"
        cookies = cookie_lines(done)
        session, csrf = cookies["wangge_session"], cookies["wangge_csrf"]
        assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
        assert "HttpOnly" not in csrf and "SameSite=lax" in csrf and "Path=/" in csrf
        token = client.cookies["wangge_session"]
        assert len(token) >= 43 and client.cookies["wangge_csrf"] != token
        landing = client.get("/maps/", headers=HTML)
        assert landing.status_code == 200 and "zhang" in landing.text and 'href="/logout"' in landing.text
        assert client.get("/maps/plans", headers=HTML).status_code == 200
        assert client.get("/v1/keys").status_code == 200          # the account's role: admin
        again = client.get("/login?next=/maps/plans")           # logged in: straight through
        assert again.status_code == 303 and again.headers["location"] == "/maps/plans"
        assert token not in str(client.app.state.store.audit_entries())


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", ""])
def test_after_login_only_paths_on_this_site(store_url, target):
    with browser(store_url) as client:
        assert login(client, next_path=target).headers["location"] == "/maps/"


def test_cookies_are_secure_over_tls_or_behind_a_trusted_proxy(store_url):
    with browser(store_url, base_url="https://testserver") as client:
        assert "Secure" in cookie_lines(login(client))["wangge_session"]
        assert client.get("/maps/", headers=HTML).status_code == 200
    proxied = {"X-Forwarded-Proto": "https"}
    with browser(store_url) as client:
        assert "Secure" not in cookie_lines(login(client, **proxied))["wangge_session"]
    with browser(store_url, trust_forwarded_proto=True) as client:
        assert "Secure" in cookie_lines(login(client, **proxied))["wangge_csrf"]
    with browser(store_url, cookie_secure="always") as client:
        assert "Secure" in cookie_lines(login(client))["wangge_session"]


def test_session_writes_need_the_csrf_token(store_url):
    with browser(store_url) as client:
        login(client)
        refused = client.post("/v1/keys", json={"name": "hotline", "role": "integrator"})
        assert refused.status_code == 403
        body = refused.json()
        assert body["code"] == "csrf_failed" and "CSRF" in body["message"] and \
            "X-CSRF-Token" in body["message_en"]
        wrong = client.post("/v1/keys", json={"name": "hotline", "role": "integrator"},
                            headers={"X-CSRF-Token": "0" * 64})
        assert wrong.status_code == 403
        made = client.post("/v1/keys", json={"name": "hotline", "role": "integrator"},
                           headers={"X-CSRF-Token": client.cookies["wangge_csrf"]})
        assert made.status_code == 201
        entries = [e for e in client.app.state.store.audit_entries() if e["action"] == "POST /v1/keys"]
        assert [e["status"] for e in entries] == [201, 403, 403]
        assert all(e["detail"]["user"] == "zhang" and e["key_id"] is None and e["role"] == "admin"
                   for e in entries)
        # the token of one session is not the token of another
        other = client.cookies["wangge_csrf"]
        with browser(store_url) as second:
            login(second)
            assert second.cookies["wangge_csrf"] != other
            assert second.post("/v1/keys", json={"name": "x", "role": "viewer"},
                               headers={"X-CSRF-Token": other}).status_code == 403


def test_api_keys_work_as_before_and_need_no_csrf(store_url):
    admin_key = make_key(store_url, "admin")
    with browser(store_url) as client:
        assert client.post("/v1/keys", json={"name": "a", "role": "viewer"},
                           headers={"X-API-Key": admin_key}).status_code == 201
        login(client, "li")                                    # a viewer's session as well…
        assert client.get("/v1/keys").status_code == 403
        with_key = client.post("/v1/keys", json={"name": "b", "role": "viewer"},
                               headers={"X-API-Key": admin_key})
        assert with_key.status_code == 201                      # …the key in the header wins
        entry = client.app.state.store.audit_entries()[0]
        assert entry["key_id"] is not None and entry["detail"] is None
        assert client.post("/v1/keys", json={"name": "c", "role": "viewer"},
                           headers={"X-API-Key": "wg_unknown"}).status_code == 401


def test_a_login_form_from_another_site_is_refused(store_url):
    with browser(store_url) as client:
        refused = login(client, Origin="http://evil.example")
        assert refused.status_code == 403 and "wangge_session" not in client.cookies
        assert login(client, Origin="http://testserver").status_code == 303
        assert [e["detail"]["result"] for e in logins(client)] == ["ok", "foreign_origin"]


def test_wrong_passwords_are_throttled_and_every_login_is_audited(store_url):
    with browser(store_url) as client:
        for _ in range(5):
            wrong = login(client, password="guess-123")
            assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        throttled = login(client)                             # the right password, too early
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "30"
        assert "30 秒" in throttled.text and "wangge_session" not in client.cookies
        unknown = login(client, name="nobody")
        assert unknown.status_code == 401 and unknown.text.count("用户名或密码错误") == 1
        store = client.app.state.store
        store.clock = lambda: datetime.now(UTC) + timedelta(seconds=31)
        assert login(client).status_code == 303
        entries = logins(client)
        assert [e["detail"]["result"] for e in entries] == \
            ["ok", "unknown", "throttled"] + ["wrong_password"] * 5
        assert all(e["target"] in ("zhang", "nobody") and e["detail"]["address"] == "testclient"
                   for e in entries)
        assert [e["status"] for e in entries[:3]] == [303, 401, 429]
        text = str(store.audit_entries(limit=1000))
        assert PASSWORD not in text and "guess-123" not in text


def test_sessions_expire_when_idle_and_at_the_absolute_limit(store_url):
    with browser(store_url, session_idle_minutes=30, session_absolute_hours=1) as client:
        store = client.app.state.store
        start = datetime.now(UTC)
        login(client)
        for minutes in (20, 40, 55):                           # used every 20 minutes
            store.clock = lambda m=minutes: start + timedelta(minutes=m)
            assert client.get("/maps/", headers=HTML).status_code == 200
        store.clock = lambda: start + timedelta(minutes=61)   # past the absolute hour
        gone = client.get("/maps/", headers=HTML)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next=")
        expired = client.get("/v1/keys")
        assert expired.status_code == 401 and "过期" in expired.json()["message"]
        login(client)
        store.clock = lambda: start + timedelta(minutes=61 + 31)   # idle past 30 minutes
        assert client.get("/maps/", headers=HTML).status_code == 303


def test_logging_out_needs_the_token_and_ends_the_session(store_url):
    with browser(store_url) as client:
        assert client.get("/logout").headers["location"] == "/login"
        login(client)
        token, csrf = client.cookies["wangge_session"], client.cookies["wangge_csrf"]
        form = client.get("/logout?lang=en")
        assert form.status_code == 200 and f'value="{csrf}"' in form.text and "Log out" in form.text
        assert client.post("/logout", data={}).status_code == 403     # a forged logout
        assert client.get("/maps/", headers=HTML).status_code == 200
        out = client.post("/logout", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login?out=1"
        assert "wangge_session" not in client.cookies
        assert "已退出登录" in client.get("/login?out=1").text
        assert client.get("/maps/", headers=HTML).status_code == 303
        client.cookies.set("wangge_session", token)                  # the old cookie is dead
        assert client.get("/maps/", headers=HTML).status_code == 303
        actions = [(e["action"], e["status"]) for e in client.app.state.store.audit_entries()[:3]]
        assert actions == [("logout", 303), ("logout", 403), ("login", 303)]


def test_disabling_an_account_ends_its_sessions(store_url):
    with browser(store_url) as client:
        login(client, "li")
        assert client.get("/maps/", headers=HTML).status_code == 200
        client.app.state.store.disable_user("li")
        assert client.get("/maps/", headers=HTML).status_code == 303
        assert login(client, "li").status_code == 401


def test_a_session_comes_before_the_anonymous_role(store_url):
    with browser(store_url, anonymous_role="viewer") as client:
        assert client.get("/v1/keys").status_code == 403              # anonymous viewer
        login(client)
        assert client.get("/v1/keys").status_code == 200              # the admin's session


def test_reads_of_personal_data_through_a_session_name_the_account(store_url, small_units):
    load_release(store_url, small_units, workers=build_workers(small_units))
    grid = small_units[small_units["level"] == "grid"].iloc[0]
    point = shapely.point_on_surface(grid.geometry)
    with browser(store_url) as client:
        with open_store(store_url) as store:
            wang = store.create_user("wang", "planner", PASSWORD)
        login(client, "wang")
        assert client.get("/maps/overview?tiles=none", headers=HTML).status_code == 200
        found = client.get(f"/v1/membership?lon={point.x}&lat={point.y}&crs=EPSG:4490").json()
        assert found["status"] == "found" and found["workers"]
        entries = {e["action"]: e for e in client.app.state.store.audit_entries()}
        contacts = entries["read worker contacts"]
        assert contacts["target"] == grid["code"] and contacts["detail"]["user"] == "wang"
        assert contacts["detail"]["workers"] == [w["worker_id"] for w in found["workers"]]
        assert entries["read worker names (overview map)"]["detail"] == {"user_id": wang.id,
                                                                          "user": "wang"}
