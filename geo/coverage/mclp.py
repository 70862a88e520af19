"""Where to add service sites: the maximal covering location problem (MCLP).

Given candidate places and, for each, the households it would reach within N minutes (a sparse
``candidates × households`` boolean matrix, see
:func:`wangge.geo.coverage.catchment.reach_matrix`), choose ``k`` candidates that together reach
the most households not yet covered.

- :func:`suggest_sites` is the numeric core: greedy with lazy evaluation. A pick's gain can only
  shrink as others are chosen (coverage is submodular), so the gains computed earlier are upper
  bounds kept in a priority queue; only the top candidate is recomputed, and it is taken when its
  fresh gain still beats the next bound. The greedy answer is within ``1 - 1/e`` of the optimum in
  theory and, on wangge's demo, within a fraction of a percent (``benchmarks/mclp_vs_spopt.py``).
- :func:`optimal_sites` solves the same problem exactly with PySAL spopt's MCLP (CBC through
  pulp): the reference for tests and benchmarks, much slower. Households with identical reach
  are merged first (their weights summed), which shrinks the integer program many times.
- :func:`thin_candidates` and :func:`suggest_new_sites` are the geo adapter: candidates from
  network nodes (or a planner's points) away from existing sites, households outside the circle,
  the reach matrix from :mod:`wangge.geo.coverage.catchment`, and the picks as a GeoDataFrame in EPSG:4490.
"""

from __future__ import annotations

import heapq
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from wangge.geo.crs import STORAGE_CRS, lonlat_to_metric, metric_crs_for, metric_to_lonlat
from wangge.geo.errors import InputError

__all__ = ["Suggestion", "metric_xy", "network_candidates", "optimal_sites", "suggest_new_sites",
           "suggest_sites", "thin_candidates"]


@dataclass(frozen=True)
class Suggestion:
    """Chosen candidates in the order picked, what each adds, and the total.

    ``gains[i]`` is the weight (households, or the given weights) newly covered by ``chosen[i]``
    given the picks before it; ``total`` their sum; ``already`` the weight covered before any pick;
    ``coverable`` the weight of uncovered households some candidate reaches (an upper bound).
    """

    chosen: NDArray[np.intp]
    gains: NDArray[np.float64]
    total: float
    already: float
    coverable: float
    method: str
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)

    def newly_covered(self, reach: sp.csr_matrix, covered: ArrayLike | None = None) -> NDArray[np.bool_]:
        """Households covered by the picks and not before (recounted from ``reach``)."""
        reach = sp.csr_matrix(reach)
        before = _covered(covered, reach.shape[1])
        hit = np.zeros(reach.shape[1], dtype=bool)
        for c in self.chosen:
            hit[reach.indices[reach.indptr[c]:reach.indptr[c + 1]]] = True
        return hit & ~before


def _check(reach: Any, covered: ArrayLike | None, k: int,
           weights: ArrayLike | None) -> tuple[sp.csr_matrix, NDArray[np.bool_], NDArray[np.float64]]:
    problems_zh, problems_en = [], []
    if not sp.issparse(reach) or reach.ndim != 2:
        raise InputError("可达矩阵应为 候选点 × 住户 的稀疏矩阵。",
                         "reach must be a sparse candidates × households matrix.")
    reach = sp.csr_matrix(reach, dtype=bool)
    reach.eliminate_zeros()
    reach.sort_indices()
    n_cand, n_hh = reach.shape
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
        problems_zh.append(f"新增站点数 k 应为非负整数（收到 {k!r}）")
        problems_en.append(f"k must be a non-negative integer (got {k!r})")
    elif k > n_cand:
        problems_zh.append(f"新增站点数 k={k} 多于候选点数 {n_cand}")
        problems_en.append(f"k={k} exceeds the {n_cand} candidates")
    if covered is not None and np.asarray(covered).shape != (n_hh,):
        problems_zh.append(f"已覆盖标记应有 {n_hh} 个（每户一个）")
        problems_en.append(f"covered must hold {n_hh} flags (one per household)")
    w = np.ones(n_hh)
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n_hh,) or not np.isfinite(w).all() or (w < 0).any():
            problems_zh.append(f"权重应为 {n_hh} 个非负有限数")
            problems_en.append(f"weights must be {n_hh} finite non-negative numbers")
    if problems_zh:
        raise InputError("无法计算新增站点：" + "；".join(problems_zh),
                         "Cannot suggest sites: " + "; ".join(problems_en))
    return reach, _covered(covered, n_hh), w


def _covered(covered: ArrayLike | None, n: int) -> NDArray[np.bool_]:
    return np.zeros(n, dtype=bool) if covered is None else np.asarray(covered, dtype=bool).copy()


def suggest_sites(reach: sp.csr_matrix, covered: ArrayLike | None, k: int,
                  weights: ArrayLike | None = None) -> Suggestion:
    """Greedy MCLP with lazy evaluation: ``k`` candidates (rows of ``reach``) in pick order.

    ``covered`` flags households already within the circle (None: none are); ``weights`` counts
    each household (default 1; e.g. residents). Picks stop early when no candidate adds anything.
    Ties go to the lower candidate index, so the answer is deterministic.
    """
    t0 = time.perf_counter()
    reach, done, w = _check(reach, covered, k, weights)
    indptr, indices = reach.indptr, reach.indices
    open_w = np.where(done, 0.0, w)
    bounds = reach @ open_w if reach.shape[1] else np.zeros(reach.shape[0])
    heap = [(-float(b), int(c)) for c, b in enumerate(bounds) if b > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    evaluations = 0
    while len(chosen) < k and heap:
        _, c = heapq.heappop(heap)
        rows = indices[indptr[c]:indptr[c + 1]]
        gain = float(open_w[rows].sum())
        evaluations += 1
        if gain <= 0:
            continue
        # Accept when the fresh gain beats every other bound (ties: lower index first).
        if heap and (-heap[0][0], -heap[0][1]) > (gain, -c):
            heapq.heappush(heap, (-gain, c))
            continue
        chosen.append(c)
        gains.append(gain)
        open_w[rows] = 0.0
    coverable = _coverable(reach, done, w)
    return Suggestion(chosen=np.asarray(chosen, dtype=np.intp), gains=np.asarray(gains, dtype=float),
                      total=float(sum(gains)), already=float(w[done].sum()), coverable=coverable,
                      method="greedy_lazy", seconds=time.perf_counter() - t0,
                      detail={"evaluations": evaluations, "candidates": reach.shape[0]})


def _coverable(reach: sp.csr_matrix, done: NDArray[np.bool_], w: NDArray[np.float64]) -> float:
    reached = np.zeros(reach.shape[1], dtype=bool)
    reached[reach.indices] = True
    return float(w[reached & ~done].sum())


def optimal_sites(reach: sp.csr_matrix, covered: ArrayLike | None, k: int,
                  weights: ArrayLike | None = None, *, time_limit_s: float | None = None,
                  ) -> Suggestion:
    """The exact MCLP answer from spopt (``MCLP.from_cost_matrix``, CBC through pulp).

    Only uncovered households some candidate reaches enter the model, merged by identical reach
    (weights summed), and only candidates that reach one of them. The chosen candidates are
    returned in greedy order of their marginal gains so that ``gains`` reads like
    :func:`suggest_sites`'s. ``detail`` holds the model size and the solver status.
    """
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    reach, done, w = _check(reach, covered, k, weights)
    coverable = _coverable(reach, done, w)
    open_cols = np.flatnonzero(~done & (w > 0))
    sub = reach[:, open_cols].tocsc()
    sub.eliminate_zeros()
    # Merge households reached by the same candidates: one client each, weights summed.
    cols = [tuple(sub.indices[sub.indptr[j]:sub.indptr[j + 1]]) for j in range(sub.shape[1])]
    groups: dict[tuple[int, ...], float] = {}
    for j, pattern in enumerate(cols):
        if pattern:
            groups[pattern] = groups.get(pattern, 0.0) + float(w[open_cols[j]])
    cands = _undominated(groups, reach.shape[0])
    detail: dict[str, Any] = {"clients": len(groups), "facilities": len(cands),
                              "households": int(len(open_cols))}
    p = min(int(k), len(cands))
    if p == 0 or not groups:
        return Suggestion(np.zeros(0, np.intp), np.zeros(0), 0.0, float(w[done].sum()), coverable,
                          "spopt_mclp", time.perf_counter() - t0, {**detail, "status": "trivial"})
    pos = np.full(reach.shape[0], -1, dtype=np.intp)
    pos[cands] = np.arange(len(cands))
    cost = np.full((len(groups), len(cands)), 2.0)
    for i, pattern in enumerate(groups):
        at = pos[np.asarray(pattern, dtype=np.intp)]
        cost[i, at[at >= 0]] = 0.0
    demand = np.fromiter(groups.values(), dtype=float, count=len(groups))
    with warnings.catch_warnings():
        # spopt 0.7 builds pulp variables the way pulp 3.3 deprecates; nothing for us to change.
        warnings.simplefilter("ignore", DeprecationWarning)
        model = MCLP.from_cost_matrix(cost, demand, service_radius=1.0, p_facilities=p)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)
        t1 = time.perf_counter()
        model = model.solve(solver, results=False)
    detail["solve_seconds"] = time.perf_counter() - t1
    detail["status"] = pulp.LpStatus[model.problem.status]
    picked = cands[[j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]]
    ordered = suggest_sites(reach[picked], done, len(picked), w)  # order by marginal gain
    chosen = picked[ordered.chosen]
    rest = np.setdiff1d(picked, chosen)  # picks that add nothing after the others (rare)
    chosen = np.concatenate([chosen, rest]).astype(np.intp)
    gains = np.concatenate([ordered.gains, np.zeros(len(rest))])
    return Suggestion(chosen=chosen, gains=gains, total=float(gains.sum()),
                      already=float(w[done].sum()), coverable=coverable, method="spopt_mclp",
                      seconds=time.perf_counter() - t0, detail=detail)


def _undominated(groups: dict[tuple[int, ...], float], n_cand: int) -> NDArray[np.intp]:
    """Candidates that reach some client, less those whose clients another candidate reaches
    too (a superset; equal sets keep the lowest index). Dropping them loses no optimum: any
    answer using one is as good with its dominator instead."""
    rows = np.concatenate([np.asarray(p, dtype=np.intp) for p in groups] or [np.zeros(0, np.intp)])
    cols = np.repeat(np.arange(len(groups)), [len(p) for p in groups])
    a = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n_cand, len(groups)))
    size = np.asarray(a.sum(axis=1)).ravel()
    inter = (a @ a.T).tocoo()
    i, j = inter.row, inter.col
    dominated = (i != j) & (inter.data == size[i]) & ((size[j] > size[i]) | ((size[j] == size[i]) & (j < i)))
    out = np.zeros(n_cand, dtype=bool)
    out[size > 0] = True
    out[i[dominated]] = False
    return np.flatnonzero(out)


# --- geo adapter ---------------------------------------------------------------------------

def thin_candidates(x: ArrayLike, y: ArrayLike, *, site_x: ArrayLike = (), site_y: ArrayLike = (),
                    min_distance_m: float = 300.0, spacing_m: float = 100.0) -> NDArray[np.intp]:
    """Indices of candidate points (metric ``x, y``) worth considering for a new site.

    Points within ``min_distance_m`` of an existing site are dropped (a site there adds little),
    then the rest are thinned to at most one per ``spacing_m`` square (the one nearest the
    square's centre), which keeps the MCLP small without moving any pick by more than a square.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError("候选点坐标数组长度不一致。", "Candidate x and y differ in shape.")
    if not (spacing_m > 0 and min_distance_m >= 0):
        raise InputError("间距应为正数、最小距离应为非负数。",
                         "spacing_m must be positive and min_distance_m non-negative.",
                         spacing_m=spacing_m, min_distance_m=min_distance_m)
    keep = np.isfinite(x) & np.isfinite(y)
    sx, sy = np.asarray(site_x, dtype=float), np.asarray(site_y, dtype=float)
    if len(sx) and min_distance_m > 0:
        dist, _ = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([x, y])[keep])
        idx = np.flatnonzero(keep)
        keep[idx[dist < min_distance_m]] = False
    idx = np.flatnonzero(keep)
    if not len(idx):
        return idx
    gx = np.floor(x[idx] / spacing_m)
    gy = np.floor(y[idx] / spacing_m)
    off = np.hypot(x[idx] - (gx + 0.5) * spacing_m, y[idx] - (gy + 0.5) * spacing_m)
    order = np.lexsort((idx, off, gy, gx))
    cell = np.column_stack([gx[order], gy[order]])
    first = np.ones(len(order), dtype=bool)
    first[1:] = (cell[1:] != cell[:-1]).any(axis=1)
    return np.sort(idx[order[first]])


def network_candidates(network: Any, site_lon: ArrayLike, site_lat: ArrayLike, *,
                       min_distance_m: float = 300.0,
                       spacing_m: float = 100.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Candidate lon/lat (EPSG:4490) from a walking network's nodes (``x, y`` in its ``metric``
    CRS), thinned by :func:`thin_candidates` away from the existing sites."""
    x, y = np.asarray(network.x, dtype=float), np.asarray(network.y, dtype=float)
    sx, sy = metric_xy(site_lon, site_lat, network.metric)
    keep = thin_candidates(x, y, site_x=sx, site_y=sy, min_distance_m=min_distance_m,
                           spacing_m=spacing_m)
    return metric_to_lonlat(x[keep], y[keep], network.metric)


def suggest_new_sites(network: Any, cand_lon: ArrayLike, cand_lat: ArrayLike, hh_lon: ArrayLike,
                      hh_lat: ArrayLike, household_minutes: ArrayLike, *, k: int = 5,
                      minutes: float = 15.0, speed_kmh: float = 4.8, detour_factor: float = 1.3,
                      weights: ArrayLike | None = None, exact: bool = False) -> gpd.GeoDataFrame:
    """Where ``k`` new sites would bring the most households inside the ``minutes`` circle.

    ``network`` is a walking network of :mod:`wangge.geo.coverage.network` (None: straight line times
    ``detour_factor``); candidates are lon/lat points (EPSG:4490), e.g. thinned network nodes
    (:func:`thin_candidates`) or a planner's list; ``household_minutes`` the current minutes to the
    nearest site (see :func:`wangge.geo.coverage.catchment.compute_catchments`). Returns one row per pick, in
    order: ``rank, candidate, households_added, households_total, lon, lat, geometry``, with
    ``attrs`` saying method, minutes, speed and what was covered before and could be at most.
    """
    from wangge.geo.coverage.catchment import reach_matrix  # the catchment module computes walking reach

    cand_lon, cand_lat = np.asarray(cand_lon, dtype=float), np.asarray(cand_lat, dtype=float)
    hh_lon, hh_lat = np.asarray(hh_lon, dtype=float), np.asarray(hh_lat, dtype=float)
    hm = np.asarray(household_minutes, dtype=float)
    if hm.shape != hh_lon.shape:
        raise InputError("每户应有一个到最近站点的分钟数。",
                         "household_minutes must hold one value per household.")
    covered = hm <= minutes
    todo = np.flatnonzero(~covered & np.isfinite(hh_lon) & np.isfinite(hh_lat))
    reach = reach_matrix(network, cand_lon, cand_lat, hh_lon[todo], hh_lat[todo], minutes=minutes,
                         speed_kmh=speed_kmh, detour_factor=detour_factor)
    w = None if weights is None else np.asarray(weights, dtype=float)[todo]
    solve = optimal_sites if exact else suggest_sites
    s = solve(reach, None, min(k, len(cand_lon)), w)
    frame = gpd.GeoDataFrame({
        "rank": np.arange(1, len(s.chosen) + 1),
        "candidate": s.chosen,
        "households_added": s.gains,
        "households_total": np.cumsum(s.gains),
        "lon": cand_lon[s.chosen], "lat": cand_lat[s.chosen],
    }, geometry=gpd.points_from_xy(cand_lon[s.chosen], cand_lat[s.chosen]), crs=STORAGE_CRS)
    frame.attrs.update({"method": s.method, "minutes": minutes, "speed_kmh": speed_kmh,
                        "network": "network" if network is not None else "straight_line",
                        "covered_before": float(covered.sum()) if w is None else
                        float(np.asarray(weights, dtype=float)[covered].sum()),
                        "coverable": s.coverable, "seconds": s.seconds})
    return frame


def metric_xy(lon: ArrayLike, lat: ArrayLike,
              metric: pyproj.CRS | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lon/lat (EPSG:4490) to metres in the Gauss–Krüger zone of their mean longitude."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    metric = metric or metric_crs_for(float(np.nanmean(lon)) if len(lon) else 120.0)
    return lonlat_to_metric(lon, lat, metric)
