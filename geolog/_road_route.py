"""Road routes: between snapped points and between nodes, no off-road dispatch.

:func:`geolog.route` (after parsing its points) and :func:`geolog.route_nodes`
are these. The hybrid road / cross-country router (:mod:`geolog._offroad_hybrid`)
calls them directly, so ``routing.route(offroad=True)`` can hand over to it
without an import cycle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._route import Route
from ._route_search import _no_route_message, _solve
from ._route_snap import _context, _pname, _Snap, _snap_all
from .errors import NoRouteError


def road_route(
    net: Any,
    pts: list[tuple[float, float]],
    names: list[str],
    profile: Any,
    rules: Any,
    weight: str,
    max_snap_m: float,
) -> Route:
    """The least-``weight`` road route through parsed ``(lat, lon)`` points, in order.

    ``names`` say which point is which in error messages (``"origin"``,
    ``"via point 1"`` …); each point is snapped within ``max_snap_m`` metres.
    """
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

    The node-to-node form of :func:`route` (turn restrictions and turn costs
    hold); without them equal to networkx's ``shortest_path`` on
    ``applied.to_networkx()`` with the same weight.
    """
    ctx = _context(net, profile, rules, weight)
    applied, g = ctx.applied, ctx.g
    pos = applied.node_positions([source, target])
    none = np.empty(0, dtype=np.int64)
    snaps = [
        _Snap(
            (g.node_lat[q], g.node_lon[q]),
            g.node_lat[q],
            g.node_lon[q],
            0.0,
            none,
            np.empty(0),
            int(q),
        )
        for q in pos
    ]
    leg = _solve(g, snaps[0], snaps[1])
    if leg is None:
        raise NoRouteError(
            f"no path from node {source} to node {target} for profile "
            f"{_pname(applied, profile)!r}"
            + (" under the given rules; see geolog.explain(rules, net)" if rules else "")
        )
    return Route(
        applied, g, [leg], snaps, profile_name=_pname(applied, profile), rules=rules, weight=weight
    )
