"""Travel matrices, leg geometries and road closures for :func:`geolog.plan`.

Uses :func:`geolog.routing.matrix` / :func:`geolog.routing.route` (the same
snapping and costs as the rest of geolog). If the routing module is not
available, a simple stand-in runs Dijkstra on ``length_m`` at a fixed speed per
profile, so planning still works (and is tested) on a bare network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from .errors import InputError, NoRouteError

__all__ = ["Travel", "travel", "leg_geometry", "close_roads"]

logger = logging.getLogger(__name__)

# stand-in speeds (km/h) when geolog.routing is not available
_FALLBACK_KPH = {"car": 50.0, "truck": 35.0, "foot": 5.0, "tracked": 25.0}


@dataclass(frozen=True)
class Travel:
    """Matrices over a list of points for one profile (inf where unreachable)."""

    durations_s: np.ndarray
    distances_m: np.ndarray
    lat: np.ndarray  # snapped
    lon: np.ndarray
    backend: str


def _routing():
    try:
        from . import routing
    except ImportError:
        return None
    if hasattr(routing, "matrix") and hasattr(routing, "route"):
        return routing
    return None


def travel(net: Any, latlon: np.ndarray, profile: str, rules: Any = None) -> Travel:
    """Travel times (s) and distances (m) between all ``(lat, lon)`` points for ``profile``."""
    routing = _routing()
    if routing is not None:
        n = len(latlon)
        pts = [(float(a), float(b)) for a, b in latlon]
        try:
            ok = np.arange(n)
            m = routing.matrix(net, pts, profile=profile, rules=rules)
        except InputError:
            # some point is off every road this profile may use: find which, plan the rest
            ok = []
            for i, p in enumerate(pts):
                try:
                    routing.matrix(net, [p], profile=profile, rules=rules)
                except InputError as err:
                    logger.info("point %d unusable for profile %s: %s", i, profile, err)
                else:
                    ok.append(i)
            ok = np.asarray(ok, dtype=np.int64)
            if len(ok) == 0:
                m = None
            else:
                m = routing.matrix(net, [pts[i] for i in ok], profile=profile, rules=rules)
        dur = np.full((n, n), np.inf)
        dis = np.full((n, n), np.inf)
        np.fill_diagonal(dur, 0.0)
        np.fill_diagonal(dis, 0.0)
        lat, lon = latlon[:, 0].astype(float).copy(), latlon[:, 1].astype(float).copy()
        if m is not None:
            dur[np.ix_(ok, ok)] = np.asarray(m.durations_s, dtype=float)
            dis[np.ix_(ok, ok)] = np.asarray(m.distances_m, dtype=float)
            fr = m.points
            if {"snapped_lat", "snapped_lon"} <= set(fr.columns):
                lat[ok] = fr["snapped_lat"].to_numpy(float)
                lon[ok] = fr["snapped_lon"].to_numpy(float)
        return Travel(dur, dis, lat, lon, "routing")
    if rules is not None:
        raise InputError("route rules need geolog.routing, which is not available in this build")
    return _fallback_travel(net, latlon, profile)


def _fallback_nodes(net: Any, latlon: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    xy = net.nodes[["x", "y"]].to_numpy(float)
    k = np.cos(np.deg2rad(xy[:, 1].mean()))
    tree = cKDTree(np.c_[xy[:, 0] * k, xy[:, 1]])
    _, pos = tree.query(np.c_[latlon[:, 1] * k, latlon[:, 0]])
    return np.asarray(pos, dtype=np.int64)


def _fallback_travel(net: Any, latlon: np.ndarray, profile: str) -> Travel:
    from scipy.sparse.csgraph import dijkstra

    pos = _fallback_nodes(net, latlon)
    dist = dijkstra(net.csr("length_m"), directed=True, indices=pos)[:, pos]
    kph = _FALLBACK_KPH.get(profile, 40.0)
    nodes = net.nodes
    return Travel(
        dist / (kph / 3.6),
        dist,
        nodes["y"].to_numpy(float)[pos],
        nodes["x"].to_numpy(float)[pos],
        "fallback",
    )


def leg_geometry(
    net: Any, a: tuple[float, float], b: tuple[float, float], profile: str, rules: Any = None
) -> shapely.LineString:
    """Road geometry from ``a`` to ``b`` (``(lat, lon)``); a straight line if no road path."""
    straight = shapely.LineString([(a[1], a[0]), (b[1], b[0])])
    if a == b:
        return straight
    routing = _routing()
    if routing is not None:
        try:
            g = routing.route(net, a, b, profile=profile, rules=rules).geometry
        except (NoRouteError, InputError):
            return straight
        return g if g is not None and not g.is_empty else straight
    from scipy.sparse.csgraph import dijkstra

    pos = _fallback_nodes(net, np.array([a, b]))
    _, pred = dijkstra(net.csr("length_m"), directed=True, indices=pos[0], return_predecessors=True)
    path = [int(pos[1])]
    while path[-1] != pos[0] and pred[path[-1]] >= 0:
        path.append(int(pred[path[-1]]))
    if path[-1] != pos[0] or len(path) < 2:
        return straight
    xy = net.nodes[["x", "y"]].to_numpy(float)[path[::-1]]
    return shapely.LineString(xy)


def close_roads(net: Any, closures: Any) -> tuple[Any, int]:
    """Network without the closed roads, and the number of edge rows removed.

    ``closures`` is one item or a list of: an OSM way id (int), a road name or
    ``ref`` (str, exact match), or a shapely geometry / GeoSeries / GeoDataFrame
    in EPSG:4326 (edges intersecting it are closed — buffer a point to close a
    bridge or pass).
    """
    import geopandas as gpd

    if closures is None:
        return net, 0
    items = closures
    if isinstance(closures, gpd.GeoDataFrame | gpd.GeoSeries):
        g = closures.to_crs("EPSG:4326") if closures.crs is not None else closures
        items = list(g.geometry)
    elif isinstance(closures, str | int | np.integer | shapely.Geometry):
        items = [closures]
    edges = net.edges
    closed = np.zeros(len(edges), dtype=bool)
    geoms = edges.geometry.to_numpy()
    for item in items:
        if isinstance(item, bool):
            raise InputError(f"closure {item!r} is not a way id, road name/ref or geometry")
        if isinstance(item, int | np.integer):
            hit = edges["osmid"].to_numpy() == int(item)
        elif isinstance(item, str):
            hit = np.zeros(len(edges), dtype=bool)
            for col in ("name", "ref"):
                if col in edges:
                    hit |= (edges[col] == item).fillna(False).to_numpy(dtype=bool)
        elif isinstance(item, shapely.Geometry):
            hit = shapely.intersects(geoms, item)
        else:
            raise InputError(
                f"closure {item!r} is not a way id (int), road name/ref (str) or shapely geometry"
            )
        if not hit.any():
            raise InputError(f"closure {item!r} matches no road of the network; check the id/name")
        closed |= hit
    logger.info("closing %d edge rows", int(closed.sum()))
    kept = edges.loc[~closed].reset_index(drop=True)
    meta = dict(net.meta)
    meta["closures"] = [str(i) for i in items]
    return net.replace(edges=kept, meta=meta), int(closed.sum())
