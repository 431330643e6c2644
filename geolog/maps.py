"""Interactive maps of networks, routes, isochrones and terrain, built with folium.

Every function returns a folium layer that composes with the others::

    m = geolog.maps.base_map(net)
    geolog.maps.hillshade_layer(dem).add_to(m)
    geolog.maps.network_layer(net, color_by="grade").add_to(m)
    geolog.maps.route_layer(route).add_to(m)
    geolog.maps.finish(m)                     # layer control, fitted view

or, in one line, ``geolog.map(net, route=route, dem=dem)``.

The maps work offline: the page carries the vendored Leaflet 1.9.4 inline
(:class:`geolog._leaflet.OfflineMap`) instead of folium's CDN links, there is no
web basemap by default (hillshade and roads are the basemap) and OpenStreetMap
tiles are an optional layer, off by default, that needs the internet. Every
string that comes from data (street names, refs, rule and area names, the DEM
source) is HTML-escaped before it reaches a tooltip, popup, legend or layer name.

Display simplification: road geometries are simplified to ``tolerance_m``
(default 3 m) and rounded to 1e-5 degrees (about 1 m); both directions of a
two-way road are drawn once, on a canvas renderer. Size tested: 30,000 drawn
segments (Liechtenstein tiled 6 times) make a 4.6 MB page that opens in 1.4 s
and redraws a pan or zoom in 0.2–0.4 s in headless Chromium on a shared 2-core
machine; Andorra (about 1,900 segments) is instant. Clip or filter bigger
networks first.

The code is split by concern into private modules — ``_map_base`` (base map,
legend, layer control, shared styles), ``_map_roads`` (network layer),
``_map_routes`` (routes, isochrones) and ``_map_terrain`` (hillshade, slope,
mobility, rule areas); the names above are imported from here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._basemap import Basemap, add_basemap, basemap_layer, read_basemap
from ._map_base import (  # noqa: F401 - the public names of geolog.maps
    _CAT,
    GRADE_BINS,
    GRADE_COLORS,
    GRADE_LABELS,
    OSM_ATTRIBUTION,
    SPEED_BINS,
    _feature,
    base_map,
    finish,
    legend,
)
from ._map_risk import critical_links_layer, threat_layer, viewshed_layer  # noqa: F401
from ._map_roads import network_layer
from ._map_routes import isochrone_layer, route_layer, route_popup_html  # noqa: F401
from ._map_terrain import (
    _rule_areas,
    areas_layer,
    hillshade_layer,
    mobility_layer,
    offroad_layer,
    slope_layer,
)
from ._map_tracking import delay_layer, matched_layer, trace_layer

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd

    from .network import Network

logger = logging.getLogger(__name__)


__all__ = [
    "OSM_ATTRIBUTION",
    "GRADE_BINS",
    "GRADE_COLORS",
    "GRADE_LABELS",
    "base_map",
    "Basemap",
    "read_basemap",
    "basemap_layer",
    "network_layer",
    "route_layer",
    "isochrone_layer",
    "hillshade_layer",
    "slope_layer",
    "mobility_layer",
    "offroad_layer",
    "areas_layer",
    "legend",
    "finish",
    "make_map",
    "trace_layer",
    "matched_layer",
    "delay_layer",
]


def make_map(
    net: Network | None = None,
    *,
    route: Any = None,
    routes: Sequence[Any] | None = None,
    dem: Any = None,
    isochrones: gpd.GeoDataFrame | None = None,
    rules: Any = None,
    color_by: str | None = None,
    slope: bool = False,
    mobility: str | None = None,
    offroad: Any = None,
    osm_tiles: bool = False,
    basemap: Any = None,
    height: str | int = "100%",
) -> folium.Map:
    """One offline map with everything given: hillshade, roads, routes, isochrones, rule areas.

    The view fits the routes and isochrones when there are any (the roads and
    base map around them stay drawn), else the network.

    Exposed as ``geolog.map(...)``.

    Parameters
    ----------
    net
        Road network; drawn coloured by ``color_by``.
    route, routes
        One route or several (:class:`geolog.routing.Route`).
    dem
        A :class:`geolog.DEM`: adds a hillshade basemap (and ``slope`` /
        ``mobility`` overlays when asked).
    isochrones
        Output of :func:`geolog.routing.isochrones`.
    rules
        A rule set whose ``areas`` are drawn.
    color_by
        Road colouring; default ``"grade"`` when the network has terrain, else
        ``"highway"``.
    slope
        Add the slope-class overlay (off at opening).
    mobility
        Vehicle name for a cross-country mobility overlay (off at opening).
    offroad
        An :class:`geolog.offroad.OffroadSurface`: its pace overlay
        (:func:`offroad_layer`, off at opening). Off-road legs of hybrid
        routes are drawn dashed whether or not it is given.
    osm_tiles
        Add OpenStreetMap web tiles as an optional layer (off at opening; online).
    basemap
        Offline base map (place names, water, built-up areas, forest, road
        refs) read from an OSM file: ``None`` (default) uses the network's own
        file when it is found on this machine (same SHA-256), a path reads that
        file, ``False`` draws none. See :func:`geolog.maps.read_basemap`.

    Returns
    -------
    folium.Map
        Displays inline in JupyterLab; ``m.save("map.html")`` writes a page that
        works offline.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> m = geolog.map(net, color_by="highway")
    >>> type(m).__name__
    'OfflineMap'
    """
    all_routes = [*([route] if route is not None else []), *(routes or [])]
    bounds = None
    if net is not None and len(net.edges):
        bounds = tuple(net.edges.total_bounds)
    view = _content_bounds(all_routes, isochrones) or bounds
    m = base_map(None, bounds=view, osm_tiles=osm_tiles, height=height)
    if dem is not None:
        if bounds is not None and hasattr(dem, "clip"):
            try:
                dem = dem.clip(bounds)
            except Exception as err:  # noqa: BLE001 - a DEM that does not cover is still drawn whole
                logger.info("not clipping the DEM to the map: %s", err)
        hillshade_layer(dem).add_to(m)
        if slope:
            slope_layer(dem, show=False).add_to(m)
        if mobility:
            mobility_layer(dem, mobility, show=False).add_to(m)
    if offroad is not None:
        offroad_layer(offroad, show=False).add_to(m)
    add_basemap(m, basemap, net, bounds)
    if net is not None:
        if color_by is None:
            has_terrain = "max_grade" in net.edges.columns or "grade" in net.edges.columns
            color_by = "grade" if has_terrain else "highway"
        network_layer(net, color_by=color_by).add_to(m)
    if isochrones is not None:
        isochrone_layer(isochrones).add_to(m)
    if rules is not None and _rule_areas(rules):
        areas_layer(rules).add_to(m)
    for i, r in enumerate(all_routes):
        label = "route" if len(all_routes) == 1 else f"route {i + 1}"
        route_layer(r, name=label, color=None if i == 0 else _CAT[i % len(_CAT)]).add_to(m)
    return finish(m)


def _content_bounds(routes: list[Any], isochrones: Any) -> tuple[float, ...] | None:
    """Bounds of the routes and isochrones (what the map is about), padded by 10 %; None if none."""
    import shapely

    geoms = [r.geometry for r in routes]
    if isochrones is not None and len(isochrones):
        geoms += list(isochrones.geometry)
    if not geoms:
        return None
    b = shapely.bounds(np.array(geoms, dtype=object))
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    dx, dy = max((e - w) * 0.1, 0.002), max((n - s) * 0.1, 0.002)
    return (w - dx, s - dy, e + dx, n + dy)
