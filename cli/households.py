"""``wangge households …`` and ``wangge gazetteer …``: registers, assignment, counts, review."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from wangge.cli.common import (
    Stages,
    console,
    load_settings,
    open_store,
    parse_fields,
    print_list,
    say,
    step,
    user_errors,
    when,
)
from wangge.geo.errors import InputError
from wangge.geo.levels import Level, parse_level

households_app = typer.Typer(help="住户名册：导入、定位、分配到网格、统计、待核查"
                                  " / households: import, locate, "
                                  "assign to grids, count, review",
                             no_args_is_help=True)
gazetteer_app = typer.Typer(help="地名地址库：小区与楼栋的版本"
                                 " / gazetteer: versions of compounds and buildings",
                            no_args_is_help=True)


def _table(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if v is None or (isinstance(v, float) and pd.isna(v)) else
                        (f"{v:.6f}" if isinstance(v, float) else str(v)) for v in row))
    console.print(table)


@gazetteer_app.command("import")
def gazetteer_import(
    compounds: Annotated[Path, typer.Argument(help="小区文件（GeoJSON/GeoPackage/CSV）"
                                                   "/ compounds file (GeoJSON, GeoPackage, CSV)")],
    buildings: Annotated[Path, typer.Argument(help="楼栋文件（GeoJSON/GeoPackage/CSV）"
                                                   "/ buildings file (GeoJSON, GeoPackage, CSV)")],
    crs: Annotated[str | None, typer.Option("--crs", help="坐标系，如 GCJ-02；默认读文件声明或 WGS-84"
                                                          " / CRS, e.g. GCJ-02 (default: the file's, else"
                                                          " WGS-84)")]
    = None,
) -> None:
    """导入小区和楼栋，作为新的当前地名地址库 / Import compounds and buildings."""
    from wangge.geo.io.gazetteer import read_gazetteer
    from wangge.geocode.gazetteer import Gazetteer

    with user_errors(), Stages(GAZETTEER_WEIGHTS) as stages:
        settings = load_settings()
        with stages.stage(f"读取 {compounds.name} 和 {buildings.name}…",
                          f"Reading {compounds.name} and {buildings.name}…"):
            c, b = read_gazetteer(compounds, buildings, crs=crs, limits=settings.table_limits())
            stages.did(f"读取 {len(c):,} 个小区、{len(b):,} 栋楼",
                       f"read {len(c):,} compounds, {len(b):,} buildings")
        with stages.stage("检查小区和楼栋（建立地址匹配索引）…",
                          "Checking compounds and buildings (building the address matcher)…"):
            Gazetteer(c, b)  # the matcher's own checks, before anything is stored
            stages.did(f"检查 {len(c):,} 个小区、{len(b):,} 栋楼",
                       f"checked {len(c):,} compounds, {len(b):,} buildings")
        with stages.stage("写入数据库…", "Writing to the store…"):
            info = open_store(settings).create_gazetteer(
                c, b, source=f"{compounds.name} + {buildings.name}")
            stages.did(f"写入地名地址库 {info.id}（{info.compound_count:,} 个小区、"
                       f"{info.building_count:,} 栋楼）",
                       f"stored gazetteer {info.id} ({info.compound_count:,} compounds, "
                       f"{info.building_count:,} buildings)")
    console.print(say(f"地名地址库 {info.id}：{info.compound_count} 个小区，{info.building_count} 栋楼。",
                      f"Gazetteer {info.id}: {info.compound_count} compounds, "
                      f"{info.building_count} buildings."))
    stages.finish(f"导入地名地址库 {info.id}（{info.compound_count:,} 个小区，{info.building_count:,} 栋楼）",
                  f"imported gazetteer {info.id} ({info.compound_count:,} compounds, "
                  f"{info.building_count:,} buildings)")


# Shares of the time of a gazetteer import, measured on the demo's (2,444 compounds, 19,272
# buildings: read 0.68 s, check 0.15 s, store 0.88 s); they make the estimate of the time left.
GAZETTEER_WEIGHTS = (0.4, 0.1, 0.5)


@gazetteer_app.command("list")
def gazetteer_list() -> None:
    """列出地名地址库的全部版本（当前版本标出）/ Every gazetteer version, the current one marked."""
    with user_errors():
        versions = open_store(load_settings()).gazetteers()
    print_list(say("地名地址库版本", "Gazetteer versions"),
               [("编号", "id", {"justify": "right"}), ("当前", "current", {"justify": "center"}),
                ("来源", "source", {"ratio": 1}), ("导入时间", "imported", {"no_wrap": True}),
                ("小区", "compounds", {"justify": "right"}),
                ("楼栋", "buildings", {"justify": "right"})],
               [[str(g.id), "✓" if g.is_current else "", g.source, when(g.created_at),
                 f"{g.compound_count:,}", f"{g.building_count:,}"] for g in versions])
    if not versions:
        console.print(say("还没有地名地址库：wangge gazetteer import 或 import-standard。",
                          "No gazetteer yet: wangge gazetteer import or import-standard."))


@gazetteer_app.command("import-standard")
def gazetteer_import_standard(
    file: Annotated[Path, typer.Argument(help="标准地址表：CSV、Excel（.xlsx）或 JSON"
                                              " / standard address table: CSV, Excel (.xlsx) or JSON")],
    column: Annotated[list[str] | None, typer.Option(
        "--column", help="列映射 code=地址编码、compound=小区名称…，可重复"
                         " / column mapping FIELD=COLUMN; repeatable")] = None,
    crs: Annotated[str, typer.Option("--crs", help="经纬度的默认坐标系"
                                                   " / CRS of the longitudes and latitudes")] = "CGCS2000",
) -> None:
    """导入标准地址表（一标三实），作为新的当前地名地址库 / Import a standard address table."""
    from wangge.households import import_standard_addresses

    with user_errors():
        settings = load_settings()
        with step(say(f"读取标准地址 {file.name}…", f"Reading the standard addresses {file.name}…")):
            result = import_standard_addresses(open_store(settings), file,
                                               columns=parse_fields(column), default_crs=crs,
                                               limits=settings.table_limits())
    _print_problems(result.problems)
    g = result.gazetteer
    console.print(say(
        f"{result.rows} 行：导入地址编码 {result.codes} 个，有问题未导入 {len(result.problems)} 行。"
        f"地名地址库 {g['id']}：{g['compound_count']} 个小区（门牌），{g['building_count']} 栋楼。",
        f"{result.rows} rows: {result.codes} address codes imported, {len(result.problems)} rows "
        f"with problems left out. Gazetteer {g['id']}: {g['compound_count']} compounds (doors), "
        f"{g['building_count']} buildings."))


def _print_problems(problems: list) -> None:
    for p in problems[:50]:
        console.print(f"[yellow]{say(p.message_zh, p.message_en)}[/yellow]")
    if len(problems) > 50:
        console.print(say(f"……另有 {len(problems) - 50} 行问题",
                          f"… {len(problems) - 50} more rows with problems"))


@households_app.command("import")
def households_import(
    file: Annotated[Path, typer.Argument(help="住户名册：CSV、Excel（.xlsx）或 JSON"
                                              " / household register: CSV, Excel (.xlsx) or JSON")],
    column: Annotated[list[str] | None, typer.Option("--column", help="列映射 external_id=户号，可重复"
                                                                      " / column mapping FIELD=COLUMN, e.g."
                                                                      " external_id=户号; repeatable")]
    = None,
    crs: Annotated[str, typer.Option("--crs", help="名册坐标的默认坐标系（行内无坐标系时）"
                                                   "/ CRS of coordinates in rows that name none")] = "WGS-84",
    kind: Annotated[str, typer.Option(
        "--kind",
        help="register（一户一行）、housing（实有房屋，一房一行）、population（实有人口，一人一行）"
             " / register (a row a household), housing (a row a dwelling), population (a row a "
             "resident)")]
    = "register",
) -> None:
    """导入住户名册：只定位、分配新增和变化的住户；逐行报告问题 / Import a household register."""
    from wangge.households import import_register

    with user_errors():
        settings = load_settings()
        store = open_store(settings)
        with Stages(REGISTER_WEIGHTS) as stages:
            stages.begin(f"读取 {file.name}…", f"Reading {file.name}…")
            result = import_register(store, file, columns=parse_fields(column), default_crs=crs,
                                     match_config=settings.match_config(),
                                     limits=settings.table_limits(), kind=kind,
                                     progress=register_progress(stages))
    _print_problems(result.problems)
    loc = result.located
    console.print(say(
        f"{result.rows} 行：导入 {result.imported}（新增 {result.inserted}，变化 {result.updated}，"
        f"未变 {result.unchanged}），有问题未导入 {len(result.problems)}。新增和变化的住户中：按坐标定位 "
        f"{loc['coordinates']}，按地址 {loc['address']}（其中按地址编码 {loc['address_code']}），"
        f"无法定位 {loc['unlocated']}，需核查标记 {loc['flagged']}。",
        f"{result.rows} rows: imported {result.imported} ({result.inserted} new, {result.updated} "
        f"changed, {result.unchanged} unchanged), {len(result.problems)} rows with problems left "
        f"out. Of the new and changed: located by coordinates {loc['coordinates']}, by address "
        f"{loc['address']} (by address code {loc['address_code']}), unlocated "
        f"{loc['unlocated']}, flagged {loc['flagged']}."))
    for key, zh, en in (("inserted", "新增", "new"), ("updated", "变化", "changed"),
                        ("unlocated", "无法定位（见 wangge households review --reason 无法定位）",
                         "unlocated (see wangge households review --reason unlocated)")):
        ids = result.ids.get(key) or []
        if ids:
            total = loc["unlocated"] if key == "unlocated" else getattr(result, key)
            more = say(f" 等 {total} 户", f" … {total} in all") if total > len(ids) else ""
            console.print(say(f"{zh}：", f"{en}: ") + "、".join(ids) + more)
    if result.assignment:
        print_assignment(result.assignment)
    stages.finish(f"导入 {file.name} {result.rows:,} 行（新增 {result.inserted:,}，变化 {result.updated:,}，"
                  f"未变 {result.unchanged:,}，有问题 {len(result.problems):,}）",
                  f"imported {file.name}, {result.rows:,} rows ({result.inserted:,} new, "
                  f"{result.updated:,} changed, {result.unchanged:,} unchanged, "
                  f"{len(result.problems):,} with problems)")


# Shares of the time an import of the demo register (130,000 rows, into an empty store: 16 s)
# spends reading, comparing with the stored households, locating, storing and assigning; they
# make the estimate of the time left.
REGISTER_WEIGHTS = (0.09, 0.02, 0.18, 0.22, 0.49)
_REGISTER_STAGES = {  # a stage that ended: what it did; the stage that follows
    "read": (("读取 {n:,} 行", "read {n:,} rows"),
             ("比对已有住户…", "Comparing with the stored households…")),
    "compare": (("比对 {n:,} 户", "compared {n:,} households"),
                ("定位新增和变化的住户（坐标、地址匹配）…", "Locating new and changed households…")),
    "locate": (("定位 {n:,} 户", "located {n:,} households"), ("写入…", "Storing…")),
    "store": (("写入 {n:,} 户", "stored {n:,} households"),
              ("分配到网格…", "Assigning to grids…")),
    "assign": (("分配 {n:,} 户到网格", "assigned {n:,} households to grids"), None),
}


def register_progress(stages: Stages) -> Callable[[str, int], None]:
    """The ``progress`` of :func:`wangge.households.import_register`: a stage line as each
    stage ends (读取 130,000 行… 定位… 写入… 分配…), then the next stage on the bar."""

    def tell(stage: str, count: int) -> None:
        (zh, en), following = _REGISTER_STAGES[stage]
        stages.end(zh.format(n=count), en.format(n=count))
        if following is not None:
            stages.begin(*following)

    return tell


def print_assignment(a: dict) -> None:
    if a.get("mode") == "incremental":
        console.print(say(
            f"只分配了新增和变化的 {a['assigned']} 户（版本 {a['release_id']}）：落在微网格内 "
            f"{a['found']}，网格外 {a['outside']}，未定位 {a['unlocated']}"
            + (f"；与版本 {a['compared_to']} 相比变动 {a['moved']} 户。" if a["compared_to"] else "。"),
            f"Assigned only the {a['assigned']} new and changed households (release "
            f"{a['release_id']}): {a['found']} in a micro-grid, {a['outside']} outside, "
            f"{a['unlocated']} unlocated" + (f"; {a['moved']} moved since release "
                                             f"{a['compared_to']}." if a["compared_to"] else ".")))
        return
    console.print(say(
        f"已分配到版本 {a['release_id']}：落在微网格内 {a['found']}，网格外 {a['outside']}，"
        f"未定位 {a['unlocated']}" + (f"；与版本 {a['compared_to']} 相比变动 {a['moved']} 户。"
                                     if a["compared_to"] else "。"),
        f"Assigned to release {a['release_id']}: {a['found']} in a micro-grid, {a['outside']} "
        f"outside, {a['unlocated']} unlocated" + (f"; {a['moved']} moved since release "
                                                  f"{a['compared_to']}." if a["compared_to"] else ".")))


@households_app.command("assign")
def households_assign(release: Annotated[int | None, typer.Option(help="版本号，默认当前版本"
                                                                       " / release id (default: the current"
                                                                       " one)")] = None
                      ) -> None:
    """重新把全部住户分配到某版本的网格，并记录变动 / Re-run assignment for a release."""
    from wangge.households import assign_release

    with user_errors():
        store = open_store(load_settings())
        rid = store.release_or_current(release).id
        with Stages([1]) as stages, stages.stage(f"把全部住户分配到版本 {rid}…",
                                                 f"Assigning every household to release {rid}…"):
            result = assign_release(store, rid)
            stages.did(f"分配 {result['assigned']:,} 户", f"assigned {result['assigned']:,} households")
    print_assignment(result)
    stages.finish(f"分配 {result['assigned']:,} 户到版本 {rid}（变动 {result.get('moved', 0):,} 户）",
                  f"assigned {result['assigned']:,} households to release {rid} "
                  f"({result.get('moved', 0):,} moved)")


@households_app.command("counts")
def households_counts(
    level: Annotated[str, typer.Option(help="列出哪一级：street、community、grid、microgrid"
                                            " / level to list: street, community, grid, microgrid")] = "grid",
    release: Annotated[int | None, typer.Option(help="版本号，默认当前版本"
                                                     " / release id (default: the current one)")] = None,
) -> None:
    """各单元的户数和人数 / Households and residents per unit."""
    lv = parse_level(level)
    with user_errors():
        if lv is None:
            raise InputError(f"无法识别的层级 {level}", f"Unknown level {level}")
        store = open_store(load_settings())
        rid = store.release_or_current(release).id
        counts = store.unit_counts(rid)
        units = store.units(rid, level=lv.value)[["code", "name"]]
    frame = units.merge(counts[counts["level"] == lv.value], on="code", how="left")
    frame = frame[["code", "name", "households", "residents"]].fillna(0)
    _table(frame.astype({"households": int, "residents": int}),
           say(f"各{lv.zh}户数（版本 {rid}）", f"Households per {lv.value} (release {rid})"))


@households_app.command("list")
def households_list(
    code: Annotated[str, typer.Argument(help="单元编码（任一层级）/ unit code (any level)")],
    release: Annotated[int | None, typer.Option(help="版本号，默认当前版本"
                                                     " / release id (default: the current one)")] = None,
    show_personal: Annotated[bool, typer.Option(help="显示户主姓名、电话（仅限有权限的本机管理员）"
                                                     "/ show names and phones (the machine's administrator"
                                                     " only)")]
    = False,
    limit: Annotated[int, typer.Option(min=1, help="最多列出的户数 / most households listed")] = 50,
) -> None:
    """列出某单元的住户（个人信息默认隐藏）/ Households of a unit (personal data hidden)."""
    with user_errors():
        store = open_store(load_settings())
        rid = store.release_or_current(release).id
        unit = store.unit(rid, code)
        level = Level(unit["level"].iloc[0])
        frame = store.households_of(rid, code, level, personal=show_personal, limit=limit)
    _table(frame, say(f"{unit['name'].iloc[0]} 的住户（前 {limit} 户）",
                      f"Households of {code} (first {limit})"))
