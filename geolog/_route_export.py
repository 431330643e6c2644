"""Writing a :class:`geolog.Route` to files: GPX, KML, GeoJSON, GeoPackage and GeoParquet.

The layers are built here; :func:`geolog.export.write_layers` writes them, each
format atomically (:mod:`geolog._io`): a failed write leaves an existing file
as it was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ._format import fmt_duration, fmt_km, fmt_pct
from ._io import atomic_write_text, file_format
from .errors import InputError
from .export import write_layers

#: File formats :meth:`geolog.Route.to_file` writes, by suffix.
ROUTE_FORMATS = {
    ".gpx": "GPX 1.1: the route as <rte> (origin, via, destination) and <trk> with <ele>",
    ".kml": "KML 2.2: the styled route line and its origin, via and destination points",
    ".geojson": "GeoJSON: the route line with its summary (as Route.to_geojson())",
    ".json": "GeoJSON (as .geojson)",
    ".gpkg": "GeoPackage with layers route (the line and its summary), legs, edges and stops",
    ".parquet": "GeoParquet: the route line with its summary, one row",
}


def route_format(path: str | os.PathLike) -> str:
    """The suffix of ``path`` if a route can be written as it, else an InputError."""
    return file_format(path, ROUTE_FORMATS, "a route")


def route_title(route: Any) -> str:
    """``"geolog route (car)"``: the name of the route in GPX and KML."""
    return f"geolog route ({route.profile_name or route.weight})"


def route_description(route: Any) -> str:
    """One line of headline numbers: length, time, climb, steepest grade."""
    parts = [fmt_km(route.length_m), fmt_duration(route.duration_s)]
    if np.isfinite(route.ascent_m):
        parts.append(f"ascent {route.ascent_m:.0f} m, descent {route.descent_m:.0f} m")
    if np.isfinite(route.max_grade):
        parts.append(f"steepest climb {fmt_pct(max(route.max_grade, 0.0))}")
    return ", ".join(parts)


def route_frame(route: Any, *, z: bool = False):
    """The route as a one-row GeoDataFrame: the line and its summary (lists as JSON text).

    With ``z``, the line carries the elevation (metres) of each vertex where
    the network has elevations.
    """
    import geopandas as gpd

    props = {
        k: (json.dumps(v) if isinstance(v, list | tuple) else v) for k, v in route.summary().items()
    }
    props = {"name": route_title(route), "description": route_description(route), **props}
    line = route_line_z(route) if z else route.geometry
    return gpd.GeoDataFrame({k: [v] for k, v in props.items()}, geometry=[line], crs="EPSG:4326")


def _vertex_elevations(route: Any, xy: np.ndarray) -> np.ndarray | None:
    """Elevation (metres) at each vertex of the route line, from its profile; None if unknown."""
    try:
        prof = route.profile()
    except InputError:
        return None
    frame = route._edge_index.frame
    m = shapely.get_coordinates(frame.to_m(shapely.points(xy)))
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(m, axis=0).T))])
    if along[-1] > 0:  # the line's metric axis, stretched onto the route's length
        along *= route.length_m / along[-1]
    return np.interp(along, prof["distance_m"], prof["elevation_m"])


def route_line_z(route: Any) -> shapely.LineString:
    """The route line with each vertex's elevation (metres) as z; 2D without elevations."""
    xy = shapely.get_coordinates(route.geometry)
    ele = _vertex_elevations(route, xy) if len(xy) else None
    if ele is None:
        return route.geometry
    return shapely.LineString(np.column_stack([xy, ele]))


def route_stops(route: Any):
    """The snapped origin, via points and destination: ``route``, ``name`` (role), ``seq``."""
    import geopandas as gpd

    s = route.snapped
    roles = s["role"].to_numpy(dtype=object)
    names = [f"via {i}" if r == "via" else r for i, r in enumerate(roles)]
    frame = s.assign(route=route_title(route), name=names, seq=np.arange(len(s)))
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs="EPSG:4326")


def route_legs(route: Any):
    """One line per leg (origin to the first via point, …, last via point to destination).

    Columns ``leg`` (0 first), ``name``, ``from`` and ``to`` (the roles of its
    ends), ``length_m`` and ``duration_s`` (metres, seconds).
    """
    import geopandas as gpd

    e = route.edges
    xy, row = shapely.get_coordinates(e.geometry.to_numpy(), return_index=True)
    leg_of_xy = e["leg"].to_numpy()[row]
    names = route_stops(route)["name"].tolist()
    lines = []
    for k in range(len(route.leg_sizes)):
        pts = xy[leg_of_xy == k]
        keep = np.r_[True, np.any(np.abs(np.diff(pts, axis=0)) > 1e-12, axis=1)]
        pts = pts[keep] if len(pts) else pts
        lines.append(shapely.LineString(pts if len(pts) != 1 else np.vstack([pts, pts])))
    cols = ["traversed_m", "traversed_s", "turn_s"]  # a leg's time: driving and turning
    sums = e.groupby("leg")[cols].sum().reindex(range(len(lines)))
    return gpd.GeoDataFrame(
        {
            "leg": np.arange(len(lines)),
            "name": [f"{a} to {b}" for a, b in zip(names[:-1], names[1:], strict=True)],
            "from": names[:-1],
            "to": names[1:],
            "length_m": sums["traversed_m"].to_numpy(),
            "duration_s": (sums["traversed_s"] + sums["turn_s"]).to_numpy(),
        },
        geometry=lines,
        crs="EPSG:4326",
    )


def write_route(route: Any, path: str | os.PathLike) -> Path:
    """Write ``route`` to ``path`` atomically, in the format its suffix names."""
    path = Path(path)
    suffix = route_format(path)
    if suffix in (".geojson", ".json"):
        return atomic_write_text(path, route.to_geojson())
    stops = route_stops(route)
    if suffix == ".parquet":
        layers = {"route": route_frame(route)}
    elif suffix == ".gpkg":
        layers = {
            "route": route_frame(route, z=True),
            "legs": route_legs(route),
            "edges": route.edges,
            "stops": stops,
        }
    else:
        layers = {"route": route_frame(route, z=True), "stops": stops}
    return write_layers(
        layers,
        path,
        name=route_title(route),
        description=route_description(route),
        gpx_routes=stops,
        formats=ROUTE_FORMATS,
        what="a route",
    )
