"""Validate a release of boundary units: every problem at once, with where and how big.

Input is a table of units (code, name, level, parent_code, geometry in EPSG:4490). Topology
(inside, overlap, gap) is decided in the stored lon/lat coordinates, where the data's straight
edges are defined: projecting first would bend shared edges differently when one side has more
vertices than the other. Areas are measured by projecting the units and the problem pieces
into a CGCS2000 Gauss–Krüger zone. Sibling overlaps and gaps use GEOS's
coverage functions (``coverage_invalid_edges``, ``coverage_union_all``) as a fast screen and
exact overlay only where the screen finds something, so a clean district of a few thousand
units checks in well under a second.

A unit whose geometry is invalid, empty or not polygonal is reported once for that and is left
out of the relational checks (inside parent, overlaps, gaps of its parent): their results would
only echo the same fault. The finding says which checks were skipped. A NaN or infinite
coordinate, or coordinates beyond ±180°/±90°, make a geometry invalid too (it is neither projected
nor measured); the size of an invalid geometry is the area of the ground its rings draw (see
:mod:`wangge.geo.boundaries.validity`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from time import perf_counter

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from wangge.geo.boundaries.findings import ERROR, WARNING, Finding, Report
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validity import drawn_ground, lonlat_ok, problem
from wangge.geo.crs import area_m2, frame_to_storage, measurable, metric_crs_of, to_metric
from wangge.geo.levels import Level, parse_level


def validate(units: gpd.GeoDataFrame, config: ValidationConfig | None = None, *,
             extent: shapely.Geometry | None = None,
             outside_parents: frozenset[str] = frozenset()) -> Report:
    """Check a release and return every finding.

    ``extent``, if given (EPSG:4490), is the area the top level must cover (the district),
    so gaps between the streets and the district's edge are found too. ``outside_parents``
    are parent codes known to exist outside ``units`` (checking one community's subtree, its
    street): children of them are not reported for an unknown parent.
    """
    started = perf_counter()
    if len(units) == 0:
        return Report(findings=[], unit_count=0, seconds=perf_counter() - started)
    ctx = _Release(units, config or ValidationConfig(), extent, outside_parents)
    findings: list[Finding] = []
    for check in (_check_levels, _check_duplicates, _check_geometry, _check_parents,
                  _check_code_format, _check_areas, _check_slivers, _check_outside_parent,
                  _check_overlaps, _check_gaps, _check_no_children):
        findings.extend(check(ctx))
    return Report(findings=findings, unit_count=len(ctx.codes),
                  seconds=perf_counter() - started)


@dataclass
class _Release:
    """The arrays every check reads, built once."""

    units: gpd.GeoDataFrame
    config: ValidationConfig
    extent_lonlat: shapely.Geometry | None
    outside_parents: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        df = frame_to_storage(self.units)
        self.codes: NDArray[np.str_] = df["code"].astype(str).to_numpy()
        self.names = df["name"].astype(str).to_numpy() if "name" in df else self.codes
        self.levels: list[Level | None] = [parse_level(v) for v in df["level"]]
        raw_parents = df["parent_code"] if "parent_code" in df else [None] * len(df)
        self.parents: list[str | None] = [
            None if p is None or (isinstance(p, float) and np.isnan(p)) or str(p).strip() == ""
            else str(p).strip() for p in raw_parents]
        self.geoms: NDArray[np.object_] = np.asarray(df.geometry.values, dtype=object)
        self.index: dict[str, int] = {}
        for i, code in enumerate(self.codes):
            self.index.setdefault(str(code), i)
        types = shapely.get_type_id(self.geoms)
        polygonal = (types == 3) | (types == 6)
        self.empty = shapely.is_empty(self.geoms) | shapely.is_missing(self.geoms)
        valid = shapely.is_valid(self.geoms)
        # Only finite lon/lat coordinates are projected and measured (NaN, inf or metres would
        # make pyproj and GEOS return nonsense, raise or work for ages).
        self.lonlat = lonlat_ok(self.geoms, valid)
        measurable = polygonal & ~self.empty & self.lonlat
        self.ok = measurable & valid
        self.metric_crs = metric_crs_of(self.geoms if self.lonlat.all() else self.geoms[self.lonlat])
        # Unit areas: projected vertices are enough at this scale (problem pieces, thin and
        # long, are densified first: see ``areas``).
        self.area = np.zeros(len(self.geoms))
        if measurable.all():
            self.area[:] = shapely.area(to_metric(self.geoms, self.metric_crs))
        elif measurable.any():
            self.area[measurable] = shapely.area(to_metric(self.geoms[measurable], self.metric_crs))
        shapely.prepare(self.geoms[self.ok])
        self._unions: dict[int, shapely.Geometry] = {}

    # -- helpers --------------------------------------------------------------------------
    def parent_index(self, i: int) -> int | None:
        p = self.parents[i]
        return None if p is None else self.index.get(p)

    def sibling_key(self, i: int) -> object:
        """Units with equal keys are siblings: all streets, or children of the same parent."""
        if self.levels[i] is Level.STREET:
            return "streets"  # their parent, the district, is outside the release
        p = self.parent_index(i)
        return p if p is not None else ("unresolved", self.parents[i])

    @cached_property
    def children(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.codes)):
            p = self.parent_index(i)
            if p is not None and p != i:
                out[p].append(i)
        return out

    def of_level(self, level: Level) -> NDArray[np.intp]:
        return np.array([i for i, lv in enumerate(self.levels) if lv is level], dtype=np.intp)

    @cached_property
    def lat_range(self) -> tuple[float, float]:
        """Lowest and highest latitude of the units with lon/lat coordinates (NaN if none)."""
        geoms = self.geoms if self.lonlat.all() else self.geoms[self.lonlat]
        if len(geoms) == 0:
            return (np.nan, np.nan)
        _, miny, _, maxy = shapely.total_bounds(geoms)
        return (float(miny), float(maxy))

    @cached_property
    def m2_per_deg2(self) -> float:
        """Square metres in a square degree at the middle latitude of the release."""
        miny, maxy = self.lat_range
        lat = np.radians((miny + maxy) / 2.0) if np.isfinite(miny) else 0.0
        return float(111_320.0 ** 2 * np.cos(lat))

    def areas(self, geoms: NDArray[np.object_] | shapely.Geometry) -> NDArray[np.float64]:
        """Areas in m² of lon/lat geometries (projected into the release's metric CRS)."""
        return area_m2(np.atleast_1d(np.asarray(geoms, dtype=object)), self.metric_crs)

    @cached_property
    def m_per_deg_min(self) -> float:
        """Metres in a degree of longitude at the release's highest latitude (the shortest)."""
        miny, maxy = self.lat_range
        lat = max(abs(miny), abs(maxy)) if np.isfinite(miny) else 0.0
        return float(111_320.0 * np.cos(np.radians(min(lat, 89.0))))

    def area_of(self, geom: shapely.Geometry) -> float:
        return float(self.areas(geom)[0])

    def where(self, geom: shapely.Geometry) -> tuple[float, float] | None:
        if geom is None or shapely.is_empty(geom):
            return None
        pt = shapely.point_on_surface(geom) if shapely.get_dimensions(geom) == 2 \
            else shapely.centroid(geom)
        return (round(float(shapely.get_x(pt)), 7), round(float(shapely.get_y(pt)), 7))

    def unit_where(self, i: int) -> tuple[float, float] | None:
        g = self.geoms[i]
        if g is None or shapely.is_empty(g):
            return None
        if not self.lonlat[i]:
            return problem(g).where if shapely.get_type_id(g) in (3, 6) else None
        if not self.ok[i]:
            return self.where(shapely.centroid(g))
        return self.where(g)

    def level_name(self, i: int) -> str | None:
        lv = self.levels[i]
        return lv.value if lv else None

    def finding(self, rule: str, severity: str, i: int, zh: str, en: str, *,
                codes: tuple[str, ...] | None = None, size: float | None = None,
                geom: shapely.Geometry | None = None,
                location: tuple[float, float] | None = None) -> Finding:
        """A finding about unit ``i``; size defaults to its area, location to a point in it."""
        return Finding(
            rule=rule, severity=severity, codes=codes if codes is not None else (str(self.codes[i]),),
            message_zh=zh, message_en=en, level=self.level_name(i),
            location=location or (self.where(geom) if geom is not None else self.unit_where(i)),
            size=float(self.area[i]) if size is None else size, size_unit="m2",
            geometry=geom,
        )

    @cached_property
    def outside(self) -> dict[int, tuple[int, shapely.Geometry]]:
        """Children sticking out of their parent: child -> (parent, the part outside).

        Screened per parent: when the union of its children is covered by the parent, none
        of them sticks out, so only the children of the other parents are tested one by one.
        """
        out: dict[int, tuple[int, shapely.Geometry]] = {}
        groups = [(p, kids) for p, kids in self.child_groups.items() if self.ok[p]]
        if not groups:
            return out
        parents = np.array([p for p, _ in groups], dtype=np.intp)
        unions = np.array([self.group_union(p) for p, _ in groups], dtype=object)
        inside = shapely.covers(self.geoms[parents], unions)
        for (p, kids), ok in zip(groups, inside, strict=True):
            if ok:
                continue
            for i in kids:
                if shapely.covers(self.geoms[p], self.geoms[i]):
                    continue
                part = shapely.difference(self.geoms[i], self.geoms[p])
                if next(_pieces(self, part), None) is not None:  # not overlay residue
                    out[int(i)] = (int(p), part)
        return out

    @cached_property
    def child_groups(self) -> dict[int, list[int]]:
        """Per parent, its valid children of the right level (others have findings of their own)."""
        groups = {}
        for p, kids in self.children.items():
            lv = self.levels[p]
            right = [k for k in kids if lv is not None and self.levels[k] is lv.child and self.ok[k]]
            if right:
                groups[p] = right
        return groups

    @cached_property
    def suspect_set(self) -> set[int]:
        return {int(i) for idx in self.coverage_suspects.values() for i in idx}

    def group_union(self, p: int) -> shapely.Geometry:
        if p not in self._unions:
            kids = self.child_groups[p]
            self._unions[p] = _union(self.geoms[kids], any(k in self.suspect_set for k in kids))
        return self._unions[p]

    @cached_property
    def coverage_suspects(self) -> dict[Level, NDArray[np.intp]]:
        """Per level, the valid units whose edges do not match their neighbours' exactly.

        GEOS's coverage validation is the fast screen: a level that tiles cleanly has none.
        """
        out = {}
        for level in Level:
            idx = self.of_level(level)
            idx = idx[self.ok[idx]]
            if len(idx) < 2:
                continue
            invalid_edges = shapely.coverage_invalid_edges(self.geoms[idx])
            out[level] = idx[~shapely.is_empty(invalid_edges)]
        return out


def _label(ctx: _Release, i: int) -> str:
    return f"{ctx.codes[i]}（{ctx.names[i]}）"


def _severity(area: float, tolerance: float) -> str:
    return ERROR if area >= tolerance else WARNING


def _pieces(ctx: _Release, geom: shapely.Geometry) -> Iterator[tuple[shapely.Geometry, float]]:
    """Polygonal parts of an overlay result above the noise floor, with their areas in m².

    Parts smaller than ``noise_m2`` or thinner on average than ``noise_width_m`` are floating
    point residue of overlay and noding, far below any survey precision: not findings.
    """
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == 2]
    if not parts:
        return
    metric = measurable(np.asarray(parts, dtype=object), ctx.metric_crs)
    areas = shapely.area(metric)
    widths = 2.0 * areas / np.maximum(shapely.length(metric), 1e-12)
    for part, area, width in zip(parts, areas, widths, strict=True):
        if area > ctx.config.noise_m2 and width > ctx.config.noise_width_m:
            yield part, float(area)


# -- attribute checks ---------------------------------------------------------------------
def _check_levels(ctx: _Release) -> Iterator[Finding]:
    raw = ctx.units["level"].to_numpy()
    for i, lv in enumerate(ctx.levels):
        if lv is None:
            yield ctx.finding(
                "unknown_level", ERROR, i,
                f"{_label(ctx, i)} 的层级“{raw[i]}”无法识别，应为 街道/社区/网格/微网格。",
                f"{ctx.codes[i]}: level {raw[i]!r} is not one of street, community, grid, "
                "microgrid.")


def _check_duplicates(ctx: _Release) -> Iterator[Finding]:
    seen: dict[str, list[int]] = defaultdict(list)
    for i, code in enumerate(ctx.codes):
        seen[str(code)].append(i)
    for code, rows in seen.items():
        if len(rows) > 1:
            i = rows[0]
            yield ctx.finding(
                "duplicate_code", ERROR, i,
                f"编码 {code} 出现 {len(rows)} 次（{'、'.join(str(ctx.names[r]) for r in rows)}）。",
                f"Code {code} is used by {len(rows)} units.",
                codes=(code,), size=float(sum(ctx.area[r] for r in rows)))


def _check_parents(ctx: _Release) -> Iterator[Finding]:
    for i, lv in enumerate(ctx.levels):
        if lv is None or lv is Level.STREET:
            continue  # a street's parent is the district, outside the release
        parent = ctx.parents[i]
        if parent is None:
            yield ctx.finding("missing_parent", ERROR, i,
                              f"{lv.zh} {_label(ctx, i)} 没有上级编码。",
                              f"{lv.value} {ctx.codes[i]} has no parent code.")
            continue
        p = ctx.parent_index(i)
        if p is None and parent in ctx.outside_parents:
            continue
        if p is None:
            yield ctx.finding("unknown_parent", ERROR, i,
                              f"{lv.zh} {_label(ctx, i)} 的上级编码 {parent} 不存在。",
                              f"{lv.value} {ctx.codes[i]}: parent code {parent} does not exist.")
        elif ctx.levels[p] is not lv.parent and ctx.levels[p] is not None:
            expected = lv.parent
            assert expected is not None
            yield ctx.finding(
                "wrong_parent_level", ERROR, i,
                f"{lv.zh} {_label(ctx, i)} 的上级 {parent} 是{ctx.levels[p].zh}，应为{expected.zh}。",
                f"{lv.value} {ctx.codes[i]}: parent {parent} is a {ctx.levels[p].value}, "
                f"expected a {expected.value}.")


def _check_code_format(ctx: _Release) -> Iterator[Finding]:
    cfg = ctx.config
    if cfg.code_rule == "none":
        return
    lengths = {lv: cfg.code_length(lv) for lv in Level}
    patterns = {lv: cfg.code_pattern(lv) for lv in Level}
    for i, lv in enumerate(ctx.levels):
        if lv is None:
            continue
        code, parent = str(ctx.codes[i]), ctx.parents[i]
        length = lengths[lv]
        problems_zh, problems_en = [], []
        if not patterns[lv].match(code):
            problems_zh.append(f"应为 {length} 位数字")
            problems_en.append(f"expected {length} digits")
        if parent is not None and not code.startswith(parent):
            problems_zh.append(f"应以上级编码 {parent} 开头")
            problems_en.append(f"expected to start with the parent code {parent}")
        elif parent is not None and code == parent:
            problems_zh.append("与上级编码相同")
            problems_en.append("equals the parent code")
        if problems_zh:
            yield ctx.finding("code_format", ERROR, i,
                              f"{lv.zh} {_label(ctx, i)} 编码格式不符：{'，'.join(problems_zh)}。",
                              f"{lv.value} {code}: code format: {'; '.join(problems_en)}.")


# -- single-geometry checks ---------------------------------------------------------------
def _check_geometry(ctx: _Release) -> Iterator[Finding]:
    for i in map(int, np.flatnonzero(~ctx.ok)):
        g = ctx.geoms[i]
        lv = ctx.levels[i]
        zh_lv = lv.zh if lv else "单元"
        if g is None or shapely.is_empty(g):
            yield ctx.finding("empty_geometry", ERROR, i, f"{zh_lv} {_label(ctx, i)} 的几何为空。",
                              f"{ctx.codes[i]} has an empty geometry.")
        elif shapely.get_type_id(g) not in (3, 6):
            yield ctx.finding(
                "not_polygon", ERROR, i,
                f"{zh_lv} {_label(ctx, i)} 的几何是 {g.geom_type}，应为面（Polygon/MultiPolygon）。",
                f"{ctx.codes[i]} is a {g.geom_type}, expected Polygon or MultiPolygon.")
        else:
            found = problem(g)
            size = float("nan")
            if found.measurable:
                drawn = drawn_ground(g)
                size = ctx.area_of(drawn) if drawn is not None else size
            yield ctx.finding(
                "invalid_geometry", ERROR, i,
                f"{zh_lv} {_label(ctx, i)} 的几何无效：{found.reason_zh}。"
                "其重叠、空隙和超出上级检查已跳过，修复后请重新校验（可用 --repair）。",
                f"{ctx.codes[i]} has invalid geometry: {found.reason}. Its overlap, gap and "
                "inside-parent checks were skipped; fix it (or use --repair) and validate again.",
                size=size, location=found.where or ctx.unit_where(i))


def _check_areas(ctx: _Release) -> Iterator[Finding]:
    for i in np.flatnonzero(ctx.ok):
        lv = ctx.levels[i]
        if lv is None or lv not in ctx.config.area_ranges_m2:
            continue
        low, high = ctx.config.area_ranges_m2[lv]
        a = ctx.area[i]
        if not low <= a <= high:
            yield ctx.finding(
                "area_out_of_range", WARNING, i,
                f"{lv.zh} {_label(ctx, i)} 面积 {a / 1e4:.2f} 公顷，超出该层级设定范围 "
                f"{low / 1e4:g}–{high / 1e4:g} 公顷。",
                f"{lv.value} {ctx.codes[i]}: area {a / 1e4:.2f} ha outside the configured range "
                f"{low / 1e4:g}–{high / 1e4:g} ha.")


def _check_slivers(ctx: _Release) -> Iterator[Finding]:
    width_limit = ctx.config.sliver_width_m
    idx = np.flatnonzero(ctx.ok)
    parts, owner = shapely.get_parts(ctx.geoms[idx], return_index=True)
    # Screen in degrees with the shortest metre per degree (longitude), so the estimate never
    # overstates a width; measure only the candidates, densified, in metres.
    deg_width = 2.0 * shapely.area(parts) / np.maximum(shapely.length(parts), 1e-15)
    candidates = np.flatnonzero(deg_width * ctx.m_per_deg_min < 10.0 * width_limit)
    parts, owner = parts[candidates], owner[candidates]
    metric = measurable(parts, ctx.metric_crs)
    area = shapely.area(metric)
    width = 2.0 * area / np.maximum(shapely.length(metric), 1e-12)
    for k in np.flatnonzero(width < width_limit):
        i = idx[owner[k]]
        yield ctx.finding(
            "sliver", WARNING, i,
            f"{_label(ctx, i)} 含细碎多边形：面积 {area[k]:.2f} 平方米，"
            f"平均宽度 {width[k]:.2f} 米（阈值 {width_limit:g} 米）。",
            f"{ctx.codes[i]} has a sliver part: {area[k]:.2f} m², mean width "
            f"{width[k]:.2f} m (limit {width_limit:g} m).",
            size=float(area[k]), geom=parts[k])


# -- hierarchy checks ---------------------------------------------------------------------
def _check_outside_parent(ctx: _Release) -> Iterator[Finding]:
    for i, (p, outside) in ctx.outside.items():
        area = ctx.area_of(outside)
        yield ctx.finding(
            "outside_parent", _severity(area, ctx.config.outside_tolerance_m2), i,
            f"{_label(ctx, i)} 有 {area:.2f} 平方米超出其上级 {_label(ctx, p)}。",
            f"{ctx.codes[i]} extends {area:.2f} m² outside its parent {ctx.codes[p]}.",
            codes=(str(ctx.codes[i]), str(ctx.codes[p])), size=area, geom=outside)


def _check_overlaps(ctx: _Release) -> Iterator[Finding]:
    for level, suspects in ctx.coverage_suspects.items():
        if len(suspects) == 0:
            continue
        idx = ctx.of_level(level)
        idx = idx[ctx.ok[idx]]
        tree = shapely.STRtree(ctx.geoms[idx])
        left, right = tree.query(ctx.geoms[suspects], predicate="intersects")
        a, b = suspects[left], idx[right]
        seen: set[tuple[int, int]] = set()
        for i, j in zip(a, b, strict=True):
            i, j = (int(i), int(j)) if i < j else (int(j), int(i))
            if i == j or (i, j) in seen or ctx.sibling_key(i) != ctx.sibling_key(j):
                continue
            seen.add((i, j))
            overlap = shapely.intersection(ctx.geoms[i], ctx.geoms[j])
            for piece, area in _pieces(ctx, overlap):
                yield ctx.finding(
                    "overlap", _severity(area, ctx.config.overlap_tolerance_m2), i,
                    f"{level.zh} {_label(ctx, i)} 与 {_label(ctx, j)} 重叠 {area:.2f} 平方米。",
                    f"{level.value} {ctx.codes[i]} and {ctx.codes[j]} overlap by {area:.2f} m².",
                    codes=(str(ctx.codes[i]), str(ctx.codes[j])), size=area, geom=piece)


def _check_gaps(ctx: _Release) -> Iterator[Finding]:
    # Screen in lon/lat square degrees: the same straight-edged figures, so a real gap always
    # shows as a positive deficit; the noise floor converted at the release's latitude.
    noise_deg2 = ctx.config.noise_m2 / ctx.m2_per_deg2
    for p, kids in ctx.child_groups.items():
        lv = ctx.levels[p]
        expected = [k for k in ctx.children[p] if lv is not None and ctx.levels[k] is lv.child]
        if not ctx.ok[p] or len(kids) != len(expected):
            continue  # an invalid child is reported on its own; its group is not gap-checked
        union = ctx.group_union(p)
        if not any(k in ctx.suspect_set or k in ctx.outside for k in kids) \
                and shapely.area(ctx.geoms[p]) - shapely.area(union) <= noise_deg2:
            continue  # children inside the parent and covering its area: no gap
        gap = shapely.difference(ctx.geoms[p], union)
        yield from _gap_findings(ctx, p, gap)
    yield from _top_level_gaps(ctx)


def _union(geoms: NDArray[np.object_], exact: bool) -> shapely.Geometry:
    """Coverage union (fast) for a clean coverage, overlay union otherwise."""
    if not exact:
        try:
            return shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:
            pass  # not a clean coverage after all (e.g. mismatched vertices)
    return shapely.union_all(geoms)


def _gap_findings(ctx: _Release, p: int, gap: shapely.Geometry) -> Iterator[Finding]:
    lv = ctx.levels[p]
    child = lv.child if lv else None
    for piece, area in _pieces(ctx, gap):
        yield ctx.finding(
            "gap", _severity(area, ctx.config.gap_tolerance_m2), p,
            f"{_label(ctx, p)} 内有 {area:.2f} 平方米未被任何{child.zh if child else '下级'}覆盖。",
            f"{ctx.codes[p]}: {area:.2f} m² not covered by any "
            f"{child.value if child else 'child'}.",
            size=area, geom=piece)


def _top_level_gaps(ctx: _Release) -> Iterator[Finding]:
    """Holes between the streets; with an extent, its parts not covered and streets outside it."""
    tops = ctx.of_level(Level.STREET)
    if len(tops) == 0:
        return
    valid = tops[ctx.ok[tops]]
    union = shapely.union_all(ctx.geoms[valid])
    if ctx.extent_lonlat is not None:
        if len(valid) < len(tops):
            yield ctx.finding(
                "extent_unchecked", WARNING, int(tops[~ctx.ok[tops]][0]),
                "有街道几何无效，区县范围的覆盖检查只针对有效的街道，请修复后重新校验。",
                "Some streets have invalid geometry; the district extent was checked against the "
                "valid streets only. Fix them and validate again.", codes=())
        gaps = shapely.difference(ctx.extent_lonlat, union)
        for i in valid:
            outside = shapely.difference(ctx.geoms[i], ctx.extent_lonlat)
            for piece, area in _pieces(ctx, outside):
                yield ctx.finding(
                    "outside_parent", _severity(area, ctx.config.outside_tolerance_m2), int(i),
                    f"{_label(ctx, int(i))} 有 {area:.2f} 平方米超出区县边界。",
                    f"{ctx.codes[i]} extends {area:.2f} m² outside the district boundary.",
                    size=area, geom=piece)
    else:
        holes = [shapely.Polygon(shapely.get_interior_ring(poly, k))
                 for poly in shapely.get_parts(union)
                 for k in range(shapely.get_num_interior_rings(poly))]
        gaps = shapely.union_all(holes) if holes else None
    if gaps is None or len(valid) == 0:
        return
    for piece, area in _pieces(ctx, gaps):
        near = int(valid[np.argmin(shapely.distance(ctx.geoms[valid], piece))])
        yield ctx.finding(
            "gap", _severity(area, ctx.config.gap_tolerance_m2), near,
            f"街道之间有 {area:.2f} 平方米未被任何街道覆盖（邻近 {_label(ctx, near)}）。",
            f"{area:.2f} m² between streets is not covered by any street (next to "
            f"{ctx.codes[near]}).",
            codes=(), size=area, geom=piece)


def _check_no_children(ctx: _Release) -> Iterator[Finding]:
    present = [lv for lv in ctx.levels if lv is not None]
    if not present:
        return
    deepest = max(lv.depth for lv in present)
    for i, lv in enumerate(ctx.levels):
        if lv is None or lv.depth >= deepest or ctx.children.get(i):
            continue
        child = lv.child
        assert child is not None
        yield ctx.finding(
            "no_children", ERROR, i,
            f"{lv.zh} {_label(ctx, i)} 没有任何{child.zh}。",
            f"{lv.value} {ctx.codes[i]} has no {child.value} units.")
