"""Snapping under a profile and rules: routable rows, snapped points, why a road is refused.

The routing context (:class:`_Ctx`: the applied network and its graph), the
strongly connected core a point may snap to, and the notes naming a nearer
road that is not routable. The geometry itself is :mod:`geolog._snap`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import rules as _rules
from ._format import road_names, tag_text
from ._graph import RoutingGraph, graph_for
from ._snap import EdgeIndex, edge_index
from .errors import InputError

logger = logging.getLogger("geolog.routing")

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
    return _rules.apply(net, profile, rules)


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


def _road_label(edges: pd.DataFrame, row: int) -> str:
    """``'Landstrasse' (primary, way 239794985)`` for an edge row."""
    r = np.array([int(row)])
    name = road_names(edges, r, between=" / ", after="", unnamed=None)[0]
    hw = tag_text(edges, "highway", r)[0] or "road"
    way = f", way {edges['osmid'].iat[r[0]]}" if "osmid" in edges.columns else ""
    title = repr(name) if name else "an unnamed road"
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
    notes = np.array([""] * len(lon), dtype=object)
    if all(d <= 0.5 for d in dist.tolist()) or len(_core(ctx.g)[2]) == len(ctx.g.usable):
        return notes  # every point on its road (nothing is nearer), or every road routable
    reach = np.where(np.isfinite(dist), dist - 0.5, 1e12)
    ask = np.flatnonzero(reach > 0)
    everything = _index_all(ctx.applied, ctx.g)
    pts = everything.frame.points(lon[ask], lat[ask])
    hit = everything.tree.query(pts, predicate="dwithin", distance=reach[ask])
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
    latlon = np.array([points[i] for i in ok_pts], dtype=float).reshape(-1, 2)
    lat, lon = latlon[:, 0], latlon[:, 1]
    s = _index(applied, g).snap(lon, lat)
    notes = _skipped_roads(ctx, lon, lat, s["distance_m"])
    out: list[_Snap | None] = [None] * len(points)
    reasons = ["" if p is not None else "not a (lat, lon) point" for p in points]
    # per point as Python numbers: a route has two or three points
    dist, row, frac, end, slat, slon = (
        s[c].tolist() for c in ("distance_m", "row", "fraction", "end", "lat", "lon")
    )
    for k, i in enumerate(ok_pts):
        d, r = dist[k], row[k]
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
        f = frac[k]
        rows, fracs = [r], [f]
        t = int(g.twin[r])
        if t >= 0 and g.usable[t]:
            rows.append(t)
            fracs.append(1.0 - f)
        node = int(g.upos[r]) if end[k] == 1 else int(g.vpos[r]) if end[k] == 2 else -1
        if notes[k]:
            logger.info("%s %s: %s", names[i], points[i], notes[k])
        out[i] = _Snap(
            points[i],
            slat[k],
            slon[k],
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
