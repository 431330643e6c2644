"""Geometry shared by geolog's modules: one Earth radius and one local metric frame.

Coordinates are WGS 84 longitude/latitude in degrees. Lengths of network
edges are geodesic (WGS 84 ellipsoid, :func:`geolog.network.geodesic_lengths`);
for short steps (DEM samples, headings, cell sizes, simplification
tolerances) a local equirectangular frame on the sphere of mean radius is
within 0.7 % of the ellipsoid (its flattening) and fully vectorised.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["EARTH_RADIUS_M", "M_PER_DEG", "DEG_PER_M", "metres_per_degree", "metric_offsets"]

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
