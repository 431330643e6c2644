"""Snapping points onto edges and cutting edge geometries, vectorised.

Private to :mod:`geolog.routing`. Geometry work happens in a local
equirectangular frame in metres centred on the network (x = east, y = north),
accurate to well under 1 % over a region the size of a country; fractions along
an edge are measured in that frame, so snapping, partial costs and cut
geometries agree with each other.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["LocalFrame", "EdgeIndex", "cut_lines"]

_R = 6_371_008.8  # mean Earth radius, metres


class LocalFrame:
    """Equirectangular projection lon/lat <-> metres around (lon0, lat0)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = float(lon0), float(lat0)
        self.kx = np.deg2rad(1.0) * _R * np.cos(np.deg2rad(self.lat0))
        self.ky = np.deg2rad(1.0) * _R

    def fwd(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = (xy[:, 0] - self.lon0) * self.kx
        out[:, 1] = (xy[:, 1] - self.lat0) * self.ky
        return out

    def inv(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = xy[:, 0] / self.kx + self.lon0
        out[:, 1] = xy[:, 1] / self.ky + self.lat0
        return out

    def to_m(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, self.fwd)

    def to_lonlat(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(geoms, self.inv)


class EdgeIndex:
    """STRtree over the usable edge rows, in metres."""

    def __init__(self, geoms_lonlat: np.ndarray, rows: np.ndarray) -> None:
        bounds = shapely.total_bounds(geoms_lonlat)
        self.frame = LocalFrame((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
        self.geoms_m = self.frame.to_m(geoms_lonlat)  # all rows, aligned with edges
        self.rows = rows  # usable rows indexed by the tree
        self.tree = shapely.STRtree(self.geoms_m[rows])

    def snap(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        """Nearest usable edge row per point, fraction along it, snapped point, distance."""
        pts = shapely.points(self.frame.fwd(np.column_stack([lon, lat])))
        if len(self.rows) == 0:
            raise ValueError("no usable edges to snap to")
        idx = self.tree.query_nearest(pts, all_matches=False, return_distance=False)
        # query_nearest returns (2, k) [input index, tree index]; one match per point
        tree_idx = np.empty(len(pts), dtype=np.int64)
        tree_idx[idx[0]] = idx[1]
        rows = self.rows[tree_idx]
        lines = self.geoms_m[rows]
        frac = shapely.line_locate_point(lines, pts, normalized=True)
        frac = np.clip(np.nan_to_num(frac, nan=0.0), 0.0, 1.0)
        snapped = shapely.line_interpolate_point(lines, frac, normalized=True)
        dist = shapely.distance(pts, snapped)
        ll = self.frame.inv(shapely.get_coordinates(snapped))
        return {"row": rows, "fraction": frac, "distance_m": dist, "lon": ll[:, 0], "lat": ll[:, 1]}


def cut_lines(
    lines_m: np.ndarray, start: np.ndarray, end: np.ndarray, frame: LocalFrame | None = None
) -> np.ndarray:
    """Cut each line between fractions ``start`` and ``end`` (0..1, start <= end).

    Vectorised over all lines. Lines are in metres; pass ``frame`` to get the
    result back in lon/lat.
    """
    lines_m = np.asarray(lines_m, dtype=object)
    n = len(lines_m)
    if n == 0:
        return np.empty(0, dtype=object)
    start = np.clip(np.asarray(start, dtype=float), 0.0, 1.0)
    end = np.clip(np.asarray(end, dtype=float), 0.0, 1.0)
    end = np.maximum(end, start)
    coords, ids = shapely.get_coordinates(lines_m, return_index=True)
    seg = np.zeros(len(coords))
    same = np.zeros(len(coords), dtype=bool)
    same[1:] = ids[1:] == ids[:-1]
    d = np.hypot(*(coords[1:] - coords[:-1]).T)
    seg[1:] = np.where(same[1:], d, 0.0)
    cum = np.cumsum(seg)
    first_of = np.searchsorted(ids, np.arange(n))
    cum = cum - cum[first_of][ids]  # distance from each line's start
    total = shapely.length(lines_m)
    tot = np.where(total > 0, total, 1.0)
    d0, d1 = start * tot, end * tot
    keep = (cum > d0[ids]) & (cum < d1[ids])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines_m, d0))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines_m, d1))
    all_xy = np.concatenate([p0, coords[keep], p1])
    all_id = np.concatenate([np.arange(n), ids[keep], np.arange(n)])
    all_pos = np.concatenate([np.full(n, -np.inf), cum[keep], np.full(n, np.inf)])
    order = np.lexsort((all_pos, all_id))
    xy, gid = all_xy[order], all_id[order]
    if frame is not None:
        xy = frame.inv(xy)
    return shapely.linestrings(xy, indices=gid)
