"""The map itself: offline base map, legends, layer control and the shared styles.

Class bins and palettes (grade, speed, mobility, categories) live here so every
layer and legend uses the same ones; :func:`_feature` builds one escaped GeoJSON
feature for :class:`geolog._leaflet.GeoJsonLayer`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._geometry import DEG_PER_M
from ._html import escape
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from .network import Network


#: Attribution shown on every layer drawn from OpenStreetMap data.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


#: Grade class edges (fractions, absolute grade) — the route-reconnaissance classes of
#: :data:`geolog.costing.GRADE_CLASS_BINS`: < 5 %, 5–7 %, 7–10 %, 10–14 %, ≥ 14 %; from
#: 7 % a grade is an obstruction (NATO route classification).
GRADE_BINS = (0.05, 0.07, 0.10, 0.14)
GRADE_COLORS = ("#1a9850", "#91cf60", "#fdae61", "#f46d43", "#a50026")
GRADE_LABELS = ("< 5 %", "5–7 %", "7–10 %", "10–14 %", "≥ 14 %")
SPEED_BINS = (20.0, 40.0, 60.0, 80.0)
_SPEED_COLORS = ("#b30000", "#e34a33", "#fc8d59", "#6baed6", "#08519c")
_SPEED_LABELS = ("< 20 km/h", "20–40 km/h", "40–60 km/h", "60–80 km/h", "≥ 80 km/h")
_MOBILITY = {"GO": "#1a9850", "SLOW-GO": "#fdae61", "NO-GO": "#d7191c"}
_SEQ = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
_CAT = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
_NODATA_COLOR = "#9e9e9e"
_DEG_PER_M = DEG_PER_M  # metres -> degrees for simplification tolerances


def base_map(
    net: Network | None = None,
    *,
    bounds: Sequence[float] | None = None,
    osm_tiles: bool = False,
    height: str | int = "100%",
    width: str | int = "100%",
) -> folium.Map:
    """An empty offline map with a scale bar, fitted to a network or a bounding box.

    Parameters
    ----------
    net
        Network whose extent sets the view.
    bounds
        ``(west, south, east, north)`` in degrees; overrides ``net``.
    osm_tiles
        Add OpenStreetMap web tiles as an optional layer, *off* at opening (it
        needs the internet; the map works without it).
    height, width
        CSS size of the map (``"100%"``, ``"600px"`` or pixels).

    Returns
    -------
    folium.Map
        A :class:`geolog._leaflet.OfflineMap` (a ``folium.Map`` subclass) that
        inlines Leaflet and has no default tile layer.
    """
    import folium

    from ._leaflet import OfflineMap

    if bounds is None and net is not None:
        bounds = tuple(net.edges.total_bounds) if len(net.edges) else None
    m = OfflineMap(
        location=None,
        tiles=None,
        control_scale=True,
        height=height,
        width=width,
        prefer_canvas=False,
        zoom_start=12,
        zoom_snap=0.25,
    )
    if bounds is not None:
        w, s, e, n = map(float, bounds)
        if not all(map(math.isfinite, (w, s, e, n))):
            raise InputError(
                f"bounds {tuple(bounds)!r} must be finite degrees (west, south, east, north)"
            )
        m.location = [(s + n) / 2, (w + e) / 2]
        m.fit_bounds([[s, w], [n, e]], padding=(10, 10))
    else:
        m.location = [0.0, 0.0]
    if osm_tiles:
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap tiles (online)",
            overlay=True,
            show=False,
            control=True,
        ).add_to(m)
    return m


def finish(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """Add the layer control (once, or move the existing one last) and return the map.

    The control lists the layers created before it in the page, so after more
    layers are drawn on a finished map (a second plan, another route) it is
    moved behind them; otherwise the page fails with ``setZIndex`` of undefined.
    """
    import folium

    controls = [k for k, c in m._children.items() if isinstance(c, folium.LayerControl)]
    for key in controls:
        m._children[key] = m._children.pop(key)
    if not controls:
        folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    return m


def legend(title: str, items: Iterable[tuple[str, str]], *, position: str = "bottomright") -> Any:
    """A legend control: ``items`` are ``(css colour, label)`` pairs (labels are escaped)."""
    from ._leaflet import HtmlControl

    rows = "".join(
        f'<div class="geolog-legend-row"><i style="background:{escape(c)}"></i>{escape(label)}</div>'
        for c, label in items
    )
    return HtmlControl(f"<h4>{escape(title)}</h4>{rows}", position=position)


def _feature(
    geom: Any,
    *,
    style: dict | None = None,
    tooltip: str | None = None,
    popup: str | None = None,
    label: str | None = None,
) -> dict:
    import json

    import shapely

    g = shapely.set_precision(geom, 1e-6) if geom.geom_type != "Point" else geom
    return {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(g)),
        "properties": {"style": style or {}, "tooltip": tooltip, "popup": popup, "label": label},
    }


def _hex_rgba(color: str, alpha: int) -> tuple[int, int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha
