"""Off-road searches on a window of the cost surface: routes, hybrid routes, isochrones.

A search crops the surface to the trip (the points plus a margin), builds the
cell graph there (:mod:`geolog._offroad_graph`) and runs scipy's Dijkstra.
The hybrid search joins the off-road time fields from the origin and to the
destination with one road Dijkstra over the network's CSR graph of travel
times: a virtual source reaches every road node in the window after the
off-road time to it, a virtual sink is reached from every road node after the
off-road time from it to the destination.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from . import _offroad_graph as cg
from ._geometry import parse_point
from ._offroad_route import HybridRoute, OffroadLeg
from ._offroad_surface import DEFAULT_NEIGHBOURS, OffroadSurface, offroad_surface
from .errors import DEMError, InputError, NoRouteError

#: A point on an impassable cell moves to the nearest passable cell within this many metres.
DEFAULT_MAX_SNAP_M = 250.0
#: Crop margin around the trip: this share of its straight-line length, at least the minimum.
MARGIN_SHARE, MIN_MARGIN_M = 0.5, 2000.0


@dataclass
class _Window:
    """The surface cropped to rows ``r0:r0+rows``, cols ``c0:c0+cols``, with its cell graph."""

    surf: OffroadSurface
    r0: int
    c0: int
    rows: int
    cols: int
    graph: sp.csr_array
    _edt: Any = field(default=None, repr=False)

    def flat(self, rc: np.ndarray) -> np.ndarray:
        """Window-flat indices of global ``(row, col)`` pairs (-1 outside)."""
        r, c = rc[:, 0] - self.r0, rc[:, 1] - self.c0
        inside = (r >= 0) & (r < self.rows) & (c >= 0) & (c < self.cols)
        return np.where(inside, r * self.cols + c, -1)

    def leg(self, path: np.ndarray, t: np.ndarray, *, head=None, tail=None) -> OffroadLeg:
        """An :class:`OffroadLeg` along window-flat cells ``path`` reached at times ``t``.

        ``head`` / ``tail``: ``(x, y, seconds)`` of a straight connector from a
        point to the first cell / from the last cell to a point (see :func:`access`).
        """
        r, c = path // self.cols + self.r0, path % self.cols + self.c0
        x, y = self.surf.xy_of(r, c)
        z = self.surf.dem.array[r, c].astype(float)
        t = np.asarray(t, float) - float(t[0])
        if head is not None:
            x, y, z = np.r_[head[0], x], np.r_[head[1], y], np.r_[self._z(head), z]
            t = np.r_[0.0, t + head[2]]
        if tail is not None:
            x, y, z = np.r_[x, tail[0]], np.r_[y, tail[1]], np.r_[z, self._z(tail)]
            t = np.r_[t, t[-1] + tail[2]]
        return self._make(x, y, z, t)

    def straight(self, start: tuple, end: tuple, seconds: float) -> OffroadLeg:
        """A straight two-vertex leg between metric points ``start`` and ``end``."""
        x, y = np.array([start[0], end[0]]), np.array([start[1], end[1]])
        z = np.array([self._z(start), self._z(end)])
        return self._make(x, y, z, np.array([0.0, seconds]))

    def _z(self, p: tuple) -> float:
        z, _ = self.surf.dem._sample(np.array([p[0]]), np.array([p[1]]), grid_xy=True)
        return float(z[0])

    def _make(self, x, y, z, t) -> OffroadLeg:
        lon, lat = self.surf.to_lonlat(x, y)
        return OffroadLeg(np.atleast_1d(lon), np.atleast_1d(lat), x, y, z, t)

    def access(self, x: Any, y: Any, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Where metric points enter the cell graph: ``(cell, seconds)`` per point.

        A point on a cell with moves sits on its centre (0 s); otherwise it
        goes straight to the nearest such cell within ``radius_m`` at the
        open-ground speed on the flat. ``(-1, inf)`` when there is none.
        """
        if self._edt is None:
            from scipy.ndimage import distance_transform_edt

            grid = (np.diff(self.graph.indptr) > 0).reshape(self.rows, self.cols)
            dist, (ri, ci) = distance_transform_edt(~grid, return_indices=True)
            self._edt = (grid, dist * min(self.surf.dem.res), ri, ci)
        grid, dist, ri, ci = self._edt
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        r, c = self.surf.rc_of(x, y)
        r, c = r - self.r0, c - self.c0
        inside = (r >= 0) & (r < self.rows) & (c >= 0) & (c < self.cols)
        r, c = np.where(inside, r, 0), np.where(inside, c, 0)
        nr, nc = ri[r, c], ci[r, c]
        cx, cy = self.surf.xy_of(nr + self.r0, nc + self.c0)
        ok = inside & grid.any() & (dist[r, c] <= radius_m)
        secs = np.where(grid[r, c], 0.0, np.hypot(x - cx, y - cy) / (self.surf.base_kph / 3.6))
        return np.where(ok, nr * self.cols + nc, -1), np.where(ok, secs, np.inf)


def _surface(dem: Any, profile: Any, neighbours: int, **kw: Any) -> OffroadSurface:
    if isinstance(dem, OffroadSurface):
        return dem
    if dem is None or not hasattr(dem, "to_metric"):
        raise InputError(
            f"off-road routing needs a geolog.DEM or an OffroadSurface, got {type(dem).__name__}"
        )
    return offroad_surface(dem, profile=profile, neighbours=neighbours, **kw)


def window(surf: OffroadSurface, rc: np.ndarray, margin_m: float) -> _Window:
    """Crop ``surf`` to the cells ``rc`` plus ``margin_m`` metres and build the graph there."""
    res = min(surf.dem.res)
    m = int(math.ceil(margin_m / res))
    rows, cols = surf.shape
    r0, c0 = max(int(rc[:, 0].min()) - m, 0), max(int(rc[:, 1].min()) - m, 0)
    r1, c1 = min(int(rc[:, 0].max()) + m + 1, rows), min(int(rc[:, 1].max()) + m + 1, cols)
    z = np.asarray(surf.dem.array[r0:r1, c0:c1], dtype=float)
    graph = cg.build(
        z,
        surf.factor[r0:r1, c0:c1],
        xres=surf.dem.res[0],
        yres=surf.dem.res[1],
        speed_kph=surf.speed_kph,
        max_up=surf.max_up,
        max_down=surf.max_down,
        neighbours=surf.neighbours,
    )
    return _Window(surf, r0, c0, r1 - r0, c1 - c0, graph)


def _endpoint(win: _Window, xy: tuple, name: str, point: tuple, max_snap_m: float):
    """``(cell, seconds)`` where a query point enters the graph; InputError when it cannot."""
    cell, secs = win.access(xy[0], xy[1], max_snap_m)
    if cell[0] < 0:
        r, c = (int(v[0]) for v in win.surf.rc_of([xy[0]], [xy[1]]))
        raise InputError(
            f"{name} ({point[0]:.5f}, {point[1]:.5f}) has no passable cell within "
            f"{max_snap_m:g} m for profile {win.surf.profile.name!r} (its cell: "
            f"{win.surf.why_blocked(r, c)}); move the point or raise max_snap_m"
        )
    return int(cell[0]), float(secs[0])


def _path(pred: np.ndarray, source: int, target: int) -> np.ndarray:
    """Cells from ``source`` to ``target`` along Dijkstra predecessors."""
    out = [target]
    while out[-1] != source:
        p = int(pred[out[-1]])
        if p < 0:
            break
        out.append(p)
    return np.asarray(out[::-1], dtype=np.int64)


def _points(origin: Any, destination: Any) -> list[tuple[float, float]]:
    return [parse_point(origin, "origin"), parse_point(destination, "destination")]


def _margin(surf: OffroadSurface, rc: np.ndarray, margin_m: float | None) -> float:
    if margin_m is not None:
        if not margin_m >= 0:
            raise InputError(f"margin_m must be >= 0 metres, got {margin_m!r}")
        return float(margin_m)
    span = float(np.hypot(np.ptp(rc[:, 0]), np.ptp(rc[:, 1]))) * min(surf.dem.res)
    return max(MIN_MARGIN_M, MARGIN_SHARE * span)


def offroad_route(
    dem: Any,
    origin: Any,
    destination: Any,
    *,
    profile: Any = "foot",
    landcover: Any = None,
    barriers: Any = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
    margin_m: float | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> HybridRoute:
    """Least-time cross-country route between two points, roads ignored.

    Parameters
    ----------
    dem
        A :class:`geolog.DEM`, or an :class:`~geolog.offroad.OffroadSurface`
        (then ``profile``, ``landcover``, ``barriers``, ``neighbours`` are its own).
    origin, destination
        ``(lat, lon)`` in degrees or shapely Points.
    profile, landcover, barriers, neighbours
        As in :func:`geolog.offroad_surface`.
    margin_m
        Crop margin around the two points (metres); default half their
        distance, at least 2 km. A route is found only inside the crop.
    max_snap_m
        A point on an impassable cell goes straight to the nearest passable
        cell within this distance, at the open-ground speed on the flat.

    Returns
    -------
    geolog.Route
        A :class:`~geolog.offroad.HybridRoute` with one off-road part.

    Raises
    ------
    InputError
        A point off the DEM or with no passable cell near it.
    NoRouteError
        No passable path inside the crop (water, NO-GO slopes, barriers).
    """
    surf = _surface(dem, profile, neighbours, landcover=landcover, barriers=barriers)
    pts = _points(origin, destination)
    rc = surf.cells(pts, ["origin", "destination"])
    win = window(surf, rc, _margin(surf, rc, margin_m))
    xy = surf.to_grid([p[1] for p in pts], [p[0] for p in pts])
    a, sa = _endpoint(win, (xy[0][0], xy[1][0]), "origin", pts[0], max_snap_m)
    b, sb = _endpoint(win, (xy[0][1], xy[1][1]), "destination", pts[1], max_snap_m)
    dist, pred = dijkstra(win.graph, indices=a, return_predecessors=True)
    if not np.isfinite(dist[b]):
        raise NoRouteError(_blocked(surf, pts))
    path = _path(pred, a, b)
    head = (xy[0][0], xy[1][0], sa) if sa > 0 else None
    tail = (xy[0][1], xy[1][1], sb) if sb > 0 else None
    leg = win.leg(path, dist[path], head=head, tail=tail)
    r = HybridRoute(
        [("offroad", leg)],
        origin=pts[0],
        destination=pts[1],
        profile_name=surf.profile.name,
        neighbours=surf.neighbours,
    )
    r._surface = surf
    return r


def _blocked(surf: OffroadSurface, pts: list) -> str:
    return (
        f"no cross-country path for profile {surf.profile.name!r} from {pts[0]} to {pts[1]}: "
        f"water, barriers or slopes beyond {surf.max_up:.0%} cut them apart within the "
        "search window; raise margin_m, relax barriers or use a more capable profile"
    )


def _dem_of(net: Any, dem: Any) -> Any:
    """``dem``, else the DEM recorded by ``net.with_terrain``, else a clear error."""
    if dem is not None:
        return dem
    paths = tuple(((getattr(net, "meta", None) or {}).get("terrain") or {}).get("dem_paths") or ())
    if not paths:
        raise DEMError(
            "off-road routing needs a DEM: pass dem=geolog.DEM.open(...) or build the "
            "network with net.with_terrain(dem), which records its files"
        )
    from .drape import _open_quiet

    return _open_quiet(paths)
