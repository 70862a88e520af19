"""Benchmark: the overview map of the demo district — HTML size and render time in Chromium.

Usage:
    .venv/bin/python benchmarks/maps_render.py [--runs N]

Needs Debian's Chromium (scripts/setup-browser) and the local Leaflet files
(``python -m wangge.maps.assets``, which fetches them with npm once). Offline: no tiles (``none``),
Leaflet served from a loopback ``http.server``, every other request aborted.

Compared:
- wangge: ``wangge.maps.overview.overview(demo, counts, link=...)`` — four levels, coverage-simplified
  and rounded, canvas renderer, the grid level shaded, streets outlined (the other two levels
  listed in the layer control, off);
- wangge, all levels on: the same page, then every level switched on (time to draw them all);
- naive peer: what one writes first with folium — one ``folium.GeoJson`` of the same units
  (every column, full coordinates, SVG renderer) with a code/name tooltip, all shown.

Render time is from navigation start to the second animation frame after the ``load`` event
(folium's inline script has built every layer by ``load``; the renderer draws on the next
frame), median of ``--runs`` fresh pages. Size is the HTML as served (Leaflet not counted).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import tempfile
import threading
from pathlib import Path
from typing import Any

import folium
import numpy as np

from wangge.demo.district import build_demo
from wangge.maps.assets import fetch, use_assets
from wangge.maps.overview import UnitCounts, overview

READY_JS = """
() => new Promise(resolve => {
  const done = () => requestAnimationFrame(() => requestAnimationFrame(
    () => resolve(performance.now())));
  if (document.readyState === "complete") { done(); } else { window.addEventListener("load", done); }
})
"""
ALL_ON_JS = """
() => new Promise(resolve => {
  const map = window[document.querySelector('.folium-map').id];
  const t0 = performance.now();
  document.querySelectorAll('.leaflet-control-layers-overlays input').forEach(i => {
    if (!i.checked) i.click(); });
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
})
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


def _pages(root: Path) -> dict[str, int]:
    demo = build_demo()
    rng = np.random.default_rng(0)
    micro = demo[demo["level"] == "microgrid"]["code"]
    counts = {c: UnitCounts(households=int(rng.integers(20, 90)), covered=int(rng.integers(0, 20)))
              for c in micro}
    ours = overview(demo, counts, link=lambda c: f"/maps/unit/{c}", tiles="none",
                    assets="/assets").get_root().render()
    naive_map = folium.Map(tiles=None)
    frame = demo.copy()
    frame["attrs"] = frame["attrs"].astype(str)
    folium.GeoJson(frame, tooltip=folium.GeoJsonTooltip(["code", "name"])).add_to(naive_map)
    naive_map.fit_bounds([[frame.total_bounds[1], frame.total_bounds[0]],
                          [frame.total_bounds[3], frame.total_bounds[2]]])
    naive = use_assets(naive_map, "/assets").get_root().render()
    sizes = {}
    for name, html in (("wangge", ours), ("naive", naive)):
        (root / f"{name}.html").write_text(html, encoding="utf-8")
        sizes[name] = len(html.encode("utf-8"))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "assets").symlink_to(fetch(), target_is_directory=True)
        sizes = _pages(root)
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        times: dict[str, list[float]] = {"wangge": [], "naive": [], "wangge_all_on": []}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for _ in range(args.runs):
                for name in ("wangge", "naive"):
                    page = browser.new_page(viewport={"width": 1200, "height": 800})
                    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base)
                               else r.abort())
                    page.goto(f"{base}/{name}.html", wait_until="commit")
                    times[name].append(page.evaluate(READY_JS))
                    if name == "wangge":
                        times["wangge_all_on"].append(times[name][-1] + page.evaluate(ALL_ON_JS))
                    page.close()
            browser.close()
        server.shutdown()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"overview of the demo district (2,367 units), median of {args.runs} runs, Chromium headless")
    print(f"{'page':<24}{'HTML MB':>10}{'ready ms':>10}")
    print(f"{'wangge (default view)':<24}{sizes['wangge'] / 1e6:>10.2f}{med['wangge']:>10.0f}")
    print(f"{'wangge (all levels on)':<24}{sizes['wangge'] / 1e6:>10.2f}{med['wangge_all_on']:>10.0f}")
    print(f"{'naive folium GeoJson':<24}{sizes['naive'] / 1e6:>10.2f}{med['naive']:>10.0f}")
    print(f"size ratio naive/wangge: {sizes['naive'] / sizes['wangge']:.2f}; "
          f"time ratio naive/wangge: {med['naive'] / med['wangge']:.2f} (default view), "
          f"{med['naive'] / med['wangge_all_on']:.2f} (all levels on)")


if __name__ == "__main__":
    main()
