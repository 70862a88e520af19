"""OGC simple-features validity, case by case: what validate() finds and what repair() does.

Each case puts one geometry in place of micro-grid M1 (feature 1, a 0.003° cell near Yancheng).
The expected outcome of a repair is the ground the case was drawn to mean (built here from
plain boxes, independently of wangge.geo.boundaries.validity), kept within 1 %, or a refusal
naming the unit; a unit is never emptied. Coordinates are given in fractions of the cell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from tests.hierarchy import M1, M2, X0, Y0, D, cell, hierarchy, set_geom
from wangge.cli.app import app
from wangge.geo.boundaries.repair import refusal_findings, repair
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.crs import area_m2
from wangge.geo.io.boundaries import write_units
from wangge.settings import Settings


def pt(x: float, y: float) -> tuple[float, float]:
    return (X0 + x * D, Y0 + y * D)


def sq(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(*pt(x0, y0), *pt(x1, y1))


def ring(*xy: tuple[float, float]) -> list[tuple[float, float]]:
    return [pt(x, y) for x, y in xy]


def rim(g: shapely.Polygon) -> list[tuple[float, float]]:
    return list(g.exterior.coords)


def poly(shell, *holes) -> shapely.Polygon:
    return shapely.Polygon(shell if isinstance(shell, list) else rim(shell),
                           [h if isinstance(h, list) else rim(h) for h in holes])


def with_nan(value: float) -> shapely.Polygon:
    with np.errstate(invalid="ignore"):  # shapely warns when it builds a non-finite coordinate
        return shapely.Polygon([pt(0, 0), pt(1, 0), (value, Y0 + D), pt(0, 1), pt(0, 0)])


CELL = cell(0)
LOOP = shapely.Polygon(ring((0.5, 1), (0.3, 0.5), (0.5, 0.3), (0.7, 0.5)))
BOWTIE_LOBES = shapely.union(shapely.Polygon(ring((0, 0), (0.5, 0.5), (0, 1))),
                             shapely.Polygon(ring((1, 0), (0.5, 0.5), (1, 1))))


@dataclass(frozen=True)
class Case:
    name: str
    geom: shapely.Geometry
    reason: str | None          # None: valid, no finding
    kept: shapely.Geometry | None = None   # the ground a repair must keep (within 1 %)
    refusal: str | None = None             # words of the refusal, if the repair is refused


CASES = [
    # -- rings that cross or touch themselves
    Case("bow-tie", shapely.Polygon(ring((0, 0), (1, 1), (1, 0), (0, 1))), "Self-intersection",
         kept=BOWTIE_LOBES),
    Case("self-touching ring around an inverted hole",
         shapely.Polygon(ring((0, 0), (1, 0), (1, 1), (0.5, 1), (0.3, 0.5), (0.5, 0.3), (0.7, 0.5),
                              (0.5, 1), (0, 1))),
         "Ring Self-intersection", kept=shapely.difference(CELL, LOOP)),
    Case("spike", shapely.Polygon(ring((0, 0), (1, 0), (1, 0.5), (0.6, 0.5), (1, 0.5), (1, 1), (0, 1))),
         "Self-intersection", kept=CELL),
    # -- holes
    Case("hole touching the shell at a point (valid)",
         poly(CELL, ring((0, 0.5), (0.3, 0.4), (0.3, 0.6), (0, 0.5))), None),
    Case("hole touching the shell along a line", poly(CELL, sq(0, 0.2, 0.3, 0.6)),
         "Self-intersection", kept=shapely.difference(CELL, sq(0, 0.2, 0.3, 0.6))),
    Case("hole outside the shell", poly(sq(0, 0, 0.6, 1), sq(0.7, 0.2, 0.9, 0.4)),
         "Hole lies outside shell", kept=shapely.union(sq(0, 0, 0.6, 1), sq(0.7, 0.2, 0.9, 0.4))),
    Case("holes nested inside holes", poly(CELL, sq(0.2, 0.2, 0.8, 0.8), sq(0.4, 0.4, 0.6, 0.6)),
         "Holes are nested",
         kept=shapely.union(shapely.difference(CELL, sq(0.2, 0.2, 0.8, 0.8)), sq(0.4, 0.4, 0.6, 0.6))),
    Case("hole identical to the shell", poly(CELL, CELL), "Self-intersection",
         refusal="enclose no ground"),
    Case("hole covering the shell", poly(sq(0, 0, 1, 0.6), CELL), "Self-intersection",
         kept=sq(0, 0.6, 1, 1)),
    Case("inverted shell (the shell drawn inside its own hole)", poly(sq(0.3, 0.3, 0.7, 0.7), CELL),
         "Hole lies outside shell", kept=shapely.difference(CELL, sq(0.3, 0.3, 0.7, 0.7))),
    Case("clockwise shell with a counter-clockwise hole (valid)",
         shapely.orient_polygons(poly(CELL, sq(0.4, 0.4, 0.6, 0.6)), exterior_cw=True), None),
    # -- several parts
    Case("nested shells in a MultiPolygon", shapely.MultiPolygon([CELL, sq(0.2, 0.2, 0.8, 0.8)]),
         "Nested shells", kept=CELL),
    Case("overlapping parts of a MultiPolygon",
         shapely.MultiPolygon([sq(0, 0, 0.6, 1), sq(0.4, 0, 1, 1)]), "Self-intersection", kept=CELL),
    # -- collapsed rings
    Case("zero-area ring", shapely.Polygon(ring((0, 0), (1, 0), (0.5, 0), (0, 0))),
         "Self-intersection", refusal="enclose no ground"),
    Case("ring of fewer than 4 points",
         shapely.from_wkt(f"POLYGON(({X0} {Y0}, {X0 + D} {Y0}, {X0} {Y0}))"),
         "Too few points", refusal="enclose no ground"),
    Case("repeated points (valid)",
         shapely.Polygon(ring((0, 0), (0, 0), (1, 0), (1, 0), (1, 1), (0, 1), (0, 1), (0, 0))), None),
    Case("collapsed part next to a good one",
         shapely.multipolygons([CELL, shapely.Polygon(ring((0.2, 0.2), (0.2, 0.2), (0.2, 0.2)))]),
         "Too few points", kept=CELL),
    # -- coordinates that are not numbers or not lon/lat
    Case("NaN coordinate", with_nan(float("nan")), "non-finite coordinate",
         refusal="cannot be inferred"),
    Case("infinite coordinate", with_nan(float("inf")), "non-finite coordinate",
         refusal="cannot be inferred"),
    Case("coordinates of 1e300", shapely.box(1e300, 1e300, 2e300, 2e300), "beyond ±180°/±90°",
         refusal="cannot be inferred"),
]
IDS = [c.name for c in CASES]


def m2(geom: shapely.Geometry) -> float:
    return float(area_m2(np.array([geom], dtype=object))[0])


def geometry_of(units, code: str) -> shapely.Geometry:
    return units.loc[units["code"] == code, "geometry"].iloc[0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_validate_reports_the_rule_and_reason(case: Case):
    report = validate(set_geom(hierarchy(), M1, case.geom))
    invalid = [f for f in report.findings if f.rule == "invalid_geometry"]
    if case.reason is None:  # valid; a hole is ground its grid does not cover: a gap
        assert invalid == [] and {f.rule for f in report.findings} <= {"gap"}, report.findings
        return
    assert len(invalid) == 1, report.findings
    f = invalid[0]
    assert f.codes == (M1,) and f.severity == "error"
    assert case.reason in f.message_en and "几何无效" not in f.message_en
    assert "无效" in f.message_zh and case.reason not in f.message_zh  # the reason in Chinese
    if case.kept is not None:  # measurable: the size is the ground drawn, the place a point
        assert f.size == pytest.approx(m2(case.kept), rel=0.01)
        assert f.location is not None
    json.dumps(report.as_dict(), allow_nan=False)  # a report is always valid JSON


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_repair_keeps_the_ground_or_refuses(case: Case):
    units, changes = repair(set_geom(hierarchy(), M1, case.geom))
    mine = [c for c in changes if c.rule == "invalid_geometry"]
    fixed = geometry_of(units, M1)
    if case.reason is None:
        assert mine == [] and fixed.equals_exact(case.geom, 0.0)
        return
    assert len(mine) == 1 and mine[0].codes == (M1,) and mine[0].feature == 1
    change = mine[0]
    if case.refusal is not None:
        assert change.refused
        assert M1 in change.action_en and "feature 1" in change.action_en
        assert "invalid_geometry" in change.action_en and case.refusal in change.action_en
        assert M1 in change.action_zh and "第 1 个要素" in change.action_zh
        assert shapely.to_wkb(fixed) == shapely.to_wkb(case.geom)  # left exactly as drawn
        [finding] = refusal_findings(changes)
        assert finding.rule == "repair_refused" and finding.severity == "error"
        assert finding.codes == (M1,) and finding.message_en == change.action_en
        return
    assert not change.refused
    want = m2(case.kept)
    assert change.area_before_m2 == pytest.approx(want, rel=0.01)
    assert change.area_after_m2 == pytest.approx(m2(fixed), rel=1e-9)
    assert abs(change.change_pct) <= 1.0 and change.method
    assert fixed.is_valid and not fixed.is_empty and fixed.geom_type in ("Polygon", "MultiPolygon")
    assert m2(shapely.symmetric_difference(fixed, case.kept)) <= 0.01 * want
    assert change.location is not None
    assert shapely.is_ccw(shapely.get_exterior_ring(shapely.get_parts(fixed))).all()  # RFC 7946


def test_a_repair_is_refused_beyond_the_configured_tolerance():
    # A duplicated small hole cancels itself by the even-odd rule; the best construction drops
    # its ground along with the real hole: -0.45 % of the drawn area.
    small, real = sq(0.1, 0.1, 0.16, 0.16), sq(0.5, 0.5, 0.8, 0.8)
    geom = poly(CELL, small, small, real)
    drawn = shapely.difference(CELL, real)
    df = set_geom(hierarchy(), M1, geom)
    _, changes = repair(df)
    [c] = [c for c in changes if c.codes == (M1,)]
    assert not c.refused and c.area_before_m2 == pytest.approx(m2(drawn), rel=1e-6)
    assert c.change_pct == pytest.approx(-100 * m2(small) / m2(drawn), rel=0.01)
    assert -1.0 < c.change_pct < -0.3
    units, changes = repair(df, ValidationConfig(repair_max_area_change_pct=0.3))
    [c] = [c for c in changes if c.codes == (M1,)]
    assert c.refused and "allowed ±0.3%" in c.action_en and "允许 ±0.3%" in c.action_zh
    assert f"{c.change_pct:+.2f}%" in c.action_en
    assert shapely.to_wkb(geometry_of(units, M1)) == shapely.to_wkb(geom)


def test_a_unit_is_never_emptied_whatever_the_tolerance():
    config = ValidationConfig(repair_max_area_change_pct=99.0)
    for geom in (poly(CELL, CELL), shapely.Polygon(ring((0, 0), (1, 0), (0.5, 0), (0, 0)))):
        units, changes = repair(set_geom(hierarchy(), M1, geom), config)
        assert [c.refused for c in changes] == [True]
        assert not geometry_of(units, M1).is_empty


def test_the_tolerance_is_a_setting(monkeypatch):
    assert ValidationConfig().repair_max_area_change_pct == 1.0
    monkeypatch.setenv("WANGGE_REPAIR_MAX_AREA_CHANGE_PCT", "2.5")
    assert Settings(_env_file=None).validation_config().repair_max_area_change_pct == 2.5
    with pytest.raises(ValueError):
        ValidationConfig(repair_max_area_change_pct=100.0)
    with pytest.raises(ValueError):
        Settings(_env_file=None, repair_max_area_change_pct=-1)


def test_sliver_fixes_are_refused_too_when_they_change_a_unit_beyond_the_tolerance():
    eps = 2e-8  # a 333 m long, ~2 mm wide overlap (see test_repair), then a gap of the same size
    grown = shapely.union(CELL, shapely.box(X0 + D, Y0, X0 + D + eps, Y0 + D))
    strict = ValidationConfig(repair_max_area_change_pct=0.0)
    units, changes = repair(set_geom(hierarchy(), M1, grown), strict)
    assert [(c.rule, c.refused) for c in changes] == [("overlap", True)]
    assert set(changes[0].codes) == {M1, M2} and "overlap" in changes[0].action_en
    assert geometry_of(units, M1).equals(grown)
    shrunk = shapely.box(X0, Y0, X0 + D - eps, Y0 + D)
    _, changes = repair(set_geom(hierarchy(), M1, shrunk), strict)
    assert [(c.rule, c.refused) for c in changes] == [("gap", True)]


def test_every_change_carries_its_areas():
    units, changes = repair(set_geom(hierarchy(), M1, CASES[0].geom))
    d = changes[0].as_dict()
    assert d["refused"] is False and d["feature"] == 1 and d["method"] == "make_valid/structure"
    assert d["area_before_m2"] == pytest.approx(m2(BOWTIE_LOBES), rel=1e-3)
    assert d["area_after_m2"] == pytest.approx(d["area_before_m2"], rel=1e-6)
    assert abs(d["change_pct"]) < 1e-6
    json.dumps([c.as_dict() for c in changes], allow_nan=False)


# -- the command line -------------------------------------------------------------------------
@pytest.fixture
def run(tmp_path: Path):
    env = {"WANGGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'wangge.db'}", "COLUMNS": "200"}
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args], env=env)


def test_cli_shows_area_before_and_after_and_refuses_the_import(run, tmp_path):
    nested = write_units(set_geom(hierarchy(), M1, shapely.MultiPolygon([CELL, sq(0.2, 0.2, 0.8, 0.8)])),
                         tmp_path / "nested.gpkg")
    r = run("validate", nested, "--repair", "--json", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    assert "修复" in r.output and "→" in r.output and "+0.00%" in r.output
    [repaired] = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["repairs"]
    assert repaired["area_before_m2"] == pytest.approx(m2(CELL), rel=1e-3)
    assert repaired["change_pct"] == pytest.approx(0.0, abs=1e-6) and repaired["feature"] == 1
    en = run("--lang", "en", "validate", nested, "--repair")
    assert "m²" in en.output and "->" in en.output

    same = write_units(set_geom(hierarchy(), M1, poly(CELL, CELL)), tmp_path / "same.gpkg")
    r = run("import", same, "--repair", "--draft")
    assert r.exit_code == 1
    assert "拒绝修复" in r.output and M1 in r.output and "未写入任何数据" in r.output
    assert run("releases").output.count("草稿") == 0
