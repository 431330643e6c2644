"""The edge-based (turn) graph: states are directed edge rows, arcs are allowed turns.

Built beside the node-based :class:`geolog._graph.RoutingGraph` (which stays
for code that wants node paths: risk, map matching) and cached with it. A
state ``x`` stands for *entering* edge row ``state_row[x]`` at its start; an
arc ``x -> y`` exists where the road of ``x`` ends at the node where the road
of ``y`` starts, both are usable and the turn is allowed. Its weight is the
full weight of ``x`` plus the turn's penalty, so the cost of a path is the
sum of the edges it travels plus its turns.

Turns come from the applied network's ``meta["turn_costs"]`` (the profile's
``turn_costs`` block, overridden by the rule set's; see
:mod:`geolog._turn_costs`): a penalty in seconds by the turn angle between
the last segment of one edge geometry and the first of the next, and the OSM
turn restrictions that bind the profile's vehicle classes
(:mod:`geolog._restrictions`):

- via a node: ``no_*`` removes the arcs from the ``from`` way's rows ending
  at the node to the ``to`` way's rows starting there (for ``from == to``,
  ``no_u_turn``, only the turning-back arc); ``only_*`` removes every other
  arc out of those ``from`` rows;
- via ways: the rows of the via chain entered from the ``from`` way are
  *duplicated* (extra states mapping to the same rows, shared as a trie when
  several restrictions start alike), and the last duplicate loses (``no_*``)
  or keeps only (``only_*``) its arcs into the ``to`` way.

All of it is vectorised over arcs except the via-way chains, which are few.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._geometry import M_PER_DEG
from ._graph import RoutingGraph
from ._restrictions import for_vehicle, restrictions_frame

__all__ = ["TurnGraph", "turn_graph", "turn_angles", "WEIGHTS_WITH_TURN_TIME"]

logger = logging.getLogger(__name__)

#: Turns up to this (degrees) are straight on (no penalty).
STRAIGHT_DEG = 45.0
#: Turns from this (degrees) are sharp.
SHARP_DEG = 135.0
#: Weights the turn seconds are added to (a route by ``length_m`` obeys only the bans).
WEIGHTS_WITH_TURN_TIME = ("cost", "travel_time_s")


@dataclass
class TurnGraph:
    """CSR over states (edge rows and via-way duplicates) with reverse CSR and arc data."""

    n: int  # number of states
    state_row: np.ndarray  # edge row per state (states 0..rows-1 are the rows themselves)
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray  # weight of the arc: full weight of its source row + turn penalty
    arc_src: np.ndarray  # source state per arc
    turn_s: np.ndarray  # turn seconds per arc (0 where the profile has none)
    arc_time: np.ndarray  # travel time of the source row + turn seconds
    arc_len: np.ndarray  # length of the source row (metres)
    rindptr: np.ndarray  # reverse CSR: arcs into each state ...
    rindices: np.ndarray  # ... their source state
    rdata: np.ndarray  # ... their weight
    rarc: np.ndarray  # ... their forward arc index
    dup_rows: np.ndarray  # rows of the duplicate states (state = rows + i)
    sx: np.ndarray  # where each state starts: x, y in a local frame (metres) ...
    sy: np.ndarray
    frame: tuple[float, float]  # ... metres per degree of longitude, of latitude
    rate: float  # lower bound of weight per metre of any usable row (A* potential)
    banned: int = 0  # arcs removed by restrictions and U-turn bans
    _work: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a Dask worker process) without the lock and the search scratch,
        which belong to one process; the landmarks and the hierarchy travel along."""
        state = self.__dict__.copy()
        del state["_lock"]
        state["_work"] = {k: v for k, v in self._work.items() if k not in ("scratch", "ch_scratch")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def states_of_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every state of the edge ``rows``: ``(state, index into rows)``.

        The row's own state first, then its via-way duplicates (found in the
        duplicates sorted by row, cached: a lookup costs the rows asked for,
        not the duplicates there are).
        """
        rows = np.asarray(rows, dtype=np.int64)
        pos = np.arange(len(rows))
        if not len(self.dup_rows):
            return rows, pos
        if "dups_by_row" not in self._work:
            order = np.argsort(self.dup_rows, kind="stable")
            self._work["dups_by_row"] = (self.dup_rows[order], order)
        by_row, order = self._work["dups_by_row"]
        lo = np.searchsorted(by_row, rows, side="left")
        hi = np.searchsorted(by_row, rows, side="right")
        if not (hi > lo).any():
            return rows, pos
        counts = hi - lo
        nrows = len(self.state_row) - len(self.dup_rows)
        dup = order[np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])]
        return np.concatenate([rows, nrows + dup]), np.concatenate([pos, np.repeat(pos, counts)])

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        """A point in the frame of :attr:`sx` / :attr:`sy` (metres)."""
        return lon * self.frame[0], lat * self.frame[1]


def min_rate(g: RoutingGraph, w: np.ndarray) -> float:
    """A lower bound of weight per metre over the usable rows (for the A* potential).

    1 % under the smallest ``w / length_m`` so the local frame's distances
    (which shrink longitudes at the network's highest latitude) never exceed
    the geodesic lengths the weights were summed over.
    """
    ok = np.isfinite(w) & (g.length > 0)
    if not ok.any():
        return 0.0
    return max(0.0, 0.99 * float(np.min(w[ok] / g.length[ok])))


def turn_angles(g: RoutingGraph, geoms: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Signed heading change (degrees, + = right) from edge rows ``src`` into rows ``dst``.

    From the last segment of ``src``'s geometry to the first of ``dst``'s, in
    a local frame (longitude scaled by the cosine of the latitude).
    """
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    n = len(geoms)
    first = np.searchsorted(idx, np.arange(n), side="left")
    last = np.searchsorted(idx, np.arange(n), side="right") - 1
    k = np.cos(np.radians(np.nanmean(xy[:, 1]) if len(xy) else 0.0))

    def heading(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = xy[b] - xy[a]
        return np.degrees(np.arctan2(d[:, 0] * k, d[:, 1]))

    h_end = heading(np.maximum(last - 1, first), last)
    h_start = heading(first, np.minimum(first + 1, last))
    return (h_start[dst] - h_end[src] + 180.0) % 360.0 - 180.0


def _candidate_arcs(g: RoutingGraph) -> tuple[np.ndarray, np.ndarray]:
    """Every (src row, dst row) pair meeting at a node, both usable, sorted by src."""
    use = np.flatnonzero(g.usable)
    order = use[np.argsort(g.upos[use], kind="stable")]
    deg = np.bincount(g.upos[use], minlength=g.n)
    start = np.concatenate([[0], np.cumsum(deg)[:-1]])
    cnt = deg[g.vpos[use]]
    src = np.repeat(use, cnt)
    first = np.repeat(start[g.vpos[use]], cnt)
    within = np.arange(len(src)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return src.astype(np.int64), order[first + within].astype(np.int64)


def _penalties(
    angle: np.ndarray, is_u: np.ndarray, costs: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Turn seconds per arc, and which arcs a U-turn ban removes."""
    a = np.abs(angle)
    pen = np.zeros(len(angle))
    mid = (a >= STRAIGHT_DEG) & (a < SHARP_DEG)
    pen[mid & (angle > 0)] = costs.get("right_s", 0.0)
    pen[mid & (angle < 0)] = costs.get("left_s", 0.0)
    pen[a >= SHARP_DEG] = costs.get("sharp_s", 0.0)
    u = costs.get("u_turn_s", 0.0)
    pen[is_u] = 0.0 if u is None else u
    return pen, is_u & (u is None)


def _way_ids(edges: pd.DataFrame) -> np.ndarray:
    if "osmid" not in edges.columns:
        return np.full(len(edges), -1, dtype=np.int64)
    return pd.to_numeric(edges["osmid"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)


def _via_node_bans(
    g: RoutingGraph,
    way: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    is_u: np.ndarray,
    r: pd.DataFrame,
) -> np.ndarray:
    """Arcs the via-node restrictions ``r`` forbid (boolean per arc)."""
    ban = np.zeros(len(src), dtype=bool)
    r = r[r["via_node"] >= 0]
    if r.empty or not len(src):
        return ban
    node = g.node_ids[g.vpos[src]]
    near = np.flatnonzero(np.isin(node, r["via_node"].to_numpy()))  # the few arcs at via nodes
    arcs = pd.DataFrame({"a": way[src[near]], "n": node[near], "b": way[dst[near]], "arc": near})
    no = r[r["kind"] == "no"]
    hit = arcs.merge(no, left_on=["a", "n", "b"], right_on=["from_way", "via_node", "to_way"])
    k = hit["arc"].to_numpy()
    same = hit["from_way"].to_numpy() == hit["to_way"].to_numpy()
    ban[k[~same | is_u[k]]] = True  # from == to: only the turning back is meant
    only = r[r["kind"] == "only"]
    if not only.empty:
        sub = arcs.merge(only, left_on=["a", "n"], right_on=["from_way", "via_node"])
        ok = sub["b"].to_numpy() == sub["to_way"].to_numpy()
        s = src[sub["arc"].to_numpy()]
        has_ok = np.isin(s, s[ok])  # an only_* whose to-way is not there is ignored
        ban[sub["arc"].to_numpy()[~ok & has_ok]] = True
        ban[sub["arc"].to_numpy()[ok]] = False
    return ban


def _via_chain(
    way: np.ndarray, src: np.ndarray, dst: np.ndarray, start: int, via: set[int], to: int
) -> list[int] | None:
    """Shortest chain of rows on the via ways from row ``start`` to a turn into way ``to``."""
    frontier = [[start]]
    seen = {start}
    for _ in range(16):
        nxt = []
        for path in frontier:
            lo, hi = np.searchsorted(src, [path[-1], path[-1] + 1])
            for y in dst[lo:hi]:
                y = int(y)
                if len(path) > 1 and way[y] == to:
                    return path[1:]
                if way[y] in via and y not in seen:
                    seen.add(y)
                    nxt.append([*path, y])
        frontier = nxt
        if not frontier:
            return None
    return None


def _via_way_states(
    way: np.ndarray, src: np.ndarray, dst: np.ndarray, pen: np.ndarray, r: pd.DataFrame
) -> tuple[np.ndarray, list[int], list[tuple[int, int, float]]]:
    """Apply via-way restrictions by duplicating the via chain's states.

    Returns the (possibly redirected) ``dst`` of the original arcs, the row of
    each duplicate state and the duplicates' arcs ``(src, dst, penalty)``.
    """
    r = r[r["via_node"] < 0]
    dst = dst.copy()
    nrows = len(way)
    dup_rows: list[int] = []
    dup_out: dict[int, list[list]] = {}
    trie: dict[tuple[int, int], int] = {}

    def arcs_of(x: int) -> list[list]:
        if x >= nrows:
            return dup_out[x]
        lo, hi = np.searchsorted(src, [x, x + 1])
        return [[int(dst[k]), float(pen[k]), k] for k in range(lo, hi)]

    for rec in r.itertuples(index=False):
        via = {int(v) for v in str(rec.via_ways).split(";") if v}
        for e in np.flatnonzero(way == rec.from_way):
            chain = _via_chain(way, src, dst, int(e), via, int(rec.to_way))
            if not chain:
                continue
            state = int(e)
            for w in chain:
                d = trie.get((state, w))
                if d is None:
                    d = nrows + len(dup_rows)
                    dup_rows.append(w)
                    dup_out[d] = [list(a) for a in arcs_of(w)]
                    trie[(state, w)] = d
                    for a in arcs_of(state):
                        if a[0] == w:
                            a[0] = d
                            if state < nrows:
                                dst[a[2]] = d
                state = d
            into = [a for a in dup_out[state] if a[0] < nrows and way[a[0]] == rec.to_way]
            is_no = rec.kind == "no"  # no_*: drop the turns into `to`; only_*: keep just them
            dup_out[state] = [a for a in dup_out[state] if (a in into) != is_no]
    extra = [(d, a[0], a[1]) for d, out in dup_out.items() for a in out]
    return dst, dup_rows, extra


def _build(net: Any, g: RoutingGraph) -> TurnGraph:
    costs = dict(net.meta.get("turn_costs") or {})
    with_time = g.weight in WEIGHTS_WITH_TURN_TIME
    src, dst = _candidate_arcs(g)
    geoms = np.asarray(net.edges.geometry.values, dtype=object)
    angle = turn_angles(g, geoms, src, dst)
    is_u = dst == g.twin[src]
    pen, uban = _penalties(angle, is_u, costs)
    # a U-turn ban spares dead ends: a row whose every way on is a U-turn
    others = np.bincount(src[~is_u], minlength=len(g.w))
    uban &= others[src] > 0
    way = _way_ids(net.edges)
    classes = tuple(costs.get("restriction_classes") or ())
    r = for_vehicle(restrictions_frame(net.meta), classes)
    ban = uban | _via_node_bans(g, way, src, dst, is_u, r)
    keep = ~ban
    src, dst, pen = src[keep], dst[keep], pen[keep]
    dst, dup_rows, extra = _via_way_states(way, src, dst, pen, r)
    if extra:
        e = np.array(extra, dtype=float)
        src = np.concatenate([src, e[:, 0].astype(np.int64)])
        dst = np.concatenate([dst, e[:, 1].astype(np.int64)])
        pen = np.concatenate([pen, e[:, 2]])
    rows = len(g.w)
    state_row = np.concatenate([np.arange(rows), np.asarray(dup_rows, dtype=np.int64)])
    n = len(state_row)
    order = np.argsort(src, kind="stable")
    src, dst, pen = src[order], dst[order], pen[order]
    if not with_time:
        pen_w = np.zeros(len(pen))
    else:
        pen_w = pen
    sr = state_row[src]
    data = g.w[sr] + pen_w
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))]).astype(np.int64)
    rorder = np.argsort(dst, kind="stable")
    rindptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=n))]).astype(np.int64)
    time = np.nan_to_num(g.time, nan=0.0)
    lat = g.node_lat[g.upos[state_row]]
    kx = M_PER_DEG * float(np.cos(np.radians(np.max(np.abs(g.node_lat))))) if g.n else M_PER_DEG
    return TurnGraph(
        n=n,
        state_row=state_row,
        indptr=indptr,
        indices=dst,
        data=data,
        arc_src=src,
        turn_s=pen,
        arc_time=time[sr] + pen,
        arc_len=g.length[sr],
        rindptr=rindptr,
        rindices=src[rorder],
        rdata=data[rorder],
        rarc=rorder.astype(np.int64),
        dup_rows=np.asarray(dup_rows, dtype=np.int64),
        sx=g.node_lon[g.upos[state_row]] * kx,
        sy=lat * M_PER_DEG,
        frame=(kx, M_PER_DEG),
        rate=min_rate(g, g.w),
        banned=int(ban.sum()),
    )


def turn_graph(g: RoutingGraph) -> TurnGraph:
    """The turn graph of routing graph ``g``'s network (built once, cached with ``g``)."""
    tg = g._extra.get("turns")
    if tg is None:
        ref = g._extra.get("net")  # not in a pickled copy, which carries its turn graph
        net = ref() if ref is not None else None
        if net is None:
            raise RuntimeError("the routing graph's network is gone")
        tg = g._extra["turns"] = _build(net, g)
        logger.debug("turn graph: %d states, %d arcs, %d banned", tg.n, len(tg.indices), tg.banned)
    return tg
