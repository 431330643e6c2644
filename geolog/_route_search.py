"""Shortest paths between snapped points, and why there is none.

Dijkstra on the CSR graph with a virtual source node on the start edge
(:meth:`geolog._graph.RoutingGraph.with_sources`); partial start and end
edges are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from ._graph import RoutingGraph, graph_for
from ._route_snap import _applied, _Ctx, _ends, _pname, _Snap, _starts


@dataclass
class _Leg:
    rows: np.ndarray
    f0: np.ndarray
    f1: np.ndarray
    cost: float


def _direct(a: _Snap, b: _Snap, w: np.ndarray) -> tuple[float, int, float, float] | None:
    """Cheapest stretch from ``a`` to ``b`` along one edge they share, if any."""
    best = None
    if a.node >= 0 or b.node >= 0:
        return None
    for ra, fa in zip(a.rows, a.fracs, strict=True):
        for rb, fb in zip(b.rows, b.fracs, strict=True):
            if ra == rb and fb >= fa:
                c = (fb - fa) * w[ra]
                if np.isfinite(c) and (best is None or c < best[0]):
                    best = (float(c), int(ra), float(fa), float(fb))
    return best


def _solve(g: RoutingGraph, a: _Snap, b: _Snap, w: np.ndarray | None = None) -> _Leg | None:
    """Least-weight path from snapped point ``a`` to ``b``; ``None`` if unreachable."""
    w = g.w if w is None else w
    data = None if w is g.w else w[g.entry_row]
    sn, sc, sr, sf = _starts(g, a, w)
    csr = g.with_sources([sn], [sc], data)
    dist, pred = dijkstra(csr, indices=g.n, return_predecessors=True)
    tn, tc, tr, tf = _ends(g, b, w)
    tot = dist[tn] + tc
    k = int(np.argmin(tot)) if len(tot) else -1
    best = float(tot[k]) if k >= 0 else np.inf
    direct = _direct(a, b, w)
    if direct is not None and direct[0] <= best:
        c, r, fa, fb = direct
        return _Leg(np.array([r]), np.array([fa]), np.array([fb]), c)
    if not np.isfinite(best):
        return None
    node = int(tn[k])
    path = []
    while node != g.n:
        path.append(node)
        node = int(pred[node])
    path.reverse()
    i0 = np.flatnonzero(sn == path[0])
    i0 = int(i0[np.argmin(sc[i0])])
    p = np.asarray(path, dtype=np.int64)
    mid = g.rows_for_pairs(p[:-1], p[1:])
    rows = np.concatenate([sr[i0 : i0 + 1], mid, tr[k : k + 1]]).astype(np.int64)
    f0 = np.zeros(len(rows))
    f1 = np.ones(len(rows))
    f0[0] = sf[i0]
    f1[-1] = tf[k]
    keep = (rows >= 0) & (f1 > f0)  # drop untravelled ends (a point at a node)
    if not keep.any():  # both points at the same node: an empty stretch there
        return _Leg(a.rows[:1], a.fracs[:1], a.fracs[:1], float(best))
    return _Leg(rows[keep], f0[keep], f1[keep], float(best))


def _no_route_message(ctx: _Ctx, a: _Snap, b: _Snap) -> str:
    """Say why there is no path: which rules cut the graph, if rules did."""
    from .rules import _resolve_profile, load_rules

    where = f"from {a.query} to {b.query}"
    pname = _pname(ctx.applied, ctx.profile)
    if ctx.rules is None:
        return (
            f"no path {where} for profile {pname!r}: the points lie in parts of the network "
            "that are not connected for this profile (one-way roads, access or grade limits); "
            "try points on the main road network or another profile"
        )
    net, weight = ctx.net, ctx.weight
    ruled = ctx.applied
    # the very profile the rules ran with (a custom dict or file too), without the rules
    prof = _resolve_profile(ctx.profile, load_rules(ctx.rules))
    free = _applied(net, prof, None, weight)
    leg = _solve(graph_for(free, weight), a, b)
    if leg is None:
        return (
            f"no path {where} for profile {pname!r}, even without the route rules: the points "
            "lie in parts of the network that are not connected for this profile"
        )
    labels = free.edges.index[leg.rows]
    pos = ruled.edges.index.get_indexer(labels)
    cost = pd.to_numeric(ruled.edges["cost"], errors="coerce").to_numpy(dtype=float)
    blocked = labels[~np.isfinite(cost[pos])]
    names = _blocking_rules(net, prof, ctx.rules, blocked)
    roads = free.edges.loc[blocked]
    tagged = [
        str(x)
        for c in ("ref", "name")
        if c in roads.columns
        for x in roads[c].dropna().tolist()
        if str(x)
    ]
    road_names = ", ".join(list(dict.fromkeys(tagged))[:4])
    what = f" (on {road_names})" if road_names else ""
    if names:
        by = ("rule " if len(names) == 1 else "rules ") + "; ".join(names)
        verb = "forbids" if len(names) == 1 else "forbid"
    else:
        by, verb = "the route rules", "forbid"
    return (
        f"no path {where} for profile {pname!r}: {by} {verb} {len(blocked)} edge(s) of the "
        f"route that exists without the rules{what} (cost {leg.cost:,.0f} by {weight!r}), "
        "and no other way is left. Relax or scope that rule (see geolog.explain(rules, net))"
    )


def _blocking_rules(net: Any, profile: Any, rules: Any, labels: pd.Index) -> list[str]:
    """Rules that forbid (priority or speed 0) any of the edges ``labels``, with conditions."""
    from . import rules as _rules

    masks = _rules.rule_masks(rules, net, profile=profile)
    forbids = set(masks.attrs.get("forbids", masks.columns))
    sel = masks.loc[masks.index.intersection(labels)]
    hit = [c for c in sel.columns if c in forbids and bool(sel[c].any())]
    if not hit:
        return []
    table = _rules.explain(rules, net, profile=profile)
    cond = {
        f"{r.section}[{r.index}]": str(r.condition)
        for r in table.itertuples()
        if r.section != "profile"
    }
    out = []
    for c in hit:
        base = c.split(" of ")[0]
        out.append(f"{c} ('{cond[base]}')" if base in cond else c)
    return out


# ----------------------------------------------------------------------------- Route
