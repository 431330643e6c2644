"""Shortest paths between snapped points, and why there is none.

Bidirectional Dijkstra on the turn graph (:mod:`geolog._turns`,
:mod:`geolog._turn_search`): partial start and end edges are exact, turn
restrictions and turn costs hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._graph import RoutingGraph, graph_for
from ._route_snap import _applied, _Ctx, _pname, _Snap
from ._turn_search import end_rows, shortest, start_rows
from ._turns import turn_graph


@dataclass
class _Leg:
    """A path between two snapped points: edge rows, the part of each travelled, its cost.

    ``turn_after_s`` holds the profile's turn seconds charged at the junction
    after each row (0 after the last; zeros when no turn is charged).
    """

    rows: np.ndarray
    f0: np.ndarray
    f1: np.ndarray
    cost: float
    turn_after_s: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.turn_after_s is None:
            self.turn_after_s = np.zeros(len(self.rows))

    @property
    def turn_s(self) -> float:
        """Seconds spent turning at junctions (the profile's turn costs)."""
        return float(np.add.reduce(self.turn_after_s))


def _travelled(
    rows: np.ndarray, f0: np.ndarray, f1: np.ndarray, turns: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Drop the untravelled rows of a path (a point at a node), keeping its turns.

    A dropped row's turn seconds move to the kept row before it; those of
    dropped rows before the first kept row (a start at the very end of a row)
    go to the first kept row, so the first junction the route passes carries
    the turn made at its start. A path with no travelled row keeps its last
    row (zero length). The turn seconds' total is unchanged.
    """
    keep = f1 > f0
    if keep.all():
        return rows, f0, f1, turns
    if not keep.any():
        keep[-1] = True
    at = np.maximum(np.cumsum(keep) - 1, 0)  # the kept row at or before each row
    moved = np.bincount(at, weights=turns, minlength=int(keep.sum()))
    return rows[keep], f0[keep], f1[keep], moved


def _direct(
    a: _Snap, b: _Snap, w: np.ndarray, g: RoutingGraph | None = None
) -> tuple[float, int, float, float] | None:
    """Cheapest stretch from ``a`` to ``b`` along one edge they share, if any.

    With the routing graph ``g``, a point at a node counts as on every road
    out of it (from ``a``) or into it (to ``b``).
    """
    if g is None:
        if a.node >= 0 or b.node >= 0:
            return None
        ra, fa = a.rows, a.fracs
        rb, fb = b.rows, b.fracs
    else:
        ra, fa = start_rows(g, a)
        rb, fb = end_rows(g, b)
    ra, rb = ra.tolist(), rb.tolist()
    if set(ra).isdisjoint(rb):  # the usual case: no edge in common
        return None
    best = None
    for r, f in zip(ra, fa.tolist(), strict=True):
        for q, h in zip(rb, fb.tolist(), strict=True):
            if r == q and h >= f:
                c = (h - f) * w[r]
                if np.isfinite(c) and (best is None or c < best[0]):
                    best = (float(c), r, f, h)
    return best


def _solve(g: RoutingGraph, a: _Snap, b: _Snap, w: np.ndarray | None = None) -> _Leg | None:
    """Least-weight path from snapped point ``a`` to ``b`` on the turn graph; ``None`` if unreachable.

    Bidirectional Dijkstra (:func:`geolog._turn_search.shortest`), or the
    stretch along one shared edge when that is cheaper.
    """
    if a.node >= 0 and a.node == b.node:  # both points at the same node: an empty stretch there
        out, into = start_rows(g, a)[0], end_rows(g, a)[0]
        r = (out if len(out) else into)[:1].copy()  # not a view of the graph's cached arrays
        return _Leg(r, np.zeros(len(r)), np.zeros(len(r)), 0.0)
    ww = g.w if w is None else w
    found = shortest(g, turn_graph(g), a, b, w)
    direct = _direct(a, b, ww, g)
    if direct is not None and (found is None or direct[0] <= found[0]):
        c, r, fa, fb = direct
        return _Leg(np.array([r]), np.array([fa]), np.array([fb]), c)
    if found is None:
        return None
    cost, rows, f0, f1, turns = found
    rows, f0, f1, turns = _travelled(rows, f0, f1, turns)
    return _Leg(rows, f0, f1, cost, turns)


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
