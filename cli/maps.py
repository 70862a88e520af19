"""``wangge map …``: the same map pages the API serves, written to HTML files.

The files link Leaflet from the public CDN unless ``--assets`` names a folder or URL holding
the local copy (``python -m wangge.maps.assets``); the names of grid workers (personal data) appear
only with ``--show-workers``, and that read is written to the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wangge.cli.common import console, load_settings, open_store, say, user_errors

map_app = typer.Typer(help="地图：写成 HTML 文件 / maps written as HTML files", no_args_is_help=True)

Out = Annotated[Path, typer.Option("--out", help="输出的 HTML 文件 / HTML file to write")]
Lang = Annotated[str, typer.Option(help="地图语言 zh 或 en / map language, zh or en")]
Tiles = Annotated[str | None, typer.Option(help="底图：osm、amap、tencent、tianditu、none"
                                                " / base map: osm, amap, tencent, tianditu, none")]
Assets = Annotated[str | None, typer.Option(help="本地 Leaflet 文件的目录或网址（离线）"
                                                 "/ folder or URL of a local Leaflet copy (offline)")]
ReleaseOpt = Annotated[int | None, typer.Option(help="版本号，默认当前版本"
                                                     " / release id (default: the current one)")]


def _options(lang: str, tiles: str | None, assets: str | None):  # noqa: ANN202
    from wangge.map_pages import MapOptions

    settings = load_settings()
    return MapOptions(lang=lang, tiles=tiles or settings.map_tiles,
                      tianditu_key=settings.tianditu_key.get_secret_value() or None,
                      assets=assets)


def _write(m, out: Path) -> None:  # noqa: ANN001
    from wangge.maps.base import render_html

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(m), encoding="utf-8")
    console.print(say(f"地图已写入 {out}", f"Map written to {out}"))


@map_app.command("overview")
def map_overview(
    out: Out = Path("var/maps/overview.html"), lang: Lang = "zh", tiles: Tiles = None,
    assets: Assets = None, release: ReleaseOpt = None,
    shade: Annotated[str, typer.Option(help="着色依据：households、per_worker 或 coverage"
                                            " / shade by households, per_worker or coverage")] = "households",
    level: Annotated[str, typer.Option(help="着色的层级 / level to shade")] = "grid",
    show_workers: Annotated[bool, typer.Option(help="显示网格员姓名（个人信息，记入审计日志）"
                                                    "/ show grid workers' names (personal data;"
                                                    " audited)")] = False,
) -> None:
    """四级边界总览地图 / The overview map."""
    from wangge.map_pages import overview_map

    with user_errors():
        store = open_store(load_settings())
        rid = store.release_or_current(release).id
        if show_workers:
            store.audit("read worker names (overview map file)", key_id=None, role="cli",
                        target=f"release {rid}")
        _write(overview_map(store, rid, _options(lang, tiles, assets), shade=shade, level=level,
                            show_workers=show_workers), out)


@map_app.command("unit")
def map_unit(code: Annotated[str, typer.Argument(help="单元编码 / unit code")],
             out: Out = Path("var/maps/unit.html"), lang: Lang = "zh", tiles: Tiles = None,
             assets: Assets = None, release: ReleaseOpt = None) -> None:
    """一个单元：边界、下级、住户 / One unit with its children and households."""
    from wangge.map_pages import unit_map

    with user_errors():
        store = open_store(load_settings())
        _write(unit_map(store, store.release_or_current(release).id, code,
                        _options(lang, tiles, assets)), out)


@map_app.command("validation")
def map_validation(
    file: Annotated[Path | None, typer.Argument(help="边界文件；省略则画已存储的版本"
                                                     " / boundary file (default: a stored release)")] = None,
    out: Out = Path("var/maps/validation.html"), lang: Lang = "zh", tiles: Tiles = None,
    assets: Assets = None, release: ReleaseOpt = None,
    crs: Annotated[str | None, typer.Option("--crs", help="文件的坐标系 / CRS of the file")] = None,
) -> None:
    """校验问题画在地图上 / The problems of a file or a release, where they are."""
    from wangge.boundaries import check_file
    from wangge.map_pages import validation_map
    from wangge.maps.validation import validation

    settings = load_settings()
    options = _options(lang, tiles, assets)
    with user_errors():
        if file is not None:
            checked = check_file(file, settings.validation_config(), crs=crs)
            m = validation(checked.units, checked.report, lang=options.lang,
                           tiles=options.tiles, tianditu_key=options.tianditu_key,
                           assets=options.assets)
        else:
            store = open_store(settings)
            m = validation_map(store, store.release_or_current(release).id, options,
                               settings.validation_config())
        _write(m, out)
