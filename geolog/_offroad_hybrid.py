"""Hybrid road + off-road routes and off-road / combined isochrones.

The road side is one Dijkstra over the applied network's CSR graph of travel
times (edges the profile or rules forbid left out), with a virtual source
and sink tied to every road node inside the search window by the off-road
time fields (:mod:`geolog._offroad_search`).
"""

from __future__ import annotations

from dataclasses import dataclass
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
    _endpoint,
    _margin,
    _path,
    _points,
    _surface,
    _Window,
    window,
)
from ._offroad_surface import DEFAULT_NEIGHBOURS
from ._road_route import road_route, route_nodes
from ._route_snap import DEFAULT_MAX_SNAP_M as ROAD_MAX_SNAP_M
from .errors import InputError, NoRouteError

#: A road point joins the nearest passable cell within this many cells (road cuts, bridges).
ROAD_ACCESS_CELLS = 1.5


def _road(net: Any, profile: Any, rules: Any) -> tuple[Any, sp.csr_array]:
    """The applied network and its CSR of travel times (forbidden edges left out)."""
    from .rules import apply

    applied = apply(net, profile, rules)
    e = applied.edges
    cost = e["cost"].to_numpy(float)
    w = np.where(np.isfinite(cost), e["travel_time_s"].to_numpy(float), np.inf)
    return applied, applied.csr(w)


def _node_cells(win: _Window, applied: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Road nodes inside the window that reach the cell graph: positions, cells, seconds.

    A node on a cell without moves (a road cut into a slope steeper than the
    profile's limit, a bridge over water) joins the nearest passable cell
    within one and a half cells.
    """
    nodes = applied.nodes
    x, y = win.surf.to_grid(nodes["x"].to_numpy(float), nodes["y"].to_numpy(float))
    cells, secs = win.access(x, y, ROAD_ACCESS_CELLS * min(win.surf.dem.res))
    pos = np.flatnonzero(cells >= 0)
    return pos, cells[pos], secs[pos]


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
    profile: Any = "foot",
    rules: Any = None,
    landcover: Any = "osm",
    barriers: Any = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    margin_m: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> HybridRoute:
    """Fastest trip mixing roads and cross-country movement.

    Three candidates are compared and the fastest returned: all off-road;
    off-road to the best road node, by road, off-road from the best road node
    (one search over every node in the window); and the plain road route
    (:func:`geolog.route` by travel time) with off-road legs to and from its
    snapped ends. The result is never slower than either the pure off-road
    route or the road route with its walk to and from the road.

    Parameters
    ----------
    net
        A :class:`geolog.Network`.
    dem
        A :class:`geolog.DEM` or an :class:`~geolog.offroad.OffroadSurface`;
        ``None`` takes the DEM ``net.with_terrain`` recorded.
    origin, destination
        ``(lat, lon)`` in degrees or shapely Points.
    profile, rules
        Travel profile (on and off the road) and route rules for the road part.
    landcover
        ``"osm"`` (default): read from the network's OSM file when it is
        found, else open ground; otherwise as in :func:`geolog.offroad_surface`.
    barriers, neighbours, margin_m, max_snap_m
        As in :func:`geolog.offroad_route`.

    Returns
    -------
    geolog.Route
        A :class:`~geolog.offroad.HybridRoute`: ``parts``,
        ``segments`` and ``edges`` with ``kind`` ``road`` / ``offroad``.

    Raises
    ------
    InputError, DEMError
        No DEM, points off it or with no passable cell near them.
    NoRouteError
        Neither by road nor across country.
    """
    surf = _hybrid_surface(net, dem, profile, landcover, barriers, neighbours)
    pts = _points(origin, destination)
    by_road = _road_candidate(net, pts, profile, rules)
    ends = [(s.lat, s.lon) for s in by_road.snapped.itertuples()] if by_road else []
    rc = surf.cells(pts + ends, ["origin", "destination", *["snapped point"] * len(ends)])
    win = window(surf, rc, _margin(surf, rc[:2], margin_m))
    x, y = surf.to_grid([p[1] for p in pts + ends], [p[0] for p in pts + ends])
    ends_ok = [_try_endpoint(win, (x[i], y[i]), n, pts[i], max_snap_m) for i, n in
               enumerate(("origin", "destination"))]  # fmt: skip
    (a, ca, err_a), (b, cb, err_b) = ends_ok
    fwd, pf = _field(win.graph, a)
    bwd, pb = _field(win.graph.T.tocsr(), b)
    ctx = _Hybrid(win, x, y, a, b, ca, cb, fwd, pf, bwd, pb)
    cands: list[tuple[float, Any]] = [(fwd[b] + ca + cb if a >= 0 and b >= 0 else np.inf, None)]
    if by_road is not None:
        cands.append(ctx.via_snaps(by_road))
    applied, csr = _road(net, profile, rules)
    pos, cells, secs = _node_cells(win, applied)
    if len(pos):
        aug = _augmented(csr, pos, fwd[cells] + ca + secs, bwd[cells] + cb + secs)
        n = csr.shape[0]
        d, pr = dijkstra(aug, indices=n, return_predecessors=True)
        if np.isfinite(d[n + 1]):
            chain = _path(pr, n, n + 1)
            cands.append((d[n + 1] - 2e-6, ("nodes", applied, chain[1], chain[-2])))
    best, how = min(cands, key=lambda c: c[0])
    if not np.isfinite(best):
        if err_a or err_b:
            raise err_a or err_b
        raise NoRouteError(_blocked(surf, pts) + "; no road joins them either")
    roads = (net, profile, rules)
    r = HybridRoute(
        ctx.parts(how, (pos, cells, secs), roads),
        origin=pts[0],
        destination=pts[1],
        profile_name=surf.profile.name,
        neighbours=surf.neighbours,
    )
    r._surface = surf
    return r


def _try_endpoint(win: _Window, xy: tuple, name: str, point: tuple, max_snap_m: float):
    """``(cell, seconds, None)``, or ``(-1, inf, error)`` when the point cannot enter the graph."""
    try:
        return (*_endpoint(win, xy, name, point, max_snap_m), None)
    except InputError as err:
        return -1, np.inf, err


def _field(graph: sp.csr_array, source: int) -> tuple[np.ndarray, np.ndarray]:
    """Times and predecessors from ``source`` (all inf when it is -1)."""
    if source < 0:
        n = graph.shape[0]
        return np.full(n, np.inf), np.full(n, -9999, dtype=np.int32)
    return dijkstra(graph, indices=source, return_predecessors=True)


@dataclass
class _Hybrid:
    """One hybrid search: the window, the query points (metric ``x``, ``y``: origin,
    destination, then the road route's snapped ends), their cells and connector
    seconds, and the off-road fields from the origin and to the destination."""

    win: _Window
    x: np.ndarray
    y: np.ndarray
    a: int
    b: int
    ca: float
    cb: float
    fwd: np.ndarray
    pf: np.ndarray
    bwd: np.ndarray
    pb: np.ndarray

    def via_snaps(self, road: Any) -> tuple[float, Any]:
        """The road route with off-road legs to and from its snapped ends.

        An end whose own point cannot enter the cell graph (a vehicle on a
        road cut into a NO-GO slope) joins the road straight, at the
        open-ground speed, as route snapping does.
        """
        w = self.win
        cells, secs = w.access(self.x[2:], self.y[2:], ROAD_ACCESS_CELLS * min(w.surf.dem.res))
        v0 = w.surf.base_kph / 3.6
        out = []
        for i, (f, s_, cell, sec) in enumerate(
            ((self.fwd, self.a, cells[0], secs[0]), (self.bwd, self.b, cells[1], secs[1]))
        ):
            c = self.ca if i == 0 else self.cb
            if s_ < 0:  # the point itself is on ground it cannot leave: it is on the road
                gap = float(np.hypot(self.x[i] - self.x[2 + i], self.y[i] - self.y[2 + i]))
                out.append((gap / v0, -1, gap / v0))
            elif cell >= 0:
                out.append((f[cell] + c + sec, cell, sec))
            else:
                out.append((np.inf, -1, np.inf))
        total = out[0][0] + road.duration_s + out[1][0]
        return total, ("route", road, out[0][1:], out[1][1:])

    def parts(self, how: Any, nodes: tuple, roads: tuple) -> list:
        """The route's parts for the winning candidate."""
        w, x, y = self.win, self.x, self.y
        head = (x[0], y[0], self.ca) if self.ca > 0 else None
        tail = (x[1], y[1], self.cb) if self.cb > 0 else None
        if how is None:
            path = _path(self.pf, self.a, self.b)
            return [("offroad", w.leg(path, self.fwd[path], head=head, tail=tail))]
        net, profile, rules = roads
        if how[0] == "route":
            _, road, (sa, csa), (sb, csb) = how
            ja, jb = (x[2], y[2]), (x[3], y[3])
        else:
            _, applied, na, nb = how
            pos, cells, secs = nodes
            (sa,), (sb,) = cells[pos == na], cells[pos == nb]
            (csa,), (csb,) = secs[pos == na], secs[pos == nb]
            nxy = w.surf.to_grid(applied.nodes["x"].to_numpy()[[na, nb]],
                                 applied.nodes["y"].to_numpy()[[na, nb]])  # fmt: skip
            ja, jb = (nxy[0][0], nxy[1][0]), (nxy[0][1], nxy[1][1])
            ids = applied.nodes.index.to_numpy()
            road = None if na == nb else route_nodes(
                net, int(ids[na]), int(ids[nb]), profile=profile, rules=rules, weight="travel_time_s"
            )  # fmt: skip
        out = [("offroad", self._leg_to(sa, csa, ja, head))]
        if road is not None:
            out.append(("road", road))
        out.append(("offroad", self._leg_from(sb, csb, jb, tail)))
        return out

    def _leg_to(self, cell: int, secs: float, join: tuple, head: Any):
        """Origin to the road: along the field, or straight when the origin has no cell."""
        if cell < 0:
            return self.win.straight((self.x[0], self.y[0]), join, secs)
        p = _path(self.pf, self.a, cell)
        tail = (join[0], join[1], secs) if secs > 0 else None
        return self.win.leg(p, self.fwd[p], head=head, tail=tail)

    def _leg_from(self, cell: int, secs: float, join: tuple, tail: Any):
        """Road to the destination (the backward field's predecessors, reversed)."""
        if cell < 0:
            return self.win.straight(join, (self.x[1], self.y[1]), secs)
        p = _path(self.pb, self.b, cell)[::-1]
        head = (join[0], join[1], secs) if secs > 0 else None
        return self.win.leg(p, self.bwd[p[0]] - self.bwd[p], head=head, tail=tail)


def _hybrid_surface(net, dem, profile, landcover, barriers, neighbours):
    from ._basemap import osm_source

    if landcover == "osm":
        landcover = osm_source(net)
    return _surface(_dem_of(net, dem), profile, neighbours, landcover=landcover, barriers=barriers)


def _road_candidate(net: Any, pts: list, profile: Any, rules: Any) -> Any:
    """The road route by travel time, or None when the points are off the roads or cut off."""
    names = ["origin", "destination"]
    try:
        return road_route(net, pts, names, profile, rules, "travel_time_s", ROAD_MAX_SNAP_M)
    except (InputError, NoRouteError):
        return None


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
    xy = surf.to_grid([pt[1]], [pt[0]])
    a, ca = _endpoint(win, (xy[0][0], xy[1][0]), "origin", pt, max_snap_m)
    field = dijkstra(win.graph, indices=a, limit=times[-1]) + ca
    if applied is not None:
        pos, cells, secs = _node_cells(win, applied)
        n = csr.shape[0]
        road = dijkstra(_augmented(csr, pos, field[cells] + secs, np.full(len(pos), np.inf)),
                        indices=n, limit=times[-1] + 1e-6)[:n] - 1e-6  # fmt: skip
        hot = np.isfinite(road[pos])
        spread = cg.with_sources(win.graph, cells[hot], road[pos][hot] + secs[hot])
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
