"""Along-edge terrain: elevation profiles, ascent, descent and grades per direction.

:func:`add_terrain` drapes every edge of a :class:`~geolog.network.Network` on a
:class:`~geolog.terrain.DEM`, all edges at once, with **way-level profiles**
(as GraphHopper smooths elevation per OSM way rather than per edge):

1. **segments and chains** — the two rows of a two-way road are one segment,
   stored in its way's drawing direction (rows with ``reversed == False``; a
   ``oneway=-1`` way has only reversed rows and is flipped back). The segments
   of one OSM way (``osmid``) that follow each other end to start form a
   *chain*: the whole way as one profile. OSM splits a road into many ways
   (at every bridge, lane or speed-limit change), so way chains are then
   joined end to end into **road chains** where they meet at a node no other
   segment touches, or where exactly two chain ends at a junction carry the
   same ``ref`` (else ``name``). Chains break where a way is cut (by the
   extract, a filter, or a missing ``reversed``/``osmid`` column: then every
   segment is its own chain — the per-edge method);
2. every segment is densified with :func:`shapely.segmentize` to at most half
   a DEM cell (in the DEM's grid units) and **all** points are sampled
   bilinearly in one call;
3. **the error model**: each sample's vertical error is
   ``sqrt(sigma_v² + (sigma_h · tan slope)²)`` from the DEM's product
   (:attr:`geolog.terrain.DEM.error`: SRTM3/SRTM1 after Rodriguez et al.
   2006, Copernicus GLO-30 from its product handbook, LiDAR after the USGS
   lidar base specification; or ``vertical_error_m``) and the terrain slope
   under the sample; samples closer than a cell share their error, so each
   counts for ``spacing / cell`` of an independent observation;
4. **the estimate** (:mod:`geolog._profile_fit`): along every road chain the
   profile is the penalised least-squares fit (a cubic smoothing spline,
   Whittaker–Henderson graduation on an uneven grid; Eilers 2003, "A
   perfect smoother") of the samples, with the prior that a road's grade
   changes slowly (a random walk of intensity :data:`GRADE_WANDER`); its
   smoothing length ``ell = (sigma² · cell / GRADE_WANDER) ** 0.25`` follows
   the DEM (≈ 220 m on SRTM3, ≈ 20 m on a 5 m LiDAR grid). Every **node is
   one unknown shared by all the roads that meet there**; where one road
   chain continues another at a node (turn ≤ 30°, each the other's best
   continuation: a carriageway split, a way ending at a junction) the
   smoothness prior spans the junction too; bridges and
   tunnels have no knots inside (they run straight between their end
   nodes) and no samples count on them; all roads are solved at once as one
   sparse system (scipy SuperLU), no loop over roads. The node elevations
   are the estimate at the node (column ``elevation``); the raw bilinear
   DEM sample is kept as ``elevation_dem``. Each edge's profile runs between
   its nodes' elevations, so per direction of travel exactly
   ``elev(v) − elev(u) = ascent_m − descent_m``, and the reverse row mirrors
   the forward one (ascents and descents swapped, grades negated);
5. **the uncertainty**: posterior draws of the same model (nodes observed
   like any sample) give the sd of every stretch's grade
   (``max_grade_sd``) and of the profile (``elevation_sd_m`` in
   :func:`elevation_profile`);
6. per direction of travel:

   * ``ascent_m`` / ``descent_m``: sums of the rises / falls of that profile;
   * ``max_grade``: the steepest stretch of ``max_grade_window_m`` (default
     the larger of two DEM cells and ``ell``: the shortest stretch the DEM
     supports; at least one cell) of the **estimated** profile among
     the stretches *nested* with the edge — inside it when the edge is longer
     than the window, containing it when shorter (the whole edge counts as a
     stretch too when it is long enough). Signed in the direction of travel.
     So a 5 m edge in the middle of a steady 6 % road reads 6 %, not the
     40 % of two raw samples a few metres apart on a steep hillside;
   * ``grade``: the signed mean. For edges at least ``max_grade_window_m``
     long it is ``(elev(v) − elev(u)) / length_m``. For **shorter edges** it is
     the mean grade of the estimated profile over the ``max_grade_window_m``
     stretch centred on the edge (shifted to fit inside the way; the whole way
     if the way is shorter): a DEM cannot measure the grade of a few metres,
     and ``(elev(v) − elev(u)) / length_m`` of a 5 m edge is the hillside's
     slope, not the road's. Their ``ascent_m``/``descent_m`` still honour the
     node elevations exactly. Bridges and tunnels: ``max_grade == grade``;
   * ``max_grade_sd``: the posterior sd of a ``max_grade_window_m``
     stretch's grade on the edge (the largest of its first, middle and last
     stretch; for a chain shorter than the window, two independent errors of
     its least certain point over the window);
   * ``max_grade_hi``: the cautious value, ``max_grade`` plus 1.96 times
     ``sqrt(max_grade_sd² + (2 sigma_v / window)²)`` in its own direction.
     The second term is what the DEM cannot resolve: the prior attenuates a
     ramp shorter than ``ell`` rather than ruling it out, and two samples'
     errors over the window bound what it may hide;
   * **chains shorter than the window** (a one-way piece where a dual
     carriageway splits or at a junction: three chain ends share its ``ref``,
     or its far end lies inside another road) have no stretch of their own.
     They borrow the roads that continue them: at each end node the chain —
     ending there or passing through, either way — whose heading continues
     best (a turn of at most 60°, measured over 30 m; same ``ref``/``name``
     preferred) lends its segments for about ``(max_grade_window_m +
     ell) / 2``; the short chain's ``grade`` and ``max_grade`` are
     measured on that longer virtual chain (the estimated profiles laid end to
     end) exactly as above. We follow the
     roads rather than a straight line along the piece's bearing: a piece
     that diverges 10° from its road on a 40 % hillside would read
     ``0.06·cos 10° + 0.40·sin 10° ≈ 13 %`` along a straight line; the roads
     around it read the road's 6 %. Without a continuation (a dead end, a
     crossover between carriageways at right angles) the chain keeps its own
     end-to-end grade;
   * ``grade_class`` (route reconnaissance classes of ``|max_grade|``) and
     ``terrain_filled`` (samples touched void-filled cells).

Nodes carry the estimate, not the raw sample, on purpose: two raw samples 30 m
apart on a hillside differ by the hillside's slope times the distance, and a
profile pinned to both reads a 27 % "ramp" the road does not have. One value
per node, shared by every road through it, keeps each route's
``ascent − descent`` equal to its end-to-end rise; ``elevation_dem`` keeps
the bilinear DEM sample for anyone who needs the raw reading.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from . import _profile_fit
from .errors import DEMError, GeologWarning, InputError
from .terrain import DEM

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import Network

__all__ = [
    "add_terrain",
    "GRADE_WANDER",
    "steepest_stretch",
    "elevation_profile",
    "grade_classes",
    "GRADE_CLASSES",
    "GRADE_CLASS_BINS",
    "OBSTRUCTION_GRADE",
]

logger = logging.getLogger(__name__)

#: Route-reconnaissance grade classes (percent of |max_grade|) and their lower bounds.
GRADE_CLASSES = ("<5%", "5-7%", "7-10%", "10-14%", ">=14%")
GRADE_CLASS_BINS = (0.05, 0.07, 0.10, 0.14)
#: Grades from 7 % are obstructions to traffic in NATO route classification.
OBSTRUCTION_GRADE = 0.07

_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG = math.pi / 180 * _EARTH_RADIUS_M


def _canonical_flip(coords: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """True where an edge's reversed coordinate sequence sorts first.

    Compares (first point, second point) with (last point, second-to-last
    point) lexicographically, so a geometry and its reverse get opposite
    answers (closed loops included) and both rows of a road use one orientation.
    """
    a0, b0 = coords[starts], coords[ends]
    a1, b1 = coords[np.minimum(starts + 1, ends)], coords[np.maximum(ends - 1, starts)]
    keys_f = np.column_stack([a0, a1])
    keys_r = np.column_stack([b0, b1])
    diff = keys_r != keys_f
    first = np.argmax(diff, axis=1)
    rows = np.arange(len(starts))
    return diff.any(axis=1) & (keys_r[rows, first] < keys_f[rows, first])


def _group_bounds(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(index, minlength=n)
    if (counts == 0).any():
        raise InputError(f"{int((counts == 0).sum())} edges have an empty geometry")
    ends = np.cumsum(counts) - 1
    return ends - counts + 1, ends


@dataclass
class _Segments:
    """Road segments (the rows of a two-way road share one), in way-chain order.

    A segment is stored in its way's drawing direction ("forward"). Segments
    of one OSM way that follow each other end to start form a chain.
    """

    row_seg: np.ndarray  # row -> segment
    row_fwd: np.ndarray  # row runs in the segment's forward (drawing) direction
    rep: np.ndarray  # segment -> representative row
    fu: np.ndarray  # segment -> first node id, forward
    fv: np.ndarray  # segment -> last node id, forward
    length: np.ndarray  # segment -> length (m)
    chain: np.ndarray  # segment -> chain (non-decreasing, 0..k-1)
    coords: np.ndarray  # forward vertex coordinates of all segments (lon, lat)
    cidx: np.ndarray  # vertex -> segment
    ident: np.ndarray  # segment -> road identity (ref, else name; -1 if neither)


def _reversed_flags(edges: pd.DataFrame, coords, starts, ends) -> np.ndarray:
    """Rows running against the way's drawing direction (column ``reversed``).

    Without a usable ``reversed`` column, a canonical orientation stands in
    (both rows of a road still share one segment; chains then rarely span
    more than one edge).
    """
    if "reversed" in edges.columns:
        try:
            return edges["reversed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError):
            logger.debug("column 'reversed' is not boolean; using a canonical orientation")
    return _canonical_flip(coords, starts, ends)


def _road_identity(edges: pd.DataFrame) -> np.ndarray:
    """Integer road identity per row: its ``ref``, else its ``name``; -1 if neither."""
    ident = np.full(len(edges), -1, dtype=np.int64)
    offset = 0
    for col in ("name", "ref"):  # ref wins
        if col in edges.columns:
            val = edges[col]
            try:
                codes, uniques = pd.factorize(val, use_na_sentinel=True)
            except TypeError:  # unhashable values (lists): compare their text
                codes, uniques = pd.factorize(val.astype(str).where(val.notna()))
            ident = np.where(codes >= 0, codes + offset, ident)
            offset += len(uniques)
    return ident


def _pair_ends(key: np.ndarray, eligible: np.ndarray, partner: np.ndarray) -> None:
    """Pair eligible chain ends that are alone with one other end under the same key (in place)."""
    q = np.flatnonzero(eligible)
    if len(q) < 2:
        return
    q = q[np.argsort(key[q], kind="stable")]
    kq = key[q]
    start = np.r_[True, kq[1:] != kq[:-1]]
    gid = np.cumsum(start) - 1
    size = np.bincount(gid)
    a = np.flatnonzero(start & (size[gid] == 2))
    i, j = q[a], q[a + 1]
    ok = (i // 2) != (j // 2)  # never a way's two ends to each other
    partner[i[ok]], partner[j[ok]] = j[ok], i[ok]


def _list_rank(succ: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Pointer jumping: steps to the end of each copy's path, and that end."""
    idx = np.arange(len(succ))
    p = np.where(succ >= 0, succ, idx)
    r = (succ >= 0).astype(np.int64)
    for _ in range(rounds):
        r = r + r[p]
        p = p[p]
    return r, p


def _join_chains(
    fu: np.ndarray, fv: np.ndarray, chain: np.ndarray, ident: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join way chains end to end into road chains.

    Two way chains are joined where they meet at a node that no other segment
    touches (a way split for a bridge, a lane or a speed-limit change), or
    where exactly two chain ends at a junction carry the same road identity
    (``ref``, else ``name``). Each chain is a pair of directed copies (copy id
    = the end it enters by: ``2c`` forward, ``2c + 1`` backward); a copy's
    successor is the partner of the end it leaves by. Paths are ordered by
    pointer jumping; a ring is cut at its lowest chain.

    Returns the new segment order, which segments are flipped, and road-chain ids.
    """
    m = len(fu)
    k = int(chain[-1]) + 1
    first = np.r_[True, chain[1:] != chain[:-1]]
    cf = np.flatnonzero(first)
    cl = np.r_[cf[1:] - 1, m - 1]
    _, inv = np.unique(np.r_[fu, fv], return_inverse=True)
    deg = np.bincount(inv)
    end_node = np.empty(2 * k, dtype=np.int64)
    end_node[0::2], end_node[1::2] = inv[:m][cf], inv[m:][cl]
    ends_at = np.bincount(end_node, minlength=len(deg))
    partner = np.full(2 * k, -1, dtype=np.int64)
    through = (deg[end_node] == 2) & (ends_at[end_node] == 2)
    _pair_ends(end_node, through, partner)
    end_ident = np.repeat(ident[cf], 2)
    named = (partner < 0) & (end_ident >= 0)
    _pair_ends(end_node * (int(ident.max(initial=0)) + 1) + end_ident, named, partner)

    succ = partner[np.arange(2 * k) ^ 1]
    rounds = max(1, int(math.ceil(math.log2(2 * k + 1)))) + 1
    r, p = _list_rank(succ, rounds)
    ring = succ[p] >= 0
    if ring.any():  # cut each ring before its lowest chain's forward copy (after its backward one)
        cid = np.arange(2 * k) // 2
        q = np.where(succ >= 0, succ, np.arange(2 * k))
        low = cid.copy()
        for _ in range(rounds):
            low = np.minimum(low, low[q])
            q = q[q]
        cut = ring & (
            ((succ // 2 == low) & (succ % 2 == 0)) | ((cid == low) & (np.arange(2 * k) % 2 == 1))
        )
        succ = np.where(cut, -1, succ)
        r, p = _list_rank(succ, rounds)
    # one of the two mirror paths per road: the one ending at the lower copy id
    d = 2 * np.arange(k)
    d = np.where(p[d + 1] < p[d], d + 1, d)
    order = np.lexsort((-r[d], p[d]))
    d = d[order]
    cnew = np.cumsum(np.r_[True, p[d][1:] != p[d][:-1]]) - 1
    back = d % 2 == 1
    c = d // 2
    cnt = cl[c] - cf[c] + 1
    rep_c = np.repeat(np.arange(k), cnt)
    kk = np.arange(m) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    seg_order = np.where(back[rep_c], cl[c][rep_c] - kk, cf[c][rep_c] + kk)
    return seg_order, back[rep_c], cnew[rep_c]


def _segments(edges: pd.DataFrame, *, join: bool = True) -> _Segments:
    """Pair the rows of each road segment and order the segments along their ways.

    Two rows are one segment when, in the way's drawing direction, they share
    the way, both end nodes, the vertex count and the middle vertex (exact:
    a reverse row's geometry is the exact reverse). Segments are sorted by
    (way, position of their first row) — the drawing order, as
    :func:`geolog.read_osm` writes segments of a way consecutively in file
    order — and a chain breaks wherever the next segment does not start where
    the previous one ended (a way cut by the extract or by a filter).
    """
    n = len(edges)
    coords, idx = shapely.get_coordinates(edges.geometry.to_numpy(), return_index=True)
    starts, ends = _group_bounds(idx, n)
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    rev = _reversed_flags(edges, coords, starts, ends)
    if "osmid" in edges.columns:
        way = pd.to_numeric(edges["osmid"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    else:
        way = np.full(n, -1, dtype=np.int64)
    fu, fv = np.where(rev, v, u), np.where(rev, u, v)
    cnt = ends - starts + 1
    k = (cnt - 1) // 2
    mid = np.where(rev, ends - k, starts + k)
    xm, ym = coords[mid, 0], coords[mid, 1]
    pos = np.arange(n)
    keys = (way, fu, fv, cnt, xm, ym)
    order = np.lexsort((pos, rev) + keys[::-1])
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for key in keys:
        ks = key[order]
        new[1:] |= ks[1:] != ks[:-1]
    grp = np.empty(n, dtype=np.int64)
    grp[order] = np.cumsum(new) - 1
    first = order[new]  # per group: its forward row if any, else the first reverse row
    sorder = np.lexsort((first, way[first]))
    rep = first[sorder]
    m = len(rep)
    rank = np.empty(m, dtype=np.int64)
    rank[sorder] = np.arange(m)
    row_seg = rank[grp]
    fu_s, fv_s, way_s = fu[rep], fv[rep], way[rep]
    brk = np.ones(m, dtype=bool)
    brk[1:] = (way_s[1:] != way_s[:-1]) | (fu_s[1:] != fv_s[:-1]) | (way_s[1:] < 0)
    chain = np.cumsum(brk) - 1
    ident = _road_identity(edges)[rep]
    if join:
        seg_order, flip, chain = _join_chains(fu_s, fv_s, chain, ident)
        newpos = np.empty(m, dtype=np.int64)
        newpos[seg_order] = np.arange(m)
        rep, row_seg, ident = rep[seg_order], newpos[row_seg], ident[seg_order]
        fu_s, fv_s = (
            np.where(flip, fv_s[seg_order], fu_s[seg_order]),
            np.where(flip, fu_s[seg_order], fv_s[seg_order]),
        )
    else:
        flip = np.zeros(m, dtype=bool)
    back = rev[rep] != flip  # coordinates run against the segment's (chain) direction
    c = cnt[rep]
    cidx = np.repeat(np.arange(m), c)
    kk = np.arange(len(cidx)) - np.repeat(np.cumsum(c) - c, c)
    src = np.where(back[cidx], ends[rep][cidx] - kk, starts[rep][cidx] + kk)
    return _Segments(
        row_seg=row_seg,
        row_fwd=~rev != flip[row_seg],
        rep=rep,
        fu=fu_s,
        fv=fv_s,
        length=edges["length_m"].to_numpy(dtype=float)[rep],
        chain=chain,
        coords=coords[src],
        cidx=cidx,
        ident=ident,
    )


@dataclass
class _Samples:
    """Densified, sampled segments of whole chains (forward direction)."""

    segs: np.ndarray  # local segment -> segment index in _Segments
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


def _sample_segments(segs: _Segments, dem: DEM, sel: np.ndarray | None = None) -> _Samples:
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
    s0, s1 = _group_bounds(e, m)
    x, y = pts[:, 0], pts[:, 1]
    lengths = segs.length[index]
    # distance along each segment, metres, rescaled to the network's length_m
    dx, dy = np.diff(x), np.diff(y)
    if dem.crs.is_geographic:
        lat_mid = np.radians(0.5 * (y[1:] + y[:-1]))
        d = np.hypot(dx * np.cos(lat_mid), dy) * _M_PER_DEG
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
    return _Samples(
        index, chain, lengths, e, s0, s1, s, G, c_lo, c_hi, c_G0, c_len, x, y, z_raw, filled, sd
    )


def _interp_at(G, z, I_cum, q, lo, hi):
    """Value and running integral of the piecewise-linear profile at global positions q.

    ``lo``/``hi`` bound the sample index (inclusive) of each query's chain.
    """
    j = np.searchsorted(G, q, side="right") - 1
    j = np.clip(j, lo, np.maximum(hi - 1, lo))
    j1 = np.minimum(j + 1, hi)
    span = G[j1] - G[j]
    t = np.divide(q - G[j], span, out=np.zeros_like(q), where=span > 0)
    zq = z[j] + t * (z[j1] - z[j])
    Iq = I_cum[j] + 0.5 * (z[j] + zq) * (q - G[j])
    return zq, Iq


def _running_integral(G, z, chain_of_sample):
    area = 0.5 * (z[1:] + z[:-1]) * np.diff(G)
    area[chain_of_sample[1:] != chain_of_sample[:-1]] = 0.0
    return np.r_[0.0, np.cumsum(area)]


@dataclass
class _Model:
    """How profiles are estimated: the prior, the knots and the grade window."""

    q: float  # grade-change intensity (1/m); 0: no fit, the raw samples
    step: float  # knot spacing (m)
    gap: float  # smallest knot spacing a second difference spans (m)
    cell: float  # DEM cell (m): samples closer than this share their error
    ell: float  # smoothing length (m)
    window: float  # max_grade window W (m)
    geographic: bool = True  # the DEM grid is in degrees (for headings)
    z_hi: float = 1.96  # max_grade_hi = max_grade + z_hi * sd (one-sided 97.5 %)


@dataclass
class _Shape:
    """Per-segment terrain, forward direction, plus the final profile of every sample."""

    z: np.ndarray  # sample -> estimated profile (nodes at their elevations)
    sd: np.ndarray  # sample -> posterior sd of the profile (m)
    ascent: np.ndarray
    descent: np.ndarray
    grade: np.ndarray
    max_grade: np.ndarray
    max_grade_sd: np.ndarray
    filled: np.ndarray


def _local_spacing(G: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Half the distance between each sample's neighbours on its segment (m)."""
    d = np.diff(G)
    d[seg[1:] != seg[:-1]] = 0.0
    return 0.5 * (np.r_[0.0, d] + np.r_[d, 0.0])


def _continuations(
    p: _Samples, node_u: np.ndarray, node_v: np.ndarray, model: _Model, *, min_cos: float = 0.866
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Chain ends that continue each other at a node (a turn of at most 30°), mutual best.

    Where a road splits into carriageways or a way ends at a junction, the
    road chains stop; the road does not. Returns, for each pair, the node's
    position on both chains (global axis) and whether each chain leaves the
    node forward (``True``: the node is the chain's start).
    """
    cf, cl, h = _ports(p, geographic=model.geographic, heading_m=30.0)
    port = np.r_[2 * cf, 2 * cl + 1]
    node = np.r_[node_u[cf], node_v[cl]]
    o = np.argsort(node, kind="stable")
    port, node = port[o], node[o]
    gfirst = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    gsize = np.diff(np.r_[gfirst, len(node)])
    gsz = np.repeat(gsize, gsize)
    a = np.repeat(np.arange(len(port)), gsz)
    start = np.repeat(np.repeat(gfirst, gsize), gsz)
    b = start + np.arange(len(a)) - np.repeat(np.cumsum(gsz) - gsz, gsz)
    pa, pb = port[a], port[b]
    ok = p.chain[pa // 2] != p.chain[pb // 2]
    cos = -(h[pa] * h[pb]).sum(axis=1)
    ok &= cos >= min_cos
    pa, pb, cos = pa[ok], pb[ok], cos[ok]
    best = np.full(2 * len(p.length), -1, dtype=np.int64)
    order = np.lexsort((-cos, pa))
    lead = order[np.r_[True, pa[order][1:] != pa[order][:-1]]] if len(pa) else order
    best[pa[lead]] = pb[lead]
    ends = np.flatnonzero(best >= 0)
    mutual = ends[(best[best[ends]] == ends) & (ends < best[ends])]
    other = best[mutual]

    def where(q):
        fwd = q % 2 == 0
        return np.where(fwd, p.G[p.starts[q // 2]], p.G[p.ends[q // 2]]), fwd

    ga, fa = where(mutual)
    gb, fb = where(other)
    return ga, fa, gb, fb


def _fit_profile(
    p: _Samples,
    z0: np.ndarray,
    structure: np.ndarray,
    node_u: np.ndarray,
    node_v: np.ndarray,
    model: _Model,
):
    """Estimated profile at the samples (junctions shared, structures straight) and its fit."""
    e = p.seg
    Gs, Ge = p.G[p.starts], p.G[p.ends]
    nodes, nid = np.unique(np.r_[node_u, node_v], return_inverse=True)
    prior = np.zeros(len(nodes))
    prior[nid] = np.r_[z0[p.starts], z0[p.ends]]
    KG, KC, ids = _profile_fit.knots(
        p.c_G0,
        p.c_len,
        np.r_[Gs, Ge],
        np.r_[p.chain, p.chain],
        nid,
        Gs[structure],
        Ge[structure],
        model.step,
    )
    obs = ~structure[e] & np.isfinite(p.z_raw)
    h = _local_spacing(p.G, e)
    w = h / (model.cell * p.sd**2)
    f = _profile_fit.fit(
        KG,
        KC,
        ids,
        prior,
        p.G[obs],
        p.chain[e][obs],
        p.z_raw[obs],
        w[obs],
        q=model.q,
        gap=model.gap,
        joints=_continuations(p, node_u, node_v, model),
    )
    return np.interp(p.G, f.G, f.z), f


def _window_sd(
    f, g0: np.ndarray, length: np.ndarray | float, per: np.ndarray | float | None = None
) -> np.ndarray:
    """Posterior sd of the grade over [g0, g0 + length] (global axis), from the draws.

    The rise's sd is divided by ``per`` (default ``length``).
    """
    g1 = g0 + length
    n = len(f.G)

    def at(q):
        j = np.clip(np.searchsorted(f.G, q, side="right") - 1, 0, max(n - 2, 0))
        span = f.G[j + 1] - f.G[j] if n > 1 else np.ones_like(q)
        t = np.clip(np.divide(q - f.G[j], span, out=np.zeros_like(q), where=span > 0), 0, 1)
        t = t.astype(np.float32)[:, None]
        return f.draws[j] * (1 - t) + f.draws[np.minimum(j + 1, n - 1)] * t

    d = at(g1) - at(g0)
    L = np.broadcast_to(np.asarray(length if per is None else per, dtype=float), g0.shape)
    rms = np.sqrt(np.mean(np.square(d, dtype=np.float64), axis=1))
    return np.divide(rms, L, out=np.zeros_like(rms), where=L > 0)


def _shape(
    p: _Samples,
    z_start: np.ndarray,
    z_end: np.ndarray,
    structure: np.ndarray,
    model: _Model,
    node_u: np.ndarray | None = None,
    node_v: np.ndarray | None = None,
    z_given: np.ndarray | None = None,
) -> _Shape:
    """Estimated profile, ascent/descent and grades of the sampled segments.

    ``z_start``/``z_end``: node elevations (DEM samples) at each local
    segment's forward ends; ``structure``: local segments that are
    bridges/tunnels; ``node_u``/``node_v``: node ids of the segments' ends
    (shared unknowns of the estimate). ``z_given``: an already estimated
    profile of the samples (then nothing is fitted). See the module
    docstring for the method.
    """
    m = len(p.length)
    e = p.seg
    ch = p.chain[e]  # sample -> chain
    L = p.length
    frac = np.divide(p.s, L[e], out=np.zeros_like(p.s), where=L[e] > 0)
    line = z_start[e] + frac * (z_end - z_start)[e]  # straight line between the nodes
    z0 = p.z_raw.copy()
    z0[p.starts], z0[p.ends] = z_start, z_end
    z0 = np.where(structure[e], line, z0)  # bridges and tunnels: the deck, not the ground
    G = p.G
    W = model.window
    # 1. the estimated profile (one banded system for every chain)
    f = None
    if z_given is not None:
        z = z_given
    elif model.q > 0 and node_u is not None:
        z, f = _fit_profile(p, z0, structure, node_u, node_v, model)
    else:
        z = z0
    dz = np.diff(z)
    dz = np.where(e[1:] == e[:-1], dz, 0.0)
    ascent = np.bincount(e[1:], weights=np.maximum(dz, 0.0), minlength=m)
    descent = np.bincount(e[1:], weights=np.maximum(-dz, 0.0), minlength=m)
    mean = np.divide(z[p.ends] - z[p.starts], L, out=np.zeros(m), where=L > 0)

    # 2. steepest stretch of W along the profile: windows [t, t + W] nested
    # with the segment (inside it if it is longer than W, around it if shorter)
    Sc = G - p.c_G0[ch]
    Lc = p.c_len[ch]
    I_s = _running_integral(G, z, ch)
    seg_ch = p.chain
    a = G[p.starts] - p.c_G0[seg_ch]  # segment start on its chain (m)
    b = a + L
    clen = p.c_len[seg_ch]
    clo, chi = p.c_lo[seg_ch], p.c_hi[seg_ch]
    G0 = p.c_G0[seg_ch]

    short_chain = clen < W
    long_seg = L >= W
    t_lo = np.where(long_seg, a, np.maximum(b - W, 0.0))
    t_hi = np.where(long_seg, b - W, np.minimum(a, clen - W))
    # candidate window starts between the range ends: every breakpoint of the
    # piecewise-linear window grade (t or t + W at a sample)
    cand = np.r_[Sc, Sc - W]
    cch = np.r_[ch, ch]
    ok = (cand >= 0) & (cand <= np.r_[Lc, Lc] - W)
    cand, cch = cand[ok], cch[ok]
    cg = p.c_G0[cch] + cand
    order = np.argsort(cg, kind="stable")
    cg, cch = cg[order], cch[order]
    zq0, _ = _interp_at(G, z, I_s, cg, p.c_lo[cch], p.c_hi[cch])
    zq1, _ = _interp_at(G, z, I_s, cg + W, p.c_lo[cch], p.c_hi[cch])
    gc = (zq1 - zq0) / W
    i0 = np.searchsorted(cg, G0 + t_lo, side="left")
    i1 = np.searchsorted(cg, G0 + t_hi, side="right")
    pairs = np.column_stack([i0, np.maximum(i1, i0)]).ravel()
    empty = i1 <= i0

    def range_reduce(values: np.ndarray, ufunc) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = ufunc.reduceat(np.r_[values, np.nan], pairs)[::2]
        out[empty] = np.nan
        return out

    rmax, rmin = range_reduce(gc, np.fmax), range_reduce(gc, np.fmin)
    ends_t = np.r_[t_lo, t_hi]
    seg2 = np.r_[np.arange(m), np.arange(m)]
    ze0, _ = _interp_at(G, z, I_s, G0[seg2] + ends_t, clo[seg2], chi[seg2])
    ze1, _ = _interp_at(G, z, I_s, G0[seg2] + ends_t + W, clo[seg2], chi[seg2])
    ge = ((ze1 - ze0) / W).reshape(2, m)
    gmax = np.fmax(rmax, np.fmax(ge[0], ge[1]))
    gmin = np.fmin(rmin, np.fmin(ge[0], ge[1]))
    # a climb and a descent equally steep (to 1e-9): keep the climb
    steep = np.where(np.abs(gmin) > np.abs(gmax) + 1e-9, gmin, gmax)
    # short segments: grade of the W-stretch centred on them (shifted to fit the way)
    tc = np.clip(0.5 * (a + b) - 0.5 * W, 0.0, np.maximum(clen - W, 0.0))
    zc0, _ = _interp_at(G, z, I_s, G0 + tc, clo, chi)
    zc1, _ = _interp_at(G, z, I_s, G0 + tc + W, clo, chi)
    centred = (zc1 - zc0) / W
    # a way shorter than W has one stretch: the whole way
    whole = np.divide(z[chi] - z[clo], clen, out=np.zeros(m), where=clen > 0)
    grade = np.where(long_seg, mean, np.where(short_chain, whole, centred))
    steep = np.where(short_chain, whole, steep)
    # the whole segment is a stretch too, when it is at least W long
    steep = np.where(long_seg & (np.abs(mean) > np.abs(steep)), mean, steep)
    # ... and a shorter segment's centred stretch is one of its candidates (exactly)
    steep = np.where(~long_seg & (np.abs(grade) > np.abs(steep)), grade, steep)
    # bridges and tunnels: one straight stretch (shorter than W: like any short
    # segment, the W-stretch centred on them)
    steep = np.where(structure, grade, steep)

    # 3. uncertainty of the steepest stretch: the largest posterior sd among the
    # stretches nested with the segment (a chain shorter than W: the whole chain)
    if f is not None:
        # the sd changes slowly along a road: the first, middle and last of the
        # segment's stretches stand for all of them
        t3 = np.r_[t_lo, 0.5 * (t_lo + t_hi), t_hi]
        sd3 = _window_sd(f, np.r_[G0, G0, G0] + t3, W).reshape(3, m)
        zsd = np.sqrt(np.mean(np.square(f.draws, dtype=np.float64), axis=1))
        zsd = np.interp(G, f.G, zsd)
        # a chain shorter than W (its grades come from the roads around it): two
        # independent errors of its least certain point, W apart
        top = np.maximum.reduceat(zsd, p.c_lo)[seg_ch]
        sd = np.where(short_chain, math.sqrt(2.0) * top / W, sd3.max(axis=0))
    else:  # raw samples (or a borrowed profile): two independent errors W apart
        sd = np.full(m, math.sqrt(2.0) * float(np.median(p.sd)) / W)
        zsd = p.sd.copy()
    filled = np.bincount(e, weights=p.filled, minlength=m) > 0
    return _Shape(z, zsd, ascent, descent, grade, steep, np.nan_to_num(sd), filled)


def _ports(p: _Samples, *, geographic: bool, heading_m: float):
    """Ways into the chains at every node: two ports per segment, with their headings.

    Port ``2i`` leaves segment ``i``'s start node going forward along the
    chain, port ``2i + 1`` leaves its end node going backward. The heading (unit
    vector, metric) points from the node into the chain over ``heading_m``
    metres of it (less where the chain ends sooner). Returns the first and
    last segment of each chain and the headings.
    """
    m = len(p.length)
    first = np.r_[True, p.chain[1:] != p.chain[:-1]]
    cf = np.flatnonzero(first)
    cl = np.r_[cf[1:] - 1, m - 1]
    ch = p.chain
    Ga, Gb = p.G[p.starts], p.G[p.ends]
    c0, c1 = p.c_G0[ch], p.c_G0[ch] + p.c_len[ch]
    q = np.empty(2 * m)
    q[0::2], q[1::2] = np.minimum(Ga + heading_m, c1), np.maximum(Gb - heading_m, c0)
    at = np.empty(2 * m, dtype=np.int64)
    at[0::2], at[1::2] = p.starts, p.ends
    lo, hi = np.repeat(p.c_lo[ch], 2), np.repeat(p.c_hi[ch], 2)
    j = np.clip(np.searchsorted(p.G, q, side="right") - 1, lo, np.maximum(hi - 1, lo))
    j1 = np.minimum(j + 1, hi)
    span = p.G[j1] - p.G[j]
    t = np.divide(q - p.G[j], span, out=np.zeros_like(q), where=span > 0)
    dx = p.x[j] + t * (p.x[j1] - p.x[j]) - p.x[at]
    dy = p.y[j] + t * (p.y[j1] - p.y[j]) - p.y[at]
    if geographic:
        dx = dx * np.cos(np.radians(p.y[at]))
    norm = np.hypot(dx, dy)
    h = np.column_stack([dx, dy]) / np.where(norm > 0, norm, np.inf)[:, None]
    return cf, cl, h


def _borrow_context(
    p: _Samples,
    sh: _Shape,
    node_u: np.ndarray,
    node_v: np.ndarray,
    ident: np.ndarray,
    z_start: np.ndarray,
    z_end: np.ndarray,
    structure: np.ndarray,
    model: _Model,
    *,
    geographic: bool,
    heading_m: float = 30.0,
    min_cos: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grades of chains shorter than the window, measured on the roads they continue.

    A chain shorter than ``max_grade_window_m`` (a one-way sliver where a dual
    carriageway splits, a piece between two junctions) has no stretch of its
    own to measure. At each of its two end nodes it borrows the road that
    continues it best — any chain at that node, whether it ends there or
    passes through, in either direction: the straightest continuation (a turn
    of at most 60°, headings over ``heading_m``), one with the same
    ``ref``/``name`` preferred. The virtual chain — the neighbour's segments
    back to about ``(max_grade_window_m + ell) / 2`` before the
    sliver, the sliver, and the other neighbour's segments as far after it —
    is smoothed and measured exactly like a road chain, and the sliver's
    segments take its ``grade`` (the centred stretch) and ``max_grade``
    (steepest stretch containing the segment). Ascent and descent are not
    touched (they stay on the sliver's own profile, ramped to its nodes), nor
    are bridges and tunnels. Without a continuation at either end, nothing
    changes. Returns new grade and max_grade arrays per local segment
    (forward direction).
    """
    W = model.window
    short = np.flatnonzero(p.c_len < W)  # chains that borrow
    if len(short) == 0:
        return sh.grade, sh.max_grade, sh.max_grade_sd
    m = len(p.length)
    cf, cl, h = _ports(p, geographic=geographic, heading_m=heading_m)
    port_node = np.empty(2 * m, dtype=np.int64)
    port_node[0::2], port_node[1::2] = node_u, node_v
    port_chain = np.repeat(p.chain, 2)
    port_ident = np.repeat(ident, 2)
    # every (request port, other chain's port at the same node) pair
    order = np.argsort(port_node, kind="stable")
    ns = port_node[order]
    gfirst = np.flatnonzero(np.r_[True, ns[1:] != ns[:-1]])
    gsize = np.diff(np.r_[gfirst, len(ns)])
    gid = np.repeat(np.arange(len(gfirst)), gsize)
    rank = np.empty(2 * m, dtype=np.int64)
    rank[order] = np.arange(2 * m)
    req = np.r_[2 * cf[short], 2 * cl[short] + 1]  # the sliver's own ends
    g = gid[rank[req]]
    cnt = gsize[g]
    pr = np.repeat(req, cnt)
    jj = np.arange(len(pr)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    pc = order[np.repeat(gfirst[g], cnt) + jj]
    cos = -(h[pr] * h[pc]).sum(axis=1)  # leaving the sliver vs entering the neighbour
    ok = (port_chain[pc] != port_chain[pr]) & (cos >= min_cos)
    same = (port_ident[pr] == port_ident[pc]) & (port_ident[pr] >= 0)
    pr, pc, score = pr[ok], pc[ok], (cos + 0.5 * same)[ok]
    o = np.lexsort((-score, pr))
    pr, pc = pr[o], pc[o]
    firsts = np.r_[True, pr[1:] != pr[:-1]] if len(pr) else np.zeros(0, dtype=bool)
    best = np.full(2 * m, -1, dtype=np.int64)
    best[pr[firsts]] = pc[firsts]
    # how many of the neighbour's segments reach (W + smoothing) / 2 away from the node
    reach = 0.5 * (W + model.ell)
    bs = np.maximum(best, 0) // 2  # the neighbour's first segment
    forward = best % 2 == 0
    c2 = p.chain[bs]
    Ga, Gb = p.G[p.starts], p.G[p.ends]
    n_fwd = np.searchsorted(Ga, Ga[bs] + reach, side="left") - bs
    n_bwd = bs - np.searchsorted(Gb, Gb[bs] - reach, side="right") + 1
    n_ext = np.where(
        forward, np.clip(n_fwd, 1, cl[c2] - bs + 1), np.clip(n_bwd, 1, bs - cf[c2] + 1)
    )
    n_ext = np.where(best >= 0, n_ext, 0)

    def ext(r: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The i-th segment away from port r's node along its neighbour, and its flip."""
        fw = forward[r]
        return np.where(fw, bs[r] + i, bs[r] - i), ~fw

    r0, r1 = 2 * cf[short], 2 * cl[short] + 1
    nb, na = n_ext[r0], n_ext[r1]
    no = cl[short] - cf[short] + 1
    tot = nb + no + na
    vc = np.repeat(np.arange(len(short)), tot)
    j = np.arange(len(vc)) - np.repeat(np.cumsum(tot) - tot, tot)
    nb_v, no_v = nb[vc], no[vc]
    before, own = j < nb_v, (j >= nb_v) & (j < nb_v + no_v)
    sb, fb = ext(r0[vc], np.maximum(nb_v - 1 - j, 0))
    sa, fa = ext(r1[vc], np.maximum(j - nb_v - no_v, 0))
    vseg = np.where(before, sb, np.where(own, cf[short[vc]] + j - nb_v, sa))
    vflip = np.where(before, ~fb, np.where(own, False, fa))
    vp, src = _gather_samples(p, vseg, vflip, vc)
    vsh = _shape(
        vp,
        np.where(vflip, z_end[vseg], z_start[vseg]),
        np.where(vflip, z_start[vseg], z_end[vseg]),
        structure[vseg],
        model,
        z_given=sh.z[src],  # the estimated profiles, laid end to end
    )
    target = vseg[own]
    grade, max_grade = sh.grade.copy(), sh.max_grade.copy()
    grade[target] = vsh.grade[own]
    max_grade[target] = vsh.max_grade[own]
    return grade, max_grade, sh.max_grade_sd


def _gather_samples(
    p: _Samples, vseg: np.ndarray, vflip: np.ndarray, vchain: np.ndarray
) -> tuple[_Samples, np.ndarray]:
    """Samples of a path of (possibly flipped) segments of ``p``, as new chains ``vchain``.

    Also returns, per new sample, its index in ``p``.
    """
    nv = len(vseg)
    cnt = p.ends[vseg] - p.starts[vseg] + 1
    seg = np.repeat(np.arange(nv), cnt)
    kk = np.arange(len(seg)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    r, f = vseg[seg], vflip[seg]
    i = np.where(f, p.ends[r] - kk, p.starts[r] + kk)
    lengths = p.length[vseg]
    s = np.where(f, lengths[seg] - p.s[i], p.s[i])
    starts, ends = _group_bounds(seg, nv)
    c_first = np.r_[True, vchain[1:] != vchain[:-1]]
    last = np.r_[c_first[1:], True]
    off = np.r_[0.0, np.cumsum(lengths + np.where(last, 1.0, 0.0))[:-1]]
    G = np.maximum.accumulate(s + off[seg])
    nc = int(vchain[-1]) + 1
    return _Samples(
        segs=vseg,
        chain=vchain,
        length=lengths,
        seg=seg,
        starts=starts,
        ends=ends,
        s=s,
        G=G,
        c_lo=starts[c_first],
        c_hi=ends[last],
        c_G0=off[c_first],
        c_len=np.bincount(vchain, weights=lengths, minlength=nc),
        x=p.x[i],
        y=p.y[i],
        z_raw=p.z_raw[i],
        filled=p.filled[i],
        sd=p.sd[i],
    ), i


def _structure_mask(edges: pd.DataFrame) -> np.ndarray:
    """Bridges and tunnels: tag present and not 'no'."""
    mask = np.zeros(len(edges), dtype=bool)
    for col in ("bridge", "tunnel"):
        if col in edges.columns:
            v = edges[col]
            tagged = v.notna().to_numpy(dtype=bool)
            text = v[tagged].astype(str).str.lower()
            mask[np.flatnonzero(tagged)[(text != "no").to_numpy(dtype=bool)]] = True
    return mask


def _interpolate_structure_nodes(
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


def grade_classes(max_grade: Any) -> pd.Categorical:
    """Route-reconnaissance grade classes of grades (fractions), by magnitude.

    ``'<5%'``, ``'5-7%'``, ``'7-10%'``, ``'10-14%'``, ``'>=14%'``; from 7 % a
    grade is an obstruction to traffic (NATO route classification, US Army
    FM 3-34.170 route reconnaissance).
    """
    g = np.abs(np.asarray(max_grade, dtype=float))
    codes = np.searchsorted(np.asarray(GRADE_CLASS_BINS), g, side="right")
    return pd.Categorical.from_codes(codes, categories=list(GRADE_CLASSES), ordered=True)


def _coerce_dem(dem: Any) -> DEM:
    if isinstance(dem, DEM):
        return dem
    if isinstance(dem, (str, os.PathLike)) or (
        isinstance(dem, Sequence) and all(isinstance(p, (str, os.PathLike)) for p in dem)
    ):
        return DEM.open(dem)
    raise InputError(f"dem must be a geolog.DEM or path(s) to elevation tiles, got {type(dem)!r}")


def _with_error(dem: DEM, vertical_error_m: float | None) -> DEM:
    """The DEM with another vertical error (same arrays), or itself."""
    if vertical_error_m is None:
        return dem
    return DEM(
        dem.array,
        dem.transform,
        dem.crs,
        filled_mask=dem.filled_mask,
        source=dem.source,
        paths=dem.paths,
        vertical_error_m=vertical_error_m,
    )


def _cell_m(dem: DEM) -> float:
    return float(max(dem.cell_size_m))


#: Prior on how fast a road's grade changes (1/m): the grade is a random walk
#: that wanders by about ``sqrt(GRADE_WANDER * d)`` over ``d`` metres — 1 pp
#: over 100 m, 3 pp over a kilometre. Road design keeps grades steady between
#: vertical curves (a 40 t truck cannot take 12 % then 4 % then 12 %); hairpins
#: and junction ramps change faster, which the DEM's samples then show.
GRADE_WANDER = 1e-6


def _model(
    dem: DEM,
    *,
    smooth_window_m: float | None,
    max_grade_window_m: float | None,
) -> _Model:
    """Prior, knots and window of the profile estimate, from the DEM's error model."""
    sigma = dem.error.vertical_error_m
    cx, cy = dem.cell_size_m
    cell = math.sqrt(cx * cy)
    if smooth_window_m is None:
        q = GRADE_WANDER
        ell = (sigma**2 * cell / q) ** 0.25
    else:
        ell = float(smooth_window_m)
        if not (ell >= 0 and math.isfinite(ell)):
            raise InputError(
                f"smooth_window_m must be a finite number >= 0, got {smooth_window_m!r}"
            )
        q = sigma**2 * cell / ell**4 if ell > 0 else 0.0
    # knots half a cell apart, or a quarter of the smoothing length where that is
    # longer (the estimate holds no detail finer); the smoothness prior spans
    # knots at least half a sample step apart (closer ones: a junction cluster)
    step = max(0.5 * min(cx, cy), ell / 4)
    gap = 0.25 * min(cx, cy)
    W = max(2 * _cell_m(dem), ell) if max_grade_window_m is None else float(max_grade_window_m)
    if not (W > 0 and math.isfinite(W)):
        raise InputError(f"max_grade_window_m must be > 0, got {max_grade_window_m!r}")
    if W < min(dem.cell_size_m) - 1e-9:
        raise InputError(
            f"max_grade_window_m={W:g} m is shorter than one DEM cell "
            f"({min(dem.cell_size_m):.1f} m): grades over it are below the DEM's resolution"
        )
    return _Model(
        q=q, step=step, gap=gap, cell=cell, ell=ell, window=W, geographic=dem.crs.is_geographic
    )


def add_terrain(
    net: Network,
    dem: DEM | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    smooth_window_m: float | None = None,
    max_grade_window_m: float | None = None,
    vertical_error_m: float | None = None,
) -> Network:
    """Drape a network on a DEM: per-direction ascent, descent and grades.

    Each road's profile is *estimated* from the DEM samples along it, all roads
    in one sparse system, with the DEM's error model; see the module docstring
    for the method.

    Parameters
    ----------
    net
        The road network (not modified).
    dem
        A :class:`~geolog.terrain.DEM` or path(s) to open with :meth:`DEM.open`.
    smooth_window_m
        Smoothing length ``ell`` (metres) of the profile estimate; default from
        the DEM's error model, ``(sigma² × cell / GRADE_WANDER) ** 0.25``
        (≈ 220 m on SRTM3, ≈ 20 m on a 5 m LiDAR DEM). ``0`` keeps the raw
        samples (no estimate).
    max_grade_window_m
        Length (metres) of the stretch over which ``max_grade`` is measured
        (and over which edges shorter than it get their ``grade``); default
        the larger of two DEM cells and ``ell``: what the DEM resolves. It
        must be at least one cell.
    vertical_error_m
        The DEM's random vertical error (1 sigma, metres), instead of the
        product's published figure (``dem.error``).

    Returns
    -------
    Network
        A new Network. Nodes gain ``elevation`` (m, the estimated road
        elevation at the node, shared by every road through it) and
        ``elevation_dem`` (m, the bilinear DEM sample at the node,
        interpolated along bridges/tunnels for nodes only they touch); edges
        gain ``ascent_m``, ``descent_m`` (m, ≥ 0), ``grade``
        (signed mean, fraction), ``max_grade`` (steepest stretch, signed in the
        direction of travel, fraction), ``max_grade_sd`` (its posterior
        standard deviation, fraction, ≥ 0), ``max_grade_hi`` (cautious value:
        ``max_grade`` plus 1.96 sd in its own direction, the sd including
        what the DEM cannot resolve; see the module docstring),
        ``grade_class`` (ordered categorical, see :func:`grade_classes`) and ``terrain_filled`` (bool: the edge's samples
        touched void-filled cells). ``meta["terrain"]`` records the DEM source,
        its error model and these parameters.

    Raises
    ------
    DEMError
        If the DEM does not cover every node and edge (the message says how
        many fall outside).
    InputError
        A window is not a finite number (``max_grade_window_m`` shorter than
        one DEM cell), a bad ``vertical_error_m``, or the network has no edges.

    Examples
    --------
    >>> import warnings, geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", geolog.errors.GeologWarning)
    ...     hilly = net.with_terrain(geolog.DEM.open(geolog.data.dem_path("andorra")))
    >>> bool((hilly.edges["ascent_m"] >= 0).all())
    True
    >>> bool((hilly.edges["max_grade_hi"].abs() >= hilly.edges["max_grade"].abs()).all())
    True
    """
    dem = _with_error(_coerce_dem(dem), vertical_error_m)
    model = _model(dem, smooth_window_m=smooth_window_m, max_grade_window_m=max_grade_window_m)
    nodes, edges = net.nodes, net.edges
    if len(edges) == 0:
        raise InputError("the network has no edges to add terrain to")

    # nodes
    z_nodes, f_nodes = dem._sample(
        nodes["x"].to_numpy(dtype=float), nodes["y"].to_numpy(dtype=float)
    )
    u = nodes.index.get_indexer(edges["u"].to_numpy())
    v = nodes.index.get_indexer(edges["v"].to_numpy())
    if (u < 0).any() or (v < 0).any():
        raise InputError("some edges reference nodes missing from the nodes frame")
    lengths = edges["length_m"].to_numpy(dtype=float)
    structure = _structure_mask(edges)

    # segments in way order; one densify + one sampling call for everything
    segs = _segments(edges)
    p = _sample_segments(segs, dem)
    seg_out = np.bincount(p.seg, weights=~np.isfinite(p.z_raw), minlength=len(p.length)) > 0
    rs, fwd = segs.row_seg, segs.row_fwd
    _check_coverage(dem, z_nodes, seg_out[rs] & ~structure, nodes, edges)

    z_nodes, interp = _interpolate_structure_nodes(z_nodes, u, v, lengths, structure)
    fu = nodes.index.get_indexer(segs.fu)
    fv = nodes.index.get_indexer(segs.fv)
    sh = _shape(p, z_nodes[fu], z_nodes[fv], structure[segs.rep], model, fu, fv)
    z_dem = z_nodes
    z_nodes = z_nodes.copy()
    z_nodes[fu], z_nodes[fv] = sh.z[p.starts], sh.z[p.ends]  # the estimate, shared by roads
    za, zb = z_nodes[u], z_nodes[v]
    seg_grade, seg_max_grade, seg_sd = _borrow_context(
        p,
        sh,
        segs.fu,
        segs.fv,
        segs.ident,
        z_nodes[fu],
        z_nodes[fv],
        structure[segs.rep],
        model,
        geographic=dem.crs.is_geographic,
    )

    # back to each row's direction of travel
    ascent = np.where(fwd, sh.ascent[rs], sh.descent[rs])
    descent = np.where(fwd, sh.descent[rs], sh.ascent[rs])
    grade = np.where(fwd, seg_grade[rs], -seg_grade[rs])
    max_grade = np.where(fwd, seg_max_grade[rs], -seg_max_grade[rs])
    max_grade_sd = seg_sd[rs]
    # cautious: the posterior sd rests on the prior that grades change slowly; a ramp
    # shorter than the smoothing length is attenuated, not excluded, so the raw
    # samples' grade error over the window (two errors of sigma, 2 sigma / W) is added
    res_sd = 2 * dem.error.vertical_error_m / model.window if model.q > 0 else 0.0
    hi_sd = np.hypot(max_grade_sd, res_sd)
    max_grade_hi = max_grade + np.where(max_grade < 0, -1.0, 1.0) * model.z_hi * hi_sd
    # bridges and tunnels: the straight line between their end elevations
    dz = zb - za
    ascent = np.where(structure, np.maximum(dz, 0.0), ascent)
    descent = np.where(structure, np.maximum(-dz, 0.0), descent)
    filled = np.where(structure, f_nodes[u] | f_nodes[v], sh.filled[rs])

    new_edges = edges.assign(
        ascent_m=ascent,
        descent_m=descent,
        grade=grade,
        max_grade=max_grade,
        max_grade_sd=max_grade_sd,
        max_grade_hi=max_grade_hi,
        grade_class=grade_classes(max_grade),
        terrain_filled=filled.astype(bool),
    )
    new_nodes = nodes.assign(elevation=z_nodes, elevation_dem=z_dem)
    meta = dict(net.meta)
    n_chains = int(segs.chain[-1]) + 1
    meta["terrain"] = {
        "dem_source": dem.source,
        "dem_paths": list(dem.paths),
        "dem_crs": dem.crs.to_string(),
        "dem_cell_m": [round(c, 3) for c in dem.cell_size_m],
        "sample_spacing": f"<= half a DEM cell ({0.5 * min(dem.res):.6g} grid units)",
        "dem_error": dem.error.as_dict(),
        "method": (
            "road profiles estimated by penalised least squares (cubic smoothing spline / "
            "Whittaker-Henderson, Eilers 2003) along road chains, all roads in one banded "
            "sparse system; nodes fixed at their elevations, bridges/tunnels straight"
        ),
        "grade_wander_per_m": model.q,
        "smooth_window_m": model.ell,
        "knot_spacing_m": round(model.step, 3),
        "max_grade_window_m": model.window,
        "max_grade": "steepest stretch of max_grade_window_m of the estimated profile "
        "nested with the edge (inside it, or containing it if shorter)",
        "max_grade_sd": f"posterior sd of a max_grade_window_m stretch's grade on the edge "
        f"(largest among its stretches; {_profile_fit.N_DRAWS} posterior draws)",
        "max_grade_hi": f"max_grade + {model.z_hi} sqrt(max_grade_sd^2 + (2 sigma / "
        "max_grade_window_m)^2): the posterior sd plus what the DEM cannot resolve",
        "grade": "(elev(v) - elev(u)) / length; edges shorter than max_grade_window_m: "
        "mean of the estimated profile over the max_grade_window_m stretch centred on the edge",
        "short_chains": "chains shorter than max_grade_window_m take grade and max_grade "
        "from a virtual chain extended along the best-continuing road at each end "
        "(turn <= 60 deg, same ref/name preferred)",
        "node_elevation": "elevation: the estimate, one value per node shared by every road "
        "through it; elevation_dem: the raw bilinear sample (bridge/tunnel-only nodes "
        "interpolated along the structure)",
        "way_chains": n_chains,
        "segments": len(segs.rep),
        "structures": "bridge/tunnel edges: straight line between end elevations",
        "edges_on_filled_cells": int(filled.sum()),
        "structure_nodes_interpolated": int(interp.sum()),
    }
    if dem.paths:
        from .network import sha256_file

        sources = list(meta.get("sources", []))
        for path in dem.paths:
            entry = {"file": os.path.basename(path), "role": "dem"}
            if os.path.exists(path):
                entry["sha256"] = sha256_file(path)
            if entry not in sources:
                sources.append(entry)
        meta["sources"] = sources
    logger.info(
        "terrain: %d edges, %d segments in %d way chains, %d samples, %d edges on filled cells",
        len(edges),
        len(segs.rep),
        n_chains,
        len(p.z_raw),
        int(filled.sum()),
    )
    return net.replace(nodes=new_nodes, edges=new_edges, meta=meta)


def _check_coverage(
    dem: DEM,
    z_nodes: np.ndarray,
    edge_outside: np.ndarray,
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
) -> None:
    node_out = ~np.isfinite(z_nodes)
    if not node_out.any() and not edge_outside.any():
        return
    w, s, e, n = (round(b, 4) for b in nodes.total_bounds)
    db = tuple(round(b, 4) for b in dem.bounds)
    if node_out.all():
        raise DEMError(
            f"DEM {dem.source} (bounds {db}) does not cover the network at all "
            f"(network bbox {w}, {s}, {e}, {n}); use the tile(s) covering the network"
        )
    raise DEMError(
        f"DEM {dem.source} (bounds {db}) covers the network only partly: "
        f"{int(node_out.sum())} of {len(nodes)} nodes ({100 * node_out.mean():.1f} %) and "
        f"{int(edge_outside.sum())} of {len(edges)} edges ({100 * edge_outside.mean():.1f} %) "
        f"fall outside its data (network bbox {w}, {s}, {e}, {n}); add the neighbouring "
        "tiles (DEM.open([...]) mosaics them) or clip the network to the DEM"
    )


@lru_cache(maxsize=4)
def _open_quiet(paths: tuple[str, ...]) -> DEM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeologWarning)  # reported when the network was built
        return DEM.open(list(paths))


def elevation_profile(
    net_or_edges: Network | gpd.GeoDataFrame,
    edge_ids: Sequence[Any],
    *,
    dem: DEM | None = None,
    smooth_window_m: float | None = None,
    vertical_error_m: float | None = None,
) -> pd.DataFrame:
    """Distance–elevation profile along a sequence of edges (e.g. a route).

    The profile is computed exactly as :func:`add_terrain` computes ascent and
    descent (same densification, the same estimate over the whole roads the
    edges belong to, nodes fixed, straight bridges/tunnels), so its rises sum
    to the edges' ``ascent_m``.

    Parameters
    ----------
    net_or_edges
        A Network with terrain, or its edges frame (then the profile ends at
        the raw DEM samples at the nodes). Pass the whole frame: the edges'
        ways give the smoothing its context.
    edge_ids
        Row labels of ``edges``, in travel order.
    dem
        The DEM; default: re-open the files recorded in ``net.meta["terrain"]``.
    smooth_window_m
        Smoothing length; default the one recorded in ``net.meta["terrain"]``.
    vertical_error_m
        The DEM's vertical error; default the one recorded in ``net.meta["terrain"]``.

    Returns
    -------
    pandas.DataFrame
        ``distance_m`` (from the start of the first edge), ``elevation_m``,
        ``elevation_sd_m`` (posterior sd of the estimated road elevation, m:
        the DEM's error left after the estimate; a band of ± 2 sd holds the
        road with about 95 % probability), ``edge`` (row label), ``lon``,
        ``lat``; joints between edges appear once.

    Raises
    ------
    InputError
        Unknown edge labels.
    DEMError
        No DEM given and none recorded, or the DEM does not cover the edges.
    """
    meta = getattr(net_or_edges, "meta", {}) or {}
    edges = getattr(net_or_edges, "edges", net_or_edges)
    terrain = meta.get("terrain", {})
    ids = list(edge_ids)
    cols = ["distance_m", "elevation_m", "elevation_sd_m", "edge", "lon", "lat"]
    if not ids:
        return pd.DataFrame({c: [] for c in cols})
    missing = [i for i in ids if i not in edges.index]
    if missing:
        raise InputError(f"edge ids {missing[:5]} are not rows of the edges frame")
    if dem is None:
        paths = tuple(terrain.get("dem_paths") or ())
        if not paths:
            raise DEMError(
                "no DEM recorded on this network; pass dem=geolog.DEM.open(...) "
                "or build the network with net.with_terrain(dem)"
            )
        dem = _open_quiet(paths)
    if vertical_error_m is None and "dem_error" in terrain:
        vertical_error_m = terrain["dem_error"]["vertical_error_m"]
    dem = _with_error(dem, vertical_error_m)
    if smooth_window_m is None:
        smooth_window_m = terrain.get("smooth_window_m")
    model = _model(
        dem,
        smooth_window_m=smooth_window_m,
        max_grade_window_m=terrain.get("max_grade_window_m"),
    )
    pos = edges.index.get_indexer(ids)
    segs = _segments(edges)
    want = segs.row_seg[pos]
    # the whole network: roads share their junctions, so every road is context
    p = _sample_segments(segs, dem)
    local = np.full(len(segs.rep), -1, dtype=np.int64)
    local[p.segs] = np.arange(len(p.segs))
    structure = _structure_mask(edges)[segs.rep[p.segs]]
    ground = ~structure[p.seg]
    if (~np.isfinite(p.z_raw[ground])).any():
        raise DEMError(f"DEM {dem.source} does not cover all of edges {ids[:5]}…")
    z_start, z_end = p.z_raw[p.starts], p.z_raw[p.ends]
    nodes = getattr(net_or_edges, "nodes", None)
    col = "elevation_dem" if model.q > 0 else "elevation"
    if nodes is not None and col in nodes.columns:
        zn = nodes[col]
        z_start = zn.reindex(segs.fu[p.segs]).to_numpy(dtype=float)
        z_end = zn.reindex(segs.fv[p.segs]).to_numpy(dtype=float)
    sh = _shape(p, z_start, z_end, structure, model, segs.fu[p.segs], segs.fv[p.segs])
    if (~np.isfinite(sh.z[np.isin(p.seg, local[want])])).any():
        raise DEMError(f"DEM {dem.source} does not cover all of edges {ids[:5]}…")
    # the requested rows, each in its direction of travel
    ls = local[want]
    fwd = segs.row_fwd[pos]
    cnt = p.ends[ls] - p.starts[ls] + 1
    r = np.repeat(np.arange(len(ids)), cnt)
    k = np.arange(len(r)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    i = np.where(fwd[r], p.starts[ls][r] + k, p.ends[ls][r] - k)
    L = p.length[ls]
    s = np.where(fwd[r], p.s[i], L[r] - p.s[i])
    z, x, y = sh.z[i], p.x[i], p.y[i]
    if not dem.crs.is_geographic:
        from pyproj import Transformer

        tr = Transformer.from_crs(dem.crs.to_wkt(), "EPSG:4326", always_xy=True)
        x, y = tr.transform(x, y)
    lengths = edges["length_m"].to_numpy(dtype=float)[pos]
    offset = np.r_[0.0, np.cumsum(lengths)][:-1]
    keep = np.ones(len(r), dtype=bool)
    keep[(np.cumsum(cnt) - cnt)[1:]] = False  # the joint is the previous edge's last point
    label = np.asarray(edges.index[pos])[r]
    return pd.DataFrame(
        {
            "distance_m": (s + offset[r])[keep],
            "elevation_m": z[keep],
            "elevation_sd_m": sh.sd[i][keep],
            "edge": label[keep],
            "lon": np.asarray(x)[keep],
            "lat": np.asarray(y)[keep],
        }
    )


def steepest_stretch(
    profile: pd.DataFrame, stretch_m: float, *, step_m: float = 5.0
) -> tuple[float, float]:
    """Steepest climb over ``stretch_m`` metres of a distance–elevation profile.

    Parameters
    ----------
    profile
        A frame with ``distance_m`` (non-decreasing) and ``elevation_m``, e.g.
        from :func:`elevation_profile` or :meth:`geolog.routing.Route.profile`.
    stretch_m
        Length of the stretch (metres, > 0).
    step_m
        Spacing of the stretch starts tried (metres).

    Returns
    -------
    tuple of float
        The grade (fraction, rise over ``stretch_m``; negative if the profile
        only descends) and the distance (m) where that stretch starts. A
        profile shorter than ``stretch_m`` gives its end-to-end grade.

    Raises
    ------
    InputError
        ``stretch_m`` or ``step_m`` not > 0, or an empty profile.
    """
    if not (stretch_m > 0 and step_m > 0):
        raise InputError(f"stretch_m and step_m must be > 0, got {stretch_m!r}, {step_m!r}")
    d = profile["distance_m"].to_numpy(dtype=float)
    z = profile["elevation_m"].to_numpy(dtype=float)
    if len(d) == 0:
        raise InputError("the profile is empty")
    span = d[-1] - d[0]
    if span <= stretch_m:
        return (float((z[-1] - z[0]) / span) if span > 0 else 0.0), float(d[0])
    t = np.r_[np.arange(d[0], d[-1] - stretch_m, step_m), d[-1] - stretch_m]
    g = (np.interp(t + stretch_m, d, z) - np.interp(t, d, z)) / stretch_m
    i = int(np.argmax(g))
    return float(g[i]), float(t[i])
