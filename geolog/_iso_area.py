"""Isochrone areas: a time grid of the reached roads, closed and outlined per budget.

Private to :mod:`geolog._isochrones`. Every edge geometry is sampled once per
routing graph (a vertex at least every :data:`STEP_M` metres, with its
fraction along the edge). A query turns the per-edge entry times into a time
per sample, keeps the minimum per grid cell, and per budget ``T``

1. takes the cells with a road reached within ``T`` (partial edges at the
   frontier to within one sample step) and the cells around them (a margin
   of one cell, ``buffer_m`` wide);
2. ors in their morphological closing with radius ``fill_m``, on cells twice
   as wide (dilation by ``buffer_m + fill_m``, erosion by ``fill_m``, both by
   Euclidean distance transforms): unreached land a disk of radius
   ``fill_m`` cannot fit into is filled, larger unreached areas stay outside
   or become holes, and no reached road cell is ever lost;
3. outlines the cells as polygons (a filled contour at 0.5, contourpy).

The cell masks grow with ``T`` (each is or-ed with the previous), and every
contour of one grid crosses the same mid-points between cell centres, so a
larger budget's polygon contains a smaller one's exactly.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy import ndimage

from ._graph import RoutingGraph

#: Longest distance between the samples of an edge geometry (metres).
STEP_M = 20.0
#: A grid is coarsened beyond the default cell size to hold at most this many cells.
MAX_CELLS = 4_000_000


def _samples(g: RoutingGraph, geoms_m: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(xy, frac, offsets)``: the vertices of every edge every ``STEP_M`` (cached).

    Edge row ``r`` owns vertices ``offsets[r]:offsets[r + 1]``; ``frac`` is each
    vertex's fraction of its edge's length (0 at ``u``, 1 at ``v``).
    """
    if "iso_samples" not in g._extra:
        seg = shapely.segmentize(geoms_m, STEP_M)
        xy, ids = shapely.get_coordinates(seg, return_index=True)
        step = np.zeros(len(xy))
        same = ids[1:] == ids[:-1]
        step[1:] = np.where(same, np.hypot(*(xy[1:] - xy[:-1]).T), 0.0)
        cum = np.cumsum(step)
        offsets = np.searchsorted(ids, np.arange(len(geoms_m) + 1))
        first = offsets[:-1][ids]
        along = cum - cum[first]
        total = np.maximum(shapely.length(geoms_m), 1e-9)
        frac = np.clip(along / total[ids], 0.0, 1.0)
        g._extra["iso_samples"] = (xy, frac, offsets)
    return g._extra["iso_samples"]


def _gather(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sample positions of edge ``rows`` and, per sample, its index into ``rows``."""
    counts = offsets[rows + 1] - offsets[rows]
    owner = np.repeat(np.arange(len(rows)), counts)
    start = np.cumsum(counts) - counts
    pos = offsets[rows][owner] + np.arange(int(counts.sum())) - start[owner]
    return pos, owner


def sample_times(
    g: RoutingGraph,
    geoms_m: np.ndarray,
    entry_s: np.ndarray,
    origin_rows: np.ndarray,
    origin_fracs: np.ndarray,
    origin_m: np.ndarray,
    limit_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(xy, t)``: road samples reached within ``limit_s`` and their times (seconds).

    ``entry_s`` is the time each edge row can be started along (``inf``: not
    reached); the origin's own edges are reached from their snapped fractions
    onwards, and the snapped origin ``origin_m`` (metres) at time 0.
    """
    xy_all, frac, offsets = _samples(g, geoms_m)
    rows = np.flatnonzero(np.isfinite(entry_s))
    pos, owner = _gather(offsets, rows)
    r = rows[owner]
    t = entry_s[r] + frac[pos] * np.where(g.w[r] > 0, g.w[r], 0.0)
    o_pos, o_owner = _gather(offsets, origin_rows)
    o_rows = origin_rows[o_owner]
    ahead = frac[o_pos] - origin_fracs[o_owner]
    o_t = np.where(ahead >= 0, ahead * np.where(g.w[o_rows] > 0, g.w[o_rows], 0.0), np.inf)
    xy = np.concatenate([xy_all[pos], xy_all[o_pos], origin_m.reshape(1, 2)])
    t = np.concatenate([t, o_t, [0.0]])
    keep = t <= limit_s
    return xy[keep], t[keep]


def _grid(xy: np.ndarray, t: np.ndarray, cell: float, reach_m: float) -> tuple[np.ndarray, tuple]:
    """Minimum sample time per cell (``inf`` where none) and ``(x0, y1, cell)`` of the grid.

    The grid extends ``reach_m`` and two cells beyond the samples; its sides
    are even numbers of cells (see :func:`_closed`).
    """
    x, y = xy[:, 0], xy[:, 1]  # column reductions: much faster than min(axis=0) on (n, 2)
    lo = np.array([x.min(), y.min()])
    hi = np.array([x.max(), y.max()])
    cell = max(cell, math.sqrt(float(np.prod(hi - lo + 2 * reach_m)) / MAX_CELLS))
    lo, hi = lo - reach_m - 2 * cell, hi + reach_m + 2 * cell
    x0 = math.floor(lo[0] / cell) * cell
    y1 = math.ceil(hi[1] / cell) * cell
    nx = 2 * math.ceil(((hi[0] - x0) / cell + 1) / 2)
    ny = 2 * math.ceil(((y1 - lo[1]) / cell + 1) / 2)
    ix = ((x - x0) / cell).astype(np.int64)
    iy = ((y1 - y) / cell).astype(np.int64)
    grid = np.full(ny * nx, np.inf)
    np.minimum.at(grid, iy * nx + ix, t)
    return grid.reshape(ny, nx), (x0, y1, cell)


def _closed(road: np.ndarray, cell: float, buffer_m: float, fill_m: float) -> np.ndarray:
    """Road cells with a margin of one cell, or-ed with their closing by ``fill_m`` metres.

    The closing (dilation by ``buffer_m + fill_m``, erosion by ``fill_m``, both
    by Euclidean distance transforms) runs on cells twice as wide: it only
    fills land between roads, and costs a quarter.
    """
    near = road.copy()  # 3 x 3 dilation, separably
    near[1:] |= road[:-1]
    near[:-1] |= road[1:]
    rows = near.copy()
    near[:, 1:] |= rows[:, :-1]
    near[:, :-1] |= rows[:, 1:]
    if fill_m <= 0:
        return near
    coarse = road[::2, ::2] | road[1::2, ::2] | road[::2, 1::2] | road[1::2, 1::2]
    wide = 2 * cell
    grown = ndimage.distance_transform_edt(~coarse) * wide <= buffer_m + fill_m
    closed = ndimage.distance_transform_edt(grown) * wide > fill_m
    return near | closed.repeat(2, axis=0).repeat(2, axis=1)


def _outline(mask: np.ndarray, frame: tuple) -> shapely.Geometry:
    """The outline of ``mask`` as one (Multi)Polygon in the grid's metres.

    Filled contour at 0.5 through the cell centres (contourpy's marching
    squares): boundaries run between cell centres with 45° corners. For 0/1
    grids every crossing lies mid-way between two centres, so the polygons of
    nested masks are nested exactly.
    """
    import contourpy

    x0, y1, cell = frame
    ny, nx = mask.shape
    x = x0 + (np.arange(nx) + 0.5) * cell
    y = y1 - (np.arange(ny) + 0.5) * cell
    gen = contourpy.contour_generator(
        x, y, mask.view(np.uint8), name="serial", fill_type=contourpy.FillType.OuterOffset
    )
    points, offsets = gen.filled(0.5, 1.5)
    polys = []
    for p, o in zip(points, offsets, strict=True):
        rings = [_corners(p[i:j]) for i, j in zip(o[:-1], o[1:], strict=True)]
        polys.append(shapely.Polygon(rings[0], rings[1:]))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _corners(ring: np.ndarray) -> np.ndarray:
    """A closed ring without the vertices inside its horizontal and vertical runs.

    Diagonal runs keep every vertex: their mid-points are collinear in metres
    but not after the float transform to lon/lat, and a larger budget's ring
    may turn at one of them; keeping them keeps the nesting exact.
    """
    d = np.diff(ring, axis=0)
    straight = ((d[:-1, 0] == 0) & (d[1:, 0] == 0)) | ((d[:-1, 1] == 0) & (d[1:, 1] == 0))
    keep = np.concatenate([[True], ~straight, [True]])
    return ring[keep]


def areas(
    xy: np.ndarray,
    t: np.ndarray,
    times: np.ndarray,
    *,
    buffer_m: float,
    fill_m: float,
) -> list[shapely.Geometry]:
    """One polygon (metres) per budget in ``times`` (ascending), each containing the previous.

    Cells are ``buffer_m`` wide (at least :data:`STEP_M`, coarser when the
    grid would exceed :data:`MAX_CELLS`).
    """
    cell = max(buffer_m, STEP_M)
    grid, frame = _grid(xy, t, cell, buffer_m + fill_m)
    cell = frame[2]
    out, prev = [], None
    for T in times:
        mask = _closed(grid <= T, cell, buffer_m, fill_m)
        if prev is not None:
            mask |= prev
        prev = mask
        out.append(_outline(mask, frame))
    return out
