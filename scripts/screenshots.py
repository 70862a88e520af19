"""Screenshots of the demo's maps for the README (docs/img/*.png), taken in headless Chromium.

Usage: .venv/bin/python scripts/screenshots.py [--households N] [--tiles none]

Builds the demo district, its register, workers and sites into a scratch SQLite store, serves
the API on loopback with uvicorn, opens the map pages as a viewer would and saves them. Tiles
need the internet; with ``--tiles none`` (the default here) the pictures show the data only.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from wangge.api.app import create_app  # noqa: E402
from wangge.coverage import store_network  # noqa: E402
from wangge.demo.district import build_demo  # noqa: E402
from wangge.demo.network import build_demo_network  # noqa: E402
from wangge.demo.register import build_register  # noqa: E402
from wangge.demo.sites import build_demo_sites  # noqa: E402
from wangge.demo.workers import build_workers  # noqa: E402
from wangge.households import import_register  # noqa: E402
from wangge.settings import Settings  # noqa: E402
from wangge.store import open_store  # noqa: E402

OUT = ROOT / "docs" / "img"
PAGES = {"overview": "/maps/overview?tiles={tiles}",
         "coverage": "/maps/coverage?tiles={tiles}&suggest=3"}


def load(url: str, households: int, tmp: Path) -> None:
    units = build_demo()
    reg = build_register(units, n_households=households)
    with open_store(url) as store:
        store.create_release(units, source="demo", make_current=True)
        store.create_gazetteer(reg.compounds, reg.buildings, source="demo")
        path = tmp / "households.csv"
        reg.households.to_csv(path, index=False, encoding="utf-8-sig")
        import_register(store, path)
        store.replace_workers(*build_workers(units))
        store_network(store, build_demo_network(units), release_id=1, source="demo")
        store.import_sites(build_demo_sites(units, reg), source="demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=130_000)
    parser.add_argument("--tiles", default="none")
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'wangge.db'}"
        load(url, args.households, Path(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = create_app(Settings(database_url=url, anonymous_role="viewer", _env_file=None))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for name in args.pages:
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                response = page.goto(f"http://127.0.0.1:{port}" + PAGES[name].format(
                    tiles=args.tiles), wait_until="load", timeout=120_000)
                if response is None or response.status != 200:
                    raise SystemExit(f"{name}: HTTP {response.status if response else '?'}")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"{OUT / f'{name}.png'}")
                page.close()
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
