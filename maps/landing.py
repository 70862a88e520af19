"""The landing page: a plain HTML list of the maps, Chinese first (no JavaScript, works offline)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from wangge.maps import labels


@dataclass(frozen=True)
class MapLink:
    """One map on the landing page."""

    href: str
    title_zh: str
    title_en: str
    about_zh: str = ""
    about_en: str = ""


# The maps the API serves under /maps/ (relative links, so the page works under any prefix).
DEFAULT_LINKS: tuple[MapLink, ...] = (
    MapLink("overview", "网格总览", "Grid overview",
            "街道、社区、网格、微网格四级边界，按户数着色。",
            "Streets, communities, grids and micro-grids, shaded by households."),
    MapLink("overview?shade=per_worker", "网格员工作量", "Grid worker workload",
            "每名专职网格员服务的户数。", "Households per full-time grid worker."),
    MapLink("coverage", "服务圈覆盖", "Service-circle coverage",
            "5、10、15分钟服务圈，未覆盖住户和区域，建议新增站点。",
            "5, 10 and 15-minute circles, uncovered households and areas, suggested sites."),
    MapLink("validation", "边界检查", "Boundary validation",
            "重叠、空隙、无效几何等问题所在位置。",
            "Where the overlaps, gaps and invalid geometries are."),
    MapLink("plans", "规划方案", "Plans",
            "调整网格边界：刷入微网格、分割、重绘、自动划分，查看影响后发布。",
            "Redraw grids: paint micro-grids, split, redraw, auto-partition; see the impact, "
            "then publish."),
)

_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } .en { color: #666; font-size: .9em; }
.account { color: #555; } .account a.logout { font-size: 1rem; }
ul { list-style: none; padding: 0; } li { margin: 1rem 0; padding: .8rem 1rem;
  border: 1px solid #ddd; border-radius: 6px; } a { font-size: 1.15rem; font-weight: bold; }
"""


def landing(links: Sequence[MapLink] = DEFAULT_LINKS, *, lang: str = "zh",
            district: str | None = None, account: str | None = None) -> str:
    """The landing page as an HTML string; each link's text in ``lang``, then the other language.

    ``account``: the name of the person logged in, shown with a link to log out."""
    labels.check_lang(lang)
    zh = lang == "zh"
    title = labels.text("landing_title", lang)
    if district:
        title = f"{district} · {title}"
    other = labels.text("landing_title", "en" if zh else "zh")
    items = []
    for link in links:
        first, second = (link.title_zh, link.title_en) if zh else (link.title_en, link.title_zh)
        about = link.about_zh if zh else link.about_en
        items.append(
            f'<li><a href="{html.escape(link.href)}">{html.escape(first)}</a> '
            f'<span class="en">{html.escape(second)}</span>'
            + (f"<div>{html.escape(about)}</div>" if about else "") + "</li>")
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if zh else "en"}">\n<head>\n'
            '<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f'<h1>{html.escape(title)}</h1>\n<div class="en">{html.escape(other)}</div>\n'
            + _account(account, lang)
            + f"<p>{html.escape(labels.text('landing_intro', lang))}</p>\n"
            f'<ul>\n{"".join(items)}\n</ul>\n</body>\n</html>\n')


def _account(name: str | None, lang: str) -> str:
    if not name:
        return ""
    said, out = ("已登录：", "退出登录") if lang == "zh" else ("Logged in as ", "Log out")
    href = "/logout" + ("?lang=en" if lang == "en" else "")
    return (f'<p class="account">{said}{html.escape(name)} · '
            f'<a id="logout" class="logout" href="{href}">{out}</a></p>\n')
