"""Map tests in a real headless Chromium (Debian's, driven by Playwright), fully offline.

Pages are written to a temporary folder served by a loopback ``http.server`` thread, with the
Leaflet files (see :mod:`wangge.maps.assets`) under ``/assets/``. Every request to another host is
answered by the test: tile requests get a plain 256×256 PNG (so tiles are laid out as in real
use and no console error is logged), anything else is aborted. One browser per session.
"""

from __future__ import annotations

import functools
import http.server
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pytest

from wangge.maps import assets

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
TILE_HOSTS = ("tile.openstreetmap.org", "autonavi.com", "map.gtimg.com", "tianditu.gov.cn")
VIEWPORT = {"width": 1200, "height": 800}

# Resolves (milliseconds since navigation start) once the page has loaded and two animation
# frames have passed: folium's inline script has built every layer before 'load', and the
# canvas renderer draws them on the next frame.
READY_JS = """
() => new Promise(resolve => {
  const done = () => requestAnimationFrame(() => requestAnimationFrame(
    () => resolve(performance.now())));
  if (document.readyState === "complete") { done(); } else { window.addEventListener("load", done); }
})
"""
# The folium map object and helpers to inspect it.
MAP_JS = "document.querySelector('.folium-map') && window[document.querySelector('.folium-map').id]"


def _png(width: int = 256, height: int = 256, rgb: tuple[int, int, int] = (232, 228, 216)) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


TILE_PNG = _png()


@pytest.fixture(scope="session")
def assets_dir() -> Path:
    """The local Leaflet files, fetched with npm into the cache on first use."""
    try:
        return assets.fetch(assets.default_dir())
    except RuntimeError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"map assets unavailable: {exc}", pytrace=False)
        pytest.skip(f"map assets unavailable: {exc}")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, assets_dir: Path) -> Iterator[tuple[str, Path]]:
    """A loopback web server over a temporary folder: (base URL, folder)."""
    root = tmp_path_factory.mktemp("site")
    (root / "assets").symlink_to(assets_dir, target_is_directory=True)
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium missing: run scripts/setup-browser", pytrace=False)
        pytest.skip("Chromium missing: run scripts/setup-browser")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@dataclass
class Opened:
    """A map page open in the browser, with what it logged and how long it took."""

    page: Any
    html_bytes: int
    ready_ms: float
    console_errors: list[str] = field(default_factory=list)
    tile_requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)


@pytest.fixture(scope="session")
def open_page(browser: Any, site: tuple[str, Path]) -> Iterator[Any]:
    """``open_page(map_or_html, name)``: write, serve and open a page; screenshot it."""
    base, root = site
    pages: list[Any] = []

    def open_(content: folium.Map | str, name: str, screenshot: bool = True) -> Opened:
        text = content if isinstance(content, str) else content.get_root().render()
        (root / f"{name}.html").write_text(text, encoding="utf-8")
        page = browser.new_page(viewport=VIEWPORT)
        pages.append(page)
        opened = Opened(page, len(text.encode("utf-8")), 0.0)

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(base):
                r.continue_()
            elif any(h in url for h in TILE_HOSTS):
                opened.tile_requests.append(url)
                r.fulfill(status=200, content_type="image/png", body=TILE_PNG)
            else:
                opened.blocked.append(url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda msg: opened.console_errors.append(msg.text)
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: opened.console_errors.append(str(exc)))
        page.goto(f"{base}/{name}.html", wait_until="commit")
        opened.ready_ms = page.evaluate(READY_JS)
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            time.sleep(0.2)  # let the fade-in of tiles finish for a readable picture
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        return opened

    yield open_
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def demo(_demo_session) -> gpd.GeoDataFrame:
    return _demo_session.copy()  # build_demo(), built once per session: see tests/conftest.py
