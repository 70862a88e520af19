"""The partitioners on lattices of squares: exact properties, reasons, and many random cases."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import connected_components

from wangge.geo.partition.feasibility import shortfall
from wangge.geo.partition.graph import AtomGraph, atom_graph, glue
from wangge.geo.partition.repair import repair_partition
from wangge.geo.partition.report import Partition
from wangge.geo.partition.scratch import part_count, scratch_partition

SIDE = 100.0


def lattice(nx: int, ny: int) -> np.ndarray:
    """Squares of SIDE metres, row by row from the south-west (atom i is at column i % nx)."""
    return np.array([shapely.box(i * SIDE, j * SIDE, (i + 1) * SIDE, (j + 1) * SIDE)
                     for j in range(ny) for i in range(nx)], dtype=object)


def strips(nx: int, ny: int, cuts: list[int]) -> np.ndarray:
    """Labels of vertical strips of columns, cut before each column in ``cuts``."""
    return np.searchsorted(np.asarray(cuts), np.arange(nx * ny) % nx, side="right")


def assert_contiguous(graph: AtomGraph, labels: np.ndarray) -> None:
    for p in np.unique(labels):
        idx = np.flatnonzero(labels == p)
        pieces, _ = connected_components(graph.adjacency[idx][:, idx], directed=False)
        assert pieces == 1, f"part {p} is in {pieces} pieces"


def assert_whole(groups: np.ndarray, labels: np.ndarray) -> None:
    for g in np.unique(groups[groups >= 0]):
        assert len(np.unique(labels[groups == g])) == 1, f"compound {g} is split"


def assert_consistent(graph: AtomGraph, part: Partition) -> None:
    """Sizes, counts and verdict agree with the labels."""
    assert np.array_equal(part.households, np.bincount(part.labels, weights=graph.weight,
                                                       minlength=part.k).astype(np.int64))
    assert set(np.unique(part.labels)) == set(range(part.k))
    if part.violations:
        assert part.verdict in ("infeasible", "unsolved")
    else:
        assert part.verdict in ("feasible", "infeasible")


# --- the graph --------------------------------------------------------------------------------

def test_shared_edges_areas_perimeters_and_exact_compactness() -> None:
    geoms = lattice(3, 2)
    graph = atom_graph(geoms, np.arange(6))
    assert graph.adjacency[0, 1] == pytest.approx(SIDE) and graph.adjacency[0, 3] == pytest.approx(SIDE)
    assert graph.adjacency[0, 4] == 0  # a shared corner is no edge
    assert np.allclose(graph.perimeter, 4 * SIDE) and np.allclose(graph.area, SIDE ** 2)
    labels = np.array([0, 0, 1, 2, 2, 1])  # two bars below and above, a column on the east
    got = graph.compactness(labels)
    unions = [shapely.union_all(geoms[labels == p]) for p in range(3)]
    want = [4 * np.pi * u.area / u.length ** 2 for u in unions]
    assert np.allclose(got, want)


def test_glue_merges_weights_and_keeps_compactness_exact() -> None:
    geoms = lattice(3, 2)
    graph = atom_graph(geoms, np.array([10, 20, 30, 40, 50, 60]))
    glued, of = glue(graph, np.array([0, 0, -1, -1, -1, -1]))
    assert glued.n == 5 and of[0] == of[1]
    assert glued.weight[of[0]] == 30 and glued.weight.sum() == graph.weight.sum()
    assert glued.adjacency[of[0], of[0]] == 0
    assert glued.adjacency[of[0], of[3]] == pytest.approx(SIDE)
    assert glued.adjacency[of[0], of[4]] == pytest.approx(SIDE)  # atom 1 touches atom 4
    labels = np.array([0, 0, 1, 0, 1, 1])
    assert np.allclose(glued.compactness(_glued_labels(labels, of, glued.n)),
                       graph.compactness(labels))


def _glued_labels(labels: np.ndarray, of: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.intp)
    out[of] = labels
    return out


def test_shortfall_and_part_count() -> None:
    assert shortfall(1100, 300, 500) == 0  # 3 parts of 367
    assert shortfall(550, 300, 500) == 50  # 1 part is 50 over, 2 parts are 50 under
    assert shortfall(250, 300, 500) == 50
    assert shortfall(520, 300, 500, 1) == 20 and shortfall(520, 300, 500, 2) == 80
    assert part_count(1800, 300, 500) == 4 and part_count(550, 300, 500) == 2


# --- reasons ----------------------------------------------------------------------------------

def test_a_compound_larger_than_the_maximum_is_named() -> None:
    graph = atom_graph(lattice(4, 2), np.array([300, 300, 50, 50, 50, 50, 50, 50]))
    groups = np.array([0, 0, -1, -1, -1, -1, -1, -1])
    part = repair_partition(graph, np.zeros(8, dtype=int), groups=groups)
    assert part.verdict == "infeasible"
    (reason,) = [r for r in part.reasons if r.code == "atom_too_large"]
    assert reason.blocking and reason.detail["glued"] and sorted(reason.detail["atoms"]) == [0, 1]
    assert "小区" in reason.message_zh and "compound" in reason.message_en
    assert_whole(groups, part.labels)
    assert_contiguous(graph, part.labels)


def test_a_count_that_no_bounds_allow_is_named() -> None:
    graph = atom_graph(lattice(5, 2), np.full(10, 55))  # 550: one grid too big, two too small
    part = repair_partition(graph, np.zeros(10, dtype=int))
    assert part.verdict == "infeasible"
    (reason,) = part.reasons
    assert reason.code == "count_impossible"
    assert reason.detail["fewest_grids"] == 2 and reason.detail["most_grids"] == 1
    assert part.violations == 1  # the best that can be done: one grid out of bounds
    small = repair_partition(atom_graph(lattice(2, 2), np.full(4, 50)), np.zeros(4, dtype=int))
    assert small.reasons[0].code == "count_impossible" and "下限" in small.reasons[0].message_zh
    empty = repair_partition(atom_graph(lattice(2, 1), np.zeros(2)), np.zeros(2, dtype=int))
    assert empty.verdict == "infeasible" and empty.k == 1 and empty.moved == 0


def test_a_disconnected_community_is_said_and_each_piece_partitioned() -> None:
    apart = np.array([shapely.box(1000 + i * SIDE, 0, 1000 + (i + 1) * SIDE, SIDE)
                      for i in range(4)], dtype=object)
    geoms = np.concatenate([lattice(3, 3), apart])
    weight = np.concatenate([np.full(9, 80), np.full(4, 100)])  # 720 and 400
    current = np.zeros(13, dtype=int)
    for part in (repair_partition(graph := atom_graph(geoms, weight), current),
                 scratch_partition(graph, current=current)):
        codes = [r.code for r in part.reasons]
        assert "disconnected" in codes
        assert not any(r.blocking for r in part.reasons)
        assert part.verdict == "feasible"
        assert_contiguous(graph, part.labels)
        assert len(np.unique(part.labels[:9])) == 2 and len(np.unique(part.labels[9:])) == 1


def test_bounds_and_shapes_are_checked() -> None:
    graph = atom_graph(lattice(2, 2), np.full(4, 100))
    with pytest.raises(ValueError, match="minimum <= maximum"):
        repair_partition(graph, np.zeros(4, dtype=int), 500, 300)
    with pytest.raises(ValueError, match="one current label per atom"):
        repair_partition(graph, np.zeros(3, dtype=int))


# --- the repair -------------------------------------------------------------------------------

def test_a_valid_plan_moves_nobody() -> None:
    graph = atom_graph(lattice(6, 4), np.full(24, 50))
    current = strips(6, 4, [2, 4])  # three strips of 400
    part = repair_partition(graph, current)
    assert part.moved == 0 and part.verdict == "feasible"
    assert np.array_equal(part.matched[part.labels], current)


def test_an_oversized_grid_sheds_only_what_it_must() -> None:
    weight = np.full(24, 50)
    current = strips(6, 4, [2, 5])  # 400, 600, 200
    graph = atom_graph(lattice(6, 4), weight)
    part = repair_partition(graph, current)
    assert part.verdict == "feasible" and part.violations == 0
    assert part.moved == 100  # two atoms from the 600 to the 200: nothing more is needed
    scratch = scratch_partition(graph, current=current)
    assert scratch.verdict == "feasible" and part.moved <= scratch.moved


def test_an_undersized_grid_is_merged_and_a_big_one_split() -> None:
    weight = np.full(40, 40)
    current = strips(8, 5, [1, 7])  # 200, 1200, 200
    graph = atom_graph(lattice(8, 5), weight)
    part = repair_partition(graph, current)
    assert part.verdict == "feasible"
    assert_contiguous(graph, part.labels)
    assert (part.matched >= 0).sum() >= 1 and part.moved < 1600 // 2


@pytest.mark.parametrize("seed", range(16))
def test_random_lattices_hold_the_constraints(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nx, ny = (int(v) for v in rng.integers(4, 8, 2))
    n = nx * ny
    weight = rng.integers(10, 70, n)
    current = strips(nx, ny, sorted(rng.choice(np.arange(1, nx), size=int(rng.integers(1, nx)),
                                               replace=False).tolist()))
    groups = np.full(n, -1)
    for g, a in enumerate(rng.choice(n - 1, size=n // 6, replace=False)):
        if a % nx != nx - 1 and groups[a] < 0 and groups[a + 1] < 0:
            groups[a] = groups[a + 1] = g  # a compound over two side-by-side micro-grids
    graph = atom_graph(lattice(nx, ny), weight)
    repaired = repair_partition(graph, current, groups=groups, seed=seed)
    scratch = scratch_partition(graph, groups=groups, current=current, seed=seed)
    for part in (repaired, scratch):
        assert_contiguous(graph, part.labels)
        assert_whole(groups, part.labels)
        assert_consistent(graph, part)
    # atoms of 10–69 households against bounds 300–500: always feasible, and found
    if weight.sum() >= 300:
        assert repaired.verdict == "feasible", repaired.households
        assert scratch.verdict == "feasible", scratch.households


def test_the_same_seed_gives_the_same_partition() -> None:
    rng = np.random.default_rng(7)
    graph = atom_graph(lattice(5, 5), rng.integers(20, 90, 25))
    current = strips(5, 5, [2])
    a, b = repair_partition(graph, current, seed=3), repair_partition(graph, current, seed=3)
    assert np.array_equal(a.labels, b.labels)


def test_a_shape_no_partition_fits_is_proven_impossible() -> None:
    # a row of 100 | 450 | 100: 650 households allow exactly two grids of 300-500, but any
    # contiguous cut leaves a side of 100 or of 550
    graph = atom_graph(lattice(3, 1), np.array([100, 450, 100]))
    for part in (repair_partition(graph, np.zeros(3, dtype=int)), scratch_partition(graph)):
        assert part.verdict == "infeasible"
        (reason,) = part.reasons
        assert reason.code == "no_partition" and reason.blocking
        assert "连片" in reason.message_zh and reason.detail["grids"] == [2, 2]


def test_every_partition_is_tried_when_the_search_falls_short() -> None:
    from wangge.geo.partition.exhaustive import best_partition

    # a 2 x 2 block of 160 households each: two grids of 320 are the only answer; with the
    # current grids as two diagonals, either cut keeps half of each, moving 320
    graph = atom_graph(lattice(2, 2), np.full(4, 160))
    labels, tried = best_partition(graph, 300, 500, np.array([0, 1, 1, 0]))
    assert labels is not None and tried > 0
    assert np.bincount(labels, weights=graph.weight).tolist() == [320.0, 320.0]
    keep = np.array([0, 0, 1, 1])
    labels, _ = best_partition(graph, 300, 500, keep)      # the current plan is itself valid
    assert (labels == keep).all() or (labels == 1 - keep).all()
    nothing, _ = best_partition(atom_graph(lattice(3, 1), np.array([100, 450, 100])), 300, 500)
    assert nothing is None
    with pytest.raises(OverflowError):
        best_partition(atom_graph(lattice(8, 8), np.full(64, 10)), 300, 500)
