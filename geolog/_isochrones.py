"""Isochrones: areas reachable from a point within travel-time budgets."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ._geometry import parse_point
from ._route_snap import DEFAULT_MAX_SNAP_M, _applied, _context, _Ctx, _index, _Snap, _snap_all
from ._snap import cut_lines
from ._turn_search import reach
from ._turns import turn_graph
from .errors import InputError


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

    One search by ``travel_time_s`` from the snapped origin over the edges
    the profile and rules allow (``cost`` finite), on the turn graph: turn
    restrictions and turn seconds hold (:func:`_edge_entry_times`). Every edge whose
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
    (a,) = _snap_all(ctx, [parse_point(origin, "origin")], ["origin"], max_snap_m)
    du = _edge_entry_times(ctx, a, float(times[-1]))
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
    out = gpd.GeoDataFrame(
        {"time_s": times, "reached_km": reached}, geometry=list(geoms), crs="EPSG:4326"
    )
    out.attrs["origin"] = (float(a.lat), float(a.lon))  # the snapped origin, for maps
    return out


def _edge_entry_times(ctx: _Ctx, snap: _Snap, limit_s: float) -> np.ndarray:
    """Per edge row (positional), the earliest time (s) a traveller from ``snap`` starts along it.

    One compiled Dijkstra on the turn graph by ``travel_time_s`` (turn
    restrictions and turn seconds hold), stopped at ``limit_s``; ``inf``
    where a row is not entered within ``limit_s``. The origin's own snapped
    edge is the caller's (it is entered here only by coming back to it).
    """
    return reach(ctx.g, turn_graph(ctx.g), snap, limit_s)
