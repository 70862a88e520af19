"""The ``wangge`` command line: import, validate, export boundaries; build the demo; serve the API.

Messages are in Simplified Chinese; ``--lang en`` (or WANGGE_LANGUAGE=en) switches to English.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo.errors import InputError, ValidationFailed, WanggeError
from geo.findings import RULES_ZH, Report
from wangge.settings import Settings

app = typer.Typer(help="wangge 网格：社区网格边界的导入、校验、存储与服务。", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)
_state: dict[str, str] = {"lang": "zh"}


def say(zh: str, en: str) -> str:
    return en if _state["lang"] == "en" else zh


@app.callback()
def _main(lang: Annotated[str | None, typer.Option(help="zh 或 en / zh or en")] = None) -> None:
    _state["lang"] = lang or Settings().language


def _settings() -> Settings:
    return Settings()


def _open_store(settings: Settings):  # noqa: ANN202 - store type imported lazily
    from store import open_store

    return open_store(settings.database_url)


@contextmanager
def _step(text: str) -> Iterator[None]:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        progress.add_task(text, total=None)
        yield


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn domain errors into a clear message and exit code 2 (1 for validation errors)."""
    try:
        yield
    except ValidationFailed as exc:
        err.print(f"[red]{say(exc.message_zh, exc.message_en)}[/red]")
        report = exc.report or {}
        findings = (report.get("report") or report).get("findings", [])
        if findings:
            _print_findings(findings)
        raise typer.Exit(1) from exc
    except WanggeError as exc:
        err.print(f"[red]{say(exc.message_zh, exc.message_en)}[/red]")
        raise typer.Exit(2) from exc


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"日期“{text}”不正确，应写成 YYYY-MM-DD。",
                         f"Date {text!r} is not valid; write YYYY-MM-DD.") from exc


def _parse_fields(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise typer.BadParameter(say(f"字段映射应写成 目标=源字段，收到 {item!r}",
                                         f"field mapping must be TARGET=SOURCE, got {item!r}"))
        target, source = item.split("=", 1)
        out[target.strip()] = source.strip()
    return out


def _print_findings(findings: list[dict]) -> None:
    table = Table(title=say("校验发现的问题", "Validation findings"), show_lines=False)
    for col in (say("级别", "severity"), say("规则", "rule"), say("编码", "codes"),
                say("位置 (经度, 纬度)", "location (lon, lat)"), say("大小", "size"),
                say("说明", "message")):
        table.add_column(col, overflow="fold")
    for f in findings:
        sev = f["severity"]
        colour = "red" if sev == "error" else "yellow"
        loc = f.get("location")
        size = f.get("size")
        table.add_row(
            f"[{colour}]{say('错误' if sev == 'error' else '警告', sev)}[/{colour}]",
            say(RULES_ZH.get(f["rule"], f["rule"]), f["rule"]), "\n".join(f["codes"]),
            f"{loc[0]:.6f}, {loc[1]:.6f}" if loc else "",
            f"{size:,.2f} m²" if size is not None else "",
            say(f["message"], f["message_en"]))
    console.print(table)


def _print_summary(report: Report) -> None:
    console.print(say(
        f"共 {report.unit_count} 个单元：{len(report.errors)} 个错误，{len(report.warnings)} 个警告"
        f"（用时 {report.seconds:.2f} 秒）。",
        f"{report.unit_count} units: {len(report.errors)} errors, {len(report.warnings)} warnings "
        f"({report.seconds:.2f} s)."))


CrsOpt = Annotated[str | None, typer.Option("--crs", help="源坐标系，如 EPSG:4490、4549、GCJ-02、BD-09")]
FieldOpt = Annotated[list[str] | None, typer.Option("--field", help="字段映射 code=编码字段，可重复")]
LevelOpt = Annotated[str | None, typer.Option("--level", help="整个文件的层级（文件无层级字段时）")]
RepairOpt = Annotated[bool, typer.Option("--repair", help="修复无效几何并消除低于容差的空隙/重叠")]


@app.command("validate")
def validate_cmd(
    file: Annotated[Path | None, typer.Argument(help="GeoJSON / GeoPackage / zip Shapefile")] = None,
    release: Annotated[int | None, typer.Option(help="校验已存储的版本")] = None,
    crs: CrsOpt = None, field: FieldOpt = None, level: LevelOpt = None, repair: RepairOpt = False,
    extent: Annotated[Path | None, typer.Option(help="区县边界文件：检查街道是否覆盖全区")] = None,
    extent_crs: Annotated[str | None, typer.Option(help="区县边界文件的坐标系（如 GCJ-02）")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="把报告写成 JSON 文件")] = None,
) -> None:
    """校验边界文件或已存储的版本，一次列出全部问题 / Validate a file or a stored release."""
    from geo.boundary_io import read_extent
    from geo.validate import validate
    from wangge.boundaries import check_file

    settings = _settings()
    config = settings.validation_config()
    with _user_errors():
        extent_geom = read_extent(extent, crs=extent_crs) if extent is not None else None
        if release is not None:
            with _step(say("读取并校验版本…", "Reading and validating release…")):
                store = _open_store(settings)
                report = validate(store.units(release), config, extent=extent_geom)
            payload = report.as_dict()
            changes: list = []
        elif file is not None:
            with _step(say(f"读取并校验 {file.name}…", f"Reading and validating {file.name}…")):
                checked = check_file(file, config, crs=crs, fields=_parse_fields(field),
                                     level=level, do_repair=repair, extent=extent_geom)
            report, changes = checked.report, checked.changes
            payload = checked.as_dict()
        else:
            raise typer.BadParameter(say("请给出文件或 --release", "give a FILE or --release"))
    for c in changes:
        console.print(f"[cyan]{say('修复', 'repair')}[/cyan] {', '.join(c.codes)}: "
                      f"{say(c.action_zh, c.action_en)}")
    if report.findings:
        _print_findings([f.as_dict(with_geometry=False) for f in report.findings])
    _print_summary(report)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    raise typer.Exit(0 if report.ok else 1)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="GeoJSON / GeoPackage / zip Shapefile")],
    crs: CrsOpt = None, field: FieldOpt = None, level: LevelOpt = None, repair: RepairOpt = False,
    draft: Annotated[bool, typer.Option("--draft", help="存为草稿（有错误也保存），不设为当前版本")] = False,
    effective_date: Annotated[str | None, typer.Option(help="生效日期 YYYY-MM-DD，默认今天")] = None,
    note: Annotated[str | None, typer.Option(help="版本说明")] = None,
) -> None:
    """导入边界文件为新版本 / Import a boundary file as a new release."""
    from wangge.boundaries import check_file, store_checked

    settings = _settings()
    with _user_errors():
        day = _parse_day(effective_date)
        with _step(say(f"读取并校验 {file.name}…", f"Reading and validating {file.name}…")):
            checked = check_file(file, settings.validation_config(), crs=crs,
                                 fields=_parse_fields(field), level=level, do_repair=repair)
        for c in checked.changes:
            console.print(f"[cyan]{say('修复', 'repair')}[/cyan] {', '.join(c.codes)}: "
                          f"{say(c.action_zh, c.action_en)}")
        with _step(say("写入数据库…", "Writing to the store…")):
            store = _open_store(settings)
            info = store_checked(store, checked, source=str(file), make_current=not draft,
                                 effective_date=day, note=note)
    if checked.report.findings:
        _print_findings([f.as_dict(with_geometry=False) for f in checked.report.findings])
    _print_summary(checked.report)
    state = say("当前版本", "current") if info.is_current else say("草稿", "draft")
    console.print(say(f"已导入版本 {info.id}（{state}），{info.unit_count} 个单元。",
                      f"Imported release {info.id} ({state}), {info.unit_count} units."))


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Argument(help="输出文件 .geojson 或 .gpkg")],
    release: Annotated[int | None, typer.Option(help="版本号，默认当前版本")] = None,
    level: LevelOpt = None,
    crs: Annotated[str, typer.Option("--crs", help="输出坐标系，如 EPSG:4490、GCJ-02")] = "EPSG:4490",
) -> None:
    """导出某版本（某层级）的边界 / Export a release (or one level) to a file."""
    from geo.boundary_io import write_units
    from geo.errors import NotFound
    from geo.levels import parse_level

    settings = _settings()
    with _user_errors():
        store = _open_store(settings)
        rid = release if release is not None else _current_id(store)
        lv = parse_level(level) if level else None
        if level and lv is None:
            raise typer.BadParameter(say(f"无法识别的层级 {level}", f"unknown level {level}"))
        units = store.units(rid, level=lv.value if lv else None)
        if len(units) == 0:
            raise NotFound(f"版本 {rid} 没有符合条件的单元。", f"Release {rid} has no such units.")
        with _step(say("写出文件…", "Writing…")):
            write_units(units, out, crs=crs)
    console.print(say(f"已导出 {len(units)} 个单元到 {out}（{crs}）。",
                      f"Exported {len(units)} units to {out} ({crs})."))


def _current_id(store) -> int:  # noqa: ANN001
    from geo.errors import NotFound

    current = store.current_release()
    if current is None:
        raise NotFound("还没有当前版本，请先导入或用 --release 指定版本。",
                       "No current release yet: import one or give --release.")
    return int(current.id)


@app.command("releases")
def releases_cmd() -> None:
    """列出全部版本（历史）/ List all releases."""
    settings = _settings()
    with _user_errors():
        store = _open_store(settings)
        rows = store.releases()
    table = Table(title=say("边界版本", "Boundary releases"))
    for col in ("id", say("状态", "state"), say("生效日期", "effective"), say("单元", "units"),
                say("错误", "errors"), say("警告", "warnings"), say("来源", "source")):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.id), say("当前", "current") if r.is_current else
                      (say("已发布", "published") if r.published_at else say("草稿", "draft")),
                      str(r.effective_date), str(r.unit_count), str(r.error_count),
                      str(r.warning_count), r.source)
    console.print(table)


@app.command("publish")
def publish_cmd(release: Annotated[int, typer.Argument(help="版本号")]) -> None:
    """把某版本设为当前版本（有错误则拒绝）/ Make a release current."""
    from wangge.boundaries import publish

    settings = _settings()
    with _user_errors():
        info = publish(_open_store(settings), release)
    console.print(say(f"版本 {info.id} 已设为当前版本。", f"Release {info.id} is now current."))


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="演示数据输出目录")] = Path("var/demo"),
    serve: Annotated[bool, typer.Option(help="完成后启动 API 服务")] = False,
    port: int = 8000,
) -> None:
    """生成亭湖区演示数据（含有错误的版本），校验并导入为当前版本 / Build and load the demo district."""
    from geo.boundary_io import write_units
    from geo.demo import build_broken, build_demo, district_boundary
    from geo.validate import validate
    from wangge.boundaries import check_file, store_checked

    settings = _settings()
    config = settings.validation_config()
    with _user_errors():
        with _step(say("在亭湖区真实边界内生成街道、社区、网格、微网格…",
                       "Generating streets, communities, grids, micro-grids in Tinghu…")):
            district = district_boundary()
            units = build_demo(district)
            broken, planted = build_broken(units)
            good_path = write_units(units, out / "tinghu_demo.gpkg")
            broken_path = write_units(broken, out / "tinghu_demo_broken.gpkg")
        counts = units["level"].value_counts()
        console.print(say(
            f"演示区：{counts.get('street', 0)} 个街道、{counts.get('community', 0)} 个社区、"
            f"{counts.get('grid', 0)} 个网格、{counts.get('microgrid', 0)} 个微网格 → {good_path}",
            f"Demo: {counts.get('street', 0)} streets, {counts.get('community', 0)} communities, "
            f"{counts.get('grid', 0)} grids, {counts.get('microgrid', 0)} micro-grids -> {good_path}"))
        checked = check_file(good_path, config, extent=district)
        _print_summary(checked.report)
        store = _open_store(settings)
        info = store_checked(store, checked, source="wangge demo (亭湖区 320902)", make_current=True,
                             note=say("演示数据", "demo data"))
        console.print(say(f"已导入为版本 {info.id}（当前版本），数据库：{settings.database_url}",
                          f"Imported as release {info.id} (current), store: {settings.database_url}"))
        console.print(say(f"\n含有错误的版本（{len(planted)} 处预埋问题）→ {broken_path}：",
                          f"\nBroken variant ({len(planted)} planted problems) -> {broken_path}:"))
        broken_report = validate(broken, config)
        _print_findings([f.as_dict(with_geometry=False) for f in broken_report.findings])
        _print_summary(broken_report)
    if serve:
        _serve(settings, "127.0.0.1", port, 1)


@app.command("serve")
def serve_cmd(host: str = "127.0.0.1", port: int = 8000,
              workers: Annotated[int, typer.Option(help="进程数")] = 1) -> None:
    """启动 API 服务 / Start the HTTP API."""
    _serve(_settings(), host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    console.print(say(f"API 服务：http://{host}:{port}/docs", f"API at http://{host}:{port}/docs"))
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


if __name__ == "__main__":
    app()
