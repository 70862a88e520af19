"""Online geocoders (AMap, Baidu, Tianditu) behind one interface — off by default, a fallback.

- :class:`OnlineGeocoder` — the interface: ``name``, ``crs`` (what the provider answers in) and
  ``geocode_many(addresses)`` → a frame with :data:`COLUMNS`, lon/lat already in EPSG:4490;
- :class:`AMapGeocoder`, :class:`BaiduGeocoder`, :class:`TiandituGeocoder` — the providers
  (:mod:`wangge.geocode.online.providers`), built on :class:`HttpGeocoder` (:mod:`wangge.geocode.online.base`:
  rate limit, timeout, bounded retries, API errors as :class:`GeocoderError`);
- :func:`online_geocoder` — the one from settings (``WANGGE_GEOCODER``), or None;
- :func:`fill_unmatched` — send only what the local matcher could not place, and mark it.

Nothing here is called unless a provider is configured: with ``WANGGE_GEOCODER=none`` (the
default) :func:`online_geocoder` returns None and :func:`fill_unmatched` returns its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from wangge.geo.errors import InputError
from wangge.geocode.match import FAR_FLAG, MatchConfig, distance_m
from wangge.geocode.online.base import (
    COLUMNS,
    GeocoderAuthError,
    GeocoderError,
    GeocoderQuotaError,
    GeocoderUnavailable,
    HttpGeocoder,
    OnlineGeocoder,
    OnlineLevel,
    RateLimiter,
    level_rank,
)
from wangge.geocode.online.providers import AMapGeocoder, BaiduGeocoder, TiandituGeocoder

__all__ = ["COLUMNS", "ONLINE_FLAG", "ONLINE_LEVEL_PREFIX", "PROVIDERS", "AMapGeocoder",
           "BaiduGeocoder", "GeocoderAuthError", "GeocoderError", "GeocoderQuotaError",
           "GeocoderUnavailable", "HttpGeocoder", "OnlineGeocoder", "OnlineLevel", "RateLimiter",
           "TiandituGeocoder", "fill_unmatched", "online_geocoder"]

PROVIDERS: dict[str, type[HttpGeocoder]] = {
    "amap": AMapGeocoder, "baidu": BaiduGeocoder, "tianditu": TiandituGeocoder}

ONLINE_FLAG = "online_geocoder_needs_review"
ONLINE_LEVEL_PREFIX = "online_"

_REQUIRED = ("address", "level", "score", "trusted", "lon", "lat", "reason_zh", "reason_en")


def online_geocoder(provider: str, key: Any, **opts: Any) -> OnlineGeocoder | None:
    """The geocoder named by ``provider`` (``amap``, ``baidu``, ``tianditu``), or None.

    ``""`` and ``"none"`` mean no online geocoding. ``key`` may be a ``str`` or a pydantic
    ``SecretStr``. ``opts`` go to the provider: ``client``, ``timeout``, ``per_second``,
    ``retries``, ``backoff``, and ``city`` for AMap and Baidu.
    """
    name = (provider or "").strip().lower()
    if name in ("", "none"):
        return None
    cls = PROVIDERS.get(name)
    if cls is None:
        accepted = "、".join([*PROVIDERS, "none"])
        raise InputError(
            f"未知的在线地理编码服务“{provider}”。可选：{accepted}。",
            f"Unknown online geocoder {provider!r}. Accepted: {', '.join([*PROVIDERS, 'none'])}.",
            provider=str(provider))
    return cls(key, **opts)


def fill_unmatched(matches: pd.DataFrame, geocoder: OnlineGeocoder | None, *,
                   min_level: str | OnlineLevel = OnlineLevel.ROAD,
                   trusted_score: float = MatchConfig.trusted_score,
                   far_threshold_m: float = MatchConfig.far_threshold_m) -> pd.DataFrame:
    """Geocode online only the rows of ``Matcher.match_many`` whose level is ``none``.

    With ``geocoder`` None, ``matches`` is returned as it is. Otherwise a copy comes back with
    two more columns, ``source`` (``local``, or the provider for rows it placed) and
    ``online_raw_level`` (the provider's precision word for every row sent), and each row the
    provider placed at ``min_level`` or better (default: road) gets:

    - ``level`` ``online_<level>`` (``online_building`` … ``online_road``), so the stored
      match level alone tells an online result from a gazetteer one;
    - the provider's ``score`` and lon/lat (EPSG:4490), no gazetteer ids;
    - ``trusted`` only at building level with ``score`` ≥ ``trusted_score``; every other row
      gets ``flag`` :data:`ONLINE_FLAG` and goes to review;
    - the given coordinates, if any, cross-checked like the matcher does (``distance_m``,
      :data:`~wangge.geocode.match.FAR_FLAG` beyond ``far_threshold_m``).

    Rows the provider placed only coarser than ``min_level`` (a district centre would put the
    household in an arbitrary grid) stay ``none``, with the provider's answer in the reason.
    A :class:`GeocoderError` is raised as is, its ``partial`` being this function's result for
    the addresses done before it.
    """
    if geocoder is None:
        return matches
    missing = [c for c in _REQUIRED if c not in matches.columns]
    if missing:
        raise ValueError(f"matches lacks columns {missing}; pass Matcher.match_many's result")
    out = matches.copy()
    if "source" not in out.columns:
        out["source"] = "local"
    for name in ("online_raw_level", "flag"):
        if name not in out.columns:
            out[name] = pd.Series(None, index=out.index, dtype=object)
    addresses = [a.strip() if isinstance(a, str) else "" for a in out["address"]]
    unmatched = (out["level"].astype(object) == "none").to_numpy(dtype=bool)
    rows = np.flatnonzero(unmatched & np.array([bool(a) for a in addresses], dtype=bool))
    if not len(rows):
        return out
    minimum = level_rank(min_level)
    try:
        found = geocoder.geocode_many([addresses[i] for i in rows])
    except GeocoderError as exc:
        if exc.partial is not None:
            exc.partial = _merge(out, rows, exc.partial, geocoder.name, minimum, trusted_score,
                                 far_threshold_m)
        raise
    return _merge(out, rows, found, geocoder.name, minimum, trusted_score, far_threshold_m)


def _merge(out: pd.DataFrame, rows: np.ndarray, found: pd.DataFrame, provider: str, minimum: int,
           trusted_score: float, far_threshold_m: float) -> pd.DataFrame:
    """Write the provider's answers for ``rows`` (positions in ``out``) into ``out``."""
    out = out.copy()
    lv = found["level"].astype(str).to_numpy()
    f_lon, f_lat = found["lon"].to_numpy(dtype=float), found["lat"].to_numpy(dtype=float)
    f_score = found["score"].to_numpy(dtype=float)
    usable = (np.array([level_rank(v) >= max(minimum, 1) for v in lv], dtype=bool)
              & np.isfinite(f_lon) & np.isfinite(f_lat))
    trusted_online = usable & (lv == OnlineLevel.BUILDING.value) & (f_score >= trusted_score)

    level = out["level"].to_numpy(dtype=object).copy()
    score = out["score"].to_numpy(dtype=float).copy()
    trusted = out["trusted"].to_numpy(dtype=bool).copy()
    lon, lat = out["lon"].to_numpy(dtype=float).copy(), out["lat"].to_numpy(dtype=float).copy()
    zh = out["reason_zh"].to_numpy(dtype=object).copy()
    en = out["reason_en"].to_numpy(dtype=object).copy()
    flag = out["flag"].to_numpy(dtype=object).copy()
    source = out["source"].to_numpy(dtype=object).copy()
    raw = out["online_raw_level"].to_numpy(dtype=object).copy()

    f_zh, f_en = found["reason_zh"].to_numpy(dtype=object), found["reason_en"].to_numpy(dtype=object)
    raw[rows] = found["raw_level"].to_numpy(dtype=object)
    used, passed = rows[usable], rows[~usable]
    level[used] = [ONLINE_LEVEL_PREFIX + v for v in lv[usable]]
    score[used], lon[used], lat[used] = f_score[usable], f_lon[usable], f_lat[usable]
    trusted[used] = trusted_online[usable]
    source[used] = provider
    flag[used] = [None if ok else ONLINE_FLAG for ok in trusted_online[usable]]
    for i, fz, fe, ok in zip(used, f_zh[usable], f_en[usable], trusted_online[usable], strict=True):
        zh[i] = f"本地地名库未能定位，采用在线结果：{fz}" + ("" if ok else "在线结果需人工核对。")
        en[i] = f"Not in the local gazetteer; online result used: {fe}" + (
            "" if ok else " Online results need review.")
    for i, fz, fe in zip(passed, f_zh[~usable], f_en[~usable], strict=True):
        zh[i] = f"{zh[i]}在线查询未采用：{fz}"
        en[i] = f"{en[i]} Online lookup not used: {fe}"

    if "given_lon" in out.columns and "given_lat" in out.columns and len(used):
        given_lon = out["given_lon"].to_numpy(dtype=float)
        given_lat = out["given_lat"].to_numpy(dtype=float)
        dist = out["distance_m"].to_numpy(dtype=float).copy() if "distance_m" in out.columns \
            else np.full(len(out), np.nan)
        dist[used] = distance_m(lon[used], lat[used], given_lon[used], given_lat[used])
        far = used[dist[used] > far_threshold_m]
        flag[far], trusted[far] = FAR_FLAG, False
        for i in far:
            zh[i] = f"需人工核对：给定坐标距在线定位{dist[i]:.0f}米，超过{far_threshold_m:.0f}米。{zh[i]}"
            en[i] = (f"Needs review: the given coordinates are {dist[i]:.0f} m from the online "
                     f"result, more than {far_threshold_m:.0f} m. {en[i]}")
        out["distance_m"] = pd.Series(dist, index=out.index, dtype=float)

    columns = {"level": level, "score": score, "trusted": trusted, "lon": lon, "lat": lat,
               "reason_zh": zh, "reason_en": en, "flag": flag, "source": source,
               "online_raw_level": raw}
    for name, values in columns.items():  # keep each column's dtype (None stays None)
        out[name] = pd.Series(values, index=out.index, dtype=out[name].dtype)
    return out
