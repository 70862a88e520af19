"""The demo district validates clean; its broken variant yields exactly the planted problems."""

from __future__ import annotations

import pytest

from wangge.demo.district import build_broken, district_boundary
from wangge.geo.boundaries.validate import validate


@pytest.fixture(scope="module")
def demo(demo_units):
    return demo_units  # build_demo(), built once per session: see tests/conftest.py


def test_demo_district_has_no_findings_at_all(demo):
    report = validate(demo, extent=district_boundary())
    assert report.findings == []
    assert report.unit_count == 7 + 70 + 314 + 1976


def test_broken_variant_yields_exactly_the_planted_problems(demo):
    broken, planted = build_broken(demo)
    report = validate(broken)
    found = sorted((f.rule, f.severity, f.codes[0]) for f in report.findings)
    expected = sorted((p.rule, p.severity, p.codes[0]) for p in planted)
    assert found == expected
    assert {p.rule for p in planted} >= {"overlap", "gap", "invalid_geometry", "outside_parent",
                                         "duplicate_code"}
    for f in report.findings:  # every finding says where and how big
        assert f.location is not None and f.size is not None and f.size > 0
