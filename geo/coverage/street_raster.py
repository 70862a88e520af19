"""A raster of the nearest street point: per pixel of a square grid over a walking network, which
edge point is nearest and how far it is — the index behind catchment polygons.

Built lazily by tiles of :data:`TILE` pixels (only where catchments are drawn) and cached per
network, pixel size and reach:

- every segment of every edge is sampled every ``0.7 · pixel`` metres (both ends included);
- in a tile (plus a margin) each sample paints the pixel it falls in; one Euclidean distance
  transform (``scipy.ndimage.distance_transform_edt`` with ``return_indices``) gives every
  pixel its nearest painted pixel, hence a candidate segment;
- the pixel centre is projected exactly on that segment: ``dist`` is the exact distance to a
  real point of the network (never less than the true distance to the network) and
  ``pos``/``rest`` that point's metres from the edge's ``u`` and to its ``v``; ``near`` is
  ``dist / inner`` for the caller's inner distance.

Pixels farther than ``reach`` from every street get ``near = inf`` and the sentinel node
``n_nodes`` for both ends (callers append ``inf`` to their node distances).
The samples themselves are kept (:meth:`StreetRaster.samples`): callers use them to make sure
every reached street point ends up inside a polygon.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage

from wangge.geo.coverage.network import WalkNetwork

__all__ = ["BIN", "TILE", "StreetRaster", "own_edges", "street_raster"]

TILE = 128  # pixels per tile side
BIN = 32    # pixels per side of the bins samples are sorted by


@dataclass(frozen=True)
class _Tile:
    """Per-pixel arrays of one tile, its first column ``i0`` and row ``j0``."""

    i0: int
    j0: int
    u: NDArray[np.int32]
    v: NDArray[np.int32]
    pos: NDArray[np.float32]
    rest: NDArray[np.float32]
    near: NDArray[np.float32]
    edge: NDArray[np.int32]


@dataclass(frozen=True)
class Samples:
    """Street samples: the raster square holding each (lower-left pixel ``ix``, ``iy``) and the
    sample's edge, its ends and metres from ``u`` / to ``v``."""

    ix: NDArray[np.int32]
    iy: NDArray[np.int32]
    edge: NDArray[np.int32]
    u: NDArray[np.int32]
    v: NDArray[np.int32]
    pos: NDArray[np.float64]
    rest: NDArray[np.float64]


class StreetRaster:
    """Nearest street point per pixel (see the module docstring)."""

    def __init__(self, network: WalkNetwork, pixel: float, reach: float, inner: float) -> None:
        self.network = network
        self.pixel = float(pixel)
        self.reach = float(reach)
        self.inner = float(inner)
        self.spacing = 0.7 * self.pixel
        minx, miny, maxx, maxy = shapely.total_bounds(network.geometry)
        pad = self.reach + 2 * self.pixel
        self.x0, self.y0 = minx - pad, miny - pad
        self.nx = int(math.ceil((maxx + pad - self.x0) / self.pixel))
        self.ny = int(math.ceil((maxy + pad - self.y0) / self.pixel))
        self.ntx = -(-self.nx // TILE)
        self.margin = int(math.ceil(self.reach / self.pixel)) + 2
        self._tiles: dict[int, _Tile] = {}
        self._seg = segs = network.segments
        seg_len = np.hypot(*(segs.b - segs.a).T)
        # Samples every 0.7 pixel along each segment, ends included.
        k = np.maximum(np.ceil(seg_len / self.spacing).astype(np.int64), 1) + 1
        sid = np.repeat(np.arange(len(seg_len)), k)
        first = np.repeat(np.r_[0, np.cumsum(k)[:-1]], k)
        frac = (np.arange(int(k.sum())) - first) / np.repeat(k - 1, k)
        sx = segs.a[sid, 0] + frac * (segs.b[sid, 0] - segs.a[sid, 0])
        sy = segs.a[sid, 1] + frac * (segs.b[sid, 1] - segs.a[sid, 1])
        # The pixel a sample falls in (for painting) and the raster square holding it.
        px = np.floor((sx - self.x0) / self.pixel).astype(np.int32)
        py = np.floor((sy - self.y0) / self.pixel).astype(np.int32)
        self.nbx, self.nby = -(-self.nx // BIN), -(-self.ny // BIN)
        key = (py // BIN) * self.nbx + px // BIN
        order = np.argsort(key, kind="stable")
        self._sample_ptr = np.searchsorted(key[order], np.arange(self.nbx * self.nby + 1))
        self._px, self._py, self._sid = px[order], py[order], sid[order]
        e = segs.edge[self._sid]
        pos = segs.start[self._sid] + frac[order] * segs.length[self._sid]
        self._ints = np.stack([np.floor((sx[order] - self.x0) / self.pixel - 0.5),
                               np.floor((sy[order] - self.y0) / self.pixel - 0.5),
                               e, network.u[e], network.v[e]]).astype(np.int32)
        self._floats = np.stack([pos, network.length_m[e] - pos])

    # ---- fields -------------------------------------------------------------------------------
    def clip(self, x: float, y: float, radius: float) -> tuple[int, int, int, int]:
        """Pixel rectangle ``(i0, j0, i1, j1)`` of the square of ``radius`` around ``(x, y)``."""
        p = self.pixel
        i0 = min(max(int((x - radius - self.x0) / p), 0), self.nx)
        j0 = min(max(int((y - radius - self.y0) / p), 0), self.ny)
        i1 = min(max(int((x + radius - self.x0) / p) + 2, i0), self.nx)
        j1 = min(max(int((y + radius - self.y0) / p) + 2, j0), self.ny)
        return i0, j0, i1, j1

    def field(self, d: NDArray[np.float64], i0: int, j0: int, i1: int, j1: int,
              sites: tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]
              ) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
        """``(τ, near)`` over a rectangle: metres walked to each pixel's street point (``d``: node
        distances with ``inf`` appended for the sentinel; on an edge holding one of ``sites``
        (edge, offset, access) also access + along the edge) and the street point's distance /
        inner. Missing tiles are built."""
        tau = np.full((j1 - j0, i1 - i0), np.inf)
        near = np.full((j1 - j0, i1 - i0), np.inf, np.float32)
        for ty in range(j0 // TILE, -(-j1 // TILE)):
            for tx in range(i0 // TILE, -(-i1 // TILE)):
                t = self._tile(tx, ty)
                a0, a1 = max(i0, t.i0), min(i1, t.i0 + t.u.shape[1])
                b0, b1 = max(j0, t.j0), min(j1, t.j0 + t.u.shape[0])
                if a0 >= a1 or b0 >= b1:
                    continue
                dst = (slice(b0 - j0, b1 - j0), slice(a0 - i0, a1 - i0))
                src = (slice(b0 - t.j0, b1 - t.j0), slice(a0 - t.i0, a1 - t.i0))
                pos = t.pos[src]
                part = np.minimum(d[t.u[src]] + pos, d[t.v[src]] + t.rest[src])
                own_edges(part, t.edge[src], pos, sites)
                tau[dst] = part
                near[dst] = t.near[src]
        return tau, near

    def samples(self, i0: int, j0: int, i1: int, j1: int) -> Samples:
        """Street samples of the bins under the rectangle (callers check ``ix``/``iy``)."""
        ptr, row = self._sample_ptr, self.nbx
        c0, c1 = i0 // BIN, min(-(-i1 // BIN), self.nbx)
        rows = range(j0 // BIN, min(-(-j1 // BIN), self.nby))
        spans = [(ptr[r * row + c0], ptr[r * row + c1]) for r in rows]
        ints = np.concatenate([self._ints[:, a:b] for a, b in spans], axis=1)
        floats = np.concatenate([self._floats[:, a:b] for a, b in spans], axis=1)
        return Samples(*ints, *floats)

    # ---- tiles --------------------------------------------------------------------------------
    def _tile(self, tx: int, ty: int) -> _Tile:
        key = ty * self.ntx + tx
        if key not in self._tiles:
            self._tiles[key] = self._build_tile(tx, ty)
        return self._tiles[key]

    def _build_tile(self, tx: int, ty: int) -> _Tile:
        m, p = self.margin, self.pixel
        i0, j0 = tx * TILE, ty * TILE
        i1, j1 = min(i0 + TILE, self.nx), min(j0 + TILE, self.ny)
        li0, lj0 = i0 - m, j0 - m
        w, h = i1 - i0 + 2 * m, j1 - j0 + 2 * m
        painted = np.full((h, w), -1, np.int64)
        c0, c1 = max(li0 // BIN, 0), min(-(-(li0 + w) // BIN), self.nbx)
        for row in range(max(lj0 // BIN, 0), min(-(-(lj0 + h) // BIN), self.nby)):
            sl = slice(self._sample_ptr[row * self.nbx + c0], self._sample_ptr[row * self.nbx + c1])
            cx, cy = self._px[sl] - li0, self._py[sl] - lj0
            ok = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
            painted[cy[ok], cx[ok]] = self._sid[sl][ok]
        shape = (j1 - j0, i1 - i0)
        tile = _blank(i0, j0, shape, self.network.n_nodes)
        if not (painted >= 0).any():
            return tile
        approx, (ny_, nx_) = ndimage.distance_transform_edt(painted < 0, return_indices=True)
        inner = (slice(m, m + shape[0]), slice(m, m + shape[1]))
        rows, cols = np.nonzero(approx[inner] * p <= self.reach + 2 * p)
        seg = painted[ny_[inner][rows, cols], nx_[inner][rows, cols]]
        dist, pos = self._seg.project(seg, self.x0 + (i0 + cols + 0.5) * p,
                                      self.y0 + (j0 + rows + 0.5) * p)
        e = self._seg.edge[seg]
        close = dist <= self.reach + p
        rows, cols, e, pos, dist = rows[close], cols[close], e[close], pos[close], dist[close]
        tile.u[rows, cols] = self.network.u[e]
        tile.v[rows, cols] = self.network.v[e]
        tile.pos[rows, cols] = pos
        tile.rest[rows, cols] = self.network.length_m[e] - pos
        tile.near[rows, cols] = dist / self.inner
        tile.edge[rows, cols] = e
        return tile


def own_edges(tau: NDArray[np.float64], edge: NDArray[np.int32], pos: NDArray[np.floating],
               sites: tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]) -> None:
    """On a site's own edge the walk goes straight along it: ``τ = min(τ, access + |pos − offset|)``."""
    s_edge, s_off, s_acc = sites
    if len(s_edge) > 1:
        on = np.isin(edge, s_edge)
        if not on.any():
            return
        here = np.flatnonzero(np.isin(s_edge, edge[on]))
        s_edge, s_off, s_acc = s_edge[here], s_off[here], s_acc[here]
    for e, off, acc in zip(s_edge.tolist(), s_off.tolist(), s_acc.tolist(), strict=True):
        own = edge == e
        if own.any():
            tau[own] = np.minimum(tau[own], acc + np.abs(pos[own] - off))


def _blank(i0: int, j0: int, shape: tuple[int, int], n_nodes: int) -> _Tile:
    f32 = np.float32
    return _Tile(i0, j0, np.full(shape, n_nodes, np.int32), np.full(shape, n_nodes, np.int32),
                  np.zeros(shape, f32), np.zeros(shape, f32), np.full(shape, np.inf, f32),
                  np.full(shape, -1, np.int32))


_CACHE: weakref.WeakKeyDictionary[WalkNetwork, dict[tuple[float, float, float], StreetRaster]] = (
    weakref.WeakKeyDictionary())


def street_raster(network: WalkNetwork, pixel: float, reach: float, inner: float) -> StreetRaster:
    """The network's raster for these settings, made once per network and kept."""
    per_net = _CACHE.setdefault(network, {})
    key = (float(pixel), float(reach), float(inner))
    if key not in per_net:
        per_net[key] = StreetRaster(network, pixel, reach, inner)
    return per_net[key]
