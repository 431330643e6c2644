"""Writing a :class:`geolog.Route` to files: GeoJSON, GeoPackage, GeoParquet and GPX.

Every format is written atomically (:mod:`geolog._io`): a failed write
leaves an existing file as it was.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import shapely

from ._io import atomic_path, atomic_write_text, file_format
from .errors import InputError

#: File formats :meth:`geolog.Route.to_file` writes, by suffix.
ROUTE_FORMATS = {
    ".geojson": "GeoJSON: the route line with its summary (as Route.to_geojson())",
    ".json": "GeoJSON (as .geojson)",
    ".gpkg": "GeoPackage with two layers: route (the line and its summary) and edges",
    ".parquet": "GeoParquet: the route line with its summary, one row",
    ".gpx": "GPX 1.1 track (trkpt lat/lon, with <ele> when the network has elevations)",
}


def route_format(path: str | os.PathLike) -> str:
    """The suffix of ``path`` if a route can be written as it, else an InputError."""
    return file_format(path, ROUTE_FORMATS, "a route")


def route_frame(route: Any):
    """The route as a one-row GeoDataFrame: the line and its summary (lists as JSON text)."""
    import geopandas as gpd

    props = {
        k: (json.dumps(v) if isinstance(v, list | tuple) else v) for k, v in route.summary().items()
    }
    return gpd.GeoDataFrame(
        {k: [v] for k, v in props.items()}, geometry=[route.geometry], crs="EPSG:4326"
    )


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


def route_gpx(route: Any) -> str:
    """GPX 1.1 text: one track of the route's vertices, with ``<ele>`` where known."""
    xy = shapely.get_coordinates(route.geometry)
    ele = _vertex_elevations(route, xy) if len(xy) else None
    pts = []
    for i, (lon, lat) in enumerate(xy):
        z = "" if ele is None or not np.isfinite(ele[i]) else f"<ele>{ele[i]:.1f}</ele>"
        pts.append(f'      <trkpt lat="{lat:.7f}" lon="{lon:.7f}">{z}</trkpt>')
    name = escape(f"geolog route ({route.profile_name or route.weight})")
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<gpx version="1.1" creator={quoteattr("geolog")} '
            'xmlns="http://www.topografix.com/GPX/1/1">',
            f"  <trk>\n    <name>{name}</name>\n    <trkseg>",
            *pts,
            "    </trkseg>\n  </trk>\n</gpx>\n",
        ]
    )


def write_route(route: Any, path: str | os.PathLike) -> Path:
    """Write ``route`` to ``path`` atomically, in the format its suffix names."""
    path = Path(path)
    suffix = route_format(path)
    if suffix in (".geojson", ".json"):
        return atomic_write_text(path, route.to_geojson())
    if suffix == ".gpx":
        return atomic_write_text(path, route_gpx(route))
    frame = route_frame(route)
    with atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            tmp.unlink()  # GDAL creates the GeoPackage itself
            frame.to_file(tmp, layer="route", driver="GPKG")
            edges = route.edges
            for c in edges.columns:  # tag columns of mixed types: text for GDAL
                if c != "geometry" and edges[c].dtype == object:
                    edges[c] = edges[c].map(lambda v: None if v is None else str(v))
            edges.to_file(tmp, layer="edges", driver="GPKG")
    return path
