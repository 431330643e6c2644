"""Isochrones: areas reachable from a point within travel-time budgets.

One search gives the time each edge can be entered (:func:`_edge_entry_times`,
the one place that knows how the network is searched); every budget is cut
from it. ``kind="area"`` outlines the reachable area on a grid
(:mod:`geolog._iso_area`); ``kind="band"`` unions buffers of the reached road
stretches.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import shapely

from ._geometry import parse_point
from ._route_snap import DEFAULT_MAX_SNAP_M, _context, _Ctx, _index, _Snap, _snap_all
from ._snap import cut_lines
from ._turn_search import reach
from ._turns import turn_graph
from .errors import InputError

KINDS = ("area", "band")


def _edge_entry_times(ctx: _Ctx, snap: _Snap, limit_s: float) -> np.ndarray:
    """Per edge row (positional), the earliest time (s) a traveller from ``snap`` starts along it.

    One compiled Dijkstra on the turn graph by ``travel_time_s`` (turn
    restrictions and turn seconds hold), stopped at ``limit_s``; ``inf``
    where a row is not entered within ``limit_s``. The origin's own snapped
    edge is the caller's (it is entered here only by coming back to it).
    """
    return reach(ctx.g, turn_graph(ctx.g), snap, limit_s)


def _origin_edges(a: _Snap) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, fracs)``: the edges the origin starts part-way along (none at a node).

    At a node every edge out of it is entered at time 0 by the search itself.
    """
    if a.node >= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    return a.rows, a.fracs


def _pieces(
    g: Any, entry_s: np.ndarray, a: _Snap, T: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, f0, f1)``: the edge stretches reached within ``T`` seconds, as fractions."""
    w = g.w
    o_rows, o_fracs = _origin_edges(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(w > 0, (T - entry_s) / w, np.where(entry_s <= T, 1.0, 0.0))
        o_end = np.where(w[o_rows] > 0, o_fracs + T / w[o_rows], 1.0)
    reach = np.clip(np.nan_to_num(reach, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    rows = np.flatnonzero((entry_s <= T) & (reach > 0))
    return (
        np.concatenate([rows, o_rows]),  # the origin's own edge(s), from the snap onwards
        np.concatenate([np.zeros(len(rows)), o_fracs]),
        np.concatenate([reach[rows], np.minimum(1.0, o_end)]),
    )


def _band(geoms_m: np.ndarray, origin_m: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """Union of the road stretches ``geoms_m`` and the origin, buffered by ``buffer_m``."""
    bands = shapely.buffer(shapely.simplify(geoms_m, buffer_m / 5), buffer_m, quad_segs=3)
    return shapely.union_all(
        np.concatenate([bands, shapely.buffer(shapely.points(origin_m), buffer_m)])
    )


def _real(x: Any) -> bool:
    """A real number (numpy's too), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def _check(times_s: Any, kind: Any, buffer_m: Any, fill_m: Any) -> np.ndarray:
    """The budgets, ascending; raise :class:`InputError` on a bad argument."""
    times = np.atleast_1d(np.asarray(times_s, dtype=float))
    if times.size == 0 or not np.all(np.isfinite(times)) or (times <= 0).any():
        raise InputError(f"times_s must be positive numbers of seconds, got {times_s!r}")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(map(repr, KINDS))}, not {kind!r}")
    if not (_real(buffer_m) and 0 < buffer_m < float("inf")):
        raise InputError(
            f"buffer_m must be a positive number of metres (e.g. 50), not {buffer_m!r}"
        )
    if not (_real(fill_m) and 0 <= fill_m < float("inf")):
        raise InputError(
            f"fill_m must be a number of metres >= 0 (e.g. 200; 0 fills nothing), not {fill_m!r}"
        )
    return np.sort(times)


def isochrones(
    net: Any,
    origin: Any,
    times_s: Any,
    *,
    profile: Any = None,
    rules: Any = None,
    kind: str = "area",
    buffer_m: float = 50.0,
    fill_m: float = 200.0,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
):
    """Areas reachable from a point within travel-time budgets.

    One search by ``travel_time_s`` from the snapped origin over the edges
    the profile and rules allow (``cost`` finite), on the turn graph (turn
    restrictions and turn seconds hold: :func:`_edge_entry_times`), gives the
    time every edge can be entered; each budget keeps every reached edge up to
    the fraction the remaining time covers (partial edges at the frontier).
    Larger budgets give polygons containing the smaller ones.

    Parameters
    ----------
    times_s
        One budget or a list of budgets in seconds (e.g. ``[600, 1800]``).
    kind
        ``"area"`` (default): the reachable area. The reached roads, with a
        margin of ``buffer_m`` (up to twice that), on a grid of ``buffer_m``
        cells (at least 20 m; coarser beyond 4 million cells), closed with
        radius ``fill_m``: land between reached roads is filled (blocks,
        fields, a valley floor) unless a disk of radius ``fill_m`` fits into
        it unreached — larger unreached areas (a mountain side, a lake) stay
        outside, or are holes.
        ``"band"``: the union of the reached road stretches buffered by
        ``buffer_m`` (a corridor along the roads).
    buffer_m
        Margin around the reached roads, metres.
    fill_m
        Radius of the closing for ``kind="area"``, metres (0: no filling).
    Other parameters as in :func:`route`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per budget, ascending: ``time_s``, ``reached_km`` (km of
        road reached, each direction of travel counted), ``area_km2`` (of the
        polygon) and ``geometry`` (Polygon or MultiPolygon, EPSG:4326).
        ``attrs["origin"]`` is the snapped origin ``(lat, lon)``,
        ``attrs["kind"]`` the kind.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> iso = geolog.isochrones(net, (42.5078, 1.5211), [300, 600], profile="car")
    >>> bool(iso.geometry.iloc[1].contains(iso.geometry.iloc[0]))
    True
    """
    import geopandas as gpd

    times = _check(times_s, kind, buffer_m, fill_m)
    ctx = _context(net, profile, rules, "travel_time_s")
    if "travel_time_s" not in ctx.applied.edges.columns:
        raise InputError("isochrones need travel times: give a profile (e.g. profile='car')")
    g = ctx.g
    (a,) = _snap_all(ctx, [parse_point(origin, "origin")], ["origin"], max_snap_m)
    entry = _edge_entry_times(ctx, a, float(times[-1]))
    idx = _index(ctx.applied, g)
    origin_m = idx.frame.fwd(np.array([[a.lon, a.lat]]))
    pieces = [_pieces(g, entry, a, T) for T in times]
    reached = [float(np.sum((f1 - f0) * g.length[r])) / 1000 for r, f0, f1 in pieces]
    if kind == "area":
        from ._iso_area import areas, sample_times

        xy, t = sample_times(g, idx.geoms_m, entry, *_origin_edges(a), origin_m, times[-1])
        polys = areas(xy, t, times, buffer_m=buffer_m, fill_m=fill_m)
    else:
        polys, prev = [], None
        for r, f0, f1 in pieces:
            geom = _band(cut_lines(idx.geoms_m[r], f0, f1), origin_m, buffer_m)
            prev = geom if prev is None else shapely.union(geom, prev)
            polys.append(prev)
    geoms = idx.frame.to_lonlat(np.array(polys, dtype=object))
    out = gpd.GeoDataFrame(
        {"time_s": times, "reached_km": reached, "area_km2": shapely.area(polys) / 1e6},
        geometry=list(geoms),
        crs="EPSG:4326",
    )
    out.attrs["origin"] = (float(a.lat), float(a.lon))  # the snapped origin, for maps
    out.attrs["kind"] = kind
    return out
