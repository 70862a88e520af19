"""The machinery shared by the online geocoders: interface, levels, errors, HTTP with limits.

An online geocoder answers one address per request. :class:`HttpGeocoder` does what every
provider needs — a per-second rate limit, a timeout, bounded retries on 5xx, timeouts and the
providers' "too frequent" answers, API errors turned into domain errors — and leaves each
provider two small methods: the request parameters for an address and the parsing of the
provider's JSON (:mod:`wangge.geocode.online.providers`). Results are converted from the provider's
CRS to storage (CGCS2000 lon/lat) through :func:`wangge.geo.crs.xy_to_storage`, in one vectorised call.

Keys and addresses are secrets here (a key is a credential, an address is personal data): they
never go into a message, a log record or an exception chain. The ``httpx`` logger writes every
request URL at INFO level, query string included; :data:`REDACT_QUERY` is installed on it so
that requests to the providers' hosts are logged without their query.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, runtime_checkable

import httpx
import numpy as np
import pandas as pd

from wangge.geo.crs import CHINA_BOUNDS, SourceCRS, xy_to_storage
from wangge.geo.errors import WanggeError

__all__ = ["COLUMNS", "GeocoderAuthError", "GeocoderError", "GeocoderQuotaError",
           "GeocoderUnavailable", "HttpGeocoder", "OnlineGeocoder", "OnlineLevel", "RateLimiter",
           "level_rank"]

log = logging.getLogger("wangge.geocode.online")

COLUMNS = ["address", "lon", "lat", "level", "score", "provider", "raw_level", "reason_zh",
           "reason_en"]

PROVIDER_HOSTS = frozenset({"restapi.amap.com", "api.map.baidu.com", "api.tianditu.gov.cn"})


# --- levels -------------------------------------------------------------------------------------

class OnlineLevel(StrEnum):
    """How precisely a provider placed an address, in wangge's words, best first.

    ``building``: a building (楼栋) or a unit in it; ``compound``: a door number (门牌/门址), a
    residential compound or a named place — the gate or centre of a compound, not a building;
    ``road``: a road, a crossing or a stop; ``district``: an administrative area (province down
    to township and village); ``none``: not placed.
    """

    BUILDING = "building"
    COMPOUND = "compound"
    ROAD = "road"
    DISTRICT = "district"
    NONE = "none"


_RANK = {OnlineLevel.NONE: 0, OnlineLevel.DISTRICT: 1, OnlineLevel.ROAD: 2,
         OnlineLevel.COMPOUND: 3, OnlineLevel.BUILDING: 4}

# The score of a level when the provider says nothing more (AMap gives no confidence at all).
BASE_SCORE = {OnlineLevel.BUILDING: 0.9, OnlineLevel.COMPOUND: 0.75, OnlineLevel.ROAD: 0.5,
              OnlineLevel.DISTRICT: 0.2, OnlineLevel.NONE: 0.0}

_LEVEL_TEXT = {OnlineLevel.BUILDING: ("楼栋级", "building level"),
               OnlineLevel.COMPOUND: ("门址或小区级（未到楼栋）", "door or compound level (not a building)"),
               OnlineLevel.ROAD: ("道路级", "road level"),
               OnlineLevel.DISTRICT: ("行政区级", "administrative-area level"),
               OnlineLevel.NONE: ("未定位", "not placed")}


def level_rank(level: str | OnlineLevel) -> int:
    """0 for ``none`` up to 4 for ``building``."""
    return _RANK[OnlineLevel(level)]


# --- errors -------------------------------------------------------------------------------------

class GeocoderError(WanggeError):
    """An online geocoder could not do its job; the message names the provider, never the key.

    ``partial`` holds the results of the addresses done before the error (a frame in the same
    shape as a full answer, the rest ``none``), so quota already spent is not lost.
    """

    code = "geocoder_error"

    def __init__(self, message_zh: str, message_en: str, *, partial: pd.DataFrame | None = None,
                 **detail: Any) -> None:
        super().__init__(message_zh, message_en, **detail)
        self.partial = partial


class GeocoderAuthError(GeocoderError):
    code = "geocoder_auth"


class GeocoderQuotaError(GeocoderError):
    code = "geocoder_quota"


class GeocoderUnavailable(GeocoderError):
    code = "geocoder_unavailable"


class RetryLater(Exception):
    """A provider answered "try again later" (server error, too many requests); internal."""

    def __init__(self, why_zh: str, why_en: str) -> None:
        super().__init__(why_en)
        self.why_zh, self.why_en = why_zh, why_en


# --- interface ----------------------------------------------------------------------------------

@runtime_checkable
class OnlineGeocoder(Protocol):
    """What wangge asks of an online geocoder."""

    @property
    def name(self) -> str:
        """Provider id: ``amap``, ``baidu``, ``tianditu``."""
        ...

    @property
    def crs(self) -> SourceCRS:
        """The CRS the provider answers in (converted away before results are returned)."""
        ...

    def geocode_many(self, addresses: Sequence[str]) -> pd.DataFrame:
        """One row per address, in order, with :data:`COLUMNS`; lon/lat in EPSG:4490."""
        ...


# --- rate limit ---------------------------------------------------------------------------------

class RateLimiter:
    """At most ``per_second`` calls of :meth:`wait` per second, evenly spaced; thread-safe.

    ``clock`` and ``sleep`` are injectable so tests can run on a fake clock.
    """

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not per_second > 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = -math.inf
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


# --- one provider's answer ----------------------------------------------------------------------

class Answer(NamedTuple):
    """What a provider said about one address, coordinates still in the provider's CRS."""

    lon: float
    lat: float
    raw_level: str | None
    level: OnlineLevel
    score: float
    note_zh: str = ""
    note_en: str = ""


def no_result(raw_level: str | None = None, note_zh: str = "", note_en: str = "") -> Answer:
    return Answer(math.nan, math.nan, raw_level, OnlineLevel.NONE, 0.0, note_zh, note_en)


def classify(raw: str | None, table: Mapping[str, OnlineLevel]) -> tuple[OnlineLevel, str, str]:
    """A provider's level word in wangge's levels; unknown words count as ``district``.

    Unknown words are kept, not trusted: ``district`` is below what :func:`fill_unmatched`
    uses by default, and the reason says the word was not recognised.
    """
    if not raw:
        return OnlineLevel.NONE, "", ""
    if raw in table:
        return table[raw], "", ""
    return (OnlineLevel.DISTRICT, f"未识别的精度“{raw}”按行政区级处理",
            f"unrecognised precision {raw!r} taken as administrative-area level")


# --- the HTTP machinery -------------------------------------------------------------------------

class HttpGeocoder(ABC):
    """An online geocoder over HTTP GET + JSON; subclasses give the URL, params and parsing.

    ``client`` is used as given (tests pass one over ``httpx.MockTransport``) and then not
    closed here; without one, the geocoder makes and owns its own. ``per_second`` is the
    provider's QPS allowance, ``retries`` the extra attempts after a 5xx, a timeout, a transport
    error or a "too frequent" answer, with ``backoff`` × 2^n seconds between attempts.
    """

    name: str
    label_zh: str
    label_en: str
    url: str
    crs: SourceCRS
    key_setting = "WANGGE_GEOCODER_KEY"

    def __init__(self, key: str, *, client: httpx.Client | None = None, timeout: float = 10.0,
                 per_second: float = 3.0, retries: int = 2, backoff: float = 0.5,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        key = _secret(key).strip()
        if not key:
            raise GeocoderAuthError(
                f"{self.label_zh}需要密钥，请设置 {self.key_setting}。",
                f"{self.label_en} needs a key; set {self.key_setting}.", provider=self.name)
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self._limiter = RateLimiter(per_second, clock=clock, sleep=sleep)
        self._key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key=***)"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpGeocoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- provider hooks ---

    @abstractmethod
    def params(self, address: str) -> dict[str, str]:
        """The query parameters for one address, key included."""

    @abstractmethod
    def parse(self, payload: Any) -> Answer:
        """One answer from the provider's JSON; raise :class:`GeocoderError` for API errors and
        :class:`RetryLater` for "try again later"."""

    def http_error(self, status: int) -> GeocoderError | None:
        """A domain error for an HTTP 4xx, or None to treat it as a bad response."""
        if status in (401, 403):
            return self.auth_error(f"HTTP {status}", "", "")
        return None

    # --- errors, worded once ---

    def safe(self, text: object) -> str:
        """A provider's own words, shortened, with the key cut out in case it was echoed."""
        out = str(text if text is not None else "").replace(self._key, "***")
        return out[:120]

    def auth_error(self, code: str, info_zh: str, info_en: str) -> GeocoderAuthError:
        what = self.safe(code)
        return GeocoderAuthError(
            f"{self.label_zh}拒绝了请求（{what}）：密钥不正确、已过期、已停用或无权使用地理编码服务"
            f"{info_zh}。请检查 {self.key_setting} 和服务商控制台中该密钥的设置。",
            f"{self.label_en} refused the request ({what}): the key is wrong, expired, disabled "
            f"or not allowed to use geocoding{info_en}. Check {self.key_setting} and the key's "
            "settings in the provider's console.", provider=self.name, provider_code=what)

    def quota_error(self, code: str) -> GeocoderQuotaError:
        what = self.safe(code)
        return GeocoderQuotaError(
            f"{self.label_zh}的调用量已超出配额（{what}），请稍后再试或提高配额。",
            f"{self.label_en} quota exceeded ({what}); try again later or raise the quota.",
            provider=self.name, provider_code=what)

    def api_error(self, code: str) -> GeocoderError:
        what = self.safe(code)
        return GeocoderError(f"{self.label_zh}返回错误（{what}）。",
                             f"{self.label_en} returned an error ({what}).",
                             provider=self.name, provider_code=what)

    # --- requests ---

    def geocode_one(self, address: str) -> Answer:
        """One request (with limits and retries) and its parsed answer."""
        why_zh, why_en = "", ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            self._limiter.wait()
            try:
                return self._attempt(address)
            except RetryLater as retry:
                why_zh, why_en = retry.why_zh, retry.why_en
        raise GeocoderUnavailable(
            f"{self.label_zh}暂时不可用（{why_zh}），已尝试 {self.retries + 1} 次。",
            f"{self.label_en} is unavailable ({why_en}) after {self.retries + 1} attempts.",
            provider=self.name, attempts=self.retries + 1)

    def _attempt(self, address: str) -> Answer:
        # Nothing raised here may carry the request (its URL holds the key and the address):
        # transport exceptions become a RetryLater raised outside the except clause.
        failure: tuple[str, str] | None = None
        try:
            response = self._client.get(self.url, params=self.params(address), timeout=self.timeout)
        except httpx.TimeoutException:
            failure = ("请求超时", "timed out")
        except httpx.TransportError:
            failure = ("网络错误", "network error")
        if failure is not None:
            raise RetryLater(*failure)
        status = response.status_code
        if status >= 500 or status == 429:
            raise RetryLater(f"HTTP {status}", f"HTTP {status}")
        if status >= 400:
            raise self.http_error(status) or self.api_error(f"HTTP {status}")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise RetryLater("响应不是 JSON 对象", "response is not a JSON object")
        return self.parse(payload)

    def geocode_many(self, addresses: Sequence[str]) -> pd.DataFrame:
        """Geocode each distinct non-empty address once; one row per input address, in order.

        On an API error the raised :class:`GeocoderError` carries ``partial``: the rows done.
        """
        texts = [a.strip() if isinstance(a, str) else "" for a in addresses]
        distinct = list(dict.fromkeys(t for t in texts if t))
        answers: dict[str, Answer] = {}
        try:
            for text in distinct:
                answers[text] = self.geocode_one(text)
        except GeocoderError as exc:
            exc.partial = self.frame(texts, answers)
            exc.detail.update(done=len(answers), total=len(distinct))
            log.warning("%s geocoding stopped after %d of %d addresses: %s", self.name,
                        len(answers), len(distinct), exc.code)
            raise
        log.info("%s geocoded %d distinct addresses", self.name, len(distinct))
        return self.frame(texts, answers)

    def frame(self, texts: Sequence[str], answers: Mapping[str, Answer]) -> pd.DataFrame:
        """The result frame: coordinates converted to storage, levels, scores and reasons."""
        n = len(texts)
        x, y = np.full(n, np.nan), np.full(n, np.nan)
        level = np.full(n, OnlineLevel.NONE.value, dtype=object)
        raw = np.full(n, None, dtype=object)
        score = np.zeros(n)
        notes: list[tuple[str, str]] = []
        for i, text in enumerate(texts):
            a = answers.get(text)
            if a is None:
                notes.append(("地址为空，未查询", "empty address, not sent") if not text else
                             ("未查询（在线地理编码中途停止）", "not sent (online geocoding stopped)"))
                continue
            raw[i], level[i], score[i] = a.raw_level, a.level.value, a.score
            if a.level is not OnlineLevel.NONE:
                x[i], y[i] = a.lon, a.lat
            notes.append((a.note_zh, a.note_en))
        placed = np.isfinite(x) & np.isfinite(y)
        if placed.any():
            x[placed], y[placed] = xy_to_storage(x[placed], y[placed], self.crs)
        minx, miny, maxx, maxy = CHINA_BOUNDS
        outside = placed & ~((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        for j in np.flatnonzero(outside):
            notes[j] = ("返回的坐标不在中国境内，未采用", "returned coordinates outside China, not used")
        level[outside], score[outside] = OnlineLevel.NONE.value, 0.0
        x[outside | ~placed], y[outside | ~placed] = np.nan, np.nan
        zh, en = zip(*(self._reason(OnlineLevel(lv), r, s, note)
                       for lv, r, s, note in zip(level, raw, score, notes, strict=True)),
                     strict=True) if n else ((), ())
        return pd.DataFrame({
            "address": list(texts), "lon": x, "lat": y, "level": level.tolist(), "score": score,
            "provider": [self.name] * n, "raw_level": raw.tolist(), "reason_zh": list(zh),
            "reason_en": list(en)}, columns=COLUMNS)

    def _reason(self, level: OnlineLevel, raw: str | None, score: float,
                note: tuple[str, str]) -> tuple[str, str]:
        note_zh, note_en = note
        if level is OnlineLevel.NONE:
            zh = f"{self.label_zh}未能定位" + (f"：{note_zh}" if note_zh else "") + "。"
            en = f"{self.label_en} did not place the address" + (f": {note_en}" if note_en else "") + "."
            return zh, en
        lv_zh, lv_en = _LEVEL_TEXT[level]
        zh = f"{self.label_zh}定位精度“{raw}”，{lv_zh}，得分{score:.2f}" + (f"；{note_zh}" if note_zh else "")
        en = (f"{self.label_en} placed it with precision {raw!r}, {lv_en}, score {score:.2f}"
              + (f"; {note_en}" if note_en else ""))
        return zh + "。", en + "."


def _secret(key: object) -> str:
    """The text of a key given as ``str`` or as a pydantic ``SecretStr``."""
    reveal = getattr(key, "get_secret_value", None)
    return str(reveal() if callable(reveal) else key)


def number(value: object, default: float = math.nan) -> float:
    """A float from a provider's field (numbers arrive as numbers, strings or empty lists)."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


# --- logging: keep keys and addresses out of httpx's request log ---------------------------------

class _RedactProviderQuery(logging.Filter):
    """Drop the query string of provider URLs from ``httpx`` log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(_redact(a) for a in record.args)
        return True


def _redact(arg: object) -> object:
    if isinstance(arg, httpx.URL) and arg.host in PROVIDER_HOSTS:
        return str(arg.copy_with(query=None)) + ("?…" if arg.query else "")
    return arg


REDACT_QUERY = _RedactProviderQuery()
logging.getLogger("httpx").addFilter(REDACT_QUERY)  # idempotent: addFilter skips duplicates
