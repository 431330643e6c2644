"""Searches on the turn graph between snapped points: where they enter and leave it.

A snapped point becomes edge rows with fractions (:func:`start_rows`,
:func:`end_rows`: a point at a node leaves by every usable road out of it
from fraction 0 and arrives by every usable road into it at fraction 1).
A route from a start row ``r`` at fraction ``f`` enters the turn graph at
the states after ``r``, having paid ``(1 - f)`` of ``r`` and the turn; a
route to an end row at fraction ``f`` leaves it from any state of that row
(a via-way duplicate too), paying ``f`` of the row. The compiled searches are
in :mod:`geolog._turn_kernels`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._graph import RoutingGraph
from ._turn_ch import Hierarchy
from ._turn_ch import build as build_hierarchy
from ._turn_ch import many as ch_many
from ._turn_ch import route as ch_route
from ._turn_ch import scratch as ch_scratch
from ._turn_kernels import astar, one_to_many
from ._turns import TurnGraph, min_rate

__all__ = [
    "start_rows",
    "end_rows",
    "entries",
    "exits",
    "hierarchy",
    "shortest",
    "many",
    "reach",
]


def _by_node(g: RoutingGraph, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Usable rows sorted by their ``upos`` / ``vpos``, the per-node start offsets and the
    fraction a route leaves (0) or arrives (1) at along each (cached, read-only)."""
    key = f"rows_by_{side}"
    if key not in g._extra:
        pos = g.upos if side == "u" else g.vpos
        use = np.flatnonzero(g.usable)
        order = use[np.argsort(pos[use], kind="stable")]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(pos[use], minlength=g.n))])
        fracs = np.full(len(order), 0.0 if side == "u" else 1.0)
        order.flags.writeable = fracs.flags.writeable = False  # handed out as views
        g._extra[key] = (order, ptr, fracs)
    return g._extra[key]


def _time0(g: RoutingGraph) -> np.ndarray:
    """Travel time per row with NaN (no travel times) as 0 (cached)."""
    if "time0" not in g._extra:
        g._extra["time0"] = np.nan_to_num(g.time, nan=0.0)
    return g._extra["time0"]


def _rows_at(g: RoutingGraph, s: Any, side: str) -> tuple[np.ndarray, np.ndarray]:
    if s.node < 0:
        return s.rows, s.fracs
    order, ptr, fracs = _by_node(g, side)
    at = slice(ptr[s.node], ptr[s.node + 1])
    return order[at], fracs[at]


def start_rows(g: RoutingGraph, s: Any) -> tuple[np.ndarray, np.ndarray]:
    """Edge rows and fractions a route from snap ``s`` starts along."""
    return _rows_at(g, s, "u")


def end_rows(g: RoutingGraph, s: Any) -> tuple[np.ndarray, np.ndarray]:
    """Edge rows and fractions a route to snap ``s`` ends along."""
    return _rows_at(g, s, "v")


def entries(
    g: RoutingGraph,
    tg: TurnGraph,
    rows: np.ndarray,
    fracs: np.ndarray,
    w: np.ndarray,
    data: np.ndarray,
) -> dict[str, np.ndarray]:
    """The states a route starting along ``rows`` at ``fracs`` enters, with what it paid."""
    # the arcs out of a point's few start rows, and which row each leaves
    ip = tg.indptr
    spans = [range(ip[q], ip[q + 1]) for q in rows.tolist()]
    arcs = np.array([x for span in spans for x in span], dtype=np.int64)
    which = np.array([k for k, span in enumerate(spans) for _ in span], dtype=np.int64)
    r, f = rows[which], fracs[which]
    with np.errstate(invalid="ignore"):  # a closed start row: inf - inf, dropped below
        cost = data[arcs] - f * w[r]
    turn = tg.turn_s[arcs]
    rest = 1.0 - f  # of the start row, still ahead
    out = {
        "state": tg.indices[arcs],
        "cost": cost,
        "time": rest * _time0(g)[r] + turn,
        "length": rest * g.length[r],
        "row": r,
        "frac": f,
        "turn": turn,
    }
    return _finite(out, cost)


def exits(
    g: RoutingGraph, tg: TurnGraph, rows: np.ndarray, fracs: np.ndarray, w: np.ndarray
) -> dict[str, np.ndarray]:
    """The states a route ending along ``rows`` at ``fracs`` leaves from, with what it pays."""
    states, at = tg.states_of_rows(rows)
    r, f = rows[at], fracs[at]
    cost = f * w[r]
    out = {
        "state": states,
        "cost": cost,
        "time": f * _time0(g)[r],
        "length": f * g.length[r],
        "row": r,
        "frac": f,
    }
    return _finite(out, cost)


def _finite(cols: dict[str, np.ndarray], cost: np.ndarray) -> dict[str, np.ndarray]:
    """``cols`` where ``cost`` is finite (as they are, without copies, when it is everywhere)."""
    ok = np.isfinite(cost)
    if np.count_nonzero(ok) == len(ok):
        return cols
    return {k: v[ok] for k, v in cols.items()}


def _scratch(n: int) -> tuple[np.ndarray, ...]:
    return (
        np.full(n, np.inf),
        np.zeros(n, np.int64),
        np.full(n, np.inf),
        np.zeros(n, np.int64),
        np.zeros(n),
    )


#: Landmarks of the A* potential (ALT): more prune more, each costs two searches to set up.
N_LANDMARKS = 8


#: The target arguments of :func:`one_to_many` asking for every state's label.
_NO_TARGETS = (np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0))


def _forward(tg: TurnGraph) -> tuple[np.ndarray, ...]:
    """The turn graph's arcs as :func:`one_to_many` takes them (with time and length)."""
    return (tg.indptr, tg.indices, tg.data, tg.arc_src, tg.arc_time, tg.arc_len)


def _labels(tg: TurnGraph, state: int, reverse: bool) -> np.ndarray:
    """Least cost from (``reverse``: to) ``state`` to (from) every state."""
    start = (np.array([0, 1]), np.array([state]), np.zeros(1), np.zeros(1), np.zeros(1))
    if reverse:
        graph = (tg.rindptr, tg.rindices, tg.rdata, tg.indices[tg.rarc])
    else:
        graph = (tg.indptr, tg.indices, tg.data, tg.arc_src)
    zero = np.zeros(len(tg.data))
    return one_to_many(*graph, zero, zero, *start, *_NO_TARGETS, np.inf)[0][0]


def landmarks(tg: TurnGraph, k: int = N_LANDMARKS) -> tuple[np.ndarray, np.ndarray]:
    """Costs from and to ``k`` landmark states, ``states × k`` each (built once per graph).

    Landmarks are picked far apart (farthest point by straight line among
    states with ways in and out); the first route query on an applied
    network pays for ``2 k`` one-to-all searches.
    """
    if "alt" not in tg._work:
        cand = np.flatnonzero((np.diff(tg.indptr) > 0) & (np.diff(tg.rindptr) > 0))
        lf = np.empty((tg.n, 0))
        lb = np.empty((tg.n, 0))
        if len(cand) > 4 * k:
            xy = np.column_stack([tg.sx[cand], tg.sy[cand]])
            d = np.hypot(*(xy - xy.mean(axis=0)).T)
            picks = []
            for _ in range(k):
                i = int(np.argmax(d))
                picks.append(int(cand[i]))
                d = np.minimum(d, np.hypot(*(xy - xy[i]).T))
            lf = np.ascontiguousarray(np.column_stack([_labels(tg, p, False) for p in picks]))
            lb = np.ascontiguousarray(np.column_stack([_labels(tg, p, True) for p in picks]))
        tg._work["alt"] = (lf, lb)
    return tg._work["alt"]


#: Straight-line slack (metres) of the A* potential: a point "at a node" may lie 1 m off it.
_SLACK_M = 2.0


#: A turn graph of up to this many states builds its contraction hierarchy
#: for its first route or matrix (about a second of work or less; Liechtenstein: 10 k).
EAGER_STATES = 50_000
#: A larger one builds it once its A* searches have touched this many
#: states per state of the graph in all (about what the build costs).
BUILD_WORK = 300
#: A matrix with at least this many sources builds it (their Dijkstras
#: would cost more than the build).
MATRIX_SOURCES = 200


def hierarchy(tg: TurnGraph, *, sources: int = 0, build_now: bool = False) -> Hierarchy | None:
    """The contraction hierarchy to search ``tg`` with, or ``None`` (A* / Dijkstra for now).

    Built when it is already paid for or soon will be: a small graph
    (:data:`EAGER_STATES`), a matrix of :data:`MATRIX_SOURCES` sources or
    more, A* searches that have done :data:`BUILD_WORK` times the graph's
    states, or ``build_now`` (:func:`geolog.prepare`).
    """
    if "ch" in tg._work:
        return tg._work["ch"]
    if (
        build_now
        or tg.n <= EAGER_STATES
        or sources >= MATRIX_SOURCES
        or tg._work.get("astar_work", 0) >= BUILD_WORK * tg.n
    ):
        return build_hierarchy(tg)
    return None


def _searched(tg: TurnGraph, key: str, make: Callable, run: Callable) -> Any:
    """``run(scratch)`` with the graph's own scratch arrays, or fresh ones if a thread holds them."""
    if tg._lock.acquire(blocking=False):
        try:
            if key not in tg._work:
                tg._work[key] = make(tg.n)
            return run(tg._work[key])
        finally:
            tg._lock.release()
    return run(make(tg.n))  # another thread searches: its own scratch


def shortest(
    g: RoutingGraph, tg: TurnGraph, a: Any, b: Any, w: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Least-weight path from snap ``a`` to snap ``b``: ``(cost, rows, f0, f1, turns)``.

    ``turns`` are the seconds charged for the turn at the junction after each
    of ``rows`` (the entry arc after the start row, then the path's arcs; 0
    after the last row); their sum is the path's turn time.

    On the graph's own weights, the contraction hierarchy
    (:mod:`geolog._turn_ch`) when there is one (:func:`hierarchy`), else A*
    on the turn graph (:func:`geolog._turn_kernels.astar`); ``w`` replaces
    the edge weights (alternatives, closures: always A*). ``None`` if ``b``
    cannot be reached.
    """
    h = hierarchy(tg) if w is None else None
    if h is not None:
        fs = entries(g, tg, *start_rows(g, a), g.w, tg.data)
        ts = exits(g, tg, *end_rows(g, b), g.w)
        ends = (fs["state"], fs["cost"], ts["state"], ts["cost"])
        cost, arcs, i, j = _searched(
            tg, "ch_scratch", lambda n: ch_scratch(h), lambda s: ch_route(h, *ends, s)
        )
    else:
        cost, arcs, i, j, fs, ts = _astar(g, tg, a, b, w)
    if i < 0 or not np.isfinite(cost):
        return None
    states = np.concatenate([[fs["state"][i]], tg.indices[arcs]])
    rows = np.concatenate([[fs["row"][i]], tg.state_row[states]])
    f0 = np.zeros(len(rows))
    f1 = np.ones(len(rows))
    f0[0] = fs["frac"][i]
    f1[-1] = ts["frac"][j]
    turns = np.concatenate([[fs["turn"][i]], tg.turn_s[arcs], [0.0]])
    return float(cost), rows, f0, f1, turns


def _astar(g: RoutingGraph, tg: TurnGraph, a: Any, b: Any, w: np.ndarray | None) -> tuple:
    """A* with the straight-line and landmark potential: ``(cost, arcs, i, j, starts, ends)``."""
    lf, lb = landmarks(tg)
    if w is None:
        w, data, rate = g.w, tg.data, tg.rate
    else:
        if not np.all(w >= g.w):  # landmark costs bound only weights at least g.w
            lf, lb = lf[:, :0], lb[:, :0]
        sr = tg.state_row[tg.arc_src]
        data = w[sr] + (tg.data - g.w[sr])
        data = np.where(np.isfinite(data), data, np.inf)
        rate = min_rate(g, w)
    fs = entries(g, tg, *start_rows(g, a), w, data)
    ts = exits(g, tg, *end_rows(g, b), w)
    tx, ty = tg.xy(b.lat, b.lon)
    # the potential is rate * max(0, distance - slack): shift the frame's target instead
    # of clipping, by searching with the slack folded into the end costs
    tc = ts["cost"] + rate * _SLACK_M
    tf, tb = lf[ts["state"]], lb[ts["state"]]
    args = (tg.indptr, tg.indices, data, tg.arc_src, tg.sx, tg.sy, rate, tx, ty, lf, lb, tf, tb)
    ends = (fs["state"], fs["cost"], ts["state"], tc)
    cost, arcs, i, j, work = _searched(tg, "scratch", _scratch, lambda s: astar(*args, *ends, *s))
    tg._work["astar_work"] = tg._work.get("astar_work", 0) + work
    return cost - rate * _SLACK_M, arcs, i, j, fs, ts


def _pack(sides: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, ...]:
    ptr = np.concatenate([[0], np.cumsum([len(s["state"]) for s in sides])]).astype(np.int64)
    cols = [
        np.concatenate([s[k] for s in sides]) if sides else np.empty(0)
        for k in ("state", "cost", "time", "length")
    ]
    return ptr, cols[0].astype(np.int64), cols[1], cols[2], cols[3]


def many(
    g: RoutingGraph, tg: TurnGraph, sources: list[Any], targets: list[Any], *, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost, time and length from every snapped source to every snapped target (``inf``: none).

    By the contraction hierarchy's buckets when there is one (or the matrix
    is big enough to build it, :func:`hierarchy`), else one Dijkstra per
    source on the turn graph. Paths leave the graph into the targets; a source and a target on the same
    edge row, or the same node, are settled by the caller.
    """
    src = [entries(g, tg, *start_rows(g, s), g.w, tg.data) for s in sources]
    tgt = [exits(g, tg, *end_rows(g, t), g.w) for t in targets]
    h = hierarchy(tg, sources=len(sources))
    if h is not None:
        return ch_many(h, _pack(src), _pack(tgt), float(limit))
    return one_to_many(*_forward(tg), *_pack(src), *_pack(tgt), float(limit))


def reach(g: RoutingGraph, tg: TurnGraph, source: Any, limit: float) -> np.ndarray:
    """Per edge row, the least weight at which a route from ``source`` starts along it.

    ``inf`` where that is more than ``limit`` (the source's own start rows are
    the caller's: they are entered only by coming back to them).
    """
    src = [entries(g, tg, *start_rows(g, source), g.w, tg.data)]
    cost, _, _ = one_to_many(*_forward(tg), *_pack(src), *_NO_TARGETS, float(limit))
    out = np.full(len(g.w), np.inf)
    np.minimum.at(out, tg.state_row, cost[0])
    if source.node >= 0:  # a point at a node starts along every road out of it
        out[start_rows(g, source)[0]] = 0.0
    return out
