"""Every text the maps show, in Simplified Chinese first and English second: one table.

Builders ask :func:`text` for a key and a language; nothing else in ``maps/`` holds words a
user reads, so a missing translation is one place to fix (and :func:`check_complete` finds it).
"""

from __future__ import annotations

from wangge.geo.errors import InputError

LANGS = ("zh", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # levels
    "street": ("街道", "Streets"),
    "community": ("社区", "Communities"),
    "grid": ("网格", "Grids"),
    "microgrid": ("微网格", "Micro-grids"),
    "street_one": ("街道", "Street"),
    "community_one": ("社区", "Community"),
    "grid_one": ("网格", "Grid"),
    "microgrid_one": ("微网格", "Micro-grid"),
    # fields in tooltips and popups
    "code": ("编码", "Code"),
    "name": ("名称", "Name"),
    "level": ("层级", "Level"),
    "households": ("户数", "Households"),
    "residents": ("人口", "Residents"),
    "workers": ("网格员", "Grid workers"),
    "worker_count": ("网格员人数", "Grid workers (count)"),
    "per_worker": ("每名网格员服务户数", "Households per grid worker"),
    "coverage": ("服务圈覆盖率", "Service-circle coverage"),
    "covered": ("已覆盖户数", "Households covered"),
    "details": ("查看详情", "Details"),
    "no_data": ("无数据", "No data"),
    "persons": ("人", "persons"),
    # levels loaded in tiles
    "zoom_in_for": ("放大到第 {zoom} 级以显示{level}", "Zoom in to level {zoom} to see {level}"),
    "tiles_failed": ("部分{level}数据加载失败，请刷新页面", "Some {level} failed to load; reload the page"),
    # overview
    "overview_title": ("网格总览", "Grid overview"),
    "shade_households": ("按户数着色", "Shaded by households"),
    "shade_per_worker": ("按每名网格员服务户数着色", "Shaded by households per grid worker"),
    "shade_coverage": ("按服务圈覆盖率着色", "Shaded by service-circle coverage"),
    "workers_layer": ("网格员", "Grid workers"),
    # unit
    "unit_title": ("单元详情", "Unit"),
    "boundary": ("边界", "Boundary"),
    "children": ("下级单元", "Sub-units"),
    "households_layer": ("住户", "Households"),
    "households_heat": ("住户密度", "Household density"),
    "sites": ("服务站点", "Service sites"),
    "unit_heading": ("{name}", "{name}"),
    "unit_detail": ("{level} · 编码 {code}", "{level} · code {code}"),
    "children_of": ("下级{level}（{count} 个）", "{level} within ({count})"),
    # coverage
    "coverage_title": ("服务圈覆盖", "Service-circle coverage"),
    "catchment": ("{minutes}分钟服务圈", "{minutes}-minute circle"),
    "centre": ("党群服务中心", "Service centre"),
    "station": ("服务驿站", "Service station"),
    "site": ("站点", "Site"),
    "kind": ("类型", "Kind"),
    "uncovered_households": ("未覆盖住户", "Uncovered households"),
    "uncovered_areas": ("有住户的未覆盖区域", "Uncovered ground where people live"),
    "grid_shares": ("网格覆盖率（{minutes}分钟内住户占比）",
                    "Grid coverage (share of households within {minutes} min)"),
    "shares_within": ("覆盖率按", "Share within"),
    "minutes_short": ("{minutes}分钟", "{minutes} min"),
    "uncovered_count": ("未覆盖户数", "Households not covered"),
    "share_covered": ("覆盖率", "Share covered"),
    "catchment_edge": ("{minutes}分钟服务圈边界", "{minutes}-minute circle edge"),
    "gaps": ("边界空隙", "Boundary gaps"),
    "suggested_sites": ("建议新增站点", "Suggested new sites"),
    "rank": ("优先顺序", "Rank"),
    "gain": ("新增覆盖户数", "Households newly covered"),
    "units": ("行政单元", "Units"),
    # validation
    "validation_title": ("边界检查结果", "Boundary validation"),
    "rule": ("问题类型", "Problem"),
    "severity": ("严重程度", "Severity"),
    "error": ("错误", "Error"),
    "warning": ("警告", "Warning"),
    "size": ("大小", "Size"),
    "units_involved": ("涉及单元", "Units"),
    "findings": ("问题", "Problems"),
    "no_findings": ("未发现问题", "No problems found"),
    # comparison of two versions
    "compare_title": ("方案对比", "Comparison"),
    "before": ("调整前", "Before"),
    "after": ("调整后", "After"),
    "changed_units": ("有变化的单元（{count} 个）", "Changed units ({count})"),
    # legend and landing page
    "legend": ("图例", "Legend"),
    "landing_title": ("网格化管理地图", "Grid governance maps"),
    "landing_intro": ("以下地图展示本区网格划分、服务圈覆盖和边界检查结果。",
                      "Maps of this district's grids, service-circle coverage and boundary checks."),
    "tiles_note": ("底图：{tiles}", "Base map: {tiles}"),
}

# Units of measure shown after a size.
SIZE_UNITS: dict[str, tuple[str, str]] = {"m2": ("平方米", "m²"), "m": ("米", "m")}


def check_lang(lang: str) -> str:
    """Return ``lang`` if the maps speak it, else raise :class:`InputError`."""
    if lang not in LANGS:
        raise InputError(f"不支持的语言“{lang}”，可选：{'、'.join(LANGS)}。",
                         f"Unsupported language {lang!r}; choose one of {', '.join(LANGS)}.",
                         lang=lang)
    return lang


def text(key: str, lang: str = "zh", **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``."""
    words = TEXTS[key][LANGS.index(check_lang(lang))]
    return words.format(**values) if values else words


def table(keys: list[str] | tuple[str, ...], lang: str = "zh") -> dict[str, str]:
    """Several texts at once, for embedding in a map's JavaScript."""
    return {k: text(k, lang) for k in keys}


def check_complete() -> list[str]:
    """Keys whose text is missing in some language (empty when the table is complete)."""
    return [k for k, v in TEXTS.items() if len(v) != len(LANGS) or not all(v)]
