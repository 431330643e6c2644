"""Route, route popup and isochrone layers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ._format import fmt_duration
from ._html import escape
from ._map_base import (
    _NODATA_COLOR,
    GRADE_BINS,
    GRADE_COLORS,
    OSM_ATTRIBUTION,
    _feature,
    legend,
)
from ._map_roads import _road_label
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd


def _route_edges(route: Any) -> pd.DataFrame | None:
    e = getattr(route, "edges", None)
    if isinstance(e, pd.DataFrame) and "geometry" in e.columns:
        return e
    return None


def _kinds(e: pd.DataFrame) -> np.ndarray:
    """``road`` / ``offroad`` per edge row (``road`` for a plain road route)."""
    if "kind" in e.columns:
        return e["kind"].fillna("road").astype(str).to_numpy()
    return np.full(len(e), "road", dtype=object)


def _leg_style(kind: str) -> dict[str, str]:
    """Off-road legs are dashed (class ``geolog-offroad``); road legs solid."""
    if kind == "offroad":
        return {"className": "geolog-route geolog-offroad", "dashArray": "10 8"}
    return {"className": "geolog-route"}


def route_popup_html(route: Any, *, label: str = "Route") -> str:
    """Escaped HTML summary of a route: length, time, ascent, descent, steepest climb."""
    mg = float(getattr(route, "max_grade", np.nan))
    rows = [
        ("length", f"{route.length_m / 1000:.2f} km"),
        ("time", fmt_duration(float(route.duration_s))),
        ("ascent", f"{float(getattr(route, 'ascent_m', np.nan)):.0f} m"),
        ("descent", f"{float(getattr(route, 'descent_m', np.nan)):.0f} m"),
        ("steepest climb", f"{mg * 100:.1f} %" if np.isfinite(mg) else "–"),
        ("profile", str(getattr(route, "profile_name", ""))),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<b>{escape(label)}</b><table>{body}</table>"


def route_layer(
    route: Any,
    *,
    name: str | None = None,
    color: str | None = None,
    weight: float = 6.0,
    show: bool = True,
) -> folium.map.Layer:
    """A route: a casing line with a summary popup, segments coloured by grade, start/end markers.

    Off-road legs of a hybrid route (edges ``kind == "offroad"``) are drawn
    dashed (``class="geolog-route geolog-offroad"``).

    Parameters
    ----------
    route
        A :class:`geolog.routing.Route` (``length_m``, ``duration_s``,
        ``ascent_m``, ``max_grade``, ``geometry``, ``edges``).
    name
        Layer name (escaped); default "route".
    color
        Single colour for the whole route instead of grade classes.
    weight
        Line width in pixels.

    Returns
    -------
    folium.map.Layer
        An SVG-rendered layer: the route is a DOM ``<path class="geolog-route">``.
    """
    import shapely

    from ._leaflet import GeoJsonLayer

    label = name or "route"
    popup = route_popup_html(route, label=label)
    geom = route.geometry
    if geom is None or shapely.is_empty(geom):
        raise InputError("route_layer: the route has no geometry to draw")
    feats: list[dict] = [
        _feature(
            geom,
            style={
                "color": "#102a43",
                "weight": weight + 5,
                "opacity": 0.85,
                "className": "geolog-route-casing",
            },
            popup=popup,
        )
    ]
    e = _route_edges(route)
    if color is None and e is not None and len(e) and ("max_grade" in e or "grade" in e):
        gcol = "max_grade" if "max_grade" in e else "grade"
        g = e[gcol].to_numpy(dtype=float)
        idx = np.where(np.isfinite(g), np.digitize(np.abs(g), GRADE_BINS), len(GRADE_COLORS))
        palette = [*GRADE_COLORS, _NODATA_COLOR]
        labels = _road_label(e)
        kinds = _kinds(e)
        for geom_i, k, lab, gv, kind in zip(e.geometry.values, idx, labels, g, kinds, strict=True):
            feats.append(
                _feature(
                    geom_i,
                    style={
                        "color": palette[k],
                        "weight": weight,
                        "opacity": 1.0,
                        **_leg_style(kind),
                    },
                    tooltip=f"{lab}<br>{escape(f'{gv * 100:+.1f} %' if np.isfinite(gv) else 'no grade')}",
                    popup=popup,
                )
            )
    else:
        mixed = e is not None and len(e) and (_kinds(e) == "offroad").any()
        parts = zip(e.geometry.values, _kinds(e), strict=True) if mixed else [(geom, "road")]
        for geom_i, kind in parts:
            style = {"color": color or "#1f5f8b", "weight": weight, "opacity": 1.0}
            feats.append(_feature(geom_i, style={**style, **_leg_style(kind)}, popup=popup))
    coords = shapely.get_coordinates(geom)
    for (lon, lat), what, col in ((coords[0], "start", "#1a9850"), (coords[-1], "end", "#d7191c")):
        feats.append(
            _feature(
                shapely.Point(lon, lat),
                style={
                    "radius": 8,
                    "color": "#ffffff",
                    "weight": 2,
                    "fillColor": col,
                    "fillOpacity": 1.0,
                    "className": f"geolog-{what}",
                },
                tooltip=f"<b>{escape(label)}</b>: {what}",
                popup=popup,
            )
        )
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats},
        name=escape(label),
        attribution=escape(OSM_ATTRIBUTION),
        show=show,
    )


#: Isochrone bands, shortest first: saturated warm to cool colours that stay legible on the
#: grey hillshade (viridis' near-black first class read as shadow).
_ISO_COLORS = ("#d7191c", "#f07c28", "#f5c518", "#4fb0c6", "#2c6fbb")


def isochrone_layer(
    isochrones: gpd.GeoDataFrame,
    *,
    name: str = "isochrones",
    show: bool = True,
) -> folium.map.Layer:
    """Isochrone polygons (``time_s``, ``geometry``), the largest drawn first, with a legend.

    Tooltips give the budget and, when the frame has it, the area (``area_km2``).
    """
    from ._leaflet import GeoJsonLayer

    if "time_s" not in isochrones.columns:
        raise InputError("isochrone_layer needs a 'time_s' column (from geolog.routing.isochrones)")
    iso = isochrones.to_crs(4326) if isochrones.crs is not None else isochrones
    iso = iso.sort_values("time_s", ascending=False)
    n = len(iso)
    colors = [
        _ISO_COLORS[min(len(_ISO_COLORS) - 1, round(i * (len(_ISO_COLORS) - 1) / max(n - 1, 1)))]
        for i in range(n)
    ][::-1]
    feats = []
    items = []
    area = iso["area_km2"] if "area_km2" in iso.columns else pd.Series(np.nan, index=iso.index)
    for t, geom, km2, c in zip(iso["time_s"], iso.geometry, area, colors, strict=True):
        lab = f"≤ {fmt_duration(float(t))}"
        tip = f"{lab}, {float(km2):,.1f} km²" if np.isfinite(km2) else lab
        feats.append(
            _feature(
                geom,
                style={"color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.3},
                tooltip=escape(tip),
            )
        )
        items.append((c, lab))
    origin = isochrones.attrs.get("origin")  # (lat, lon) of the snapped origin, when known
    if origin is not None:
        style = {"color": "#ffffff", "weight": 2, "fillColor": "#111111", "fillOpacity": 1}
        feats.append(
            _feature(shapely.Point(origin[1], origin[0]), style={**style, "radius": 8},
                     tooltip="origin")
        )  # fmt: skip
    layer = GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )
    legend("travel time", items[::-1]).add_to(layer)
    return layer
