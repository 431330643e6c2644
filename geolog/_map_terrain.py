"""Terrain and area overlays: hillshade, slope, mobility and off-road pace rasters, rule areas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._html import escape, png_data_uri, warp_to_mercator
from ._map_base import (
    _MOBILITY,
    GRADE_BINS,
    GRADE_COLORS,
    GRADE_LABELS,
    _feature,
    _hex_rgba,
    legend,
)

if TYPE_CHECKING:  # pragma: no cover
    import folium


def _raster_parts(raster: Any) -> tuple[np.ndarray, Any, Any]:
    arr = np.asarray(raster.array, dtype="float32")
    nodata = getattr(raster, "nodata", None)
    if nodata is not None:
        arr = np.where(arr == nodata, np.nan, arr)
    return arr, raster.transform, raster.crs


def _image_layer(
    rgba: np.ndarray,
    bounds: list[list[float]],
    *,
    name: str,
    attribution: str,
    opacity: float,
    show: bool,
    css_class: str,
    pane: str | None = None,
) -> folium.map.Layer:
    from ._leaflet import PanedImageOverlay

    return PanedImageOverlay(
        png_data_uri(rgba),
        bounds=bounds,
        name=escape(name),
        opacity=opacity,
        pixelated=False,
        show=show,
        overlay=True,
        attribution=escape(attribution),
        class_name=css_class,
        interactive=False,
        geolog_pane=pane,
    )


def _class_layer(
    codes: np.ndarray,
    bounds: list[list[float]],
    colors: Sequence[str],
    labels: Sequence[str],
    *,
    title: str,
    ok: np.ndarray | None = None,
    **image: Any,
) -> folium.map.Layer:
    """A raster of class codes as an image layer with its legend (bottom left).

    Parameters
    ----------
    codes
        Class per pixel, ``0`` … ``len(colors) - 1`` (clipped into that range);
        NaN pixels are transparent.
    bounds
        The image's ``[[south, west], [north, east]]`` in degrees.
    colors, labels
        Colour (``#rrggbb``) and legend text per class.
    title
        Legend title.
    ok
        Pixels to draw (default: the finite codes); the others are transparent.
    **image
        ``name``, ``attribution``, ``opacity``, ``show``, ``css_class`` of
        :func:`_image_layer`.
    """
    ok = np.isfinite(codes) if ok is None else ok
    idx = np.clip(np.nan_to_num(codes, nan=0.0), 0, len(colors) - 1).astype(int)
    lut = np.array([_hex_rgba(c, 255) for c in colors], dtype=np.uint8)
    rgba = lut[idx]
    rgba[~ok, 3] = 0
    layer = _image_layer(rgba, bounds, **image)
    legend(title, list(zip(colors, labels, strict=True)), position="bottomleft").add_to(layer)
    return layer


def _dem_source(dem: Any) -> str:
    return f"Elevation: {getattr(dem, 'source', None) or 'DEM'}"


def hillshade_layer(
    dem: Any,
    *,
    name: str = "hillshade",
    opacity: float = 1.0,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """The DEM's hillshade as an image overlay (grey PNG in the page, warped to Web Mercator).

    Parameters
    ----------
    dem
        A :class:`geolog.DEM` (uses :meth:`~geolog.DEM.hillshade`) or any raster
        with ``array``/``transform``/``crs`` already holding hillshade values 1–255.
    max_size
        Longest image side in pixels (bigger DEMs are shrunk for display).
    """
    shade = dem.hillshade() if hasattr(dem, "hillshade") else dem
    arr, transform, crs = _raster_parts(shade)
    warped, bounds = warp_to_mercator(arr, transform, crs, max_size=max_size)
    ok = np.isfinite(warped)
    g = np.clip(np.nan_to_num(warped, nan=0.0), 0, 255)
    # lift the shadows a little so roads stay readable on top
    g = (60 + g * (195 / 255)).astype(np.uint8)
    rgba = np.dstack([g, g, g, np.where(ok, 255, 0).astype(np.uint8)])
    return _image_layer(
        rgba,
        bounds,
        name=name,
        attribution=_dem_source(dem),
        opacity=opacity,
        show=show,
        css_class="geolog-hillshade",
        pane="geolog-relief",
    )


def slope_layer(
    dem: Any,
    *,
    name: str = "slope classes",
    opacity: float = 0.55,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """Terrain slope in the grade classes of the road map (< 5 %, 5–7 %, …, ≥ 14 %) as an overlay."""
    s = dem.slope(units="percent")
    arr, transform, crs = _raster_parts(s)
    warped, bounds = warp_to_mercator(arr, transform, crs, max_size=max_size)
    return _class_layer(
        np.digitize(np.nan_to_num(warped, nan=0.0) / 100.0, GRADE_BINS),
        bounds,
        GRADE_COLORS,
        GRADE_LABELS,
        title="terrain slope",
        ok=np.isfinite(warped),
        name=name,
        attribution=_dem_source(dem),
        opacity=opacity,
        show=show,
        css_class="geolog-slope",
    )


def mobility_layer(
    dem: Any,
    vehicle: str | Mapping[str, Any] = "truck",
    *,
    name: str | None = None,
    opacity: float = 0.5,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """Cross-country mobility GO / SLOW-GO / NO-GO for a vehicle (from :meth:`geolog.DEM.mobility`)."""
    mob = dem.mobility(vehicle)
    arr, transform, crs = _raster_parts(mob)
    warped, bounds = warp_to_mercator(arr, transform, crs, resampling="nearest", max_size=max_size)
    vname = vehicle if isinstance(vehicle, str) else "custom vehicle"
    return _class_layer(
        warped,
        bounds,
        list(_MOBILITY.values()),
        list(_MOBILITY),
        title=f"cross-country mobility: {vname}",
        ok=np.isfinite(warped) & (warped >= 0) & (warped <= 2),
        name=name or f"mobility ({vname})",
        attribution=_dem_source(dem),
        opacity=opacity,
        show=show,
        css_class="geolog-mobility",
    )


#: Off-road pace classes (minutes per km on level ground) and their colours; last = impassable.
PACE_BINS = (15.0, 25.0, 40.0, 60.0)
_PACE_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#3a0a0a")
_PACE_LABELS = ("< 15 min/km", "15–25 min/km", "25–40 min/km", "40–60 min/km", "≥ 60 min/km",
                "impassable")  # fmt: skip


def offroad_layer(
    surface: Any,
    *,
    name: str | None = None,
    opacity: float = 0.5,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """The off-road cost surface (:func:`geolog.offroad_surface`) as pace classes on level ground.

    Each cell's minutes per kilometre on the flat from land cover and
    barriers, impassable cells (water, buildings, NO-GO slopes, closed
    barriers) dark; an image overlay (``class="geolog-offroad-surface"``)
    with a legend.
    """
    pace = surface.pace()
    arr = np.asarray(pace.array, dtype=float)
    code = np.where(np.isinf(arr), len(PACE_BINS) + 1, np.digitize(np.nan_to_num(arr), PACE_BINS))
    code = np.where(np.isnan(arr), np.nan, code).astype("float32")
    warped, bounds = warp_to_mercator(
        code, pace.transform, pace.crs, resampling="nearest", max_size=max_size
    )
    pname = getattr(surface.profile, "name", "")
    return _class_layer(
        warped,
        bounds,
        _PACE_COLORS,
        _PACE_LABELS,
        title=f"off-road pace, level ground: {pname}",
        name=name or f"off-road pace ({pname})",
        attribution=_dem_source(surface.dem),
        opacity=opacity,
        show=show,
        css_class="geolog-offroad-surface",
    )


def _rule_areas(rules: Any) -> dict[str, Any]:
    """Area name → shapely geometry (EPSG:4326) from a RuleSet, a mapping or a GeoDataFrame."""
    import geopandas as gpd
    import shapely

    if rules is None:
        return {}
    if isinstance(rules, gpd.GeoDataFrame):
        g = rules.to_crs(4326) if rules.crs is not None else rules
        names = g["name"] if "name" in g.columns else pd.Series(g.index.astype(str), index=g.index)
        return dict(zip(names.astype(str), g.geometry, strict=True))
    areas = getattr(rules, "areas", rules)
    if isinstance(areas, gpd.GeoDataFrame):
        return _rule_areas(areas)
    out = {}
    for k, v in dict(areas or {}).items():
        if isinstance(v, gpd.GeoDataFrame | gpd.GeoSeries):
            v = (v.to_crs(4326) if v.crs is not None else v).union_all()
        elif isinstance(v, Mapping):
            v = shapely.geometry.shape(v.get("geometry", v))
        if isinstance(v, shapely.Geometry):
            out[str(k)] = v
    return out


def areas_layer(rules: Any, *, name: str = "rule areas", show: bool = True) -> folium.map.Layer:
    """The named areas of a rule set (``rules.areas``) as hatched polygons; names are escaped."""
    from ._leaflet import GeoJsonLayer

    areas = _rule_areas(rules)
    feats = [
        _feature(
            geom,
            style={
                "color": "#6a1b9a",
                "weight": 2,
                "dashArray": "6 4",
                "fillColor": "#6a1b9a",
                "fillOpacity": 0.15,
                "className": "geolog-area",
            },
            tooltip=f"<b>{escape(area)}</b>",
        )
        for area, geom in areas.items()
    ]
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )
