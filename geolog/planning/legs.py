"""Travel matrices, leg geometries and road closures for :func:`geolog.plan`.

Uses :func:`geolog.routing.matrix` / :func:`geolog.routing.route`: the same
snapping, profiles, rules and costs as the rest of geolog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from ..errors import InputError, NoRouteError

__all__ = ["Travel", "travel", "leg_geometry", "close_roads"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Travel:
    """Matrices over a list of points for one profile (inf where unreachable)."""

    durations_s: np.ndarray
    distances_m: np.ndarray
    lat: np.ndarray  # snapped
    lon: np.ndarray


def travel(net: Any, latlon: np.ndarray, profile: str, rules: Any = None) -> Travel:
    """Travel times (s) and distances (m) between all ``(lat, lon)`` points for ``profile``."""
    from .. import routing

    pts = [(float(a), float(b)) for a, b in latlon]
    m = routing.matrix(net, pts, profile=profile, rules=rules)
    for r in m.problems.itertuples():
        logger.info("point %d unusable for profile %s: %s", r.index, profile, r.reason)
    # a point that could not be snapped is unreachable (inf) for the planner
    dur = np.nan_to_num(np.asarray(m.durations_s, dtype=float), nan=np.inf)
    dis = np.nan_to_num(np.asarray(m.distances_m, dtype=float), nan=np.inf)
    np.fill_diagonal(dur, 0.0)
    np.fill_diagonal(dis, 0.0)
    fr = m.points
    snapped = fr["snapped_lat"].notna().to_numpy()
    lat = np.where(snapped, fr["snapped_lat"].to_numpy(float), latlon[:, 0].astype(float))
    lon = np.where(snapped, fr["snapped_lon"].to_numpy(float), latlon[:, 1].astype(float))
    return Travel(dur, dis, lat, lon)


def leg_geometry(
    net: Any, a: tuple[float, float], b: tuple[float, float], profile: str, rules: Any = None
) -> shapely.LineString:
    """Road geometry from ``a`` to ``b`` (``(lat, lon)``); a straight line if no road path."""
    straight = shapely.LineString([(a[1], a[0]), (b[1], b[0])])
    if a == b:
        return straight
    from .. import routing

    try:
        g = routing.route(net, a, b, profile=profile, rules=rules).geometry
    except (NoRouteError, InputError):
        return straight
    return g if g is not None and not g.is_empty else straight


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
