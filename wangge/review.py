"""The review queue as a worklist: why each household is there, its candidate locations, export,
and a person's decision — kept, and reused when the same household comes again.

Reasons (:data:`REASONS`, the one table of their Chinese and English text): a household is in
the queue of a release when it is not located (``unlocated``), lies outside every micro-grid
(``outside``), or carries a flag from locating it (``low_match_score``,
``coordinates_far_from_address``, and any flag added later, shown by its code until it is
named here).

Candidates are worked out when a page or an export is asked for, from the current gazetteer,
not stored at import: an import pays nothing for them, and a person always chooses among
entries that still exist (see :func:`match_candidates`).

A decision (:func:`resolve`) is a gazetteer entry (building or compound) or a point given in
any CRS (converted at the edge by :mod:`wangge.geo.crs`). It relocates that one household,
re-assigns it in the current release and is kept in ``review_decisions`` with the household's
external id, the SHA-256 of its address text as imported, who and when. At the next import,
:func:`apply_decisions` gives the same household with the same address text the decided
location, so it does not come back to review; a changed address is matched afresh.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from wangge.geo.crs import parse_crs, point_to_storage, short_number
from wangge.geo.errors import InputError, NotFound, echo
from wangge.geo.index.hierarchy import HierarchyIndex
from wangge.geo.io.csv_out import csv_bytes
from wangge.geo.levels import Level, parse_level
from wangge.geocode.gazetteer import admin_key
from wangge.geocode.match import FAR_FLAG, Matcher
from wangge.store import Store
from wangge.store.review import STATUS_REASONS, ReviewFilter

LOW_SCORE_FLAG = "low_match_score"     # the flag wangge.households raises (kept equal by a test)
LOCATED_BY_REVIEW = "review"           # households.located_by of a household a person placed
CANDIDATES = 3                         # candidates shown and exported per household


@dataclass(frozen=True)
class Reason:
    """Why a household needs a person, in both languages, with what to do about it."""

    code: str
    zh: str
    en: str
    hint_zh: str
    hint_en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "hint_zh": self.hint_zh,
                "hint_en": self.hint_en}


REASONS: dict[str, Reason] = {r.code: r for r in (
    Reason("unlocated", "无法定位", "not located",
           "地址在地名库中找不到，也没有坐标：请选择候选或在地图上取点。",
           "The address matches nothing in the gazetteer and no coordinates were given: choose "
           "a candidate or place a point."),
    Reason("outside", "不在任何网格内", "outside every grid",
           "位置落在所有微网格之外（见最近的微网格和距离）：核对坐标或地址。",
           "The location lies outside every micro-grid (see the nearest one and its distance): "
           "check the coordinates or the address."),
    Reason(FAR_FLAG, "坐标与地址不符", "coordinates far from the address",
           "名册给出的坐标离地址匹配到的位置太远：确认哪一个对。",
           "The register's coordinates are far from where the address matched: decide which "
           "is right."),
    Reason(LOW_SCORE_FLAG, "地址匹配可信度低", "doubtful address match",
           "地址匹配得分低于可信阈值：确认候选或另选。",
           "The address matched below the trusted score: confirm the candidate or choose "
           "another."),
)}

STATUS_ZH = {"found": "已落格", "outside": "网格外", "unlocated": "未定位"}
COMPONENT_TEXT = {
    "name": ("小区名", "compound name"),
    "name_close": ("小区名（相近）", "compound name (close)"),
    "village": ("村名", "village name"),
    "village_close": ("村名（相近）", "village name (close)"),
    "group": ("村民小组", "village group"),
    "door": ("门牌", "door number"),
    "road": ("道路", "road"),
    "street": ("街道/镇", "street/town"),
    "building": ("楼栋", "building"),
    "house": ("门牌号", "house number"),
}


def reason(code: str) -> Reason:
    """The reason for ``code``; a code not in the table is shown as itself."""
    return REASONS.get(code) or Reason(code, code, code, "", "")


def reason_label(code: str, lang: str = "zh") -> str:
    r = reason(code)
    return r.en if lang == "en" else r.zh


def parse_reasons(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Reason codes from codes or their Chinese or English names, comma separated or repeated;
    anything else is refused with the accepted values."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    words = [w.strip() for item in items for w in str(item).replace("，", ",").split(",")]
    lookup: dict[str, str] = {}
    for r in REASONS.values():
        for name in (r.code, r.zh, r.en):
            lookup[name.lower()] = r.code
    out: list[str] = []
    unknown: list[str] = []
    for word in words:
        if not word:
            continue
        code = lookup.get(word.lower())
        if code is None:
            unknown.append(echo(word, 40))
        elif code not in out:
            out.append(code)
    if unknown:
        accepted = "、".join(f"{r.code}（{r.zh}）" for r in REASONS.values())
        raise InputError(f"无法识别的核查原因：{'、'.join(unknown)}。可用：{accepted}。",
                         f"Unknown review reason(s): {', '.join(unknown)}. Accepted: "
                         f"{', '.join(REASONS)}.", reasons=unknown, accepted=list(REASONS))
    return tuple(out)


def address_sha256(address: object) -> str:
    """The SHA-256 (hex) of an address text as imported, blanks at either end ignored."""
    text = address.strip() if isinstance(address, str) else ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- the worklist ------------------------------------------------------------------------------

def build_filter(store: Store, release_id: int, *, reasons: Iterable[str] | str | None = None,
                 unit: str | None = None, source: str | None = None,
                 min_score: float | None = None, max_score: float | None = None) -> ReviewFilter:
    """The worklist filter, every argument checked at once; an unknown unit is NotFound."""
    problems_zh: list[str] = []
    problems_en: list[str] = []
    try:
        codes = parse_reasons(reasons)
    except InputError as exc:
        codes = ()
        problems_zh.append(exc.message_zh)
        problems_en.append(exc.message_en)
    for name, value in (("min_score", min_score), ("max_score", max_score)):
        if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
            problems_zh.append(f"{name} 应在 0 到 1 之间，收到 {echo(value, 20)}。")
            problems_en.append(f"{name} must be between 0 and 1, got {echo(value, 20)}.")
    if min_score is not None and max_score is not None and min_score > max_score:
        problems_zh.append(f"min_score（{min_score}）大于 max_score（{max_score}）。")
        problems_en.append(f"min_score ({min_score}) is greater than max_score ({max_score}).")
    if problems_zh:
        raise InputError("".join(problems_zh), " ".join(problems_en))
    level: Level | None = None
    nearest: tuple[str, ...] = ()
    if unit is not None:
        found = store.unit(release_id, unit)          # NotFound names the release and code
        level = parse_level(str(found["level"].iloc[0]))
        nearest = _finest_under(store.unit_tree(release_id), unit)
    return ReviewFilter(reasons=codes, unit_code=unit, unit_level=level, nearest_codes=nearest,
                        source=source or None, min_score=min_score, max_score=max_score)


def _finest_under(tree: pd.DataFrame, code: str) -> tuple[str, ...]:
    """Codes of the finest units under ``code`` (itself if it is one)."""
    children: dict[str, list[str]] = {}
    for child, parent in zip(tree["code"], tree["parent_code"], strict=True):
        if parent is not None:
            children.setdefault(str(parent), []).append(str(child))
    out: list[str] = []
    todo = [code]
    while todo:
        current = todo.pop()
        below = children.get(current)
        if below:
            todo.extend(below)
        else:
            out.append(current)
    return tuple(sorted(out))


def _reasons_of(status: str, flags: Iterable[object] | None) -> list[str]:
    return ([status] if status != "found" else []) + [str(f) for f in (flags or [])]


def _plain(value: Any) -> Any:
    """JSON-friendly: NaN to None, numpy scalars to Python."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def worklist(store: Store, release_id: int, filt: ReviewFilter, *, limit: int = 100,
             offset: int = 0, matcher: Matcher | None = None,
             candidates: int = CANDIDATES) -> dict[str, Any]:
    """One page of the worklist with the counts per reason and the candidates of each row."""
    page = store.review_page(release_id, filt, limit=limit, offset=offset)
    tally = store.review_tally(release_id, filt)
    found = match_candidates(matcher, page["address"].tolist(), candidates) \
        if matcher is not None else [[] for _ in range(len(page))]
    rows = []
    for row, cands in zip(page.to_dict("records"), found, strict=True):
        codes = _reasons_of(row["status"], row["flags"])
        out = {k: _plain(v) for k, v in row.items() if k not in ("household_id", "flags")}
        out["reasons"] = [{"code": c, "zh": reason(c).zh, "en": reason(c).en} for c in codes]
        out["candidates"] = cands
        rows.append(out)
    return {"release_id": release_id, "total": tally["total"], "limit": limit, "offset": offset,
            "reasons": [{**reason(c).as_dict(), "count": n}
                        for c, n in _ordered(tally["by_reason"])],
            "sources": [{"source": s, "count": n} for s, n in sorted(tally["by_source"].items())],
            "gazetteer": matcher is not None, "households": rows}


def _ordered(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Known reasons in table order, then the others by code."""
    known = [(c, counts[c]) for c in REASONS if c in counts]
    return known + sorted((c, n) for c, n in counts.items() if c not in REASONS)


# ---- candidates --------------------------------------------------------------------------------

def match_candidates(matcher: Matcher, addresses: Sequence[object],
                     k: int = CANDIDATES) -> list[list[dict[str, Any]]]:
    """For each address, up to ``k`` gazetteer entries it may mean, best first: ``id`` (the
    building, else the compound), ``kind``, ``name``, ``score``, ``components`` (what agreed:
    codes of :data:`COMPONENT_TEXT`), ``evidence_zh``/``evidence_en``, ``lon``/``lat``.

    Scored by :meth:`wangge.geocode.match.Matcher.candidates`: the first is the matcher's
    own choice.
    """
    out: list[list[dict[str, Any]]] = []
    gaz = matcher.gazetteer
    for address in addresses:
        text = address if isinstance(address, str) else ""
        if not text.strip():
            out.append([])
            continue
        rows = []
        for cand in matcher.candidates(text, k):
            c, j, score, evidence = cand.compound, cand.building, cand.score, cand.evidence
            if j is not None:
                entry, kind = gaz.building_ids[j], "building"
                x, y = gaz.building_xy[j]
                name = gaz.compound_label(c) + gaz.label(j)
            else:
                entry, kind = gaz.compound_ids[c], "compound"
                x, y = gaz.compound_xy[c]
                name = gaz.compound_label(c)
            rows.append({"id": entry, "kind": kind, "name": name, "score": score,
                         "components": _components(gaz, cand.head, cand.tail, cand.how, c, j),
                         "evidence_zh": "；".join(e.zh for e in evidence),
                         "evidence_en": "; ".join(e.en for e in evidence),
                         "lon": float(x), "lat": float(y)})
        out.append(rows)
    return out


def _components(gaz: Any, head: Any, tail: Any, how: str, c: int, j: int | None) -> list[str]:
    """The parts of the address that agree with candidate compound ``c`` (building ``j``)."""
    village = bool(gaz.is_village[c])
    used: list[str] = []
    if how in ("exact", "exact_near"):
        used.append("village" if village else "name")
    elif how == "fuzzy":
        used.append("village_close" if village else "name_close")
    if village and tail.group is not None:
        used.append("group")
    if head.road is not None:
        if head.road_number is not None and c in gaz.by_door.get((head.road, head.road_number), ()):
            used.append("door")
        elif gaz.roads[c] is not None and head.road == gaz.roads[c]:
            used.append("road")
    street = admin_key(head.street)
    if street is not None and street == gaz.streets[c]:
        used.append("street")
    if j is not None:
        used.append("house" if village else "building")
    return used


def components_text(codes: Iterable[str], lang: str = "zh") -> str:
    pick = 1 if lang == "en" else 0
    return ("、" if lang != "en" else ", ").join(COMPONENT_TEXT.get(c, (c, c))[pick] for c in codes)


# ---- export --------------------------------------------------------------------------------------

_EXPORT_COLUMNS: list[tuple[str, str, str]] = [   # key, Chinese header, English header
    ("external_id", "住户编号", "household id"),
    ("reasons", "核查原因", "reasons"),
    ("address", "地址", "address"),
    ("source", "导入来源", "import"),
    ("status", "状态", "status"),
    ("match_level", "匹配级别", "match level"),
    ("match_score", "匹配得分", "match score"),
    ("matched_id", "当前匹配编号", "matched id"),
    ("grid", "所在网格", "grid"),
    ("nearest_code", "最近微网格", "nearest micro-grid"),
    ("nearest_m", "距最近微网格（米）", "distance to it (m)"),
    ("lon", "经度（CGCS2000）", "longitude (CGCS2000)"),
    ("lat", "纬度（CGCS2000）", "latitude (CGCS2000)"),
]
_CANDIDATE_COLUMNS = [("id", "编号", "id"), ("name", "名称", "name"), ("score", "得分", "score"),
                      ("components", "依据", "matched on"), ("evidence", "说明", "evidence")]
_PERSONAL_COLUMNS = [("name", "户主姓名", "head of household"), ("phone", "联系电话", "phone"),
                     ("id_number", "身份证号", "ID number")]
# Columns whose values the service made (statuses, codes, numbers): no formula scan needed.
_MADE_HERE = {"status", "match_level", "match_score", "grid", "nearest_code", "nearest_m", "lon",
              "lat", "reasons"} | {f"candidate{i}_score" for i in range(1, 10)}


@dataclass
class ExportTable:
    """The export as columns: keys, Chinese and English headers, values."""

    keys: list[str]
    headers_zh: list[str]
    headers_en: list[str]
    columns: list[list[Any]]
    counts: list[tuple[str, int]]
    release_id: int

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def export_table(store: Store, release_id: int, filt: ReviewFilter, *,
                 matcher: Matcher | None = None, lang: str = "zh", personal: bool = False,
                 candidates: int = CANDIDATES) -> ExportTable:
    """Every household of the filtered worklist, one row each with its candidates.

    ``personal`` adds names, phones and ID numbers: only for a caller entitled to them (the
    local administrator), who audits the read (see ``wangge households review --export``).
    """
    page = store.review_page(release_id, filt, limit=None)
    tally = store.review_tally(release_id, filt)
    found = match_candidates(matcher, page["address"].tolist(), candidates) \
        if matcher is not None else [[] for _ in range(len(page))]
    en = lang == "en"
    keys = [k for k, _, _ in _EXPORT_COLUMNS]
    zh_h = [z for _, z, _ in _EXPORT_COLUMNS]
    en_h = [e for _, _, e in _EXPORT_COLUMNS]
    data: dict[str, list[Any]] = {k: [] for k in keys}
    for row in page.to_dict("records"):
        for k in keys:
            value = _plain(row[k]) if k in row else None
            if k == "reasons":
                value = ("; " if en else "；").join(
                    reason_label(c, lang) for c in _reasons_of(row["status"], row["flags"]))
            elif k == "status" and not en:
                value = STATUS_ZH.get(str(value), value)
            elif k == "nearest_m" and value is not None:
                value = round(float(value), 1)
            data[k].append(value)
    for i in range(1, candidates + 1):
        for key, zh, english in _CANDIDATE_COLUMNS:
            name = f"candidate{i}_{key}"
            keys.append(name)
            zh_h.append(f"候选{i}{zh}")
            en_h.append(f"candidate {i} {english}")
            values: list[Any] = []
            for cands in found:
                cand = cands[i - 1] if len(cands) >= i else None
                if cand is None:
                    values.append(None)
                elif key == "components":
                    values.append(components_text(cand["components"], lang))
                elif key == "evidence":
                    values.append(cand["evidence_en" if en else "evidence_zh"])
                else:
                    values.append(cand[key])
            data[name] = values
    if personal:
        people = store.review_personal([int(h) for h in page["household_id"]])
        people = people.drop_duplicates("household_id").set_index("household_id")
        for key, zh, english in _PERSONAL_COLUMNS:
            keys.append(key)
            zh_h.append(zh)
            en_h.append(english)
            data[key] = [_plain(people[key].get(int(h))) if int(h) in people.index else None
                         for h in page["household_id"]]
    return ExportTable(keys, zh_h, en_h, [data[k] for k in keys],
                       _ordered(tally["by_reason"]), release_id)


def export_csv(table: ExportTable, lang: str = "zh") -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel opens it as UTF-8), formula-safe: Chinese headers
    and an English header row under them, or English headers only with ``lang="en"``."""
    if lang == "en":
        body = csv_bytes(table.headers_en, table.columns, made_here=_made_here(table))
    else:
        columns = [[en, *col] for en, col in zip(table.headers_en, table.columns, strict=True)]
        body = csv_bytes(table.headers_zh, columns, made_here=_made_here(table))
    return "\ufeff".encode() + body


def _made_here(table: ExportTable) -> set[str]:
    return {h for k, h in zip(table.keys, table.headers_zh, strict=True) if k in _MADE_HERE} | \
        {h for k, h in zip(table.keys, table.headers_en, strict=True) if k in _MADE_HERE}


def export_xlsx(table: ExportTable, lang: str = "zh") -> bytes:
    """An .xlsx workbook: the worklist (Chinese headers with an English row, or English only)
    and the counts per reason. Text is written as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    en = lang == "en"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("review" if en else "待核查")
    bold = Font(bold=True)
    header_rows = [table.headers_en] if en else [table.headers_zh, table.headers_en]
    for i, key in enumerate(table.keys, start=1):
        width = 36 if key in ("address",) or key.endswith(("_evidence",)) else \
            22 if key in ("reasons", "source") or key.endswith("_name") else 14
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"B{len(header_rows) + 1}"

    def text_cell(value: Any, font: Font | None = None) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"         # never a formula, whatever the text begins with
        else:
            cell = WriteOnlyCell(ws, value=value)
        if font is not None:
            cell.font = font
        return cell

    for headers in header_rows:
        ws.append([text_cell(h, bold) for h in headers])
    for row in zip(*table.columns, strict=True):
        ws.append([text_cell(v) for v in row])
    counts = wb.create_sheet("counts" if en else "原因统计")
    counts.append([text_cell(h, bold) for h in (
        ["reason", "code", "households"] if en else ["核查原因", "代码 code", "户数"])])
    for code, n in table.counts:
        counts.append([text_cell(reason_label(code, lang)), text_cell(code), n])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---- decisions -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decider:
    """Who decides: a key's name and role from the API, or the local command line."""

    name: str
    key_id: int | None = None
    role: str | None = None


def resolve(store: Store, external_id: str, *, candidate: str | None = None,
            lon: float | None = None, lat: float | None = None, crs: str = "WGS-84",
            decider: Decider, index: HierarchyIndex | None = None) -> dict[str, Any]:
    """Resolve one household: a gazetteer entry (``candidate``) or a point (``lon``, ``lat`` in
    ``crs``). Relocates it, re-assigns it in the current release and keeps the decision.

    ``index`` is the current release's hierarchy if the caller holds one (the API's membership
    index); otherwise the few units around the point are read from the store. A location that
    falls in no micro-grid of the current release is refused: the household would stay in the
    queue.
    """
    point_given = lon is not None or lat is not None
    if (candidate is None) == (not point_given) or (point_given and (lon is None or lat is None)):
        raise InputError("请给出一个候选编号，或者经度和纬度（二选一）。",
                         "Give either a candidate id or a longitude and latitude, not both.")
    record = store.household_record(external_id)
    release = store.release_or_current(None)
    decision: dict[str, Any] = {"external_id": record["external_id"],
                                "address_sha256": address_sha256(record["address"]),
                                "decided_by": decider.name, "key_id": decider.key_id,
                                "role": decider.role}
    if candidate is not None:
        entries = store.gazetteer_points([candidate])
        if entries.empty:
            raise NotFound(f"当前地名地址库中没有编号为 {echo(candidate, 40)} 的楼栋或小区。",
                           f"The current gazetteer has no building or compound {echo(candidate, 40)}.",
                           candidate=echo(candidate, 40))
        entry = entries.iloc[0]
        x, y = float(entry["lon"]), float(entry["lat"])
        decision.update(decision="candidate", entry_id=str(entry["entry_id"]), lon=x, lat=y)
    else:
        assert lon is not None and lat is not None
        x, y = point_to_storage(float(lon), float(lat), crs)
        decision.update(decision="point", entry_id=None, lon=x, lat=y, given_lon=float(lon),
                        given_lat=float(lat), given_crs=parse_crs(crs).label)
    assignment = _assign_one(store, release.id, x, y, index)
    decision_id = store.save_review_decision(int(record["id"]), decision, release.id, assignment)
    return {"external_id": record["external_id"], "decision_id": decision_id,
            "decision": decision["decision"], "entry_id": decision["entry_id"],
            "lon": x, "lat": y, "release_id": release.id,
            **{k: assignment[k] for k in ("microgrid", "grid", "community", "street")}}


def _assign_one(store: Store, release_id: int, lon: float, lat: float,
                index: HierarchyIndex | None) -> dict[str, Any]:
    if index is None:
        units = store.units_near(release_id, lon, lat)
        if units.empty:
            _outside(release_id, lon, lat)
        index = HierarchyIndex.build(units)
    result = index.assign([lon], [lat]).iloc[0]
    if result["status"] != "found":
        _outside(release_id, lon, lat)
    return {"microgrid": result["microgrid"], "grid": result["grid"],
            "community": result["community"], "street": result["street"], "status": "found",
            "nearest_code": result["microgrid"], "nearest_m": 0.0}


def _outside(release_id: int, lon: float, lat: float) -> NoReturn:
    where = f"({short_number(lon)}, {short_number(lat)})"
    raise InputError(f"位置 {where}（CGCS2000）不在版本 {release_id} 的任何微网格内，住户仍会留在待核查中；"
                     "请选择其他候选或重新取点。",
                     f"The location {where} (CGCS2000) is in no micro-grid of release "
                     f"{release_id}; the household would stay in review. Choose another "
                     "candidate or place the point again.", release_id=release_id)


def apply_decisions(store: Store, households: pd.DataFrame) -> pd.DataFrame:
    """Households about to be stored, with the decisions people made for the same household and
    the same address text applied: the decided location (a chosen building or compound where
    it still is in the current gazetteer), ``located_by = "review"``, no flags.

    The import's one call into the review (``wangge.households.import_register``); it costs
    one small query when nobody has decided anything.
    """
    if households.empty or not store.has_review_decisions():
        return households
    decisions = store.review_decisions()
    latest = decisions.drop_duplicates(["external_id", "address_sha256"], keep="last")
    by_key = {(str(e), str(s)): i for i, (e, s) in
              enumerate(zip(latest["external_id"], latest["address_sha256"], strict=True))}
    decided_ids = set(latest["external_id"].astype(str))
    rows: list[int] = []
    picks: list[int] = []
    maybe = np.flatnonzero(households["external_id"].astype(str).isin(decided_ids).to_numpy())
    ext_ids, addresses = households["external_id"].to_numpy(), households["address"].to_numpy()
    for pos in maybe:
        hit = by_key.get((str(ext_ids[pos]), address_sha256(addresses[pos])))
        if hit is not None:
            rows.append(int(pos))
            picks.append(hit)
    if not rows:
        return households
    chosen = latest.iloc[picks].reset_index(drop=True)
    lon = chosen["lon"].to_numpy(dtype=float, copy=True)
    lat = chosen["lat"].to_numpy(dtype=float, copy=True)
    entry_ids = [e for e in chosen["entry_id"] if isinstance(e, str)]
    if entry_ids:
        now = store.gazetteer_points(entry_ids).drop_duplicates("entry_id").set_index("entry_id")
        for i, entry in enumerate(chosen["entry_id"]):
            if isinstance(entry, str) and entry in now.index:
                lon[i], lat[i] = float(now.at[entry, "lon"]), float(now.at[entry, "lat"])
    out = households.copy()
    cols = {c: out.columns.get_loc(c) for c in ("lon", "lat", "located_by", "matched_id", "flags")}
    out.iloc[rows, cols["lon"]] = lon
    out.iloc[rows, cols["lat"]] = lat
    out.iloc[rows, cols["located_by"]] = LOCATED_BY_REVIEW
    out.iloc[rows, cols["matched_id"]] = [e if isinstance(e, str) else None
                                          for e in chosen["entry_id"]]
    flags = out["flags"].tolist()
    for r in rows:
        flags[r] = None
    out["flags"] = pd.Series(flags, index=out.index, dtype=object)
    return out


__all__ = ["CANDIDATES", "COMPONENT_TEXT", "REASONS", "STATUS_REASONS", "Decider", "ExportTable",
           "Reason", "address_sha256", "apply_decisions", "build_filter", "export_csv",
           "export_table", "export_xlsx", "match_candidates", "parse_reasons", "reason",
           "reason_label", "resolve", "worklist"]
