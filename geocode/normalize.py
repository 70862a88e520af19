"""Normalise a Chinese address to one canonical spelling before parsing.

Registers write the same flat many ways: ``３栋``, ``3幢``, ``3号楼``, ``3#``, ``三栋``, ``3-2-1201``,
spaces between the parts, remarks in brackets. :func:`normalize` maps them all to the spelling the
parser expects, and changes nothing else (no component is added or guessed):

- Unicode NFKC: full-width digits, letters and punctuation become half-width (``３`` → ``3``,
  ``（`` → ``(``, ``－`` → ``-``); ASCII letters are upper-cased (``a座`` → ``A栋``).
- Brackets: text in brackets that *is* the address — a building, unit or room such as
  ``【幸福家园5-2-301】`` or ``(农行大院1幢1层106号)`` — is kept in place without its brackets;
  the Northeast's ``路57-12号(3-6-1)`` (unit 3, floor 6, door 1 of the building at that door) becomes
  ``3单元6层1号``. Other bracketed text is a remark and removed: ``(东门)``, ``【老小区】``,
  ``(新立社区)`` (an unclosed bracket runs to the end of the address); :func:`bracket_remarks`
  returns what was removed, so the parser keeps it (a community written in brackets is read there).
- All whitespace is removed; between two digits it becomes ``-`` (``109 2栋`` is door 109, building 2).
- Chinese numerals written before a building, unit, group or room word become digits:
  ``三栋`` → ``3栋``, ``十二单元`` → ``12单元``, ``三组`` → ``3组``.
- Building words after a number become ``栋``: ``幢``, ``座``, ``号楼``, ``#``, ``#楼``, ``栋楼``;
  ``号`` too when a unit follows (``3号2单元`` → ``3栋2单元``), except after a road, where it is
  the door number (``悦岭街139号6单元``). A plain ``楼`` is left alone: ``3楼``
  is as often a floor as a building.
- Group words after a number become ``组``: ``村民小组``, ``小组``, ``队``.
- Dashes of every kind (``—``, ``–``, ``_``, ``~``) become ``-``; ``第`` before a number is dropped;
  ``房`` after a room number becomes ``室``.
"""

from __future__ import annotations

import re
import unicodedata

from wangge.geo.numerals import CN_NUMERAL, cn_to_int

__all__ = ["bracket_remarks", "cn_to_int", "normalize"]

_CN_NUMERAL = CN_NUMERAL
_CN_NUMERAL_SET = frozenset(_CN_NUMERAL)

_SPACE = re.compile(r"[\s\u200b\ufeff]+")
_DIGIT_SPACE = re.compile(r"(?<=[0-9])[\s\u200b\ufeff]+(?=[0-9])")
_DASH = re.compile(r"[—–‐‑‒―_~～]")
# Anything that may need work; an address without any of these (and already NFKC) is canonical.
_TRIGGER = re.compile(r"[\sa-z\u200b\ufeff—–‐‑‒―_~～(\[【{〔《<#幢座楼队第房" + _CN_NUMERAL + r"]"
                      r"|小组|号(?=[0-9]+单元)")

_BRACKETS = re.compile(r"(?P<before>.?)[(\[【{〔《<](?P<body>[^)\]】}〕》>]*)(?:[)\]】}〕》>]|$)")
# Bracketed text that is itself the address: a building, unit or room, or a flat in dashes.
_ADDRESS_BODY = re.compile(r"[0-9A-Z一二三四五六七八九十]+(?:栋|幢|号楼|座|#|单元|室|层|楼[0-9])"
                           r"|[A-Z]?[0-9]+-[0-9]+-[0-9]+[A-Z]?(?:室|号)?$")
_BRACKET_CHARS = frozenset("([【{〔《<")
_UNIT_FLOOR_DOOR = re.compile(r"([0-9]+)-([0-9]+)-([0-9]{1,2})")
_CN_NUMBER = re.compile(
    rf"[{_CN_NUMERAL}]+(?=栋|幢|座|号楼|号[0-9{_CN_NUMERAL}]+单元|#|单元|组|村民小组|小组|队|室|层|楼[0-9东西])")
_BUILDING_WORD = re.compile(r"(?<=[0-9A-Z])(?:号楼|栋楼|幢楼|座楼|幢|座|#楼|#)")
_HAO_UNIT = re.compile(r"(?P<pre>[^0-9-]?)(?P<num>[0-9]+(?:-[0-9]+)*)号(?=[0-9]+单元)")
_DASH_HASH = re.compile(r"(?<=-[0-9])#$|(?<=-[0-9]{2})#$")   # 1-1-3-4#: the door's 号
_HAO_BEFORE_UNIT = re.compile(r"号(?=[0-9]+单元)")
_ROAD_END = frozenset("路街道巷弄里侧")
_GROUP_WORD = re.compile(r"(?<=[0-9])(?:村民小组|小组|队)")
_ORDINAL = re.compile(r"第(?=[0-9])")
_ROOM_WORD = re.compile(r"(?<=[0-9])房$")


def _bracket(match: re.Match[str]) -> str:
    before, body = match.group("before"), match.group("body")
    if before in ("号", "-") or before.isdigit():
        m = _UNIT_FLOOR_DOOR.fullmatch(body)
        if m is not None:   # 沈阳 路57-12号(3-6-1): unit 3, floor 6, door 1
            return f"{before}{m.group(1)}单元{m.group(2)}层{m.group(3)}号"
    if body and before not in ("室", "房") and _ADDRESS_BODY.search(body) is not None:
        return before + body
    return before


def bracket_remarks(address: str) -> tuple[str, ...]:
    """The bracketed remarks :func:`normalize` removes from ``address`` (kept by the parser)."""
    s = unicodedata.normalize("NFKC", address).upper()
    if _BRACKET_CHARS.isdisjoint(s):
        return ()
    return tuple(_SPACE.sub("", m.group("body")) for m in _BRACKETS.finditer(s)
                 if m.group("body") and _bracket(m) == m.group("before"))


def _hao_unit(match: re.Match[str]) -> str:
    pre, num = match.group("pre"), match.group("num")
    return f"{pre}{num}号" if pre in _ROAD_END and pre else f"{pre}{num}栋"


def _numeral(match: re.Match[str]) -> str:
    value = cn_to_int(match.group(0))
    return match.group(0) if value is None else str(value)


def normalize(address: str) -> str:
    """The canonical spelling of ``address`` (see the module docstring); never adds a component."""
    if unicodedata.is_normalized("NFKC", address) and _TRIGGER.search(address) is None:
        return address
    s = unicodedata.normalize("NFKC", address).upper()
    # Digits that spaces keep apart stay apart ("109 2栋" is door 109, building 2).
    s = _SPACE.sub("", _DIGIT_SPACE.sub("-", s))
    s = _DASH.sub("-", s)
    if not _BRACKET_CHARS.isdisjoint(s):
        s = _BRACKETS.sub(_bracket, s)
    if not _CN_NUMERAL_SET.isdisjoint(s):
        s = _CN_NUMBER.sub(_numeral, s)
    if s.endswith("#"):
        s = _DASH_HASH.sub("号", s)
    s = _BUILDING_WORD.sub("栋", s)
    if "单元" in s and _HAO_BEFORE_UNIT.search(s) is not None:
        s = _HAO_UNIT.sub(_hao_unit, s)
    if "组" in s or "队" in s:
        s = _GROUP_WORD.sub("组", s)
    if "第" in s:
        s = _ORDINAL.sub("", s)
    if s.endswith("房"):
        s = _ROOM_WORD.sub("室", s)
    return s
