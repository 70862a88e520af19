"""Every validation rule, on hand-built geometries: each test breaks one rule and sees it fire."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from tests.hierarchy import C1, G1, G2, M1, M2, M3, X0, Y0, D, cell, hierarchy, set_geom
from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.boundaries.validate import validate
from wangge.geo.levels import Level


def rules(report, severity=None):
    return sorted((f.rule, f.codes) for f in report.findings
                  if severity is None or f.severity == severity)


def only(report, rule):
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, report.findings
    return found[0]


def test_clean_hierarchy_has_no_findings():
    report = validate(hierarchy())
    assert report.findings == []
    assert report.ok and report.unit_count == 15


def test_invalid_geometry_bow_tie_reports_geos_reason_and_where():
    x1, y1 = X0 + D, Y0 + D
    bowtie = shapely.Polygon([(X0, Y0), (x1, y1), (x1, Y0), (X0, y1), (X0, Y0)])
    report = validate(set_geom(hierarchy(), M1, bowtie))
    f = only(report, "invalid_geometry")
    assert f.codes == (M1,) and f.severity == "error"
    assert "Self-intersection" in f.message_en
    assert f.location == pytest.approx((X0 + D / 2, Y0 + D / 2), abs=1e-6)
    # the invalid unit's group is not checked for gaps/overlaps: no echo of the same fault
    assert {f.rule for f in report.findings} == {"invalid_geometry"}


def test_non_finite_coordinate_is_a_finding_not_an_exception():
    with np.errstate(invalid="ignore"):  # shapely warns when it builds a NaN coordinate
        broken = shapely.Polygon([(X0, Y0), (X0 + D, Y0), (float("nan"), Y0 + D), (X0, Y0 + D)])
    df = set_geom(hierarchy(), M1, broken)
    df.loc[df["code"] == M3, "parent_code"] = None  # and another problem: every one is reported
    report = validate(df)
    f = only(report, "invalid_geometry")
    assert f.codes == (M1,) and "non-finite coordinate at vertex 3" in f.message_en
    assert "不是有限的数" in f.message_zh
    assert f.location == pytest.approx((X0 + D, Y0), abs=1e-9)  # the vertex before the NaN
    assert f.as_dict()["size"] is None  # no area: nothing to measure
    assert only(report, "missing_parent").codes == (M3,)


def test_empty_and_non_polygon_geometry():
    df = set_geom(hierarchy(), M1, shapely.Polygon())
    df = set_geom(df, M3, shapely.LineString([(X0, Y0), (X0 + D, Y0 + D)]))
    report = validate(df)
    assert only(report, "empty_geometry").codes == (M1,)
    assert only(report, "not_polygon").codes == (M3,)


def test_duplicate_code():
    df = hierarchy()
    df.loc[df["code"] == M2, "code"] = M1
    f = only(validate(df), "duplicate_code")
    assert f.codes == (M1,) and f.severity == "error" and "2" in f.message_en


def test_unknown_level():
    df = hierarchy()
    df.loc[df["code"] == M1, "level"] = "楼栋"
    assert only(validate(df), "unknown_level").codes == (M1,)


def test_missing_unknown_and_wrong_level_parent():
    df = hierarchy()
    df.loc[df["code"] == M1, "parent_code"] = None
    df.loc[df["code"] == M2, "parent_code"] = "320902001001009"
    df.loc[df["code"] == M3, "parent_code"] = C1  # a micro-grid directly under a community
    report = validate(df)
    assert only(report, "missing_parent").codes == (M1,)
    assert only(report, "unknown_parent").codes == (M2,)
    wrong = only(report, "wrong_parent_level")
    assert wrong.codes == (M3,) and "community" in wrong.message_en


def test_child_outside_parent_with_area():
    grown = shapely.union(cell(1), shapely.box(X0 + 2 * D, Y0, X0 + 2 * D + D / 10, Y0 + D))
    df = set_geom(hierarchy(), M2, grown)
    report = validate(df)
    f = only(report, "outside_parent")
    assert f.codes == (M2, G1) and f.severity == "error"
    expected = (D / 10 * 111_320 * 0.835) * (D * 110_900)  # ~0.0003° x 0.003° at 33.4°N
    assert f.size == pytest.approx(expected, rel=0.03)
    assert f.location[0] > X0 + 2 * D  # the point is in the part outside


def test_sibling_overlap_error_with_area_and_place():
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + 1.5 * D, Y0 + D))
    report = validate(set_geom(hierarchy(), M1, grown))
    f = only(report, "overlap")
    assert set(f.codes) == {M1, M2} and f.severity == "error"
    assert f.size == pytest.approx(0.5 * D * 111_320 * 0.835 * D * 110_900, rel=0.03)
    assert X0 + D < f.location[0] < X0 + 1.5 * D
    assert f.geometry is not None and f.geometry.geom_type == "Polygon"


def test_overlap_below_tolerance_is_a_warning():
    eps = 0.5 / 111_320 / 0.835 / (D * 110_900) * 1.0  # width giving ~0.5 m² along a 333 m edge
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + D + eps, Y0 + D))
    report = validate(set_geom(hierarchy(), M1, grown))
    f = only(report, "overlap")
    assert f.severity == "warning" and 0.3 < f.size < 0.7
    strict = validate(set_geom(hierarchy(), M1, grown),
                      ValidationConfig(overlap_tolerance_m2=0.1))
    assert only(strict, "overlap").severity == "error"


def test_gap_inside_parent():
    shrunk = shapely.box(X0, Y0, X0 + D * 0.9, Y0 + D)
    report = validate(set_geom(hierarchy(), M1, shrunk))
    f = only(report, "gap")
    assert f.codes == (G1,) and f.severity == "error"
    assert f.size == pytest.approx(0.1 * D * 111_320 * 0.835 * D * 110_900, rel=0.03)


def test_gap_between_streets_and_district_extent():
    df = hierarchy()
    district = shapely.box(X0, Y0, X0 + 8 * D, Y0 + 1.2 * D)
    report = validate(df, extent=district)
    f = only(report, "gap")
    assert f.codes == () and f.level == "street" and f.size > 10_000


def test_hole_between_streets_is_a_gap():
    df = hierarchy()
    frame = shapely.box(X0 - D, Y0 - D, X0 + 9 * D, Y0 + 2 * D).difference(
        shapely.box(X0 - D / 2, Y0 - D / 2, X0 + 8 * D, Y0 + 1.5 * D))
    extra = df.iloc[[0]].copy()
    extra["code"], extra["level"], extra["parent_code"] = "320902002", "street", "320902"
    extra["geometry"] = [frame]
    both = gpd.GeoDataFrame(pd.concat([df, extra]), crs=df.crs)
    report = validate(both, ValidationConfig(code_rule="none"))
    assert sorted(f.rule for f in report.findings) == ["gap", "no_children"]
    gap = only(report, "gap")
    assert gap.codes == () and gap.size == pytest.approx(
        9 * (D * 111_320 * 0.835) * (D * 110_900), rel=0.03)


def test_sliver_part():
    thin = shapely.box(X0 + 0.1 * D, Y0 + 0.5 * D, X0 + 0.9 * D, Y0 + 0.5 * D + 1e-6)
    holed = shapely.difference(cell(0), thin.buffer(1e-6).envelope)
    sliver_unit = shapely.MultiPolygon(list(shapely.get_parts(holed)) + [thin])
    report = validate(set_geom(hierarchy(), M1, sliver_unit))
    f = only(report, "sliver")
    assert f.codes == (M1,) and f.severity == "warning" and f.size < 50


def test_no_children():
    df = hierarchy()
    df = df[~df["parent_code"].eq(G2)]
    f = only(validate(df), "no_children")
    assert f.codes == (G2,) and f.severity == "error"


def test_code_format_default_rule_and_none():
    df = hierarchy()
    df.loc[df["code"] == M2, "code"] = "320902001001009002"  # wrong prefix
    report = validate(df)
    f = only(report, "code_format")
    assert "320902001001001" in f.message_en
    assert not [f for f in validate(df, ValidationConfig(code_rule="none")).findings
                if f.rule == "code_format"]
    df2 = hierarchy()
    df2.loc[df2["code"] == M1, "code"] = "3209020010010010001"  # 19 digits
    assert "18 digits" in only(validate(df2), "code_format").message_en


def test_area_out_of_range_uses_settings():
    ranges = dict(ValidationConfig().area_ranges_m2)
    ranges[Level.MICROGRID] = (50_000.0, 1e9)  # micro-grids here are ~9 ha: fine
    assert not validate(hierarchy(), ValidationConfig(area_ranges_m2=ranges)).findings
    ranges[Level.MICROGRID] = (200_000.0, 1e9)
    report = validate(hierarchy(), ValidationConfig(area_ranges_m2=ranges))
    assert rules(report) == sorted(("area_out_of_range", (c,)) for c in
                                   hierarchy().query("level == 'microgrid'")["code"])
    assert all(f.severity == "warning" for f in report.findings)


def test_all_problems_reported_at_once():
    df = hierarchy()
    df.loc[df["code"] == M2, "code"] = M1
    df = set_geom(df, M3, shapely.box(X0 + 2 * D, Y0, X0 + 2.9 * D, Y0 + D))
    report = validate(df)
    assert {f.rule for f in report.findings} == {"duplicate_code", "gap"}
    assert report.as_dict()["error_count"] == 2


def test_streets_are_siblings_whatever_their_parent_code_says():
    df = hierarchy()
    other = df[df["level"] == "street"].copy()
    other["code"], other["parent_code"] = "320902002", None
    other["geometry"] = [shapely.box(X0 + 7 * D, Y0, X0 + 9 * D, Y0 + D)]
    both = gpd.GeoDataFrame(pd.concat([df, other]), crs=df.crs)
    f = only(validate(both, ValidationConfig(code_rule="none")), "overlap")
    assert set(f.codes) == {"320902001", "320902002"}


def test_extent_both_ways_streets_outside_the_district():
    district = shapely.box(X0, Y0, X0 + 7.5 * D, Y0 + D)  # the street sticks out by half a cell
    f = only(validate(hierarchy(), extent=district), "outside_parent")
    assert f.codes == ("320902001",) and f.size > 10_000 and "district" in f.message_en


def test_full_width_digits_are_not_a_valid_code():
    df = hierarchy()
    df.loc[df["code"] == M1, "code"] = "３２０９０２００１００１００１００１"
    assert only(validate(df), "code_format").severity == "error"
