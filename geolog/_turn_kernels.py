"""Compiled searches on the turn graph (numba): A* point to point, Dijkstra one to many.

Why compiled code: a query must cost what its search touches, not what the
network holds. scipy's ``dijkstra`` allocates and fills per-state arrays
(and its Fibonacci-heap nodes) for the whole graph on every call, and
igraph/networkx pay per call for their own graph objects; neither offers an
early-exit goal-directed search over a CSR with several weighted start and
end states. These kernels keep their per-state labels in arrays that live
with the graph and reset only the states a search touched, so a 5 km trip
costs the same on a city as on a country.

Compiled once per machine (``cache=True``: the machine code is stored next to
this file, or in numba's user cache) — a few seconds on first use.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["astar", "one_to_many"]


@njit(cache=True, inline="always")
def _push(hk, hv, size, key, val):  # pragma: no cover - compiled
    """Push onto a 4-ary min-heap (keys ``hk``, values ``hv``); returns the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _pop(hk, hv, size):  # pragma: no cover - compiled
    """Drop the top of the 4-ary min-heap; returns the new size."""
    size -= 1
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        best = c
        end = min(c + 4, size)
        for d in range(c + 1, end):
            if hk[d] < hk[best]:
                best = d
        if key <= hk[best]:
            break
        hk[i] = hk[best]
        hv[i] = hv[best]
        i = best
    hk[i] = key
    hv[i] = val
    return size


@njit(cache=True, inline="always")
def _potential(x, sx, sy, rate, tx, ty, lf, lb, tf, tb, tc):  # pragma: no cover - compiled
    """Lower bound of the cost from state ``x`` to the end: straight line and landmarks.

    Straight line: ``rate`` times the distance to the target point. Landmarks
    (ALT): ``lf[x, l]`` / ``lb[x, l]`` are the costs from / to landmark ``l``;
    for each end state ``j`` (``tf[j, l]``, ``tb[j, l]`` and end cost
    ``tc[j]``) the triangle inequality bounds the cost to it; the bound to the
    end is the least over end states. ``inf``: ``x`` cannot reach any end.
    """
    h = rate * np.sqrt((sx[x] - tx) ** 2 + (sy[x] - ty) ** 2)
    k = lf.shape[1]
    if k == 0:
        return h
    best = np.inf
    for j in range(len(tc)):
        b = 0.0
        for q in range(k):
            if tb[j, q] < np.inf:  # x -> end -> landmark
                v = lb[x, q] - tb[j, q]
                if v > b:
                    b = v
            if lf[x, q] < np.inf:  # landmark -> x -> end
                v = tf[j, q] - lf[x, q]
                if v > b:
                    b = v
        if b + tc[j] < best:
            best = b + tc[j]
    return max(h, best)


@njit(cache=True)
def astar(
    indptr, indices, data, arc_src, sx, sy, rate, tx, ty, lf, lb, tf, tb,
    fs, fc, ts, tc, dist, pred, tend, tidx, hval,
):  # pragma: no cover - compiled  # fmt: skip
    """Least cost from start states ``fs`` (costs ``fc``) to end states ``ts`` (``tc``), A*.

    The potential (:func:`_potential`) is a lower bound of the cost to the
    end and consistent (the straight line at the network's least cost per
    metre; landmark distances by the triangle inequality), so the search is
    exact and stops when the cheapest open estimate reaches the best
    complete path. ``dist``/``pred``/``tend``/``tidx``/``hval`` are
    per-state scratch kept by the caller (``inf`` on entry for ``dist`` and
    ``tend``, restored on exit for every state touched). Returns ``(cost,
    arcs, first, last, touched)``: the path's arcs in order, the indices
    into ``fs`` and ``ts`` it starts and ends at (``inf``, -1, -1 when
    none) and how many states the search touched.
    """
    cap = len(data) + len(fs) + 1
    hk = np.empty(cap)
    hv = np.empty(cap, np.int64)
    touched = np.empty(len(dist) + len(ts) + 1, np.int64)
    nt = 0
    for j in range(len(ts)):
        x = ts[j]
        if tend[x] == np.inf:
            touched[nt] = x
            nt += 1
        if tc[j] < tend[x]:
            tend[x] = tc[j]
            tidx[x] = j
    size = 0
    best = np.inf
    bx = -1
    for i in range(len(fs)):
        x = fs[i]
        if fc[i] < dist[x]:
            if dist[x] == np.inf:
                touched[nt] = x
                nt += 1
                hval[x] = _potential(x, sx, sy, rate, tx, ty, lf, lb, tf, tb, tc)
            dist[x] = fc[i]
            pred[x] = -1 - i
            if hval[x] < np.inf:
                size = _push(hk, hv, size, fc[i] + hval[x], x)
            if fc[i] + tend[x] < best:
                best = fc[i] + tend[x]
                bx = x
    while size > 0:
        key = hk[0]
        x = hv[0]
        if key >= best:
            break
        size = _pop(hk, hv, size)
        dx = dist[x]
        if key > dx + hval[x]:
            continue  # stale entry
        for k in range(indptr[x], indptr[x + 1]):
            y = indices[k]
            nd = dx + data[k]
            if nd < dist[y]:
                if dist[y] == np.inf:
                    touched[nt] = y
                    nt += 1
                    hval[y] = _potential(y, sx, sy, rate, tx, ty, lf, lb, tf, tb, tc)
                dist[y] = nd
                pred[y] = k
                if hval[y] < np.inf:
                    size = _push(hk, hv, size, nd + hval[y], y)
                if nd + tend[y] < best:
                    best = nd + tend[y]
                    bx = y
    first = -1
    last = -1
    m = 0
    path = np.empty(nt + 1, np.int64)
    if bx >= 0:
        last = tidx[bx]
        x = bx
        while pred[x] >= 0:
            path[m] = pred[x]
            m += 1
            x = arc_src[pred[x]]
        first = -1 - pred[x]
    for q in range(nt):
        x = touched[q]
        dist[x] = np.inf
        tend[x] = np.inf
    return best, path[:m][::-1].copy(), first, last, nt


@njit(cache=True, inline="always")
def _collect(
    i, ns, settled, dist, pred, arc_src, arc_time, arc_len, st, sl, dt, dl,
    tp, tst, tcc, ttt, tll, all_states, cost, tim, lng,
):  # pragma: no cover - compiled  # fmt: skip
    """Source ``i``'s row of the results: time and length summed down its tree, then per target."""
    for q in range(ns):  # parents are settled before their children
        x = settled[q]
        k = pred[x]
        if k < 0:
            dt[x] = st[-1 - k]
            dl[x] = sl[-1 - k]
        else:
            dt[x] = dt[arc_src[k]] + arc_time[k]
            dl[x] = dl[arc_src[k]] + arc_len[k]
    if all_states:
        for q in range(ns):
            x = settled[q]
            cost[i, x] = dist[x]
            tim[i, x] = dt[x]
            lng[i, x] = dl[x]
        return
    for j in range(len(tp) - 1):
        for q in range(tp[j], tp[j + 1]):
            x = tst[q]
            c = dist[x] + tcc[q]
            if c < cost[i, j]:
                cost[i, j] = c
                tim[i, j] = dt[x] + ttt[q]
                lng[i, j] = dl[x] + tll[q]


@njit(cache=True, nogil=True)  # matrix blocks run on threads side by side
def one_to_many(
    indptr,
    indices,
    data,
    arc_src,
    arc_time,
    arc_len,
    sp,
    ss,
    sc,
    st,
    sl,
    tp,
    tst,
    tcc,
    ttt,
    tll,
    limit,
):  # pragma: no cover - compiled
    """Per source (CSR ``sp`` over start states ``ss`` with cost/time/length ``sc``/``st``/``sl``),
    one Dijkstra that stops once every target state is settled or past ``limit``.

    Targets are a CSR ``tp`` over end states ``tst`` with end cost/time/length
    ``tcc``/``ttt``/``tll``. Returns ``(cost, time, length)``, each
    ``sources × targets`` (``inf`` where unreached), time and length along the
    least-cost path (summed after the search, in settling order, from each
    state's predecessor arc). With no targets (``len(tp) == 1``), returns the
    labels of every state for the single source instead (``1 × states``).
    """
    n = len(indptr) - 1
    m = len(sp) - 1
    nt_cols = len(tp) - 1
    all_states = nt_cols == 0
    width = n if all_states else nt_cols
    cost = np.full((m, width), np.inf)
    tim = np.full((m, width), np.inf)
    lng = np.full((m, width), np.inf)
    dist = np.full(n, np.inf)
    pred = np.zeros(n, np.int64)
    dt = np.zeros(n)
    dl = np.zeros(n)
    is_t = np.zeros(n, np.bool_)
    for k in range(len(tst)):
        is_t[tst[k]] = True
    n_t = 0
    for x in range(n):
        if is_t[x]:
            n_t += 1
    cap = len(data) + len(ss) + 1
    hk = np.empty(cap)
    hv = np.empty(cap, np.int64)
    touched = np.empty(n, np.int64)
    settled = np.empty(n, np.int64)
    for i in range(m):
        nt = 0
        ns = 0
        size = 0
        for q in range(sp[i], sp[i + 1]):
            x = ss[q]
            if sc[q] < dist[x] and sc[q] <= limit:
                if dist[x] == np.inf:
                    touched[nt] = x
                    nt += 1
                dist[x] = sc[q]
                pred[x] = -1 - q
                size = _push(hk, hv, size, sc[q], x)
        left = n_t
        while size > 0 and (left > 0 or all_states):
            x = hv[0]
            key = hk[0]
            size = _pop(hk, hv, size)
            if key > dist[x]:
                continue  # stale: settled before with a smaller key
            settled[ns] = x
            ns += 1
            if is_t[x]:
                left -= 1
            for k in range(indptr[x], indptr[x + 1]):
                y = indices[k]
                nd = key + data[k]
                if nd < dist[y] and nd <= limit:
                    if dist[y] == np.inf:
                        touched[nt] = y
                        nt += 1
                    dist[y] = nd
                    pred[y] = k
                    size = _push(hk, hv, size, nd, y)
        _collect(i, ns, settled, dist, pred, arc_src, arc_time, arc_len, st, sl, dt, dl,
                 tp, tst, tcc, ttt, tll, all_states, cost, tim, lng)  # fmt: skip
        for q in range(nt):
            dist[touched[q]] = np.inf
    return cost, tim, lng
