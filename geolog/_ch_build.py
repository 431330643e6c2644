"""Contracting the turn graph into a hierarchy (compiled): the order and the shortcuts.

States are contracted one at a time, least important first (Geisberger et
al. 2008): contracting ``v`` removes it and, for every pair of a live arc
``u -> v`` and ``v -> w``, adds the shortcut ``u -> w`` unless a *witness*
path from ``u`` to ``w`` avoiding ``v`` is as cheap (a bounded Dijkstra; a
witness it misses only costs a superfluous shortcut, never a wrong answer).
Importance is the edge difference (shortcuts added minus arcs removed) plus
the state's depth in the hierarchy, recomputed for the neighbours of each
contracted state and checked again when a state comes up (lazy updates).

The live graph keeps each state's arcs out and in as contiguous blocks in
two pools (a block doubles when full), so a witness search reads memory in
order; arcs to contracted states are taken out of the blocks as they go.
The arcs themselves (originals and shortcuts) are rows of ``E`` (source,
target, original arc or ``-hops`` for a shortcut, two children) and ``F``
(cost, time, length).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._turn_kernels import _pop, _push

__all__ = ["contract"]

#: States a witness search settles before giving up, when contracting.
WITNESS_SETTLE_LIMIT = 100
#: ... and when estimating what contracting a state would take.
ESTIMATE_SETTLE_LIMIT = 10
#: Heap capacity of a witness search (a full heap stops pushing: again only
#: superfluous shortcuts).
WITNESS_HEAP = 1 << 14

# columns of E
_SRC, _DST, _ARC, _C1, _C2 = 0, 1, 2, 3, 4
# slots of the counters array
_NE, _OTOP, _ITOP, _FULL = 0, 1, 2, 3


@njit(cache=True, inline="always")
def _hops(E, e):  # pragma: no cover - compiled
    return 1 if E[e, _ARC] >= 0 else -E[e, _ARC]


@njit(cache=True)
def _append(meta, pool, cost, cnt, top, x, y, c, e):  # pragma: no cover - compiled
    """Append arc ``e`` (neighbour ``y``, cost ``c``) to state ``x``'s block in ``pool``."""
    s, m, cap = meta[x, 0], meta[x, 1], meta[x, 2]
    if m == cap:
        new = max(4, 2 * cap)
        if cnt[top] + new > len(cost):
            cnt[_FULL] = 1
            return
        t = cnt[top]
        pool[t : t + m] = pool[s : s + m]
        cost[t : t + m] = cost[s : s + m]
        meta[x, 0] = t
        meta[x, 2] = new
        s = t
        cnt[top] = t + new
    pool[s + m, 0] = y
    pool[s + m, 1] = e
    cost[s + m] = c
    meta[x, 1] = m + 1


@njit(cache=True)
def _find(meta, pool, x, e):  # pragma: no cover - compiled
    """Position of arc ``e`` in state ``x``'s block (-1 if absent)."""
    for k in range(meta[x, 0], meta[x, 0] + meta[x, 1]):
        if pool[k, 1] == e:
            return k
    return -1


@njit(cache=True)
def _drop(meta, pool, cost, x, e):  # pragma: no cover - compiled
    """Take arc ``e`` out of state ``x``'s block (the last entry fills its place)."""
    k = _find(meta, pool, x, e)
    if k >= 0:
        last = meta[x, 0] + meta[x, 1] - 1
        pool[k] = pool[last]
        cost[k] = cost[last]
        meta[x, 1] -= 1


@njit(cache=True)
def _witness(s, v, maxc, OM, OP, OC, wd, touched, hk, hv, tgt, ntgt, limit):  # pragma: no cover - compiled  # fmt: skip
    """Dijkstra from ``s`` avoiding ``v``, up to cost ``maxc``.

    Stops once the ``ntgt`` states flagged in ``tgt`` are settled, or after
    ``limit`` states. Leaves the labels in ``wd`` for the caller to read and
    returns how many states it touched (listed in ``touched``).
    """
    wd[s] = 0.0
    touched[0] = s
    nt = 1
    size = _push(hk, hv, 0, 0.0, s)
    settled = 0
    left = ntgt
    cap = len(hk)
    while size > 0:
        key = hk[0]
        x = hv[0]
        size = _pop(hk, hv, size)
        if key > wd[x]:
            continue
        if key > maxc:
            break
        if tgt[x]:
            left -= 1
            if left == 0:
                break
        settled += 1
        if settled > limit:
            break
        for k in range(OM[x, 0], OM[x, 0] + OM[x, 1]):
            y = OP[k, 0]
            if y != v:
                nd = key + OC[k]
                if nd < wd[y] and nd <= maxc:
                    if wd[y] == np.inf:
                        touched[nt] = y
                        nt += 1
                    wd[y] = nd
                    if size < cap:
                        size = _push(hk, hv, size, nd, y)
    return nt


@njit(cache=True, inline="always")
def _record(E, F, x, f, e, c, hops):  # pragma: no cover - compiled
    """Arc ``x`` stands for arcs ``f`` then ``e``: cost ``c``, their time and length."""
    E[x, _ARC] = -hops
    E[x, _C1] = f
    E[x, _C2] = e
    F[x, 0] = c
    F[x, 1] = F[f, 1] + F[e, 1]
    F[x, 2] = F[f, 2] + F[e, 2]


@njit(cache=True)
def _shortcut(u, w, f, e, E, F, OM, OP, OC, IM, IP, IC, cnt):  # pragma: no cover - compiled  # fmt: skip
    """Add (or cheapen) the arc ``u -> w`` standing for arcs ``f`` then ``e``.

    At most one arc per ordered pair: an existing dearer one becomes the
    shortcut. Sets ``cnt[_FULL]`` when the arrays are full.
    """
    c = F[f, 0] + F[e, 0]
    hops = _hops(E, f) + _hops(E, e)
    for k in range(OM[u, 0], OM[u, 0] + OM[u, 1]):
        if OP[k, 0] == w:
            if OC[k] > c:
                x = OP[k, 1]
                OC[k] = c
                IC[_find(IM, IP, w, x)] = c
                _record(E, F, x, f, e, c, hops)
            return
    x = cnt[_NE]
    if x >= len(E):
        cnt[_FULL] = 1
        return
    E[x, _SRC] = u
    E[x, _DST] = w
    _record(E, F, x, f, e, c, hops)
    cnt[_NE] = x + 1
    _append(OM, OP, OC, cnt, _OTOP, u, w, c, x)
    _append(IM, IP, IC, cnt, _ITOP, w, u, c, x)


@njit(cache=True)
def _process(v, add, limit, E, F, OM, OP, OC, IM, IP, IC, cnt, wd, touched, hk, hv, tgt):  # pragma: no cover - compiled  # fmt: skip
    """Contract ``v`` (``add``) or count what contracting it would take.

    Returns ``(shortcuts, removed)``: the shortcuts needed and the live arcs
    that go away with ``v``.
    """
    maxout = 0.0
    ntg = 0
    o0, o1 = OM[v, 0], OM[v, 0] + OM[v, 1]
    for k in range(o0, o1):
        maxout = max(maxout, OC[k])
        if not tgt[OP[k, 0]]:
            tgt[OP[k, 0]] = True
            ntg += 1
    removed = OM[v, 1] + IM[v, 1]
    nsc = 0
    for q in range(IM[v, 0], IM[v, 0] + IM[v, 1]):
        u = IP[q, 0]
        cu = IC[q]
        self_t = tgt[u]
        tgt[u] = False  # a shortcut u -> u is never needed
        nt = _witness(u, v, cu + maxout, OM, OP, OC, wd, touched, hk, hv, tgt, ntg - (1 if self_t else 0), limit)  # fmt: skip
        tgt[u] = self_t
        for k in range(o0, o1):
            w = OP[k, 0]
            if w != u and wd[w] > cu + OC[k]:
                nsc += 1
                if add:
                    _shortcut(u, w, IP[q, 1], OP[k, 1], E, F, OM, OP, OC, IM, IP, IC, cnt)
        for t in range(nt):
            wd[touched[t]] = np.inf
        if cnt[_FULL]:
            break
    for k in range(o0, o1):
        tgt[OP[k, 0]] = False
    return nsc, removed


@njit(cache=True)
def _detach(v, OM, OP, OC, IM, IP, IC):  # pragma: no cover - compiled
    """Take contracted ``v``'s arcs out of its neighbours' blocks (its own stay)."""
    for k in range(OM[v, 0], OM[v, 0] + OM[v, 1]):
        _drop(IM, IP, IC, OP[k, 0], OP[k, 1])
    for k in range(IM[v, 0], IM[v, 0] + IM[v, 1]):
        _drop(OM, OP, OC, IP[k, 0], IP[k, 1])


@njit(cache=True, inline="always")
def _priority(shortcuts, removed, level):  # pragma: no cover - compiled
    """Contract first the states that add few arcs for those they remove, low in the order."""
    return 2.0 * (shortcuts - removed) + level


@njit(cache=True)
def _contract(E, F, OM, OP, OC, IM, IP, IC, cnt):  # pragma: no cover - compiled
    """Contract every state in a lazily updated priority order; returns the rank per state.

    ``cnt[_FULL]`` is set when the arrays filled up (the caller retries
    with more room).
    """
    n = len(OM)
    tgt = np.zeros(n, np.bool_)
    wd = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    hk = np.empty(WITNESS_HEAP)
    hv = np.empty(WITNESS_HEAP, np.int64)
    lvl = np.zeros(n)
    prio = np.empty(n)
    qk = np.empty(n + 2 * len(E) + 16)
    qv = np.empty(len(qk), np.int64)
    work = (E, F, OM, OP, OC, IM, IP, IC, cnt, wd, touched, hk, hv, tgt)
    size = 0
    for v in range(n):
        nsc, rem = _process(v, False, ESTIMATE_SETTLE_LIMIT, *work)
        prio[v] = _priority(nsc, rem, lvl[v])
        size = _push(qk, qv, size, prio[v], v)
    rank = np.full(n, -1, np.int64)
    order = 0
    while size > 0:
        p = qk[0]
        v = qv[0]
        size = _pop(qk, qv, size)
        if rank[v] >= 0 or p != prio[v]:
            continue
        nsc, rem = _process(v, False, ESTIMATE_SETTLE_LIMIT, *work)
        p = _priority(nsc, rem, lvl[v])
        if size > 0 and p > qk[0]:
            prio[v] = p
            size = _push(qk, qv, size, p, v)
            continue
        _process(v, True, WITNESS_SETTLE_LIMIT, *work)
        if cnt[_FULL]:
            return rank
        rank[v] = order
        order += 1
        _detach(v, OM, OP, OC, IM, IP, IC)
        for side in range(2):
            meta, pool = (OM, OP) if side == 0 else (IM, IP)
            for k in range(meta[v, 0], meta[v, 0] + meta[v, 1]):
                x = pool[k, 0]
                lvl[x] = max(lvl[x], lvl[v] + 1.0)
                nsc, rem = _process(x, False, ESTIMATE_SETTLE_LIMIT, *work)
                prio[x] = _priority(nsc, rem, lvl[x])
                size = _push(qk, qv, size, prio[x], x)
    return rank


def _blocks(n: int, key: np.ndarray, other: np.ndarray, cost: np.ndarray, room: int):
    """Each state's arcs (by ``key``) as a contiguous block, with room to grow."""
    order = np.argsort(key, kind="stable")
    deg = np.bincount(key, minlength=n)
    cap = deg + 2
    start = np.concatenate([[0], np.cumsum(cap)[:-1]])
    meta = np.column_stack([start, deg, cap]).astype(np.int64)
    size = int(cap.sum()) + room
    pool = np.full((size, 2), -1, np.int64)
    cst = np.zeros(size)
    pos = start[key[order]] + (
        np.arange(len(order)) - np.concatenate([[0], np.cumsum(deg)])[key[order]]
    )
    pool[pos, 0] = other[order]
    pool[pos, 1] = order
    cst[pos] = cost[order]
    return meta, pool, cst, int(cap.sum())


def contract(n: int, src, dst, arc, cost, time, length) -> tuple[np.ndarray, ...]:
    """Contract a graph of ``n`` states with arcs ``src -> dst`` (at most one per pair).

    Returns ``(rank, E, F)``: the contraction order per state and the arcs
    (the originals first, in the order given, then the shortcuts) as
    :mod:`geolog._ch_build`'s ``E`` and ``F`` columns.
    """
    m = len(src)
    room = 2 * m + n + 1024
    while True:
        E = np.full((m + room, 5), -1, np.int64)
        E[:m, _SRC], E[:m, _DST], E[:m, _ARC] = src, dst, arc
        F = np.zeros((m + room, 3))
        F[:m, 0], F[:m, 1], F[:m, 2] = cost, time, length
        OM, OP, OC, otop = _blocks(n, src, dst, cost, 4 * room)
        IM, IP, IC, itop = _blocks(n, dst, src, cost, 4 * room)
        cnt = np.array([m, otop, itop, 0], np.int64)
        rank = _contract(E, F, OM, OP, OC, IM, IP, IC, cnt)
        if not cnt[_FULL]:
            ne = int(cnt[_NE])
            return rank, E[:ne], F[:ne]
        room *= 2
