"""Leaflet and its plugins for the maps, from a public CDN or from a local copy (offline).

folium links its JavaScript and CSS from public CDNs, which an office intranet often cannot
reach. wangge keeps no copy of those files in its repository: :func:`fetch` takes them from the
official npm packages (``npm pack``, which checks the registry's integrity hash) into a cache
folder, once per machine (``python -m wangge.maps.assets [DIR]``), and :func:`use_assets` points a
map at that folder's URL (the API serves it under ``/maps/assets/``) or at the CDN.

Only what the maps use is linked: Leaflet itself, Leaflet.markercluster and Leaflet.heat, and
for the planner's editor (``maps/editor.py``, not a folium map) Leaflet-Geoman free (MIT), which
draws split lines and outlines with snapping to the drawn layers' vertices.
folium's other defaults (jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped: no
wangge map needs them, and each is a request that fails offline.

The API's own documentation pages (Swagger UI at ``/docs``, ReDoc at ``/redoc``) are fetched
into the same folder (:data:`DOCS_ASSETS`): served from it, they work on an intranet too.

A map *file* (``wangge map … --out``) is opened from a disk or a mail, often with no internet:
:func:`inline` puts the local files into the page itself (scripts and styles inline, the images
the styles refer to as ``data:`` URIs), so the file needs nothing but a browser.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import folium
from branca.element import Element

log = logging.getLogger(__name__)

LEAFLET = "1.9.4"            # BSD-2-Clause
MARKERCLUSTER = "1.5.3"      # MIT
GEOMAN = "2.20.2"            # MIT, @geoman-io/leaflet-geoman-free
SWAGGER_UI = "5.35.0"        # Apache-2.0, swagger-ui-dist: the API's /docs
REDOC = "3.0.1"              # MIT: the API's /redoc

# Local layout: <dir>/<package>/<file>; the npm package and the files taken from its dist/.
NPM_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "leaflet": (f"leaflet@{LEAFLET}",
                ("leaflet.js", "leaflet.css", "images/layers.png", "images/layers-2x.png",
                 "images/marker-icon.png", "images/marker-icon-2x.png",
                 "images/marker-shadow.png")),
    "markercluster": (f"leaflet.markercluster@{MARKERCLUSTER}",
                      ("leaflet.markercluster.js", "MarkerCluster.css",
                       "MarkerCluster.Default.css")),
    "geoman": (f"@geoman-io/leaflet-geoman-free@{GEOMAN}",
               ("leaflet-geoman.min.js", "leaflet-geoman.css")),
    "swagger-ui": (f"swagger-ui-dist@{SWAGGER_UI}",
                   ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")),
    "redoc": (f"redoc@{REDOC}", ("redoc.standalone.js",)),
}
# The package folder the files come from, when not dist/.
NPM_SOURCE = {"swagger-ui": ".", "redoc": "bundles"}
# Leaflet.heat (BSD-2-Clause) ships inside the folium wheel itself.
HEAT_FILE = "heat/leaflet-heat.min.js"
_FOLIUM_HEAT = Path(folium.__file__).parent / "templates" / "leaflet_heat.min.js"


@dataclass(frozen=True)
class _Asset:
    local: str  # path under the assets folder
    cdn: str


# folium's names for its links (the first item of its default_js/default_css pairs).
ASSETS: dict[str, _Asset] = {
    "leaflet": _Asset("leaflet/leaflet.js",
                      f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET}/dist/leaflet.js"),
    "leaflet_css": _Asset("leaflet/leaflet.css",
                          f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET}/dist/leaflet.css"),
    "markerclusterjs": _Asset(
        "markercluster/leaflet.markercluster.js",
        f"https://cdn.jsdelivr.net/npm/leaflet.markercluster@{MARKERCLUSTER}/dist/"
        "leaflet.markercluster.js"),
    "markerclustercss": _Asset(
        "markercluster/MarkerCluster.css",
        f"https://cdn.jsdelivr.net/npm/leaflet.markercluster@{MARKERCLUSTER}/dist/MarkerCluster.css"),
    "markerclusterdefaultcss": _Asset(
        "markercluster/MarkerCluster.Default.css",
        f"https://cdn.jsdelivr.net/npm/leaflet.markercluster@{MARKERCLUSTER}/dist/"
        "MarkerCluster.Default.css"),
    "leaflet-heat.js": _Asset(
        HEAT_FILE,
        "https://cdn.jsdelivr.net/gh/python-visualization/folium@v0.20.0/folium/templates/"
        "leaflet_heat.min.js"),
    # not folium's: the editor links these itself (maps/editor.py)
    "geoman_js": _Asset(
        "geoman/leaflet-geoman.min.js",
        f"https://cdn.jsdelivr.net/npm/@geoman-io/leaflet-geoman-free@{GEOMAN}/dist/"
        "leaflet-geoman.min.js"),
    "geoman_css": _Asset(
        "geoman/leaflet-geoman.css",
        f"https://cdn.jsdelivr.net/npm/@geoman-io/leaflet-geoman-free@{GEOMAN}/dist/"
        "leaflet-geoman.css"),
}
# The API's documentation pages (api/app.py): Swagger UI at /docs, ReDoc at /redoc.
DOCS_ASSETS: dict[str, _Asset] = {
    "swagger_js": _Asset(
        "swagger-ui/swagger-ui-bundle.js",
        f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI}/swagger-ui-bundle.js"),
    "swagger_css": _Asset(
        "swagger-ui/swagger-ui.css",
        f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI}/swagger-ui.css"),
    "swagger_favicon": _Asset(
        "swagger-ui/favicon-32x32.png",
        f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI}/favicon-32x32.png"),
    "redoc_js": _Asset(
        "redoc/redoc.standalone.js",
        f"https://cdn.jsdelivr.net/npm/redoc@{REDOC}/bundles/redoc.standalone.js"),
}
_MAP_JS = ("leaflet",)
_MAP_CSS = ("leaflet_css",)


def default_dir() -> Path:
    """Where :func:`fetch` puts the files unless told otherwise.

    ``$WANGGE_MAP_ASSETS`` if set, else ``$XDG_CACHE_HOME/wangge/map-assets`` (``~/.cache``).
    """
    if os.environ.get("WANGGE_MAP_ASSETS"):
        return Path(os.environ["WANGGE_MAP_ASSETS"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "wangge" / "map-assets"


# Each package folder holds the npm spec it was taken from: files of another version (an
# older wangge's cache) count as missing, so an upgrade fetches them again.
STAMP = ".package"


def _current(dest: Path, local: str) -> bool:
    folder = local.split("/")[0]
    if not (dest / local).is_file():
        return False
    if folder not in NPM_FILES:
        return True
    stamp = dest / folder / STAMP
    return stamp.is_file() and stamp.read_text().strip() == NPM_FILES[folder][0]


def missing(dest: Path) -> list[str]:
    """Files the maps link that are not (yet) in ``dest``, or of another version."""
    return [a.local for a in ASSETS.values() if not _current(dest, a.local)]


def docs_missing(dest: Path) -> list[str]:
    """Files the API's /docs and /redoc link that are not (yet) in ``dest``, or of another
    version."""
    return [a.local for a in DOCS_ASSETS.values() if not _current(dest, a.local)]


def fetch(dest: Path | None = None, npm: str = "npm") -> Path:
    """Put Leaflet, its plugins, Leaflet-Geoman, Swagger UI and ReDoc in ``dest``; return ``dest``.

    Uses ``npm pack`` (the npm registry, no Node project needed). Does nothing when every file
    is already there. Raises ``RuntimeError`` with npm's message when npm fails.
    """
    dest = Path(dest) if dest is not None else default_dir()
    if not missing(dest) and not docs_missing(dest):
        return dest
    if shutil.which(npm) is None:
        raise RuntimeError(f"{npm} not found: install Node.js/npm (Debian: apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        specs = [spec for spec, _ in NPM_FILES.values()]
        done = subprocess.run([npm, "pack", *specs, "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"npm pack failed: {done.stderr.strip()[-2000:]}")
        for folder, (spec, files) in NPM_FILES.items():
            name, version = spec.rsplit("@", 1)
            packed = name.removeprefix("@").replace("/", "-")  # npm's file name for a scope
            with tarfile.open(Path(tmp) / f"{packed}-{version}.tgz") as tar:
                tar.extractall(Path(tmp) / folder, filter="data")
            package = Path(tmp) / folder / "package"
            for file in files:
                target = dest / folder / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(package / NPM_SOURCE.get(folder, "dist") / file, target)
            for licence in ("LICENSE", "MIT-LICENCE.txt", "LICENSE.md"):
                if (package / licence).is_file():
                    shutil.copyfile(package / licence, dest / folder / "LICENSE")
            if (package / "NOTICE").is_file():  # Apache-2.0 (Swagger UI): the notice travels too
                shutil.copyfile(package / "NOTICE", dest / folder / "NOTICE")
            (dest / folder / STAMP).write_text(spec + "\n")
    heat = dest / HEAT_FILE
    heat.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_FOLIUM_HEAT, heat)
    if missing(dest) or docs_missing(dest):
        raise RuntimeError(f"files missing after fetch: {missing(dest) + docs_missing(dest)}")
    return dest


def asset_url(name: str, base_url: str | None) -> str:
    """The URL of asset ``name``: under ``base_url`` when given, else the public CDN."""
    asset = ASSETS[name]
    return asset.cdn if base_url is None else f"{base_url.rstrip('/')}/{asset.local}"


def use_assets(m: folium.Map, base_url: str | None = None) -> folium.Map:
    """Point every JS/CSS link of ``m`` and its layers at ``base_url`` (None: the CDN).

    Call once the map is complete, before rendering. The map itself links only Leaflet.
    Raises ``ValueError`` for a link with no known local copy, so a map never silently
    depends on the internet.
    """
    m.default_js = [(n, asset_url(n, base_url)) for n in _MAP_JS]
    m.default_css = [(n, asset_url(n, base_url)) for n in _MAP_CSS]
    stack: list[Element] = list(m._children.values())
    while stack:
        element = stack.pop()
        stack.extend(element._children.values())
        for attr in ("default_js", "default_css"):
            links = getattr(element, attr, None)
            if not links:
                continue
            unknown = [n for n, _ in links if n not in ASSETS]
            if unknown:
                raise ValueError(f"no local copy of map assets {unknown}")
            setattr(element, attr, [(n, asset_url(n, base_url)) for n, _ in links])
    return m


_LINK = re.compile(r'<script src="(?P<js>[^"]+)"></script>'
                   r'|<link rel="stylesheet" href="(?P<css>[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"""url\((?P<q>["']?)(?P<path>[^"')]+)(?P=q)\)""")
# Leaflet finds its default marker images through a CSS rule; inline, they are data: URIs.
_ICON_FIX = ("L.Icon.Default.imagePath = '';\n"
             "L.Icon.Default.mergeOptions({iconUrl: %s, iconRetinaUrl: %s, shadowUrl: %s});")
_warned: set[Path] = set()


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    """A stylesheet with the local files it refers to (images) as data: URIs."""
    def image(match: re.Match[str]) -> str:
        ref = match["path"]
        if ref.startswith(("data:", "#", "%23", "http:", "https:", "//")):
            return match[0]
        target = (path.parent / ref).resolve()
        if not target.is_relative_to(path.parent.resolve()) or not target.is_file():
            return match[0]
        return f'url("{_data_uri(target)}")'

    css = _CSS_URL.sub(image, path.read_text(encoding="utf-8"))
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _inline_js(path: Path) -> str:
    return re.sub(r"</(script)", r"<\\/\1", path.read_text(encoding="utf-8"), flags=re.IGNORECASE)


def inline(page: str, dest: Path | None = None) -> str:
    """``page`` with every public-CDN asset link replaced by the local file's content.

    Links to other places (a local ``--assets`` folder or URL) are left as they are. When a linked
    file is not in ``dest`` (default :func:`default_dir`), the page is returned unchanged (it still
    loads from the CDN when online) and a warning says how to get the files: half-inlined pages
    would fail offline all the same.
    """
    dest = default_dir() if dest is None else Path(dest)
    by_cdn = {a.cdn: a for a in ASSETS.values()}
    linked = [by_cdn[m["js"] or m["css"]] for m in _LINK.finditer(page)
              if (m["js"] or m["css"]) in by_cdn]
    absent = [a.local for a in linked if not (dest / a.local).is_file()]
    if absent:
        if dest not in _warned:
            _warned.add(dest)
            log.warning("地图文件仍从公共 CDN 加载 Leaflet（离线时无法显示）：%s 中缺少 %s；"
                        "请运行 python -m wangge.maps.assets / map file links the public CDN "
                        "(blank offline): %s lacks %s; run python -m wangge.maps.assets",
                        dest, absent, dest, absent)
        return page

    def replace(match: re.Match[str]) -> str:
        url = match["js"] or match["css"]
        asset = by_cdn.get(url)
        if asset is None:
            return match[0]
        path = dest / asset.local
        if match["css"]:
            return f"<style>{_inline_css(path)}</style>"
        script = f"<script>{_inline_js(path)}</script>"
        images = [path.parent / "images" / name
                  for name in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")]
        if asset is ASSETS["leaflet"] and all(i.is_file() for i in images):
            script += ("\n<script>" + _ICON_FIX % tuple(f"'{_data_uri(i)}'" for i in images)
                       + "</script>")
        return script

    return _LINK.sub(replace, page)


def main(argv: list[str] | None = None) -> int:
    """``python -m wangge.maps.assets [DIR]``: fetch the assets (a setup step); print the folder."""
    args = sys.argv[1:] if argv is None else argv
    try:
        dest = fetch(Path(args[0]) if args else None)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(dest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
