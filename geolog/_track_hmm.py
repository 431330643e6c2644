"""Hidden-Markov map matching (Newson & Krumm 2009), vectorised.

States are *candidates*: for each GPS fix, up to ``max_candidates`` routable
edge rows (each direction of a two-way road is its own row) within
``radius_m``, with the fraction of the edge the fix projects to. Emission:
a zero-mean Gaussian of the fix-to-road distance (``sigma_m``). Transition:
an exponential of ``|route distance - great-circle distance|`` (``beta_m``),
where the route distance between two candidates runs along the edges; node
to node distances come from bounded :func:`scipy.sparse.csgraph.dijkstra`
searches on the routing graph's CSR (edge lengths), one search per distinct
source node of a chunk of fixes (``limit`` = the farthest the vehicle could
have driven). Transitions longer than that, or with no road, are impossible.

Where no transition between two consecutive fixes is possible, or a fix has
no road within ``radius_m``, the match *breaks*: the break is reported and a
new segment starts. Viterbi runs with numpy over a padded ``(T, K, K)``
table; the confidence of each matched fix is its probability among its
candidates given the matched states before and after it.

Reference: P. Newson and J. Krumm (2009), "Hidden Markov map matching
through noise and sparseness", ACM SIGSPATIAL GIS '09, 336-343.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csr_array

from ._graph import RoutingGraph
from ._track_io import fix_distances_m

__all__ = ["HMMResult", "hmm_match", "thin_fixes"]

_CHUNK = 256  # transitions per batch of Dijkstra searches


@dataclass
class HMMResult:
    """The matched path of one trace, in edge rows (positional)."""

    fix: np.ndarray  # positions (into the given fixes) of the fixes matched
    row: np.ndarray  # matched edge row per matched fix
    frac: np.ndarray  # fraction along it
    dist_m: np.ndarray  # fix-to-road distance
    confidence: np.ndarray  # per matched fix, 0..1
    segment: np.ndarray  # segment number per matched fix
    piece_row: np.ndarray  # the path: edge rows in travel order
    piece_f0: np.ndarray
    piece_f1: np.ndarray
    piece_seg: np.ndarray
    fix_piece: np.ndarray  # piece of each matched fix
    breaks: list[dict] = field(default_factory=list)


def thin_fixes(lat: np.ndarray, lon: np.ndarray, min_m: float) -> np.ndarray:
    """Positions of the fixes kept when each must be ``min_m`` from the last kept.

    Newson & Krumm drop fixes within two sigma of the previous one: at
    walking pace, noise and not motion separates them. The last fix is kept.
    """
    n = len(lat)
    if n == 0 or min_m <= 0:
        return np.arange(n)
    from ._geometry import metres_per_degree

    kx, ky = metres_per_degree(float(np.mean(lat)))
    x, y = np.asarray(lon) * kx, np.asarray(lat) * ky
    keep = [0]
    lx, ly = x[0], y[0]
    for i in range(1, n):  # sequential by nature; cheap scalar work
        if (x[i] - lx) ** 2 + (y[i] - ly) ** 2 >= min_m * min_m:
            keep.append(i)
            lx, ly = x[i], y[i]
    if keep[-1] != n - 1:
        keep.append(n - 1)
    return np.asarray(keep, dtype=np.int64)


@dataclass
class SegmentIndex:
    """STRtree over the straight segments of every usable edge, in the metric frame.

    A long winding road (hairpins) passes a fix more than once; its nearest
    point alone can lie on the wrong bend. Candidates come from segments, so
    each pass of a road near the fix is a candidate of its own.
    """

    frame: Any
    tree: Any
    seg_row: np.ndarray  # edge row of each segment
    seg_start_m: np.ndarray  # distance of the segment's start along its edge (metric frame)
    row_len_m: np.ndarray  # metric length of each edge row (by row position)
    a: np.ndarray  # (n, 2) segment starts, metres
    b: np.ndarray  # (n, 2) segment ends


def usable_index(net: Any, g: RoutingGraph) -> SegmentIndex:
    """The :class:`SegmentIndex` of every usable edge row (cached with the routing graph).

    Wider than routing's index (the strongly connected core): a vehicle
    also drives the one-way links between pieces, and a fix there must be
    able to match them.
    """
    if "track_index" not in g._extra:
        from ._snap import metric_edges

        frame, geoms_m = metric_edges(net)
        rows = np.flatnonzero(g.usable)
        xy, gid = shapely.get_coordinates(geoms_m[rows], return_index=True)
        inner = np.flatnonzero(gid[1:] == gid[:-1])  # segment i: vertex i -> i + 1
        seg_len = np.hypot(*(xy[inner + 1] - xy[inner]).T)
        seg_row = rows[gid[inner]]
        first = np.r_[True, seg_row[1:] != seg_row[:-1]]
        cum = np.cumsum(seg_len)
        start = cum - seg_len
        start -= np.maximum.accumulate(np.where(first, start, 0.0))
        segs = shapely.linestrings(
            np.stack([xy[inner], xy[inner + 1]], axis=1).reshape(-1, 2),
            indices=np.repeat(np.arange(len(inner)), 2),
        )
        row_len = np.zeros(len(geoms_m))
        row_len[rows] = shapely.length(geoms_m[rows])
        g._extra["track_index"] = SegmentIndex(
            frame, shapely.STRtree(segs), seg_row, start, row_len, xy[inner], xy[inner + 1]
        )
    return g._extra["track_index"]


#: Two candidates on one road for one fix must be this far apart along it (metres).
_SAME_PASS_M = 100.0


def _firsts(*keys: np.ndarray) -> np.ndarray:
    """True at the first element of each run of equal key tuples (sorted input)."""
    out = np.ones(len(keys[0]), dtype=bool)
    if len(out) > 1:
        out[1:] = np.any([k[1:] != k[:-1] for k in keys], axis=0)
    return out


def _candidates(
    index: SegmentIndex, lon: np.ndarray, lat: np.ndarray, radius_m: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded ``(T, K)`` tables of candidate rows (-1 pad), fractions and distances.

    Per fix and road, the nearest point and, when the road passes again
    farther than :data:`_SAME_PASS_M` along it, the nearest point of that pass.
    """
    t = len(lon)
    rows = np.full((t, k), -1, dtype=np.int64)
    frac = np.zeros((t, k))
    dist = np.full((t, k), np.inf)
    if len(index.seg_row) == 0:
        return rows, frac, dist
    xy = index.frame.fwd(np.column_stack([lon, lat]))
    pi, si = index.tree.query(shapely.points(xy), predicate="dwithin", distance=radius_m)
    # projection onto straight segments: plain vector algebra, no GEOS call per pair
    a, ab = index.a[si], index.b[si] - index.a[si]
    ab2 = np.einsum("ij,ij->i", ab, ab)
    u = np.clip(np.einsum("ij,ij->i", xy[pi] - a, ab) / np.where(ab2 > 0, ab2, 1.0), 0.0, 1.0)
    d = np.hypot(*(a + u[:, None] * ab - xy[pi]).T)
    row = index.seg_row[si]
    pos = index.seg_start_m[si] + u * np.sqrt(ab2)
    order = np.lexsort((d, row, pi))
    pi, row, d, pos = pi[order], row[order], d[order], pos[order]
    best = _firsts(pi, row)
    best_pos = pos[np.maximum.accumulate(np.where(best, np.arange(len(pos)), 0))]
    other = ~best & (np.abs(pos - best_pos) > _SAME_PASS_M)
    oi = np.flatnonzero(other)
    second = np.zeros(len(pos), dtype=bool)
    second[oi[_firsts(pi[oi], row[oi])]] = True
    keep = best | second
    pi, row, d, pos = pi[keep], row[keep], d[keep], pos[keep]
    order = np.lexsort((row, d, pi))
    pi, row, d, pos = pi[order], row[order], d[order], pos[order]
    rank = np.arange(len(pi)) - np.searchsorted(pi, pi, side="left")
    ok = rank < k
    pi, row, d, pos, rank = pi[ok], row[ok], d[ok], pos[ok], rank[ok]
    length = index.row_len_m[row]
    rows[pi, rank] = row
    frac[pi, rank] = np.clip(pos / np.where(length > 0, length, 1.0), 0.0, 1.0)
    dist[pi, rank] = d
    return rows, frac, dist


@dataclass
class _Search:
    """Dijkstra results of one chunk: source node -> row of ``dist`` / ``pred``."""

    src: np.ndarray  # sorted source node positions
    dist: np.ndarray
    pred: np.ndarray

    def lookup(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.src, a)
        return self.dist[i, b]

    def path(self, a: int, b: int) -> list[int]:
        """Node positions from ``a`` to ``b`` (inclusive); [] when unreachable."""
        i = int(np.searchsorted(self.src, a))
        nodes = [b]
        while nodes[-1] != a:
            p = int(self.pred[i, nodes[-1]])
            if p < 0:
                return []
            nodes.append(p)
        return nodes[::-1]


def _length_csr(g: RoutingGraph) -> csr_array:
    if "length_csr" not in g._extra:
        g._extra["length_csr"] = csr_array(
            (g.length[g.entry_row], g.indices, g.indptr), shape=(g.n, g.n)
        )
    return g._extra["length_csr"]


def _transitions(
    g: RoutingGraph,
    rows: np.ndarray,
    frac: np.ndarray,
    gc: np.ndarray,
    allowed: np.ndarray,
    beta_m: float,
) -> tuple[np.ndarray, list[_Search], np.ndarray]:
    """Log transition table ``(T-1, K, K)``, the chunk searches, chunk of each step."""
    from scipy.sparse.csgraph import dijkstra

    t1, k = len(gc), rows.shape[1]
    logp = np.full((t1, k, k), -np.inf)
    searches: list[_Search] = []
    chunk_of = np.arange(t1) // _CHUNK
    mat = _length_csr(g)
    for c0 in range(0, t1, _CHUNK):
        sl = slice(c0, min(c0 + _CHUNK, t1))
        ra, rb = rows[sl][:, :, None], rows[c0 + 1 : sl.stop + 1][:, None, :]
        fa, fb = frac[sl][:, :, None], frac[c0 + 1 : sl.stop + 1][:, None, :]
        ok = (ra >= 0) & (rb >= 0)
        ra_, rb_ = np.where(ok, ra, 0), np.where(ok, rb, 0)
        src = np.unique(g.vpos[rows[sl][rows[sl] >= 0]])
        lim = float(np.max(allowed[sl])) if sl.stop > c0 else 0.0
        if len(src):
            dist, pred = dijkstra(
                mat, directed=True, indices=src, limit=lim, return_predecessors=True
            )
        else:
            dist, pred = np.zeros((0, g.n)), np.zeros((0, g.n), dtype=np.int32)
        s = _Search(src, dist, pred)
        searches.append(s)
        la, lb = g.length[ra_], g.length[rb_]
        via = (1.0 - fa) * la + s.lookup(g.vpos[ra_], g.upos[rb_]) + fb * lb
        # on the same edge, GPS noise can put the next fix behind the last one:
        # the distance between the projections, not a loop around the block
        route = np.where(ra_ == rb_, np.abs(fb - fa) * la, via)
        a = allowed[sl][:, None, None]
        feasible = ok & np.isfinite(route) & (route <= a)
        dev = np.abs(route - gc[sl][:, None, None])
        logp[sl] = np.where(feasible, -dev / beta_m, -np.inf)
    return logp, searches, chunk_of


def _viterbi(emis: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best state per step and segment starts (steps where no transition was possible)."""
    t, k = emis.shape
    back = np.zeros((t, k), dtype=np.int64)
    score = emis[0].copy()
    starts = np.zeros(t, dtype=bool)
    starts[0] = True
    last = np.zeros(t, dtype=np.int64)
    for i in range(1, t):
        s = score[:, None] + trans[i - 1]
        back[i] = np.argmax(s, axis=0)
        best = s[back[i], np.arange(k)]
        if not np.isfinite(best).any() or not np.isfinite(score).any():
            last[i - 1] = int(np.argmax(score))
            starts[i] = True
            score = emis[i].copy()
        else:
            score = best + emis[i]
    state = np.zeros(t, dtype=np.int64)
    state[-1] = int(np.argmax(score))
    for i in range(t - 1, 0, -1):
        state[i - 1] = last[i - 1] if starts[i] else back[i, state[i]]
    return state, starts


def _confidence(
    emis: np.ndarray, trans: np.ndarray, state: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """P(chosen candidate | matched neighbours), per step, vectorised."""
    t, k = emis.shape
    ll = emis.copy()
    idx = np.arange(t)
    if t > 1:
        link = ~starts[1:]  # step i -> i+1 inside one segment
        into = trans[idx[:-1], state[:-1], :]  # (t-1, k): from chosen at i to each cand at i+1
        ll[1:] += np.where(link[:, None], into, 0.0)
        outof = trans[idx[:-1], :, state[1:]]  # (t-1, k): from each cand at i to chosen at i+1
        ll[:-1] += np.where(link[:, None], outof, 0.0)
    m = np.max(ll, axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        p = np.exp(ll - np.where(np.isfinite(m), m, 0.0))
    tot = p.sum(axis=1)
    return np.where(tot > 0, p[idx, state] / np.where(tot > 0, tot, 1.0), 0.0)


def _assemble(
    g: RoutingGraph,
    row: np.ndarray,
    frac: np.ndarray,
    seg: np.ndarray,
    step_search: list[_Search | None],
) -> tuple[np.ndarray, ...]:
    """The path pieces ``(row, f0, f1, seg)`` through the matched states, and each state's piece.

    ``step_search[i]`` is the search that holds the node path from state
    ``i`` to state ``i + 1`` (``None`` at a segment end).
    """
    pr: list[int] = []
    p0: list[float] = []
    p1: list[float] = []
    ps: list[int] = []
    fix_piece = np.zeros(len(row), dtype=np.int64)
    for i in range(len(row)):
        r, f = int(row[i]), float(frac[i])
        if i == 0 or seg[i] != seg[i - 1]:
            pr.append(r), p0.append(f), p1.append(f), ps.append(int(seg[i]))
        elif r == pr[-1]:  # a fix behind the last on the same edge is noise
            p1[-1] = max(p1[-1], f)
        else:
            p1[-1] = 1.0
            search = step_search[i - 1]
            nodes = search.path(int(g.vpos[pr[-1]]), int(g.upos[r])) if search else []
            if len(nodes) > 1:
                mid = g.rows_for_pairs(np.asarray(nodes[:-1]), np.asarray(nodes[1:]))
                for m in mid.tolist():
                    pr.append(m), p0.append(0.0), p1.append(1.0), ps.append(int(seg[i]))
            pr.append(r), p0.append(0.0), p1.append(f), ps.append(int(seg[i]))
        fix_piece[i] = len(pr) - 1
    return (
        np.asarray(pr, dtype=np.int64),
        np.asarray(p0),
        np.asarray(p1),
        np.asarray(ps, dtype=np.int64),
        fix_piece,
    )


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` positions of each run of True."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1, strict=True))


def hmm_match(
    g: RoutingGraph,
    index: SegmentIndex,
    lon: np.ndarray,
    lat: np.ndarray,
    t_s: np.ndarray,
    *,
    sigma_m: float,
    beta_m: float,
    radius_m: float,
    max_candidates: int,
    max_speed_mps: float,
) -> HMMResult:
    """Match fixes (already thinned and sorted by time ``t_s``, seconds) to edge rows.

    A fix behind the previous one on the same edge is GPS noise, not a U-turn:
    the driven distance between them is the distance between projections.
    """
    rows, frac, dist = _candidates(index, lon, lat, radius_m, max_candidates)
    on = rows[:, 0] >= 0
    breaks = [
        {"kind": "off network", "first_fix": int(a), "last_fix": int(b)} for a, b in _runs(~on)
    ]
    keep = np.flatnonzero(on)
    rows, frac, dist = rows[keep], frac[keep], dist[keep]
    emis = np.where(rows >= 0, -0.5 * (dist / sigma_m) ** 2, -np.inf)
    gc = fix_distances_m(lat[keep], lon[keep])
    dt = np.diff(t_s[keep])
    allowed = np.minimum(max_speed_mps * dt, 2.0 * gc + 2000.0) + 2.0 * radius_m
    if len(keep) > 1:
        trans, searches, chunk_of = _transitions(g, rows, frac, gc, allowed, beta_m)
        trans[np.diff(keep) > 1] = -np.inf  # off-network fixes between: a new segment
    else:
        trans, searches, chunk_of = np.zeros((0, rows.shape[1], rows.shape[1])), [], []
    if len(keep) == 0:
        state, starts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    else:
        state, starts = _viterbi(emis, trans)
    conf = _confidence(emis, trans, state, starts) if len(keep) else np.zeros(0)
    for i in np.flatnonzero(starts[1:]) + 1:
        if keep[i] - keep[i - 1] == 1:
            breaks.append(
                {"kind": "no route", "first_fix": int(keep[i - 1]), "last_fix": int(keep[i])}
            )
    seg = np.cumsum(starts) - 1
    idx = np.arange(len(keep))
    mrow, mfrac = rows[idx, state], frac[idx, state]
    step_search = [None if starts[i + 1] else searches[chunk_of[i]] for i in range(len(keep) - 1)]
    pr, p0, p1, ps, fix_piece = _assemble(g, mrow, mfrac, seg, step_search)
    return HMMResult(
        fix=keep,
        row=mrow,
        frac=mfrac,
        dist_m=dist[idx, state],
        confidence=conf,
        segment=seg,
        piece_row=pr,
        piece_f0=p0,
        piece_f1=p1,
        piece_seg=ps,
        fix_piece=fix_piece,
        breaks=sorted(breaks, key=lambda b: b["first_fix"]),
    )
