"""Contraction hierarchies on the turn graph: built once per rule set, then tiny searches.

Why: an A* on the turn graph still settles a quarter of a small country per
random query, and a matrix runs one Dijkstra per source over the whole
graph. A contraction hierarchy (Geisberger et al. 2008) orders the states by
importance and adds *shortcut* arcs so that every shortest path climbs and
then descends that order; a query is two small upward searches (a few
hundred states on a city or a country) and a many-to-many matrix is one
backward search per target, kept in buckets, and one forward search per
source (Knopp et al. 2007). Contracting the edge-based graph itself keeps
turn restrictions and turn costs exact: a state is a directed edge, an arc
a turn.

The hierarchy holds for the graph's own weights (``TurnGraph.data``); a
search with other weights (alternatives' penalties, closures) uses the A*
of :mod:`geolog._turn_kernels`. Shortcuts remember the two arcs they stand
for, so a path unpacks to the turn graph's arcs, and carry the summed time
and length, so a matrix reports both along the least-cost path.

No kept library fits: pandana and OSRM contract node graphs (no turn costs
in pandana, a separate toolchain in OSRM), and neither starts a search from
several states with their own initial costs, which a point snapped part-way
along a two-way road needs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numba import njit

from ._ch_build import contract
from ._turn_kernels import _pop, _push

__all__ = ["Hierarchy", "build", "route", "scratch", "many"]

_BUILD_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- the hierarchy


@dataclass
class Hierarchy:
    """The contracted turn graph as two upward CSRs (searches only climb).

    States are numbered by ``rank`` (the contraction order: turn-graph state
    ``x`` is ``rank[x]`` here), so the searches, which converge on the top
    of the order, read memory that lies together. ``f*``: arcs to a higher
    state, by their source (the forward search); ``b*``: arcs from a higher
    state, by their target (the backward search; ``bto`` is the arc's
    source). ``*e`` is the arc's id in ``src``/``dst`` (ranks) and
    ``arc``/``child1``/``child2`` (``arc`` < 0: a shortcut of its
    children, standing for ``-arc`` of the turn graph's arcs).
    """

    rank: np.ndarray
    fptr: np.ndarray
    fto: np.ndarray
    fc: np.ndarray
    ft: np.ndarray
    fl: np.ndarray
    fe: np.ndarray
    bptr: np.ndarray
    bto: np.ndarray
    bc: np.ndarray
    bt: np.ndarray
    bl: np.ndarray
    be: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    arc: np.ndarray
    child1: np.ndarray
    child2: np.ndarray
    shortcuts: int

    def upward(self) -> tuple[np.ndarray, ...]:
        """The two searches' graphs (forward, then backward) as the kernels take them."""
        f = (self.fptr, self.fto, self.fc, self.ft, self.fl, self.fe)
        return (*f, self.bptr, self.bto, self.bc, self.bt, self.bl, self.be)


def _csr(by: np.ndarray, n: int, cols: list[np.ndarray]) -> list[np.ndarray]:
    order = np.argsort(by, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(by, minlength=n))]).astype(np.int64)
    return [ptr, *(np.ascontiguousarray(c[order]) for c in cols)]


def _contracted(tg) -> tuple[np.ndarray, ...]:
    """Contract ``tg``: the rank per state and the arcs (original and shortcut) as columns."""
    ok = np.isfinite(tg.data) & (tg.arc_src != tg.indices)
    arcs = np.flatnonzero(ok)
    # one arc per ordered pair of states: the cheapest
    order = np.lexsort((tg.data[arcs], tg.indices[arcs], tg.arc_src[arcs]))
    arcs = arcs[order]
    pair = tg.arc_src[arcs].astype(np.int64) * tg.n + tg.indices[arcs]
    arcs = arcs[np.r_[True, pair[1:] != pair[:-1]]]
    rank, E, F = contract(
        tg.n,
        tg.arc_src[arcs],
        tg.indices[arcs],
        arcs,
        tg.data[arcs],
        tg.arc_time[arcs],
        tg.arc_len[arcs],
    )
    return rank, *(np.ascontiguousarray(c) for c in (*E.T, *F.T))


def build(tg) -> Hierarchy:
    """The contraction hierarchy of turn graph ``tg`` (cached on it; thread-safe)."""
    if "ch" not in tg._work:
        with _BUILD_LOCK:
            if "ch" not in tg._work:
                rank, es, ed, ea, e1, e2, ec, et, el = _contracted(tg)
                # states renumbered by rank: the searches converge on the top, kept together
                es, ed = rank[es], rank[ed]
                up = es < ed
                ids = np.arange(len(es))
                f = _csr(es[up], tg.n, [ed[up], ec[up], et[up], el[up], ids[up]])
                b = _csr(ed[~up], tg.n, [es[~up], ec[~up], et[~up], el[~up], ids[~up]])
                tg._work["ch"] = Hierarchy(
                    rank, *f, *b, es, ed, ea, e1, e2, shortcuts=int((ea < 0).sum())
                )
    return tg._work["ch"]


# ----------------------------------------------------------------------------- queries


@njit(cache=True, nogil=True)
def _search(ptr, to, c, t, ln, ids, sptr, sto, sc, a, b, starts, c0, t0, l0, d, dt, dl, pred, touched, settled, hk, hv, other, limit):  # pragma: no cover - compiled  # fmt: skip
    """Upward Dijkstra from ``starts[a:b]`` (costs ``c0``, time ``t0``, length ``l0``).

    A state reached more cheaply from above (through the opposite graph
    ``sptr``/``sto``/``sc``) is stalled: its label is not its distance, so
    it is neither expanded nor listed. With the other direction's labels
    ``other`` (non-empty), tracks the best meeting and stops once the
    cheapest open label reaches it. Returns ``(touched, settled, best,
    meet)`` counts and the meeting (``inf``, -1 without ``other``).
    """
    nt = 0
    ns = 0
    size = 0
    for q in range(a, b):
        x = starts[q]
        if c0[q] < d[x] and c0[q] <= limit:
            if d[x] == np.inf:
                touched[nt] = x
                nt += 1
            d[x] = c0[q]
            dt[x] = t0[q]
            dl[x] = l0[q]
            pred[x] = -1 - q
            size = _push(hk, hv, size, c0[q], x)
    meet_on = len(other) > 0
    best = np.inf
    meet = -1
    while size > 0:
        key = hk[0]
        x = hv[0]
        if meet_on and key >= best:
            break
        size = _pop(hk, hv, size)
        if key > d[x]:
            continue
        if meet_on and key + other[x] < best:
            best = key + other[x]
            meet = x
        stalled = False
        for k in range(sptr[x], sptr[x + 1]):
            if d[sto[k]] + sc[k] < key:
                stalled = True
                break
        if stalled:
            continue
        settled[ns] = x
        ns += 1
        for k in range(ptr[x], ptr[x + 1]):
            y = to[k]
            nd = key + c[k]
            if nd < d[y] and nd <= limit:
                if d[y] == np.inf:
                    touched[nt] = y
                    nt += 1
                d[y] = nd
                dt[y] = dt[x] + t[k]
                dl[y] = dl[x] + ln[k]
                pred[y] = ids[k]
                size = _push(hk, hv, size, nd, y)
    return nt, ns, best, meet


@njit(cache=True, inline="always")
def _unpack(e, arc, c1, c2, stack, out, m):  # pragma: no cover - compiled
    """Append the turn-graph arcs CH arc ``e`` stands for to ``out[m:]``; returns the new ``m``."""
    stack[0] = e
    top = 1
    while top > 0:
        top -= 1
        e = stack[top]
        if arc[e] >= 0:
            out[m] = arc[e]
            m += 1
        else:
            stack[top] = c2[e]
            stack[top + 1] = c1[e]
            top += 2
    return m


@njit(cache=True)
def _route(fptr, fto, fc, ft, fl, fe, bptr, bto, bc, bt, bl, be, src, dst, arc, c1, c2, fs, fc0, ts, tc0, df, db, pf, pb, dt, dl, touched_f, touched_b, settled, out, stack, hk, hv):  # pragma: no cover - compiled  # fmt: skip
    """Least cost from start states ``fs`` (costs ``fc0``) to end states ``ts`` (``tc0``).

    The backward upward search runs to exhaustion (it is small), then the
    forward one meets it. ``df``/``db`` (``inf``) and the rest from ``pf``
    on are per-state scratch kept by the caller (:func:`scratch`; the
    labels are restored on exit), so a query allocates nothing the size of
    the graph. Returns ``(cost, arcs, first, last)`` as
    :func:`geolog._turn_kernels.astar` does.
    """
    zs = np.zeros(max(len(fs), len(ts)))
    ntb, _, _, _ = _search(bptr, bto, bc, bt, bl, be, fptr, fto, fc, 0, len(ts), ts, tc0, zs, zs, db, dt, dl, pb, touched_b, settled, hk, hv, np.empty(0), np.inf)  # fmt: skip
    ntf, _, best, meet = _search(fptr, fto, fc, ft, fl, fe, bptr, bto, bc, 0, len(fs), fs, fc0, zs, zs, df, dt, dl, pf, touched_f, settled, hk, hv, db, np.inf)  # fmt: skip
    m = 0
    first = -1
    last = -1
    if meet >= 0:
        q = 0  # the forward chain, from the meeting back to a start, in `settled`
        x = meet
        while pf[x] >= 0:
            settled[q] = pf[x]
            q += 1
            x = src[pf[x]]
        first = -1 - pf[x]
        for k in range(q - 1, -1, -1):
            m = _unpack(settled[k], arc, c1, c2, stack, out, m)
        x = meet
        while pb[x] >= 0:
            m = _unpack(pb[x], arc, c1, c2, stack, out, m)
            x = dst[pb[x]]
        last = -1 - pb[x]
    for q in range(ntf):
        df[touched_f[q]] = np.inf
    for q in range(ntb):
        db[touched_b[q]] = np.inf
    return best, out[:m].copy(), first, last


@njit(cache=True, nogil=True)  # matrix blocks run on threads side by side
def _many(fptr, fto, fc, ft, fl, fe, bptr, bto, bc, bt, bl, be, sp, ss, sc, st, sl, tp, tst, tcc, ttt, tll, limit):  # pragma: no cover - compiled  # fmt: skip
    """Cost, time and length from every source to every target, by buckets.

    One backward upward search per target leaves ``(target, cost, time,
    length)`` in a bucket at every state it settles; one forward upward
    search per source scans the buckets of the states it settles (Knopp et
    al. 2007). Sources and targets are CSRs over start/end states as in
    :func:`geolog._turn_kernels.one_to_many`.
    """
    n = len(fptr) - 1
    M = len(sp) - 1
    N = len(tp) - 1
    cost = np.full((M, N), np.inf)
    tim = np.full((M, N), np.inf)
    lng = np.full((M, N), np.inf)
    d = np.full(n, np.inf)
    dt = np.zeros(n)
    dl = np.zeros(n)
    pred = np.zeros(n, np.int64)
    touched = np.empty(n, np.int64)
    settled = np.empty(n, np.int64)
    hk = np.empty(max(len(fto), len(bto)) + len(ss) + len(tst) + 1)
    hv = np.empty(len(hk), np.int64)
    none = np.empty(0)
    cap = 1024
    bx = np.empty(cap, np.int64)
    bj = np.empty(cap, np.int64)
    bv = np.empty((cap, 3))
    nb = 0
    for j in range(N):
        nt, ns, _, _ = _search(bptr, bto, bc, bt, bl, be, fptr, fto, fc, tp[j], tp[j + 1], tst, tcc, ttt, tll, d, dt, dl, pred, touched, settled, hk, hv, none, limit)  # fmt: skip
        if nb + ns > cap:
            cap = 2 * (nb + ns)
            bx2 = np.empty(cap, np.int64)
            bj2 = np.empty(cap, np.int64)
            bv2 = np.empty((cap, 3))
            bx2[:nb] = bx[:nb]
            bj2[:nb] = bj[:nb]
            bv2[:nb] = bv[:nb]
            bx, bj, bv = bx2, bj2, bv2
        for q in range(ns):
            x = settled[q]
            bx[nb] = x
            bj[nb] = j
            bv[nb, 0] = d[x]
            bv[nb, 1] = dt[x]
            bv[nb, 2] = dl[x]
            nb += 1
        for q in range(nt):
            d[touched[q]] = np.inf
    ptr = np.zeros(n + 1, np.int64)
    for k in range(nb):
        ptr[bx[k] + 1] += 1
    for x in range(n):
        ptr[x + 1] += ptr[x]
    fill = ptr[:-1].copy()
    order = np.empty(nb, np.int64)
    for k in range(nb):
        order[fill[bx[k]]] = k
        fill[bx[k]] += 1
    for i in range(M):
        nt, ns, _, _ = _search(fptr, fto, fc, ft, fl, fe, bptr, bto, bc, sp[i], sp[i + 1], ss, sc, st, sl, d, dt, dl, pred, touched, settled, hk, hv, none, limit)  # fmt: skip
        for q in range(ns):
            x = settled[q]
            for r in range(ptr[x], ptr[x + 1]):
                k = order[r]
                j = bj[k]
                c = d[x] + bv[k, 0]
                if c < cost[i, j] and c <= limit:
                    cost[i, j] = c
                    tim[i, j] = dt[x] + bv[k, 1]
                    lng[i, j] = dl[x] + bv[k, 2]
        for q in range(nt):
            d[touched[q]] = np.inf
    return cost, tim, lng


def route(h: Hierarchy, fs, fc, ts, tc, scratch) -> tuple[float, np.ndarray, int, int]:
    """Least cost from start states ``fs`` (costs ``fc``) to end states ``ts`` (``tc``).

    ``scratch`` is :func:`scratch`'s arrays for ``h`` (one search at a time).
    Returns ``(cost, arcs, first, last)``: the turn graph's arcs in order and
    the indices into ``fs`` and ``ts`` the path starts and ends at (``inf``,
    -1, -1 when there is none).
    """
    unpack = (h.src, h.dst, h.arc, h.child1, h.child2)
    return _route(*h.upward(), *unpack, h.rank[fs], fc, h.rank[ts], tc, *scratch)


def scratch(h: Hierarchy) -> tuple[np.ndarray, ...]:
    """Per-state labels, predecessors, lists and heaps for :func:`route` on ``h``."""
    n = len(h.rank)
    heap = len(h.fto) + len(h.bto) + 64
    df, db = np.full(n, np.inf), np.full(n, np.inf)
    pf, pb, touched_f, touched_b, settled, out, stack = (
        np.zeros(n + 2, np.int64) for _ in range(7)
    )
    dt, dl = np.zeros(n), np.zeros(n)
    hk, hv = np.empty(heap), np.empty(heap, np.int64)
    return df, db, pf, pb, dt, dl, touched_f, touched_b, settled, out, stack, hk, hv


def many(h: Hierarchy, sources: tuple, targets: tuple, limit: float = np.inf) -> tuple:
    """``(cost, time, length)``, ``sources × targets``: CSRs as :func:`one_to_many` takes them."""
    sp, ss, *src = sources
    tp, ts, *tgt = targets
    return _many(*h.upward(), sp, h.rank[ss], *src, tp, h.rank[ts], *tgt, float(limit))
