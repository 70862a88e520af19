"""``wangge households review`` and ``wangge households resolve``: the review worklist.

A table that fits 100 columns (the columns a person works from: id, reason, score, address, the
best candidate, where it is), the count per reason above it, filters, paging, and an export
to .xlsx or CSV with every candidate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from wangge.cli.common import STATE, console, load_settings, open_store, say, step, user_errors
from wangge.cli.households import households_app
from wangge.geo.errors import InputError

WIDTH = 100


def _lang() -> str:
    return "en" if STATE["lang"] == "en" else "zh"


def _reasons_line(body: dict[str, Any], shown: int) -> str:
    lang = _lang()
    parts = [f"{r['en' if lang == 'en' else 'zh']} {r['count']}" for r in body["reasons"]]
    first, last = body["offset"] + 1, body["offset"] + shown
    span = say(f"（第 {first}–{last} 户）", f" (rows {first}–{last})") if shown else ""
    head = say(f"待核查 {body['total']} 户{span}", f"{body['total']} households to review{span}")
    return head + ("：" if lang == "zh" else ": ") + " · ".join(parts) if parts else head


def _where(h: dict[str, Any]) -> str:
    if h["status"] == "found":
        return h["grid"] or h["microgrid"] or ""
    if h["status"] == "outside" and h["nearest_code"]:
        m = h["nearest_m"]
        far = "" if m is None else (f"{m / 1000:.1f}km" if m >= 1000 else f"{m:.0f}m")
        return say(f"网格外 {far}\n{h['nearest_code']}", f"outside {far}\n{h['nearest_code']}")
    return ""


def _best(h: dict[str, Any]) -> str:
    if not h["candidates"]:
        return ""
    c = h["candidates"][0]
    more = len(h["candidates"]) - 1
    return f"{c['id']} {c['name']} {c['score']:.2f}" + (f" (+{more})" if more else "")


def worklist_table(body: dict[str, Any]) -> Table:
    """The page as a rich table no wider than :data:`WIDTH`."""
    lang = _lang()
    table = Table(box=box.SIMPLE_HEAD, width=min(console.width, WIDTH), pad_edge=False,
                  show_edge=False)
    for zh, en, opts in (("住户编号", "id", {"max_width": 12, "no_wrap": True}),
                         ("原因", "reason", {"width": 16, "overflow": "fold"}),
                         ("得分", "score", {"justify": "right", "width": 5}),
                         ("地址", "address", {"ratio": 1, "overflow": "fold"}),
                         ("最可能的候选", "best candidate", {"ratio": 1, "overflow": "fold"}),
                         ("网格 / 最近微网格", "grid / nearest", {"width": 18, "overflow": "fold"})):
        table.add_column(en if lang == "en" else zh, **opts)
    for h in body["households"]:
        score = h["match_score"]
        table.add_row(escape(str(h["external_id"])),
                      "、".join(r[lang] for r in h["reasons"]) if lang == "zh"
                      else ", ".join(r["en"] for r in h["reasons"]),
                      "" if score is None else f"{score:.2f}",
                      escape(h["address"] or ""), escape(_best(h)), _where(h))
    return table


@households_app.command("review")
def households_review(
    reason: Annotated[list[str] | None, typer.Option(
        "--reason", help="核查原因，可重复：unlocated 无法定位、outside 不在任何网格内、"
                         "coordinates_far_from_address 坐标与地址不符、low_match_score 地址匹配可信度低"
                         " / reason, repeatable: unlocated, outside, coordinates_far_from_address,"
                         " low_match_score")]
    = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单元编码（街道/社区/网格/微网格）"
                                                            "/ unit code (street, community, grid or"
                                                            " micro-grid)")] = None,
    source: Annotated[str | None, typer.Option("--source", help="导入文件名，如 住户名册.xlsx"
                                                                " / name of the imported file")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="最低匹配得分 0–1"
                                                                        " / lowest match score, 0–1")] = None,
    max_score: Annotated[float | None, typer.Option("--max-score", help="最高匹配得分 0–1"
                                                                        " / highest match score,"
                                                                        " 0–1")] = None,
    limit: Annotated[int, typer.Option(min=1, help="每页户数 / households per page")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="从第几户开始（0 起）"
                                                    "/ first household shown (from 0)")] = 0,
    export: Annotated[Path | None, typer.Option(
        "--export", help="导出全部筛选结果到 .xlsx 或 .csv（每户一行，含候选）"
                         "/ export every match to .xlsx or .csv (a row a household, with"
                         " candidates)")] = None,
    show_personal: Annotated[bool, typer.Option(
        help="导出时包含户主姓名、电话、身份证号（仅限有权限的本机管理员；记入审计日志）"
             " / export names, phones and ID numbers too (the administrator only; audited)")] = False,
    release: Annotated[int | None, typer.Option(help="版本号，默认当前版本"
                                                     " / release id (default: the current one)")] = None,
) -> None:
    """待核查住户：按原因、单元、导入、得分筛选，分页，导出 / The review worklist."""
    from wangge.households import current_matcher
    from wangge.review import build_filter, export_csv, export_table, export_xlsx, worklist

    with user_errors():
        if export is not None and export.suffix.lower() not in (".xlsx", ".csv"):
            raise InputError(f"导出文件应为 .xlsx 或 .csv：{export.name}",
                             f"The export must be .xlsx or .csv: {export.name}")
        if show_personal and export is None:
            raise InputError("--show-personal 只用于导出（--export）。",
                             "--show-personal applies to an export (--export) only.")
        settings = load_settings()
        store = open_store(settings)
        rid = store.release_or_current(release).id
        filt = build_filter(store, rid, reasons=reason, unit=unit, source=source,
                            min_score=min_score, max_score=max_score)
        with step(say("读取待核查住户和候选…", "Reading the worklist and its candidates…")):
            matcher = current_matcher(store, settings.match_config())
            if export is not None:
                table = export_table(store, rid, filt, matcher=matcher, lang=_lang(),
                                     personal=show_personal)
                data = export_xlsx(table, _lang()) if export.suffix.lower() == ".xlsx" \
                    else export_csv(table, _lang())
                export.write_bytes(data)
                if show_personal:
                    store.audit("read household personal data (review export)", key_id=None,
                                role="cli", target=export.name, status=200,
                                detail={"release_id": rid, "households": len(table)})
            else:
                body = worklist(store, rid, filt, limit=limit, offset=offset, matcher=matcher)
    if export is not None:
        console.print(say(f"已导出 {len(table)} 户到 {export}" +
                          ("（含个人信息，已记入审计日志）" if show_personal else "") + "。",
                          f"Exported {len(table)} households to {export}" +
                          (" (with personal data; audited)" if show_personal else "") + "."))
        return
    console.print(_reasons_line(body, len(body["households"])))
    if body["households"]:
        console.print(worklist_table(body))
        if body["total"] > body["offset"] + len(body["households"]):
            console.print(say(f"下一页：--offset {body['offset'] + len(body['households'])}",
                              f"Next page: --offset {body['offset'] + len(body['households'])}"))
        console.print(say("处理：wangge households resolve 住户编号 --candidate 候选编号"
                          " | --lon 经度 --lat 纬度 [--crs GCJ-02]",
                          "Resolve: wangge households resolve ID --candidate ID"
                          " | --lon X --lat Y [--crs GCJ-02]"))
        console.print(say("导出全部（含每户的候选）：--export 待核查.xlsx 或 .csv",
                          "Export all (with every candidate): --export review.xlsx or .csv"))


@households_app.command("resolve")
def households_resolve(
    external_id: Annotated[str, typer.Argument(help="住户编号 / household id")],
    candidate: Annotated[str | None, typer.Option("--candidate", help="选择的楼栋或小区编号"
                                                                      " / the building or compound"
                                                                      " chosen")] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="经度（或投影坐标 x）"
                                                            "/ longitude (or projected x)")] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="纬度（或投影坐标 y）"
                                                            "/ latitude (or projected y)")] = None,
    crs: Annotated[str, typer.Option("--crs", help="坐标系：WGS-84、CGCS2000、GCJ-02、BD-09、EPSG"
                                                   " / CRS of the point: WGS-84, CGCS2000, GCJ-02,"
                                                   " BD-09, EPSG")]
    = "WGS-84",
) -> None:
    """处理待核查住户：选择候选或取点；重新定位、分配到当前版本，决定保存并在下次导入时沿用
    / Resolve a household by a candidate or a point; the decision is kept for the next import."""
    from wangge.review import Decider, resolve

    with user_errors():
        store = open_store(load_settings())
        done = resolve(store, external_id, candidate=candidate, lon=lon, lat=lat, crs=crs,
                       decider=Decider("cli", role="cli"))
    how = say(f"选择候选 {done['entry_id']}", f"candidate {done['entry_id']}") \
        if done["decision"] == "candidate" else say("取点", "a placed point")
    console.print(say(
        f"已处理 {escape(done['external_id'])}：{how}，位置 ({done['lon']:.6f}, {done['lat']:.6f})，"
        f"版本 {done['release_id']} 的微网格 {done['microgrid']}（网格 {done['grid']}）。"
        "决定已保存：下次导入时同一住户、同一地址直接采用。",
        f"Resolved {escape(done['external_id'])}: {how}, at ({done['lon']:.6f}, {done['lat']:.6f}), "
        f"micro-grid {done['microgrid']} (grid {done['grid']}) of release {done['release_id']}. "
        "The decision is kept: the same household with the same address is placed so next import."))
