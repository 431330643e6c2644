"""Cross-country movement: off-road cost surfaces, off-road and hybrid road/off-road routes.

:func:`offroad_surface` turns a DEM (reprojected to its metric grid), land
cover and barriers into an :class:`OffroadSurface` for one travel profile:

- on foot, Tobler's hiking function times the off-path factor 0.6 (Tobler
  1993), direction-dependent (a 10 % descent is faster than a 10 % climb);
- for vehicles, the profile's open-ground off-road speed capped on slopes by
  its own grade model (climb power, braking), NO-GO above its ``max_grade``;
- land cover from the same OSM file as the roads (``landuse``, ``natural``,
  ``waterway``, ``building``) or from a raster, through the class → factor
  table ``geolog/profiles/offroad.yaml`` (copy and edit it);
- barriers (water, buildings, threat zones, any polygons) impassable or slowed.

Routing runs on the cell graph of :mod:`geolog._offroad_graph` (16
neighbours by default: the 8 adjacent cells plus knight's moves, as GRASS
r.walk ``-k``; ``neighbours=8`` for the plain queen's case) with scipy's
Dijkstra, on the DEM cropped to the trip plus a margin, so the work scales
with the trip, not the tile. Off-road times run from cell centre to cell
centre: a point is placed on the centre of its cell (at most half a cell
away). :func:`offroad_route`, :func:`hybrid_route` (roads where they help,
cross-country where they don't) and :func:`offroad_isochrones` (off-road or
combined road + off-road) are built on it; results are :class:`geolog.Route`
objects whose edges carry ``kind`` = ``road`` / ``offroad``.
"""

from __future__ import annotations

from ._offroad_hybrid import hybrid_route, offroad_isochrones
from ._offroad_landcover import load_table as load_landcover_table
from ._offroad_landcover import read_landcover
from ._offroad_route import HybridRoute, naismith_s
from ._offroad_search import DEFAULT_MAX_SNAP_M, offroad_route
from ._offroad_surface import DEFAULT_NEIGHBOURS, OffroadSurface, offroad_surface

__all__ = [
    "OffroadSurface",
    "offroad_surface",
    "offroad_route",
    "offroad_isochrones",
    "hybrid_route",
    "read_landcover",
    "load_landcover_table",
    "DEFAULT_NEIGHBOURS",
    "DEFAULT_MAX_SNAP_M",
    "HybridRoute",
    "naismith_s",
]
