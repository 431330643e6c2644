"""geolog: terrain-costed road networks, route rules, routing, planning and briefings.

The names an analyst types in a notebook live here; the logic lives in the
modules (``geolog.osm``, ``geolog.network``, ``geolog.terrain`` …). Names are
imported on first use, so ``import geolog`` stays fast and light (folium,
rasterio, the solvers load only when a feature needs them).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

from . import data, errors
from .errors import GeologError

# public name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "Network": ("network", "Network"),
    "load": ("network", "load"),
    "read_osm": ("osm", "read_osm"),
    "osm": ("osm", None),
    "DEM": ("terrain", "DEM"),
    "get_profile": ("profiles", "get_profile"),
    "load_rules": ("rules", "load_rules"),
    "explain": ("rules", "explain"),
    "route": ("routing", "route"),
    "alternatives": ("routing", "alternatives"),
    "isochrones": ("routing", "isochrones"),
    "matrix": ("routing", "matrix"),
    "prepare": ("routing", "prepare"),
    "Route": ("routing", "Route"),
    "Matrix": ("routing", "Matrix"),
    "maps": ("maps", None),
    "map": ("maps", "make_map"),  # geolog.map(...) is the one-liner
    "briefing": ("briefing", "briefing"),
    "plan": ("planning", "plan"),
    "compare": ("planning", "compare"),
    "Plan": ("planning", "Plan"),
    "solve_cvrp": ("planning", "solve_cvrp"),
    "planning": ("planning", None),
    "distribution": ("distribution", None),
    "risk": ("risk", None),
    "viewshed": ("risk", "viewshed"),
    "critical_links": ("risk", "critical_links"),
    "contingency": ("risk", "contingency"),
    "offroad": ("offroad", None),
    "offroad_surface": ("offroad", "offroad_surface"),
    "offroad_route": ("offroad", "offroad_route"),
    "offroad_isochrones": ("offroad", "offroad_isochrones"),
    "hybrid_route": ("offroad", "hybrid_route"),
    "clear_cache": ("_cache", "clear_cache"),
    "to_file": ("export", "to_file"),
    "export": ("export", None),
    "match": ("tracking", "match"),
    "tracking": ("tracking", None),
}

# modules reachable as geolog.<name> without an import statement
_MODULES = (
    "network",
    "osm",
    "terrain",
    "drape",
    "costing",
    "profiles",
    "rules",
    "routing",
    "maps",
    "distribution",
)

__all__ = ["__version__", "data", "errors", "GeologError", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _MODULES and name not in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'geolog' has no attribute {name!r}") from None
    mod = importlib.import_module(f".{module}", __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps ``geolog.briefing`` the function when the submodule of that name is imported.

    Python's import system binds every imported submodule on its package; for
    ``geolog.briefing`` that would hide the function analysts call.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name, (None, None))[1] is not None:
            return  # resolved on first use by __getattr__
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
