"""geolog: terrain-costed road networks, route rules, routing, planning and briefings.

The names an analyst types in a notebook live here; the logic lives in the
modules (``geolog.osm``, ``geolog.network``, ``geolog.terrain`` …).
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import data, errors, maps
from .briefing import briefing
from .distribution import compare, plan
from .errors import GeologError
from .maps import make_map as map  # noqa: A004 - geolog.map(...) is the one-liner
from .network import Network, load
from .osm import read_osm
from .profiles import get_profile
from .routing import Matrix, Route, alternatives, isochrones, matrix, route
from .rules import explain, load_rules
from .terrain import DEM

__all__ = [
    "__version__",
    "data",
    "errors",
    "GeologError",
    "Network",
    "load",
    "read_osm",
    "get_profile",
    "load_rules",
    "explain",
    "DEM",
    "maps",
    "map",
    "briefing",
    "plan",
    "compare",
    "route",
    "alternatives",
    "isochrones",
    "matrix",
    "Route",
    "Matrix",
]
