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

Shortest paths run on the turn graph (:mod:`geolog._turns`: one state per
directed edge, one arc per allowed turn), so OSM turn restrictions and the
profile's turn costs hold: A* with a straight-line and landmark potential in
compiled code for a route, one Dijkstra per source for a matrix
(:mod:`geolog._turn_kernels`). A route starts part-way along its first edge
and ends part-way along its last, so partial edges are exact.

The work is split by concern: the road routes behind :func:`route` and
:func:`route_nodes` in :mod:`geolog._road_route`, snapping under a profile and rules in
:mod:`geolog._route_snap`, shortest paths in :mod:`geolog._route_search`,
the :class:`Route` result in :mod:`geolog._route` (directions in
:mod:`geolog._directions`, displays in :mod:`geolog._route_display`),
:func:`isochrones` in :mod:`geolog._isochrones` and :func:`matrix` in
:mod:`geolog._matrix`. Every name stays importable from here.

Examples
--------
>>> import geolog
>>> net = geolog.read_osm(geolog.data.path("andorra"))
>>> r = geolog.route(net, (42.5078, 1.5211), (42.5440, 1.5140), profile="car")
>>> r.length_m > 0
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._geometry import parse_point
from ._graph import RoutingGraph
from ._isochrones import isochrones
from ._matrix import Matrix, matrix
from ._road_route import road_route, route_nodes
from ._route import Route
from ._route_display import _fmt, _fmt_duration, _fmt_pct  # noqa: F401  (used by the CLI)
from ._route_search import _Leg, _no_route_message, _solve
from ._route_snap import (  # noqa: F401  (_nearest: Network.nearest_edges)
    DEFAULT_MAX_SNAP_M,
    MIN_COMPONENT_NODES,
    _context,
    _nearest,
    _pname,
    _Snap,
    _snap_all,
)
from ._turns import WEIGHTS_WITH_TURN_TIME, turn_graph
from .errors import InputError, NoRouteError

__all__ = [
    "Route",
    "Matrix",
    "route",
    "route_nodes",
    "alternatives",
    "isochrones",
    "matrix",
    "prepare",
    "DEFAULT_MAX_SNAP_M",
    "MIN_COMPONENT_NODES",
]


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
    offroad: bool = False,
    dem: Any = None,
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
    offroad
        Allow cross-country legs: the fastest mix of roads and open terrain
        (:func:`geolog.hybrid_route`, by travel time; ``via`` and ``weight``
        do not apply; the profile defaults to ``"foot"``). Needs a DEM:
        ``dem``, else the one ``net.with_terrain`` recorded.
    dem
        The :class:`geolog.DEM` (or an OffroadSurface) for ``offroad=True``.

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
    if offroad:
        return _offroad(net, origin, destination, via, profile, rules, dem)
    pts = [parse_point(origin, "origin")]
    names = ["origin"]
    for i, p in enumerate(via or []):
        pts.append(parse_point(p, f"via point {i + 1}"))
        names.append(f"via point {i + 1}")
    pts.append(parse_point(destination, "destination"))
    names.append("destination")
    return road_route(net, pts, names, profile, rules, weight, max_snap_m)


def _offroad(net, origin, destination, via, profile, rules, dem) -> Route:
    """``route(..., offroad=True)``: the hybrid road / cross-country route."""
    from ._offroad_hybrid import hybrid_route

    if via:
        raise InputError(
            "offroad=True routes from origin to destination; via points are not supported"
        )
    return hybrid_route(
        net,
        dem,
        origin,
        destination,
        profile=profile or "foot",
        rules=rules,
    )


def prepare(
    net: Any, *, profile: Any = None, rules: Any = None, weight: str = "cost"
) -> dict[str, float]:
    """Build the routing structures for a profile and rules now, not at the first query.

    The turn graph (:mod:`geolog._turns`) and its contraction hierarchy
    (:mod:`geolog._turn_ch`): with it a route query is two small upward
    searches and a matrix one bucket scan per source. Without this call the
    hierarchy is built when it pays for itself: at the first route or matrix on a
    network of up to :data:`geolog._turn_search.EAGER_STATES` turn states
    (Liechtenstein: 10 k, 0.4 s), once A* queries on a larger network have
    done about as much work as the build, or for a matrix of 200 sources or
    more. Until then routes run A* with landmarks and matrices one Dijkstra
    per source; the answers are the same.

    Parameters
    ----------
    net, profile, rules, weight
        As in :func:`route`; the structures are cached with the applied
        network, so every later query under the same profile and rules uses
        them.

    Returns
    -------
    dict
        ``states`` and ``turns`` of the turn graph, ``shortcuts`` the
        hierarchy added, ``seconds`` spent building (0 when already built).

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> info = geolog.prepare(net, profile="car")
    >>> info["states"] > 0
    True
    """
    import time

    from ._turn_search import hierarchy

    t = time.perf_counter()
    ctx = _context(net, profile, rules, weight)
    tg = turn_graph(ctx.g)
    h = hierarchy(tg, build_now=True)
    return {
        "states": tg.n,
        "turns": len(tg.indices),
        "shortcuts": h.shortcuts,
        "seconds": time.perf_counter() - t,
    }


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
    pts = [parse_point(origin, "origin"), parse_point(destination, "destination")]
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
        turns = cand.turn_s if g.weight in WEIGHTS_WITH_TURN_TIME else 0.0
        cost = float(np.sum((cand.f1 - cand.f0) * g.w[cand.rows])) + turns
        if cost > max_stretch * best.cost:
            continue
        cand = _Leg(cand.rows, cand.f0, cand.f1, cost, cand.turn_after_s)
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
