"""The lookup raster behind :class:`wangge.geo.index.hierarchy.UnitIndex`: a hierarchical grid
of polygon cover.

The grid answers "which polygon covers this point" for most points without any polygon test,
and narrows the rest down to the two or three polygons that can cover them.

Structure
    Level 0 is a uniform grid of ``nx × ny`` cells over the polygons' extent, in longitude and
    latitude. A point's level-0 cell coordinates are ``u = (lon - x0) * sx`` and
    ``w = (lat - y0) * sy``; its cell at level ``k`` is ``(floor(u * f**k), floor(w * f**k))``
    where the fan-out ``f`` is a power of two, so the scaling is exact in floating point and a
    cell's children hold exactly the points that map to the cell. Every cell holds one
    ``int32``:

    - ``>= 0``: the answer, the index of the polygon that covers the whole cell;
    - ``-1``: no polygon covers any of the cell;
    - ``-2 - b`` with ``b < n_blocks``: the cell is split into block ``b`` of ``f × f`` child
      cells (row-major, one slice of :attr:`LookupGrid.blocks`);
    - ``-2 - (n_blocks + j)``, ``j < n_lists``: a leaf on a boundary; its points are tested
      with GEOS against candidate list ``j`` (polygons in ascending rank, the first that covers
      a point wins);
    - ``-2 - (n_blocks + n_lists + e)``: a leaf crossed by one edge only, with nothing else
      around: side test ``e`` says which unit lies left and right of the edge, and the sign of
      one orientation determinant decides; where the sign is not certain (the point is on the
      edge's line, up to rounding), GEOS decides with the side test's candidate list.

How it is built, with few polygon tests
    1. Polygon edges are rasterised conservatively, level by level: a cell is *touched* by an
       edge when the edge comes within ``EPS_DEG`` of the cell's box. Only touched cells can
       hold points on both sides of an edge, or on it.
    2. Untouched cells that form one 4-connected patch (within one parent's block, or the whole
       of level 0) lie in one face of the arrangement of all edges, so a single point test at
       one cell's centre labels the whole patch: against the polygons that touch the parent,
       or through an STRtree at level 0.
    3. A touched cell keeps the polygons whose edges touch it, plus the lowest-ranked polygon
       that contains it whole (only overlapping polygons produce one). If that polygon ranks
       first, it is the answer; otherwise the cell becomes a leaf once it is small enough for
       the polygons it touches (``leaf_m``), or is split and step 1 repeats one level down
       for the edges that touch it, clipped to it.

Why the answers are exact: a query computes only ``u``, ``w`` and their exact power-of-two
scaling, the same arithmetic the edges went through, and it is monotone; a point lands in the
cell whose box holds it up to rounding of about 1e-14 degrees, far below ``EPS_DEG``. Every
point a cell answers for without a test is therefore, like the cell's test point, more than
``EPS_DEG`` from every edge and on the same side of each. Leaf points get GEOS's robust
predicate (``intersects_xy``, i.e. *covers* for a point), or, in a leaf that one edge crosses
from side to side, the edge's side: the two pieces of such a leaf hold no other edge, so each
lies inside the face next to the edge on its side (the polygons are valid and oriented, interior
on the left). The orientation is computed in floating point and trusted only beyond Shewchuk's
error bound (``_CCW_ERRBOUND``), so its sign is exact; points within it go to GEOS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage

# Cells within this distance of an edge count as touched by it: about a million times the
# rounding error of the cell arithmetic, a tenth of a millimetre on the ground.
EPS_DEG = 1e-9
# Leaf entries are numbered after all blocks, whose count is known only at the end: during the
# build a leaf is written as _LIST_BASE - (candidate list number) or _SIDE_BASE - (side test
# number), both below any block pointer (blocks are fewer than 2**30 - 2).
_LIST_BASE = -(1 << 30)
_SIDE_BASE = _LIST_BASE - (1 << 29)
_MAX_ENTRIES = (1 << 29) - 1
# Shewchuk's error bound for the floating-point 2-D orientation determinant: beyond it the sign
# of the computed determinant is the sign of the exact one.
_CCW_ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_NO_RANK = np.iinfo(np.int64).max

I64 = NDArray[np.int64]
IDX = NDArray[np.intp]
F64 = NDArray[np.float64]
BOOL = NDArray[np.bool_]


@dataclass(frozen=True)
class LookupGrid:
    """The arrays of a built grid (see the module docstring for their meaning)."""

    x0: float
    y0: float
    sx: float
    sy: float
    nx: int
    ny: int
    fanout: int
    level0: NDArray[np.int32]      # ny * nx entries; the outer two rings are -1 (see locate)
    blocks: NDArray[np.int32]      # n_blocks * fanout**2 entries
    n_blocks: int
    list_ptr: IDX                  # candidate list j is list_idx[list_ptr[j]:list_ptr[j + 1]]
    list_idx: IDX
    side_xy: F64                   # side test e: edge from (x0, y0) to (x1, y1), lon/lat, (n, 4)
    side_left: IDX                 # unit left of the edge, or -1
    side_right: IDX                # unit right of it, or -1
    side_list: IDX                 # candidate list for points on the edge's line
    depth: int                     # deepest level in use
    cell_m: float                  # edge of a level-0 cell in metres (about)

    @property
    def n_lists(self) -> int:
        return len(self.list_ptr) - 1

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in (self.level0, self.blocks, self.list_ptr, self.list_idx,
                                          self.side_xy, self.side_left, self.side_right,
                                          self.side_list)))


@dataclass(frozen=True)
class _Segments:
    """Polygon edges in level-0 cell units, with the polygon each belongs to.

    Two edges with the same end points (one edge shared by two units) have the same
    ``canon`` number; ``forward`` tells whether the edge runs from the lower end point (in
    lon, lat order) to the higher, the direction of ``canon_xy`` (lon/lat).
    """

    ax: F64
    ay: F64
    bx: F64
    by: F64
    poly: IDX
    canon: IDX
    forward: BOOL
    canon_xy: F64


def _segments(geoms: NDArray[np.object_], x0: float, y0: float, sx: float,
              sy: float) -> _Segments:
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    # Exactly the arithmetic a query does (see _locate_chunk).
    u = (coords[:, 0] - x0) * sx
    w = (coords[:, 1] - y0) * sy
    poly = np.asarray(part_of[ring_part[ring_of[:-1][same]]], dtype=np.intp)
    forward = (a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] <= b[:, 1]))
    ends = np.where(forward[:, None], np.hstack([a, b]), np.hstack([b, a]))
    canon = np.zeros(len(ends), dtype=np.intp)
    canon_xy = ends[:0]
    if len(ends):
        order = np.lexsort(ends.T[::-1])
        sorted_ends = ends[order]
        new = np.ones(len(ends), dtype=bool)
        new[1:] = (sorted_ends[1:] != sorted_ends[:-1]).any(axis=1)
        canon[order] = np.cumsum(new) - 1
        canon_xy = sorted_ends[new]
    return _Segments(u[:-1][same], w[:-1][same], u[1:][same], w[1:][same], poly, canon,
                     forward, canon_xy)


def _ranges(counts: I64) -> tuple[IDX, I64]:
    """For counts c_i: the owner i of each of sum(c) items and its offset 0..c_i-1."""
    counts = np.maximum(counts, 0)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner), dtype=np.int64) - starts[owner]


_RASTER_CHUNK = 1 << 15  # segments rasterised together (bounds the temporaries' memory)


def _rasterise(seg: _Segments, which: IDX, scale: float, eps: float, col_lo: I64, col_hi: I64,
               row_lo: I64, row_hi: I64) -> tuple[IDX, I64, I64]:
    """Cells touched by segments ``which`` at the level of ``scale`` (= f**k), clipped.

    Item ``i`` rasterises segment ``which[i]`` inside columns ``col_lo[i]..col_hi[i]`` and rows
    ``row_lo[i]..row_hi[i]``. Returns (item, row, col) for every touched cell. Conservative: a
    cell is listed when the segment comes within ``eps`` (in cells of this level) of its box;
    a cell listed in excess costs time, never correctness.
    """
    parts = []
    for start in range(0, len(which), _RASTER_CHUNK):
        part = slice(start, start + _RASTER_CHUNK)
        item, row, col = _rasterise_chunk(seg, which[part], scale, eps, col_lo[part],
                                          col_hi[part], row_lo[part], row_hi[part])
        parts.append((item + start, row, col))
    if not parts:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def _rasterise_chunk(seg: _Segments, which: IDX, scale: float, eps: float, col_lo: I64,
                     col_hi: I64, row_lo: I64, row_hi: I64) -> tuple[IDX, I64, I64]:
    ax, ay = seg.ax[which] * scale, seg.ay[which] * scale
    bx, by = seg.bx[which] * scale, seg.by[which] * scale
    xmin = np.minimum(ax, bx) - eps
    xmax = np.maximum(ax, bx) + eps
    c0 = np.maximum(np.floor(xmin).astype(np.int64), col_lo)
    c1 = np.minimum(np.floor(xmax).astype(np.int64), col_hi)
    owner, off = _ranges(c1 - c0 + 1)
    col = c0[owner] + off
    del off
    # The part of the segment over this column (widened by eps), as parameters t along it.
    lo = np.maximum(col - eps, xmin[owner])
    hi = np.minimum(col + 1 + eps, xmax[owner])
    ddx = (bx - ax)[owner]
    sax = ax[owner]
    with np.errstate(divide="ignore", invalid="ignore"):
        lo -= sax
        lo /= ddx
        hi -= sax
        hi /= ddx
    vertical = ddx == 0
    del sax, ddx
    np.clip(lo, 0.0, 1.0, out=lo)
    np.clip(hi, 0.0, 1.0, out=hi)
    lo[vertical] = 0.0
    hi[vertical] = 1.0
    del vertical
    ddy = (by - ay)[owner]
    say = ay[owner]
    lo *= ddy
    lo += say
    hi *= ddy
    hi += say
    del ddy, say
    r0 = np.maximum(np.floor(np.minimum(lo, hi) - eps).astype(np.int64), row_lo[owner])
    r1 = np.minimum(np.floor(np.maximum(lo, hi) + eps).astype(np.int64), row_hi[owner])
    del lo, hi
    owner2, off2 = _ranges(r1 - r0 + 1)
    return owner[owner2], r0[owner2] + off2, col[owner2]


class _Ranks:
    """Polygon order: ``rank[p]`` and back; -1 stands for "no polygon" throughout."""

    def __init__(self, rank: IDX) -> None:
        self.rank = np.asarray(rank, dtype=np.int64)
        self.poly_of = np.empty(len(rank), dtype=np.intp)
        self.poly_of[self.rank] = np.arange(len(rank))
        self.n = len(rank)

    def min_per_key(self, keys: IDX | I64, polys: IDX, n_keys: int) -> IDX:
        """For each key 0..n_keys-1 the lowest-ranked polygon among its pairs, or -1."""
        best = np.full(n_keys, _NO_RANK, dtype=np.int64)
        np.minimum.at(best, keys, self.rank[polys])
        found = best != _NO_RANK
        out = np.full(n_keys, -1, dtype=np.intp)
        out[found] = self.poly_of[best[found]]
        return out

    def lower(self, a: IDX, b: IDX) -> BOOL:
        """Where polygon ``a`` exists and ranks before ``b``."""
        return (a >= 0) & ((b < 0) | (self.rank[np.maximum(a, 0)] < self.rank[np.maximum(b, 0)]))

    def pairs(self, keys: I64, polys: IDX) -> tuple[I64, IDX]:
        """Distinct (key, polygon) pairs sorted by key, then rank (keys below 2**32)."""
        c = np.sort(keys * self.n + self.rank[polys])
        keep = np.ones(len(c), dtype=bool)
        keep[1:] = c[1:] != c[:-1]
        c = c[keep]
        return c // self.n, self.poly_of[c % self.n]


def _representatives(labels: NDArray[np.int32], n_labels: int) -> IDX:
    """One position of each label 1..n_labels in ``labels`` (any one will do)."""
    rep = np.empty(n_labels + 1, dtype=np.intp)
    rep[labels] = np.arange(len(labels))
    return rep[1:]


def _member(keys: I64, sorted_set: I64) -> BOOL:
    """``np.isin`` against a sorted array (faster here than numpy's hashing)."""
    if len(sorted_set) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, keys), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == keys)


def _covering(geoms: NDArray[np.object_], x: F64, y: F64, owner: IDX, polys: IDX) -> BOOL:
    """Whether polygon ``polys[i]`` covers point ``owner[i]`` (exact GEOS predicate)."""
    if len(owner) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(shapely.intersects_xy(geoms[polys], x[owner], y[owner]), dtype=bool)


@dataclass
class _Blocks:
    """Cells of one level that are split: their position, polygons and edges."""

    row: I64             # row and column of each split cell at its level
    col: I64
    t_ptr: IDX           # polygons touching split cell b: t_poly[t_ptr[b]:t_ptr[b + 1]]
    t_poly: IDX
    m_f: IDX             # lowest-ranked polygon containing it whole, or -1
    seg_block: IDX       # (block, segment) pairs: the edges touching each split cell
    seg: IDX


class _Builder:
    def __init__(self, geoms: NDArray[np.object_], ranks: _Ranks, leaf_depth: IDX,
                 x0: float, y0: float, sx: float, sy: float, nx: int, ny: int,
                 fanout: int) -> None:
        self.geoms, self.ranks, self.leaf_depth = geoms, ranks, leaf_depth
        # Side tests rely on the interior lying left of every edge: valid, oriented polygons.
        self.sided = np.asarray(shapely.is_valid(geoms), dtype=bool)
        self.x0, self.y0, self.sx, self.sy, self.nx, self.ny = x0, y0, sx, sy, nx, ny
        self.f = fanout
        self.bits = fanout.bit_length() - 1
        self.seg = _segments(geoms, x0, y0, sx, sy)
        self.eps0 = EPS_DEG * max(sx, sy)
        self.list_ids: dict[bytes, int] = {}  # candidate list (ranks, int32 bytes) -> number
        self.list_rows: list[NDArray[np.int32]] = []
        self.side_ids: dict[tuple[int, int, int, int], int] = {}  # (edge, left, right, list)
        self.n_blocks = 0  # blocks allocated so far

    def centres(self, rows: I64, cols: I64, scale: float) -> tuple[F64, F64]:
        x = self.x0 + (cols + 0.5) / (self.sx * scale)
        y = self.y0 + (rows + 0.5) / (self.sy * scale)
        return x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)

    def touched_cells(self, keys: I64, polys: IDX, m_f: IDX, level: int, seg_cell: IDX,
                      segs: IDX) -> tuple[NDArray[np.int32], BOOL, I64, IDX]:
        """Decide touched cells from their touching pairs ``(keys, polys)`` (sorted by key then
        rank, every cell at least once), containing polygon ``m_f`` (one per cell) and the
        touching edges ``segs`` of cell ``seg_cell`` (index into the distinct keys).

        Returns the cells' values (block pointers for split cells, filled in order), which are
        split, and the touching pairs as (cell index, polygon).
        """
        ranks = self.ranks
        new = np.ones(len(keys), dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        idx = np.cumsum(new) - 1
        n = int(idx[-1]) + 1 if len(idx) else 0
        min_t = polys[new]  # pairs are in rank order within a cell
        resolved = ranks.lower(m_f, min_t)
        deepest = np.zeros(n, dtype=np.intp)
        np.maximum.at(deepest, idx, self.leaf_depth[polys])
        leaf = ~resolved & (deepest <= level)
        split = ~resolved & ~leaf
        values = np.empty(n, dtype=np.int64)
        values[resolved] = m_f[resolved]
        # Leaves: candidate lists are the touching polygons plus the containing one.
        leaf_no = np.cumsum(leaf) - 1
        in_leaf = leaf[idx]
        has_f = leaf & (m_f >= 0)
        lk, lp = ranks.pairs(np.concatenate([leaf_no[idx[in_leaf]], leaf_no[has_f]]),
                             np.concatenate([polys[in_leaf], m_f[has_f]]))
        lists = self.intern(lk, lp, int(leaf.sum()))
        leaf_at = np.flatnonzero(leaf)
        values[leaf_at] = _LIST_BASE - lists
        side = self.side_tests(leaf_at, lists, m_f, seg_cell, segs)
        values[leaf_at[side >= 0]] = _SIDE_BASE - side[side >= 0]
        n_split = int(split.sum())
        values[split] = -2 - (self.n_blocks + np.arange(n_split))
        self.n_blocks += n_split
        if self.n_blocks >= (1 << 30) - 2 or max(len(self.list_rows),
                                                 len(self.side_ids)) >= _MAX_ENTRIES:
            raise ValueError("lookup grid too large: make leaf_m or cell_m larger")
        return values.astype(np.int32), split, idx, polys

    def side_tests(self, leaf_at: IDX, lists: I64, m_f: IDX, seg_cell: IDX, segs: IDX) -> I64:
        """Side test numbers for the leaves ``leaf_at`` (cell indexes) that qualify, else -1.

        A leaf qualifies when all its touching edges are one edge (one or two copies, in
        opposite directions, of valid units), and no unit contains it whole.
        """
        seg = self.seg
        n_cells = len(m_f)
        is_leaf = np.zeros(n_cells, dtype=bool)
        is_leaf[leaf_at] = True
        sel = is_leaf[seg_cell]
        cell, sg = seg_cell[sel], segs[sel]
        canon = seg.canon[sg]
        lo = np.full(n_cells, np.iinfo(np.intp).max, dtype=np.intp)
        hi = np.full(n_cells, -1, dtype=np.intp)
        np.minimum.at(lo, cell, canon)
        np.maximum.at(hi, cell, canon)
        count = np.bincount(cell, minlength=n_cells)
        n_fwd = np.bincount(cell, weights=seg.forward[sg], minlength=n_cells).astype(np.intp)
        bad = np.bincount(cell, weights=~self.sided[seg.poly[sg]], minlength=n_cells) > 0
        left = np.full(n_cells, -1, dtype=np.intp)
        right = np.full(n_cells, -1, dtype=np.intp)
        fwd = seg.forward[sg]
        left[cell[fwd]] = seg.poly[sg[fwd]]
        right[cell[~fwd]] = seg.poly[sg[~fwd]]
        ok = ((lo == hi) & (m_f < 0) & ~bad & ((count == 1) | ((count == 2) & (n_fwd == 1)))
              & (left != right))
        out = np.full(len(leaf_at), -1, dtype=np.int64)
        for i in np.flatnonzero(ok[leaf_at]).tolist():
            c = leaf_at[i]
            key = (int(lo[c]), int(left[c]), int(right[c]), int(lists[i]))
            number = self.side_ids.get(key)
            if number is None:
                number = self.side_ids[key] = len(self.side_ids)
            out[i] = number
        return out

    def side_table(self) -> tuple[F64, IDX, IDX, IDX]:
        """Edge end points, left and right units, and fallback list of every side test."""
        table = np.array(list(self.side_ids), dtype=np.intp).reshape(-1, 4)
        return (self.seg.canon_xy[table[:, 0]], table[:, 1].copy(), table[:, 2].copy(),
                table[:, 3].copy())

    def intern(self, leaf: I64, polys: IDX, n: int) -> I64:
        """Numbers of the candidate lists of ``n`` leaves, given as (leaf, polygon) pairs sorted
        by leaf then rank; identical lists share one number, across the whole build."""
        counts = np.bincount(leaf, minlength=n)
        starts = np.cumsum(counts) - counts
        rank = self.ranks.rank[polys].astype(np.int32)
        out = np.empty(n, dtype=np.int64)
        for width in np.unique(counts).tolist():
            leaves = np.flatnonzero(counts == width)
            table = rank[starts[leaves][:, None] + np.arange(width)]
            order = np.lexsort(table.T[::-1])
            table = table[order]
            new = np.ones(len(table), dtype=bool)
            new[1:] = (table[1:] != table[:-1]).any(axis=1)
            numbers = np.empty(int(new.sum()), dtype=np.int64)
            for i, row in enumerate(table[new]):
                key = row.tobytes()
                number = self.list_ids.get(key)
                if number is None:
                    number = self.list_ids[key] = len(self.list_rows)
                    self.list_rows.append(row)
                numbers[i] = number
            out[leaves[order]] = numbers[np.cumsum(new) - 1]
        return out

    def candidate_lists(self) -> tuple[IDX, IDX]:
        """``list_ptr`` and ``list_idx`` (polygons, in rank order) of every list, by number."""
        sizes = np.array([len(r) for r in self.list_rows], dtype=np.intp)
        ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        flat = np.concatenate(self.list_rows) if self.list_rows else np.zeros(0, dtype=np.int32)
        return ptr, self.ranks.poly_of[flat].astype(np.intp)

    def next_blocks(self, rows: I64, cols: I64, split: BOOL, t_idx: IDX, t_poly: IDX,
                    m_f: IDX, seg_cell: IDX, segs: IDX) -> _Blocks:
        """The split cells as blocks of the next level, numbered in cell order."""
        block_of = np.cumsum(split) - 1
        sel = split[t_idx]
        counts = np.bincount(block_of[t_idx[sel]], minlength=int(split.sum()))
        keep = split[seg_cell]
        return _Blocks(row=rows[split], col=cols[split],
                       t_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.intp),
                       t_poly=t_poly[sel], m_f=m_f[split],
                       seg_block=block_of[seg_cell[keep]], seg=segs[keep])

    def level0(self) -> tuple[NDArray[np.int32], _Blocks]:
        nx, ny, geoms, ranks = self.nx, self.ny, self.geoms, self.ranks
        tree = shapely.STRtree(geoms)
        nseg = len(self.seg.poly)
        zeros = np.zeros(nseg, dtype=np.int64)
        item, rows, cols = _rasterise(self.seg, np.arange(nseg), 1.0, self.eps0, zeros,
                                      zeros + nx - 1, zeros, zeros + ny - 1)
        gid = rows * nx + cols
        values = np.full(nx * ny, -1, dtype=np.int32)
        touched = np.zeros(nx * ny, dtype=bool)
        touched[gid] = True
        # Untouched patches: one point test each, through the tree.
        lab, n_comp = ndimage.label(~touched.reshape(ny, nx))
        lab = lab.reshape(-1)
        first = _representatives(lab, n_comp)
        px, py = self.centres(first // nx, first % nx, 1.0)
        pt, pg = tree.query(shapely.points(px, py), predicate="intersects")
        comp_val = np.concatenate([[-1], ranks.min_per_key(pt, pg, n_comp)]).astype(np.int32)
        free = ~touched
        values[free] = comp_val[lab[free]]
        del lab, free
        # Touched cells: polygons whose edges touch them, and any containing them whole.
        keys, polys = ranks.pairs(gid, self.seg.poly[item])
        cells = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
        cx, cy = self.centres(cells // nx, cells % nx, 1.0)
        pt, pg = tree.query(shapely.points(cx, cy), predicate="intersects")
        cell_idx = np.searchsorted(cells, keys)
        touching = np.sort(cell_idx * ranks.n + polys)
        keep = ~_member(pt * ranks.n + pg, touching)
        m_f = ranks.min_per_key(pt[keep], pg[keep], len(cells))
        seg_cell = np.searchsorted(cells, gid)
        vals, split, t_idx, t_poly = self.touched_cells(keys, polys, m_f, 0, seg_cell, item)
        values[cells] = vals
        return values, self.next_blocks(cells // nx, cells % nx, split, t_idx, t_poly, m_f,
                                        seg_cell, item)

    def level(self, k: int, blocks: _Blocks) -> tuple[NDArray[np.int32], _Blocks]:
        """The blocks of level ``k``: the children of the cells split at level ``k - 1``."""
        f, bits, ranks, geoms = self.f, self.bits, self.ranks, self.geoms
        f2 = f * f
        n_blocks = len(blocks.row)
        scale = float(f ** k)
        base_r, base_c = blocks.row << bits, blocks.col << bits
        sb = blocks.seg_block
        item, rows, cols = _rasterise(self.seg, blocks.seg, scale, self.eps0 * scale,
                                      base_c[sb], base_c[sb] + f - 1, base_r[sb],
                                      base_r[sb] + f - 1)
        blk = sb[item]
        child = (blk * f2 + (rows - base_r[blk]) * f + (cols - base_c[blk])).astype(np.int64)
        segs = blocks.seg[item]
        del item, rows, cols, blk

        def rowcol(keys: I64) -> tuple[I64, I64]:
            b, local = keys // f2, keys % f2
            return base_r[b] + local // f, base_c[b] + local % f

        touched = np.zeros(n_blocks * f2, dtype=bool)
        touched[child] = True
        values = np.full(n_blocks * f2, -1, dtype=np.int32)
        t_ptr, t_par, m_f_par = blocks.t_ptr, blocks.t_poly, blocks.m_f
        # Untouched patches inside each block: one test each against the polygons touching
        # the parent (no other polygon's cover changes inside it).
        img = np.zeros((n_blocks, f + 1, f), dtype=bool)
        img[:, :f, :] = ~touched.reshape(n_blocks, f, f)
        lab, n_comp = ndimage.label(img.reshape(n_blocks * (f + 1), f))
        del img
        lab = lab.reshape(n_blocks, f + 1, f)[:, :f, :].reshape(-1)
        first = _representatives(lab, n_comp)
        px, py = self.centres(*rowcol(first.astype(np.int64)), scale)
        rb = first // f2
        owner, off = _ranges((t_ptr[rb + 1] - t_ptr[rb]).astype(np.int64))
        cand = t_par[t_ptr[rb[owner]] + off]
        hit = _covering(geoms, px, py, owner, cand)
        best = ranks.min_per_key(owner[hit], cand[hit], len(first))
        inherited = m_f_par[rb]
        best = np.where(ranks.lower(inherited, best), inherited, best)
        comp_val = np.concatenate([[-1], best]).astype(np.int32)
        free = ~touched
        values[free] = comp_val[lab[free]]
        del lab, free, touched
        # Touched children: their own touching polygons; those of the parent that do not
        # touch them either contain them whole or miss them (one test at the centre).
        keys, polys = ranks.pairs(child, self.seg.poly[segs])
        new = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
        cells = keys[new]
        cell_idx = np.cumsum(new) - 1
        kb = cells // f2
        owner, off = _ranges((t_ptr[kb + 1] - t_ptr[kb]).astype(np.int64))
        cand = t_par[t_ptr[kb[owner]] + off]
        other = ~_member(owner * ranks.n + cand, np.sort(cell_idx * ranks.n + polys))
        owner, cand = owner[other], cand[other]
        crow, ccol = rowcol(cells)
        cx, cy = self.centres(crow, ccol, scale)
        hit = _covering(geoms, cx, cy, owner, cand)
        m_f = ranks.min_per_key(owner[hit], cand[hit], len(cells))
        inherited = m_f_par[kb]
        m_f = np.where(ranks.lower(inherited, m_f), inherited, m_f)
        seg_cell = np.searchsorted(cells, child)
        vals, split, t_idx, t_poly = self.touched_cells(keys, polys, m_f, k, seg_cell, segs)
        values[cells] = vals
        return values, self.next_blocks(crow, ccol, split, t_idx, t_poly, m_f, seg_cell, segs)


def build_grid(geoms: NDArray[np.object_], rank: IDX, leaf_m: F64,
               bounds: tuple[float, float, float, float], cell_m: float,
               m_per_deg: tuple[float, float], fanout: int = 4, max_depth: int = 12
               ) -> LookupGrid:
    """Build the grid over prepared polygons ``geoms`` (EPSG:4490), none of them empty.

    ``rank`` orders the polygons (the lowest-ranked wins where several cover a point);
    ``leaf_m[i]`` is the cell edge in metres at which cells on polygon ``i``'s boundary stop
    being split; ``bounds`` the extent to cover; ``cell_m`` the level-0 cell edge in metres;
    ``m_per_deg`` the metres per degree of longitude and of latitude in the area.
    """
    if fanout < 2 or fanout & (fanout - 1):
        raise ValueError("fanout must be a power of two")
    minx, miny, maxx, maxy = bounds
    dx, dy = cell_m / m_per_deg[0], cell_m / m_per_deg[1]
    # Two cells of margin all round: the outer ring is more than a cell away from every edge,
    # so it is untouched and -1, and points off the grid can be clamped onto it.
    x0, y0 = minx - 2 * dx, miny - 2 * dy
    nx = int(np.floor((maxx - x0) / dx)) + 3
    ny = int(np.floor((maxy - y0) / dy)) + 3
    depth = np.ceil(np.log(cell_m / np.maximum(leaf_m, 1e-3)) / np.log(fanout))
    leaf_depth = np.clip(np.nan_to_num(depth, nan=0.0), 0, max_depth).astype(np.intp)
    ranks = _Ranks(rank)
    b = _Builder(geoms, ranks, leaf_depth, x0, y0, 1.0 / dx, 1.0 / dy, nx, ny, fanout)
    level0, blocks = b.level0()
    levels: list[NDArray[np.int32]] = []
    while len(blocks.row):
        values, blocks = _level_in_chunks(b, len(levels) + 1, blocks)
        levels.append(values)
    list_ptr, list_idx = b.candidate_lists()
    side_xy, side_left, side_right, side_list = b.side_table()
    n_blocks, n_lists = b.n_blocks, len(list_ptr) - 1
    for values in [level0, *levels]:
        side = values <= _SIDE_BASE
        listed = (values <= _LIST_BASE) & ~side
        values[listed] = -2 - (n_blocks + (_LIST_BASE - values[listed]))
        values[side] = -2 - (n_blocks + n_lists + (_SIDE_BASE - values[side]))
    blocks_arr = np.concatenate(levels) if levels else np.zeros(0, dtype=np.int32)
    return LookupGrid(x0=x0, y0=y0, sx=1.0 / dx, sy=1.0 / dy, nx=nx, ny=ny, fanout=fanout,
                      level0=level0, blocks=blocks_arr, n_blocks=n_blocks, list_ptr=list_ptr,
                      list_idx=list_idx, side_xy=side_xy, side_left=side_left,
                      side_right=side_right, side_list=side_list, depth=len(levels),
                      cell_m=cell_m)


_BLOCK_CHUNK = 1 << 14  # blocks built together (bounds the build's temporaries' memory)


def _level_in_chunks(b: _Builder, k: int, blocks: _Blocks) -> tuple[NDArray[np.int32], _Blocks]:
    """``b.level(k, blocks)`` over runs of at most ``_BLOCK_CHUNK`` blocks; same result.

    Blocks are independent, and the builder numbers the next level's blocks in the order the
    runs come, so concatenating the runs' results gives the whole level.
    """
    n = len(blocks.row)
    if n <= _BLOCK_CHUNK:
        return b.level(k, blocks)
    order = np.argsort(blocks.seg_block, kind="stable")
    seg_block, seg = blocks.seg_block[order], blocks.seg[order]
    values: list[NDArray[np.int32]] = []
    nexts: list[_Blocks] = []
    for lo in range(0, n, _BLOCK_CHUNK):
        hi = min(lo + _BLOCK_CHUNK, n)
        s0, s1 = np.searchsorted(seg_block, [lo, hi])
        t0, t1 = blocks.t_ptr[lo], blocks.t_ptr[hi]
        part = _Blocks(row=blocks.row[lo:hi], col=blocks.col[lo:hi],
                       t_ptr=blocks.t_ptr[lo:hi + 1] - t0, t_poly=blocks.t_poly[t0:t1],
                       m_f=blocks.m_f[lo:hi], seg_block=seg_block[s0:s1] - lo, seg=seg[s0:s1])
        vals, nxt = b.level(k, part)
        values.append(vals)
        nexts.append(nxt)
    offsets = np.cumsum([0] + [len(p.row) for p in nexts])
    t_offsets = np.cumsum([0] + [len(p.t_poly) for p in nexts])
    merged = _Blocks(
        row=np.concatenate([p.row for p in nexts]), col=np.concatenate([p.col for p in nexts]),
        t_ptr=np.concatenate([[0]] + [p.t_ptr[1:] + t_offsets[i] for i, p in enumerate(nexts)]
                             ).astype(np.intp),
        t_poly=np.concatenate([p.t_poly for p in nexts]),
        m_f=np.concatenate([p.m_f for p in nexts]),
        seg_block=np.concatenate([p.seg_block + offsets[i] for i, p in enumerate(nexts)]),
        seg=np.concatenate([p.seg for p in nexts]))
    return np.concatenate(values), merged


_LOCATE_CHUNK = 1 << 18  # points per pass: keeps the temporaries in the CPU caches


def locate_grid(grid: LookupGrid, geoms: NDArray[np.object_], x: F64, y: F64) -> IDX:
    """The polygon covering each point (lowest rank wins); -1 where none does or not finite."""
    if len(x) <= _LOCATE_CHUNK:
        return _locate_chunk(grid, geoms, x, y)
    out = np.empty(len(x), dtype=np.intp)
    for start in range(0, len(x), _LOCATE_CHUNK):
        part = slice(start, start + _LOCATE_CHUNK)
        out[part] = _locate_chunk(grid, geoms, x[part], y[part])
    return out


def _locate_chunk(grid: LookupGrid, geoms: NDArray[np.object_], x: F64, y: F64) -> IDX:
    # Level-0 cell coordinates, the same arithmetic as the edges' (see _segments). Points off
    # the grid, NaN and infinities are clamped onto its outer ring, which answers -1.
    u = x - grid.x0
    u *= grid.sx
    np.fmax(u, 0.0, out=u)
    np.fmin(u, grid.nx - 0.5, out=u)
    w = y - grid.y0
    w *= grid.sy
    np.fmax(w, 0.0, out=w)
    np.fmin(w, grid.ny - 0.5, out=w)
    cell = w.astype(np.intp)
    cell *= grid.nx
    cell += u.astype(np.intp)
    out = grid.level0[cell]
    del cell
    pending = np.flatnonzero(out < -1)
    f = grid.fanout
    f2, mask, n_blocks = f * f, f - 1, grid.n_blocks
    leaf_pts: list[IDX] = []
    leaf_ids: list[IDX] = []
    scale = 1.0
    while len(pending):
        ptr = -2 - out[pending].astype(np.intp)
        leaf = ptr >= n_blocks
        if leaf.any():
            leaf_pts.append(pending[leaf])
            leaf_ids.append(ptr[leaf] - n_blocks)
            pending = pending[~leaf]
            ptr = ptr[~leaf]
        scale *= f
        iu = (u[pending] * scale).astype(np.intp)
        iu &= mask
        iw = (w[pending] * scale).astype(np.intp)
        iw &= mask
        iw *= f
        iw += iu
        ptr *= f2
        ptr += iw
        v = grid.blocks[ptr]
        out[pending] = v
        pending = pending[v < -1]
    result = out.astype(np.intp)
    if leaf_pts:
        pts = np.concatenate(leaf_pts)
        result[pts] = _exact(grid, geoms, x[pts], y[pts], np.concatenate(leaf_ids))
    return result


def _exact(grid: LookupGrid, geoms: NDArray[np.object_], x: F64, y: F64, entries: IDX) -> IDX:
    """Answers for points in boundary leaves: side tests where certain, else GEOS."""
    result = np.full(len(x), -1, dtype=np.intp)
    lists = entries.copy()
    side = np.flatnonzero(entries >= grid.n_lists)
    if len(side):
        e = entries[side] - grid.n_lists
        xy = grid.side_xy[e]
        px, py = x[side], y[side]
        # orient2d(a, b, p) > 0 where p lies left of a -> b.
        detleft = (xy[:, 0] - px) * (xy[:, 3] - py)
        detright = (xy[:, 1] - py) * (xy[:, 2] - px)
        det = detleft - detright
        bound = _CCW_ERRBOUND * (np.abs(detleft) + np.abs(detright))
        left, right = det > bound, det < -bound
        result[side[left]] = grid.side_left[e[left]]
        result[side[right]] = grid.side_right[e[right]]
        lists[side] = grid.side_list[e]
        lists[side[left | right]] = -1
    todo = np.flatnonzero(lists >= 0)
    start = grid.list_ptr[lists[todo]]
    size = grid.list_ptr[lists[todo] + 1] - start
    j = 0
    while len(todo):
        keep = size > j
        todo, start, size = todo[keep], start[keep], size[keep]
        if not len(todo):
            break
        cand = grid.list_idx[start + j]
        hit = np.asarray(shapely.intersects_xy(geoms[cand], x[todo], y[todo]), dtype=bool)
        result[todo[hit]] = cand[hit]
        todo, start, size = todo[~hit], start[~hit], size[~hit]
        j += 1
    return result
