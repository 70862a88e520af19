"""The login and logout pages: plain HTML and CSS, Chinese first (``lang=en``), no script, no CDN."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from wangge.maps import labels

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("登录", "Log in"),
    "product": ("wangge 网格", "wangge grids"),
    "name": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "submit": ("登录", "Log in"),
    "other": ("English", "中文"),
    "wrong": ("用户名或密码错误，或账户已停用。", "Wrong user name or password, or the account is disabled."),
    "throttled": ("登录失败次数过多，请 {s} 秒后再试。",
                  "Too many failed logins; try again in {s} seconds."),
    "expired": ("请先登录。", "Please log in first."),
    "foreign": ("登录表单须从本站提交。", "The login form must be sent from this site."),
    "logged_out": ("已退出登录。", "You have logged out."),
    "logout_title": ("退出登录", "Log out"),
    "logout_ask": ("当前登录：{name}（{role}）。", "Logged in as {name} ({role})."),
    "logout_submit": ("退出登录", "Log out"),
    "back": ("返回地图", "Back to the maps"),
    "keys": ("对接系统请使用 API 密钥（请求头 X-API-Key）。",
             "Systems use an API key (X-API-Key header) instead."),
}

_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  background: #f3f5f7; color: #222; margin: 0; }
main { max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem 2.2rem;
  border: 1px solid #dde2e7; border-radius: 8px; box-shadow: 0 2px 10px rgba(0,0,0,.06); }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; } .sub { color: #667; margin: 0 0 1.4rem; }
label { display: block; margin: .9rem 0 .3rem; font-weight: bold; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .55rem .6rem;
  font-size: 1rem; border: 1px solid #bbc3cc; border-radius: 4px; }
button { margin-top: 1.4rem; width: 100%; padding: .65rem; font-size: 1.05rem; color: #fff;
  background: #1f6fb2; border: 0; border-radius: 4px; cursor: pointer; }
button:hover { background: #195c94; }
.msg { padding: .6rem .8rem; border-radius: 4px; margin-bottom: .6rem; }
.msg.error { background: #fdecea; color: #8a1c12; } .msg.info { background: #e8f3fc; color: #134f7d; }
.foot { margin-top: 1.4rem; font-size: .85rem; color: #778; }
.foot a { color: #1f6fb2; }
"""

_ROLE = {"viewer": ("查看者", "viewer"), "integrator": ("对接系统", "integrator"),
         "planner": ("规划人员", "planner"), "admin": ("管理员", "admin")}


def text(key: str, lang: str, **values: object) -> str:
    words = TEXTS[key][0 if labels.check_lang(lang) == "zh" else 1]
    return words.format(**values) if values else words


def _page(title: str, lang: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
            '<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="referrer" content="same-origin">\n'
            f"<title>{html.escape(title)} · {html.escape(text('product', lang))}</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def _message(message: str | None, kind: str) -> str:
    return f'<div class="msg {kind}" role="alert">{html.escape(message)}</div>\n' if message else ""


def login_page(*, lang: str = "zh", next_path: str = "/maps/", name: str = "",
               error: str | None = None, info: str | None = None) -> str:
    """The login form. ``error``/``info``: a message above it (already in ``lang``)."""
    other = "en" if lang == "zh" else "zh"
    switch = "/login?" + urlencode({"next": next_path, "lang": other})
    action = "/login" + ("?lang=en" if lang == "en" else "")
    body = (f"<h1>{html.escape(text('title', lang))}</h1>\n"
            f'<p class="sub">{html.escape(text("product", lang))}</p>\n'
            + _message(error, "error") + _message(info, "info")
            + f'<form method="post" action="{html.escape(action)}">\n'
            f'<input type="hidden" name="next" value="{html.escape(next_path)}">\n'
            f'<label for="name">{html.escape(text("name", lang))}</label>\n'
            f'<input id="name" name="name" type="text" autocomplete="username" required '
            f'maxlength="64" value="{html.escape(name)}" autofocus>\n'
            f'<label for="password">{html.escape(text("password", lang))}</label>\n'
            '<input id="password" name="password" type="password" autocomplete="current-password"'
            ' required maxlength="1024">\n'
            f'<button type="submit" id="submit">{html.escape(text("submit", lang))}</button>\n'
            "</form>\n"
            f'<p class="foot"><a id="lang" href="{html.escape(switch)}">'
            f'{html.escape(text("other", lang))}</a> · {html.escape(text("keys", lang))}</p>')
    return _page(text("title", lang), lang, body)


def logout_page(*, lang: str = "zh", name: str, role: str, csrf: str) -> str:
    """Asks to confirm logging out: a form that carries the session's CSRF token."""
    role_words = _ROLE.get(role, (role, role))[0 if lang == "zh" else 1]
    action = "/logout" + ("?lang=en" if lang == "en" else "")
    back = "/maps/" + ("?lang=en" if lang == "en" else "")
    body = (f"<h1>{html.escape(text('logout_title', lang))}</h1>\n"
            f'<p class="sub">{html.escape(text("logout_ask", lang, name=name, role=role_words))}'
            "</p>\n"
            f'<form method="post" action="{html.escape(action)}">\n'
            f'<input type="hidden" name="csrf" value="{html.escape(csrf)}">\n'
            f'<button type="submit" id="submit">{html.escape(text("logout_submit", lang))}'
            "</button>\n</form>\n"
            f'<p class="foot"><a href="{html.escape(back)}">{html.escape(text("back", lang))}</a></p>')
    return _page(text("logout_title", lang), lang, body)
