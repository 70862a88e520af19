"""A demo household register for the demo district, with its gazetteer and the truth.

Generated deterministically from ``seed`` inside the micro-grids of :func:`wangge.demo.district.build_demo`:

- **Compounds (小区)** in the urban micro-grids, one or two per micro-grid and each inside exactly
  one (a compound is never split across grids): an inset of the micro-grid or of half of it,
  stored as a polygon or, for a share, as a point. Invented names (``锦秀花园``, ``春晖新村``)
  whose suffix follows the kind of housing: old six-storey blocks (新村/小区), mid-rise (花园/
  家园/苑) and high-rise (名苑/华府/公馆).
- **Roads**: a grid of invented but plausible road names (``人民中路``, ``通榆北路``, ``开放大道``)
  laid over each cluster of urban micro-grids; each compound has its door on the nearest road,
  numbered along it, odd on one side and even on the other.
- **Buildings (楼栋)** inside their compound, numbered 1..N north to south and west to east,
  with 2–3 units (单元) and 6, 11 or 18 floors of two flats (rooms ``101`` … ``1802``).
- **Villages** in the rural micro-grids: one village (村) per community, its groups (组) one or
  two per micro-grid, and the houses of each group numbered 1..N (``3组15号``). In the gazetteer
  a village group is a "compound" (``category="village"``) and each house a "building".
- **Households**: flats drawn from the buildings (most not all flats are registered), one house
  per rural household, and about 0.5 % unlocatable (a compound, village or door that does not
  exist, no coordinates). A canonical address reads
  ``江苏省盐城市亭湖区文峰街道人民中路88号和平花园3栋2单元1201室``; about 30 % are written the
  messy ways real registers are (see ``VARIANTS``), 1–3 variants each.
- **Coordinates** for about 20 % of the located households, in WGS-84, GCJ-02 or BD-09 (converted
  from the truth with :mod:`wangge.geo.chinacoords`, plus a few metres of noise); 5 % of those are wrong:
  far from the building, or GCJ-02/BD-09 values labelled with the wrong CRS.
- **Personal data** is synthetic and obviously fake: names drawn from common characters, phone
  numbers ``10X-0000-XXXX`` (no Chinese mobile number starts with 10), ID numbers with the
  well-formed 18-character layout and check digit but the non-existent province code 99.

``truth`` gives, per household, the building and micro-grid it really belongs to, the true
WGS-84 point and the variants applied, so tests can score the geocoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from wangge.demo.district import build_demo
from wangge.geo import chinacoords
from wangge.geo.crs import STORAGE_CRS, area_m2, from_metric, metric_crs_for, to_metric
from wangge.geo.errors import InputError

__all__ = ["VARIANTS", "DemoRegister", "build_register"]

RURAL_SHARE = 0.12          # of the households, in villages
UNLOCATABLE_SHARE = 0.005   # addresses of nothing in the gazetteer, without coordinates
MESSY_SHARE = 0.30          # written with 1–3 of the variants below
COORDS_SHARE = 0.20         # of the located households, carrying coordinates
WRONG_COORDS_SHARE = 0.05   # of those, far from the building or labelled with the wrong CRS
GIVEN_BUILDING_SHARE = 0.06 # of the located households, with the office's building id
CAPACITY = 1.3              # flats per registered household: not every flat is in the register
TWO_COMPOUND_SHARE = 0.25   # urban micro-grids holding two compounds (else one)
POINT_COMPOUND_SHARE = 0.2  # compounds stored as a point rather than a polygon
ROAD_SPACING_M = 420.0
COORD_NOISE_M = 3.0

_ADMIN = {"320902": ("江苏省", "盐城市", "亭湖区"), "320903": ("江苏省", "盐城市", "盐都区"),
          "320812": ("江苏省", "淮安市", "清江浦区"), "370784": ("山东省", "潍坊市", "安丘市"),
          "211002": ("辽宁省", "辽阳市", "白塔区")}

# Housing kinds: floors, possible unit counts, flats per floor, name suffixes.
_KINDS = {
    "old": (6, (2, 3), 2, ("新村", "小区", "新村", "小区", "公寓")),
    "mid": (11, (2,), 2, ("小区", "花园", "家园", "苑", "嘉园")),
    "high": (18, (2, 3), 2, ("花园", "苑", "名苑", "华府", "公馆", "雅苑", "家园", "嘉园")),
}
_KIND_WEIGHTS = (("old", 0.35), ("mid", 0.35), ("high", 0.30))

# Invented names. None of these characters is a numeral or a word the address parser reads as
# structure (路 街 区 市 县 镇 乡 村 组 栋 号 座 幢 楼 单元 室).
_COMPOUND_FIRST = "和锦翠金碧紫春秋阳丽美蓝天星月云雅御君汇恒富盛凤鹿鸣梧桐荷梅兰竹菊松柏枫玉明"
_COMPOUND_SECOND = "平绣秀庭湾城都港江河湖海山水溪泉林岸洲岭峰桥亭阁轩居邸景悦欣怡馨瑞祥福禧康宁安"
_VILLAGE_FIRST = "东西南北新兴永丰红胜友团民富建前曙联跃卫双中王李陈张周吴沈"
_VILLAGE_SECOND = "风光丰民利谊结乐强立进合星旗华安荣庄河港桥湾墩舍垛灶"
# Names of things that do not exist: characters used by no real name above.
_GHOST_FIRST = "博宏铂蔚泓瀚琨璟骏澄"
_GHOST_SECOND = "坤峻璞珀琦翰杉栎萃芮"
_GHOST_SUFFIX = ("大厦", "广场", "商住楼", "公寓", "花园", "小区")
_GHOST_ROADS = ("建国路", "中山北路", "鼓楼街", "淮海路", "北京东路", "延安路", "复兴大道")
_ROAD_ROOTS = (
    "人民 解放 建设 青年 文化 开放 希望 世纪 新都 迎宾 范公 黄海 向阳 团结 友谊 健康 光明 胜利 "
    "幸福 振兴 朝阳 东进 红旗 育才 环城 通榆 串场 跃进 长江 黄河 珠江 太平 永宁 新民 大庆 晨光 "
    "公园 戴庄 青墩 利民 盐马 毓秀 登瀛 海纯 渔业 建军 宝龙 华林 富康 迎春 学海 新园 聚龙 龙腾 "
    "凤鸣 华中 金海 翔宇 益民 兴业 创业 实业 工农 园林 沿河 滨河 滨湖 湖滨 双元 星海 港城 盐渎 "
    "瀛洲 新港 光华 光荣 和谐 安康 康居 民主 民生 文港 文汇 文昌 育英 育红 晨曦 朝晖 春晖 秋实 "
    "锦绣 繁荣 兴旺 永丰 永安 永兴 人和 东方 南洋 北湖 西溪 鹤鸣 丹顶 湖畔 鹿鸣 海盐 射河 串河 "
    "大寨 古渎 先锋 新河 黄沙 白鹭 翠竹 银杏 梧桐 香樟 紫薇 玉兰 海棠 桂花 金桂 丹桂 枫林").split()

# One wrong character: homophones and look-alikes, the typos of a register clerk.
_TYPOS = {
    "和": "合禾何", "锦": "紧谨井", "翠": "萃脆", "金": "今津进", "碧": "璧必壁", "紫": "梓子姿",
    "春": "纯椿", "秋": "丘邱", "阳": "扬洋杨", "丽": "力莉立", "美": "梅媚每", "蓝": "兰岚澜",
    "天": "添田", "星": "新兴", "月": "悦越跃", "云": "芸运韵", "雅": "亚娅", "御": "玉誉裕",
    "君": "军钧均", "汇": "惠会辉", "恒": "衡横", "富": "福复府", "盛": "胜圣晟", "凤": "风丰",
    "鹿": "禄露陆", "鸣": "明铭名", "梧": "吴悟", "桐": "同童彤", "荷": "和禾合", "梅": "美玫眉",
    "兰": "蓝岚澜", "竹": "筑珠朱", "菊": "桔局", "松": "嵩颂", "柏": "伯泊", "枫": "峰丰风",
    "玉": "御裕育", "明": "鸣名铭", "平": "苹评萍", "绣": "秀锈", "秀": "绣岫", "庭": "廷婷亭",
    "湾": "弯", "城": "成诚承", "都": "督", "港": "岗刚", "江": "疆姜", "河": "合和禾", "湖": "壶葫",
    "海": "嗨", "山": "珊衫", "水": "税", "溪": "西希曦", "泉": "全权", "林": "琳霖", "岸": "安按",
    "洲": "州舟周", "岭": "领玲", "峰": "丰锋枫", "桥": "乔侨", "亭": "婷庭廷", "阁": "格歌",
    "轩": "宣萱", "居": "聚菊", "邸": "底帝", "景": "锦井静", "悦": "月跃越", "欣": "新馨昕",
    "怡": "宜仪", "馨": "欣新心", "瑞": "睿锐", "祥": "翔详", "福": "富复", "禧": "喜熙",
    "康": "慷糠", "宁": "凝柠", "安": "岸鞍",
    # suffixes
    "新": "心欣馨", "村": "邨", "花": "华化", "园": "圆源", "家": "佳嘉", "苑": "院园远",
    "嘉": "佳家", "名": "明铭", "华": "化花", "府": "富", "公": "宫", "馆": "管官", "寓": "遇",
    "小": "晓",
    # villages
    "东": "冬董", "西": "溪希", "南": "楠男", "北": "贝", "兴": "星幸", "永": "涌勇", "丰": "峰风",
    "红": "宏洪", "胜": "盛圣", "友": "有佑", "团": "屯", "民": "名敏", "建": "健剑", "前": "钱乾",
    "曙": "书舒", "联": "连莲", "跃": "月悦", "卫": "伟为", "双": "爽霜", "中": "忠钟", "王": "汪旺",
    "李": "里理", "陈": "晨沉", "张": "章彰", "周": "洲舟", "吴": "梧武", "沈": "审申", "风": "峰丰",
    "光": "广", "利": "力立", "谊": "义益", "结": "杰洁", "乐": "勒", "强": "墙", "立": "利力",
    "进": "近晋", "合": "河和", "旗": "棋齐", "荣": "容蓉", "庄": "装妆", "墩": "敦顿", "舍": "设",
    "垛": "朵剁", "灶": "造皂",
}
_NOISE = ("(东门)", "（北门）", "(南区)", "【老小区】", "(原化肥厂宿舍)", "（靠近菜场）", "[物业托管]",
          "(西侧)", "（二期）")
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
             "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶")
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国玉兰红梅志文斌海燕波宁晨浩宇欣怡子涵梓轩雨萱"

# Messy ways of writing an address, with their relative frequency. Town addresses use all but
# group_word; village addresses use fullwidth, spaces, no_prefix, typo, noise, hao_dash,
# group_word and cn_numerals.
VARIANTS = {
    "fullwidth": 1.0,      # ３栋２单元
    "building_word": 1.0,  # 幢 / 号楼 / 座 / # / #楼 for 栋
    "dash": 1.0,           # 3-2-1201, 3栋2-1201, 单元 or 室 left out
    "hao_dash": 0.6,       # 88- or 88 for 88号 (15 for 15号 in a village)
    "spaces": 0.8,         # spaces between the parts
    "no_prefix": 1.2,      # province, city, district (and street) left out
    "typo": 0.8,           # one wrong (homophone) character in the compound or village name
    "no_road": 0.6,        # road and door number left out
    "no_compound": 0.5,    # compound name left out (road and door kept)
    "noise": 0.6,          # (东门), 【老小区】 …
    "cn_numerals": 0.5,    # 三栋二单元, 三组
    "group_word": 0.8,     # 3村民小组 / 3队 for 3组
}
_URBAN_VARIANTS = tuple(v for v in VARIANTS if v != "group_word")
_RURAL_VARIANTS = ("fullwidth", "spaces", "no_prefix", "typo", "noise", "hao_dash", "group_word",
                   "cn_numerals")
_EXCLUSIVE = {frozenset(p) for p in (("no_road", "no_compound"), ("dash", "building_word"),
                                     ("dash", "cn_numerals"), ("no_compound", "typo"),
                                     ("no_road", "hao_dash"))}
_EXCLUDES = {v: frozenset(w for pair in _EXCLUSIVE if v in pair for w in pair if w != v)
             for v in VARIANTS}
_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in
              "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-#()"}
_CN_DIGITS = "零一二三四五六七八九"


@dataclass
class DemoRegister:
    """The gazetteer (compounds, buildings), the register as received, and the truth."""

    compounds: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    households: pd.DataFrame
    truth: pd.DataFrame


def build_register(units: gpd.GeoDataFrame | None = None, *, seed: int = 2026,
                   n_households: int = 130_000) -> DemoRegister:
    """Generate compounds, buildings and ``n_households`` households (see the module docstring).

    ``units`` is a demo hierarchy (by default :func:`wangge.demo.district.build_demo`); its micro-grids whose
    ``attrs["area_type"]`` is ``"urban"`` get compounds, the others villages.
    """
    if not isinstance(n_households, int) or n_households < 100:
        raise InputError("演示住户数至少为 100。", "The demo needs at least 100 households.",
                         n_households=n_households)
    if units is None:
        units = build_demo()
    rng = np.random.default_rng([seed, 20260])
    micro = _microgrids(units)
    metric = metric_crs_for(float(np.mean(shapely.bounds(micro["geometry"].to_numpy())[:, [0, 2]])))
    micro_m = to_metric(np.asarray(micro["geometry"].to_numpy(), dtype=object), metric)

    n_unloc = max(1, round(n_households * UNLOCATABLE_SHARE))
    n_rural = round(n_households * RURAL_SHARE)
    n_urban = n_households - n_rural - n_unloc

    urban = np.flatnonzero(micro["urban"].to_numpy())
    rural = np.flatnonzero(~micro["urban"].to_numpy())
    comp = _urban_compounds(micro, micro_m, urban, n_urban, rng)
    _roads(comp, micro_m, urban, rng)
    vill = _villages(micro, micro_m, rural, n_rural, rng)
    compounds, buildings = _gazetteer(comp, vill, micro, metric)

    flats = _draw_flats(buildings, n_urban, rng)
    # One household per house; a group drawn without households still has its one house.
    first = int((buildings["category"] == "compound").sum())
    sizes = np.array([len(xy) for xy in vill["hxy"]], dtype=np.intp)
    starts = first + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rural_rows = np.concatenate([np.arange(s, s + k) for s, k in
                                 zip(starts, vill["occupied"], strict=True)] or [np.zeros(0, int)])
    households = _households(compounds, buildings, flats, rural_rows, n_unloc, rng)
    register, truth = _register(households, rng)
    return DemoRegister(compounds=compounds, buildings=buildings, households=register, truth=truth)


# --- micro-grids ------------------------------------------------------------------------------

def _microgrids(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Micro-grids in code order, with their street name, community name and urban flag."""
    missing = [c for c in ("code", "name", "level", "parent_code", "geometry") if c not in units]
    if missing:
        raise InputError(f"单元数据缺少列：{missing}", f"The units lack columns {missing}.")
    by_code = {str(c): (str(n), str(p), lv) for c, n, p, lv in
               zip(units["code"], units["name"], units["parent_code"], units["level"], strict=True)}
    micro = units[units["level"] == "microgrid"].sort_values("code").reset_index(drop=True)
    if micro.empty:
        raise InputError("单元数据中没有微网格。", "The units contain no micro-grids.")

    def ancestor(code: str, level: str) -> str:
        while code in by_code and by_code[code][2] != level:
            code = by_code[code][1]
        return by_code[code][0] if code in by_code else ""

    attrs = micro["attrs"] if "attrs" in micro else pd.Series([{}] * len(micro))
    area_ha = area_m2(np.asarray(micro.geometry.values, dtype=object)) / 1e4
    urban = [(a or {}).get("area_type", "urban" if ha <= 20 else "rural") == "urban"
             for a, ha in zip(attrs, area_ha, strict=True)]
    adcode = str(micro["code"].iloc[0])[:6]
    return pd.DataFrame({
        "code": micro["code"].astype(str).to_numpy(),
        "street": [ancestor(str(c), "street") for c in micro["code"]],
        "community": [ancestor(str(c), "community") for c in micro["code"]],
        "urban": np.array(urban, dtype=bool),
        "geometry": np.asarray(micro.geometry.values, dtype=object),
        "adcode": adcode,
    })


def _largest(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    if len(parts) == 0:
        return shapely.Polygon()
    return parts[int(np.argmax(shapely.area(parts)))]


def _split(poly: shapely.Geometry, pieces: int) -> list[shapely.Geometry]:
    """``poly`` cut in ``pieces`` (1 or 2) across its longer side, each inset from the edges."""
    minx, miny, maxx, maxy = poly.bounds
    if pieces == 1:
        halves = [poly]
    elif maxx - minx >= maxy - miny:
        cx = (minx + maxx) / 2
        halves = [shapely.clip_by_rect(poly, minx, miny, cx, maxy),
                  shapely.clip_by_rect(poly, cx, miny, maxx, maxy)]
    else:
        cy = (miny + maxy) / 2
        halves = [shapely.clip_by_rect(poly, minx, cy, maxx, maxy),
                  shapely.clip_by_rect(poly, minx, miny, maxx, cy)]
    out = []
    for half in halves:
        half = _largest(half)
        inset = min(12.0, max(2.0, np.sqrt(half.area) / 12.0))
        shrunk = _largest(shapely.buffer(half, -inset))
        out.append(shrunk if not shrunk.is_empty else _largest(shapely.buffer(half, -1.0)))
    return out


def _lattice(poly: shapely.Geometry, n: int, spacing: float,
             rng: np.random.Generator) -> NDArray[np.float64]:
    """``n`` distinct points of a jittered square lattice inside ``poly`` (metric); the lattice
    gets finer until it has room."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    for _ in range(8):
        xs = np.arange(minx + spacing / 2, maxx, spacing)
        ys = np.arange(miny + spacing / 2, maxy, spacing)
        gx, gy = np.meshgrid(xs, ys)
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        pts = pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])] if len(pts) else pts
        if len(pts) >= n:
            break
        spacing *= 0.6
    if len(pts) < n:  # a sliver: its representative point, repeated with jitter where inside
        base = shapely.get_coordinates(shapely.point_on_surface(poly))[0]
        near = base + rng.normal(scale=0.5, size=(n, 2))
        inside = shapely.contains_xy(poly, near[:, 0], near[:, 1])
        return np.where(inside[:, None], near, base)
    chosen = rng.choice(len(pts), size=n, replace=False)
    jitter = rng.uniform(-spacing * 0.2, spacing * 0.2, size=(n, 2))
    out = pts[np.sort(chosen)] + jitter
    inside = shapely.contains_xy(poly, out[:, 0], out[:, 1])
    return np.where(inside[:, None], out, pts[np.sort(chosen)])


def _scatter(poly: shapely.Geometry, n: int, spread: float, cell: float,
             rng: np.random.Generator) -> NDArray[np.float64]:
    """``n`` points inside ``poly`` (metric) around 1–3 hamlet centres, at most one per
    ``cell``-metre square, so houses do not stack."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    box = rng.uniform((minx, miny), (maxx, maxy), size=(64, 2))
    box = box[shapely.contains_xy(poly, box[:, 0], box[:, 1])]
    if len(box) == 0:
        return _lattice(poly, n, cell, rng)
    centres = box[: int(rng.integers(1, 4))]
    for _ in range(6):
        m = 6 * n + 24
        pts = centres[rng.integers(len(centres), size=m)] + rng.normal(scale=spread, size=(m, 2))
        pts = pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])]
        _, first = np.unique(np.floor(pts / cell), axis=0, return_index=True)
        pts = pts[np.sort(first)]
        if len(pts) >= n:
            return pts[:n]
        spread *= 1.6
    return _lattice(poly, n, cell, rng)


def _reading_order(xy: NDArray[np.float64], band: float) -> NDArray[np.intp]:
    """Indices of ``xy`` north to south in bands of ``band`` metres, west to east in a band."""
    rows = np.floor((xy[:, 1].max() - xy[:, 1]) / band)
    return np.lexsort((xy[:, 0], rows))


# --- compounds and buildings ------------------------------------------------------------------

def _urban_compounds(micro: pd.DataFrame, micro_m: NDArray[np.object_], urban: NDArray[np.intp],
                     n_urban: int, rng: np.random.Generator) -> dict[str, list]:
    """Compounds of the urban micro-grids with their buildings (metric coordinates)."""
    comp: dict[str, list] = {k: [] for k in ("mg", "poly", "kind", "house", "name", "floors",
                                             "units", "bxy")}
    per_mg = n_urban / max(len(urban), 1) * rng.lognormal(0.0, 0.3, size=len(urban))
    pieces = np.where(rng.random(len(urban)) < TWO_COMPOUND_SHARE, 2, 1)
    kinds = [k for k, _ in _KIND_WEIGHTS]
    weights = np.array([w for _, w in _KIND_WEIGHTS])
    taken: set[str] = set()
    for m, target, k in zip(urban, per_mg, pieces, strict=True):
        polys = [p for p in _split(micro_m[m], int(k)) if not p.is_empty and p.area > 50]
        for poly in polys:
            house = kinds[int(rng.choice(3, p=weights))]
            floors, unit_choices, per_floor, suffixes = _KINDS[house]
            units = int(rng.choice(unit_choices))
            n_build = max(1, round(target * CAPACITY / len(polys) / (floors * units * per_floor)))
            n_build = min(n_build, 20)
            xy = _lattice(poly, n_build, 32.0, rng)
            xy = xy[_reading_order(xy, 40.0)]
            name = _unique_name(_COMPOUND_FIRST, _COMPOUND_SECOND, suffixes, taken, rng)
            comp["mg"].append(int(m))
            comp["poly"].append(poly)
            comp["kind"].append("point" if rng.random() < POINT_COMPOUND_SHARE else "polygon")
            comp["house"].append(house)
            comp["name"].append(name)
            comp["floors"].append(floors)
            comp["units"].append(units)
            comp["bxy"].append(xy)
    return comp


_PLAIN_NAME_TRIES = 64  # two-character roots first; the demo at scale 1 needs at most a few tries


def _unique_name(first: str, second: str, suffixes: Sequence[str], taken: set[str],
                 rng: np.random.Generator) -> str:
    """A name not in ``taken``: a two-character root (one character of ``first``, one of
    ``second``) and a suffix; once those run short (a demo many times Tinghu's size), a root of
    three characters (a second one from ``second``: ``锦绣湾花园``, ``东风港村``)."""
    for _ in range(_PLAIN_NAME_TRIES):
        a, b = first[int(rng.integers(len(first)))], second[int(rng.integers(len(second)))]
        name = f"{a}{b}{suffixes[int(rng.integers(len(suffixes)))]}"
        if a != b and name not in taken:
            taken.add(name)
            return name
    for _ in range(10_000):
        a, b, c = (first[int(rng.integers(len(first)))], second[int(rng.integers(len(second)))],
                   second[int(rng.integers(len(second)))])
        name = f"{a}{b}{c}{suffixes[int(rng.integers(len(suffixes)))]}"
        if len({a, b, c}) == 3 and name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("ran out of demo compound names")


def _more_road_roots(rng: np.random.Generator) -> list[str]:
    """Road roots for when ``_ROAD_ROOTS`` run out (a demo many times Tinghu's size): the first
    character of one root and the second of another, none of them an existing root."""
    known = set(_ROAD_ROOTS)
    extra = sorted({a[0] + b[1] for a in _ROAD_ROOTS for b in _ROAD_ROOTS
                    if a[0] != b[1] and a[0] + b[1] not in known})
    return [str(r) for r in rng.permutation(extra)]


def _roads(comp: dict[str, list], micro_m: NDArray[np.object_], urban: NDArray[np.intp],
           rng: np.random.Generator) -> None:
    """Give every compound a road and a door number: a road grid over each urban cluster."""
    geoms = micro_m[urban]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(geoms), len(geoms)))
    _, cluster_of = connected_components(graph, directed=False)
    slot = {int(m): i for i, m in enumerate(urban)}
    centre_xy = np.array([shapely.get_coordinates(shapely.centroid(p))[0] for p in comp["poly"]])
    comp_cluster = np.array([cluster_of[slot[m]] for m in comp["mg"]])
    roots = list(rng.permutation(_ROAD_ROOTS))
    sizes = np.bincount(cluster_of)
    comp["road"] = [""] * len(comp["mg"])
    comp["door"] = [0] * len(comp["mg"])
    # Largest cluster first: the city core gets the first (most common) names.
    for cl in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(comp_cluster == cl)
        if len(members) == 0:
            continue
        minx, miny, maxx, maxy = shapely.total_bounds(geoms[cluster_of == cl])
        minx, miny, maxx, maxy = minx - 100, miny - 100, maxx + 100, maxy + 100
        step = ROAD_SPACING_M
        ys = miny + step / 2 + step * np.arange(max(1, round((maxy - miny) / step)))
        xs = minx + step / 2 + step * np.arange(max(1, round((maxx - minx) / step)))
        ys = ys + rng.uniform(-60, 60, size=len(ys))
        xs = xs + rng.uniform(-60, 60, size=len(xs))
        cxy = centre_xy[members]
        dy = np.abs(cxy[:, 1][:, None] - ys[None, :])
        dx = np.abs(cxy[:, 0][:, None] - xs[None, :])
        east_west = dy.min(axis=1) <= dx.min(axis=1)
        road_index = np.where(east_west, dy.argmin(axis=1), dx.argmin(axis=1))
        mid = ((minx + maxx) / 2, (miny + maxy) / 2)
        for horizontal, lines in ((True, ys), (False, xs)):
            for r in range(len(lines)):
                on = members[(east_west == horizontal) & (road_index == r)]
                if len(on) == 0:
                    continue
                if not roots:
                    roots = _more_road_roots(rng)
                root = roots.pop()
                length = (maxx - minx) if horizontal else (maxy - miny)
                major = length > 4000 and rng.random() < 0.5
                suffix = "大道" if major and rng.random() < 0.3 else \
                    ("街" if not major and rng.random() < 0.2 else "路")
                along = centre_xy[on, 0] - minx if horizontal else maxy - centre_xy[on, 1]
                side = (centre_xy[on, 1] > lines[r]) if horizontal else (centre_xy[on, 0] > lines[r])
                if major and suffix == "路":
                    centre = mid[0] - minx if horizontal else maxy - mid[1]
                    words: tuple[str, ...] = ("西", "中", "东") if horizontal else ("北", "中", "南")
                    segment = np.digitize(along, [centre - 1200, centre + 1200])
                    starts = np.array([0.0, centre - 1200, centre + 1200])
                else:
                    words = ("",)
                    segment = np.zeros(len(on), dtype=np.intp)
                    starts = np.array([0.0])
                for s in np.unique(segment):
                    sel = segment == s
                    name = f"{root}{words[s]}{suffix}"
                    _number(comp, on[sel], along[sel] - starts[s], side[sel], name)


def _number(comp: dict[str, list], members: NDArray[np.intp], along: NDArray[np.float64],
            side: NDArray[np.bool_], road: str) -> None:
    """Door numbers along a road: odd on one side, even on the other, increasing, unique."""
    last = {True: -1, False: 0}
    for i in np.argsort(along, kind="stable"):
        odd = bool(side[i])
        base = 2 * int(along[i] // 30) + (1 if odd else 2)
        number = max(base, last[odd] + 2)
        last[odd] = number
        comp["road"][members[i]] = road
        comp["door"][members[i]] = number


def _villages(micro: pd.DataFrame, micro_m: NDArray[np.object_], rural: NDArray[np.intp],
              n_rural: int, rng: np.random.Generator) -> dict[str, list]:
    """Village groups of the rural micro-grids (one village per community) and their houses."""
    vill: dict[str, list] = {k: [] for k in ("mg", "poly", "kind", "village", "group", "hxy",
                                             "occupied")}
    taken: set[str] = set()
    village_of: dict[str, str] = {}
    next_group: dict[str, int] = {}
    polys: list[tuple[int, shapely.Geometry]] = []
    for m in rural:
        k = 2 if rng.random() < 0.2 else 1
        polys += [(int(m), p) for p in _split(micro_m[m], k) if not p.is_empty and p.area > 50]
    area = np.array([p.area for _, p in polys])
    share = np.sqrt(area) * rng.lognormal(0.0, 0.3, size=len(polys))
    houses = rng.multinomial(n_rural, share / share.sum()) if len(polys) else np.zeros(0, int)
    communities = micro["community"].tolist()
    for (m, poly), n_houses in zip(polys, houses.tolist(), strict=True):
        community = communities[m]
        if community not in village_of:
            village_of[community] = _unique_name(_VILLAGE_FIRST, _VILLAGE_SECOND, ("村",), taken, rng)
            next_group[community] = 1
        village = village_of[community]
        group = next_group[community]
        next_group[community] += 1
        n = max(1, int(n_houses))
        xy = _scatter(poly, n, 90.0, 20.0, rng)
        minx, miny, maxx, maxy = poly.bounds
        xy = xy[np.argsort(xy[:, 0] if maxx - minx >= maxy - miny else -xy[:, 1], kind="stable")]
        vill["mg"].append(m)
        vill["poly"].append(poly)
        vill["kind"].append("point" if rng.random() < 0.5 else "polygon")
        vill["village"].append(village)
        vill["group"].append(group)
        vill["hxy"].append(xy)
        vill["occupied"].append(int(n_houses))
    return vill


def _gazetteer(comp: dict[str, list], vill: dict[str, list], micro: pd.DataFrame,
               metric: pyproj.CRS) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The compounds and buildings GeoDataFrames (EPSG:4490) from the metric layouts."""
    province, city, district = _ADMIN.get(micro["adcode"].iat[0], ("", "", ""))
    n_c, n_v = len(comp["mg"]), len(vill["mg"])
    ids = [f"C{i + 1:05d}" for i in range(n_c + n_v)]
    polys = np.array(comp["poly"] + vill["poly"], dtype=object)
    kinds = comp["kind"] + vill["kind"]
    geoms = np.where(np.array(kinds) == "point", shapely.point_on_surface(polys), polys)
    mg = comp["mg"] + vill["mg"]
    streets = [micro["street"].iat[m] for m in mg]
    names = comp["name"] + [f"{v}{g}组" for v, g in zip(vill["village"], vill["group"], strict=True)]
    compounds = gpd.GeoDataFrame({
        "compound_id": ids,
        "name": names,
        "road": comp["road"] + [None] * n_v,
        "road_number": [str(d) for d in comp["door"]] + [None] * n_v,
        "kind": kinds,
        "microgrid_code": [micro["code"].iat[m] for m in mg],
        "category": ["compound"] * n_c + ["village"] * n_v,
        "village": [None] * n_c + vill["village"],
        "group": [None] * n_c + [str(g) for g in vill["group"]],
        "street": streets,
        "district": district,
        "city": city,
        "province": province,
        "housing": comp["house"] + ["village"] * n_v,
    }, geometry=from_metric(geoms, metric), crs=STORAGE_CRS)

    rows: dict[str, list] = {k: [] for k in ("compound", "number", "units", "floors", "x", "y")}
    for c in range(n_c):
        for b, (x, y) in enumerate(comp["bxy"][c]):
            rows["compound"].append(c)
            rows["number"].append(b + 1)
            rows["units"].append(comp["units"][c])
            rows["floors"].append(comp["floors"][c])
            rows["x"].append(x)
            rows["y"].append(y)
    for v in range(n_v):
        for h, (x, y) in enumerate(vill["hxy"][v]):
            rows["compound"].append(n_c + v)
            rows["number"].append(h + 1)
            rows["units"].append(0)
            rows["floors"].append(0)
            rows["x"].append(x)
            rows["y"].append(y)
    owner = np.array(rows["compound"], dtype=np.intp)
    village = owner >= n_c
    number = np.array(rows["number"])
    prefix = np.array([f"{province}{city}{district}{s}" for s in streets], dtype=object)[owner]
    where = np.array([f"{comp['road'][c]}{comp['door'][c]}号{comp['name'][c]}" for c in range(n_c)]
                     + names[n_c:], dtype=object)[owner]
    label = np.where(village, [f"{n}号" for n in number], [f"{n}栋" for n in number])
    points = from_metric(shapely.points(rows["x"], rows["y"]), metric)
    buildings = gpd.GeoDataFrame({
        "building_id": [f"B{i + 1:06d}" for i in range(len(owner))],
        "compound_id": np.array(ids, dtype=object)[owner],
        "number": [str(n) for n in number],
        "label": label,
        "street": np.array(streets, dtype=object)[owner],
        "road": np.array(comp["road"] + [None] * n_v, dtype=object)[owner],
        "road_number": np.array([str(d) for d in comp["door"]] + [None] * n_v, dtype=object)[owner],
        "compound_name": np.array(names, dtype=object)[owner],
        "address": prefix + where + label,
        "units": np.array(rows["units"], dtype=np.int64),
        "floors": np.array(rows["floors"], dtype=np.int64),
        "microgrid_code": np.array(compounds["microgrid_code"].to_numpy(), dtype=object)[owner],
        "category": np.where(village, "village", "compound"),
    }, geometry=points, crs=STORAGE_CRS)
    return compounds, buildings


# --- households -------------------------------------------------------------------------------

def _draw_flats(buildings: gpd.GeoDataFrame, n_urban: int,
                rng: np.random.Generator) -> pd.DataFrame:
    """``n_urban`` distinct flats (building row, unit, room) drawn from the urban buildings."""
    rows = np.flatnonzero(buildings["category"].to_numpy() == "compound")
    units = buildings["units"].to_numpy()[rows]
    floors = buildings["floors"].to_numpy()[rows]
    per_building = units * floors * 2
    starts = np.concatenate([[0], np.cumsum(per_building)])
    if starts[-1] < n_urban:
        raise RuntimeError("the demo buildings have fewer flats than households")
    flat = np.sort(rng.choice(starts[-1], size=n_urban, replace=False))
    b = np.searchsorted(starts, flat, side="right") - 1
    local = flat - starts[b]
    per_unit = floors[b] * 2
    unit = local // per_unit + 1
    rem = local % per_unit
    room = (rem // 2 + 1) * 100 + rem % 2 + 1
    return pd.DataFrame({"building": rows[b], "unit": unit, "room": room})


def _households(compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, flats: pd.DataFrame,
                rural_rows: NDArray[np.intp], n_unloc: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per household with the parts of its canonical address and its truth."""
    province, city, district = (str(compounds[c].iat[0]) for c in ("province", "city", "district"))
    comp_index = {cid: i for i, cid in enumerate(compounds["compound_id"])}
    owner = np.array([comp_index[c] for c in buildings["compound_id"]], dtype=np.intp)
    street = buildings["street"].to_numpy()
    cols = {
        "building": np.concatenate([flats["building"].to_numpy(), rural_rows]),
        "unit": np.concatenate([flats["unit"].to_numpy(), np.zeros(len(rural_rows), int)]),
        "room": np.concatenate([flats["room"].to_numpy(), np.zeros(len(rural_rows), int)]),
    }
    frame = pd.DataFrame(cols)
    b = frame["building"].to_numpy()
    c = owner[b]
    frame["rural"] = buildings["category"].to_numpy()[b] == "village"
    frame["street"] = street[b]
    frame["road"] = compounds["road"].to_numpy()[c]
    frame["door"] = compounds["road_number"].to_numpy()[c]
    frame["compound"] = np.where(frame["rural"], None, compounds["name"].to_numpy()[c])
    frame["village"] = compounds["village"].to_numpy()[c]
    frame["group"] = compounds["group"].to_numpy()[c]
    frame["number"] = buildings["number"].to_numpy()[b]
    frame["building_id"] = buildings["building_id"].to_numpy()[b]
    frame["microgrid_code"] = buildings["microgrid_code"].to_numpy()[b]
    xy = shapely.get_coordinates(np.asarray(buildings.geometry.values, dtype=object))
    frame["true_lon"], frame["true_lat"] = xy[b, 0], xy[b, 1]
    frame["admin"] = [(province, city, district)] * len(frame)
    return pd.concat([frame, _ghosts(compounds, n_unloc, rng, (province, city, district))],
                     ignore_index=True)


def _ghosts(compounds: gpd.GeoDataFrame, n: int, rng: np.random.Generator,
            admin: tuple[str, str, str]) -> pd.DataFrame:
    """Households at addresses of nothing in the gazetteer: made-up compounds, doors, villages."""
    streets = sorted(set(compounds["street"]))
    roads = sorted({r for r in compounds["road"] if isinstance(r, str)})
    doors = {(r, d) for r, d in zip(compounds["road"], compounds["road_number"], strict=True)
             if isinstance(r, str)}
    rows: list[dict[str, object]] = []
    for i in range(n):
        street = streets[int(rng.integers(len(streets)))]
        root = _GHOST_FIRST[rng.integers(len(_GHOST_FIRST))] + _GHOST_SECOND[rng.integers(len(_GHOST_SECOND))]
        row: dict[str, object] = {"street": street, "admin": admin, "building_id": None,
                                  "microgrid_code": None, "true_lon": np.nan, "true_lat": np.nan}
        if i % 5 == 4:
            row.update(rural=True, village=f"{root}村", group=str(rng.integers(1, 9)),
                       number=str(rng.integers(1, 40)), unit=0, room=0)
        else:
            if rng.random() < 0.5:
                road = _GHOST_ROADS[int(rng.integers(len(_GHOST_ROADS)))]
            else:
                road = roads[int(rng.integers(len(roads)))]
            door = int(rng.integers(900, 2000))
            while (road, str(door)) in doors:
                door += 2
            row.update(rural=False, road=road, door=str(door),
                       compound=f"{root}{_GHOST_SUFFIX[rng.integers(len(_GHOST_SUFFIX))]}",
                       number=str(rng.integers(1, 9)), unit=int(rng.integers(1, 3)),
                       room=int(rng.integers(1, 12)) * 100 + int(rng.integers(1, 3)))
        rows.append(row)
    return pd.DataFrame(rows)


def _pick_variants(rural: NDArray[np.bool_], rng: np.random.Generator) -> list[list[str]]:
    """1–3 distinct variants per household, drawn by ``VARIANTS`` weight without replacement
    (Gumbel keys), skipping any that excludes one already chosen."""
    k = np.searchsorted([0.55, 0.85], rng.random(len(rural)), side="right") + 1
    out: list[list[str]] = [[] for _ in range(len(rural))]
    for is_rural, pool in ((False, _URBAN_VARIANTS), (True, _RURAL_VARIANTS)):
        rows = np.flatnonzero(rural == is_rural)
        weights = np.array([VARIANTS[v] for v in pool])
        keys = -np.log(rng.random((len(rows), len(pool)))) / weights
        for row, order in zip(rows.tolist(), np.argsort(keys, axis=1).tolist(), strict=True):
            chosen: list[str] = []
            for i in order:
                v = pool[i]
                if _EXCLUDES[v].isdisjoint(chosen):
                    chosen.append(v)
                    if len(chosen) == k[row]:
                        break
            out[row] = sorted(chosen)
    return out


def _cn(n: int) -> str:
    """A small number in Chinese numerals (3 → 三, 12 → 十二, 20 → 二十)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def _typo(name: str, u: float, v: float) -> str:
    """``name`` with one character replaced by a homophone (root characters more often)."""
    positions = [i for i, ch in enumerate(name) if ch in _TYPOS]
    if not positions:
        return name
    root = [i for i in positions if i < 2]
    pick = root if root and u < 0.8 else positions
    i = pick[min(int(v * len(pick)), len(pick) - 1)]
    options = _TYPOS[name[i]]
    j = min(int((u * 7919 % 1.0) * len(options)), len(options) - 1)
    return name[:i] + options[j] + name[i + 1:]


def _address(row: dict[str, Any], tags: Sequence[str], u: Sequence[float]) -> str:
    """The address of one household, canonical or written with ``tags`` (uniforms ``u``)."""
    province, city, district = row["admin"]
    admin = [province, city, district, row["street"]]
    if "no_prefix" in tags:
        drop = 1 + (u[4] >= 0.3) + (u[4] >= 0.6) + (u[4] >= 0.85)
        admin = admin[drop:]
    rural = bool(row["rural"])
    if rural:
        name = row["village"]
        if "typo" in tags:
            name = _typo(name, u[5], u[6])
        group = int(row["group"])
        group_text = _cn(group) if "cn_numerals" in tags else str(group)
        word = "组"
        if "group_word" in tags:
            word = ("村民小组", "队", "小组")[int(u[7] * 3) % 3]
        house = row["number"] + ("" if "hao_dash" in tags else "号")
        middle = [name, f"{group_text}{word}{house}"]
        tail: list[str] = []
    else:
        middle = []
        if "no_road" not in tags:
            door = row["door"]
            if "hao_dash" in tags:  # without a name after it, a bare number would run into 3栋
                door_text = f"{door}-" if u[7] < 0.5 or "no_compound" in tags else str(door)
            else:
                door_text = f"{door}号"
            middle.append(f"{row['road']}{door_text}")
        if "no_compound" not in tags:
            name = row["compound"]
            if "typo" in tags:
                name = _typo(name, u[5], u[6])
            middle.append(name)
        building, unit, room = int(row["number"]), int(row["unit"]), int(row["room"])
        if "dash" in tags:
            form = (u[8] >= 0.35) + (u[8] >= 0.55) + (u[8] >= 0.8)
            tail = [(f"{building}-{unit}-{room}", f"{building}-{unit}-{room}室",
                     f"{building}栋{unit}-{room}", f"{building}栋{unit}单元{room}")[form]]
        else:
            b_text = _cn(building) if "cn_numerals" in tags else str(building)
            u_text = _cn(unit) if "cn_numerals" in tags else str(unit)
            word = "栋"
            if "building_word" in tags:
                word = ("幢", "号楼", "座", "#", "#楼", "号")[int(u[8] * 6) % 6]
            tail = [f"{b_text}{word}", f"{u_text}单元", f"{room}室"]
    if "noise" in tags:
        noise = _NOISE[int(u[9] * len(_NOISE)) % len(_NOISE)]
        if u[10] < 0.6 and middle:  # after the compound (or door) name, or the village name
            middle[0 if rural else -1] += noise
        elif tail:
            tail = [*tail, noise]
        else:
            middle[-1] += noise
    if "spaces" in tags:
        sep = (" ", "  ", "\u3000")[int(u[11] * 3) % 3]
        if u[12] < 0.5:
            text = sep.join(p for p in (*admin, *middle, *tail) if p)
        else:
            text = "".join(admin) + sep.join(p for p in (*middle, "".join(tail)) if p)
    else:
        text = "".join(admin) + "".join(middle) + "".join(tail)
    if "fullwidth" in tags:
        text = text.translate(_FULLWIDTH)
    return text


def _register(households: pd.DataFrame,
              rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Messy addresses, coordinates and personal fields; the register in a random order."""
    n = len(households)
    order = rng.permutation(n)
    households = households.iloc[order].reset_index(drop=True)
    messy = np.flatnonzero(rng.random(n) < MESSY_SHARE)
    rural = households["rural"].to_numpy(dtype=bool)
    tags: list[list[str]] = [[] for _ in range(n)]
    for i, t in zip(messy.tolist(), _pick_variants(rural[messy], rng), strict=True):
        tags[i] = t
    uniforms = dict(zip(messy.tolist(), rng.random((len(messy), 13)).tolist(), strict=True))
    columns = ["admin", "street", "rural", "village", "group", "number", "road", "door",
               "compound", "unit", "room"]
    addresses = [_address(dict(zip(columns, values, strict=True)), tags[i], uniforms.get(i, ()))
                 for i, values in enumerate(zip(*(households[c].tolist() for c in columns),
                                                strict=True))]

    located = households["building_id"].notna().to_numpy()
    true_lon = households["true_lon"].to_numpy(dtype=float)
    true_lat = households["true_lat"].to_numpy(dtype=float)
    has = located & (rng.random(n) < COORDS_SHARE)
    crs = np.array([None] * n, dtype=object)
    crs[has] = np.array(["WGS-84", "GCJ-02", "BD-09"])[rng.choice(3, size=int(has.sum()),
                                                                    p=[0.3, 0.45, 0.25])]
    wrong = has & (rng.random(n) < WRONG_COORDS_SHARE)
    far = wrong & (rng.random(n) < 0.6)
    mislabelled = wrong & ~far
    lon = true_lon.copy()
    lat = true_lat.copy()
    metres = rng.normal(scale=COORD_NOISE_M, size=(n, 2))
    distance = rng.uniform(300.0, 2500.0, size=n)
    bearing = rng.uniform(0.0, 2 * np.pi, size=n)
    metres[far, 0] += distance[far] * np.cos(bearing[far])
    metres[far, 1] += distance[far] * np.sin(bearing[far])
    lat = lat + metres[:, 1] / 111_320.0
    lon = lon + metres[:, 0] / (111_320.0 * np.cos(np.radians(np.where(np.isfinite(lat), lat, 0))))
    out_lon = np.full(n, np.nan)
    out_lat = np.full(n, np.nan)
    sel = has & (crs == "WGS-84")
    out_lon[sel], out_lat[sel] = lon[sel], lat[sel]
    sel = has & (crs == "GCJ-02")
    out_lon[sel], out_lat[sel] = chinacoords.wgs84_to_gcj02(lon[sel], lat[sel])
    sel = has & (crs == "BD-09")
    out_lon[sel], out_lat[sel] = chinacoords.wgs84_to_bd09(lon[sel], lat[sel])
    # Mislabelled: the values of one offset system under the label of another.
    sel = mislabelled & (crs == "WGS-84")
    out_lon[sel], out_lat[sel] = chinacoords.wgs84_to_gcj02(lon[sel], lat[sel])
    sel = mislabelled & (crs == "GCJ-02")
    out_lon[sel], out_lat[sel] = chinacoords.wgs84_to_bd09(lon[sel], lat[sel])
    sel = mislabelled & (crs == "BD-09")
    out_lon[sel], out_lat[sel] = lon[sel], lat[sel]
    coords_error = np.full(n, None, dtype=object)
    coords_error[far] = "far"
    coords_error[mislabelled] = "crs_mislabelled"

    given_building = located & (rng.random(n) < GIVEN_BUILDING_SHARE)
    ids = [f"HH{i + 1:07d}" for i in range(n)]
    personal = _personal(n, rng)
    register = pd.DataFrame({
        "external_id": ids,
        "address": addresses,
        "lon": out_lon,
        "lat": out_lat,
        "crs": crs,
        "building_id": np.where(given_building, households["building_id"].to_numpy(), None),
        "size": rng.choice(np.arange(1, 7), size=n, p=[0.16, 0.30, 0.26, 0.16, 0.08, 0.04]),
        **personal,
    })
    truth = pd.DataFrame({
        "external_id": ids,
        "building_id": households["building_id"].to_numpy(),
        "microgrid_code": households["microgrid_code"].to_numpy(),
        "lon": true_lon,
        "lat": true_lat,
        "messiness": tags,
        "coords_error": coords_error,
    })
    return register, truth


def _personal(n: int, rng: np.random.Generator) -> dict[str, list[str]]:
    """Synthetic, obviously fake personal fields (see the module docstring)."""
    surname = rng.integers(len(_SURNAMES), size=n)
    given = rng.integers(len(_GIVEN), size=(n, 2))
    two = rng.random(n) < 0.6
    names = [_SURNAMES[s] + _GIVEN[g0] + (_GIVEN[g1] if t else "")
             for s, (g0, g1), t in zip(surname.tolist(), given.tolist(), two.tolist(), strict=True)]
    third = rng.integers(10, size=n)
    last = rng.integers(10_000, size=n)
    phones = [f"10{a}-0000-{b:04d}" for a, b in zip(third.tolist(), last.tolist(), strict=True)]
    year = rng.integers(1935, 2006, size=n)
    month = rng.integers(1, 13, size=n)
    day = rng.integers(1, 29, size=n)
    seq = rng.integers(1, 999, size=n)
    # 17 digits: fake area 990902, birth date, sequence; then the ISO 7064 MOD 11-2 check.
    body = np.zeros((n, 17), dtype=np.int64)
    body[:, :6] = [9, 9, 0, 9, 0, 2]
    for k, (value, width) in enumerate(((year, 4), (month, 2), (day, 2), (seq, 3))):
        start = 6 + sum((4, 2, 2, 3)[:k])
        for d in range(width):
            body[:, start + d] = value // 10 ** (width - 1 - d) % 10
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = (body @ weights) % 11
    ids = [f"990902{y:04d}{m:02d}{d:02d}{q:03d}" + "10X98765432"[k]
           for y, m, d, q, k in zip(year.tolist(), month.tolist(), day.tolist(), seq.tolist(),
                                    check.tolist(), strict=True)]
    return {"name": names, "phone": phones, "id_number": ids}
