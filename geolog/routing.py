"""Routing on the CSR view: routes, alternatives, isochrones and matrices.

Every function takes the network, a travel profile and route rules; the
profile and rules are applied once (cached by :func:`geolog.rules.apply`) and
the CSR view of the weight column is cached per applied network, so a loop of
many queries pays for neither again.

Points are ``(lat, lon)`` pairs (or shapely Points, x = longitude). Each is
snapped (:mod:`geolog._snap`, the same snapper as
:meth:`geolog.Network.nearest_edges`) to the nearest **routable** edge: one
the profile and rules allow whose two ends lie in one strongly connected
piece of the usable network of at least :data:`MIN_COMPONENT_NODES` nodes,
so a route can both leave and reach it. A route starts at the snapped point
and uses the rest of that edge (for a two-way road, either direction), and
ends part-way along the destination edge; costs and lengths of partial edges
are the edge's values times the fraction travelled. A point within
:data:`geolog._snap.NODE_TOLERANCE_M` (1 m) of an edge end is at that node
and may leave and arrive by every usable road there.

Shortest paths use :func:`scipy.sparse.csgraph.dijkstra` on a copy of the CSR
matrix with one virtual source node per start point appended (its edges lead
to the two ends of the snapped edge, weighted by the remaining fraction), so
partial start edges are exact and cost no extra searches.

Examples
--------
>>> import geolog
>>> net = geolog.read_osm(geolog.data.path("andorra"))
>>> r = geolog.route(net, (42.5078, 1.5211), (42.5440, 1.5140), profile="car")
>>> r.length_m > 0
True
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from ._graph import RoutingGraph, graph_for
from ._snap import EdgeIndex, cut_lines, edge_index
from .errors import InputError, NoRouteError

__all__ = [
    "Route",
    "Matrix",
    "route",
    "route_nodes",
    "alternatives",
    "isochrones",
    "matrix",
    "DEFAULT_MAX_SNAP_M",
    "MIN_COMPONENT_NODES",
]

logger = logging.getLogger(__name__)

#: Points farther than this from every usable road are refused (metres).
DEFAULT_MAX_SNAP_M = 1000.0


# ----------------------------------------------------------------------------- preparation


def _profile_name(profile: Any) -> str | None:
    if profile is None or isinstance(profile, str):
        return profile
    if isinstance(profile, Mapping):
        return str(profile.get("name") or profile.get("base") or "<dict>")
    return str(getattr(profile, "name", type(profile).__name__))


def _pname(applied: Any, profile: Any) -> str | None:
    return applied.meta.get("profile") or _profile_name(profile)


def _applied(net: Any, profile: Any, rules: Any, weight: str = "cost") -> Any:
    """The network with profile and rules applied (cached by the rules module).

    With ``profile=None`` and ``rules=None`` a network that already has the
    weight column (e.g. the result of ``net.apply(...)``, or ``length_m``) is
    used as it is; otherwise :func:`geolog.rules.apply` runs (``profile=None``:
    the rules' ``profile``, else ``"car"``).
    """
    if profile is None and rules is None and weight in net.edges.columns:
        return net
    from .rules import apply

    return apply(net, profile, rules)


#: Strongly connected pieces of the *usable* network (the edges the profile
#: and rules allow) smaller than this many nodes (and than 5 % of the largest
#: piece) are not snapped to: a point there could neither leave nor be
#: reached (a stretch of road behind a forbidden track, a one-way dead end).
MIN_COMPONENT_NODES = 50


def _core(g: RoutingGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(label, size, rows)``: strong components of the usable graph and the snappable rows.

    A row is snappable when it is usable and both its ends lie in the same
    strongly connected piece of at least :data:`MIN_COMPONENT_NODES` nodes
    (or 5 % of the largest piece, on small networks): from a point on it a
    route can leave, and it can be reached, by usable roads.
    """
    if "core" not in g._extra:
        from scipy.sparse.csgraph import connected_components

        _, label = connected_components(g.csr, directed=True, connection="strong")
        size = np.bincount(label)
        big = size >= min(MIN_COMPONENT_NODES, 0.05 * size.max())
        ok = g.usable & (label[g.upos] == label[g.vpos]) & big[label[g.upos]]
        g._extra["core"] = (label, size, np.flatnonzero(ok))
    return g._extra["core"]


def _index(net: Any, g: RoutingGraph) -> EdgeIndex:
    """The snapping index of the routable rows (cached with the routing graph)."""
    if "index" not in g._extra:
        g._extra["index"] = edge_index(net, _core(g)[2])
    return g._extra["index"]


def _index_all(net: Any, g: RoutingGraph) -> EdgeIndex:
    """Index over every edge row: to name the nearest road when it is not routable."""
    if "index_all" not in g._extra:
        g._extra["index_all"] = edge_index(net)
    return g._extra["index_all"]


@dataclass
class _Ctx:
    """What a routing call works under: the inputs and the applied network's graph."""

    net: Any  # as given
    profile: Any
    rules: Any
    weight: str
    applied: Any
    g: RoutingGraph


def _context(net: Any, profile: Any, rules: Any, weight: str) -> _Ctx:
    applied = _applied(net, profile, rules, weight)
    return _Ctx(net, profile, rules, weight, applied, graph_for(applied, weight))


@dataclass
class _Snap:
    """A point snapped onto a routable road: the rows it lies on and fractions.

    ``node`` is the node position when the point is at a node (it then leaves
    and arrives by every usable road there), else -1.
    """

    query: tuple[float, float]  # (lat, lon) as given
    lat: float
    lon: float
    distance_m: float
    rows: np.ndarray  # edge row positions (the snapped row and its usable twin)
    fracs: np.ndarray  # fraction of the point along each of those rows
    node: int = -1
    note: str = ""  # a nearer road that is not routable, and why


def _starts(g: RoutingGraph, s: _Snap, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where a route from ``s`` enters the graph: ``(node, cost, row, fraction)`` arrays.

    ``row`` is -1 for a point at a node (it starts at the node, cost 0).
    """
    if s.node >= 0:
        return np.array([s.node]), np.zeros(1), np.array([-1]), np.zeros(1)
    c = (1.0 - s.fracs) * w[s.rows]
    ok = np.isfinite(c)
    return g.vpos[s.rows][ok], c[ok], s.rows[ok], s.fracs[ok]


def _ends(g: RoutingGraph, s: _Snap, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Where a route to ``s`` leaves the graph: ``(node, cost, row, fraction)`` arrays."""
    if s.node >= 0:
        return np.array([s.node]), np.zeros(1), np.array([-1]), np.ones(1)
    c = s.fracs * w[s.rows]
    ok = np.isfinite(c)
    return g.upos[s.rows][ok], c[ok], s.rows[ok], s.fracs[ok]


def _parse_point(p: Any, what: str) -> tuple[float, float]:
    if isinstance(p, shapely.Point):
        lat, lon = p.y, p.x
    else:
        try:
            lat, lon = (float(c) for c in p)
        except (TypeError, ValueError) as err:
            raise InputError(f"{what} must be a (lat, lon) pair of numbers, got {p!r}") from err
    if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise InputError(
            f"{what} {p!r} is not a (lat, lon) in degrees (latitude within ±90, "
            "longitude within ±180); note the order: latitude first"
        )
    return lat, lon


def _road_label(edges: pd.DataFrame, row: int) -> str:
    """``'Landstrasse' (primary, way 239794985)`` for an edge row."""
    e = edges.iloc[int(row)]
    name = [str(e[c]) for c in ("name", "ref") if c in edges.columns and not pd.isna(e[c])]
    hw = e["highway"] if "highway" in edges.columns and not pd.isna(e["highway"]) else "road"
    way = f", way {e['osmid']}" if "osmid" in edges.columns else ""
    title = repr(" / ".join(name)) if name else "an unnamed road"
    return f"{title} ({hw}{way})"


def _reasons(ctx: _Ctx) -> list[str] | None:
    """Why each edge row is forbidden (cached with the graph); ``None`` if unknown.

    Unknown when the network was costed before (``profile`` and ``rules``
    both ``None``): the profile and rules it was costed with are not at hand.
    """
    g = ctx.g
    if "reasons" not in g._extra:
        if ctx.profile is None and ctx.rules is None:
            g._extra["reasons"] = None
        else:
            from .rules import edge_reasons

            rows = np.arange(len(g.usable))
            g._extra["reasons"] = edge_reasons(ctx.net, rows, profile=ctx.profile, rules=ctx.rules)
    return g._extra["reasons"]


def _why_not(ctx: _Ctx, rows: np.ndarray) -> list[str]:
    """Why each of the edge ``rows`` cannot be snapped to (not usable, or cut off)."""
    g = ctx.g
    label, size, _ = _core(g)
    out = [""] * len(rows)
    bad = [i for i, r in enumerate(rows) if not g.usable[r]]
    if bad:
        why = _reasons(ctx)
        for i in bad:
            w = why[rows[i]] if why is not None else ""
            out[i] = f"forbidden by {w}" if w else f"its {ctx.weight!r} is not finite (forbidden)"
    for i, r in enumerate(rows):
        if g.usable[r]:
            c = label[g.upos[r]]
            out[i] = (
                f"cut off: it lies in a piece of {int(size[c])} node(s) that routes under this "
                f"profile and rules can neither leave nor reach ({_border(ctx, c)})"
            )
    return out


def _border(ctx: _Ctx, piece: int) -> str:
    """What closes a strongly connected piece off: the reasons of the forbidden roads at its edge."""
    g = ctx.g
    label = _core(g)[0]
    touch = (label[g.upos] == piece) | (label[g.vpos] == piece)
    closed = np.flatnonzero(touch & ~g.usable)
    why = _reasons(ctx)
    said = list(dict.fromkeys(why[r] for r in closed if why[r])) if why is not None else []
    if said:
        more = f" and {len(said) - 2} more" if len(said) > 2 else ""
        return "the roads around it: " + " | ".join(said[:2]) + more
    return "one-way roads, or roads forbidden around it"


def _skipped_roads(ctx: _Ctx, lon: np.ndarray, lat: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Per point, a note naming a nearer road that is not routable, and why ('' if none).

    A cheap ``dwithin`` query on the index of all edges finds the points that
    have any road clearly (0.5 m) nearer than their snap; only those are
    snapped again onto every edge.
    """
    notes = np.full(len(lon), "", dtype=object)
    if not len(lon):
        return notes
    everything = _index_all(ctx.applied, ctx.g)
    pts = shapely.points(everything.frame.fwd(np.column_stack([lon, lat])))
    reach = np.where(np.isfinite(dist), dist - 0.5, 1e12)
    ask = np.flatnonzero(reach > 0)  # a point on a routable road has nothing nearer
    if not len(ask):
        return notes
    hit = everything.tree.query(pts[ask], predicate="dwithin", distance=reach[ask])
    if not hit.shape[1]:
        return notes
    idx = ask[np.unique(hit[0])]
    near = everything.snap(lon[idx], lat[idx])
    closer = near["distance_m"] < reach[idx]
    idx, rows, d = idx[closer], near["row"][closer], near["distance_m"][closer]
    why = _why_not(ctx, rows) if len(rows) else []
    notes[idx] = [
        f"the nearest road, {_road_label(ctx.applied.edges, r)} at {x:,.0f} m, is not routable: {w}"
        for r, x, w in zip(rows, d, why, strict=True)
    ]
    return notes


def _snap(
    ctx: _Ctx,
    points: list[tuple[float, float] | None],
    names: list[str],
    max_snap_m: float,
    *,
    errors: str = "raise",
) -> tuple[list[_Snap | None], list[str]]:
    """Snap points onto the routable roads.

    Returns the snaps (``None`` for a point that could not be snapped, only
    with ``errors="coerce"``) and per point the reason it was not snapped
    ('' when it was).
    """
    applied, g = ctx.applied, ctx.g
    ok_pts = [i for i, p in enumerate(points) if p is not None]
    lat = np.array([points[i][0] for i in ok_pts], dtype=float)
    lon = np.array([points[i][1] for i in ok_pts], dtype=float)
    s = _index(applied, g).snap(lon, lat)
    notes = _skipped_roads(ctx, lon, lat, s["distance_m"])
    out: list[_Snap | None] = [None] * len(points)
    reasons = ["" if p is not None else "not a (lat, lon) point" for p in points]
    for k, i in enumerate(ok_pts):
        d, r = float(s["distance_m"][k]), int(s["row"][k])
        if r < 0 or d > max_snap_m:
            usable = (
                f"the nearest road routes can use under profile {_pname(applied, ctx.profile)!r}"
                + (" and these rules" if ctx.rules is not None else "")
                + (
                    f" is {_road_label(applied.edges, r)}, {d:,.0f} m away"
                    if r >= 0
                    else " does not exist"
                )
            )
            msg = (
                f"{names[i]} {points[i]} cannot be snapped: {usable} (more than "
                f"max_snap_m={max_snap_m:,.0f} m)"
                + (f"; {notes[k]}" if notes[k] else "")
                + ". Move the point onto a road, raise max_snap_m, or relax the rules; "
                "is the point inside the network and in (lat, lon) order?"
            )
            if errors == "raise":
                raise InputError(msg)
            reasons[i] = msg
            continue
        f = float(s["fraction"][k])
        rows, fracs = [r], [f]
        t = int(g.twin[r])
        if t >= 0 and g.usable[t]:
            rows.append(t)
            fracs.append(1.0 - f)
        end = int(s["end"][k])
        node = int(g.upos[r]) if end == 1 else int(g.vpos[r]) if end == 2 else -1
        if notes[k]:
            logger.info("%s %s: %s", names[i], points[i], notes[k])
        out[i] = _Snap(
            points[i],
            float(s["lat"][k]),
            float(s["lon"][k]),
            d,
            np.array(rows, dtype=np.int64),
            np.array(fracs, dtype=float),
            node,
            str(notes[k]),
        )
    return out, reasons


def _snap_all(
    ctx: _Ctx, points: list[tuple[float, float]], names: list[str], max_snap_m: float
) -> list[_Snap]:
    snaps, _ = _snap(ctx, points, names, max_snap_m)
    return snaps  # type: ignore[return-value]


def _nearest(
    net: Any, latlon: np.ndarray, *, profile: Any, rules: Any, weight: str
) -> pd.DataFrame:
    """:meth:`geolog.Network.nearest_edges` under a profile and rules (routable roads only)."""
    ctx = _context(net, profile, rules, weight)
    s = _index(ctx.applied, ctx.g).snap(latlon[:, 1], latlon[:, 0])
    return ctx.applied._snap_frame(s)


# ----------------------------------------------------------------------------- shortest paths


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


class Route:
    """A route found by :func:`route` (or one of :func:`alternatives`).

    Attributes
    ----------
    length_m, duration_s
        Length (metres) and travel time (seconds) of the route, partial edges
        at both ends included. ``duration_s`` is NaN on a network without
        ``travel_time_s`` (no profile applied).
    ascent_m, descent_m
        Total climb and descent (metres) from the edges' ``ascent_m`` /
        ``descent_m`` (terrain), else from node elevations; NaN without either.
    max_grade
        Steepest climb on the route (fraction, 0.12 = 12 %, signed in the
        direction of travel, so a route that only descends has a negative
        value); NaN without terrain.
    cost
        Sum of the routing weight (``weight`` column, e.g. ``cost``).
    origin, destination, via
        The points as given, ``(lat, lon)``.
    snapped
        The snapped points in travel order (origin, via …, destination):
        ``lat``, ``lon``, ``distance_m`` (to the query point, metres),
        ``edge`` (row label snapped to) and ``fraction`` along it, ``node``
        (OSM id when the point is at a node, -1 otherwise) and ``note`` (a
        nearer road that is not routable, and why; '' if none).
    profile_name, rules, weight
        What the route was computed under.
    overlap, stretch
        Set by :func:`alternatives`: the largest share of this route's length
        it shares with a route listed before it, and its cost relative to the
        best route (1.0 for the best).
    """

    def __init__(
        self,
        net: Any,
        g: RoutingGraph,
        legs: list[_Leg],
        snaps: list[_Snap],
        *,
        profile_name: str | None,
        rules: Any,
        weight: str,
    ) -> None:
        self._net = net
        self._g = g
        self.rows = np.concatenate([leg.rows for leg in legs])
        self.f0 = np.concatenate([leg.f0 for leg in legs])
        self.f1 = np.concatenate([leg.f1 for leg in legs])
        self.leg_sizes = [len(leg.rows) for leg in legs]
        self.cost = float(sum(leg.cost for leg in legs))
        self.origin = snaps[0].query
        self.destination = snaps[-1].query
        self.via = [s.query for s in snaps[1:-1]]
        self._snaps = snaps
        self.profile_name = profile_name
        self.rules = rules
        self.weight = weight
        self.overlap: float | None = None
        self.stretch: float | None = None
        frac = self.f1 - self.f0
        self._frac = frac
        self.length_m = float(np.sum(frac * g.length[self.rows]))
        self.duration_s = float(np.sum(frac * g.time[self.rows]))
        self.ascent_m, self.descent_m, self.max_grade = self._terrain()

    @cached_property
    def snapped(self) -> pd.DataFrame:
        """The snapped points in travel order (see the class docstring)."""
        snaps = self._snaps
        ids = self._net.nodes.index.to_numpy()
        labels = self._net.edges.index
        return pd.DataFrame(
            {
                "role": ["origin", *["via"] * (len(snaps) - 2), "destination"],
                "lat": [s.lat for s in snaps],
                "lon": [s.lon for s in snaps],
                "distance_m": [s.distance_m for s in snaps],
                "edge": [labels[s.rows[0]] if len(s.rows) else -1 for s in snaps],
                "fraction": [float(s.fracs[0]) if len(s.fracs) else np.nan for s in snaps],
                "node": [int(ids[s.node]) if s.node >= 0 else -1 for s in snaps],
                "note": [s.note for s in snaps],
            }
        )

    # terrain summary --------------------------------------------------------
    def _node_elev(self) -> tuple[np.ndarray, np.ndarray] | None:
        nodes = self._net.nodes
        if "elevation" not in nodes.columns:
            return None
        z = nodes["elevation"].to_numpy(dtype=float)
        zu, zv = z[self._g.upos[self.rows]], z[self._g.vpos[self.rows]]
        return zu + self.f0 * (zv - zu), zu + self.f1 * (zv - zu)

    def _terrain(self) -> tuple[float, float, float]:
        e = self._net.edges
        used = self._frac > 0
        if {"ascent_m", "descent_m"} <= set(e.columns):
            asc = e["ascent_m"].to_numpy(dtype=float)[self.rows]
            des = e["descent_m"].to_numpy(dtype=float)[self.rows]
            ascent = float(np.nansum(self._frac * asc))
            descent = float(np.nansum(self._frac * des))
        else:
            ze = self._node_elev()
            if ze is None:
                ascent = descent = float("nan")
            else:
                d = ze[1] - ze[0]
                ascent, descent = float(d[d > 0].sum()), float(-d[d < 0].sum())
        col = "max_grade" if "max_grade" in e.columns else "grade" if "grade" in e.columns else None
        if col is not None and used.any():
            g = e[col].to_numpy(dtype=float)[self.rows][used]
            max_grade = float(np.nanmax(g)) if np.isfinite(g).any() else float("nan")
        else:
            ze = self._node_elev()
            L = self._g.length[self.rows] * self._frac
            if ze is None or not (used & (L > 0)).any():
                max_grade = float("nan")
            else:
                ok = used & (L > 0)
                max_grade = float(np.max((ze[1] - ze[0])[ok] / L[ok]))
        return ascent, descent, max_grade

    # geometry and frames ----------------------------------------------------
    @cached_property
    def _pieces(self) -> np.ndarray:
        idx = _index(self._net, self._g)
        return cut_lines(idx.geoms_m[self.rows], self.f0, self.f1, idx.frame)

    @cached_property
    def geometry(self) -> shapely.LineString:
        """The route as one LineString in lon/lat (EPSG:4326)."""
        xy = shapely.get_coordinates(self._pieces)
        if len(xy) == 0:
            return shapely.LineString()
        keep = np.r_[True, np.any(np.abs(np.diff(xy, axis=0)) > 1e-12, axis=1)]
        xy = xy[keep]
        if len(xy) == 1:
            xy = np.vstack([xy, xy])
        return shapely.LineString(xy)

    @cached_property
    def edges(self):
        """The traversed edges in order (GeoDataFrame).

        A copy of the network's edge rows with ``edge`` (row label),
        ``leg`` (0 for the first leg, +1 at each via point), ``fraction_start``,
        ``fraction_end`` (part of the edge travelled), ``traversed_m``,
        ``traversed_s`` and the geometry cut to the travelled part.
        """
        import geopandas as gpd

        e = self._net.edges.iloc[self.rows]
        e = e.reset_index(names="edge")
        leg = np.repeat(np.arange(len(self.leg_sizes)), self.leg_sizes)
        extra = pd.DataFrame(
            {
                "leg": leg,
                "fraction_start": self.f0,
                "fraction_end": self.f1,
                "traversed_m": self._frac * self._g.length[self.rows],
                "traversed_s": self._frac * self._g.time[self.rows],
            }
        )
        out = pd.concat([e.drop(columns=e.geometry.name), extra], axis=1)
        return gpd.GeoDataFrame(out, geometry=self._pieces, crs="EPSG:4326")

    def profile(self) -> pd.DataFrame:
        """Elevation along the route: ``distance_m`` from the start and ``elevation_m``.

        Uses :func:`geolog.costing.elevation_profile` (DEM samples along each
        edge) when the terrain module provides it, else the node elevations
        (one point per edge end, linear between).

        Raises
        ------
        InputError
            If the network has no elevations (add terrain first:
            ``net.with_terrain(DEM.open(...))``).
        """
        try:
            from .costing import elevation_profile
        except ImportError:
            elevation_profile = None
        if elevation_profile is not None:
            try:
                return self._profile_from_costing(elevation_profile)
            except (InputError, KeyError, ValueError, TypeError) as err:
                logger.debug("elevation_profile failed (%s); using node elevations", err)
        ze = self._node_elev()
        if ze is None:
            raise InputError(
                "this route's network has no elevations; add terrain first with "
                "net.with_terrain(geolog.DEM.open(...))"
            )
        L = self._frac * self._g.length[self.rows]
        start = np.concatenate([[0.0], np.cumsum(L)[:-1]])
        d = np.column_stack([start, start + L]).ravel()
        z = np.column_stack([ze[0], ze[1]]).ravel()
        keep = np.r_[True, np.diff(d) > 0]
        return pd.DataFrame({"distance_m": d[keep], "elevation_m": z[keep]})

    def _profile_from_costing(self, elevation_profile) -> pd.DataFrame:
        labels = self._net.edges.index[self.rows]
        p = elevation_profile(self._net, list(labels))
        d = p["distance_m"].to_numpy(dtype=float)
        z = p["elevation_m"].to_numpy(dtype=float)
        full = self._g.length[self.rows]
        S = np.concatenate([[0.0], np.cumsum(full)[:-1]])  # start of each row, full edges
        lo, hi = S + self.f0 * full, S + self.f1 * full  # traversed part, full-edge axis
        R = np.concatenate([[0.0], np.cumsum(hi - lo)[:-1]])  # its start on the route axis
        k = np.clip(np.searchsorted(S, d, side="right") - 1, 0, len(S) - 1)
        inside = (d > lo[k]) & (d < hi[k])
        dd = np.concatenate([lo, d[inside], hi])
        kk = np.concatenate([np.arange(len(S)), k[inside], np.arange(len(S))])
        pos = np.concatenate([np.zeros(len(S)), np.ones(inside.sum()), np.full(len(S), 2.0)])
        order = np.lexsort((dd, pos, kk))
        dd, kk = dd[order], kk[order]
        out = pd.DataFrame({"distance_m": dd - lo[kk] + R[kk], "elevation_m": np.interp(dd, d, z)})
        keep = np.r_[True, np.diff(out["distance_m"].to_numpy()) > 1e-9]
        return out[keep].reset_index(drop=True)

    def directions(self, *, min_step_m: float = 25.0) -> pd.DataFrame:
        """Turn-by-turn directions: one row per stretch of the same road.

        Stretches shorter than ``min_step_m`` metres (junction links, slivers
        of roundabouts) are folded into the step before them.

        Returns
        -------
        pandas.DataFrame
            ``step``, ``instruction`` (e.g. "turn left onto CG-2"), ``road``
            (name and/or ref, "unnamed road" when untagged), ``turn``
            (``depart``, ``straight``, ``slight left`` / ``slight right``
            (20–45°), ``left`` / ``right`` (45–135°), ``sharp left`` /
            ``sharp right``, ``u-turn`` (> 170°), ``arrive``), ``turn_deg``
            (signed heading change, + = right), ``distance_m`` along it
            and ``duration_s``.
        """
        e = self._net.edges
        rows = self.rows
        used = self._frac > 0
        if not used.any():
            used = np.ones(len(rows), dtype=bool)
        rows, pieces = rows[used], self._pieces[used]
        L = (self._frac * self._g.length[self.rows])[used]
        T = (self._frac * self._g.time[self.rows])[used]

        def col(c: str) -> np.ndarray:
            if c not in e.columns:
                return np.full(len(rows), None, dtype=object)
            v = e[c].to_numpy(dtype=object)[rows]
            return np.array([None if pd.isna(x) or x == "" else str(x) for x in v], dtype=object)

        name, ref = col("name"), col("ref")
        road = np.array(
            [
                (f"{n} ({r})" if n and r else n or r or "unnamed road")
                for n, r in zip(name, ref, strict=True)
            ],
            dtype=object,
        )
        # headings at each piece's start and end (local metric frame)
        idx = _index(self._net, self._g)
        xy, ids = shapely.get_coordinates(idx.frame.to_m(pieces), return_index=True)
        first = np.searchsorted(ids, np.arange(len(pieces)))
        last = np.r_[first[1:], len(ids)] - 1
        d_start = xy[np.minimum(first + 1, last)] - xy[first]
        d_end = xy[last] - xy[np.maximum(last - 1, first)]
        h_start = np.degrees(np.arctan2(d_start[:, 0], d_start[:, 1]))
        h_end = np.degrees(np.arctan2(d_end[:, 0], d_end[:, 1]))
        # a roundabout is one step whatever its ways are called; the turn of
        # the step after it is measured from the heading before entering it
        ring = np.isin(col("junction"), ["roundabout", "circular"])
        key = np.where(ring, "\0roundabout", road)
        new = np.r_[True, key[1:] != key[:-1]]
        group = np.cumsum(new) - 1
        steps = []
        entry = None  # first piece of the roundabout just driven
        for gi in range(group[-1] + 1):
            sel = np.flatnonzero(group == gi)
            i0 = sel[0]
            before = entry if entry is not None else i0
            if gi == 0:
                turn, delta = "depart", 0.0
            else:
                delta = float((h_start[i0] - h_end[before - 1] + 180) % 360 - 180)
                turn = _turn_word(delta)
            verb = {
                "depart": "head",
                "straight": "continue",
            }.get(turn, "u-turn" if turn == "u-turn" else f"turn {turn}")
            prep = "on" if turn in ("depart", "straight") else "onto"
            text, keep = f"{verb} {prep} {road[i0]}", False
            if ring[i0]:
                text, entry, keep = "enter the roundabout", i0, True
                turn, delta = "roundabout", 0.0
            elif entry is not None:
                word = {"straight": "straight on", "u-turn": "back"}.get(turn, turn)
                text, entry, keep = f"leave the roundabout ({word}) onto {road[i0]}", None, True
            steps.append(
                {
                    "step": gi + 1,
                    "instruction": text,
                    "road": road[i0],
                    "turn": turn,
                    "turn_deg": round(delta, 1),
                    "distance_m": float(L[sel].sum()),
                    "duration_s": float(T[sel].sum()),
                    "_keep": keep,
                }
            )
        # fold stretches shorter than min_step_m (junction links, slivers) into
        # the step before them; roundabout entries and exits always stay
        merged: list[dict] = []
        for st in steps:
            short = (
                st["distance_m"] < min_step_m or st["road"] == merged[-1]["road"]
                if merged
                else False
            )
            if merged and short and not st.pop("_keep"):
                merged[-1]["distance_m"] += st["distance_m"]
                merged[-1]["duration_s"] += st["duration_s"]
            else:
                st.pop("_keep", None)
                merged.append(st)
        for i, st in enumerate(merged):
            st["step"] = i + 1
        steps = merged
        steps.append(
            {
                "step": len(steps) + 1,
                "instruction": "arrive",
                "road": road[-1],
                "turn": "arrive",
                "turn_deg": 0.0,
                "distance_m": 0.0,
                "duration_s": 0.0,
            }
        )
        return pd.DataFrame(steps)

    # export ------------------------------------------------------------------
    def summary(self) -> dict:
        """The headline numbers as a plain dict (JSON-ready)."""

        def num(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), 6)

        return {
            "profile": self.profile_name,
            "weight": self.weight,
            "length_m": num(self.length_m),
            "duration_s": num(self.duration_s),
            "ascent_m": num(self.ascent_m),
            "descent_m": num(self.descent_m),
            "max_grade": num(self.max_grade),
            "cost": num(self.cost),
            "origin": list(self.origin),
            "destination": list(self.destination),
            "via": [list(v) for v in self.via],
            "edges": len(self.rows),
            "overlap": num(self.overlap),
            "stretch": num(self.stretch),
        }

    @property
    def __geo_interface__(self) -> dict:
        """GeoJSON FeatureCollection: the route line with its summary."""
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(self.geometry),
                    "properties": self.summary(),
                }
            ],
        }

    def to_geojson(self, **kwargs: Any) -> str:
        """GeoJSON text (a FeatureCollection with one LineString feature, lon/lat)."""
        return json.dumps(self.__geo_interface__, **kwargs)

    def __repr__(self) -> str:
        return (
            f"<geolog.Route {self.profile_name or self.weight}: {self.length_m / 1000:,.2f} km, "
            f"{_fmt_duration(self.duration_s)}, +{_fmt(self.ascent_m, '.0f')} m / "
            f"-{_fmt(self.descent_m, '.0f')} m, max grade {_fmt_pct(self.max_grade)}, "
            f"{len(self.rows)} edges>"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("profile", self.profile_name or "—"),
            ("length", f"{self.length_m / 1000:,.2f} km"),
            ("duration", _fmt_duration(self.duration_s)),
            (
                "ascent / descent",
                f"{_fmt(self.ascent_m, '.0f')} m / {_fmt(self.descent_m, '.0f')} m",
            ),
            ("max grade", _fmt_pct(self.max_grade)),
            ("edges", f"{len(self.rows)}"),
            ("from", f"{self.origin[0]:.5f}, {self.origin[1]:.5f}"),
            ("to", f"{self.destination[0]:.5f}, {self.destination[1]:.5f}"),
        ]
        if self.via:
            rows.append(("via", "; ".join(f"{a:.5f}, {b:.5f}" for a, b in self.via)))
        if self.stretch is not None:
            rows.append(("stretch / overlap", f"{self.stretch:.3f} / {self.overlap:.0%}"))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>geolog.Route</caption>{body}</table>"


def _turn_word(delta: float) -> str:
    a = abs(delta)
    side = "right" if delta > 0 else "left"
    if a < 20:
        return "straight"
    if a < 45:
        return f"slight {side}"
    if a < 135:
        return side
    if a < 170:
        return f"sharp {side}"
    return "u-turn"


def _fmt(x: float, spec: str) -> str:
    return "?" if x is None or not np.isfinite(x) else format(x, spec)


def _fmt_pct(x: float) -> str:
    return "?" if x is None or not np.isfinite(x) else f"{x:.1%}"


def _fmt_duration(s: float) -> str:
    if s is None or not np.isfinite(s):
        return "? min"
    m = s / 60
    return f"{m:,.1f} min" if m < 90 else f"{int(m // 60)} h {m % 60:02.0f} min"


# ----------------------------------------------------------------------------- public API


def route(
    net: Any,
    origin: Any,
    destination: Any,
    *,
    via: list[Any] | None = None,
    profile: Any = None,
    rules: Any = None,
    weight: str = "cost",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> Route:
    """Least-cost route between two points under a profile and route rules.

    Parameters
    ----------
    net
        A :class:`geolog.Network` (not modified).
    origin, destination
        ``(lat, lon)`` in degrees or shapely Points (x = longitude). Each is
        snapped to the nearest edge the profile and rules allow.
    via
        Points to pass through, in order.
    profile
        Travel profile name (``"car"``, ``"truck"``, ``"foot"``, ``"tracked"``),
        a :class:`geolog.profiles.Profile`, a YAML path or dict. ``None`` with
        ``rules=None`` routes on the network as it is (e.g. ``weight="length_m"``).
    rules
        Route rules (YAML path, YAML text, dict or :class:`geolog.rules.RuleSet`).
    weight
        Edge column to minimise: ``"cost"`` (default: the rules' cost),
        ``"travel_time_s"`` or ``"length_m"``. Edges the rules forbid
        (``cost`` = inf) are never used, whatever the weight.
    max_snap_m
        Points farther than this from every usable road raise ``InputError``.

    Returns
    -------
    Route

    Raises
    ------
    InputError
        A point is malformed or off the network.
    NoRouteError
        The destination cannot be reached; the message names the rules that
        cut the network when rules did.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> r = geolog.route(net, (42.5078, 1.5211), (42.5440, 1.5140))
    >>> r.duration_s > 0
    True
    """
    pts = [_parse_point(origin, "origin")]
    names = ["origin"]
    for i, p in enumerate(via or []):
        pts.append(_parse_point(p, f"via point {i + 1}"))
        names.append(f"via point {i + 1}")
    pts.append(_parse_point(destination, "destination"))
    names.append("destination")
    ctx = _context(net, profile, rules, weight)
    applied, g = ctx.applied, ctx.g
    snaps = _snap_all(ctx, pts, names, max_snap_m)
    legs = []
    for a, b in zip(snaps[:-1], snaps[1:], strict=True):
        leg = _solve(g, a, b)
        if leg is None:
            raise NoRouteError(_no_route_message(ctx, a, b))
        legs.append(leg)
    return Route(
        applied, g, legs, snaps, profile_name=_pname(applied, profile), rules=rules, weight=weight
    )


def route_nodes(
    net: Any,
    source: int,
    target: int,
    *,
    profile: Any = None,
    rules: Any = None,
    weight: str = "cost",
) -> Route:
    """Least-cost route between two nodes (OSM node ids), no snapping.

    The node-to-node form of :func:`route`, equal to networkx's
    ``shortest_path`` on ``applied.to_networkx()`` with the same weight.
    """
    ctx = _context(net, profile, rules, weight)
    applied, g = ctx.applied, ctx.g
    pos = applied.node_positions([source, target])
    xy = np.column_stack([g.node_lat[pos], g.node_lon[pos]])
    dist, pred = dijkstra(g.csr, indices=int(pos[0]), return_predecessors=True)
    t = int(pos[1])
    if not np.isfinite(dist[t]):
        raise NoRouteError(
            f"no path from node {source} to node {target} for profile "
            f"{_pname(applied, profile)!r}"
            + (" under the given rules; see geolog.explain(rules, net)" if rules else "")
        )
    path = [t]
    while path[-1] != pos[0]:
        path.append(int(pred[path[-1]]))
    p = np.asarray(path[::-1], dtype=np.int64)
    rows = g.rows_for_pairs(p[:-1], p[1:])
    leg = _Leg(rows, np.zeros(len(rows)), np.ones(len(rows)), float(dist[t]))
    none = np.empty(0, dtype=np.int64)
    snaps = [
        _Snap((x[0], x[1]), x[0], x[1], 0.0, none, np.empty(0), int(q))
        for x, q in zip(xy, pos, strict=True)
    ]
    return Route(
        applied, g, [leg], snaps, profile_name=_pname(applied, profile), rules=rules, weight=weight
    )


def alternatives(
    net: Any,
    origin: Any,
    destination: Any,
    *,
    k: int = 3,
    profile: Any = None,
    rules: Any = None,
    weight: str = "cost",
    max_overlap: float = 0.7,
    max_stretch: float = 1.5,
    penalty: float = 1.5,
    max_tries: int | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> list[Route]:
    """Up to ``k`` genuinely different routes, best first (penalty method).

    The best route is found; then, repeatedly, the weights of the edges of the
    last route found (both directions of each road) are multiplied by
    ``penalty`` and the search is run again. A candidate is kept when it
    shares at most ``max_overlap`` of its length with every route kept so far
    and its true cost (unpenalised) is at most ``max_stretch`` times the best.

    Parameters
    ----------
    k
        Number of routes wanted (fewer are returned when no more qualify).
    max_overlap
        Largest shared fraction of a candidate's length (0–1).
    max_stretch
        Largest cost ratio to the best route.
    penalty
        Factor applied to used edges per round (> 1).
    max_tries
        Rounds before giving up (default ``4 * k``).
    Other parameters as in :func:`route`.

    Returns
    -------
    list of Route
        Each with ``overlap`` (largest share of its length on roads of a
        route listed before it; 0 for the best) and ``stretch`` (cost / best
        cost; 1 for the best).
    """
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    if not penalty > 1:
        raise InputError(f"penalty must be > 1, got {penalty}")
    pts = [_parse_point(origin, "origin"), _parse_point(destination, "destination")]
    ctx = _context(net, profile, rules, weight)
    applied, g = ctx.applied, ctx.g
    a, b = _snap_all(ctx, pts, ["origin", "destination"], max_snap_m)
    best = _solve(g, a, b)
    if best is None:
        raise NoRouteError(_no_route_message(ctx, a, b))
    seg = np.where(g.twin >= 0, np.minimum(np.arange(len(g.twin)), g.twin), np.arange(len(g.twin)))
    kept: list[_Leg] = [best]
    w = g.w.copy()
    last = best
    for _ in range(max_tries or 4 * k):
        if len(kept) >= k:
            break
        used = np.unique(last.rows)
        tw = g.twin[used]
        w[used] *= penalty
        w[tw[tw >= 0]] *= penalty
        cand = _solve(g, a, b, w)
        if cand is None:
            break
        last = cand
        cost = float(np.sum((cand.f1 - cand.f0) * g.w[cand.rows]))
        if cost > max_stretch * best.cost:
            continue
        cand = _Leg(cand.rows, cand.f0, cand.f1, cost)
        if max(_overlap(g, seg, cand, other) for other in kept) <= max_overlap:
            kept.append(cand)
    kept = [best, *sorted(kept[1:], key=lambda leg: leg.cost)]
    overlaps = [0.0] + [
        max(_overlap(g, seg, kept[i], kept[j]) for j in range(i)) for i in range(1, len(kept))
    ]
    stretches = [leg.cost / best.cost if best.cost > 0 else 1.0 for leg in kept]
    out = []
    for leg, ov, st in zip(kept, overlaps, stretches, strict=True):
        r = Route(
            applied,
            g,
            [leg],
            [a, b],
            profile_name=_pname(applied, profile),
            rules=rules,
            weight=weight,
        )
        r.overlap, r.stretch = ov, st
        out.append(r)
    return out


def _overlap(g: RoutingGraph, seg: np.ndarray, leg: _Leg, other: _Leg) -> float:
    """Share of ``leg``'s length on road segments ``other`` also uses (either direction)."""
    lens = (leg.f1 - leg.f0) * g.length[leg.rows]
    total = lens.sum()
    if total <= 0:
        return 1.0
    return float(lens[np.isin(seg[leg.rows], seg[other.rows])].sum() / total)


def isochrones(
    net: Any,
    origin: Any,
    times_s: Any,
    *,
    profile: Any = None,
    rules: Any = None,
    buffer_m: float = 50.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
):
    """Areas reachable from a point within travel-time budgets.

    One Dijkstra search by ``travel_time_s`` from the snapped origin over the
    edges the profile and rules allow (``cost`` finite). Every edge whose
    start is reached within a budget is kept up to the fraction the remaining
    time covers (partial edges at the frontier); the polygon is the union of
    those road stretches buffered by ``buffer_m`` metres (in a local metric
    frame), plus the snapped origin. Larger budgets give polygons containing
    the smaller ones.

    Parameters
    ----------
    times_s
        One budget or a list of budgets in seconds (e.g. ``[600, 1800]``).
    buffer_m
        Half-width of the band around reached roads, metres.
    Other parameters as in :func:`route`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per budget, ascending: ``time_s``, ``reached_km`` (km of
        road reached, each direction of travel counted) and
        ``geometry`` (Polygon or MultiPolygon, EPSG:4326).
    """
    import geopandas as gpd

    times = np.atleast_1d(np.asarray(times_s, dtype=float))
    if times.size == 0 or not np.all(np.isfinite(times)) or (times <= 0).any():
        raise InputError(f"times_s must be positive numbers of seconds, got {times_s!r}")
    if not (isinstance(buffer_m, int | float) and 0 < buffer_m < float("inf")):
        raise InputError(
            f"buffer_m must be a positive number of metres (e.g. 50), not {buffer_m!r}"
        )
    times = np.sort(times)
    applied = _applied(net, profile, rules, "travel_time_s")
    if "travel_time_s" not in applied.edges.columns:
        raise InputError("isochrones need travel times: give a profile (e.g. profile='car')")
    ctx = _context(net, profile, rules, "travel_time_s")
    g = ctx.g
    (a,) = _snap_all(ctx, [_parse_point(origin, "origin")], ["origin"], max_snap_m)
    sn, sc, _, _ = _starts(g, a, g.w)
    csr = g.with_sources([sn], [sc])
    dist = dijkstra(csr, indices=g.n, limit=float(times[-1]))
    du = dist[g.upos]
    idx = _index(applied, g)
    origin_m = idx.frame.fwd(np.array([[a.lon, a.lat]]))
    polys, reached = [], []
    prev = None
    for T in times:
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = np.where(g.w > 0, (T - du) / g.w, np.where(du <= T, 1.0, 0.0))
        reach = np.clip(np.nan_to_num(reach, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        rows = np.flatnonzero(g.usable & np.isfinite(du) & (du <= T) & (reach > 0))
        f0 = np.zeros(len(rows))
        f1 = reach[rows]
        # the origin's own edge(s), from the snapped point onwards
        with np.errstate(divide="ignore"):
            o_end = np.where(g.w[a.rows] > 0, a.fracs + T / g.w[a.rows], 1.0)
        rows = np.concatenate([rows, a.rows])
        f0 = np.concatenate([f0, a.fracs])
        f1 = np.concatenate([f1, np.minimum(1.0, o_end)])
        pieces = cut_lines(idx.geoms_m[rows], f0, f1)
        reached.append(float(np.sum((f1 - f0) * g.length[rows])) / 1000)
        bands = shapely.buffer(shapely.simplify(pieces, buffer_m / 5), buffer_m, quad_segs=3)
        geom = shapely.union_all(
            np.concatenate([bands, shapely.buffer(shapely.points(origin_m), buffer_m)])
        )
        if prev is not None:
            geom = shapely.union(geom, prev)
        prev = geom
        polys.append(geom)
    geoms = idx.frame.to_lonlat(np.array(polys, dtype=object))
    return gpd.GeoDataFrame(
        {"time_s": times, "reached_km": reached}, geometry=list(geoms), crs="EPSG:4326"
    )


# ----------------------------------------------------------------------------- matrix


class Matrix:
    """Travel-time and distance matrix between snapped points (see :func:`matrix`).

    Attributes
    ----------
    durations_s, distances_m, costs
        ``len(sources) × len(targets)`` numpy arrays: travel time (seconds)
        and length (metres) along the least-cost path from row point to
        column point, and its cost. ``inf`` where no route exists, ``NaN`` in
        the row or column of a point that could not be snapped, 0 from a
        point to itself.
    sources, targets
        DataFrames of the points: ``lat``, ``lon`` as given, ``snapped_lat``,
        ``snapped_lon``, ``snap_distance_m``, ``edge`` (row label snapped to,
        -1 if not snapped), ``node`` (OSM id when snapped to a node, else -1),
        ``reason`` ('' when all is well, else why its row / column is empty).
    points
        ``sources`` (kept for square matrices).
    problems
        The per-point reason table: ``role`` (``"source"`` / ``"target"``;
        ``"point"`` in a square matrix),
        ``index``, ``lat``, ``lon``, ``reason``; empty when every point was
        snapped and reaches (is reached by) some other point.
    """

    def __init__(
        self, durations_s, distances_m, costs, sources, targets, *, profile_name, rules, weight
    ):
        self.durations_s = durations_s
        self.distances_m = distances_m
        self.costs = costs
        self.sources = sources
        self.targets = targets
        self.points = sources
        self.profile_name = profile_name
        self.rules = rules
        self.weight = weight

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(sources), len(targets))``."""
        return self.durations_s.shape

    @property
    def problems(self) -> pd.DataFrame:
        """Points whose row or column is empty, and why."""
        parts = []
        sides = (
            [("point", self.sources)]
            if self.targets is self.sources
            else [("source", self.sources), ("target", self.targets)]
        )
        for role, fr in sides:
            bad = fr[fr["reason"] != ""]
            parts.append(
                pd.DataFrame(
                    {
                        "role": role,
                        "index": bad.index.to_numpy(),
                        "lat": bad["lat"].to_numpy(),
                        "lon": bad["lon"].to_numpy(),
                        "reason": bad["reason"].to_numpy(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def __len__(self) -> int:
        return len(self.sources)

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per (origin, destination) pair."""
        m, n = self.shape
        i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
        return pd.DataFrame(
            {
                "origin": i.ravel(),
                "destination": j.ravel(),
                "duration_s": self.durations_s.ravel(),
                "distance_m": self.distances_m.ravel(),
                "cost": self.costs.ravel(),
            }
        )

    def __repr__(self) -> str:
        m, n = self.shape
        reach = np.isfinite(self.durations_s).mean() if m * n else 1.0
        return (
            f"<geolog.Matrix {m}×{n} ({self.profile_name or self.weight}), "
            f"{reach:.0%} of pairs reachable>"
        )


def _parse_points(points: Any, role: str, errors: str) -> tuple[list, list[str]]:
    """Points as ``(lat, lon)`` (``None`` where malformed, with ``errors="coerce"``)."""
    if isinstance(points, shapely.Point) or (
        isinstance(points, tuple) and len(points) == 2 and np.isscalar(points[0])
    ):
        raise InputError(f"{role}s must be a sequence of points, got one point {points!r}")
    out, why = [], []
    for i, p in enumerate(points):
        try:
            out.append(_parse_point(p, f"{role} {i}"))
            why.append("")
        except InputError as err:
            if errors == "raise":
                raise
            out.append(None)
            why.append(str(err))
    return out, why


def _matrix_side(
    ctx: _Ctx, points: Any, role: str, max_snap_m: float, errors: str
) -> tuple[list, list[_Snap | None], list[str]]:
    """Parse and snap one side of a matrix: points, snaps and per-point reasons."""
    pts, why = _parse_points(points, role, errors)
    if not pts:
        raise InputError(f"matrix needs at least one {role} point")
    names = [f"{role} {i}" for i in range(len(pts))]
    snaps, reasons = _snap(ctx, pts, names, max_snap_m, errors=errors)
    return pts, snaps, [a or b for a, b in zip(why, reasons, strict=True)]


def _points_frame(
    pts: list, snaps: list[_Snap | None], reasons: list[str], applied: Any
) -> pd.DataFrame:
    ids = applied.nodes.index.to_numpy()
    labels = applied.edges.index

    def val(f, default):
        return [default if s is None else f(s) for s in snaps]

    return pd.DataFrame(
        {
            "lat": [np.nan if p is None else p[0] for p in pts],
            "lon": [np.nan if p is None else p[1] for p in pts],
            "snapped_lat": val(lambda s: s.lat, np.nan),
            "snapped_lon": val(lambda s: s.lon, np.nan),
            "snap_distance_m": val(lambda s: s.distance_m, np.nan),
            "edge": val(lambda s: labels[s.rows[0]], -1),
            "node": val(lambda s: int(ids[s.node]) if s.node >= 0 else -1, -1),
            "reason": reasons,
        }
    )


def matrix(
    net: Any,
    sources: Any,
    targets: Any = None,
    *,
    profile: Any = None,
    rules: Any = None,
    weight: str = "cost",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    errors: str = "coerce",
) -> Matrix:
    """Many-to-many travel times and distances (multi-source Dijkstra).

    One :func:`scipy.sparse.csgraph.dijkstra` call from all sources (each a
    virtual source node on its snapped edge, or its node), then lengths and
    times are summed along each shortest-path tree by pointer doubling, all
    vectorised. Entry ``[i, j]`` equals
    ``route(net, sources[i], targets[j], ...)``.

    Parameters
    ----------
    sources
        Sequence of ``(lat, lon)`` or shapely Points (the rows).
    targets
        The columns; ``None`` (default): the sources (a square matrix).
    errors
        ``"coerce"`` (default): a point that is malformed or farther than
        ``max_snap_m`` from every routable road gets ``NaN`` in its row /
        column, and its reason in ``Matrix.problems``; unreachable pairs are
        ``inf``. ``"raise"``: such a point raises ``InputError``.
    Other parameters as in :func:`route`.

    Returns
    -------
    Matrix

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> m = geolog.matrix(net, [(42.5078, 1.5211), (42.5440, 1.5140)], [(42.5345, 1.5807)])
    >>> m.shape
    (2, 1)
    """
    if errors not in ("coerce", "raise"):
        raise InputError(f"errors must be 'coerce' or 'raise', not {errors!r}")
    ctx = _context(net, profile, rules, weight)
    applied, g = ctx.applied, ctx.g
    square = targets is None
    spts, ssn, sre = _matrix_side(ctx, sources, "source", max_snap_m, errors)
    if square:
        tpts, tsn, tre = spts, ssn, sre
    else:
        tpts, tsn, tre = _matrix_side(ctx, targets, "target", max_snap_m, errors)
    cost, dur, dis = _matrix_values(g, ssn, tsn)
    # a snapped point that reaches no target / is reached by no source
    reach = np.isfinite(cost)
    if square:
        np.fill_diagonal(reach, False)
    sok = np.array([s is not None for s in ssn])
    tok = np.array([s is not None for s in tsn])
    for i in np.flatnonzero(sok & ~reach.any(axis=1)):
        if (tok.sum() - (1 if square else 0)) > 0:
            sre[i] = (
                "no route from it to any target (cut off from them under this profile and rules)"
            )
    for j in np.flatnonzero(tok & ~reach.any(axis=0)):  # (tre is sre when square)
        if (sok.sum() - (1 if square else 0)) > 0 and not tre[j]:
            tre[j] = (
                "no route to it from any source (cut off from them under this profile and rules)"
            )
    sfr = _points_frame(spts, ssn, sre, applied)
    tfr = sfr if square else _points_frame(tpts, tsn, tre, applied)
    return Matrix(
        dur,
        dis,
        cost,
        sfr,
        tfr,
        profile_name=_pname(applied, profile),
        rules=rules,
        weight=weight,
    )


def _matrix_values(
    g: RoutingGraph, ssn: list[_Snap | None], tsn: list[_Snap | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost, duration and distance between snapped sources and targets (NaN where unsnapped)."""
    M, N = len(ssn), len(tsn)
    cost = np.full((M, N), np.nan)
    dur = np.full((M, N), np.nan)
    dis = np.full((M, N), np.nan)
    si = [i for i, s in enumerate(ssn) if s is not None]
    tj = [j for j, s in enumerate(tsn) if s is not None]
    if not si or not tj:
        return cost, dur, dis
    n = g.n
    starts = [_starts(g, ssn[i], g.w) for i in si]
    csr = g.with_sources([s[0] for s in starts], [s[1] for s in starts])
    dist, pred = dijkstra(csr, indices=n + np.arange(len(si)), return_predecessors=True)
    L, T = _tree_sums(g, pred, starts)
    c = np.full((len(si), len(tj)), np.inf)
    d = np.full((len(si), len(tj)), np.inf)
    t = np.full((len(si), len(tj)), np.inf)
    for k, j in enumerate(tj):
        tn, tc, tr, tf = _ends(g, tsn[j], g.w)
        for node, extra, r, f in zip(tn, tc, tr, tf, strict=True):
            cand = dist[:, node] + extra
            better = cand < c[:, k]
            c[better, k] = cand[better]
            t[better, k] = T[better, node] + (f * g.time[r] if r >= 0 else 0.0)
            d[better, k] = L[better, node] + (f * g.length[r] if r >= 0 else 0.0)
    # pairs on the same edge: the direct stretch may beat any detour
    for a, i in enumerate(si):
        for k, j in enumerate(tj):
            direct = _direct(ssn[i], tsn[j], g.w)
            if direct is not None and direct[0] <= c[a, k]:
                cc, r, fa, fb = direct
                c[a, k] = cc
                t[a, k] = (fb - fa) * g.time[r]
                d[a, k] = (fb - fa) * g.length[r]
    cost[np.ix_(si, tj)] = c
    dur[np.ix_(si, tj)] = t
    dis[np.ix_(si, tj)] = d
    return cost, dur, dis


def _tree_sums(
    g: RoutingGraph, pred: np.ndarray, starts: list[tuple[np.ndarray, ...]], *, chunk: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Length and time from each source to every node along its shortest-path tree.

    Each node's value is the value of the edge from its predecessor, found in
    the per-node in-edge table; then pointer doubling sums the values up the
    tree in ``log2(depth)`` vectorised gathers. Done in chunks of sources so
    the working set stays in cache. ``starts`` are the sources' entry terms
    (:func:`_starts`).
    """
    m, N = pred.shape
    n = g.n
    deg, src, entry = g.incoming()
    ent_val = g.length[g.entry_row] + 1j * np.nan_to_num(g.time[g.entry_row], nan=0.0)
    W = N + 1
    out = np.zeros((m, N), dtype=complex)
    for c0 in range(0, m, chunk):
        pc = pred[c0 : c0 + chunk]
        mc = len(pc)
        vals = np.zeros((mc, W), dtype=complex)
        sub = pc[:, :n]
        for d in range(src.shape[1]):
            cols = np.flatnonzero(deg > d)
            hit = sub[:, cols] == src[cols, d]
            r, c = np.nonzero(hit)
            vals[r, cols[c]] = ent_val[entry[cols[c], d]]
        # edges out of the virtual sources: the rest of the snapped edge (the
        # cheaper start row when both directions lead to the same node); a
        # point at a node enters the graph there at no cost
        for i in range(mc):
            sn, sc, sr, sf = starts[c0 + i]
            for k in np.argsort(-sc):  # cheapest written last
                r, f, v = int(sr[k]), float(sf[k]), int(sn[k])
                if pc[i, v] == n + c0 + i:
                    vals[i, v] = (
                        (1.0 - f) * (g.length[r] + 1j * np.nan_to_num(g.time[r])) if r >= 0 else 0
                    )
        P = np.where(pc >= 0, pc, N).astype(np.int64)
        fp = (np.arange(mc, dtype=np.int64)[:, None] * W + np.c_[P, np.full(mc, N)]).ravel()
        flat = vals.ravel()
        while True:
            nxt = fp[fp]
            if np.array_equal(nxt, fp):
                break
            flat += flat[fp]
            fp = nxt
        out[c0 : c0 + mc] = flat.reshape(mc, W)[:, :N]
    timev = out.imag if not np.isnan(g.time).any() else np.full(out.shape, np.nan)
    return out.real, timev
