"""Split a normalised Chinese address into its components, with rules (regular expressions).

An address is read in two halves:

- the **tail**, matched at the end: building, unit, floor and room in a town, group and house
  number in a village. The notations registers mix all end up here: ``3栋2单元1201室``,
  ``3-2-1201`` (building-unit-room), ``3栋1-6-2`` (after a building: unit-floor-door),
  ``25-1-2-4`` (building-unit-floor-door), ``3栋2-1201`` (unit-room), ``2层1号``, ``4楼东户``,
  ``3组15号``. A building number may carry a dash or letters (``5-12栋``, ``A-10栋``, ``B08``): in
  ``幸福二区5-12号楼`` the compound is ``幸福二区`` and the building ``5-12`` — a dash inside a number
  that a building word closes belongs to the building, the way ``2-1幢`` is written. Words after
  the room that say what the room is (``商铺``, ``门面``, ``车库``, ``地下室``…) are kept in ``rest``.
- the **head**, everything before it, read from the left, each level where it belongs: province
  (also without ``省``: ``江苏盐城…``), city (also without ``市`` after a province:
  ``辽宁省大连经济技术开发区…``), district or county (a county-level city such as ``丹阳市``
  is one: :mod:`wangge.geocode.admin_names` tells them from prefecture-level cities), development
  zones (kept in ``rest``, never taken for a district), street or town (街道/街办/办事处/镇/乡),
  community (社区/居委会), village (村/村委会), a named group (``新屋组``), road and door number
  (``人民中路88号``, ``168-2号``, ``35号附1号``, ``178号之十二``, ``262甲号``), and what is left: the
  compound (小区) name, or the village when the tail is a village's.

Parts that are not written stay ``None``: the parser never fills in a province, a district or a
street from what it thinks the address means, and never adds a level word (``江苏`` stays
``江苏``). Text it cannot place is kept in ``rest``, never dropped. Heads repeat across the
households of a building, so :func:`parse_head` is cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import ClassVar, NamedTuple

from wangge.geocode.admin_names import CITY_SHORT, PROVINCE_SHORT, is_prefecture_city
from wangge.geocode.normalize import bracket_remarks, normalize

__all__ = ["Head", "ParsedAddress", "Tail", "parse", "parse_head", "split_tail"]

_HAN = r"\u4e00-\u9fff"

_PROVINCE = re.compile(
    rf"(北京市|天津市|上海市|重庆市|内蒙古自治区|广西壮族自治区|西藏自治区|宁夏回族自治区"
    rf"|新疆维吾尔自治区|香港特别行政区|澳门特别行政区|[{_HAN}]{{2,3}}省)")
_PROVINCE_SHORT = re.compile("(" + "|".join(sorted(PROVINCE_SHORT, key=len, reverse=True)) + ")")
_CITY = re.compile(rf"([{_HAN}]{{2,10}}?自治州|[{_HAN}]{{2,4}}?(?:市|地区|盟))")
# After a short city name, a level word means the name is not a city here (朝阳区, 吉林市).
_NOT_AFTER_SHORT_CITY = frozenset("区县市旗镇乡街路道巷村")
_DISTRICT = re.compile(rf"([{_HAN}]县|[{_HAN}]{{2,6}}?(?<![小社园校片街景厂矿一二三四五六七八九十])"
                       rf"(?:区|县|市|旗))")
_ZONE_WORDS = ("开发区", "高新", "园区", "产业", "示范区", "试验区", "管理区", "度假区", "保税",
               "生态区", "综合", "片区", "自贸", "工业区", "港区")
_ZONE = re.compile(rf"([{_HAN}0-9]{{0,14}}?(?:高新技术产业开发区|经济技术开发区|技术开发区|经济开发区"
                   rf"|开发区|高新区|工业园区|产业园区|园区|示范区|试验区|管理区|度假区|生态区|片区"
                   rf"|保税区|工业区))")
_STREET = re.compile(rf"([{_HAN}]{{1,6}}?(?:街道办事处|街道办|街道|街办|办事处|镇"
                     rf"|(?<![水家故梦])乡)(?![道村]))")
_COMMUNITY = re.compile(rf"([{_HAN}0-9]{{1,8}}?(?:社区居民委员会|社区居委会|社区|居民委员会|居委会))")
_VILLAGE = re.compile(rf"([{_HAN}]{{1,7}}?(?:村民委员会|村委会|村)(?![委民])"
                      rf"(?![东西南北中]?(?:路|街|大道|巷)))")
_NAMED_GROUP = re.compile(rf"([{_HAN}]{{1,3}}?)组(?=[0-9]|$)")
_ROAD_WORD = re.compile(r"大道|大街|路|街|巷|弄|道")
_ROAD_SECTION = re.compile(rf"[东西南北中一二三四五六七八九十]段|[{_HAN}]{{2}}段|延长线|[东西南北]端")
_DOOR = re.compile(r"(?P<n>[甲乙丙丁]?[0-9]+(?:-[0-9]+)*[甲乙丙丁A-Z]?)(?P<hao>号)?"
                   r"(?:(?P<w>之|附)(?P<n2>[0-9一二三四五六七八九十]+(?:-[0-9]+)?)号?)?")
_END_DOOR = re.compile(r"(?P<n>[甲乙丙丁]?[0-9]+(?:-[0-9]+)?(?:附[0-9]+)?)号?$")

# --- the tail ---------------------------------------------------------------------------------
_BLD = r"[A-Z]{0,2}-?[0-9]+[A-Z]?(?:-[0-9]+)?|[A-Z]{1,2}"
_BLD_DASH = r"[A-Z]{0,2}[0-9]+[A-Z]?|[A-Z]{1,2}"
_UNIT = r"[东西南北中]?[0-9]+|[A-Z]"
_UNIT_WORD = r"(?:单元|门)"
_FLOOR = r"[0-9]+(?:-[0-9]+)?"
_ROOM = r"[A-Z]?[0-9]+[A-Z]?(?:-[0-9]+)?(?:[、,][A-Z]?[0-9]+)*|[东西南北中]户?"
_ROOM_WORD = r"(?:室|号房|号|房间|房|户)?"
_NOTE = re.compile(r"(?:号)?(商铺|门面房|门面|商服|营业房|车库|地下室|储藏室|杂物间|底商|住宅)$")
_TAILS = (
    # explicit building, then unit-floor-door or unit-room in dashes
    re.compile(rf"(?P<b>{_BLD})栋-?(?P<u>[0-9]+)-(?P<f>[0-9]+)-(?P<r>[0-9]{{1,2}}){_ROOM_WORD}$"),
    re.compile(rf"(?P<b>{_BLD})栋-?(?P<u>[0-9]+)-(?P<r>[0-9]+[A-Z]?){_ROOM_WORD}$"),
    # explicit building, then what is written of unit, floor and room
    re.compile(rf"(?P<b>{_BLD})栋(?:(?P<u>{_UNIT})?{_UNIT_WORD})?(?:(?P<f>{_FLOOR})(?:层|楼|F))?"
               rf"(?:(?P<r>{_ROOM}){_ROOM_WORD})?$"),
    # building-unit-floor-door, building-unit-room
    re.compile(rf"(?P<b>{_BLD_DASH})-(?P<u>[0-9]+)-(?P<f>[0-9]+)-(?P<r>[0-9]{{1,2}}){_ROOM_WORD}$"),
    re.compile(rf"(?P<b>{_BLD_DASH})-(?P<u>[0-9]+)-(?P<r>[0-9]+[A-Z]?){_ROOM_WORD}$"),
    # building-room: 3-1201
    re.compile(rf"(?P<b>{_BLD_DASH})-(?P<r>[0-9]{{3,4}}){_ROOM_WORD}$"),
    # no building: unit, floor, room
    re.compile(rf"(?P<u>{_UNIT}){_UNIT_WORD}(?:(?P<f>{_FLOOR})(?:层|楼|F))?(?:(?P<r>{_ROOM}){_ROOM_WORD})?$"),
    re.compile(rf"(?<![0-9-])(?P<f>[0-9]+)(?:层|楼|F)(?:(?P<r>{_ROOM}){_ROOM_WORD})?$"),
    # a room after a door number or a compound: 346号402室
    re.compile(r"(?<=[号一二三四五六七八九十])(?P<r>[0-9]{3,5})(?:室|房|户)$"),
    re.compile(r"(?<=号院)(?P<r>[0-9]{3,5})$"),
)
_RURAL_TAIL = re.compile(r"(?P<g>[0-9]+)组(?:(?P<h>[0-9]+(?:-[0-9]+)?)号?)?"
                         r"(?:(?P<f>[0-9]+)(?:楼|层))?(?:(?P<r>[0-9]+)(?:室|号)?)?$")
_DASH4, _DASH3, _DASH2 = 3, 4, 5   # indexes in _TAILS of the dash notations without a building word
_WINDOW = 28
# What a tail pattern needs in the text (all of the first, one of the second): skips the search.
_NEEDS = ((("栋", "-"), ()), (("栋", "-"), ()), (("栋",), ()), (("-",), ()), (("-",), ()),
          (("-",), ()), ((), ("单元", "门")), ((), ("层", "楼", "F")), ((), ("室", "房", "户")),
          (("院",), ()))
_AFTER_ROAD = re.compile(rf"[{_HAN}](?:大道|大街|路|街|巷|弄)(?:[东西南北中]段)?$")
_FAST_TAIL = re.compile(r"(?<![0-9A-Z-])(?P<b>[A-Z]?[0-9]+)栋(?:(?P<u>[0-9]+)单元)?(?P<r>[0-9]{3,4})室?$")
_SHOP_NUMBER = re.compile(r"(商铺|门面)([A-Z]?[0-9]+(?:-[0-9]+)?)号?$")
_NOTE_NUMBER = re.compile(r"(?<![0-9-])([A-Z]?[0-9]+(?:-[0-9]+)?)号?$")
_FLOOR_DOOR = re.compile(r"[0-9]{1,2}-[0-9]{1,2}")
_ROAD_TEXT = re.compile(rf"[{_HAN}0-9]+")
_LONGER_ROAD = re.compile(r"[东西南北中]?(?:路|大道|大街)")
_SIDE = re.compile(r"以?[东西南北]侧|以[东西南北]")
# Cheap test: an address without any of these has no tail.
_TAIL_HINT = re.compile(r"[0-9A-Z]")


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
    village: str | None = None  # a village written as a level (``王庄村``) before more text
    group: str | None = None    # a group written by name (``新屋组``)
    extra: tuple[str, ...] = ()  # text kept but not placed: development zones

    def name(self, kind: str) -> str | None:
        """The name to look up: the village in a village, else the compound (or the village)."""
        if kind == "rural":
            return self.village or self.rest
        return self.rest or self.village


class Tail(NamedTuple):
    """The right part: building, unit and room in a town; group and house number in a village."""

    kind: str = "none"          # "urban", "rural" or "none"
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    group: str | None = None
    house_number: str | None = None
    floor: str | None = None     # as written: 12层, 4楼, the floor part of 1-12-3
    note: str | None = None      # what the room is: 商铺, 车库, 地下室…

    @property
    def floor_number(self) -> int | None:
        """The floor, written or read from the room (``1201`` → 12), if it is a number."""
        if self.floor is not None and self.floor.isdigit():
            return int(self.floor)
        if self.room is not None and len(self.room) >= 3 and self.room.isdigit():
            return int(self.room[:-2])
        return None

    @property
    def unit_number(self) -> int | None:
        return int(self.unit) if self.unit is not None and self.unit.isdigit() else None


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
    written_floor: str | None = None
    rest: tuple[str, ...] = ()   # text kept but not placed: zones, remarks in brackets, 商铺…

    TEXT_FIELDS: ClassVar[tuple[str, ...]] = (
        "province", "city", "district", "street", "community", "road", "road_number", "compound",
        "building", "unit", "room", "village", "group", "house_number", "written_floor")

    @property
    def floor(self) -> int | None:
        """The floor: as written (``12层``), else read from the room (``1201`` → 12)."""
        return Tail(room=self.room, floor=self.written_floor).floor_number


_NO_TAIL = Tail()


def split_tail(normalized: str) -> tuple[str, Tail]:
    """Cut a normalised address into its head text and its :class:`Tail`."""
    if _TAIL_HINT.search(normalized) is None:
        return normalized, _NO_TAIL
    m = _FAST_TAIL.search(normalized, max(0, len(normalized) - 16))
    if m is not None and "组" not in normalized and m.start() > max(0, len(normalized) - 16):
        # the common form 3栋2单元1201室, whose building cannot carry a door number
        return normalized[:m.start()], Tail("urban", m.group("b"), m.group("u"), m.group("r"))
    text, note = normalized, None
    m = _NOTE.search(text, max(0, len(text) - 5))
    if m is not None:
        text, note = text[:m.start()] + ("号" if m.group(0).startswith("号") else ""), m.group(1)
        text = text.removesuffix("号") if text.endswith("号") and not text[-2:-1].isdigit() else text
    m = _SHOP_NUMBER.search(text) if ("商铺" in text or "门面" in text) else None
    if m is not None:                          # 和美小区商铺2号: shop 2
        return text[:m.start()], Tail("urban", room=m.group(2), note=m.group(1))
    m = _RURAL_TAIL.search(text) if "组" in text else None
    if m is not None:
        return text[:m.start()], Tail("rural", group=m.group("g"), house_number=m.group("h"),
                                      room=m.group("r"), floor=m.group("f"), note=note)
    # Tails are short: search the end of the text first (the full text if a match reaches the
    # window's edge, where a number may have been cut).
    start = max(0, len(text) - _WINDOW)
    window = text[start:]
    for i, pattern in enumerate(_TAILS):
        every, some = _NEEDS[i]
        if any(w not in window for w in every) or (some and all(w not in window for w in some)):
            continue
        m = pattern.search(text, start)
        if m is not None and start and m.start() == start:
            m = pattern.search(text)
        if m is not None:
            found = m.groupdict()
            head = text[:m.start()]
            building = found.get("b")
            if i < _DASH4 and building and "-" in building and _AFTER_ROAD.search(head):
                door, building = building.rsplit("-", 1)     # 民主路85-1栋: door 85, building 1
                head, found["b"] = f"{head}{door}-", building
            if i == _DASH2 and _AFTER_ROAD.search(head):
                continue                          # 人民路301-1201: a door number
            if i == _DASH3 and _AFTER_ROAD.search(head):
                # 解放路6-3-702号: right after a road the first number is its door, not a building.
                return f"{head}{found['b']}号", Tail("urban", None, found["u"], found["r"], note=note)
            room, floor = found.get("r"), found.get("f")
            if found.get("u") and floor is None and room and _FLOOR_DOOR.fullmatch(room):
                floor, room = room.split("-")     # 2单元16-2号: floor 16, door 2
            return head, Tail("urban", found.get("b"), found.get("u"), room, floor=floor, note=note)
    if note is not None:
        m = _NOTE_NUMBER.search(text)
        if m is not None:                      # 锦绣华庭小区3号商铺: shop 3
            return text[:m.start()], Tail("urban", room=m.group(1), note=note)
        return text, Tail(note=note)
    return normalized, _NO_TAIL


def _road(head: str, pos: int) -> tuple[str, str | None, int] | None:
    """A road at ``pos`` (name ending in 路/街/大道…, optional section) and its door number."""
    for m in _ROAD_WORD.finditer(head, pos + 1, min(len(head), pos + 14)):
        end = m.end()
        if _ROAD_TEXT.fullmatch(head, pos, end) is None:
            return None
        if head.startswith(("大道", "大街"), m.start()) and m.group(0) in ("路", "街", "道"):
            continue
        if _LONGER_ROAD.match(head, end):
            continue                  # 建兴巷东路: the road is the longer name
        base = head[pos:end]
        section = _ROAD_SECTION.match(head, end)
        if section is not None:
            end = section.end()
        name = head[pos:end]
        door = _DOOR.match(head, end)
        if door is not None:
            number = door.group("n") + (f"{door.group('w')}{door.group('n2')}" if door.group("w")
                                        else "")
            return name, number, door.end()
        if end == len(head) or (len(base) >= 3 and base.endswith(("路", "大道", "大街", "街", "巷"))):
            return name, None, end
    return None


@lru_cache(maxsize=262_144)
def parse_head(head: str) -> Head:
    """Read administrative names, road and door from the left of ``head``; the rest is a name."""
    parts: dict[str, str | None] = {}
    extra: list[str] = []
    pos = 0
    m = _PROVINCE.match(head)
    if m is None:
        m = _PROVINCE_SHORT.match(head)
        if m is not None and head.startswith(("省", "市"), m.end()):
            m = None
    if m is not None:
        parts["province"] = m.group(1)
        pos = m.end()
    m = _CITY.match(head, pos)
    if m is not None:
        name = m.group(1)
        if name.endswith("市") and not is_prefecture_city(name):
            parts["district"] = name       # a county-level city
        else:
            parts["city"] = name
        pos = m.end()
    elif "province" in parts:
        for short in CITY_SHORT:
            if head.startswith(short, pos) and head[pos + len(short):pos + len(short) + 1] \
                    not in _NOT_AFTER_SHORT_CITY:
                parts["city"] = short
                pos += len(short)
                break
    for key, pattern in (("district", _DISTRICT), ("street", _STREET),
                         ("community", _COMMUNITY), ("village", _VILLAGE)):
        if key in parts:
            continue
        m = pattern.match(head, pos)
        if key == "district" and m is not None and (
                any(w in m.group(1) for w in _ZONE_WORDS) or "街" in m.group(1) or "路" in m.group(1)):
            m = None
        # Every zone word ends in 区: look for a zone only where one could be.
        zone = _ZONE.match(head, pos) if m is None and "区" in head[pos:pos + 22] else None
        if zone is not None:
            extra.append(zone.group(1))
            pos = zone.end()
            m = pattern.match(head, pos)
        if m is not None and key == "village" and any(w in m.group(1) for w in "路街道巷"):
            m = None                  # 同心北路怡祥新村: a road, then a compound named …村
        if m is not None:
            parts[key] = m.group(1)
            pos = m.end()
    m = _NAMED_GROUP.match(head, pos)
    if m is not None and ("community" in parts or "village" in parts):
        parts["group"] = m.group(1)
        pos = m.end()
    road = _road(head, pos)
    if road is not None:
        name, parts["road_number"], pos = road
        parts["road"] = name
        if parts["road_number"] is None and "street" not in parts and name.endswith("街"):
            second = _road(head, pos)
            if second is not None:    # 西营门街复康路: a street (街道) written 街, then the road
                parts["street"] = parts["road"]
                parts["road"], parts["road_number"], pos = second
    side = _SIDE.match(head, pos) if "road" in parts else None
    if side is not None:          # 东升路南侧8号: the side of the road is kept, not a name
        extra.append(side.group(0))
        pos = side.end()
    rest = head[pos:].strip("-")
    if rest.startswith("院") and parts.get("road_number"):
        rest = f"{parts['road_number']}号{rest}"     # 辰光东路16号院: door 16, compound 16号院
    for word in ("商铺", "门面"):
        if rest.endswith(word):
            extra.append(word)
            rest = rest[: -len(word)]
    if parts.get("road_number") is None and rest and (rest[-1].isdigit() or rest[-1] == "号"):
        door = _END_DOOR.search(rest)
        if door is not None and (door.start() == 0 or "road" in parts or "village" in parts
                                 or "community" in parts):
            parts["road_number"] = door.group("n")
            rest = rest[:door.start()].strip("-")
    return Head(rest=rest or None, extra=tuple(extra), **parts)


def parse(address: str) -> ParsedAddress:
    """Normalise and parse one address (see the module docstring)."""
    normalized = normalize(address)
    head_text, tail = split_tail(normalized)
    parsed = assemble(normalized, parse_head(head_text), tail)
    remarks = bracket_remarks(address) if any(c in address for c in "([【{〔《<（") else ()
    if remarks:
        # A community or a district written in brackets is read there; other remarks are kept.
        kept = []
        for remark in remarks:
            if parsed.community is None and _COMMUNITY.fullmatch(remark):
                parsed = replace(parsed, community=remark)
            elif parsed.district is None and _DISTRICT.fullmatch(remark) \
                    and not any(w in remark for w in _ZONE_WORDS):
                parsed = replace(parsed, district=remark)
            else:
                kept.append(remark)
        parsed = replace(parsed, rest=(*parsed.rest, *kept))
    return parsed


def assemble(normalized: str, head: Head, tail: Tail) -> ParsedAddress:
    """A :class:`ParsedAddress` from the two halves; the head's name is a village's in a village."""
    rest = head.extra + ((tail.note,) if tail.note else ())
    village, compound = head.village, head.rest
    door, house = head.road_number, tail.house_number
    if tail.kind == "rural":
        village = head.name("rural")
        compound = head.rest if head.village is not None else None
    elif head.village is not None and tail.building is not None and head.road is None \
            and not head.village.endswith(("村委会", "村民委员会")):
        village, compound = None, head.village + (compound or "")   # 顺发新村19栋: a compound …村
    if tail.kind != "rural" and village is not None and door is not None and head.road is None:
        door, house = None, door               # 料石坡村2号: a village's house number
    return ParsedAddress(
        normalized=normalized, province=head.province, city=head.city, district=head.district,
        street=head.street, community=head.community, road=head.road, road_number=door,
        compound=compound, building=tail.building, unit=tail.unit, room=tail.room,
        village=village, group=tail.group or head.group, house_number=house,
        written_floor=tail.floor, rest=rest)
