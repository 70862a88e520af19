"""Where to add sites: lazy greedy against plain greedy, brute force and spopt's exact MCLP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from wangge.geo.coverage.mclp import metric_xy, optimal_sites, suggest_sites, thin_candidates
from wangge.geo.errors import InputError

SPEED_M_PER_MIN = 4800 / 60
DETOUR = 1.3


def random_instance(rng: np.random.Generator, n_cand: int, n_hh: int, density: float) -> sp.csr_matrix:
    return sp.random(n_cand, n_hh, density=density, random_state=rng, format="csr",
                     data_rvs=lambda n: np.ones(n)).astype(bool)


def plain_greedy(reach: sp.csr_matrix, covered: np.ndarray, k: int, w: np.ndarray) -> list[float]:
    """Greedy without lazy evaluation: every candidate's gain recomputed at every step."""
    dense = reach.toarray()
    open_w = np.where(covered, 0.0, w)
    gains = []
    for _ in range(k):
        g = dense @ open_w
        best = int(np.argmax(g))  # lowest index among ties
        if g[best] <= 0:
            break
        gains.append(float(g[best]))
        open_w[dense[best]] = 0.0
    return gains


def brute_force(reach: sp.csr_matrix, covered: np.ndarray, k: int, w: np.ndarray) -> float:
    dense = reach.toarray()
    best = 0.0
    for combo in itertools.combinations(range(dense.shape[0]), min(k, dense.shape[0])):
        hit = dense[list(combo)].any(axis=0) & ~covered
        best = max(best, float(w[hit].sum()))
    return best


def test_lazy_greedy_equals_plain_greedy():
    rng = np.random.default_rng(1)
    for trial in range(60):
        n_cand, n_hh = int(rng.integers(3, 40)), int(rng.integers(5, 200))
        reach = random_instance(rng, n_cand, n_hh, float(rng.uniform(0.02, 0.3)))
        covered = rng.random(n_hh) < 0.3
        w = rng.integers(1, 6, n_hh).astype(float) if trial % 2 else np.ones(n_hh)
        k = int(rng.integers(1, n_cand + 1))
        got = suggest_sites(reach, covered, k, w)
        expected = plain_greedy(reach, covered, k, w)
        assert got.gains.tolist() == expected
        assert got.total == sum(expected)
        # The claimed households are really newly covered (recounted from the matrix).
        assert w[got.newly_covered(reach, covered)].sum() == got.total


def test_exact_on_tiny_instances():
    """spopt's answer equals brute force; greedy is exact for k=1 and never below 1 - 1/e."""
    rng = np.random.default_rng(7)
    greedy_exact = 0
    cases = 0
    for _ in range(12):
        n_cand, n_hh = int(rng.integers(4, 9)), int(rng.integers(10, 40))
        reach = random_instance(rng, n_cand, n_hh, 0.25)
        covered = rng.random(n_hh) < 0.2
        w = np.ones(n_hh)
        for k in (1, 2, 3):
            best = brute_force(reach, covered, k, w)
            greedy = suggest_sites(reach, covered, k)
            exact = optimal_sites(reach, covered, k)
            assert exact.total == best
            assert (w[exact.newly_covered(reach, covered)].sum()) == best
            assert greedy.total >= (1 - 1 / np.e) * best - 1e-9
            if k == 1:
                assert greedy.total == best
            greedy_exact += greedy.total == best
            cases += 1
    assert greedy_exact >= 0.8 * cases


def test_greedy_is_not_always_optimal():
    """The textbook case: the biggest circle first blocks the best pair."""
    #            households: 0 1 2 3 4 5
    reach = sp.csr_matrix(np.array([[0, 1, 1, 1, 1, 0],     # greedy takes this (4)
                                    [1, 1, 1, 0, 0, 0],
                                    [0, 0, 0, 1, 1, 1]], dtype=bool))
    greedy = suggest_sites(reach, None, 2)
    exact = optimal_sites(reach, None, 2)
    assert greedy.chosen.tolist() == [0, 1] and greedy.total == 5
    assert sorted(exact.chosen.tolist()) == [1, 2] and exact.total == 6


def test_edges_and_arguments():
    reach = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]], dtype=bool))
    s = suggest_sites(reach, np.array([True, True, False]), 2)
    assert s.chosen.size == 0 and s.total == 0 and s.already == 2 and s.coverable == 0
    assert suggest_sites(reach, None, 0).chosen.size == 0
    with pytest.raises(InputError):
        suggest_sites(reach, None, 3)
    with pytest.raises(InputError):
        suggest_sites(reach, np.zeros(2, bool), 1)
    with pytest.raises(InputError):
        suggest_sites(reach.toarray(), None, 1)
    with pytest.raises(InputError):
        suggest_sites(reach, None, 1, weights=[1, -1, 1])


def test_thin_candidates():
    x, y = np.meshgrid(np.arange(0, 1000, 10.0), np.arange(0, 1000, 10.0))
    x, y = x.ravel(), y.ravel()
    keep = thin_candidates(x, y, site_x=[0.0], site_y=[0.0], min_distance_m=300, spacing_m=100)
    assert len(keep) == len(np.unique(np.column_stack([x[keep] // 100, y[keep] // 100]), axis=0))
    assert (np.hypot(x[keep], y[keep]) >= 300).all()
    assert 80 < len(keep) <= 100


# --- a demo-sized instance: the demo district, its register and its sites -----------------------

@pytest.fixture(scope="module")
def demo_instance(demo_register, demo_sites):
    register, sites = demo_register, demo_sites  # of build_demo(): see tests/conftest.py
    ok = np.isfinite(register.truth["lon"].to_numpy())
    hx, hy = metric_xy(register.truth["lon"].to_numpy()[ok], register.truth["lat"].to_numpy()[ok])
    sx, sy = metric_xy(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    radius = 15 * SPEED_M_PER_MIN / DETOUR  # straight line with a detour factor, as the fallback
    covered = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([hx, hy]))[0] <= radius
    # Candidates: a 1.5 km lattice over the district, thinned away from the existing sites.
    gx, gy = np.meshgrid(np.arange(hx.min(), hx.max(), 1500.0), np.arange(hy.min(), hy.max(), 1500.0))
    cx, cy = gx.ravel(), gy.ravel()
    keep = thin_candidates(cx, cy, site_x=sx, site_y=sy, min_distance_m=300, spacing_m=1500)
    cx, cy = cx[keep], cy[keep]
    lists = cKDTree(np.column_stack([hx, hy])).query_ball_point(np.column_stack([cx, cy]), radius)
    rows = np.repeat(np.arange(len(lists)), [len(v) for v in lists])
    cols = np.concatenate([np.asarray(v, dtype=np.intp) for v in lists])
    reach = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(len(cx), len(hx)))
    return {"reach": reach, "covered": covered, "hx": hx, "hy": hy, "cx": cx, "cy": cy,
            "radius": radius}


def test_demo_greedy_within_two_percent_of_spopt(demo_instance):
    reach, covered = demo_instance["reach"], demo_instance["covered"]
    assert (~covered).sum() > 1000  # the demo leaves real gaps
    for k in range(1, 6):
        greedy = suggest_sites(reach, covered, k)
        exact = optimal_sites(reach, covered, k)
        assert exact.detail["status"] == "Optimal"
        assert len(greedy.chosen) == len(exact.chosen) == k
        assert greedy.total <= exact.total + 1e-9
        assert greedy.total >= 0.98 * exact.total, (k, greedy.total, exact.total)
        # Both claims recounted from the matrix, independently of the solvers.
        for s in (greedy, exact):
            dense_rows = reach[s.chosen].toarray().any(axis=0)
            assert int((dense_rows & ~covered).sum()) == s.total
            assert s.gains.sum() == s.total and (np.diff(s.gains) <= 0).all()


def test_demo_suggestions_really_cover(demo_instance):
    """Spot-check distances: households counted as newly covered lie within the radius of a pick,
    and uncovered ones are beyond every pick."""
    d = demo_instance
    s = suggest_sites(d["reach"], d["covered"], 5)
    new = s.newly_covered(d["reach"], d["covered"])
    assert new.sum() == s.total
    px, py = d["cx"][s.chosen], d["cy"][s.chosen]
    rng = np.random.default_rng(3)
    sample = rng.choice(np.flatnonzero(new), size=min(200, int(new.sum())), replace=False)
    dist = np.hypot(d["hx"][sample, None] - px, d["hy"][sample, None] - py).min(axis=1)
    assert (dist <= d["radius"] + 1e-6).all()
    rest = np.flatnonzero(~new & ~d["covered"])
    sample = rng.choice(rest, size=500, replace=False)
    dist = np.hypot(d["hx"][sample, None] - px, d["hy"][sample, None] - py).min(axis=1)
    assert (dist > d["radius"] - 1e-6).all()


def test_suggest_new_sites_straight_line():
    """The geo adapter on lon/lat input, through wangge.geo.coverage.catchment.reach_matrix(None, ...)."""
    pytest.importorskip("wangge.geo.coverage.catchment")
    from wangge.geo.coverage.mclp import suggest_new_sites

    rng = np.random.default_rng(11)
    # Two clusters of households 3 km apart; the existing site covers neither.
    lon = np.concatenate([120.10 + rng.normal(0, 0.001, 300), 120.13 + rng.normal(0, 0.001, 100)])
    lat = np.concatenate([33.30 + rng.normal(0, 0.001, 300), 33.30 + rng.normal(0, 0.001, 100)])
    minutes = np.full(len(lon), np.inf)
    minutes[:10] = 3.0  # ten already covered
    cand_lon, cand_lat = np.array([120.10, 120.13, 120.16]), np.array([33.30, 33.30, 33.30])
    picks = suggest_new_sites(None, cand_lon, cand_lat, lon, lat, minutes, k=2, minutes=10)
    assert picks["candidate"].tolist() == [0, 1]
    assert picks.crs.to_epsg() == 4490 and picks.attrs["network"] == "straight_line"
    hx, hy = metric_xy(lon, lat)
    cx, cy = metric_xy(cand_lon, cand_lat)
    radius = 10 * SPEED_M_PER_MIN / DETOUR
    near0 = (np.hypot(hx - cx[0], hy - cy[0]) <= radius) & ~(minutes <= 10)
    assert picks["households_added"].iloc[0] == pytest.approx(near0.sum(), abs=2)  # edge rounding
