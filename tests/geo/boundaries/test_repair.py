"""--repair: invalid geometry made valid, slivers below tolerance closed, every change reported."""

from __future__ import annotations

import math

import pytest
import shapely

from tests.hierarchy import G1, M1, M2, X0, Y0, D, cell, hierarchy, set_geom
from wangge.geo.boundaries.repair import repair
from wangge.geo.boundaries.validate import validate


def test_clean_data_is_left_alone():
    units, changes = repair(hierarchy())
    assert changes == []
    assert all(a.equals(b) for a, b in zip(units.geometry, hierarchy().geometry, strict=True))


def test_make_valid_on_a_bow_tie_is_reported():
    x1, y1 = X0 + D, Y0 + D
    bowtie = shapely.Polygon([(X0, Y0), (x1, y1), (x1, Y0), (X0, y1), (X0, Y0)])
    units, changes = repair(set_geom(hierarchy(), M1, bowtie))
    assert [c.rule for c in changes][0] == "invalid_geometry"
    assert changes[0].codes == (M1,)
    fixed = units.loc[units["code"] == M1, "geometry"].iloc[0]
    assert fixed.is_valid and fixed.geom_type in ("Polygon", "MultiPolygon")
    # both lobes kept: the ground the ring draws, measured in m², unchanged
    half_cell = D * D / 2 * 111_320 * 110_900 * math.cos(math.radians(Y0))
    assert changes[0].area_before_m2 == pytest.approx(half_cell, rel=0.01)
    assert abs(changes[0].change_pct) < 1e-6 and not changes[0].refused


def test_small_overlap_goes_to_the_unit_with_the_longest_shared_edge():
    eps = 2e-8  # a 333 m long, ~2 mm wide overlap: well under 1 m²
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + D + eps, Y0 + D))
    broken = set_geom(hierarchy(), M1, grown)
    assert [f.rule for f in validate(broken).findings] == ["overlap"]
    units, changes = repair(broken)
    assert [c.rule for c in changes] == ["overlap"] and set(changes[0].codes) == {M1, M2}
    assert changes[0].area_m2 < 1.0
    report = validate(units)
    assert not [f for f in report.findings if f.rule == "overlap"], report.findings


def test_small_gap_is_merged_into_a_neighbour_and_reported():
    eps = 2e-8
    shrunk = shapely.box(X0, Y0, X0 + D - eps, Y0 + D)
    broken = set_geom(hierarchy(), M1, shrunk)
    gaps = [f for f in validate(broken).findings if f.rule == "gap"]
    assert len(gaps) == 1 and gaps[0].severity == "warning" and gaps[0].codes == (G1,)
    units, changes = repair(broken)
    assert [c.rule for c in changes] == ["gap"]
    assert not [f for f in validate(units).findings if f.rule == "gap"]


def test_large_gap_is_left_for_people():
    shrunk = shapely.box(X0, Y0, X0 + D * 0.8, Y0 + D)
    broken = set_geom(hierarchy(), M1, shrunk)
    units, changes = repair(broken)
    assert changes == []
    assert [f.rule for f in validate(units).errors] == ["gap"]


def test_repair_never_applies_a_fix_twice_or_makes_things_worse():
    # community C1 bulges 0.1 m² into community C2: an overlap (C1/C2) and, inside C1, a gap
    # not covered by its grids. Fixing the overlap also closes the gap; the gap fix is skipped.
    from tests.hierarchy import C1

    df = hierarchy()
    c1 = df.loc[df["code"] == C1, "geometry"].iloc[0]
    x = X0 + 4 * D
    bump = shapely.box(x, Y0 + 0.0015, x + 1e-6, Y0 + 0.0015 + 1e-5)
    broken = set_geom(df, C1, shapely.union(c1, bump))
    before = validate(broken)
    assert sorted(f.rule for f in before.findings) == ["gap", "overlap"]
    units, changes = repair(broken)
    assert [c.rule for c in changes] == ["overlap"]
    assert validate(units).findings == []


def test_repair_survives_null_and_collapsed_geometries():
    # A collapsed ring encloses nothing: the repair is refused, the unit kept as drawn (never
    # turned into an empty geometry), and the null geometry is left to its own finding.
    collapsed = shapely.Polygon([(X0, Y0), (X0 + D, Y0), (X0, Y0)])
    df = set_geom(set_geom(hierarchy(), M1, collapsed), M2, None)
    units, changes = repair(df)
    assert [(c.codes, c.refused) for c in changes] == [((M1,), True)]
    assert changes[0].as_dict()["area_before_m2"] == 0.0 and changes[0].feature == 1
    assert units.loc[units["code"] == M1, "geometry"].iloc[0].equals(collapsed)
    rules = {f.rule for f in validate(units).findings}
    assert {"empty_geometry", "invalid_geometry"} <= rules
