"""DEM samples along road chains, and the bridges and tunnels that take none.

Every segment is densified to at most half a DEM cell and all points are
sampled bilinearly in one call, with the DEM's vertical error at each sample;
bridge and tunnel nodes that touch no road are interpolated along their
structures (:mod:`geolog.drape` step 2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._geometry import metric_offsets
from ._road_chains import Segments, group_bounds

if TYPE_CHECKING:
    from .terrain import DEM

logger = logging.getLogger("geolog.drape")


@dataclass
class Samples:
    """Densified, sampled segments of whole chains (forward direction)."""

    segs: np.ndarray  # local segment -> segment index in Segments
    chain: np.ndarray  # local segment -> local chain (0..k-1)
    length: np.ndarray  # local segment -> length (m)
    seg: np.ndarray  # sample -> local segment (samples grouped by segment, chain order)
    starts: np.ndarray  # local segment -> first sample
    ends: np.ndarray  # local segment -> last sample
    s: np.ndarray  # sample -> distance from the segment's start (m)
    G: np.ndarray  # sample -> global axis: chains laid end to end, 1 m apart
    c_lo: np.ndarray  # local chain -> first sample
    c_hi: np.ndarray  # local chain -> last sample
    c_G0: np.ndarray  # local chain -> G of its start
    c_len: np.ndarray  # local chain -> length (m)
    x: np.ndarray  # sample coordinates in the DEM grid CRS
    y: np.ndarray
    z_raw: np.ndarray  # bilinear samples
    filled: np.ndarray  # sample touched a void-filled cell
    sd: np.ndarray  # sample -> vertical error of the DEM there (m, 1 sigma)


def _densify(coords: np.ndarray, group: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert evenly spaced points so no gap exceeds ``step``, as :func:`shapely.segmentize`.

    ``coords`` are the vertices of many lines, ``group`` their line index
    (sorted). Pure numpy: no geometry objects are created (thousands of them
    wake Python's garbage collector, which costs more than the sampling).
    """
    nv = len(coords)
    same = group[1:] == group[:-1]
    d = np.hypot(*(coords[1:] - coords[:-1]).T)
    k = np.ones(nv, dtype=np.int64)  # points emitted from each vertex, up to the next one
    k[:-1] = np.where(same, np.maximum(np.ceil(d / step), 1), 1).astype(np.int64)
    v = np.repeat(np.arange(nv), k)
    j = np.arange(len(v)) - np.repeat(np.cumsum(k) - k, k)
    has_next = np.r_[same, False][v]
    nxt = np.minimum(v + 1, nv - 1)
    delta = np.where(has_next[:, None], coords[nxt] - coords[v], 0.0)
    pts = coords[v] + (j / k[v])[:, None] * delta
    return pts, group[v]


def sample_segments(segs: Segments, dem: DEM, sel: np.ndarray | None = None) -> Samples:
    """Densify (≤ half a DEM cell) and sample, in one call, the segments ``sel`` (whole chains)."""
    index = np.arange(len(segs.rep)) if sel is None else np.flatnonzero(sel)
    m = len(index)
    keep = np.ones(len(segs.cidx), dtype=bool) if sel is None else sel[segs.cidx]
    pos = np.full(len(segs.rep), -1, dtype=np.int64)
    pos[index] = np.arange(m)
    coords = segs.coords[keep]
    if not dem.crs.is_geographic:
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", dem.crs.to_wkt(), always_xy=True)
        coords = np.column_stack(tr.transform(coords[:, 0], coords[:, 1]))
    pts, e = _densify(coords, pos[segs.cidx[keep]], 0.5 * min(dem.res))
    s0, s1 = group_bounds(e, m)
    x, y = pts[:, 0], pts[:, 1]
    lengths = segs.length[index]
    # distance along each segment, metres, rescaled to the network's length_m
    dx, dy = np.diff(x), np.diff(y)
    if dem.crs.is_geographic:
        d = np.hypot(*metric_offsets(dx, dy, 0.5 * (y[1:] + y[:-1])))
    else:
        d = np.hypot(dx, dy)
    d[e[1:] != e[:-1]] = 0.0
    cum = np.r_[0.0, np.cumsum(d)]
    s = cum - cum[s0][e]
    total = s[s1]
    scale = np.divide(lengths, total, out=np.ones(m), where=total > 0)
    s = s * scale[e]
    s[s1] = lengths  # exact, so a segment's end and the next one's start coincide
    # chains end to end on one axis; a 1 m gap between chains
    chain_raw = segs.chain[index]
    c_first = np.r_[True, chain_raw[1:] != chain_raw[:-1]]
    chain = np.cumsum(c_first) - 1
    last = np.r_[c_first[1:], True]
    off = np.r_[0.0, np.cumsum(lengths + np.where(last, 1.0, 0.0))[:-1]]
    G = np.maximum.accumulate(s + off[e])
    k = chain[-1] + 1 if m else 0
    c_len = np.bincount(chain, weights=lengths, minlength=k)
    c_G0 = off[c_first]
    c_lo = s0[c_first]
    c_hi = s1[last]
    z_raw, filled = dem._sample(x, y, grid_xy=True)
    sd = dem._error_sd(x, y)
    return Samples(
        index, chain, lengths, e, s0, s1, s, G, c_lo, c_hi, c_G0, c_len, x, y, z_raw, filled, sd
    )


def structure_mask(edges: pd.DataFrame) -> np.ndarray:
    """Bridges and tunnels: tag present and not 'no'."""
    mask = np.zeros(len(edges), dtype=bool)
    for col in ("bridge", "tunnel"):
        if col in edges.columns:
            v = edges[col]
            tagged = v.notna().to_numpy(dtype=bool)
            text = v[tagged].astype(str).str.lower()
            mask[np.flatnonzero(tagged)[(text != "no").to_numpy(dtype=bool)]] = True
    return mask


def interpolate_structure_nodes(
    z_nodes: np.ndarray, u: np.ndarray, v: np.ndarray, lengths: np.ndarray, structure: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes touched only by bridges/tunnels: elevation interpolated along the structure.

    Nodes with no road edge and at least two structure neighbours get the
    solution of the discrete Laplace equation (weights 1/length) with the
    other nodes fixed, which on a chain is linear interpolation by distance.
    Returns the new elevations and the mask of nodes that were interpolated.
    """
    n = len(z_nodes)
    on_road = np.zeros(n, dtype=bool)
    on_road[u[~structure]] = True
    on_road[v[~structure]] = True
    on_struct = np.zeros(n, dtype=bool)
    on_struct[u[structure]] = True
    on_struct[v[structure]] = True
    su, sv = u[structure], v[structure]
    keep = su != sv
    su, sv = su[keep], sv[keep]
    # interior nodes of a structure: no road edge and >= 2 distinct structure neighbours
    # (a structure's dead end stays on the terrain)
    pairs = np.unique(np.column_stack([np.minimum(su, sv), np.maximum(su, sv)]), axis=0)
    deg = np.bincount(pairs.ravel(), minlength=n)
    free = on_struct & ~on_road & (deg >= 2)
    if not free.any():
        return z_nodes, free
    w = 1.0 / np.maximum(lengths[structure][keep], 0.01)
    # work on the structure nodes only (a few hundred): dense numpy, no scipy import
    local = np.flatnonzero(on_struct)
    k = len(local)
    if k > 4000:
        logger.warning("%d bridge/tunnel nodes: too many to interpolate, kept on the terrain", k)
        return z_nodes, np.zeros(n, dtype=bool)
    li = np.full(n, -1, dtype=np.int64)
    li[local] = np.arange(k)
    # symmetric weights; both rows of a two-way structure add to the same link
    W = np.zeros((k, k))
    np.add.at(W, (li[su], li[sv]), w)
    np.add.at(W, (li[sv], li[su]), w)
    is_free = free[local]
    # a free node whose structure component has no fixed node keeps its sampled value
    reach = ~is_free
    while True:
        grown = reach | ((W > 0) @ reach)
        if (grown == reach).all():
            break
        reach = grown
    fi = np.flatnonzero(is_free & reach)
    if len(fi) == 0:
        return z_nodes, np.zeros(n, dtype=bool)
    fx = np.flatnonzero(~is_free)
    A = np.diag(W[fi].sum(axis=1)) - W[np.ix_(fi, fi)]
    b = W[np.ix_(fi, fx)] @ z_nodes[local[fx]]
    out = z_nodes.copy()
    out[local[fi]] = np.linalg.solve(A, b)
    mask = np.zeros(n, dtype=bool)
    mask[local[fi]] = True
    return out, mask
