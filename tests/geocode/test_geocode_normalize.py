"""Normalisation of real-style messy addresses: one canonical spelling, nothing added."""

from __future__ import annotations

import pytest

from wangge.geocode.normalize import cn_to_int, normalize

CANONICAL = "江苏省盐城市亭湖区文峰街道人民中路88号和平花园3栋2单元1201室"


@pytest.mark.parametrize(("raw", "expected"), [
    # already canonical: unchanged
    (CANONICAL, CANONICAL),
    # full-width digits, letters, dashes and brackets
    ("人民中路８８号和平花园３栋２单元１２０１室", "人民中路88号和平花园3栋2单元1201室"),
    ("和平花园３－２－１２０１", "和平花园3-2-1201"),
    ("和平花园Ａ座１单元", "和平花园A栋1单元"),
    ("和平花园a座1单元", "和平花园A栋1单元"),
    # building words
    ("和平花园3幢2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园3号楼2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园3座2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园3#2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园3#楼2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园3号2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园第3栋", "和平花园3栋"),
    # "3楼" may be a floor: left alone
    ("和平花园3楼", "和平花园3楼"),
    # a door number followed by a name keeps its 号
    ("人民中路88号和平花园", "人民中路88号和平花园"),
    # Chinese numerals before a building, unit, group or room word
    ("和平花园三栋二单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园十二号楼二单元", "和平花园12栋2单元"),
    ("和平花园二十三栋", "和平花园23栋"),
    ("和平花园一号一单元102", "和平花园1栋1单元102"),
    ("和平花园3栋一二〇一室", "和平花园3栋1201室"),
    ("永丰村三组15号", "永丰村3组15号"),
    # … but not inside names
    ("三里新村3栋", "三里新村3栋"),
    # group words
    ("永丰村3村民小组15号", "永丰村3组15号"),
    ("永丰村3小组15号", "永丰村3组15号"),
    ("永丰村3队15号", "永丰村3组15号"),
    # spaces (ASCII, double, ideographic); between digits they keep the numbers apart
    ("盐城市 亭湖区  人民中路88号\u3000和平花园 3栋 2单元 1201室",
     "盐城市亭湖区人民中路88号和平花园3栋2单元1201室"),
    ("紫薇西路109  2栋2单元202室", "紫薇西路109-2栋2单元202室"),
    # bracketed noise, closed or not
    ("和平花园(东门)3栋2单元1201室", "和平花园3栋2单元1201室"),
    ("和平花园3栋2单元1201室（靠近菜场）", "和平花园3栋2单元1201室"),
    ("和平花园【老小区】3栋", "和平花园3栋"),
    ("和平花园[物业托管]3栋", "和平花园3栋"),
    ("和平花园3栋2单元1201室(东门", "和平花园3栋2单元1201室"),
    # dashes of every kind
    ("和平花园3—2—1201", "和平花园3-2-1201"),
    ("和平花园3_2_1201", "和平花园3-2-1201"),
    ("和平花园3栋2单元1201房", "和平花园3栋2单元1201室"),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_is_idempotent() -> None:
    messy = "盐城市 亭湖区 人民中路８８号 和平花园（东门） 三号楼二单元１２０１室"
    once = normalize(messy)
    assert once == "盐城市亭湖区人民中路88号和平花园3栋2单元1201室"
    assert normalize(once) == once


def test_normalize_adds_nothing() -> None:
    assert normalize("和平花园3栋") == "和平花园3栋"
    assert normalize("") == ""


@pytest.mark.parametrize(("text", "value"), [
    ("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百零五", 105),
    ("两", 2), ("一二〇一", 1201), ("", None), ("三x", None),
])
def test_cn_to_int(text: str, value: int | None) -> None:
    assert cn_to_int(text) == value
