"""/docs and /redoc load Swagger UI and ReDoc from the server itself: they work on an intranet."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.maps.conftest import SCREENSHOTS, VIEWPORT
from tests.serving import served as serve
from wangge.api.app import create_app
from wangge.maps.assets import DOCS_ASSETS
from wangge.settings import Settings

LINKS = re.compile(r"""<(?:script|img|link)[^>]*\s(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)
# ReDoc 3 has listed the operations of the first tag.
REDOC_READY = "[data-testid='items-navigation-list'] a"
LOADED_BY_SCRIPT = re.compile(r"""url:\s*'([^']+)'|spec-url="([^"]+)\"""")


def _app(tmp_path: Path) -> Any:
    return create_app(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", _env_file=None,
                               map_tiles="none"))


def _urls(page: str) -> list[str]:
    return LINKS.findall(page) + [a or b for a, b in LOADED_BY_SCRIPT.findall(page)]


@pytest.mark.usefixtures("assets_dir")
def test_docs_pages_link_nothing_off_site(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path))
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        urls = _urls(r.text)
        assert len(urls) >= 3, urls  # script, stylesheet/favicon, the OpenAPI document
        off_site = [u for u in urls if urlsplit(u).netloc or not u.startswith("/")]
        assert off_site == [], (path, off_site)
        for url in urls:  # and every one of them is served
            assert client.get(url).status_code == 200, url
    assert '"validatorUrl": null' in client.get("/docs").text  # no badge from validator.swagger.io
    redoc = client.get("/redoc")
    assert "fonts.googleapis.com" not in redoc.text
    assert redoc.headers["content-security-policy"] == "img-src 'self' data: blob:"
    assert '<redoc spec-url="/openapi.json" disable-telemetry="true">' in redoc.text
    assert client.get("/docs/oauth2-redirect").status_code == 200
    js = client.get("/docs/assets/" + DOCS_ASSETS["swagger_js"].local)
    assert "javascript" in js.headers["content-type"] and b"SwaggerUIBundle" in js.content
    # the pages are not operations of the API
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(client.get("/openapi.json")
                                                                 .json()["paths"])


def test_without_local_files_the_docs_use_the_cdn_and_say_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("WANGGE_MAP_ASSETS", str(tmp_path / "empty"))
    with caplog.at_level(logging.WARNING, logger="wangge.api.docs_pages"):
        client = TestClient(_app(tmp_path))
    assert "python -m wangge.maps.assets" in caplog.text
    page = client.get("/docs").text
    assert DOCS_ASSETS["swagger_js"].cdn in page and DOCS_ASSETS["swagger_css"].cdn in page
    assert DOCS_ASSETS["redoc_js"].cdn in client.get("/redoc").text
    assert client.get("/docs/assets/" + DOCS_ASSETS["swagger_js"].local).status_code == 404


def test_map_files_of_another_version_are_not_served_and_the_log_says_so(
        assets_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An older wangge's cache (no record of its package) is not served as current: the maps
    use the CDN, and the log names the files and the command that fetches them."""
    import shutil

    from wangge.maps.assets import ASSETS, STAMP

    copy = tmp_path / "assets"
    shutil.copytree(assets_dir, copy)
    (copy / "leaflet" / STAMP).unlink()
    monkeypatch.setenv("WANGGE_MAP_ASSETS", str(copy))
    with caplog.at_level(logging.WARNING, logger="wangge.api.app"):
        client = TestClient(_app(tmp_path))
    assert "leaflet/leaflet.js" in caplog.text and "python -m wangge.maps.assets" in caplog.text
    assert client.get("/maps/assets/" + ASSETS["leaflet"].local).status_code == 404


@pytest.mark.usefixtures("assets_dir")
def test_swagger_ui_and_redoc_render_with_other_hosts_blocked(tmp_path: Path, browser: Any
                                                             ) -> None:
    with serve(_app(tmp_path)) as base:
        page = browser.new_page(viewport=VIEWPORT)
        errors: list[str] = []
        refused: list[str] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(base):
                r.continue_()
            else:
                refused.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        try:
            page.goto(f"{base}/docs", wait_until="load")
            page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
            assert "wangge" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock", timeout=15_000)
            assert page.locator(".opblock").count() > 30
            assert page.locator(".btn.authorize").count() == 1  # the API key's security schemes
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "docs-swagger-ui.png"))

            page.goto(f"{base}/redoc", wait_until="load")
            title = page.wait_for_selector("[data-component-name='Typography/H1']",
                                           timeout=30_000)
            assert "wangge" in title.inner_text()
            page.wait_for_selector(REDOC_READY, timeout=30_000)     # operations listed
            page.get_by_text("/v1/membership/address").first.click()
            page.wait_for_url("**#/membership/*")
            page.get_by_text("Responses").first.wait_for()       # the operation, drawn
            page.wait_for_timeout(300)
            assert refused == []
            # ReDoc's own logo (cdn.redoc.ly) is refused by the page's policy, and hides itself
            assert [e for e in errors if "cdn.redoc.ly" not in e] == [], errors
            assert page.locator("img[alt='redocly logo']").count() == 0
        finally:
            page.close()
