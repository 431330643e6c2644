"""Folium layers for risk: threat zones, viewsheds and critical links (see :mod:`geolog.risk`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._html import escape, warp_to_mercator
from ._map_base import _feature, legend
from ._map_terrain import _image_layer

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = ["threat_layer", "viewshed_layer", "critical_links_layer", "LEVEL_COLORS"]

#: Fill colour per threat level.
LEVEL_COLORS = {"low": "#fbc02d", "medium": "#f57c00", "high": "#c62828"}


def threat_layer(
    zones: Any, *, depart: Any = None, name: str = "threat zones", show: bool = True
) -> folium.map.Layer:
    """Threat zones (points buffered by ``radius_m``) coloured by level; names are escaped."""
    from ._leaflet import GeoJsonLayer
    from .risk import threat_zones

    z = threat_zones(zones, depart=depart)
    feats = [
        _feature(
            geom,
            style={
                "color": LEVEL_COLORS[level],
                "weight": 2,
                "fillColor": LEVEL_COLORS[level],
                "fillOpacity": 0.25,
                "className": "geolog-threat",
            },
            tooltip=f"<b>{escape(str(zname))}</b><br>threat: {escape(level)}",
        )
        for zname, level, geom in zip(z["name"], z["level"], z.geometry, strict=True)
    ]
    layer = GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )
    legend("threat level", [(c, lv) for lv, c in LEVEL_COLORS.items()], position="topright").add_to(
        layer
    )
    return layer


def viewshed_layer(
    vs: Any,
    *,
    observer: str | int | None = None,
    name: str = "in view of observers",
    opacity: float = 0.45,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """Cells in view (of one observer, or any) as a red overlay, observers as markers.

    One layer group: the image and the observer markers (an image overlay
    cannot hold markers in Leaflet).
    """
    import folium

    r = vs.raster(observer)
    arr = np.asarray(r.array, dtype="float32")
    warped, bounds = warp_to_mercator(arr, r.transform, r.crs, max_size=max_size)
    rgba = np.zeros((*warped.shape, 4), dtype=np.uint8)
    seen = np.nan_to_num(warped, nan=0.0) >= 0.5
    rgba[seen] = (211, 47, 47, 255)
    layer = folium.FeatureGroup(name=escape(name), show=show)
    image = _image_layer(
        rgba,
        bounds,
        name=name,
        attribution="Viewshed: gdal_viewshed",
        opacity=opacity,
        show=True,
        css_class="geolog-viewshed",
    )
    image.control = False  # one entry in the layer control: the group (image and observers)
    image.add_to(layer)
    for row in vs.observers.itertuples():
        folium.CircleMarker(
            (row.lat, row.lon),
            radius=6,
            color="#000000",
            fill=True,
            fill_color="#d32f2f",
            fill_opacity=1.0,
            tooltip=f"observer {escape(str(row.name))} ({row.ground_m:.0f} m)",
        ).add_to(layer)
    return layer


def critical_links_layer(
    table: Any, *, top: int = 10, name: str = "critical links", show: bool = True
) -> folium.map.Layer:
    """The worst links of :func:`geolog.critical_links`, thick and labelled with their rank."""
    from ._leaflet import GeoJsonLayer

    feats = []
    for row in table.head(top).itertuples():
        road = row.name if isinstance(row.name, str) and row.name else row.highway
        cut = f"<br>cuts off: {escape(row.cut_off)}" if row.cut_pairs else ""
        feats.append(
            _feature(
                row.geometry,
                style={"color": "#4a148c", "weight": 7, "opacity": 0.9},
                tooltip=(
                    f"<b>#{int(row.rank)} {escape(str(road))}</b><br>"
                    f"+{row.added_s / 60:.1f} min total site-to-site time{cut}"
                ),
            )
        )
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )
