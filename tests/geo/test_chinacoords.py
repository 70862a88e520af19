"""GCJ-02 / BD-09 conversions against published vectors, and inverse accuracy."""

import numpy as np
import pyproj
import pytest

from wangge.geo import chinacoords as cc

# Published test vectors of the widely used coordTransform algorithm (input 116.404, 39.915).
P = (116.404, 39.915)
PUBLISHED = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    # one-step closed-form inverses (ours iterate further, so they agree to ~1e-6 degree)
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
    "gcj02_to_wgs84": (116.39775550083061, 39.91359571849836),
}
GEOD = pyproj.Geod(ellps="WGS84")


def metres(a, b) -> float:
    return float(np.max(GEOD.inv(a[0], a[1], b[0], b[1])[2]))


def test_forward_vectors_match_published_exactly():
    for name in ("wgs84_to_gcj02", "gcj02_to_bd09"):
        got = getattr(cc, name)(*P)
        assert got == pytest.approx(PUBLISHED[name], abs=1e-12), name


def test_inverse_vectors_agree_with_published_closed_form():
    for name in ("bd09_to_gcj02", "gcj02_to_wgs84"):
        got = getattr(cc, name)(*P)
        assert metres(got, PUBLISHED[name]) < 1.0, name  # the closed form is ~metre-accurate


@pytest.mark.parametrize("forward,inverse", [
    ("wgs84_to_gcj02", "gcj02_to_wgs84"),
    ("gcj02_to_bd09", "bd09_to_gcj02"),
    ("wgs84_to_bd09", "bd09_to_wgs84"),
])
def test_inverse_is_accurate_to_better_than_half_a_metre(forward, inverse):
    rng = np.random.default_rng(1)
    lon = rng.uniform(74, 134, 20_000)
    lat = rng.uniform(18, 53, 20_000)
    there = getattr(cc, forward)(lon, lat)
    back = getattr(cc, inverse)(*there)
    err = metres((lon, lat), back)
    assert err < 0.005  # 5 mm, far inside the 0.5 m requirement
    shift = metres((lon, lat), there)
    assert shift > 50  # the offset is really applied (hundreds of metres)


def test_offset_size_is_hundreds_of_metres_in_yancheng():
    lon, lat = 120.16, 33.38
    assert 100 < metres((lon, lat), cc.wgs84_to_gcj02(lon, lat)) < 700
    assert 100 < metres((lon, lat), cc.wgs84_to_bd09(lon, lat)) < 1500


def test_outside_china_unchanged():
    lon, lat = cc.wgs84_to_gcj02(2.35, 48.85)
    assert (float(lon), float(lat)) == (2.35, 48.85)
