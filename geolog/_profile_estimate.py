"""Road profiles estimated from DEM samples: the shape, its grades and their uncertainty.

Along every road chain the profile is the penalised least-squares fit of the
samples (:mod:`geolog._profile_fit` solves all roads at once); from it come
each segment's ascent, descent, mean and steepest grade with posterior sds,
and chains shorter than the grade window borrow the roads that continue them
(:mod:`geolog.drape` steps 4–6).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import _profile_fit
from ._drape_samples import Samples
from ._geometry import metric_offsets
from ._road_chains import group_bounds

logger = logging.getLogger("geolog.drape")


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
class Model:
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
class Shape:
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
    p: Samples, node_u: np.ndarray, node_v: np.ndarray, model: Model, *, min_cos: float = 0.866
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
    p: Samples,
    z0: np.ndarray,
    structure: np.ndarray,
    node_u: np.ndarray,
    node_v: np.ndarray,
    model: Model,
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


def estimate_shape(
    p: Samples,
    z_start: np.ndarray,
    z_end: np.ndarray,
    structure: np.ndarray,
    model: Model,
    node_u: np.ndarray | None = None,
    node_v: np.ndarray | None = None,
    z_given: np.ndarray | None = None,
) -> Shape:
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
    return Shape(z, zsd, ascent, descent, grade, steep, np.nan_to_num(sd), filled)


def _ports(p: Samples, *, geographic: bool, heading_m: float):
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
        dx, dy = metric_offsets(dx, dy, p.y[at])
    norm = np.hypot(dx, dy)
    h = np.column_stack([dx, dy]) / np.where(norm > 0, norm, np.inf)[:, None]
    return cf, cl, h


def borrow_context(
    p: Samples,
    sh: Shape,
    node_u: np.ndarray,
    node_v: np.ndarray,
    ident: np.ndarray,
    z_start: np.ndarray,
    z_end: np.ndarray,
    structure: np.ndarray,
    model: Model,
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
    vsh = estimate_shape(
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
    p: Samples, vseg: np.ndarray, vflip: np.ndarray, vchain: np.ndarray
) -> tuple[Samples, np.ndarray]:
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
    starts, ends = group_bounds(seg, nv)
    c_first = np.r_[True, vchain[1:] != vchain[:-1]]
    last = np.r_[c_first[1:], True]
    off = np.r_[0.0, np.cumsum(lengths + np.where(last, 1.0, 0.0))[:-1]]
    G = np.maximum.accumulate(s + off[seg])
    nc = int(vchain[-1]) + 1
    return Samples(
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
