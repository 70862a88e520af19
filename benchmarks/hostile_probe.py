"""Probe: the served demo against a hostile corpus, as a hostile user and an operator would.

Usage:
    .venv/bin/python benchmarks/hostile_probe.py [--postgis [URL]] [--households N]

1. Loads the demo district (``wangge demo``, N households) into a fresh store — SQLite in a
   temporary folder by default, a database of its own on PostGIS with ``--postgis`` — and makes one
   key per role.
2. Serves it as a user would (``uvicorn wangge.api.app:create_app --factory``, one process) and
   fingerprints the store: every table's rows but the audit log's.
3. Replays the corpus (see ``corpus()``): memory bombs in spreadsheets, corrupt, truncated,
   empty and non-UTF-8 files, zip bombs and path traversal, oversized bodies (declared and
   chunked), NaN/inf/huge coordinates and bboxes, swapped axes, wrong and absurd CRSs, duplicate
   ids, invalid polygons asked to be repaired, a 1,000,000-vertex polygon and 100,000 features,
   formula and injection strings in every query parameter of every GET operation, and the
   closed routes without a key. None of it is meant to change the store.
4. With ``--postgis``: a database outage (the service's connections terminated and new ones
   refused for 3 s) under 4 clients.
5. Prints requests sent, answers by class (2xx, 4xx, 5xx, no answer), every 5xx and unanswered
   request by name, checks that failed, the server's RSS before/peak/after, and whether the
   store is unchanged. Exit status 1 if any 5xx, unanswered request or failed check.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openpyxl
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serving import DEFAULT_POSTGIS_URL, rss_mib, scratch_database, serve  # noqa: E402

INJECTIONS = ["' OR '1'='1' --", "1; DROP TABLE units; --", "<script>alert(1)</script>",
              "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "\t=1", "../../../../etc/passwd",
              "%00", "\x00", "${jndi:ldap://x/a}", "{{7*7}}", "NaN", "Infinity", "-1e309",
              "1e308", "9" * 400, "网" * 5000, "\ud800".encode("utf-8", "surrogatepass")
              .decode("utf-8", "replace"), "", " ", "[]", "{}", "null", "-1", "0"]
CENTRE = (120.1613, 33.3479)


@dataclass
class Case:
    name: str
    method: str
    path: str
    role: str | None = "planner"
    kwargs: dict[str, Any] = field(default_factory=dict)
    expect: Callable[[httpx.Response], str | None] | None = None  # None if fine, else why not


@dataclass
class Tally:
    sent: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)       # 5xx and unanswered, by name
    failed: list[str] = field(default_factory=list)    # expectations not met
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, status: int | None, problem: str | None = None,
               outage: bool = False) -> None:
        """One answer; during an outage a 503 (with Retry-After) is the right answer."""
        with self.lock:
            self.sent += 1
            cls = "no answer" if status is None else f"{status // 100}xx"
            if outage and status == 503:
                cls = "503 (outage)"
            self.classes[cls] += 1
            if status is None or (status >= 500 and cls != "503 (outage)"):
                self.bad.append(f"{name}: {status or 'no answer'}")
            if problem:
                self.failed.append(f"{name}: {problem}")


# ---- the corpus ------------------------------------------------------------------------------
def _xlsx(cells: dict[str, Any]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for ref, value in cells.items():
        ws[ref] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _register_xlsx(rows: int = 50) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["户号", "地址", "经度", "纬度"])
    for i in range(rows):
        ws.append([f"P{i:05d}", f"亭湖区某小区{i}幢", CENTRE[0], CENTRE[1]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _zip(members: dict[str, bytes | int]) -> bytes:
    """A zip; an int member is that many zero bytes, written in chunks (a bomb stays small)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            if isinstance(data, int):
                with z.open(name, "w", force_zip64=True) as member:
                    chunk = bytes(1 << 20)
                    for _ in range(data >> 20):
                        member.write(chunk)
            else:
                z.writestr(name, data)
    return out.getvalue()


def _xlsx_bomb_member() -> bytes:
    """A real workbook whose sheet XML is padded to 300 MB of whitespace (about 300 KB zipped)."""
    good = zipfile.ZipFile(io.BytesIO(_register_xlsx(3)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in good.infolist():
            data = good.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                with z.open(info.filename, "w", force_zip64=True) as member:
                    member.write(data[:-len(b"</worksheet>")])
                    pad = b" " * (1 << 20)
                    for _ in range(300):
                        member.write(pad)
                    member.write(b"</worksheet>")
            else:
                z.writestr(info, data)
    return out.getvalue()


def _fc(features: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _square(code: str, x: float, y: float, d: float = 0.002, level: str = "grid") -> dict[str, Any]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Feature", "properties": {"code": code, "name": f"网格{code}", "level": level},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _polygon(code: str, rings: list[list[list[float]]]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, "name": "测试", "level": "grid"},
            "geometry": {"type": "Polygon", "coordinates": rings}}


def _million_vertex_polygon() -> bytes:
    t = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    r = 0.02 * (1 + 0.05 * np.sin(40 * t))
    ring = np.column_stack([CENTRE[0] + r * np.cos(t), CENTRE[1] + r * np.sin(t)])
    ring = np.vstack([ring, ring[:1]]).round(7).tolist()
    return _fc([_polygon("320902001001001", [ring])])


def _many_features(n: int = 100_000) -> bytes:
    side = int(np.ceil(np.sqrt(n)))
    d = 0.0003
    return _fc([_square(f"3209020010010{i:05d}", 120.05 + (i % side) * d,
                        33.30 + (i // side) * d, d, level="microgrid") for i in range(n)])


def _status(*allowed: int) -> Callable[[httpx.Response], str | None]:
    def check(r: httpx.Response) -> str | None:
        return None if r.status_code in allowed else f"status {r.status_code}, want {allowed}"
    return check


def _refused(code: str | None = None, fast_s: float | None = None
             ) -> Callable[[httpx.Response], str | None]:
    """A 4xx with the standard bilingual body (and the given code; answered within fast_s)."""
    def check(r: httpx.Response) -> str | None:
        if not 400 <= r.status_code < 500:
            return f"status {r.status_code}, want a 4xx"
        try:
            body = r.json()
        except ValueError:
            return "4xx without a JSON body"
        if not (body.get("code") and body.get("message") and body.get("message_en")):
            return "4xx body lacks code/message/message_en"
        if code is not None and body["code"] != code:
            return f"code {body['code']}, want {code}"
        if len(r.content) > 20_000 and body["code"] != "validation_failed":
            return f"error body of {len(r.content)} bytes (echoes too much)"
        if fast_s is not None and r.elapsed.total_seconds() > fast_s:
            return f"answered in {r.elapsed.total_seconds():.2f} s, want < {fast_s} s"
        return None
    return check


def _upload(name: str, data: bytes, **form: str) -> dict[str, Any]:
    return {"files": {"file": (name, data, "application/octet-stream")}, "data": form}


def corpus(openapi: dict[str, Any], max_upload_mb: int) -> Iterator[Case]:
    bomb = _xlsx({"A1": "external_id", "XFD1048576": "end"})
    register = _register_xlsx()
    truncated = register[: len(register) // 2]
    xlsx_zip_bomb = _xlsx_bomb_member()
    tables = {"/v1/households/import": "register", "/v1/workers/import": "roster",
              "/v1/sites/import": "sites"}
    # 1. spreadsheets: memory bomb, zip bomb, truncated, corrupt, not a zip, empty
    for path, what in tables.items():
        yield Case(f"xlsx XFD1048576 bomb → {what}", "POST", path, kwargs=_upload("x.xlsx", bomb),
                   expect=_refused(fast_s=1.0))
        yield Case(f"xlsx zip bomb (300 MB sheet) → {what}", "POST", path,
                   kwargs=_upload("x.xlsx", xlsx_zip_bomb), expect=_refused(fast_s=1.0))
        yield Case(f"truncated xlsx → {what}", "POST", path, kwargs=_upload("x.xlsx", truncated),
                   expect=_refused("file_format"))
        yield Case(f"not a zip named .xlsx → {what}", "POST", path,
                   kwargs=_upload("x.xlsx", b"PK\x03\x04 not really"), expect=_refused())
        yield Case(f"random bytes .xlsx → {what}", "POST", path,
                   kwargs=_upload("x.xlsx", os.urandom(4096)), expect=_refused())
        for suffix in (".xlsx", ".csv", ".json"):
            yield Case(f"empty {suffix} → {what}", "POST", path, kwargs=_upload("e" + suffix, b""),
                       expect=_refused())
        yield Case(f"non-UTF-8 bytes .csv → {what}", "POST", path,
                   kwargs=_upload("x.csv", b"\xff\xfe\xfa\x00\x81" * 200), expect=_refused())
        yield Case(f"JSON that is not a table → {what}", "POST", path,
                   kwargs=_upload("x.json", b'{"a": [1, 2, {"b": NaN}]}'), expect=_refused())
    yield Case("register: every row a duplicate id without a location", "POST",
               "/v1/households/import",
               kwargs=_upload("d.csv", ("户号,地址\n" + "D1,\n" * 50).encode()),
               expect=_nothing_imported)
    # 2. boundary files: zip bombs, traversal, empty, non-UTF-8, corrupt
    yield Case("zip bomb shapefile (400 MB .shp)", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("b.zip", _zip({"b.shp": 400 << 20, "b.shx": b"", "b.dbf": b""})),
               expect=_refused())
    yield Case("zip with traversal names", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("t.zip", _zip({"../../../../tmp/evil.shp": b"x",
                                             "/etc/evil.dbf": b"x", "..\\..\\evil.shx": b"x"})),
               expect=_refused())
    yield Case("upload named with traversal", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("../../../../etc/passwd.geojson", _fc([_square("1", *CENTRE)])))
    yield Case("empty GeoJSON", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("e.geojson", b""), expect=_refused())
    yield Case("GeoJSON in GBK", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("g.geojson", _fc([_square("320902001001001", *CENTRE)])
                              .decode().replace("网格", "网格").encode("gbk", "replace")))
    yield Case("GeoJSON of random bytes", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("r.geojson", os.urandom(8192)), expect=_refused())
    yield Case("GeoPackage that is not SQLite", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("x.gpkg", b"SQLite format 3\x00" + os.urandom(4096)),
               expect=_refused())
    # 3. coordinates in files: swapped, wrong CRS, absurd, NaN
    square = _square("320902001001001", *CENTRE)
    swapped = json.loads(json.dumps(square))
    swapped["geometry"]["coordinates"] = [[[y, x] for x, y in square["geometry"]["coordinates"][0]]]
    yield Case("swapped axes", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("s.geojson", _fc([swapped])), expect=_refused())
    metres = json.loads(json.dumps(square))
    metres["geometry"]["coordinates"] = [[[40_500_000 + 100 * i, 3_690_000 + 100 * (i % 2)]
                                          for i in range(4)] + [[40_500_000, 3_690_000]]]
    yield Case("metres declared as EPSG:4490", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("m.geojson", _fc([metres]), crs="EPSG:4490"), expect=_refused())
    for value in ("1e300", "5000", "-1e308"):
        absurd = _fc([square]).decode().replace(str(CENTRE[0]), value, 1).encode()
        yield Case(f"absurd coordinate {value}", "POST", "/v1/validate", role="viewer",
                   kwargs=_upload("a.geojson", absurd), expect=_refused())
    nan_text = _fc([square]).decode().replace(str(CENTRE[0]), "NaN", 1).encode()
    for repair in ("false", "true"):
        yield Case(f"NaN coordinate, repair={repair}", "POST", "/v1/validate", role="viewer",
                   kwargs=_upload("n.geojson", nan_text, repair=repair))
    for crs in ("EPSG:999999", "EPSG:4978", "+proj=geocent", "x" * 5000, "GCJ-03"):
        yield Case(f"unknown or unusable CRS {crs[:20]}", "POST", "/v1/validate", role="viewer",
                   kwargs=_upload("c.geojson", _fc([square]), crs=crs), expect=_refused())
    # 4. invalid polygons asked to be repaired: never an empty unit, never silent area loss
    x, y, d = CENTRE[0], CENTRE[1], 0.004
    shell = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    big_hole = [[x - d, y - d], [x + 2 * d, y - d], [x + 2 * d, y + 2 * d], [x - d, y + 2 * d],
                [x - d, y - d]]
    bow_tie = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    cases = {"hole covering the shell": [shell, big_hole], "hole identical to shell": [shell, shell],
             "inverted shell": [shell[::-1]], "bow-tie": [bow_tie],
             "collapsed ring": [[[x, y], [x + d, y], [x, y]]]}
    for label, rings in cases.items():
        yield Case(f"repair: {label}", "POST", "/v1/validate", role="viewer",
                   kwargs=_upload("p.geojson", _fc([_polygon("320902001001001", rings)]),
                                  repair="true"), expect=_no_empty_repair)
    yield Case("duplicate codes", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("d.geojson", _fc([square, square])))
    # 5. size: declared and chunked oversize, a 1M-vertex polygon, 100k features
    yield Case("body over the limit (declared)", "POST", "/v1/validate", role="viewer",
               kwargs={"content": b" " * ((max_upload_mb + 1) << 20),
                       "headers": {"Content-Type": "application/octet-stream"}},
               expect=_refused("payload_too_large"))
    yield Case("body over the limit (chunked)", "POST", "/v1/validate", role="viewer",
               kwargs={"content": _chunks((max_upload_mb + 1) << 20),
                       "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
               expect=_refused("payload_too_large"))
    yield Case("1,000,000-vertex polygon", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("big.geojson", _million_vertex_polygon()))
    yield Case("100,000 features", "POST", "/v1/validate", role="viewer",
               kwargs=_upload("many.geojson", _many_features()))
    # 6. coordinates and bboxes as parameters
    for lon, lat in (("nan", "33.4"), ("inf", "33.4"), ("1e309", "33.4"), ("1e308", "33.4"),
                     ("120.1", "-inf"), ("2.35", "48.85"), ("33.4", "120.1"), ("500000", "3700000")):
        for crs in ("WGS-84", "GCJ-02", "BD-09", "EPSG:4549"):
            if crs == "EPSG:4549" and lon == "500000":
                continue  # a real place in that Gauss–Krüger zone
            yield Case(f"membership lon={lon} lat={lat} crs={crs}", "GET", "/v1/membership",
                       role="integrator", kwargs={"params": {"lon": lon, "lat": lat, "crs": crs}},
                       expect=_refused("coordinates_out_of_range"))
    for bbox in ("nan,33,121,34", "120,33,inf,34", "1e309,0,1,1", "1,2,3", "x" * 5000,
                 "121,33,120,34", "-200,0,0,1"):
        for path in ("/v1/units", "/ogc/collections/grid/items"):
            yield Case(f"bbox {bbox[:20]} on {path}", "GET", path, role="integrator",
                       kwargs={"params": {"bbox": bbox}}, expect=_refused())
    yield Case("site added at NaN", "POST", "/v1/sites",
               kwargs={"content": b'{"site_id": "Z1", "kind": "station", "name": "x", '
                                  b'"lon": NaN, "lat": 33.4}',
                       "headers": {"Content-Type": "application/json"}},
               expect=_refused("coordinates_out_of_range"))
    # 7. CSV answers neutralise formulas
    ids = ["=cmd|' /C calc'!A0", "+1", "-1", "@A1", "\t=1", "\r=1"]
    yield Case("formula ids in a CSV answer", "POST", "/v1/membership", role="integrator",
               kwargs={"params": {"format": "csv"},
                       "json": {"points": [list(CENTRE)] * len(ids), "ids": ids}},
               expect=_csv_is_safe)
    # 8. injection strings in every query and path parameter of every GET operation
    for path, operations in openapi["paths"].items():
        for method, op in operations.items():
            if method != "get":
                continue
            params = [p for p in op.get("parameters", []) if p["in"] in ("query", "path")]
            base = {p["name"]: _plausible(p["name"]) for p in params if p.get("required")}
            for p in params:
                for value in INJECTIONS:
                    query = {**base, p["name"]: value}
                    url = path
                    for q in [q for q in params if q["in"] == "path"]:
                        url = url.replace("{" + q["name"] + "}", _quote(query.pop(q["name"])))
                    yield Case(f"inject {p['name']}={value[:12]!r} {path}", "GET", url,
                               role="admin", kwargs={"params": query})
    # 9. closed routes without a key
    for path in ("/v1/units", "/v1/audit", "/v1/keys", "/maps/overview"):
        yield Case(f"no key {path}", "GET", path, role=None, expect=_status(401))


def normal_day(openapi: dict[str, Any]) -> Iterator[Case]:
    """Every GET operation once with plausible values: the caches a served day builds
    (coverage, maps, past releases) are in place before memory is first measured."""
    for path, operations in openapi["paths"].items():
        if "get" not in operations:
            continue
        params = [p for p in operations["get"].get("parameters", []) if p["in"] in ("query", "path")]
        url, query = path, {p["name"]: _plausible(p["name"]) for p in params if p.get("required")}
        for q in [q for q in params if q["in"] == "path"]:
            url = url.replace("{" + q["name"] + "}", _quote(query.pop(q["name"])))
        yield Case(f"normal {path}", "GET", url, role="admin", kwargs={"params": query})


def _plausible(name: str) -> str:
    return {"lon": str(CENTRE[0]), "lat": str(CENTRE[1]), "q": "亭湖区新都小区3幢",
            "code": "320902001", "release_id": "1", "site_id": "S1", "collection_id": "grid",
            "feature_id": "320902001", "level": "grid"}.get(name, "1")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="") or "%20"


def _chunks(total: int) -> Iterator[bytes]:
    """A multipart upload of ``total`` bytes sent chunked (no Content-Length)."""
    yield (b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"\r\n'
           b"Content-Type: application/geo+json\r\n\r\n")
    chunk = b" " * (1 << 20)
    for _ in range(total >> 20):
        yield chunk


def _no_empty_repair(r: httpx.Response) -> str | None:
    if r.status_code >= 500:
        return f"status {r.status_code}"
    if r.status_code >= 400:
        return _refused()(r)
    for change in r.json().get("repairs", []):
        if change.get("refused"):
            continue  # the unit is left as drawn and the report has an error finding
        before, after = change.get("area_before_m2"), change.get("area_after_m2")
        if after is not None and after <= 0 < (before or 0):
            return "a repair left a unit empty"
        if change.get("change_pct") is not None and abs(change["change_pct"]) > 1.0:
            return f"a repair changed a unit's area by {change['change_pct']} %"
    return None


def _nothing_imported(r: httpx.Response) -> str | None:
    if 400 <= r.status_code < 500:
        return _refused()(r)
    if r.status_code >= 300:
        return f"status {r.status_code}"
    body = r.json()
    return None if body.get("imported", 0) == 0 and body.get("problems") else \
        "bad rows imported or not reported"


def _csv_is_safe(r: httpx.Response) -> str | None:
    if r.status_code != 200:
        return f"status {r.status_code}"
    import csv
    rows = list(csv.reader(io.StringIO(r.text, newline="")))[1:]
    unsafe = [row[0] for row in rows if row and row[0][:1] in "=+-@\t\r"]
    return f"formula cells written as they are: {unsafe}" if unsafe else None


# ---- running ---------------------------------------------------------------------------------
def fingerprint(url: str) -> dict[str, str]:
    """Every table but the audit log: row count and a hash of its rows in key order."""
    import geoalchemy2  # noqa: F401 - PostGIS column types known to reflection

    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name in ("audit_log", "alembic_version", "spatial_ref_sys") or name.startswith(
                    ("idx_", "rtree_", "geometry_columns", "spatial", "sqlite_", "views_",
                     "virts_", "geom_cols")):
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(sa.select(table).order_by(*order)):
                # geometries by their WKB (a WKBElement's repr carries its memory address)
                digest.update(repr(tuple(getattr(v, "desc", v) for v in row)).encode())
                count += 1
            out[name] = f"{count}:{digest.hexdigest()[:16]}"
    engine.dispose()
    return out


def send(client: httpx.Client, keys: dict[str, str], case: Case, tally: Tally) -> None:
    headers = dict(case.kwargs.get("headers", {}))
    if case.role is not None:
        headers["X-API-Key"] = keys[case.role]
    kwargs = {k: v for k, v in case.kwargs.items() if k != "headers"}
    try:
        r = client.request(case.method, case.path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        tally.record(case.name, None, f"no answer ({type(exc).__name__})")
        return
    problem = case.expect(r) if case.expect else None
    tally.record(case.name, r.status_code, problem)


def outage(base: str, url: str, keys: dict[str, str], tally: Tally) -> dict[str, Any]:
    """4 clients in a loop; the database refuses connections for 3 s in the middle."""
    admin = sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    db = sa.make_url(url).database
    stop = threading.Event()
    seen: Counter[str] = Counter()
    lookups_during: Counter[int] = Counter()
    down = threading.Event()
    requests = [("GET", "/v1/membership", {"lon": CENTRE[0], "lat": CENTRE[1]}, "planner"),
                ("GET", "/v1/units", {"limit": 5}, "viewer"),
                ("GET", "/v1/releases", {}, "viewer"),
                ("GET", "/v1/membership", {"lon": CENTRE[0], "lat": CENTRE[1]}, "integrator")]

    def client(k: int) -> None:
        method, path, params, role = requests[k]
        with httpx.Client(base_url=base, timeout=30) as c:
            while not stop.is_set():
                try:
                    r = c.request(method, path, params=params, headers={"X-API-Key": keys[role]})
                except httpx.HTTPError as exc:
                    tally.record(f"outage {path}", None, type(exc).__name__, outage=True)
                    continue
                problem = None
                if r.status_code == 503 and "Retry-After" not in r.headers:
                    problem = "503 without Retry-After"
                tally.record(f"outage {path}", r.status_code, problem, outage=True)
                seen[f"{path} {r.status_code}"] += 1
                if down.is_set() and path == "/v1/membership":
                    lookups_during[r.status_code] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(2)
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": db})
        down.set()
        time.sleep(3)
        down.clear()
        conn.execute(sa.text(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS true'))
    back = time.monotonic()
    recovered = None
    while time.monotonic() - back < 30:
        r = httpx.get(f"{base}/v1/units", params={"limit": 1}, headers={"X-API-Key": keys["viewer"]})
        if r.status_code == 200:
            recovered = time.monotonic() - back
            break
        time.sleep(0.1)
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    admin.dispose()
    return {"answers": dict(sorted(seen.items())), "lookups during outage": dict(lookups_during),
            "recovered after s": None if recovered is None else round(recovered, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgis", nargs="?", const=os.environ.get("WANGGE_TEST_POSTGIS_URL",
                                                                      DEFAULT_POSTGIS_URL))
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--max-upload-mb", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wangge-probe-") as tmp:
        if args.postgis:
            with scratch_database(args.postgis) as url:
                run(url, Path(tmp), args)
        else:
            run(f"sqlite:///{Path(tmp) / 'wangge.db'}", Path(tmp), args)


def run(url: str, tmp: Path, args: argparse.Namespace) -> None:
    env = {"WANGGE_DATABASE_URL": url, "WANGGE_MAX_UPLOAD_MB": str(args.max_upload_mb),
           "WANGGE_LANGUAGE": "en"}
    wangge = [sys.executable, "-m", "wangge.cli.app"]
    t0 = time.perf_counter()
    subprocess.run([*wangge, "demo", "--no-serve", "--out", str(tmp / "demo"),
                    "--households", str(args.households)], cwd=ROOT, env={**os.environ, **env},
                   check=True, stdout=subprocess.DEVNULL)
    keys = {}
    for role in ("integrator", "viewer", "planner", "admin"):
        made = subprocess.run([*wangge, "keys", "create", f"probe {role}", "--role", role],
                              cwd=ROOT, env={**os.environ, **env}, check=True,
                              capture_output=True, text=True).stdout
        keys[role] = next(w for w in made.split() if w.startswith("wg_"))
    print(f"demo loaded into {'PostGIS' if args.postgis else 'SQLite'} in "
          f"{time.perf_counter() - t0:.0f} s ({args.households:,} households)")
    before = fingerprint(url)
    tally = Tally()
    with serve("wangge.api.app:create_app", {**env, "WANGGE_RATE_LIMIT_PER_S": "0"},
               settle_s=1.0) as served, httpx.Client(base_url=served.base, timeout=300) as client:
        openapi = client.get("/openapi.json").json()
        warm = Tally()
        for case in normal_day(openapi):
            send(client, keys, case, warm)
        time.sleep(2)
        rss_before = rss_mib(served.pid)
        t1 = time.perf_counter()
        for case in corpus(openapi, args.max_upload_mb):
            send(client, keys, case, tally)
        elapsed = time.perf_counter() - t1
        time.sleep(2)
        rss_after, rss_peak = rss_mib(served.pid), rss_mib(served.pid, "VmHWM")
        down = outage(served.base, url, keys, tally) if args.postgis else None
    after = fingerprint(url)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    print(f"\nwarm-up           {warm.sent} GET operations with plausible values "
          f"({dict(warm.classes)})")
    print(f"requests sent     {tally.sent:,} (the corpus in {elapsed:.0f} s"
          + (", then 4 clients through the outage)" if down is not None else ")"))
    for cls in ("2xx", "4xx", "5xx", "503 (outage)", "no answer"):
        print(f"  {cls:<15} {tally.classes.get(cls, 0):,}")
    print(f"server RSS        {rss_before:,.0f} MiB before, {rss_peak:,.0f} MiB peak, "
          f"{rss_after:,.0f} MiB after")
    print(f"store unchanged   {'yes' if not changed else 'NO: ' + ', '.join(changed)}")
    if down is not None:
        print(f"outage (3 s)      {down}")
    for line in tally.bad:
        print(f"  5xx/no answer: {line}")
    for line in tally.failed:
        print(f"  check failed: {line}")
    sys.exit(1 if tally.bad or tally.failed or changed else 0)


if __name__ == "__main__":
    main()
