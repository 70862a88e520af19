"""Benchmark: every page a browser opens — weight and time to interactive, demo and a 10× city.

Usage:
    .venv/bin/python benchmarks/maps_pages.py --store demo=sqlite:///var/wangge.db \\
        --store city10=sqlite:///var/bench/city10.db [--runs 3] [--no-peer]

Make the stores first: ``wangge demo`` (the demo district, 2,367 units, 130,000 households) and
``WANGGE_DATABASE_URL=sqlite:///var/bench/city10.db wangge demo --scale 10 --out var/bench/city10``
(a city ten times its size: 23,670 units, 1.3 million households, ten times the sites).

wangge is served as a user serves it (uvicorn in a subprocess, one worker) and each page is
opened in Debian's headless Chromium (scripts/setup-browser), logged in with a viewer's browser
session (the admin's for the planner's pages), offline: no base-map tiles (``tiles=none``),
Leaflet and Swagger from the service's own ``/maps/assets``, anything else refused.

- **weight**: every byte the page made the browser download from the service (HTML, scripts,
  styles, the tiles of large levels, the editor's data), as transferred;
- **interactive**: from navigation start to the moment the page answers (the map drawn with
  every tile in view loaded, and two animation frames later; the editor idle with its plan
  loaded; Swagger/ReDoc with their operations listed), median of ``--runs`` fresh pages.

Compared: the same pages from the same store with every level inlined
(``WANGGE_MAP_INLINE_UNITS`` set past the largest level), which is how every map page was
served before levels came in tiles. Target (issue 15): every page < 3 MB and < 2 s.

``--warm``: the service prepares the current release's caches at start, as ``wangge serve``
does (``WANGGE_WARM_MAPS``), and pages are opened once ``/health`` says ``warm: done``;
**first** is then the first visitor's load after a start, not a cold cache's.

``--rewarm``: on a scratch copy of each (SQLite) store, a site is retired through the API once
the service is warm, then another; printed: when the service starts warming again, when it is
done, the service's memory, and the first overview and coverage loads after that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.serving import rss_mib, serve  # noqa: E402
from wangge.store import open_store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
INLINE_ALL = 10_000_000
PASSWORD = "bench-pages-2026"
# When a page is interactive: maps once their tiles in view arrived, the editor once idle,
# the API docs once their operations are listed.
MAP_READY = """() => new Promise(resolve => {
  const check = () => document.readyState === "complete" && (window.wgPending || 0) === 0
    ? requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())))
    : setTimeout(check, 10);
  check();
})"""
EDITOR_READY = """() => new Promise(resolve => {
  const check = () => window.wanggeEditor && document.body.dataset.busy === "0"
    && (document.body.dataset.pending || "0") === "0"
    ? requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())))
    : setTimeout(check, 10);
  check();
})"""
SELECTOR_READY = """(selector) => new Promise(resolve => {
  const check = () => document.querySelector(selector)
    ? requestAnimationFrame(() => resolve(performance.now())) : setTimeout(check, 10);
  check();
})"""


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    ready: str = MAP_READY
    arg: Any = None
    role: str = "viewer"


def _pages(store_url: str, base: str, admin_cookies: httpx.Cookies) -> list[Page]:
    """The pages to open, with units picked from the store: the busiest street, community and
    grid (most households), and a plan (made once through the API) for the planner's pages."""
    with open_store(store_url) as store:
        release = store.release_or_current(None).id
        counts = store.unit_counts(release)
        units = store.units(release)
    level = dict(zip(units["code"].astype(str), units["level"].astype(str), strict=True))
    counts["level"] = counts["code"].astype(str).map(level)
    busiest = {lv: str(counts[counts["level"] == lv].sort_values("households")["code"].iloc[-1])
               for lv in ("street", "community", "grid")}
    with httpx.Client(base_url=base, cookies=admin_cookies, timeout=600) as client:
        token = client.cookies.get("wangge_csrf") or ""
        plan = client.post("/v1/plans", json={"title": "benchmark"},
                           headers={"X-CSRF-Token": token})
        plan.raise_for_status()
        pid = plan.json()["id"]
    return [
        Page("landing /maps/", "/maps/?lang=zh", SELECTOR_READY, "a"),
        Page("login /login", "/login", SELECTOR_READY, "form", role="none"),
        Page("overview (grids shaded)", "/maps/overview?tiles=none"),
        Page("overview (micro-grids shaded)", "/maps/overview?tiles=none&level=microgrid"),
        Page("unit: busiest street", f"/maps/units/{busiest['street']}?tiles=none"),
        Page("unit: busiest community", f"/maps/units/{busiest['community']}?tiles=none"),
        Page("unit: busiest grid", f"/maps/units/{busiest['grid']}?tiles=none"),
        Page("validation", "/maps/validation?tiles=none"),
        Page("coverage", "/maps/coverage?tiles=none"),
        Page("compare (release with itself)",
             f"/maps/compare?from={release}&to={release}&tiles=none"),
        Page("plans list", "/maps/plans", SELECTOR_READY, "#plans", role="admin"),
        Page("plan editor", f"/maps/plans/{pid}?tiles=none", EDITOR_READY, role="admin"),
        Page("plan compare", f"/maps/plans/{pid}/compare?tiles=none", role="admin"),
        Page("API docs /docs", "/docs", SELECTOR_READY, ".opblock"),
        Page("API docs /redoc", "/redoc", SELECTOR_READY,
             "[data-testid='items-navigation-list'] a"),
    ]


def _login(base: str, name: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/login")
        token = client.cookies.get("wangge_csrf") or ""
        r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token},
                        follow_redirects=False)
        if r.status_code not in (200, 303):
            raise RuntimeError(f"login as {name} failed: {r.status_code} {r.text[:200]} "
                               f"({page.status_code})")
        return client.cookies


def _measure(browser: Any, base: str, page: Page, cookies: dict[str, httpx.Cookies],
             runs: int, timeout_ms: float = 30_000) -> tuple[int, float]:
    sizes, times = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        if page.role != "none":
            context.add_cookies([{"name": k, "value": v, "url": base}
                                 for k, v in cookies[page.role].items()])
        tab = context.new_page()
        tab.set_default_timeout(timeout_ms)
        client = context.new_cdp_session(tab)
        client.send("Network.enable")
        got: dict[str, int] = {}
        client.on("Network.loadingFinished",
                  lambda e, got=got: got.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
        response = tab.goto(base + page.path, wait_until="commit")
        if response is None or response.status != 200:
            raise RuntimeError(f"{page.path}: {response.status if response else 'no answer'}")
        times.append(tab.evaluate(page.ready, page.arg) if page.arg is not None
                     else tab.evaluate(page.ready))
        tab.wait_for_timeout(100)  # the last bodies' byte counts
        sizes.append(sum(got.values()))
        context.close()
    return int(statistics.median(sizes)), statistics.median(times)


def _users(store_url: str) -> None:
    with open_store(store_url) as store:
        for name, role in (("bench-viewer", "viewer"), ("bench-admin", "admin")):
            if not any(u.name == name for u in store.users()):
                store.create_user(name, role, PASSWORD)


Row = tuple[str, str, int, float, float, int, float]


def _wait_warm(base: str, timeout_s: float = 900.0) -> float:
    """Seconds until the service says its caches are warm (``/health``)."""
    started = time.monotonic()
    while (state := httpx.get(base + "/health", timeout=10).json()["warm"]) == "warming":
        if time.monotonic() - started > timeout_s:
            raise RuntimeError("the caches took too long to warm")
        time.sleep(0.5)
    if state != "done":
        raise RuntimeError(f"warm-up ended {state}")
    return time.monotonic() - started


def run(label: str, store_url: str, runs: int, peer: bool, only: list[str],
        warm: bool = False) -> list[Row]:
    from playwright.sync_api import sync_playwright

    _users(store_url)
    rows: list[Row] = []
    results: dict[str, dict[str, tuple[int, float]]] = {}
    for inline in (("tiled", None), ("inline", INLINE_ALL))[: 2 if peer else 1]:
        env = {"WANGGE_DATABASE_URL": store_url, "WANGGE_RATE_LIMIT_PER_S": "100000"}
        if inline[1] is not None:
            env["WANGGE_MAP_INLINE_UNITS"] = str(inline[1])
        if warm:  # the pages are opened offline: that is the service's default base map too
            env.update(WANGGE_WARM_MAPS="1", WANGGE_MAP_TILES="none")
        with serve("wangge.api.app:create_app", env, ready_path="/health", settle_s=1.0) as s:
            if warm:
                print(f"  {label} {inline[0]:<7}caches warm after {_wait_warm(s.base):.0f} s",
                      flush=True)
            cookies = {"viewer": _login(s.base, "bench-viewer"), "admin": _login(s.base, "bench-admin")}
            pages = [p for p in _pages(store_url, s.base, cookies["admin"])
                     if not only or any(o in p.name for o in only)]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking"])
                for page in pages:
                    # The first load also fills the service's caches (a city's coverage takes
                    # minutes to compute once): reported apart, as "first".
                    first = _measure(browser, s.base, page, cookies, 1, timeout_ms=900_000)
                    got = _measure(browser, s.base, page, cookies, runs)
                    results.setdefault(page.name, {})[inline[0]] = got
                    results[page.name][inline[0] + " first"] = first
                    print(f"  {label} {inline[0]:<7}{page.name:<32}{got[0] / 1e6:7.2f} MB"
                          f"{got[1]:8.0f} ms  (first {first[1]:,.0f} ms)", flush=True)
                browser.close()
    for name, got in results.items():
        size, ms = got["tiled"]
        peer_size, peer_ms = got.get("inline", (0, float("nan")))
        rows.append((label, name, size, ms, got["tiled first"][1], peer_size, peer_ms))
    return rows


def rewarm(label: str, store_url: str) -> None:
    """After a write, how soon the service is warm again and what the first visitor then
    waits: on a scratch copy of a SQLite store (a site is retired through the API, twice)."""
    import shutil
    import tempfile

    from playwright.sync_api import sync_playwright

    if not store_url.startswith("sqlite:///"):
        sys.exit("--rewarm copies the store first: give a sqlite:/// URL")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store.db"
        shutil.copyfile(store_url.removeprefix("sqlite:///"), copy)
        url = f"sqlite:///{copy}"
        _users(url)
        env = {"WANGGE_DATABASE_URL": url, "WANGGE_RATE_LIMIT_PER_S": "100000",
               "WANGGE_WARM_MAPS": "1", "WANGGE_MAP_TILES": "none"}
        with serve("wangge.api.app:create_app", env, ready_path="/health", settle_s=1.0) as s:
            print(f"  {label} caches warm after {_wait_warm(s.base):.0f} s, service "
                  f"{rss_mib(s.pid):,.0f} MiB", flush=True)
            cookies = _login(s.base, "bench-admin")
            for write in (1, 2):        # twice: what a warm-up replaced is freed
                with httpx.Client(base_url=s.base, cookies=cookies, timeout=600) as client:
                    site = client.get("/v1/sites").json()["features"][write][
                        "properties"]["site_id"]
                    wrote = time.monotonic()
                    client.post(f"/v1/sites/{site}/retire",
                                headers={"X-CSRF-Token": client.cookies.get("wangge_csrf") or ""}
                                ).raise_for_status()
                while httpx.get(s.base + "/health", timeout=10).json()["warm"] != "warming":
                    time.sleep(0.2)
                started = time.monotonic() - wrote
                _wait_warm(s.base)
                done = time.monotonic() - wrote
                print(f"  {label} site {write} retired: warming again after {started:.0f} s, "
                      f"warm {done:.0f} s after the write, service {rss_mib(s.pid):,.0f} MiB",
                      flush=True)
            pages = [Page("overview (grids shaded)", "/maps/overview?tiles=none"),
                     Page("coverage", "/maps/coverage?tiles=none")]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking"])
                for page in pages:
                    _, ms = _measure(browser, s.base, page, {"viewer": _login(s.base,
                                                                              "bench-viewer")},
                                     1, timeout_ms=900_000)
                    print(f"  {label} first {page.name} after the write: {ms:,.0f} ms",
                          flush=True)
                browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", action="append", required=True, metavar="LABEL=URL")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true", help="skip the all-inline peer")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="measure only the pages whose name contains TEXT (repeatable)")
    parser.add_argument("--warm", action="store_true",
                        help="warm the caches at start as `wangge serve` does, then measure")
    parser.add_argument("--rewarm", action="store_true",
                        help="only measure the warm-up after a write (on a copy of each store)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit("Chromium missing: run scripts/setup-browser")
    if args.rewarm:
        for item in args.store:
            label, _, url = item.partition("=")
            rewarm(label, url)
        return
    rows = []
    for item in args.store:
        label, _, url = item.partition("=")
        rows += run(label, url, args.runs, not args.no_peer, args.only, args.warm)
    first = "first load after the start-up warm-up" if args.warm else "first load, caches cold"
    print(f"every page, median of {args.runs} fresh loads, headless Chromium, tiles=none; "
          f"first ms: {first}; weight = bytes downloaded from the service; "
          "target < 3 MB and < 2,000 ms")
    print(f"{'store':<8}{'page':<32}{'MB':>7}{'ms':>8}{'first ms':>10}{'inline MB':>11}"
          f"{'inline ms':>11}{'MB ratio':>10}{'ms ratio':>10}  ok")
    for label, name, size, ms, first_ms, peer_size, peer_ms in rows:
        ok = "yes" if size < 3e6 and ms < 2000 else "NO"
        ratio_mb = f"{peer_size / size:.1f}" if peer_size else "-"
        ratio_ms = f"{peer_ms / ms:.1f}" if peer_size else "-"
        print(f"{label:<8}{name:<32}{size / 1e6:>7.2f}{ms:>8.0f}{first_ms:>10.0f}"
              f"{(peer_size / 1e6 if peer_size else float('nan')):>11.2f}{peer_ms:>11.0f}"
              f"{ratio_mb:>10}{ratio_ms:>10}  {ok}")


if __name__ == "__main__":
    main()
