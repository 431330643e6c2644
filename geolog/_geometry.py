"""Geometry shared by geolog's modules: one Earth radius, one local metric frame, point parsing.

Coordinates are WGS 84 longitude/latitude in degrees. Lengths of network
edges are geodesic (WGS 84 ellipsoid, :func:`geolog.network.geodesic_lengths`);
for short steps (DEM samples, headings, cell sizes, simplification
tolerances) a local equirectangular frame on the sphere of mean radius is
within 0.7 % of the ellipsoid (its flattening) and fully vectorised.

Points given by a user are ``(lat, lon)`` pairs in degrees everywhere geolog
takes a point (shapely Points are read as x = longitude, y = latitude); the
``parse_*`` functions and :func:`lonlat_arrays` are the one place they become
floats. A point out of range or malformed raises
:class:`geolog.errors.InputError` naming it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from .errors import InputError

__all__ = [
    "EARTH_RADIUS_M",
    "M_PER_DEG",
    "DEG_PER_M",
    "metres_per_degree",
    "metric_offsets",
    "parse_point",
    "parse_points",
    "parse_latlon_text",
    "lonlat_arrays",
]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Metres per degree of latitude (and of longitude at the equator) on that sphere.
M_PER_DEG = math.pi / 180 * EARTH_RADIUS_M
#: Degrees per metre: turns a length in metres into a tolerance in degrees.
DEG_PER_M = 1.0 / M_PER_DEG


def metres_per_degree(lat: Any) -> tuple[Any, float]:
    """Metres per degree of longitude and of latitude at latitude ``lat`` (degrees).

    Parameters
    ----------
    lat
        Latitude(s) in degrees (float or array).

    Returns
    -------
    tuple
        ``(east, north)`` metres per degree; ``east`` has the shape of ``lat``.
    """
    return M_PER_DEG * np.cos(np.radians(lat)), M_PER_DEG


def metric_offsets(dlon: Any, dlat: Any, lat: Any) -> tuple[Any, Any]:
    """Offsets in degrees at latitude ``lat`` as metres east and north (local frame).

    Parameters
    ----------
    dlon, dlat
        Offsets in degrees of longitude and latitude (arrays broadcast).
    lat
        Latitude(s) where the offsets are taken, degrees.

    Returns
    -------
    tuple of numpy.ndarray
        Metres east and metres north.
    """
    east, north = metres_per_degree(lat)
    return np.asarray(dlon) * east, np.asarray(dlat) * north


# --------------------------------------------------------------------------- points


def parse_point(p: Any, what: str) -> tuple[float, float]:
    """``(lat, lon)`` from a pair of numbers or a shapely Point; ``what`` names it in errors."""
    if isinstance(p, shapely.Point):
        lat, lon = p.y, p.x
    else:
        try:
            lat, lon = (float(c) for c in p)
        except (TypeError, ValueError) as err:
            raise InputError(f"{what} must be a (lat, lon) pair of numbers, got {p!r}") from err
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise InputError(
            f"{what} {p!r} is not a (lat, lon) in degrees (latitude within ±90, "
            "longitude within ±180); note the order: latitude first"
        )
    return lat, lon


def parse_points(points: Any, role: str, errors: str) -> tuple[list, list[str]]:
    """Points as ``(lat, lon)`` (``None`` where malformed, with ``errors="coerce"``)."""
    if isinstance(points, shapely.Point) or (
        isinstance(points, tuple) and len(points) == 2 and np.isscalar(points[0])
    ):
        raise InputError(f"{role}s must be a sequence of points, got one point {points!r}")
    out, why = [], []
    for i, p in enumerate(points):
        try:
            out.append(parse_point(p, f"{role} {i}"))
            why.append("")
        except InputError as err:
            if errors == "raise":
                raise
            out.append(None)
            why.append(str(err))
    return out, why


def parse_latlon_text(text: str, what: str) -> tuple[float, float]:
    """Parse ``"LAT,LON"`` (degrees) as typed on a command line; ``what`` names the option."""
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(
            f"{what} {text!r} is not LAT,LON in degrees (e.g. 42.5078,1.5211)"
        ) from None
    return parse_point((lat, lon), what)


def lonlat_arrays(points: Any) -> tuple[np.ndarray, np.ndarray]:
    """Many points, vectorised: ``(lon, lat)`` arrays from ``(lat, lon)`` pairs or shapely Points.

    Accepts a sequence or ``(n, 2)`` array of ``(lat, lon)`` pairs, one pair,
    shapely Points or a GeoSeries / GeoDataFrame (reprojected to EPSG:4326).
    """
    import geopandas as gpd

    if isinstance(points, gpd.GeoSeries | gpd.GeoDataFrame):
        g = points.to_crs("EPSG:4326").geometry if points.crs else points.geometry
        return shapely.get_x(g.to_numpy()), shapely.get_y(g.to_numpy())
    if isinstance(points, shapely.Point):
        return np.array([points.x]), np.array([points.y])
    seq = list(points) if not isinstance(points, np.ndarray) else points
    if len(seq) and isinstance(seq[0], shapely.Point):
        return shapely.get_x(np.asarray(seq)), shapely.get_y(np.asarray(seq))
    try:
        arr = np.asarray(seq, dtype=float)
    except (TypeError, ValueError) as err:
        raise InputError(
            f"points must be (lat, lon) pairs or shapely Points, got {points!r}"
        ) from err
    if arr.ndim == 1 and arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"points must be (lat, lon) pairs, got an array of shape {arr.shape}")
    lat, lon = arr[:, 0], arr[:, 1]
    if not (np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)) or not np.isfinite(arr).all():
        raise InputError(
            "points must be (lat, lon) in degrees: latitude within ±90, longitude within ±180"
        )
    return lon, lat
