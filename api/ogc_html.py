"""HTML views of the OGC API – Features documents (``f=html``): plain tables with links.

No script, no stylesheet from elsewhere: the pages open on an intranet and in any browser.
Every value is escaped; the JSON documents stay the source of truth.
"""

from __future__ import annotations

from html import escape
from typing import Any

HTML = "text/html; charset=utf-8"
_STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:70em}"
          "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
          "th{background:#eee}nav a{margin-right:1em}")


def _href(href: str, html: bool = True) -> str:
    """A link to the HTML view of a JSON document's URL (``f=html`` added or replaced)."""
    if not html:
        return href
    base, _, query = href.partition("?")
    params = [p for p in query.split("&") if p and not p.startswith("f=")]
    return base + "?" + "&".join([*params, "f=html"])


def _a(href: str, text: str, html: bool = True) -> str:
    return f'<a href="{escape(_href(href, html))}">{escape(text)}</a>'


def page(title: str, body: str, json_href: str) -> str:
    """A whole HTML document with a link back to the JSON it shows."""
    return (f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>{body}"
            f'<p>{_a(_json_href(json_href), "JSON 格式 / as JSON", html=False)}</p></body></html>')


def _json_href(href: str) -> str:
    base, _, query = href.partition("?")
    params = [p for p in query.split("&") if p and not p.startswith("f=")]
    return base + "?" + "&".join([*params, "f=json"])


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def links_list(links: list[dict[str, Any]]) -> str:
    """The links of a document, each to its HTML view where it has one."""
    items = []
    for link in links:
        html = link.get("type") in ("application/json", "application/geo+json")
        label = link.get("title") or link["href"]
        items.append(f"<li>{escape(link['rel'])}: {_a(link['href'], label, html)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def landing(doc: dict[str, Any], href: str) -> str:
    return page(doc["title"], f"<p>{escape(doc['description'])}</p>" + links_list(doc["links"]), href)


def collections(doc: dict[str, Any], href: str) -> str:
    rows = [[_a(c["links"][0]["href"], c["id"]), escape(c["title"]),
             _a(c["links"][1]["href"], "要素 / items")] for c in doc["collections"]]
    return page("要素集 / Collections", _table(["id", "名称 / title", ""], rows), href)


def collection(doc: dict[str, Any], href: str) -> str:
    bbox = doc["extent"].get("spatial", {}).get("bbox", [[]])[0]
    body = (f"<p>{escape(doc['description'])}</p>"
            f"<p>范围 / extent (CRS84): {escape(', '.join(f'{v:.5f}' for v in bbox))}</p>"
            f"<p>坐标系 / CRS: {escape(', '.join(doc['crs']))}</p>" + links_list(doc["links"]))
    return page(doc["title"], body, href)


_COLUMNS = [("code", "编码 / code"), ("name", "名称 / name"), ("level", "层级 / level"),
            ("parent_code", "上级编码 / parent"), ("area_m2", "面积 m² / area")]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "area_m2":
        return f"{float(value):,.0f}"
    return escape(str(value))


def items(doc: dict[str, Any], href: str, item_href: str, title: str) -> str:
    rows = [[_a(f"{item_href}/{f['id']}", f["id"]),
             *(_cell(k, f["properties"].get(k)) for k, _ in _COLUMNS[1:])] for f in doc["features"]]
    nav = " ".join(_a(link["href"], {"next": "下一页 / next", "prev": "上一页 / previous"}[link["rel"]])
                   for link in doc["links"] if link["rel"] in ("next", "prev"))
    shown = (f"<p>共 {doc['numberMatched']} 个，本页 {doc['numberReturned']} 个 / "
             f"{doc['numberMatched']} matched, {doc['numberReturned']} on this page</p>")
    return page(title, shown + f"<nav>{nav}</nav>" + _table([h for _, h in _COLUMNS], rows), href)


def item(doc: dict[str, Any], href: str) -> str:
    props = doc["properties"]
    rows = [[escape(h), _cell(k, props.get(k))] for k, h in _COLUMNS]
    rows.append(["版本 / release", escape(str(props.get("release_id")))])
    return page(f"{props.get('name')} {doc['id']}", _table(["", ""], rows) + links_list(doc["links"]), href)


def queryables(doc: dict[str, Any], href: str) -> str:
    rows = [[escape(name), escape(spec.get("title", "")), escape(spec.get("type", ""))]
            for name, spec in doc["properties"].items()]
    body = ("<p>每个可查询属性都可作为查询参数（等值匹配），如 ?parent_code=… / each queryable is a "
            "query parameter (equality), e.g. ?parent_code=…</p>")
    return page(doc["title"], body + _table(["参数 / parameter", "含义 / title", "类型 / type"], rows), href)
