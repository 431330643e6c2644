"""Hybrid road + off-road routes and off-road / combined isochrones.

The road side is one Dijkstra over the applied network's CSR graph of travel
times (edges the profile or rules forbid left out), with a virtual source
and sink tied to every road node inside the search window by the off-road
time fields (:mod:`geolog._offroad_search`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from . import _offroad_graph as cg
from ._offroad_route import HybridRoute
from ._offroad_search import (
    DEFAULT_MAX_SNAP_M,
    _blocked,
    _dem_of,
    _margin,
    _passable,
    _path,
    _points,
    _surface,
    _Window,
    window,
)
from ._offroad_surface import DEFAULT_NEIGHBOURS
from .errors import InputError, NoRouteError


def _road(net: Any, profile: Any, rules: Any) -> tuple[Any, sp.csr_array]:
    """The applied network and its CSR of travel times (forbidden edges left out)."""
    from .rules import apply

    applied = apply(net, profile, rules)
    e = applied.edges
    cost = e["cost"].to_numpy(float)
    w = np.where(np.isfinite(cost), e["travel_time_s"].to_numpy(float), np.inf)
    return applied, applied.csr(w)


def _node_cells(win: _Window, applied: Any) -> tuple[np.ndarray, np.ndarray]:
    """Road node positions inside the window and their window-flat cells."""
    nodes = applied.nodes
    x, y = win.surf.to_grid(nodes["x"].to_numpy(float), nodes["y"].to_numpy(float))
    rc = np.column_stack(win.surf.rc_of(x, y))
    flat = win.flat(rc)
    pos = np.flatnonzero(flat >= 0)
    return pos, flat[pos]


def _augmented(
    csr: sp.csr_array, pos: np.ndarray, head: np.ndarray, tail: np.ndarray
) -> sp.csr_array:
    """Road graph plus a source (``n``) linked to nodes ``pos`` after ``head`` seconds and a
    sink (``n + 1``) reached from them after ``tail`` seconds (1 µs added to keep zeros)."""
    n = csr.shape[0]
    ok_h, ok_t = np.isfinite(head), np.isfinite(tail)
    r = np.r_[np.full(ok_h.sum(), n), pos[ok_t]]
    c = np.r_[pos[ok_h], np.full(ok_t.sum(), n + 1)]
    w = np.r_[head[ok_h], tail[ok_t]] + 1e-6
    links = sp.csr_array((w, (r, c)), shape=(n + 2, n + 2))
    big = sp.block_diag([csr, sp.csr_array((2, 2))], format="csr")
    return (big + links).tocsr()


def hybrid_route(
    net: Any,
    dem: Any,
    origin: Any,
    destination: Any,
    *,
    router: tuple[Callable, Callable],
    profile: Any = "foot",
    rules: Any = None,
    landcover: Any = "osm",
    barriers: Any = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    margin_m: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> HybridRoute:
    """:func:`geolog.hybrid_route` with the road router ``(route, route_nodes)`` passed in
    (routing calls this module, so it cannot import routing)."""
    surf = _hybrid_surface(net, dem, profile, landcover, barriers, neighbours)
    pts = _points(origin, destination)
    road_route = _road_candidate(router[0], net, pts, profile, rules)
    ends = [(s.lat, s.lon) for s in road_route.snapped.itertuples()] if road_route else []
    rc = surf.cells(pts + ends, ["origin", "destination", *["snapped point"] * len(ends)])
    win = window(surf, rc, _margin(surf, rc[:2], margin_m))
    flat = win.flat(rc)
    a = _passable(win, int(flat[0]), "origin", pts[0], max_snap_m)
    b = _passable(win, int(flat[1]), "destination", pts[1], max_snap_m)
    fwd, pf = dijkstra(win.graph, indices=a, return_predecessors=True)
    bwd, pb = dijkstra(win.graph.T.tocsr(), indices=b, return_predecessors=True)
    cands: list[tuple[float, Any]] = [(fwd[b], None)]
    if road_route is not None:
        sa, sb = (_passable(win, int(f), "snapped point", pts[0], max_snap_m) for f in flat[2:])
        cands.append((fwd[sa] + road_route.duration_s + bwd[sb], ("route", road_route, sa, sb)))
    applied, csr = _road(net, profile, rules)
    pos, cells = _node_cells(win, applied)
    if len(pos):
        aug = _augmented(csr, pos, fwd[cells], bwd[cells])
        n = csr.shape[0]
        d, pr = dijkstra(aug, indices=n, return_predecessors=True)
        if np.isfinite(d[n + 1]):
            chain = _path(pr, n, n + 1)
            cands.append((d[n + 1] - 2e-6, ("nodes", applied, chain[1], chain[-2])))
    best, how = min(cands, key=lambda c: c[0])
    if not np.isfinite(best):
        raise NoRouteError(_blocked(surf, pts) + "; no road joins them either")
    roads = (router[1], net, profile, rules)
    parts = _parts(win, how, a, b, fwd, pf, bwd, pb, cells, pos, roads)
    r = HybridRoute(
        parts,
        origin=pts[0],
        destination=pts[1],
        profile_name=surf.profile.name,
        neighbours=surf.neighbours,
    )
    r._surface = surf
    return r


def _hybrid_surface(net, dem, profile, landcover, barriers, neighbours):
    from ._basemap import osm_source

    if landcover == "osm":
        landcover = osm_source(net)
    return _surface(_dem_of(net, dem), profile, neighbours, landcover=landcover, barriers=barriers)


def _road_candidate(route: Callable, net: Any, pts: list, profile: Any, rules: Any) -> Any:
    """The road route by travel time, or None when the points are off the roads or cut off."""
    try:
        return route(net, pts[0], pts[1], profile=profile, rules=rules, weight="travel_time_s")
    except (InputError, NoRouteError):
        return None


def _parts(win, how, a, b, fwd, pf, bwd, pb, cells, pos, roads) -> list:
    """The route's parts for the winning candidate; ``roads`` = (route_nodes, net, profile, rules)."""
    route_nodes, net, profile, rules = roads
    if how is None:
        path = _path(pf, a, b)
        return [("offroad", win.leg(path, fwd[path]))]
    if how[0] == "route":
        _, road, sa, sb = how
    else:
        _, applied, na, nb = how
        ids = applied.nodes.index.to_numpy()
        sa, sb = int(cells[pos == na][0]), int(cells[pos == nb][0])
        road = None if na == nb else route_nodes(
            net, int(ids[na]), int(ids[nb]), profile=profile, rules=rules, weight="travel_time_s"
        )  # fmt: skip
    p1 = _path(pf, a, sa)
    p2 = _path(pb, b, sb)[::-1]  # predecessors toward the destination, reversed
    out = [("offroad", win.leg(p1, fwd[p1]))]
    if road is not None:
        out.append(("road", road))
    out.append(("offroad", win.leg(p2, bwd[p2[0]] - bwd[p2])))
    return out


def offroad_isochrones(
    dem: Any,
    origin: Any,
    times_s: Any,
    *,
    profile: Any = "foot",
    net: Any = None,
    rules: Any = None,
    landcover: Any = None,
    barriers: Any = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
):
    """Areas reachable from a point within time budgets, across country (and by road).

    Off-road alone, one Dijkstra over the cell graph from the origin's cell,
    cut at the largest budget. With ``net``, combined: the road network is
    entered at every node after the off-road time to it, one road Dijkstra
    gives each node's arrival time, and a second off-road search spreads from
    all nodes at once with those head starts; a cell's time is the smaller of
    the two. The window is the origin plus the farthest the fastest mode could
    go in the largest budget.

    Parameters
    ----------
    dem
        A :class:`geolog.DEM` or an OffroadSurface (``None`` with ``net``:
        the DEM ``net.with_terrain`` recorded).
    times_s
        One budget or a list of budgets in seconds.
    net, rules
        A Network (and rules) for combined road + off-road reachability.
    Other parameters as in :func:`geolog.offroad_route`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per budget, ascending: ``time_s``, ``area_km2`` (cells
        reached), ``geometry`` (Polygon/MultiPolygon of the reached cells,
        EPSG:4326); ``attrs["origin"]`` is the origin ``(lat, lon)``.
    """
    times = np.atleast_1d(np.asarray(times_s, dtype=float))
    if times.size == 0 or not np.all(np.isfinite(times)) or (times <= 0).any():
        raise InputError(f"times_s must be positive numbers of seconds, got {times_s!r}")
    times = np.sort(times)
    if dem is None and net is not None:
        dem = _dem_of(net, None)
    surf = _surface(dem, profile, neighbours, landcover=landcover, barriers=barriers)
    from ._geometry import parse_point

    pt = parse_point(origin, "origin")
    rc = surf.cells([pt], ["origin"])
    fastest = float(surf.speed_kph(np.array([-0.05])).max())
    applied = csr = None
    if net is not None:
        applied, csr = _road(net, profile, rules)
        fastest = max(fastest, float(np.nanmax(applied.edges["speed_kph"].to_numpy(float))))
    win = window(surf, rc, fastest / 3.6 * times[-1])
    a = _passable(win, int(win.flat(rc)[0]), "origin", pt, max_snap_m)
    field = dijkstra(win.graph, indices=a, limit=times[-1])
    if applied is not None:
        pos, cells = _node_cells(win, applied)
        n = csr.shape[0]
        road = dijkstra(_augmented(csr, pos, field[cells], np.full(len(pos), np.inf)),
                        indices=n, limit=times[-1] + 1e-6)[:n] - 1e-6  # fmt: skip
        hot = np.isfinite(road[pos])
        spread = cg.with_sources(win.graph, cells[hot], road[pos][hot])
        field = np.minimum(field, dijkstra(spread, indices=spread.shape[0] - 1,
                                           limit=times[-1] + 1e-6)[:-1] - 1e-6)  # fmt: skip
    return _polygons(win, field.reshape(win.rows, win.cols), times, pt)


def _polygons(win: _Window, field: np.ndarray, times: np.ndarray, origin: tuple):
    """One (multi)polygon of the cells reached within each budget, in EPSG:4326."""
    import geopandas as gpd
    import shapely
    from affine import Affine
    from rasterio.features import shapes

    t = win.surf.transform @ Affine.translation(win.c0, win.r0)
    cell_km2 = win.surf.dem.res[0] * win.surf.dem.res[1] / 1e6
    geoms, areas = [], []
    for tt in times:
        m = field <= tt
        polys = [shapely.geometry.shape(g) for g, _ in shapes(m.astype(np.uint8), m, transform=t)]
        geoms.append(shapely.union_all(polys) if polys else shapely.Polygon())
        areas.append(float(m.sum() * cell_km2))
    out = gpd.GeoDataFrame(
        {"time_s": times, "area_km2": areas}, geometry=geoms, crs=win.surf.crs
    ).to_crs(4326)
    out.attrs["origin"] = origin
    return out
