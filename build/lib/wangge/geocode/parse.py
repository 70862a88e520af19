"""Split a normalised Chinese address into its components, with rules (regular expressions).

An address is read in two halves:

- the **tail**, matched at the end: ``3栋2单元1201室`` / ``3-2-1201`` (building, unit, room) in a
  town, ``3组15号`` (group, house number) in a village;
- the **head**, everything before it, read from the left: province, city, district, street or
  town (街道/镇/乡), community (社区/居委会), road and door number (``人民中路88号``), and what is
  left: the compound (小区) name, or the village (村) when the tail is a village's.

Parts that are not written stay ``None``: the parser never fills in a province, a district or a
street from what it thinks the address means. Heads repeat across the households of a building,
so :func:`parse_head` is cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from wangge.geocode.normalize import normalize

__all__ = ["Head", "ParsedAddress", "Tail", "parse", "parse_head", "split_tail"]

_HAN = r"\u4e00-\u9fff"

_PROVINCE = re.compile(
    rf"(北京市|天津市|上海市|重庆市|内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区"
    rf"|新疆维吾尔自治区|香港特别行政区|澳门特别行政区|[{_HAN}]{{2,3}}省)")
_CITY = re.compile(rf"([{_HAN}]{{2,4}}?(?:市|自治州|地区|盟))")
# A district, county or county-level city; "小区", "社区", "园区" … end in 区 but are not districts.
_DISTRICT = re.compile(rf"([{_HAN}]{{2,4}}?(?<![小社园校片街景营厂矿])(?:区|县|市|旗))")
_STREET = re.compile(rf"([{_HAN}]{{2,5}}?(?:街道办事处|街道|镇|乡))")
_COMMUNITY = re.compile(rf"([{_HAN}]{{2,5}}?(?:社区居委会|社区|居委会|村委会))")
_ROAD = re.compile(rf"([{_HAN}]{{1,8}}?(?:大道|大街|路|街|巷|弄))(?:([0-9]+)(?:号|-)?)?")

_URBAN_TAIL = re.compile(
    r"(?P<b>[A-Z]?[0-9]+|[A-Z])(?:栋|-(?=[0-9]))(?:(?P<u>[0-9]+)(?:单元|-))?(?P<r>[0-9]+)?(?:室|号)?$")
_RURAL_TAIL = re.compile(r"(?P<g>[0-9]+)组(?:(?P<h>[0-9]+)号?)?$")


class Head(NamedTuple):
    """The left part of an address: administrative names, road and door, compound or village."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    road: str | None = None
    road_number: str | None = None
    rest: str | None = None    # compound name (town) or village name (village), if any


class Tail(NamedTuple):
    """The right part: building, unit and room in a town; group and house number in a village."""

    kind: str = "none"          # "urban", "rural" or "none"
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    group: str | None = None
    house_number: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """The components of one address; ``None`` where the address does not say."""

    normalized: str
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    road: str | None = None
    road_number: str | None = None
    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    village: str | None = None
    group: str | None = None
    house_number: str | None = None

    @property
    def floor(self) -> int | None:
        """The floor of the room (``1201`` → 12), if the room is written as floor + two digits."""
        if self.room is None or len(self.room) < 3:
            return None
        return int(self.room[:-2])


_NO_TAIL = Tail()


def split_tail(normalized: str) -> tuple[str, Tail]:
    """Cut a normalised address into its head text and its :class:`Tail`."""
    m = _URBAN_TAIL.search(normalized)
    if m is not None:
        return normalized[:m.start()], Tail("urban", m.group("b"), m.group("u"), m.group("r"))
    m = _RURAL_TAIL.search(normalized)
    if m is not None:
        return normalized[:m.start()], Tail("rural", group=m.group("g"), house_number=m.group("h"))
    return normalized, _NO_TAIL


@lru_cache(maxsize=262_144)
def parse_head(head: str) -> Head:
    """Read administrative names, road and door from the left of ``head``; the rest is a name."""
    parts: dict[str, str | None] = {}
    pos = 0
    for key, pattern in (("province", _PROVINCE), ("city", _CITY), ("district", _DISTRICT),
                         ("street", _STREET), ("community", _COMMUNITY)):
        m = pattern.match(head, pos)
        if m is not None:
            parts[key] = m.group(1)
            pos = m.end()
    # A road: a name ending in 路/街/大道…, optionally its door number. Without a number, a name
    # ending in 街/巷/弄 followed by more text is more likely a compound's name ("金街花园").
    m = _ROAD.match(head, pos)
    if m is not None and (m.group(2) is not None or m.end() == len(head)
                          or m.group(1).endswith(("路", "大道", "大街"))):
        parts["road"] = m.group(1)
        parts["road_number"] = m.group(2)
        pos = m.end()
    rest = head[pos:].strip("-")
    return Head(rest=rest or None, **parts)


def parse(address: str) -> ParsedAddress:
    """Normalise and parse one address (see the module docstring)."""
    normalized = normalize(address)
    head_text, tail = split_tail(normalized)
    return assemble(normalized, parse_head(head_text), tail)


def assemble(normalized: str, head: Head, tail: Tail) -> ParsedAddress:
    """A :class:`ParsedAddress` from the two halves; the head's name is a village's in a village."""
    parsed = ParsedAddress(
        normalized=normalized, province=head.province, city=head.city, district=head.district,
        street=head.street, community=head.community, road=head.road,
        road_number=head.road_number, building=tail.building, unit=tail.unit, room=tail.room,
        group=tail.group, house_number=tail.house_number)
    if tail.kind == "rural":
        return replace(parsed, village=head.rest)
    return replace(parsed, compound=head.rest)
