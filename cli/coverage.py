"""``wangge sites …``: service sites (党群服务中心, 驿站) with their history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wangge.cli.common import (
    console,
    load_settings,
    open_store,
    parse_fields,
    print_list,
    say,
    user_errors,
    when,
)
from wangge.cli.households import _table
from wangge.geo.levels import Level

sites_app = typer.Typer(help="服务阵地：党群服务中心与驿站"
                             " / service sites: centres and stations", no_args_is_help=True)

CrsOpt = Annotated[str, typer.Option(
    "--crs", help="坐标系：WGS-84、CGCS2000、GCJ-02、BD-09…"
                  " / CRS of the coordinates: WGS-84, CGCS2000, GCJ-02, BD-09…")]
SiteId = Annotated[str, typer.Argument(help="站点编号 / site id")]
Lon = Annotated[float, typer.Argument(help="经度（或投影坐标 x）/ longitude (or projected x)")]
Lat = Annotated[float, typer.Argument(help="纬度（或投影坐标 y）/ latitude (or projected y)")]


@sites_app.command("import")
def sites_import(
    file: Annotated[Path, typer.Argument(help="站点表：GeoJSON、CSV 或 Excel（.xlsx）"
                                              "/ site list: GeoJSON, CSV or Excel (.xlsx)")],
    crs: CrsOpt = "WGS-84",
    field: Annotated[list[str] | None, typer.Option("--field", help="列映射 name=名称，可重复"
                                                                    " / column mapping FIELD=COLUMN, e.g."
                                                                    " name=名称; repeatable")] = None,
    update: Annotated[bool, typer.Option(help="只增改列出的站点（默认整表替换，未列出的撤销）"
                                              "/ add and change the listed sites only (default: replace"
                                              " all)")] = False,
) -> None:
    """导入站点表（整表校验，有错则不导入）/ Import a site list."""
    from wangge.sites import import_sites

    with user_errors():
        settings = load_settings()
        result = import_sites(open_store(settings), file, crs=crs, columns=parse_fields(field),
                              replace=not update, limits=settings.table_limits())
    console.print(say(f"站点 {result['sites']} 个：党群服务中心 {result['centres']}，驿站 "
                      f"{result['stations']}；提示 {len(result['warnings'])} 条。",
                      f"{result['sites']} sites: {result['centres']} centres, {result['stations']} "
                      f"stations; {len(result['warnings'])} warnings."))


@sites_app.command("list")
def sites_list(at: Annotated[str | None, typer.Option(help="某一时刻（ISO 8601）在用的站点"
                                                           " / the sites in service at this time (ISO"
                                                           " 8601)")] = None
               ) -> None:
    """列出在用站点 / List the sites in service."""
    from datetime import UTC, datetime

    with user_errors():
        moment = None
        if at:
            moment = datetime.fromisoformat(at)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        sites = open_store(load_settings()).sites(moment)
    kinds = {"centre": say("党群服务中心", "centre"), "station": say("驿站", "station")}
    print_list(say(f"在用站点 {len(sites)} 个" + (f"（{at}）" if at else ""),
                   f"{len(sites)} sites in service" + (f" ({at})" if at else "")),
               [("编号", "id", {"no_wrap": True}), ("类型", "kind", {}), ("名称", "name", {"ratio": 2}),
                ("所属单元", "unit", {}), ("开放时间", "hours", {"ratio": 1}),
                ("经度", "lon", {"justify": "right"}), ("纬度", "lat", {"justify": "right"})],
               [[str(s.site_id), kinds.get(s.kind, s.kind), str(s.name), s.unit_code or "",
                 s.hours or "", f"{s.geometry.x:.6f}", f"{s.geometry.y:.6f}"]
                for s in sites.itertuples(index=False)])


@sites_app.command("add")
def sites_add(site_id: SiteId,
              name: Annotated[str, typer.Argument(help="站点名称 / site name")],
              lon: Lon, lat: Lat,
              kind: Annotated[str, typer.Option(
                  help="类型：centre（中心）或 station（驿站）/ kind: centre or station")] = "station",
              unit: Annotated[str | None, typer.Option(
                  help="所属单元编码 / code of the unit it serves")] = None,
              hours: Annotated[str | None, typer.Option(help="开放时间 / opening hours")] = None,
              crs: CrsOpt = "WGS-84") -> None:
    """新增站点 / Add a site."""
    from wangge.sites import add_site

    with user_errors():
        add_site(open_store(load_settings()), site_id=site_id, kind=kind, name=name, lon=lon,
                 lat=lat, crs=crs, unit_code=unit, hours=hours, source="cli")
    console.print(say(f"已新增站点 {site_id}。", f"Site {site_id} added."))


@sites_app.command("move")
def sites_move(site_id: SiteId, lon: Lon, lat: Lat, crs: CrsOpt = "WGS-84") -> None:
    """迁址（保留历史）/ Move a site (history kept)."""
    from wangge.sites import move_site

    with user_errors():
        move_site(open_store(load_settings()), site_id, lon=lon, lat=lat, crs=crs, source="cli")
    console.print(say(f"站点 {site_id} 已迁址。", f"Site {site_id} moved."))


@sites_app.command("retire")
def sites_retire(site_id: SiteId) -> None:
    """撤销站点（保留历史）/ Retire a site (history kept)."""
    with user_errors():
        open_store(load_settings()).change_site(site_id, source="cli", retire=True)
    console.print(say(f"站点 {site_id} 已撤销。", f"Site {site_id} retired."))


@sites_app.command("history")
def sites_history(site_id: SiteId) -> None:
    """站点的全部版本 / Every version of a site."""
    with user_errors():
        history = open_store(load_settings()).site_history(site_id)
    _table(history, say(f"站点 {site_id} 的历史", f"History of site {site_id}"))


network_app = typer.Typer(help="步行路网：导入、列出 / walking networks: import, list", no_args_is_help=True)
coverage_app = typer.Typer(help="服务圈覆盖"
                                " / coverage of the 5/10/15-minute service"
                                " circles", invoke_without_command=True)


@network_app.command("import")
def network_import(
    file: Annotated[Path, typer.Argument(help="OpenStreetMap .osm.pbf，或线要素 GeoPackage/GeoJSON"
                                              " / OpenStreetMap .osm.pbf, or lines in GeoPackage or"
                                              " GeoJSON")],
    release: Annotated[int | None, typer.Option(help="随哪个版本保存，默认当前版本"
                                                     " / release it belongs to (default: the current"
                                                     " one)")] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="线文件的坐标系（如 GCJ-02）"
                                                          "/ CRS of the lines file (e.g. GCJ-02)")] = None,
) -> None:
    """导入步行路网（保留最大连通部分并报告舍弃的部分）/ Import a walking network."""
    from wangge.coverage import import_network

    with user_errors():
        store = open_store(load_settings())
        rid = store.release_or_current(release).id
        info = import_network(store, file, release_id=rid, crs=crs)
    dropped = info.dropped or {}
    console.print(say(
        f"路网 {info.id}（版本 {rid}）：{info.edge_count} 段，{info.length_m / 1000:.1f} km；舍弃不连通的 "
        f"{dropped.get('components', 0)} 块、{dropped.get('edges', 0)} 段、"
        f"{dropped.get('length_m', 0) / 1000:.1f} km。",
        f"Network {info.id} (release {rid}): {info.edge_count} edges, {info.length_m / 1000:.1f} km; "
        f"dropped {dropped.get('components', 0)} disconnected parts, {dropped.get('edges', 0)} edges, "
        f"{dropped.get('length_m', 0) / 1000:.1f} km."))


@network_app.command("list")
def network_list() -> None:
    """列出全部已导入的路网；服务圈用版本自己的路网，否则用最新的 / Every network imported; coverage
    uses its release's own network, else the newest."""
    with user_errors():
        rows = open_store(load_settings()).networks()
    print_list(say("步行路网", "Walking networks"),
               [("编号", "id", {"justify": "right"}), ("版本", "release", {"justify": "right"}),
                ("来源", "source", {"ratio": 1}), ("导入时间", "imported", {"no_wrap": True}),
                ("路段", "edges", {"justify": "right"}), ("长度 km", "km", {"justify": "right"}),
                ("舍弃路段", "dropped", {"justify": "right"})],
               [[str(n.id), "" if n.release_id is None else str(n.release_id), n.source,
                 when(n.created_at), f"{n.edge_count:,}", f"{n.length_m / 1000:,.1f}",
                 f"{(n.dropped or {}).get('edges', 0):,}"] for n in rows])
    if not rows:
        console.print(say("还没有路网：wangge network import 文件。",
                          "No network yet: wangge network import FILE."))


@coverage_app.callback()
def coverage_cmd(
    ctx: typer.Context,
    level: Annotated[str, typer.Option(help="列出哪一级：street、community、grid、microgrid"
                                            " / level to list: street, community, grid,"
                                            " microgrid")] = "community",
    release: Annotated[int | None, typer.Option(help="版本号，默认当前版本"
                                                     " / release id (default: the current one)")] = None,
) -> None:
    """各单元 5/10/15 分钟服务圈覆盖 / Coverage per unit."""
    if ctx.invoked_subcommand is not None:
        return
    from wangge.coverage import compute

    settings = load_settings()
    with user_errors():
        store = open_store(settings)
        cov = compute(store, store.release_or_current(release).id, settings)
    s = cov.summary()
    shares = "，".join(f"{m} 分钟 {v:.1%}" for m, v in s["share"].items() if v is not None)
    console.print(say(f"方法：{s['method_zh']}；站点 {s['sites']} 个，住户 {s['households']} 户：{shares}；"
                      f"无专职网格员的网格 {s['grids_without_full_time_worker']} 个。",
                      f"Method: {s['method']}; {s['sites']} sites, {s['households']} households: "
                      + ", ".join(f"{m} min {v:.1%}" for m, v in s["share"].items() if v is not None)
                      + f"; grids without a full-time worker: {s['grids_without_full_time_worker']}."))
    table = cov.stats.level(level)
    keep = [c for c in table.columns if c in ("code", "households", "share_5", "share_10",
                                              "share_15", "uncovered", "households_per_worker")]
    _table(table[keep], say(f"各{Level(level).zh}服务圈覆盖", f"Coverage per {level}"))


@coverage_app.command("suggest")
def coverage_suggest(k: Annotated[int, typer.Option("-k", help="新增站点数 / number of new sites")] = 3,
                     minutes: Annotated[float | None, typer.Option(help="分钟数，默认最大服务圈"
                                                                        " / minutes (default: the largest"
                                                                        " circle)")] = None,
                     release: Annotated[int | None, typer.Option(help="版本号 / release id")] = None) -> None:
    """建议新增站点：覆盖最多现未覆盖住户 / Where k new sites would cover most."""
    from wangge.coverage import compute, suggest

    settings = load_settings()
    with user_errors():
        store = open_store(settings)
        cov = compute(store, store.release_or_current(release).id, settings)
        picks = suggest(cov, k=k, minutes=minutes or max(cov.catchments.thresholds_min),
                        settings=settings)
    _table(picks.drop(columns="geometry"), say("建议新增站点", "Suggested new sites"))
