"""AMap (高德), Baidu (百度) and Tianditu (天地图) address geocoding, one request per address.

Each provider is its URL, its query parameters, its table of precision words and the reading of
its JSON; everything else is :class:`wangge.geocode.online.base.HttpGeocoder`.

=========  ================================  ===========  ===========================================
provider   service                           answers in   score
=========  ================================  ===========  ===========================================
AMap       restapi.amap.com/v3/geocode/geo   GCJ-02       the level's base score (AMap gives no
                                                          confidence); × 0.8 when several candidates
Baidu      api.map.baidu.com/geocoding/v3/   BD-09        the level's base score, capped by
                                                          ``confidence``/100 (its error radius),
                                                          × ``comprehension``/100, × 0.85 if not
                                                          ``precise``
Tianditu   api.tianditu.gov.cn/geocoder      CGCS2000     the level's base score, capped by the
                                                          location's ``score``/100 when given
=========  ================================  ===========  ===========================================

Baidu is asked for its default BD-09 (``bd09ll``; no ``ret_coordtype``): wangge converts BD-09
itself in :mod:`wangge.geo.chinacoords`, so the class's ``crs`` is exactly what the wire carries.

A door number (门牌号/门址) counts as ``compound``, not ``building``: it places the gate of a
compound, and the households behind one door live in several buildings — the local matcher
treats a door without a building the same way. Only AMap names finer levels (单元号 and the
reserved 楼层/房间), so only AMap can say ``building``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from wangge.geo.crs import SourceCRS, parse_crs
from wangge.geocode.online.base import (
    BASE_SCORE,
    Answer,
    GeocoderError,
    HttpGeocoder,
    OnlineLevel,
    RetryLater,
    classify,
    no_result,
    number,
)

__all__ = ["AMapGeocoder", "BaiduGeocoder", "TiandituGeocoder"]

B, C, R, D, N = (OnlineLevel.BUILDING, OnlineLevel.COMPOUND, OnlineLevel.ROAD,
                 OnlineLevel.DISTRICT, OnlineLevel.NONE)

_AMBIGUOUS = 0.8
_IMPRECISE = 0.85


def _join(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _join_en(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- AMap ---------------------------------------------------------------------------------------

AMAP_LEVELS = {
    "单元号": B, "楼层": B, "房间": B, "楼栋": B,
    "门牌号": C, "门址": C, "住宅区": C, "兴趣点": C,
    "道路": R, "道路交叉路口": R, "小巷": R, "公交地铁站点": R,
    "国家": D, "省": D, "市": D, "区县": D, "开发区": D, "乡镇": D, "村庄": D, "热点商圈": D,
    "未知": N,
}
_AMAP_THROTTLED = frozenset({"10004", "10014", "10015", "10019", "10020", "10021"})
_AMAP_QUOTA = frozenset({"10003", "10010", "10044", "10045"})


class AMapGeocoder(HttpGeocoder):
    """AMap web-service geocoding (needs a 「Web服务」 key); answers in GCJ-02.

    ``city`` (a name, citycode or adcode) narrows the search to one city.
    """

    name = "amap"
    label_zh = "高德地理编码"
    label_en = "AMap geocoding"
    url = "https://restapi.amap.com/v3/geocode/geo"
    crs: SourceCRS = parse_crs("gcj02")

    def __init__(self, key: str, *, city: str | None = None, client: httpx.Client | None = None,
                 **opts: Any) -> None:
        super().__init__(key, client=client, **opts)
        self.city = city or None

    def params(self, address: str) -> dict[str, str]:
        out = {"key": self._key, "address": address, "output": "JSON"}
        if self.city:
            out["city"] = self.city
        return out

    def parse(self, payload: Any) -> Answer:
        if str(payload.get("status")) != "1":
            info, infocode = self.safe(payload.get("info")), str(payload.get("infocode", ""))
            code = f"{info}, {infocode}" if infocode else info
            if infocode in _AMAP_THROTTLED:
                raise RetryLater(f"访问过于频繁：{code}", f"too frequent: {code}")
            if infocode in _AMAP_QUOTA or infocode.startswith("4"):
                raise self.quota_error(code)
            if infocode.startswith("1"):
                raise self.auth_error(code, "", "")
            if infocode.startswith("2"):
                return no_result(None, f"服务商认为请求无效（{code}）",
                                 f"the provider found the request invalid ({code})")
            if infocode.startswith("3"):
                raise RetryLater(f"服务商内部错误：{code}", f"provider engine error: {code}")
            raise self.api_error(code)
        geocodes = payload.get("geocodes") or []
        if not isinstance(geocodes, list) or not geocodes or not isinstance(geocodes[0], dict):
            return no_result(None, "无结果", "no result")
        first = geocodes[0]
        location = first.get("location")
        if not isinstance(location, str) or "," not in location:
            return no_result(_text(first.get("level")), "结果没有坐标", "the result has no coordinates")
        lon, lat = (number(v) for v in location.split(",", 1))
        raw = _text(first.get("level"))
        level, note_zh, note_en = classify(raw, AMAP_LEVELS)
        score = BASE_SCORE[level]
        many_zh = many_en = ""
        if len(geocodes) > 1:
            score *= _AMBIGUOUS
            many_zh = f"返回{len(geocodes)}个候选，取第一个"
            many_en = f"{len(geocodes)} candidates, the first taken"
        return Answer(lon, lat, raw, level, round(score, 4), _join(note_zh, many_zh),
                      _join_en(note_en, many_en))


# --- Baidu --------------------------------------------------------------------------------------

BAIDU_LEVELS = {
    "门址": C, "地产小区": C, "房地产": C, "商务大厦": C, "兴趣点": C, "POI": C, "教育": C,
    "医疗": C, "政府机构": C, "公司企业": C, "购物": C, "餐饮": C, "酒店": C, "旅游景点": C,
    "休闲娱乐": C, "生活服务": C, "金融": C, "汽车服务": C, "文化传媒": C, "运动健身": C,
    "道路": R, "道路交叉口": R, "交叉路口": R, "交通设施": R,
    "国家": D, "省": D, "城市": D, "区县": D, "乡镇": D, "村庄": D, "商圈": D, "行政地标": D,
    "UNKNOWN": N, "NoClass": N, "未知": N,
}
_BAIDU_AUTH = frozenset({"3", "5", "101", "102", "200", "201", "202", "203", "210", "211", "220",
                         "230", "240", "250", "251", "252", "260", "261"})
_BAIDU_QUOTA = frozenset({"4", "301", "302"})
_BAIDU_THROTTLED = frozenset({"401", "402"})


class BaiduGeocoder(HttpGeocoder):
    """Baidu geocoding v3 (needs a server-side ak without SN check); answers in BD-09.

    ``city`` narrows the search to one city.
    """

    name = "baidu"
    label_zh = "百度地理编码"
    label_en = "Baidu geocoding"
    url = "https://api.map.baidu.com/geocoding/v3/"
    crs: SourceCRS = parse_crs("bd09")

    def __init__(self, ak: str, *, city: str | None = None, client: httpx.Client | None = None,
                 **opts: Any) -> None:
        super().__init__(ak, client=client, **opts)
        self.city = city or None

    def params(self, address: str) -> dict[str, str]:
        out = {"ak": self._key, "address": address, "output": "json"}
        if self.city:
            out["city"] = self.city
        return out

    def parse(self, payload: Any) -> Answer:
        status = str(payload.get("status", ""))
        if status != "0":
            msg = self.safe(payload.get("msg") or payload.get("message") or "")
            code = f"{status}, {msg}" if msg else status
            if status == "1" and "无相关结果" in msg:
                return no_result(None, "无结果", "no result")
            if status == "1":
                raise RetryLater(f"服务器内部错误：{code}", f"server error: {code}")
            if status == "2":
                return no_result(None, f"服务商认为请求参数无效（{code}）",
                                 f"the provider found the parameters invalid ({code})")
            if status in _BAIDU_THROTTLED:
                raise RetryLater(f"并发超限：{code}", f"concurrency limit: {code}")
            if status in _BAIDU_QUOTA:
                raise self.quota_error(code)
            if status in _BAIDU_AUTH:
                raise self.auth_error(code, "", "")
            raise self.api_error(code)
        result = payload.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("location"), dict):
            return no_result(None, "无结果", "no result")
        location = result["location"]
        lon, lat = number(location.get("lng")), number(location.get("lat"))
        raw = _text(result.get("level"))
        level, note_zh, note_en = classify(raw, BAIDU_LEVELS)
        score = BASE_SCORE[level]
        notes_zh, notes_en = [note_zh], [note_en]
        confidence = number(result.get("confidence"))
        if confidence == confidence:  # not NaN
            score = min(score, max(confidence, 0.0) / 100.0)
            notes_zh.append(f"可信度{confidence:.0f}")
            notes_en.append(f"confidence {confidence:.0f}")
        comprehension = number(result.get("comprehension"))
        if comprehension == comprehension:
            score *= min(max(comprehension, 0.0), 100.0) / 100.0
            notes_zh.append(f"地址理解度{comprehension:.0f}")
            notes_en.append(f"comprehension {comprehension:.0f}")
        if number(result.get("precise"), 1.0) == 0.0:
            score *= _IMPRECISE
            notes_zh.append("模糊打点")
            notes_en.append("approximate placement")
        return Answer(lon, lat, raw, level, round(score, 4), _join(*notes_zh), _join_en(*notes_en))


# --- Tianditu -----------------------------------------------------------------------------------

TIANDITU_LEVELS = {
    "楼栋": B, "单元": B,
    "门址": C, "门牌号": C, "地名地址": C, "兴趣点": C, "POI": C, "住宅区": C, "小区": C,
    "道路": R, "道路交叉口": R, "交叉路口": R,
    "国家": D, "省": D, "市": D, "城市": D, "区县": D, "县": D, "乡镇": D, "街道": D, "村庄": D,
    "行政区": D, "行政区划": D,
    "未知": N,
}


class TiandituGeocoder(HttpGeocoder):
    """Tianditu geocoder (a 「服务端」 tk); answers in CGCS2000.

    ``city`` is ignored (the service has no city filter). Tianditu refuses a bad key or an
    exhausted daily quota with HTTP 403 (or 418 from its gateway) and does not say which; both
    become :class:`GeocoderAuthError`.
    """

    name = "tianditu"
    label_zh = "天地图地理编码"
    label_en = "Tianditu geocoding"
    url = "https://api.tianditu.gov.cn/geocoder"
    crs: SourceCRS = parse_crs("EPSG:4490")

    def __init__(self, tk: str, *, city: str | None = None, client: httpx.Client | None = None,
                 **opts: Any) -> None:
        # The geocoder has no city filter; ``city`` is accepted and ignored so that one
        # setting (WANGGE_GEOCODER_CITY) can serve every provider.
        super().__init__(tk, client=client, **opts)

    def params(self, address: str) -> dict[str, str]:
        return {"ds": json.dumps({"keyWord": address}, ensure_ascii=False), "tk": self._key}

    def http_error(self, status: int) -> GeocoderError | None:
        if status in (401, 403, 418):
            return self.auth_error(f"HTTP {status}", "，或当日调用量已用完（天地图不区分这两种情况）",
                                   ", or the daily quota is used up (Tianditu does not say which)")
        return None

    def parse(self, payload: Any) -> Answer:
        if "status" not in payload and "code" in payload:  # the gateway's refusal
            code = self.safe(f"{payload.get('code')}, {payload.get('msg', '')}")
            raise self.auth_error(code, "，或当日调用量已用完", ", or the daily quota is used up")
        status = str(payload.get("status"))
        msg = self.safe(payload.get("msg") or "")
        if status == "101":
            return no_result(None, "无结果", "no result")
        if status == "404":
            return no_result(None, f"服务商返回出错（{msg}）", f"the provider reported an error ({msg})")
        if status != "0":
            raise self.api_error(f"{status}, {msg}")
        location = payload.get("location")
        if not isinstance(location, dict):
            return no_result(None, "无结果", "no result")
        lon, lat = number(location.get("lon")), number(location.get("lat"))
        raw = _text(location.get("level"))
        level, note_zh, note_en = classify(raw, TIANDITU_LEVELS)
        score = BASE_SCORE[level]
        given = number(location.get("score"))
        notes_zh, notes_en = [note_zh], [note_en]
        if given == given:
            score = min(score, max(given, 0.0) / 100.0)
            notes_zh.append(f"服务商得分{given:.0f}")
            notes_en.append(f"provider score {given:.0f}")
        return Answer(lon, lat, raw, level, round(score, 4), _join(*notes_zh), _join_en(*notes_en))
