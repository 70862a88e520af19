"""The ``wangge`` command line: import, validate, export boundaries; build the demo; serve the API.

Messages are in Simplified Chinese; ``--lang en`` (or WANGGE_LANGUAGE=en) switches to English.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wangge.cli.access import keys_app, workers_app
from wangge.cli.common import (
    STATE,
    Stages,
    console,
    load_settings,
    open_store,
    parse_day,
    parse_fields,
    print_findings,
    print_summary,
    say,
    step,
    use_language,
    user_errors,
)
from wangge.cli.coverage import coverage_app, network_app, sites_app
from wangge.cli.households import REGISTER_WEIGHTS, gazetteer_app, households_app
from wangge.cli.maps import map_app
from wangge.cli.plans import plans_app
from wangge.cli.review import households_review  # noqa: F401  (registers review, resolve)
from wangge.cli.users import users_app
from wangge.settings import Settings

app = typer.Typer(help="wangge 网格：社区网格边界的导入、校验、存储与服务"
                       " / wangge: community grid boundaries imported, validated, stored and"
                       " served.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(households_app, name="households")
app.add_typer(gazetteer_app, name="gazetteer")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(workers_app, name="workers")
app.add_typer(map_app, name="map")
app.add_typer(sites_app, name="sites")
app.add_typer(network_app, name="network")
app.add_typer(coverage_app, name="coverage")
app.add_typer(plans_app, name="plans")


@app.callback()
def _main(ctx: typer.Context,
          lang: Annotated[str | None, typer.Option(
              help="界面语言 zh 或 en（默认 WANGGE_LANGUAGE）/ language, zh or en "
                   "(default: WANGGE_LANGUAGE)")] = None) -> None:
    STATE["lang"] = lang or Settings().language
    use_language(ctx.command, STATE["lang"])  # `wangge --lang en import --help` in English


CrsOpt = Annotated[str | None, typer.Option("--crs", help="源坐标系，如 EPSG:4490、4549、GCJ-02、BD-09"
                                                          " / source CRS, e.g. EPSG:4490, 4549, GCJ-02,"
                                                          " BD-09")]
FieldOpt = Annotated[list[str] | None, typer.Option("--field", help="字段映射 code=编码字段，可重复"
                                                                    " / field mapping TARGET=SOURCE, e.g."
                                                                    " code=WGBM; repeatable")]
LevelOpt = Annotated[str | None, typer.Option("--level", help="整个文件的层级（文件无层级字段时）"
                                                              "/ level of every unit in the file (when it"
                                                              " has no level field)")]
RepairOpt = Annotated[bool, typer.Option("--repair", help="修复无效几何并消除低于容差的空隙和重叠"
                                                          " / repair invalid geometry and close gaps and"
                                                          " overlaps below the tolerance")]


def print_changes(changes: list) -> None:
    """One line per repair made (with the unit's area before -> after) or refused."""
    for c in changes:
        if c.refused:  # the message names the unit, the rule, where and the areas
            console.print(f"[red]{escape(say(c.action_zh, c.action_en))}[/red]")
            continue
        areas = ""
        if c.area_before_m2 is not None and c.area_after_m2 is not None:
            pct = f"{c.change_pct:+.2f}%"
            areas = say(f"（面积 {c.area_before_m2:.2f} → {c.area_after_m2:.2f} 平方米，{pct}）",
                        f" (area {c.area_before_m2:.2f} -> {c.area_after_m2:.2f} m², {pct})")
        console.print(f"[cyan]{say('修复', 'repair')}[/cyan] {', '.join(c.codes)}: "
                      f"{escape(say(c.action_zh, c.action_en))}{areas}")


@app.command("validate")
def validate_cmd(
    file: Annotated[Path | None, typer.Argument(help="边界文件：GeoJSON、GeoPackage 或 zip 压缩的 Shapefile"
                                                     " / boundary file: GeoJSON, GeoPackage or zipped"
                                                     " Shapefile")] = None,
    release: Annotated[int | None, typer.Option(help="校验已存储的版本（代替文件）"
                                                     "/ validate a stored release instead of a file")] = None,
    crs: CrsOpt = None, field: FieldOpt = None, level: LevelOpt = None, repair: RepairOpt = False,
    extent: Annotated[Path | None, typer.Option(help="区县边界文件：检查街道是否覆盖全区"
                                                     " / district boundary file: check that the streets"
                                                     " cover it")] = None,
    extent_crs: Annotated[str | None, typer.Option(help="区县边界文件的坐标系（如 GCJ-02）"
                                                        "/ CRS of the district boundary file (e.g."
                                                        " GCJ-02)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="把报告写成 JSON 文件"
                                                                 " / write the report to this JSON"
                                                                 " file")] = None,
) -> None:
    """校验边界文件或已存储的版本，一次列出全部问题 / Validate a file or a stored release."""
    from wangge.geo.boundaries.validate import validate

    settings = load_settings()
    config = settings.validation_config()
    with user_errors():
        if release is None and file is None:
            raise typer.BadParameter(say("请给出文件或 --release", "give a FILE or --release"))
        weights = [*([EXTENT_WEIGHT] if extent is not None else []),
                   *(CHECK_WEIGHTS if release is None else RELEASE_CHECK_WEIGHTS)]
        if repair and release is None:
            weights.insert(-1, REPAIR_WEIGHT)
        with Stages(weights) as stages:
            extent_geom = _read_extent(stages, extent, extent_crs)
            if release is not None:
                with stages.stage(f"读取版本 {release}…", f"Reading release {release}…"):
                    units = open_store(settings).units(release)
                    stages.did(f"读取版本 {release} 的 {len(units):,} 个单元",
                               f"read the {len(units):,} units of release {release}")
                with stages.stage("校验…", "Validating…"):
                    report = validate(units, config, extent=extent_geom)
                    _did_validate(stages, report)
                payload = report.as_dict()
                changes: list = []
                name_zh, name_en = f"校验版本 {release} 的", f"release {release}"
            else:
                checked = _check_in_stages(stages, file, config, crs=crs, fields=parse_fields(field),
                                           level=level, do_repair=repair, extent=extent_geom)
                report, changes = checked.report, checked.changes
                payload = checked.as_dict()
                name_zh, name_en = f"校验 {file.name} 的", file.name
    print_changes(changes)
    if report.findings:
        print_findings([f.as_dict(with_geometry=False) for f in report.findings])
    print_summary(report)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    stages.finish(f"{name_zh} {report.unit_count:,} 个单元（{len(report.errors):,} 个错误，"
                  f"{len(report.warnings):,} 个警告）",
                  f"validated {name_en}, {report.unit_count:,} units ({len(report.errors):,} errors, "
                  f"{len(report.warnings):,} warnings)")
    raise typer.Exit(0 if report.ok else 1)


# Shares of the time of the stages of validate and import, measured on the demo's boundaries
# (2,367 units: read 0.18 s, validate 0.14 s, store 0.17 s); they make the estimate of the time
# left. A repair and a district extent, when asked for, add their own stage.
CHECK_WEIGHTS = (0.55, 0.45)              # read the file, validate
RELEASE_CHECK_WEIGHTS = (0.4, 0.6)        # read the release from the store, validate
IMPORT_WEIGHTS = (0.35, 0.3, 0.35)        # read the file, validate, store
REPAIR_WEIGHT = 0.4
EXTENT_WEIGHT = 0.05


def _read_extent(stages: Stages, extent: Path | None, extent_crs: str | None):  # noqa: ANN202
    """The district boundary of ``--extent`` as its own stage (None without one)."""
    from wangge.geo.io.boundaries import read_extent

    if extent is None:
        return None
    with stages.stage(f"读取区县边界 {extent.name}…", f"Reading the district boundary {extent.name}…"):
        return read_extent(extent, crs=extent_crs)


def _did_validate(stages: Stages, report) -> None:  # noqa: ANN001
    stages.did(f"校验 {report.unit_count:,} 个单元：{len(report.errors):,} 个错误，"
               f"{len(report.warnings):,} 个警告",
               f"validated {report.unit_count:,} units: {len(report.errors):,} errors, "
               f"{len(report.warnings):,} warnings")


def _check_in_stages(stages: Stages, file: Path, config, *, crs: str | None,  # noqa: ANN001
                     fields: dict[str, str], level: str | None, do_repair: bool,
                     extent: object | None):  # noqa: ANN202
    """:func:`wangge.boundaries.check_file` with each of its steps (read, repair if asked,
    validate) shown as a stage."""
    from contextlib import contextmanager

    from wangge.boundaries import check_file

    titles = {"read": (f"读取 {file.name}…", f"Reading {file.name}…"),
              "repair": ("修复几何、空隙和重叠…", "Repairing geometry, gaps and overlaps…"),
              "validate": ("校验…", "Validating…")}

    def did(name: str, result) -> None:  # noqa: ANN001
        if name == "read":
            stages.did(f"读取 {len(result.frame):,} 个单元（{result.source_crs}）",
                       f"read {len(result.frame):,} units ({result.source_crs})")
        elif name == "repair":
            refused = sum(1 for c in result if c.refused)
            stages.did(f"修复 {len(result) - refused:,} 处，拒绝 {refused:,} 处",
                       f"made {len(result) - refused:,} repairs, refused {refused:,}")
        else:
            _did_validate(stages, result)

    @contextmanager
    def step(name: str):  # noqa: ANN202
        with stages.stage(*titles[name]):
            yield lambda result: did(name, result)

    return check_file(file, config, crs=crs, fields=fields, level=level, do_repair=do_repair,
                      extent=extent, step=step)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="边界文件：GeoJSON、GeoPackage 或 zip 压缩的 Shapefile"
                                              " / boundary file: GeoJSON, GeoPackage or zipped Shapefile")],
    crs: CrsOpt = None, field: FieldOpt = None, level: LevelOpt = None, repair: RepairOpt = False,
    draft: Annotated[bool, typer.Option("--draft", help="存为草稿（有错误也保存），不设为当前版本"
                                                        " / store as a draft (even with errors), not"
                                                        " current")] = False,
    effective_date: Annotated[str | None, typer.Option(
        help="生效日期 YYYY-MM-DD（中国日期），默认今天；将来的日期则定时生效"
             " / effective date YYYY-MM-DD, China time (default: today; later: scheduled)")] = None,
    note: Annotated[str | None, typer.Option(help="版本说明 / a note on the release")] = None,
) -> None:
    """导入边界文件为新版本 / Import a boundary file as a new release."""
    from wangge.boundaries import store_checked

    settings = load_settings()
    weights = list(IMPORT_WEIGHTS)
    if repair:
        weights.insert(1, REPAIR_WEIGHT)
    checked = None
    with user_errors():
        day = parse_day(effective_date)
        try:
            with Stages(weights) as stages:
                checked = _check_in_stages(stages, file, settings.validation_config(), crs=crs,
                                           fields=parse_fields(field), level=level,
                                           do_repair=repair, extent=None)
                with stages.stage("写入数据库…", "Writing to the store…"):
                    info = store_checked(open_store(settings), checked, source=str(file),
                                         make_current=not draft, effective_date=day, note=note)
                    stages.did(f"写入版本 {info.id}（{info.unit_count:,} 个单元）",
                               f"stored release {info.id} ({info.unit_count:,} units)")
        finally:  # the repairs made, before the reason an import was refused
            if checked is not None:
                print_changes(checked.changes)
    if checked.report.findings:
        print_findings([f.as_dict(with_geometry=False) for f in checked.report.findings])
    print_summary(checked.report)
    state = {"current": say("当前版本", "current"),
             "scheduled": say(f"{info.effective_date} 起生效", f"in force from {info.effective_date}"),
             }.get(info.state, say("草稿", "draft"))
    console.print(say(f"已导入版本 {info.id}（{state}），{info.unit_count} 个单元。",
                      f"Imported release {info.id} ({state}), {info.unit_count} units."))
    stages.finish(f"导入 {file.name} 为版本 {info.id}（{state}），{info.unit_count:,} 个单元，"
                  f"{len(checked.report.warnings):,} 个警告",
                  f"imported {file.name} as release {info.id} ({state}), {info.unit_count:,} "
                  f"units, {len(checked.report.warnings):,} warnings")


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Argument(help="输出文件 .geojson 或 .gpkg / output file, .geojson or .gpkg")],
    release: Annotated[int | None, typer.Option(help="版本号，默认当前版本 / release id "
                                                     "(default: the current one)")] = None,
    level: Annotated[str | None, typer.Option(
        "--level", help="只导出一个层级（街道/社区/网格/微网格）/ export one level only: street, community,"
                         " grid or microgrid")] = None,
    crs: Annotated[str, typer.Option(
        "--crs", help="输出坐标系：EPSG:4490（默认）、4326、OGC:CRS84、高斯-克吕格如 4549、GCJ-02、BD-09"
                      " / output CRS: EPSG:4490 (default), 4326, OGC:CRS84, Gauss-Krüger such as"
                      " 4549, GCJ-02, BD-09")] = "EPSG:4490",
    fields: Annotated[str, typer.Option(
        "--fields", help="字段名：en（code, name…）或 zh（编码、名称、层级、上级编码）"
                         " / field names: en (code, name, level, parent_code) or zh (in Chinese)")] = "en",
) -> None:
    """导出某版本（某层级）的边界；GeoPackage 每个层级一个图层 / Export a release (or one level).

    GCJ-02/BD-09 没有 EPSG 代码：GeoPackage 声明名为 GCJ-02 的自定义坐标系，GeoJSON 不声明坐标系。
    / GCJ-02 and BD-09 have no EPSG code: a GeoPackage declares a user-defined CRS of that name, a
    GeoJSON declares no CRS.
    """
    from wangge.geo.crs import parse_crs
    from wangge.geo.errors import NotFound
    from wangge.geo.io.boundaries import export_units
    from wangge.geo.levels import parse_level

    settings = load_settings()
    with user_errors():
        store = open_store(settings)
        rid = store.release_or_current(release).id
        lv = parse_level(level) if level else None
        if level and lv is None:
            raise typer.BadParameter(say(f"无法识别的层级 {level}", f"unknown level {level}"))
        units = store.units(rid, level=lv.value if lv else None)
        if len(units) == 0:
            raise NotFound(f"版本 {rid} 没有符合条件的单元。", f"Release {rid} has no such units.")
        with step(say("写出文件…", "Writing…")):
            layers = export_units(units, out, crs=crs, fields=fields)
    shown = "、".join(layers) if out.suffix.lower() == ".gpkg" else ""
    console.print(say(f"已导出 {len(units)} 个单元到 {out}（{crs}{'；图层 ' + shown if shown else ''}）。",
                      f"Exported {len(units)} units to {out} ({crs}"
                      f"{'; layers ' + ', '.join(layers) if shown else ''})."))
    if parse_crs(crs).offset is not None and out.suffix.lower() != ".gpkg":
        console.print(say("注意：GeoJSON 无法声明 GCJ-02/BD-09，文件未声明坐标系（wangge 能识别并读回；"
                          "在其他软件中请手动指定，切勿当作 WGS-84）。",
                          "Note: GeoJSON cannot declare GCJ-02/BD-09; the file declares no CRS "
                          "(wangge reads it back; elsewhere set it by hand, never as WGS-84)."))


@app.command("releases")
def releases_cmd() -> None:
    """列出全部版本（历史）/ List all releases."""
    settings = load_settings()
    with user_errors():
        store = open_store(settings)
        rows = store.releases()
    table = Table(title=say("边界版本", "Boundary releases"))
    for col in ("id", say("状态", "state"), say("生效日期", "effective"), say("单元", "units"),
                say("错误", "errors"), say("警告", "warnings"), say("来源", "source")):
        table.add_column(col)
    states = {"current": say("当前", "current"), "scheduled": say("待生效", "scheduled"),
              "published": say("已发布", "published"), "draft": say("草稿", "draft")}
    for r in rows:
        table.add_row(str(r.id), states[r.state], str(r.effective_date), str(r.unit_count),
                      str(r.error_count), str(r.warning_count), r.source)
    console.print(table)


@app.command("publish")
def publish_cmd(
    release: Annotated[int, typer.Argument(help="版本号 / release id")],
    effective_date: Annotated[str | None, typer.Option(
        help="生效日期 YYYY-MM-DD（中国日期），默认为版本自己的；将来的日期则定时生效"
             " / effective date YYYY-MM-DD, China time (default: the release's own; later: "
             "scheduled)")] = None,
) -> None:
    """发布某版本：立即生效或定时生效（有错误则拒绝）/ Publish a release, now or on a future date."""
    from wangge.boundaries import publish

    settings = load_settings()
    with user_errors():
        day = parse_day(effective_date)
        store = open_store(settings)
        info = publish(store, release, day)
        current = store.current_release_id()
    if info.scheduled:
        until = say("在此之前没有当前版本", "until then no release is in force") if current is None \
            else say(f"在此之前当前版本仍为 {current}", f"until then release {current} stays current")
        console.print(say(f"版本 {info.id} 已发布，将于 {info.effective_date} 零点（北京时间）起生效；"
                          f"{until}。",
                          f"Release {info.id} is published and comes into force on "
                          f"{info.effective_date} (00:00 China time); {until}."))
    else:
        console.print(say(f"版本 {info.id} 已设为当前版本。", f"Release {info.id} is now current."))


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="演示数据输出目录"
                                           " / folder for the demo files")] = Path("var/demo"),
    serve: Annotated[bool, typer.Option(help="完成后启动 API 服务 / start the API when done")] = False,
    port: Annotated[int, typer.Option(help="API 服务端口（--serve 时）/ API port (with --serve)")] = 8000,
    households: Annotated[int, typer.Option(help="演示住户数（0 表示不生成）"
                                                 "/ households in the demo register (0: none)")] = 130_000,
    scale: Annotated[int, typer.Option(
        min=1, max=20, help="放大倍数：单元、住户和站点数乘以该数（压力测试用的“城市”）"
                            " / multiply units, households and sites (a city for load tests)")] = 1,
) -> None:
    """生成亭湖区演示数据（含有错误的版本），校验并导入为当前版本 / Build and load the demo district."""
    from wangge.boundaries import check_file, store_checked
    from wangge.demo.district import build_broken, build_demo, district_boundary
    from wangge.geo.boundaries.validate import validate
    from wangge.geo.io.boundaries import write_units

    settings = load_settings()
    config = settings.validation_config()
    with user_errors(), Stages(_demo_weights(households)) as stages:
        with stages.stage("在亭湖区真实边界内生成街道、社区、网格、微网格…",
                          "Generating streets, communities, grids, micro-grids in Tinghu…"):
            district = district_boundary()
            units = build_demo(district, n_streets=7 * scale, n_communities=70 * scale,
                               n_grids=314 * scale, n_microgrids=1976 * scale)
            broken, planted = build_broken(units)
            good_path = write_units(units, out / "tinghu_demo.gpkg")
            broken_path = write_units(broken, out / "tinghu_demo_broken.gpkg")
            stages.did(f"生成 {len(units):,} 个单元", f"generated {len(units):,} units")
        counts = units["level"].value_counts()
        console.print(say(
            f"演示区：{counts.get('street', 0)} 个街道、{counts.get('community', 0)} 个社区、"
            f"{counts.get('grid', 0)} 个网格、{counts.get('microgrid', 0)} 个微网格 → {good_path}",
            f"Demo: {counts.get('street', 0)} streets, {counts.get('community', 0)} communities, "
            f"{counts.get('grid', 0)} grids, {counts.get('microgrid', 0)} micro-grids -> {good_path}"))
        with stages.stage("校验并导入为当前版本…", "Validating and importing as the current release…"):
            checked = check_file(good_path, config, extent=district)
            store = open_store(settings)
            info = store_checked(store, checked, source="wangge demo (亭湖区 320902)",
                                 make_current=True, note=say("演示数据", "demo data"))
            stages.did(f"校验并导入版本 {info.id}（{info.unit_count:,} 个单元）",
                       f"validated and imported release {info.id} ({info.unit_count:,} units)")
        print_summary(checked.report)
        console.print(say(f"已导入为版本 {info.id}（当前版本），数据库：{store.url}",
                          f"Imported as release {info.id} (current), store: {store.url}"))
        with stages.stage("校验含有错误的版本…", "Validating the broken variant…"):
            broken_report = validate(broken, config)
            stages.did(f"含有错误的版本：{len(broken_report.findings)} 个问题",
                       f"broken variant: {len(broken_report.findings)} problems")
        console.print(say(f"\n含有错误的版本（{len(planted)} 处预埋问题）→ {broken_path}：",
                          f"\nBroken variant ({len(planted)} planted problems) -> {broken_path}:"))
        print_findings([f.as_dict(with_geometry=False) for f in broken_report.findings])
        print_summary(broken_report)
        households *= scale
        reg = _demo_households(stages, store, units, out, households) if households else None
        _demo_access(stages, store, units)
        _demo_coverage(stages, store, units, reg, info.id, out, scale)
    stages.finish(f"演示区 {len(units):,} 个单元、{households:,} 户，版本 {info.id}",
                  f"demo district of {len(units):,} units and {households:,} households, "
                  f"release {info.id}")
    if serve:
        import os

        # The local demo answers callers without a key as viewers, so its pages open in a
        # browser as they are; a real deployment leaves WANGGE_ANONYMOUS_ROLE empty.
        os.environ.setdefault("WANGGE_ANONYMOUS_ROLE", "viewer")
        console.print(say("演示服务：无密钥的访问按“查看者”角色处理（仅限本机演示）。",
                          "Demo server: callers without a key are viewers (local demo only)."))
        _serve(settings, "127.0.0.1", port, 1)


# Shares of the demo's time by stage (measured with 130,000 households, 28 s in all): the
# district, its validation and import, the broken variant, the register and gazetteer, the
# register's import (read, compare, locate, store, assign), workers, network and sites, coverage.
_DEMO_WEIGHTS = (0.07, 0.02, 0.005, 0.15, *(w * 0.57 for w in REGISTER_WEIGHTS), 0.005, 0.08, 0.1)


def _demo_weights(households: int) -> tuple[float, ...]:
    """The stages of ``wangge demo`` as it will run (no register: no register stages, no
    coverage)."""
    if households:
        return _DEMO_WEIGHTS
    return (*_DEMO_WEIGHTS[:3], *_DEMO_WEIGHTS[-3:-1])


def _demo_coverage(stages: Stages, store, units, reg, release_id: int,  # noqa: ANN001
                   out: Path, scale: int = 1) -> None:
    """A street network that looks like a Chinese city, about 70 centres and 240 stations (each
    times ``scale``, with real gaps), then the coverage they give."""
    import pyogrio

    from wangge.coverage import compute, store_network
    from wangge.demo.network import build_demo_network
    from wangge.demo.sites import N_STATIONS, build_demo_sites

    with stages.stage("生成步行路网和服务站点…", "Generating the walking network and service sites…"):
        net = store_network(store, build_demo_network(units), release_id=release_id,
                            source="wangge demo network")
        sites = build_demo_sites(units, reg, n_stations=N_STATIONS * scale)
        pyogrio.write_dataframe(sites, out / "sites.geojson")
        store.import_sites(sites, source="wangge demo")
        stages.did(f"路网 {net.edge_count:,} 段，站点 {len(sites):,} 个",
                   f"network of {net.edge_count:,} edges, {len(sites):,} sites")
    kinds = sites["kind"].value_counts()
    console.print(say(f"路网 {net.edge_count} 段、{net.length_m / 1000:.0f} km；站点：党群服务中心 "
                      f"{kinds.get('centre', 0)} 个、驿站 {kinds.get('station', 0)} 个",
                      f"Network: {net.edge_count} edges, {net.length_m / 1000:.0f} km; sites: "
                      f"{kinds.get('centre', 0)} centres, {kinds.get('station', 0)} stations"))
    if reg is None:
        return
    with stages.stage("计算 5/10/15 分钟服务圈…", "Computing the 5/10/15-minute circles…"):
        summary = compute(store, release_id, load_settings()).summary()
        stages.did(f"计算 {summary['households']:,} 户的服务圈覆盖",
                   f"computed the coverage of {summary['households']:,} households")
    shares = "，".join(f"{m} 分钟 {v:.1%}" for m, v in summary["share"].items() if v is not None)
    console.print(say(f"服务圈覆盖（路网步行）：{shares}；无专职网格员的网格 "
                      f"{summary['grids_without_full_time_worker']} 个。",
                      "Coverage (walking on the network): " + ", ".join(
                          f"{m} min {v:.1%}" for m, v in summary["share"].items() if v is not None)
                      + f"; grids without a full-time worker: "
                        f"{summary['grids_without_full_time_worker']}."))


DEMO_ACCOUNT = "demo"  # the demo's browser login, an admin; its password is printed once


def _demo_access(stages: Stages, store, units) -> None:  # noqa: ANN001
    """The demo's grid workers, an admin key and an admin login, printed once."""
    import secrets

    from wangge.demo.workers import build_workers

    with stages.stage("生成网格员名册、管理员密钥和登录账户…",
                      "Making the workers' roster, an admin key and a login…"):
        workers, personal = build_workers(units)
        store.replace_workers(workers, personal)
        _, key = store.create_key("demo admin", "admin")
        password = secrets.token_urlsafe(12)
        if store.has_user(DEMO_ACCOUNT):   # the demo run again on the same store
            store.set_password(DEMO_ACCOUNT, password)
            store.set_user_role(DEMO_ACCOUNT, "admin")
        else:
            store.create_user(DEMO_ACCOUNT, "admin", password)
        stages.did(f"网格员 {len(workers):,} 人，管理员密钥 1 个，登录账户 {DEMO_ACCOUNT}",
                   f"{len(workers):,} grid workers, 1 admin key, login {DEMO_ACCOUNT}")
    console.print(say(f"网格员 {len(workers)} 人（专职 {int(workers['full_time'].sum())}）。管理员密钥"
                      "（请求头 X-API-Key，只显示这一次）：",
                      f"{len(workers)} grid workers ({int(workers['full_time'].sum())} full-time). "
                      "Admin key (header X-API-Key, shown only this once):"))
    console.print(key, markup=False, highlight=False)
    console.print(say(f"浏览器登录（/login）：账户 {DEMO_ACCOUNT}，密码（只显示这一次）：",
                      f"Browser login (/login): account {DEMO_ACCOUNT}, password (shown only "
                      "this once):"))
    console.print(password, markup=False, highlight=False)


def _demo_households(stages: Stages, store, units, out: Path, count: int):  # noqa: ANN001, ANN202
    """Compounds, buildings and a messy register for the demo; imported like a user would."""
    import pyogrio

    from wangge.cli.households import print_assignment, register_progress
    from wangge.demo.register import build_register
    from wangge.households import import_register

    with stages.stage(f"生成小区、楼栋和 {count:,} 户住户名册…",
                      f"Generating compounds, buildings and a register of {count:,} households…"):
        reg = build_register(units, n_households=count)
        pyogrio.write_dataframe(reg.compounds, out / "compounds.geojson")
        pyogrio.write_dataframe(reg.buildings, out / "buildings.geojson")
        register = out / "households.csv"
        reg.households.to_csv(register, index=False, encoding="utf-8-sig")
        reg.truth.to_csv(out / "households_truth.csv", index=False, encoding="utf-8-sig")
        gaz = store.create_gazetteer(reg.compounds, reg.buildings, source="wangge demo")
        stages.did(f"生成 {count:,} 户名册、{len(reg.buildings):,} 栋楼",
                   f"generated a register of {count:,} households, {len(reg.buildings):,} buildings")
    console.print(say(f"地名地址库 {gaz.id}：{gaz.compound_count} 个小区/村组，"
                      f"{gaz.building_count} 栋楼/户。",
                      f"Gazetteer {gaz.id}: {gaz.compound_count} compounds and village groups, "
                      f"{gaz.building_count} buildings and houses."))
    settings = load_settings()
    stages.begin(f"读取住户名册 {register}…", f"Reading the register {register}…")
    result = import_register(store, register, match_config=settings.match_config(),
                             limits=settings.table_limits(), progress=register_progress(stages))
    loc = result.located
    console.print(say(
        f"住户名册 → {register}：{result.imported} 户；按坐标定位 {loc['coordinates']}，按地址 "
        f"{loc['address']}，无法定位 {loc['unlocated']}，需核查 {loc['flagged']}。",
        f"Register -> {register}: {result.imported} households; by coordinates "
        f"{loc['coordinates']}, by address {loc['address']}, unlocated {loc['unlocated']}, "
        f"flagged {loc['flagged']}."))
    if result.assignment:
        print_assignment(result.assignment)
    return reg


@app.command("serve")
def serve_cmd(host: Annotated[str, typer.Option(help="监听地址 / address to listen on")] = "127.0.0.1",
              port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
              workers: Annotated[int, typer.Option(help="服务进程数"
                                                        " / number of server processes")] = 1) -> None:
    """启动 API 服务 / Start the HTTP API."""
    _serve(load_settings(), host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import os

    import uvicorn

    os.environ["WANGGE_WORKERS"] = str(workers)  # each process takes its share of the rate limit
    os.environ.setdefault("WANGGE_WARM_MAPS", "1")  # maps of the current release ready early
    console.print(say(f"API 服务：http://{host}:{port}/docs", f"API at http://{host}:{port}/docs"))
    # No access log: request lines carry query strings, and an address lookup's query is a
    # resident's address (personal data is never logged); writes are in the audit log.
    uvicorn.run("wangge.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False)


if __name__ == "__main__":
    app()
